"""An org file for simulations: delegation times without an offset are UTC."""

from datetime import UTC, datetime

from engine.directory import StaticDirectory


def _org(start: str, end: str) -> dict:
    return {"users": [{"id": 1, "username": "ann"}, {"id": 2, "username": "bob"}],
            "delegations": [{"user": "ann", "substitute": "bob", "from": start, "to": end}]}


def test_bare_dates_and_naive_times_are_utc() -> None:
    for start, end in [("2026-01-05", "2026-01-09"), ("2026-01-05T00:00:00", "2026-01-09T00:00")]:
        (delegation,) = StaticDirectory.from_dict(_org(start, end)).delegations_of(1)
        assert delegation.starts_at == datetime(2026, 1, 5, tzinfo=UTC)
        assert delegation.applies(datetime(2026, 1, 6, 12, tzinfo=UTC), None)
        assert not delegation.applies(datetime(2026, 1, 9, 0, tzinfo=UTC), None)


def test_an_offset_is_kept() -> None:
    (delegation,) = StaticDirectory.from_dict(_org("2026-01-05T08:00:00+08:00", "2026-01-06T08:00:00+08:00")
                                              ).delegations_of(1)
    assert delegation.starts_at == datetime(2026, 1, 5, 0, tzinfo=UTC)
    assert delegation.substitute_id == 2

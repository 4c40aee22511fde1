"""The hash-chained audit log: every write leaves an entry; any tampering is found and named."""

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from engine.identity import org
from engine.runtime.site import Site
from engine.store import audit
from engine.store.models import AuditEntry
from tests.helpers import SETUP, make_user


def _entries(site: Site, n: int) -> None:
    with site.session() as session:
        for i in range(n):
            org.create_role(session, SETUP, key=f"r{i}", name={"zh": f"角色{i}", "en": f"Role {i}"})


def _verify(site: Site) -> audit.VerifyResult:
    with site.session() as session:
        return audit.verify(session)


def test_every_write_appends_a_linked_entry(site: Site) -> None:
    _entries(site, 3)
    with site.session() as session:
        rows = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    assert [r.id for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == audit.GENESIS and rows[1].prev_hash == rows[0].hash
    assert _verify(site).ok and _verify(site).checked == 3


def test_an_updated_row_is_named(site: Site) -> None:
    _entries(site, 5)
    with site.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.id == 3).values(actor="someone else"))
    result = _verify(site)
    assert not result.ok and result.bad_id == 3 and result.reason == "audit.altered"
    assert "3" in result.message("en")


def test_a_removed_row_is_named(site: Site) -> None:
    _entries(site, 5)
    with site.session() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id == 2))
    result = _verify(site)
    assert not result.ok and result.bad_id == 2 and result.reason == "audit.missing"


def test_removing_the_newest_rows_is_found(site: Site) -> None:
    _entries(site, 5)
    with site.session() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id >= 4))
    result = _verify(site)
    assert not result.ok and result.bad_id == 4 and result.reason == "audit.truncated"


def test_a_recomputed_row_still_breaks_the_link_to_the_next(site: Site) -> None:
    _entries(site, 4)
    with site.session() as session:
        row = session.get(AuditEntry, 2)
        assert row is not None
        row.action = "role.nothing_to_see"
        row.hash = audit.entry_hash(row.id, row.at, row.actor_id, row.actor, row.action, row.object_type,
                                    row.object_id, row.diff, row.prev_hash)
    result = _verify(site)
    assert not result.ok and result.bad_id == 3 and result.reason == "audit.link"


def test_a_rolled_back_write_leaves_no_entry(site: Site) -> None:
    with pytest.raises(RuntimeError), site.session() as session:
        org.create_role(session, SETUP, key="ghost", name={"zh": "x", "en": "x"})
        raise RuntimeError("the caller's transaction fails")
    with site.session() as session:
        assert session.execute(select(AuditEntry)).first() is None
    assert _verify(site).ok




def test_safeflow_audit_verify_fails_and_names_the_tampered_entry(site: Site, cli: CliRunner) -> None:
    from engine.cli import app

    _entries(site, 4)
    assert cli.invoke(app, ["audit", "verify"]).exit_code == 0
    with site.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.id == 2).values(diff={"after": {"name": "forged"}}))
    result = cli.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "entry 2" in result.output


def test_export_filters_by_actor_and_object(site: Site, cli: CliRunner, tmp_path: Path) -> None:
    from engine.cli import app

    make_user(site, "exported")
    _entries(site, 2)
    target = tmp_path / "audit.xlsx"
    result = cli.invoke(app, ["audit", "export", str(target), "--object-type", "role"])
    assert result.exit_code == 0, result.output
    rows: list[Any] = list(load_workbook(target).active.iter_rows(values_only=True))
    assert rows[0][0] == "#" and [r[4] for r in rows[1:]] == ["role.create", "role.create"]


def test_the_api_verifies_and_exports_for_admins_only(client: Any, site: Site) -> None:
    from tests.helpers import auth

    make_user(site, "root", admin=True)
    make_user(site, "nosy")
    assert client.get("/api/v1/audit/verify", headers=auth(client, "nosy")).status_code == 403
    h = auth(client, "root")
    assert client.get("/api/v1/audit/verify", headers=h).json()["ok"] is True
    assert client.get("/api/v1/audit?object_type=user", headers=h).json()[0]["action"] == "user.create"
    exported = client.get("/api/v1/audit/export.xlsx", headers=h)
    assert exported.status_code == 200 and exported.content[:2] == b"PK"


def test_an_entry_hash_is_the_sha256_of_the_previous_hash_and_the_whole_entry_as_canonical_json() -> None:
    import hashlib
    from datetime import UTC, datetime

    at = datetime(2026, 11, 22, 8, 30, 1, 123456, tzinfo=UTC)
    diff = {"form": "巡检", "data": {"b": [1.5, None, {"z": True, "a": "x\"y"}], "a": 10 ** 20, "c": -0.0}}
    whole = {"id": 7, "at": at.isoformat(), "actor_id": None, "actor": "系统", "action": "record.create",
             "object_type": "record", "object_id": "42", "diff": diff}
    expected = hashlib.sha256(("f" * 64 + audit.canonical(whole)).encode()).hexdigest()
    assert audit.entry_hash(7, at, None, "系统", "record.create", "record", "42", diff, "f" * 64) == expected


def test_entries_appended_on_the_raw_cursor_join_the_same_chain(site: Site) -> None:
    from engine.store.prepared import raw_cursor

    _entries(site, 1)
    with site.session() as session:
        cursor, dialect = raw_cursor(session)
        number = audit.append_raw(cursor, dialect, audit.Actor(7, "bob"), "flow.approve", "flow_instance", 3,
                                  {"history": [{"action": "approve", "by": 7}]})
        audit.append(session, audit.Actor.system(), "test.after", "thing", 1)
    assert number == 2
    with site.session() as session:
        rows = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
        assert [(r.id, r.actor, r.action) for r in rows] == [
            (1, rows[0].actor, rows[0].action), (2, "bob", "flow.approve"), (3, "system", "test.after")]
        assert rows[1].diff == {"history": [{"action": "approve", "by": 7}]} and rows[1].prev_hash == rows[0].hash
    assert _verify(site).ok and _verify(site).checked == 3


def test_concurrent_writers_keep_one_linear_chain(site: Site) -> None:
    """Eight threads appending at once (each entry on the driver's cursor, in its own
    transaction): numbers 1..N without gaps or repeats, every entry linked to the one before."""
    from concurrent.futures import ThreadPoolExecutor
    from itertools import pairwise

    _entries(site, 1)

    def write(worker: int) -> list[int]:
        numbers = []
        for i in range(8):
            with site.session() as session:
                numbers.append(audit.append(session, audit.Actor(worker, f"w{worker}"), "test.write", "thing", i,
                                            {"worker": worker, "i": i, "text": "巡检"}))
        return numbers

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = [n for batch in pool.map(write, range(8)) for n in batch]
    assert sorted(numbers) == list(range(2, 66))
    with site.session() as session:
        rows = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    assert [r.id for r in rows] == list(range(1, 66))
    assert all(b.prev_hash == a.hash for a, b in pairwise(rows))
    assert _verify(site).ok and _verify(site).checked == 65


def test_an_entry_hashed_by_the_former_encoder_still_verifies(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before orjson, NaN was hashed as `NaN` (SQLite keeps it); now it is written as null. An
    entry from then still checks out, and an altered one is still found."""
    import math

    from engine.store import json_codec

    if site.db.engine.dialect.name != "sqlite":
        pytest.skip("only SQLite stores NaN in JSON; PostgreSQL refused such an entry")
    with monkeypatch.context() as patched:
        patched.setattr(audit, "canonical", json_codec.legacy_canonical)
        with site.session() as session:
            audit.append(session, audit.Actor.system(), "test.legacy", "thing", 1, {"reading": math.nan, "n": 1})
    _entries(site, 1)
    assert _verify(site).ok and _verify(site).checked == 2
    with site.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.id == 1).values(diff={"reading": math.nan, "n": 2}))
    result = _verify(site)
    assert not result.ok and result.bad_id == 1 and result.reason == "audit.altered"


def test_floats_a_database_changes_still_verify(site: Site) -> None:
    """PostgreSQL's JSONB gives -0.0 back as 0.0 and 1e16 as an integer: the hashed text is
    already what comes back, so the entries verify on either database."""
    values = [-0.0, 1e16, -2.5e22, 1.5e300, 1e-7, 2.5e-05, 0.1, 100.0, 5e-324, 1.7976931348623157e308, 2**70]
    with site.session() as session:
        for value in values:
            audit.append(session, audit.Actor.system(), "test.float", "thing", 1, {"v": value, "in": [value]})
    result = _verify(site)
    assert result.ok and result.checked == len(values)
    with site.session() as session:
        diffs = session.execute(select(AuditEntry.diff).order_by(AuditEntry.id)).scalars().all()
    assert [d["v"] for d in diffs][:2] == [0.0, 10**16]

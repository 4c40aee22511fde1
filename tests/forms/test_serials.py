"""Serial numbers: patterns, restarting per period, and no duplicates under parallel inserts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from engine.forms.fieldtypes.computed import SerialField
from engine.runtime.site import Site
from engine.services import ManualClock
from tests.forms.support import HAZARD, publish_form, records


def test_a_pattern_renders_date_parts_and_a_padded_sequence() -> None:
    field = SerialField(type="serial", key="no", pattern="HZ-{yyyy}{mm}-{seq:4}")
    when = datetime(2026, 11, 3, 8, 0)
    assert field.render(when, 42) == "HZ-202611-0042"
    assert field.period(when) == "202611"


def test_the_sequence_restarts_when_the_period_changes(site: Site) -> None:
    publish_form(site, HAZARD)
    site.clock = ManualClock(datetime(2026, 10, 31, 15, 0, tzinfo=UTC))  # 23:00 in Shanghai, still October
    with site.session() as session:
        first = records(site, session).create("hazard", {"title": "a"}).data["no"]
    site.clock.set(datetime(2026, 10, 31, 16, 30, tzinfo=UTC))  # 00:30 on 1 November in Shanghai
    with site.session() as session:
        second = records(site, session).create("hazard", {"title": "b"}).data["no"]
    assert (first, second) == ("HZ-202610-0001", "HZ-202611-0001")


def test_parallel_inserts_never_share_a_serial_number(site: Site) -> None:
    publish_form(site, HAZARD)

    def submit(worker: int) -> list[str]:
        numbers = []
        for i in range(10):
            with site.session() as session:
                numbers.append(records(site, session).create("hazard", {"title": f"{worker}-{i}"}).data["no"])
        return numbers

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = [n for batch in pool.map(submit, range(8)) for n in batch]
    assert len(numbers) == 80
    assert len(set(numbers)) == 80
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 81))

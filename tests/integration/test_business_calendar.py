"""The site's business calendar is the `business_calendar` dictionary: its holidays and 调休
working days count in every engine's WORKDAY/ISHOLIDAY (here a form's formulas), a bad entry is
refused at its path, and without the dictionary the week is Monday to Friday."""

from pathlib import Path
from typing import Any

import pytest

from engine.errors import InvalidInput
from engine.runtime.packs import Packs, load_pack
from engine.runtime.site import Site
from tests.forms.support import publish_form, records
from tests.helpers import SETUP
from tests.integration.test_dictionaries import dictionary_pack

CALENDAR = {
    "key": "business_calendar",
    "title": {"zh": "工作日历", "en": "Business calendar"},
    "columns": [{"key": "kind", "label": {"zh": "类型", "en": "Kind"}}],
    "entries": [
        {"key": "2027-01-01", "label": {"zh": "元旦", "en": "New Year"}, "values": {"kind": "holiday"}},
        {"key": "2026-10-10", "label": {"zh": "国庆调休上班", "en": "Worked Saturday"}, "values": {"kind": "workday"}},
    ],
}
DAY = {"key": "day_check", "title": {"zh": "日期", "en": "Day"}, "fields": [
    {"type": "date", "key": "day", "label": {"zh": "日期", "en": "Day"}},
    {"type": "formula", "key": "holiday", "label": {"zh": "节假日", "en": "Holiday"}, "expr": "ISHOLIDAY(day)",
     "result": "boolean"},
    {"type": "formula", "key": "next_workday", "label": {"zh": "下一工作日", "en": "Next workday"},
     "expr": "WORKDAY(day, 1)", "result": "date"},
    {"type": "formula", "key": "eve", "label": {"zh": "节前最后工作日", "en": "Last workday before"},
     "expr": "WORKDAY(NEXT_HOLIDAY(day), -1)", "result": "date"},
]}


def _day(site: Site, day: str) -> dict[str, Any]:
    with site.session() as session:
        return dict(records(site, session).create("day_check", {"day": day}).data)


def test_formulas_count_the_calendars_holidays_and_worked_weekends(site: Site, tmp_path: Path) -> None:
    with site.session() as session:
        Packs(session, SETUP).install(load_pack(dictionary_pack(tmp_path / "dicts", CALENDAR)))
    publish_form(site, DAY)
    new_year_eve = _day(site, "2026-12-31")  # Thursday; New Year's Day a Friday holiday
    assert (new_year_eve["holiday"], new_year_eve["next_workday"]) == (False, "2027-01-04")
    assert _day(site, "2027-01-01")["holiday"] is True
    assert _day(site, "2026-12-20")["eve"] == "2026-12-31"
    assert _day(site, "2026-10-09")["next_workday"] == "2026-10-10"  # the worked Saturday


def test_without_the_dictionary_the_week_is_monday_to_friday(site: Site) -> None:
    publish_form(site, DAY)
    assert _day(site, "2026-12-31")["next_workday"] == "2027-01-01"
    assert _day(site, "2026-12-20")["eve"] is None


def test_a_calendar_entry_that_is_not_a_date_is_refused_at_its_path(site: Site, tmp_path: Path) -> None:
    broken = {**CALENDAR, "entries": [*CALENDAR["entries"], {"key": "2027-13-01", "label": {"zh": "x", "en": "x"},
                                                              "values": {"kind": "holiday"}},
                                      {"key": "2027-02-01", "label": {"zh": "y", "en": "y"},
                                       "values": {"kind": "vacation"}}]}
    with pytest.raises(InvalidInput) as caught, site.session() as session:
        Packs(session, SETUP).install(load_pack(dictionary_pack(tmp_path / "dicts", broken)))
    assert [(p.code, p.path) for p in caught.value.problems] == [
        ("dictionary.calendar_day", "entries.2.key"), ("dictionary.calendar_kind", "entries.3.values.kind")]


def test_the_servers_flow_engine_counts_the_sites_holidays(site: Site, tmp_path: Path) -> None:
    """Flows' deadlines and conditions read the same calendar, loaded when first needed."""
    from datetime import UTC, date, datetime

    from engine.expr import evaluate
    from engine.runtime.flows import flow_engine

    with site.session() as session:
        Packs(session, SETUP).install(load_pack(dictionary_pack(tmp_path / "dicts", CALENDAR)))
    with site.session() as session:
        engine = flow_engine(session, site)
        ctx = engine.eval_context(datetime(2026, 12, 30, 9, tzinfo=UTC))
        assert evaluate("ISHOLIDAY(DATE(2027, 1, 1))", {}, ctx) is True
        assert engine.calendar.add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)
        assert engine.calendar.is_workday(date(2026, 10, 10))  # the worked Saturday

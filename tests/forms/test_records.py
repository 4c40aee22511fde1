"""The record service as a library: create, read, update with row versions, delete, restore."""

from __future__ import annotations

import pytest

from engine.errors import Conflict, InvalidInput
from engine.events import CollectingSink
from engine.forms.records import RecordService
from engine.runtime.site import Site
from engine.store import audit
from tests.forms.support import HAZARD, publish_form, records, with_row_defaults


def test_create_computes_formulas_defaults_and_serial_on_the_server(site: Site) -> None:
    publish_form(site, HAZARD)
    with site.session() as session:
        view = records(site, session).create("hazard", {
            "title": "Oil leak", "l": 3, "e": 6, "c": 7, "score": 1,
            "measures": [{"action": "Clean", "qty": 2, "price": "12.5", "cost": 999}]})
    assert view.data["score"] == 126
    assert view.data["measures"][0]["cost"] == 25.0
    assert view.data["total"] == 25.0
    assert view.data["level"] == "general"
    assert view.data["no"].startswith("HZ-") and view.data["no"].endswith("-0001")
    assert "due" not in view.data


def test_every_bad_field_is_reported_at_once_and_nothing_is_written(site: Site) -> None:
    publish_form(site, HAZARD)
    with pytest.raises(InvalidInput) as caught, site.session() as session:
        records(site, session).create("hazard", {
            "level": "catastrophic", "l": "many", "e": 11, "nope": 1,
            "measures": [{"qty": 1}, {"action": "x", "qty": -1}]})
    paths = {(p.path, p.code) for p in caught.value.problems}
    assert ("title", "field.required") in paths
    assert ("level", "field.not_option") in paths
    assert ("l", "field.type") in paths
    assert ("e", "field.above_max") in paths
    assert ("nope", "record.unknown_field") in paths
    assert ("measures[0].action", "field.required") in paths
    assert ("measures[0].price", "field.required") in paths
    assert ("measures[1].qty", "field.below_min") in paths
    with site.session() as session:
        assert records(site, session).list("hazard")[0] == []


def test_a_stale_row_version_is_a_conflict(site: Site) -> None:
    publish_form(site, HAZARD)
    with site.session() as session:
        view = records(site, session).create("hazard", {"title": "a"})
    with site.session() as session:
        updated = records(site, session).update("hazard", view.id, {"title": "b"}, row_version=view.row_version)
    assert updated.row_version == view.row_version + 1
    with pytest.raises(Conflict), site.session() as session:
        records(site, session).update("hazard", view.id, {"title": "c"}, row_version=view.row_version)


def test_update_emits_the_changed_fields_with_their_old_values(site: Site) -> None:
    publish_form(site, HAZARD)
    sink = CollectingSink()
    with site.session() as session:
        service = RecordService(session, sink, tz=site.settings.tz)
        view = service.create("hazard", {"title": "a", "l": 1, "e": 1, "c": 1})
        service.update("hazard", view.id, {"l": 2})
    created, updated = sink.events
    assert created.kind == "record.created" and created.record_id == view.id
    assert updated.kind == "record.updated"
    assert set(updated.changed) == {"l", "score"}
    assert updated.before == {"l": 1, "score": 1}


def test_delete_and_restore_are_audited(site: Site) -> None:
    publish_form(site, HAZARD)
    with site.session() as session:
        service = records(site, session)
        view = service.create("hazard", {"title": "a"})
        service.delete("hazard", view.id)
        assert service.list("hazard")[0] == []
        service.restore("hazard", view.id)
        assert [r.id for r in service.list("hazard")[0]] == [view.id]
    with site.session() as session:
        actions = [e.action for e in audit.query(session, object_type="record")]
    assert actions == ["record.create", "record.delete", "record.restore"]


def test_rows_added_by_an_update_get_their_defaults_and_the_stored_rows_keep_theirs(site: Site) -> None:
    publish_form(site, with_row_defaults())
    with site.session() as session:
        view = records(site, session).create("hazard", {
            "title": "a", "l": 1, "measures": [{"action": "x", "state": "done"}, {"action": "y", "state": None}]})
    rows = [*view.data["measures"], {"action": "z", "qty": 2, "price": 5}]
    with site.session() as session:
        updated = records(site, session).update("hazard", view.id, {"measures": rows}, row_version=view.row_version)
    measures = updated.data["measures"]
    assert measures[:2] == view.data["measures"]
    assert (measures[2]["state"], measures[2]["weight"], measures[2]["open_cost"]) == ("open", 2, 20)
    assert updated.data["total"] == 10
    assert "measures" in updated.changed


def test_a_created_record_is_serialised_once_for_its_row_and_its_audit_entry(site: Site) -> None:
    """The row stores the canonical text the audit entry's diff embeds: both read back as the
    record's data, the chain verifies, and later edits of the row are written as themselves."""
    from sqlalchemy import select

    from engine.store.models import AuditEntry, Record

    publish_form(site, HAZARD)
    with site.session() as session:
        view = records(site, session).create("hazard", {
            "title": "漏油 \"A\"", "l": 3, "e": 6, "c": 7, "measures": [{"action": "清理", "qty": 2, "price": 12.5}]})
        row = session.get(Record, view.id)
        assert type(row.data) is dict  # the text-carrying copy is gone after the flush
        row.data = {**row.data, "title": "changed"}
    with site.session() as session:
        stored = session.get(Record, view.id)
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "record.create")).scalar_one()
        assert stored.data == {**view.data, "title": "changed"}
        assert entry.diff == {"form": "hazard", "version": view.form_version, "data": view.data}
        assert audit.verify(session).ok


def test_canonical_with_embeds_a_serialised_value_exactly_as_canonical_would() -> None:
    data = {"b": [1.5, None, {"z": True, "a": "x\"y"}], "a": 10 ** 20, "名": "巡检"}
    for head in ({"form": "hazard", "version": 3}, {"a": 1, "z": "末"}, {}):
        assert audit.canonical_with(head, "data", audit.canonical(data)) == audit.canonical({**head, "data": data})


def test_search_text_from_the_prebuilt_searchers_equals_each_fields_own_search_text() -> None:
    """Search text is built with per-field searchers (text answered directly, options by label):
    the same text as asking each field, sub-table cells included, in order."""
    from engine.forms import load_form
    from engine.forms.compiled import compile_form
    from engine.forms.records import search_text
    from engine.forms.validation import prepare

    compiled = compile_form(load_form(HAZARD), 1)
    data = prepare(compiled, {"title": "  Oil Leak ", "level": "major", "due": "2026-01-01", "l": 3, "measures": [
        {"action": "Clean UP", "qty": 1, "price": 2}, {"action": "栏杆", "qty": 0}]}).data
    definition = compiled.definition
    expected = []
    for item in definition.searchable_fields():
        if item.key == "measures":
            expected += [column.search_text(row.get(column.key)) for row in data["measures"]
                         for column in item.value_fields() if row.get(column.key) is not None]
        else:
            expected.append(item.search_text(data.get(item.key)))
    assert search_text(compiled, data) == " ".join(t for t in expected if t).lower()
    assert "oil leak" in search_text(compiled, data) and "栏杆" in search_text(compiled, data)

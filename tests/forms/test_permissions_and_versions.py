"""Field permissions (role grants, flow nodes, the system actor) and form versions (old
records stay readable and editable; explicit migrations with a dry run; diffs)."""

from __future__ import annotations

import pytest

from engine.errors import Forbidden, InvalidInput, NotFound
from engine.events import CollectingSink
from engine.forms import load_form
from engine.forms.migrations import migrate_records
from engine.forms.permissions import FieldPermissions
from engine.forms.versions import diff
from engine.runtime.site import Site
from engine.store.access import Access, load_principal
from tests.forms.support import ADMIN, HAZARD, hazard, label, publish_form, records
from tests.helpers import make_user

HIDDEN_SCORE = Access(scope="all", hidden=frozenset({"c"}), readonly=frozenset({"level"}))


def test_hidden_fields_are_left_out_of_what_a_caller_reads(site: Site) -> None:
    publish_form(site, HAZARD)
    user = make_user(site, "worker")
    with site.session() as session:
        view = records(site, session).create("hazard", {"title": "a", "c": 5})
        seen = records(site, session).get("hazard", view.id, principal=load_principal(session, user),
                                          access=HIDDEN_SCORE)
    assert "c" not in seen.data and seen.data["title"] == "a"


def test_writing_a_hidden_or_readonly_field_is_forbidden_and_changes_nothing(site: Site) -> None:
    publish_form(site, HAZARD)
    user = make_user(site, "worker")
    with site.session() as session:
        view = records(site, session).create("hazard", {"title": "a"})
    with pytest.raises(Forbidden) as caught, site.session() as session:
        records(site, session).update("hazard", view.id, {"c": 9, "level": "major", "title": "b"},
                                      principal=load_principal(session, user), access=HIDDEN_SCORE)
    assert {p.path for p in caught.value.problems} == {"c", "level"}
    with site.session() as session:
        assert records(site, session).get("hazard", view.id).data["title"] == "a"


def test_echoing_an_unchanged_readonly_value_is_allowed(site: Site) -> None:
    publish_form(site, HAZARD)
    user = make_user(site, "worker")
    with site.session() as session:
        view = records(site, session).create("hazard", {"title": "a"})
        updated = records(site, session).update("hazard", view.id, {"level": "general", "title": "b"},
                                                principal=load_principal(session, user), access=HIDDEN_SCORE)
    assert updated.data["title"] == "b"


def test_a_flow_node_narrows_what_may_be_written_and_adds_requirements(site: Site) -> None:
    publish_form(site, HAZARD)
    node = FieldPermissions(editable=frozenset({"l", "e", "c"}), required=frozenset({"c"}))
    with site.session() as session:
        view = records(site, session).create("hazard", {"title": "a"})
    with pytest.raises(Forbidden), site.session() as session:
        records(site, session).update("hazard", view.id, {"title": "b"}, node_permissions=node)
    with pytest.raises(InvalidInput) as caught, site.session() as session:
        records(site, session).update("hazard", view.id, {"l": 1}, node_permissions=node)
    assert [(p.path, p.code) for p in caught.value.problems] == [("c", "field.required")]


def test_the_system_actor_writes_without_a_principal_and_is_audited_as_such(site: Site) -> None:
    publish_form(site, HAZARD)
    from engine.store import audit

    with site.session() as session:
        records(site, session).create("hazard", {"title": "from a rule"})
    with site.session() as session:
        (entry,) = list(audit.query(session, object_type="record"))
    assert (entry.actor, entry.actor_id) == ("system", None)


def test_a_user_without_a_grant_is_refused(site: Site) -> None:
    publish_form(site, HAZARD)
    user = make_user(site, "nobody")
    with pytest.raises(Forbidden), site.session() as session:
        records(site, session).create("hazard", {"title": "a"}, principal=load_principal(session, user))


def test_a_record_outside_the_callers_scope_is_not_found(site: Site) -> None:
    publish_form(site, HAZARD)
    owner, other = make_user(site, "owner"), make_user(site, "other")
    with site.session() as session:
        view = records(site, session).create("hazard", {"title": "a"}, principal=load_principal(session, owner),
                                             access=Access(scope="all"))
    with pytest.raises(NotFound), site.session() as session:
        records(site, session).get("hazard", view.id, principal=load_principal(session, other),
                                   access=Access(scope="own"))


V2 = hazard()
V2["fields"][1]["key"] = "summary"
V2["title_field"] = "summary"
V2["fields"][2]["options"] = [{"value": "general", "label": label("一般")},
                              {"value": "serious", "label": label("较大")},
                              {"value": "critical", "label": label("特大")}]
V2["fields"].append({"type": "text", "key": "owner_name", "label": label("负责人"), "required": True})


def test_old_records_keep_their_version_and_stay_readable_and_editable(site: Site) -> None:
    assert publish_form(site, HAZARD) == 1
    with site.session() as session:
        old = records(site, session).create("hazard", {"title": "a", "level": "major"})
    assert publish_form(site, V2) == 2
    with site.session() as session:
        service = records(site, session)
        again = service.get("hazard", old.id)
        edited = service.update("hazard", old.id, {"title": "still v1"})
        new = service.create("hazard", {"summary": "b", "owner_name": "王"})
    assert again.form_version == 1 and again.data["level"] == "major"
    assert edited.form_version == 1 and edited.data["title"] == "still v1"
    assert new.form_version == 2


STEPS = [{"op": "rename", "from": "title", "to": "summary"},
         {"op": "split_option", "field": "level", "from": "major", "to": ["serious", "critical"],
          "choose": 'if(score >= 160, "critical", "serious")'},
         {"op": "set_default", "field": "owner_name", "value": "待定"}]


def test_a_migration_dry_run_reports_and_changes_nothing(site: Site) -> None:
    publish_form(site, HAZARD)
    with site.session() as session:
        ids = [records(site, session).create("hazard", row).id for row in
               ({"title": "a", "level": "major", "l": 10, "e": 6, "c": 3}, {"title": "b"})]
    publish_form(site, V2)
    with site.session() as session:
        report = migrate_records(session, ADMIN, "hazard", STEPS, events=CollectingSink(), dry_run=True)
    assert (report.examined, report.changed, report.invalid, report.applied) == (2, 2, 0, False)
    with site.session() as session:
        assert records(site, session).get("hazard", ids[0]).form_version == 1


def test_a_migration_moves_old_records_to_the_new_version(site: Site) -> None:
    publish_form(site, HAZARD)
    with site.session() as session:
        first = records(site, session).create("hazard", {"title": "a", "level": "major", "l": 10, "e": 6, "c": 3})
    publish_form(site, V2)
    sink = CollectingSink()
    with site.session() as session:
        report = migrate_records(session, ADMIN, "hazard", STEPS, events=sink, dry_run=False)
    assert report.applied
    with site.session() as session:
        moved = records(site, session).get("hazard", first.id)
    assert moved.form_version == 2
    assert (moved.data["summary"], moved.data["level"], moved.data["owner_name"]) == ("a", "critical", "待定")
    assert "title" not in moved.data and sink.events[0].meta["migration"] == 2
    assert type(sink.events[0].meta["write_seq"]) is int  # its audit entry's number (rollups use it)


def test_a_migration_that_would_leave_invalid_records_is_refused_whole(site: Site) -> None:
    publish_form(site, HAZARD)
    with site.session() as session:
        records(site, session).create("hazard", {"title": "a", "level": "major"})
    publish_form(site, V2)
    with pytest.raises(InvalidInput) as caught, site.session() as session:
        migrate_records(session, ADMIN, "hazard", STEPS[:1], events=CollectingSink(), dry_run=False)
    codes = {p.code for p in caught.value.problems}
    assert {"field.not_option", "field.required"} <= codes


def test_bad_migration_steps_are_located_errors(site: Site) -> None:
    publish_form(site, HAZARD)
    with pytest.raises(InvalidInput) as caught, site.session() as session:
        migrate_records(session, ADMIN, "hazard", [{"op": "rename", "form": "a", "to": "b"}], events=CollectingSink())
    assert {p.path for p in caught.value.problems} >= {"[0].from"}


def test_a_diff_lists_added_removed_and_changed_properties() -> None:
    changes = {(c.kind, c.key, c.property) for c in diff(load_form(HAZARD), load_form(V2))}
    assert ("added", "summary", None) in changes
    assert ("removed", "title", None) in changes
    assert ("added", "owner_name", None) in changes
    assert ("changed", "level", "options") in changes
    assert ("form", "title_field", "title_field") in changes

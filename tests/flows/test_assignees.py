"""Assignee resolution, the empty / initiator / repeat policies, and out-of-office substitutes."""

from datetime import datetime

import pytest

from engine.directory import Delegation
from tests.flows.helpers import ORG, Harness, apply_node, linear


def approve_with(*assignees, **extra) -> dict:
    return linear(
        apply_node(),
        {"id": "l1", "type": "approve", "mode": "or_sign", "assignees": list(assignees), **extra},
    )


def holders(*assignees, data=None, initiator="alice", org=ORG, **extra) -> list[str]:
    h = Harness(approve_with(*assignees, **extra), data or {}, initiator=initiator, org=org)
    h.act("apply", initiator, "submit")
    return sorted(h.holders("l1"))


def test_named_users_by_username_or_id():
    assert holders({"user": "bob"}, {"user": 3}) == ["bob", "carol"]


def test_role_everywhere_and_within_the_initiators_department():
    assert holders({"role": "workshop_director"}) == ["bob", "henry"]
    assert holders({"role": "safety_officer"}) == ["carol", "frank", "grace"]
    assert holders({"role": "safety_officer", "within": "initiator"}, initiator="frank") == [
        "carol",
        "frank",
        "grace",
    ]


def test_role_within_a_department_field_of_the_record():
    assert holders({"role": "workshop_director", "within_field": "dept"}, data={"dept": 10}) == [
        "bob",
        "henry",
    ]
    assert holders(
        {"role": "safety_officer", "within_field": "dept"}, data={"dept": 10}, on_empty={"user": "erin"}
    ) == ["erin"]


def test_department_head_of_the_initiator_or_of_a_field():
    assert holders({"department_head": "initiator"}) == ["dave"]
    assert holders({"department_head": {"field": "dept"}}, data={"dept": 20}) == ["carol"]


def test_manager_n_levels_up_and_the_manager_chain():
    # dave's manager is erin; erin heads the plant (no parent): one level only
    assert holders({"manager": 1}, initiator="dave") == ["erin"]
    assert holders({"manager": 1}) == ["dave"]  # alice has no manager: head of her department
    assert holders({"manager": 2}) == ["erin"]
    assert holders({"manager_chain": 2}) == ["dave", "erin"]


def test_user_field_of_the_record():
    assert holders({"field": "area_owner"}, data={"area_owner": "grace"}) == ["grace"]
    assert holders({"field": "reviewers"}, data={"reviewers": [2, "carol"]}) == ["bob", "carol"]


def test_the_initiator():
    assert holders("initiator") == ["alice"]


def test_chosen_by_the_previous_actor_at_runtime():
    h = Harness(approve_with("chosen"))
    h.act("apply", "alice", "submit", assignees=["frank", "grace"])
    assert sorted(h.holders("l1")) == ["frank", "grace"]


def test_no_assignee_found_goes_to_the_admin_by_default():
    assert holders({"role": "nobody"}) == ["admin"]


def test_no_assignee_found_can_auto_approve():
    h = Harness(approve_with({"role": "nobody"}, on_empty="auto_approve"))
    h.act("apply", "alice", "submit")
    assert h.status() == "completed"
    assert any(e["action"] == "auto_approved" for e in h.instance.history)


def test_no_assignee_found_can_auto_reject():
    h = Harness(approve_with({"role": "nobody"}, on_empty="auto_reject", reject="terminate"))
    h.act("apply", "alice", "submit")
    assert h.status() == "rejected"


def test_no_assignee_found_can_go_to_a_named_user():
    assert holders({"role": "nobody"}, on_empty={"user": "grace"}) == ["grace"]


def test_no_assignee_and_no_admin_is_a_visible_error_not_a_stuck_instance():
    org = {**ORG, "admins": []}
    h = Harness(approve_with({"role": "nobody"}), org=org)
    h.act("apply", "alice", "submit")
    inst = h.instance
    assert inst.status == "error"
    assert inst.error["code"] == "flow.assignee.none" and inst.error["node"] == "l1"


def test_initiator_as_approver_can_self_approve_skip_or_go_to_the_manager():
    assert holders({"user": "alice"}, {"user": "bob"}) == ["alice", "bob"]
    assert holders({"user": "alice"}, {"user": "bob"}, on_initiator="skip") == ["bob"]
    assert holders({"user": "alice"}, on_initiator="manager") == ["dave"]
    h = Harness(approve_with({"user": "alice"}, on_initiator="skip"))
    h.act("apply", "alice", "submit")
    assert h.status() == "completed"


def test_same_approver_on_consecutive_nodes_auto_passes():
    flow = linear(
        apply_node(),
        {"id": "l1", "type": "approve", "assignee": {"user": "bob"}},
        {"id": "l2", "type": "approve", "assignee": {"user": "bob"}, "on_repeat": "skip"},
        {"id": "l3", "type": "approve", "assignee": {"user": "carol"}},
    )
    h = Harness(flow)
    h.act("apply", "alice", "submit")
    h.act("l1", "bob")
    assert h.open() == ["l3"]
    assert "l2" in h.instance.completed


def away(user: str, substitute: str, **extra) -> dict:
    return {
        "user": user,
        "substitute": substitute,
        "from": "2026-01-01T00:00:00+00:00",
        "to": "2026-02-01T00:00:00+00:00",
        **extra,
    }


def test_substitute_takes_the_task_while_the_assignee_is_away():
    org = {**ORG, "delegations": [away("bob", "frank")]}
    h = Harness(approve_with({"user": "bob"}), org=org)
    h.act("apply", "alice", "submit")
    task = h.instance.open_tasks("l1")[0]
    assert task.assignee == h.uid("frank") and task.on_behalf_of == h.uid("bob")


def test_substitutes_follow_a_chain():
    org = {**ORG, "delegations": [away("bob", "frank"), away("frank", "grace")]}
    assert holders({"user": "bob"}, org=org) == ["grace"]


def test_a_substitute_cycle_is_detected_and_the_task_stays_with_the_assignee():
    org = {**ORG, "delegations": [away("bob", "frank"), away("frank", "grace"), away("grace", "bob")]}
    h = Harness(approve_with({"user": "bob"}), org=org)
    h.act("apply", "alice", "submit")
    assert h.holders("l1") == ["bob"]
    notes = next(e for e in h.instance.history if e["action"] == "assignment")["notes"]
    assert notes[0]["substitute_cycle"] == [2, 6, 7, 2]


def test_a_delegation_outside_its_dates_or_flows_does_not_apply():
    org = {
        **ORG,
        "delegations": [
            away("bob", "frank", to="2026-01-02T00:00:00+00:00"),
            away("bob", "grace", flows=["other_flow"]),
        ],
    }
    assert holders({"user": "bob"}, org=org) == ["bob"]


def test_open_tasks_are_handed_over_when_a_delegation_starts():
    h = Harness(approve_with({"user": "bob"}))
    h.act("apply", "alice", "submit")
    moved = h.engine.hand_over(
        Delegation(h.uid("bob"), h.uid("frank"), datetime(2026, 1, 1), datetime(2026, 2, 1))
    )
    assert len(moved) == 1
    assert h.holders("l1") == ["frank"]
    h.act("l1", "frank")
    assert h.status() == "completed"


@pytest.mark.parametrize("spec", [{"user": "nobody_known"}, {"field": "missing"}])
def test_unknown_users_and_empty_fields_fall_back_to_the_empty_policy(spec):
    assert holders(spec) == ["admin"]

"""Task actions: transfer, delegate, add/remove signer, withdraw, urge, comment, save draft —
each checked (only the assignee, only while open) and written to the history."""

import pytest

from engine.errors import Conflict, Forbidden, InvalidInput
from tests.flows.helpers import Harness, apply_node, linear


def two_step(mode: str = "single", users=("bob",), **extra) -> Harness:
    flow = linear(
        apply_node(),
        {"id": "l1", "type": "approve", "mode": mode, "assignees": [{"user": u} for u in users], **extra},
        {"id": "l2", "type": "approve", "assignee": {"user": "erin"}},
    )
    h = Harness(flow)
    h.act("apply", "alice", "submit")
    return h


def test_transfer_hands_the_task_to_someone_whose_decision_counts():
    h = two_step()
    h.act("l1", "bob", "transfer", users=["carol"])
    assert h.holders("l1") == ["carol"]
    h.act("l1", "carol")
    assert h.open() == ["l2"]
    assert any(e["action"] == "transfer" for e in h.instance.history)


def test_delegate_comes_back_to_the_delegator_for_the_decision():
    h = two_step()
    h.act("l1", "bob", "delegate", users=["carol"])
    assert h.holders("l1") == ["carol"]
    h.act("l1", "carol", "approve", comment="looks fine")
    assert h.holders("l1") == ["bob"]  # back to the delegator
    h.act("l1", "bob")
    assert h.open() == ["l2"]
    entry = next(e for e in h.instance.history if e["action"] == "delegate_resolved")
    assert entry["opinion"] == "approve" and entry["comment"] == "looks fine"


def test_add_signer_before_makes_them_act_first():
    h = two_step()
    h.act("l1", "bob", "add_signer", users=["carol"], position="before")
    assert h.holders("l1") == ["carol"]
    h.act("l1", "carol")
    assert h.holders("l1") == ["bob"]
    h.act("l1", "bob")
    assert h.open() == ["l2"]


def test_add_signer_after_holds_the_approval_until_they_approve():
    h = two_step()
    h.act("l1", "bob", "add_signer", users=["carol", "dave"], position="after")
    assert sorted(h.holders("l1")) == ["carol", "dave"]
    h.act("l1", "carol")
    assert h.open() == ["l1"]
    h.act("l1", "dave")
    assert h.open() == ["l2"]


def test_an_added_signer_can_reject():
    h = two_step(reject="terminate")
    h.act("l1", "bob", "add_signer", users=["carol"], position="before")
    h.act("l1", "carol", "reject")
    assert h.status() == "rejected"


def test_remove_signer_withdraws_their_task_and_may_complete_the_node():
    h = two_step("countersign", ("bob", "carol", "dave"))
    h.act("l1", "bob")
    h.act("l1", "carol", "remove_signer", users=["dave"])
    assert h.holders("l1") == ["carol"]
    h.act("l1", "carol")
    assert h.open() == ["l2"]


def test_the_last_signer_cannot_be_removed():
    h = two_step("countersign", ("bob", "carol"))
    h.act("l1", "bob")
    with pytest.raises(InvalidInput):
        h.act("l1", "carol", "remove_signer", users=["bob", "carol"])
    assert sorted(h.holders("l1")) == ["carol"]


def test_initiator_withdraws_while_the_next_node_has_not_acted():
    h = two_step()
    h.act("apply", "alice", "withdraw")
    assert h.open() == ["apply"]
    assert h.holders("apply") == ["alice"]


def test_withdraw_is_refused_once_the_next_node_has_acted():
    h = two_step()
    h.act("l1", "bob")
    with pytest.raises(Conflict):
        h.act("apply", "alice", "withdraw")
    assert h.open() == ["l2"]


def test_urge_notifies_the_holders_of_open_tasks():
    h = two_step("countersign", ("bob", "carol"))
    h.act("l1", "alice", "urge")
    urged = [n for n in h.sim.notifier.sent if n.template == "flow.urge"]
    assert sorted(r.value for n in urged for r in n.to) == [h.uid("bob"), h.uid("carol")]


def test_only_the_initiator_or_an_admin_may_urge():
    h = two_step()
    with pytest.raises(Forbidden):
        h.act("l1", "dave", "urge")


def test_comment_with_attachments_is_kept_in_the_history():
    h = two_step()
    h.act("l1", "bob", "comment", comment="see photo", attachments=[{"name": "p.jpg", "url": "/files/1"}])
    entry = h.instance.history[-1]
    assert entry["action"] == "comment" and entry["attachments"][0]["name"] == "p.jpg"
    assert h.open() == ["l1"]


def test_save_draft_keeps_values_until_submission():
    h = Harness(linear(apply_node(), {"id": "l1", "type": "approve", "assignee": {"user": "bob"}}))
    h.act("apply", "alice", "save", data={"title": "leak"})
    assert h.instance.data == {}
    h.act("apply", "alice", "submit")
    assert h.instance.data == {"title": "leak"}


@pytest.mark.parametrize(
    ("node", "user", "action", "kw", "error"),
    [
        ("l1", "carol", "approve", {}, "no_task"),  # not the assignee: no task of theirs
        ("l1", "bob", "teleport", {}, "flow.action.unknown"),
        ("l1", "bob", "submit_to_mars", {}, "flow.action.unknown"),
        ("l1", "bob", "approve", {"data": {"secret": 1}}, "flow.action.field_not_editable"),
        ("l1", "bob", "transfer", {"users": []}, "flow.action.one_user"),
    ],
)
def test_bad_actions_are_refused_and_change_nothing(node, user, action, kw, error):
    h = two_step()
    before = h.instance.to_dict()
    with pytest.raises(InvalidInput) as err:
        h.act(node, user, action, **kw)
    assert error in err.value.problems[0].code
    assert h.instance.to_dict() == before


def test_only_the_assignee_may_act_on_a_task():
    h = two_step()
    task = h.instance.open_tasks("l1")[0]
    before = h.instance.to_dict()
    with pytest.raises(Forbidden):
        h.engine.act(task.id, h.action("approve", "carol"))
    assert h.instance.to_dict() == before


def test_a_decided_task_cannot_be_decided_again():
    h = two_step()
    task = h.instance.open_tasks("l1")[0]
    h.act("l1", "bob")
    with pytest.raises(Conflict):
        h.engine.act(task.id, h.action("reject", "bob"))
    assert h.open() == ["l2"]


def test_field_permissions_let_an_approver_set_only_editable_fields():
    flow = linear(
        apply_node(),
        {
            "id": "l1",
            "type": "approve",
            "assignee": {"user": "bob"},
            "fields": {"opinion": "editable", "title": "readonly"},
        },
    )
    h = Harness(flow, {"title": "t"})
    h.act("apply", "alice", "submit")
    with pytest.raises(InvalidInput):
        h.act("l1", "bob", "approve", data={"title": "changed"})
    h.act("l1", "bob", "approve", data={"opinion": "ok"})
    assert h.instance.data == {"title": "t", "opinion": "ok"}

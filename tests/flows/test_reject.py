"""Every reject target, and how the instance comes back after resubmission."""

import pytest

from engine.errors import InvalidInput
from tests.flows.helpers import Harness, apply_node, linear


def chain(**l2_extra) -> dict:
    return linear(
        apply_node(),
        {"id": "check", "type": "fill", "assignee": {"user": "bob"}},
        {"id": "l1", "type": "approve", "assignee": {"user": "carol"}},
        {"id": "l2", "type": "approve", "assignee": {"user": "dave"}, **l2_extra},
    )


def at_l2(**l2_extra) -> Harness:
    h = Harness(chain(**l2_extra))
    h.act("apply", "alice", "submit")
    h.act("check", "bob", "submit")
    h.act("l1", "carol")
    assert h.open() == ["l2"]
    return h


def test_reject_to_previous_node_reopens_the_node_completed_just_before():
    h = at_l2()
    h.act("l2", "dave", "reject")
    assert h.open() == ["l1"]
    assert "l2" not in h.instance.completed and "l1" not in h.instance.completed


def test_reject_to_a_chosen_upstream_node():
    h = at_l2(reject={"to": "choose"})
    h.act("l2", "dave", "reject", target="check")
    assert h.open() == ["check"]


def test_a_chosen_reject_target_must_be_an_upstream_user_node():
    h = at_l2(reject={"to": "choose"})
    before = h.instance.to_dict()
    with pytest.raises(InvalidInput) as err:
        h.act("l2", "dave", "reject", target="end")
    assert err.value.problems[0].code == "flow.reject.bad_target"
    assert h.instance.to_dict() == before


def test_reject_to_the_initiator_reopens_the_application():
    h = at_l2(reject="initiator")
    h.act("l2", "dave", "reject")
    assert h.open() == ["apply"]
    assert h.holders("apply") == ["alice"]


def test_reject_terminate_ends_the_instance_rejected():
    h = at_l2(reject="terminate")
    h.act("l2", "dave", "reject")
    assert h.status() == "rejected"
    assert h.open() == []


def test_rerun_after_resubmission_goes_through_every_node_again():
    h = at_l2(reject={"to": "initiator", "resume": "rerun"})
    h.act("l2", "dave", "reject")
    h.act("apply", "alice", "submit")
    assert h.open() == ["check"]


def test_return_after_resubmission_jumps_back_to_the_node_that_rejected():
    h = at_l2(reject={"to": "initiator", "resume": "return"})
    h.act("l2", "dave", "reject")
    h.act("apply", "alice", "submit", data={"fixed": True})
    assert h.open() == ["l2"]
    h.act("l2", "dave")
    assert h.status() == "completed"
    assert h.instance.data == {"fixed": True}


def test_a_target_is_refused_when_the_node_does_not_let_the_approver_choose():
    h = at_l2()
    with pytest.raises(InvalidInput) as err:
        h.act("l2", "dave", "reject", target="apply")
    assert err.value.problems[0].code == "flow.reject.target_not_allowed"
    assert h.open() == ["l2"]

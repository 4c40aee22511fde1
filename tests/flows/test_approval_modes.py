"""Approval modes on approve nodes: single, sequential, countersign, or-sign, vote."""

from tests.flows.helpers import Harness, apply_node, linear


def approve(mode: str, users: list[str], **extra) -> dict:
    return {"id": "l1", "type": "approve", "mode": mode, "assignees": [{"user": u} for u in users], **extra}


def submitted(flow: dict, data: dict | None = None) -> Harness:
    h = Harness(flow, data or {})
    h.act("apply", "alice", "submit")
    return h


def test_single_approval_passes_on_the_one_decision():
    h = submitted(linear(apply_node(), approve("single", ["bob"])))
    assert h.open() == ["l1"]
    h.act("l1", "bob", "approve")
    assert h.status() == "completed"
    assert h.instance.completed == ["start", "apply", "l1", "end"]


def test_sequential_asks_one_after_another_in_order():
    h = submitted(linear(apply_node(), approve("sequential", ["bob", "carol", "dave"])))
    assert h.holders("l1") == ["bob"]
    h.act("l1", "bob")
    assert h.holders("l1") == ["carol"]
    h.act("l1", "carol")
    assert h.holders("l1") == ["dave"]
    h.act("l1", "dave")
    assert h.status() == "completed"


def test_sequential_rejection_stops_the_queue():
    h = submitted(linear(apply_node(), approve("sequential", ["bob", "carol"], reject="terminate")))
    h.act("l1", "bob", "reject")
    assert h.status() == "rejected"
    assert not any(t.assignee == h.uid("carol") for t in h.instance.tasks.values())


def test_countersign_waits_for_every_assignee():
    h = submitted(linear(apply_node(), approve("countersign", ["bob", "carol"])))
    assert sorted(h.holders("l1")) == ["bob", "carol"]
    h.act("l1", "bob")
    assert h.open() == ["l1"] and h.holders("l1") == ["carol"]
    h.act("l1", "carol")
    assert h.status() == "completed"


def test_a_rejection_inside_a_countersign_rejects_the_node_and_withdraws_the_rest():
    h = submitted(linear(apply_node(), approve("countersign", ["bob", "carol", "dave"])))
    h.act("l1", "bob")
    h.act("l1", "carol", "reject")
    inst = h.instance
    dave_task = next(t for t in inst.tasks.values() if t.assignee == h.uid("dave"))
    assert dave_task.status == "withdrawn"
    assert h.open() == ["apply"]  # default reject target: the previous user node


def test_or_sign_first_decision_wins_and_withdraws_the_others():
    h = submitted(linear(apply_node(), approve("or_sign", ["bob", "carol", "dave"])))
    h.act("l1", "carol")
    inst = h.instance
    assert inst.status == "completed"
    others = [t.status for t in inst.tasks.values() if t.node == "l1" and t.assignee != h.uid("carol")]
    assert others == ["withdrawn", "withdrawn"]


def test_or_sign_first_rejection_also_wins():
    h = submitted(linear(apply_node(), approve("or_sign", ["bob", "carol"], reject="terminate")))
    h.act("l1", "bob", "reject")
    assert h.status() == "rejected"


def test_vote_passes_early_once_the_ratio_is_reached():
    h = submitted(
        linear(apply_node(), approve("vote", ["bob", "carol", "dave", "erin", "frank"], pass_ratio=0.6))
    )
    h.act("l1", "bob")
    h.act("l1", "carol")
    assert h.open() == ["l1"]
    h.act("l1", "dave")  # 3 of 5 = 0.6
    inst = h.instance
    assert inst.status == "completed"
    assert sorted(t.status for t in inst.tasks.values() if t.node == "l1") == [
        "done",
        "done",
        "done",
        "withdrawn",
        "withdrawn",
    ]


def test_vote_rejects_early_once_passing_is_impossible():
    h = submitted(
        linear(
            apply_node(),
            approve("vote", ["bob", "carol", "dave", "erin"], pass_ratio=0.75, reject="terminate"),
        )
    )
    h.act("l1", "bob", "reject")
    assert h.open() == ["l1"]  # 3 of 4 can still approve
    h.act("l1", "carol", "reject")  # at most 2 of 4 now
    assert h.status() == "rejected"


def test_vote_counts_approvals_and_rejections_separately():
    h = submitted(linear(apply_node(), approve("vote", ["bob", "carol", "dave"], pass_ratio=0.5)))
    h.act("l1", "bob", "reject")
    h.act("l1", "carol")
    assert h.open() == ["l1"]  # 1 approve, 1 reject of 3: not decided yet
    h.act("l1", "dave")
    assert h.status() == "completed"


def test_vote_by_weight():
    node = {
        "id": "l1",
        "type": "approve",
        "mode": "vote",
        "pass_ratio": 0.5,
        "assignees": [{"user": "bob", "weight": 3}, {"user": "carol"}, {"user": "dave"}],
    }
    h = submitted(linear(apply_node(), node))
    h.act("l1", "bob")  # 3 of 5
    assert h.status() == "completed"


def test_veto_policy_makes_one_rejection_reject_a_vote():
    h = submitted(
        linear(
            apply_node(),
            approve(
                "vote", ["bob", "carol", "dave"], pass_ratio=0.3, reject_policy="veto", reject="terminate"
            ),
        )
    )
    h.act("l1", "bob", "reject")
    assert h.status() == "rejected"

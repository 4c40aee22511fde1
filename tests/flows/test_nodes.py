"""Each node type: start/end, fill, cc, parallel split/join, automation, wait, sub-flow."""

from tests.flows.helpers import Harness, apply_node, linear


def graph(nodes: list[dict], edges: list[tuple], key: str = "f") -> dict:
    return {"key": key, "nodes": nodes, "edges": [{"from": a, "to": b} for a, b in edges]}


def test_start_runs_to_the_first_task_and_end_completes():
    h = Harness(linear(apply_node()))
    assert h.open() == ["apply"] and h.status() == "running"
    h.act("apply", "alice", "submit", data={"x": 1})
    assert h.status() == "completed" and h.instance.completed == ["start", "apply", "end"]


def test_fill_goes_to_every_candidate_and_the_first_submission_wins():
    h = Harness(linear({"id": "apply", "type": "fill", "assignee": {"role": "safety_officer"}}))
    assert sorted(h.holders("apply")) == ["carol", "frank", "grace"]
    h.act("apply", "frank", "submit")
    assert h.status() == "completed"


def test_cc_notifies_and_needs_no_action():
    h = Harness(
        linear(
            apply_node(),
            {"id": "tell", "type": "cc", "to": [{"user": "erin"}, {"role": "workshop_director"}]},
            {"id": "l1", "type": "approve", "assignee": {"user": "bob"}},
        )
    )
    h.act("apply", "alice", "submit")
    assert h.open() == ["l1"]
    cc = [t for t in h.instance.tasks.values() if t.kind == "cc"]
    assert sorted(t.assignee for t in cc) == [h.uid("bob"), h.uid("erin"), h.uid("henry")]
    assert all(t.status == "cc" for t in cc)
    sent = [n for n in h.sim.notifier.sent if n.template == "flow.cc"]
    assert len(sent) == 1 and len(sent[0].to) == 3


def parallel_flow() -> dict:
    return graph(
        [
            {"id": "start", "type": "start"},
            apply_node(),
            {"id": "split", "type": "parallel"},
            {"id": "a", "type": "approve", "assignee": {"user": "bob"}},
            {"id": "b", "type": "approve", "assignee": {"user": "carol"}},
            {"id": "join", "type": "parallel"},
            {"id": "final", "type": "approve", "assignee": {"user": "erin"}},
            {"id": "end", "type": "end"},
        ],
        [
            ("start", "apply"),
            ("apply", "split"),
            ("split", "a"),
            ("split", "b"),
            ("a", "join"),
            ("b", "join"),
            ("join", "final"),
            ("final", "end"),
        ],
    )


def test_parallel_split_opens_every_branch_and_the_join_waits_for_all():
    h = Harness(parallel_flow())
    h.act("apply", "alice", "submit")
    assert h.open() == ["a", "b"]
    h.act("b", "carol")
    assert h.open() == ["a"]
    assert len(h.instance.tokens) == 2  # one waits at the join
    h.act("a", "bob")
    assert h.open() == ["final"] and len(h.instance.tokens) == 1
    h.act("final", "erin")
    assert h.status() == "completed"


def test_a_rejection_inside_a_parallel_branch_cancels_the_other_branch():
    h = Harness(parallel_flow())
    h.act("apply", "alice", "submit")
    h.act("a", "bob")  # waits at the join
    h.act("b", "carol", "reject")  # back to apply: both branches are redone
    assert h.open() == ["apply"] and len(h.instance.tokens) == 1
    h.act("apply", "alice", "submit")
    assert h.open() == ["a", "b"]


def test_automation_sets_literal_fields():
    h = Harness(
        linear(
            apply_node(),
            {
                "id": "mark",
                "type": "automation",
                "actions": [{"set": {"status": "approved", "closed": True}}],
            },
        )
    )
    h.act("apply", "alice", "submit", data={"status": "new"})
    assert h.instance.data == {"status": "approved", "closed": True}


def test_automation_creates_records_and_calls_webhooks_after_the_step_is_saved():
    h = Harness(
        linear(
            apply_node(),
            {
                "id": "out",
                "type": "automation",
                "actions": [
                    {"create_record": {"form": "task", "values": {"title": "follow up"}}},
                    {"webhook": {"url": "https://erp.example/hook", "body": {"kind": "permit"}}},
                ],
            },
        )
    )
    h.act("apply", "alice", "submit")
    calls = h.engine.automation.calls
    assert [c[0] for c in calls] == ["create_record", "webhook"]
    assert (
        calls[0][1]["values"] == {"title": "follow up"} and calls[1][1]["url"] == "https://erp.example/hook"
    )


def test_wait_node_holds_the_token_until_its_timer_falls_due():
    h = Harness(
        linear(
            apply_node(),
            {"id": "cool", "type": "wait", "duration": "2h"},
            {"id": "l1", "type": "approve", "assignee": {"user": "bob"}},
        )
    )
    h.act("apply", "alice", "submit")
    assert h.open() == [] and h.instance.active_nodes() == ["cool"]
    h.advance("1h")
    assert h.instance.active_nodes() == ["cool"]
    h.advance("1h")
    assert h.open() == ["l1"]


def test_subflow_runs_a_pinned_child_and_continues_when_it_completes():
    child = linear(
        {"id": "review", "type": "approve", "assignee": {"user": "carol"}},
        {"id": "stamp", "type": "automation", "actions": [{"set": {"reviewed": True}}]},
        key="review",
    )
    h = Harness(
        linear(
            apply_node(),
            {"id": "sub", "type": "subflow", "flow": "review"},
            {"id": "l1", "type": "approve", "assignee": {"user": "bob"}},
        ),
        subflows=[child],
    )
    h.act("apply", "alice", "submit", data={"x": 1})
    children = [i for i in h.sim.engine.store.instances.values() if i.parent]
    assert len(children) == 1 and children[0].flow_key == "review"
    child_task = children[0].open_tasks("review")[0]
    h.engine.act(child_task.id, h.action("approve", "carol"))
    assert h.open() == ["l1"]
    assert h.instance.data == {"x": 1, "reviewed": True}


def test_subflow_rejection_rejects_the_parent():
    child = linear(
        {"id": "review", "type": "approve", "assignee": {"user": "carol"}, "reject": "terminate"},
        key="review",
    )
    h = Harness(linear(apply_node(), {"id": "sub", "type": "subflow", "flow": "review"}), subflows=[child])
    h.act("apply", "alice", "submit")
    child_inst = next(i for i in h.sim.engine.store.instances.values() if i.parent)
    h.engine.act(child_inst.open_tasks()[0].id, h.action("reject", "carol"))
    assert h.status() == "rejected"


def test_terminate_end_stops_the_other_branches():
    # BPMN style (validation reports the split without a join; the runtime still honours it)
    flow = graph(
        [
            {"id": "start", "type": "start"},
            apply_node(),
            {"id": "split", "type": "parallel"},
            {"id": "a", "type": "approve", "assignee": {"user": "bob"}},
            {"id": "b", "type": "approve", "assignee": {"user": "carol"}},
            {"id": "stop", "type": "end", "terminate": True},
            {"id": "end", "type": "end"},
        ],
        [("start", "apply"), ("apply", "split"), ("split", "a"), ("split", "b"), ("a", "stop"), ("b", "end")],
    )
    h = Harness(flow)
    h.act("apply", "alice", "submit")
    assert h.open() == ["a", "b"]
    h.act("a", "bob")
    inst = h.instance
    assert inst.status == "completed" and inst.open_nodes() == []
    assert [t.status for t in inst.tasks.values() if t.node == "b"] == ["withdrawn"]


def test_a_plain_end_waits_for_the_other_branches():
    flow = graph(
        [
            {"id": "start", "type": "start"},
            apply_node(),
            {"id": "split", "type": "parallel"},
            {"id": "a", "type": "approve", "assignee": {"user": "bob"}},
            {"id": "b", "type": "approve", "assignee": {"user": "carol"}},
            {"id": "end_a", "type": "end"},
            {"id": "end", "type": "end"},
        ],
        [
            ("start", "apply"),
            ("apply", "split"),
            ("split", "a"),
            ("split", "b"),
            ("a", "end_a"),
            ("b", "end"),
        ],
    )
    h = Harness(flow)
    h.act("apply", "alice", "submit")
    h.act("a", "bob")
    assert h.status() == "running" and h.open() == ["b"]
    h.act("b", "carol")
    assert h.status() == "completed"

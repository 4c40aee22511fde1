"""Graph validation: each kind of problem, reported with the node (or edge) it is about."""

from engine.flows import parse_definition, validate_flow
from tests.flows.helpers import apply_node, linear

OK_APPROVE = {"id": "l1", "type": "approve", "assignee": {"user": "bob"}}


def problems(flow: dict, **kw) -> dict[str, list]:
    out: dict[str, list] = {}
    for p in validate_flow(parse_definition(flow), **kw):
        out.setdefault(p.code, []).append(p)
    return out


def nodes_of(found: dict, code: str) -> list[str]:
    return sorted(p.params["node"] for p in found.get(code, []))


def test_a_well_formed_flow_has_no_problems():
    assert problems(linear(apply_node(), OK_APPROVE)) == {}


def test_unreachable_nodes_are_reported_by_id():
    flow = linear(apply_node(), OK_APPROVE)
    flow["nodes"].append({"id": "orphan", "type": "approve", "assignee": {"user": "x"}})
    flow["edges"].append({"from": "orphan", "to": "end"})
    assert nodes_of(problems(flow), "flow.node.unreachable") == ["orphan"]


def test_nodes_that_cannot_reach_an_end_are_reported():
    flow = linear(apply_node(), OK_APPROVE)
    flow["nodes"].append({"id": "stuck", "type": "approve", "assignee": {"user": "x"}})
    flow["nodes"].append({"id": "gw", "type": "exclusive"})
    flow["edges"] = [e for e in flow["edges"] if e["from"] != "apply"] + [
        {"from": "apply", "to": "gw"}, {"from": "gw", "to": "l1", "default": True}, {"from": "gw", "to": "stuck"}]
    assert nodes_of(problems(flow), "flow.node.dead_end") == ["stuck"]


def test_dangling_edges_are_located_at_the_edge_end():
    flow = linear(apply_node())
    flow["edges"].append({"from": "apply", "to": "ghost"})
    found = problems(flow)
    (dangling,) = found["flow.edge.dangling"]
    assert dangling.path == "edges[2].to" and dangling.params["node"] == "ghost"


def test_a_parallel_split_without_a_matching_join():
    flow = {"key": "f", "nodes": [
        {"id": "start", "type": "start"}, {"id": "split", "type": "parallel"},
        {"id": "a", **{k: v for k, v in OK_APPROVE.items() if k != "id"}},
        {"id": "b", **{k: v for k, v in OK_APPROVE.items() if k != "id"}},
        {"id": "merge", "type": "exclusive"}, {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "split"}, {"from": "split", "to": "a"}, {"from": "split", "to": "b"},
                  {"from": "a", "to": "merge"}, {"from": "b", "to": "merge"}, {"from": "merge", "to": "end"}]}
    assert nodes_of(problems(flow), "flow.split.no_join") == ["split"]
    flow["nodes"][4] = {"id": "merge", "type": "parallel"}
    assert "flow.split.no_join" not in problems(flow)


def test_an_exclusive_gateway_with_neither_default_nor_conditions_is_a_warning():
    flow = {"key": "f", "nodes": [
        {"id": "start", "type": "start"}, {"id": "gw", "type": "exclusive"},
        {"id": "a", "type": "approve", "assignee": {"user": "x"}},
        {"id": "b", "type": "approve", "assignee": {"user": "y"}}, {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "gw"}, {"from": "gw", "to": "a"}, {"from": "gw", "to": "b"},
                  {"from": "a", "to": "end"}, {"from": "b", "to": "end"}]}
    (warning,) = problems(flow)["flow.gateway.unguarded"]
    assert warning.severity == "warning" and warning.params["node"] == "gw" and warning.path == "nodes[1]"


def test_reject_targets_must_be_upstream_user_nodes():
    flow = linear(apply_node(), {**OK_APPROVE, "reject": {"to": "l2"}},
                  {"id": "l2", "type": "approve", "assignee": {"user": "y"}, "reject": {"to": "start"}})
    found = problems(flow)
    assert nodes_of(found, "flow.reject.bad_target") == ["l1", "l2"]
    assert found["flow.reject.bad_target"][0].path == "nodes[2].reject.to"


def test_bad_durations_and_timeout_targets():
    flow = linear(apply_node(), {**OK_APPROVE, "deadline": {"after": "soon", "on_timeout": "jump", "target": "x"}})
    found = problems(flow)
    assert nodes_of(found, "flow.duration") == ["l1"]
    assert nodes_of(found, "flow.deadline.bad_target") == ["l1"]


def test_conditions_only_on_gateway_edges_and_one_start():
    flow = linear(apply_node(), OK_APPROVE)
    flow["edges"][1]["when"] = "x > 1"
    flow["nodes"].append({"id": "start2", "type": "start"})
    flow["edges"].append({"from": "start2", "to": "end"})
    found = problems(flow)
    assert found["flow.edge.condition_not_on_gateway"][0].path == "edges[1].when"
    assert nodes_of(found, "flow.start.many") == ["start2"]


def test_user_nodes_need_assignees_and_tasks_branch_only_through_gateways():
    flow = linear(apply_node(), {"id": "l1", "type": "approve"})
    flow["edges"].append({"from": "apply", "to": "end"})
    found = problems(flow)
    assert nodes_of(found, "flow.assignee.missing") == ["l1"]
    assert nodes_of(found, "flow.node.many_outgoing") == ["apply"]


def test_problems_carry_line_and_column_when_the_source_text_is_given():
    text = '{"key": "f", "nodes": [\n {"id": "start", "type": "start"},\n {"id": "x", "type": "approve"},\n' \
           ' {"id": "end", "type": "end"}],\n "edges": [{"from": "start", "to": "x"}, {"from": "x", "to": "end"}]}'
    (missing,) = validate_flow(parse_definition(text), text=text, file="f.json")
    assert (missing.file, missing.line, missing.path) == ("f.json", 3, "nodes[1].assignees")


def test_without_a_form_schema_conditions_are_still_parsed():
    flow = linear({"id": "gw", "type": "exclusive"})
    flow["edges"] = [{"from": "start", "to": "gw"}, {"from": "gw", "to": "end", "when": "level == == 1"},
                     {"from": "gw", "to": "end", "default": True}]
    (problem,) = problems(flow)["flow.edge.condition"]
    assert problem.path == "edges[1].when"

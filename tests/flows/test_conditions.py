"""Everything that evaluates the expression language: gateway conditions (type-checked against
the form schema), inclusive gateways, assignee expressions, automation formulas, waits until a
date, and deadlines in workdays on the business calendar (issue 3's engine.expr)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

pytest.importorskip("engine.expr.compiler", reason="needs the expression language (branch expr)")

from engine.expr.calendar import BusinessCalendar
from engine.expr.types import Schema
from engine.flows import parse_definition, validate_flow
from engine.flows.bpmn_import import import_bpmn
from tests.flows.helpers import Harness, apply_node, linear
from tests.flows.test_bpmn import PARALLEL

SCHEMA = Schema.of({"level": "text", "score": "number", "due": "datetime", "owner": "text", "dept": "number",
                    "title": "text", "doubled": "number"})


def routed(level: str, *, default: bool = True, schema=None) -> Harness:
    edges = [("start", "apply"), ("apply", "route"), ("l1", "end"), ("l2", "end")]
    flow = {"key": "route", "nodes": [
        {"id": "start", "type": "start"}, apply_node(), {"id": "route", "type": "exclusive"},
        {"id": "l1", "type": "approve", "mode": "countersign", "assignees": [{"user": "bob"}, {"user": "carol"}]},
        {"id": "l2", "type": "approve", "assignee": {"user": "dave"}}, {"id": "end", "type": "end"}],
        "edges": [{"from": a, "to": b} for a, b in edges] + [
            {"from": "route", "to": "l1", "when": 'level == "level1"'},
            {"from": "route", "to": "l2", **({"default": True} if default else {"when": 'level == "level2"'})}]}
    h = Harness(flow, {"level": level}, schema=schema)
    h.act("apply", "alice", "submit")
    return h


def test_exclusive_gateway_takes_the_first_true_condition():
    assert routed("level1").open() == ["l1"]


def test_exclusive_gateway_falls_back_to_the_default():
    assert routed("level3").open() == ["l2"]


def test_no_match_and_no_default_is_a_visible_error_an_admin_can_fix():
    h = routed("level3", default=False)
    inst = h.instance
    assert inst.status == "error" and inst.error["code"] == "flow.gateway.no_match"
    assert inst.error["node"] == "route"
    h.act("route", "admin", "jump", target="l2")
    assert h.open() == ["l2"] and h.status() == "running"


def test_conditions_are_type_checked_against_the_form_schema():
    flow = linear(apply_node(), {"id": "gw", "type": "exclusive"}, {"id": "l1", "type": "approve",
                                                                     "assignee": {"user": "bob"}})
    flow["edges"] = [{"from": "start", "to": "apply"}, {"from": "apply", "to": "gw"},
                     {"from": "gw", "to": "l1", "when": 'score + "x" > 3'},
                     {"from": "gw", "to": "end", "when": "colour == 1"},
                     {"from": "gw", "to": "end", "default": True}, {"from": "l1", "to": "end"}]
    found = [p for p in validate_flow(parse_definition(flow), SCHEMA) if p.code == "flow.edge.condition"]
    assert [p.path for p in found] == ["edges[2].when", "edges[3].when"]


def test_a_condition_that_is_not_boolean_is_refused():
    flow = linear({"id": "gw", "type": "exclusive"})
    flow["edges"] = [{"from": "start", "to": "gw"}, {"from": "gw", "to": "end", "when": "score + 1"},
                     {"from": "gw", "to": "end", "default": True}]
    assert [p.code for p in validate_flow(parse_definition(flow), SCHEMA)] == ["flow.edge.condition"]


def inclusive(score: int) -> Harness:
    flow = {"key": "inc", "nodes": [
        {"id": "start", "type": "start"}, apply_node(), {"id": "split", "type": "inclusive"},
        {"id": "fire", "type": "approve", "assignee": {"user": "bob"}},
        {"id": "gas", "type": "approve", "assignee": {"user": "carol"}},
        {"id": "join", "type": "inclusive"}, {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "apply"}, {"from": "apply", "to": "split"},
                  {"from": "split", "to": "fire", "when": "score >= 1"},
                  {"from": "split", "to": "gas", "when": "score >= 5"},
                  {"from": "fire", "to": "join"}, {"from": "gas", "to": "join"}, {"from": "join", "to": "end"}]}
    h = Harness(flow, {"score": score})
    h.act("apply", "alice", "submit")
    return h


def test_inclusive_gateway_opens_every_true_branch_and_joins_only_those():
    both = inclusive(7)
    assert both.open() == ["fire", "gas"]
    both.act("fire", "bob")
    assert both.status() == "running"
    both.act("gas", "carol")
    assert both.status() == "completed"
    one = inclusive(2)
    assert one.open() == ["fire"]
    one.act("fire", "bob")
    assert one.status() == "completed"


def test_assignee_expression():
    h = Harness(linear(apply_node(), {"id": "l1", "type": "approve",
                                      "assignee": {"expr": 'if(score > 5, "carol", "bob")'}}), {"score": 9})
    h.act("apply", "alice", "submit")
    assert h.holders("l1") == ["carol"]


def test_automation_sets_fields_from_formulas():
    h = Harness(linear(apply_node(), {"id": "calc", "type": "automation",
                                      "actions": [{"set": {"doubled": "=score * 2", "title": "checked"}}]}),
                {"score": 21})
    h.act("apply", "alice", "submit")
    assert h.instance.data == {"score": 21, "doubled": 42, "title": "checked"}


def test_wait_until_a_date_field():
    due = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    h = Harness(linear(apply_node(), {"id": "hold", "type": "wait", "until": "due"},
                       {"id": "l1", "type": "approve", "assignee": {"user": "bob"}}), {"due": due})
    h.act("apply", "alice", "submit")
    h.advance("22h")
    assert h.open() == []
    h.advance("2h")
    assert h.open() == ["l1"]


def test_a_deadline_in_workdays_skips_the_weekend_and_holidays():
    friday = datetime(2026, 1, 9, 10, 0, tzinfo=UTC)
    calendar = BusinessCalendar(tz=UTC, holidays=frozenset({date(2026, 1, 12)}))
    node = {"id": "l1", "type": "approve", "assignee": {"user": "dave"},
            "deadline": {"after": "2 workdays", "on_timeout": "auto_approve"}}
    h = Harness(linear(apply_node(), node), start=friday, calendar=calendar)
    h.act("apply", "alice", "submit")
    task = h.instance.open_tasks("l1")[0]
    # Friday + 2 workdays: Monday the 12th is a holiday → Wednesday the 14th, same time
    assert task.due_at == datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
    h.advance("4d")  # Tuesday 10:00: not yet
    assert h.open() == ["l1"]
    h.advance("1d")
    assert h.status() == "completed"


def test_the_imported_parallel_model_runs_its_feel_condition():
    d = import_bpmn(PARALLEL).definition
    h = Harness(d.to_dict(), {"level": "major", "score": 5})
    h.act("apply", "alice", "submit")
    h.act("fire", "carol")
    h.act("power", "henry")
    assert h.open() == ["plant"]


def test_only_conditions_that_read_the_clock_get_an_expression_context():
    from engine.flows.conditions import compile_condition, reads_context

    assert not reads_context(compile_condition('level == "level1"', SCHEMA))
    assert not reads_context(compile_condition("score > 5 and dept == 3", SCHEMA))
    assert reads_context(compile_condition("due < NOW()", SCHEMA))


def test_a_gateway_condition_on_the_clock_sees_the_time_of_each_step():
    flow = {"key": "late", "nodes": [
        {"id": "start", "type": "start"}, apply_node(), {"id": "route", "type": "exclusive"},
        {"id": "late", "type": "approve", "assignee": {"user": "bob"}},
        {"id": "ontime", "type": "approve", "assignee": {"user": "carol"}}, {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "apply"}, {"from": "apply", "to": "route"},
                  {"from": "route", "to": "late", "when": "due < NOW()"},
                  {"from": "route", "to": "ontime", "default": True},
                  {"from": "late", "to": "end"}, {"from": "ontime", "to": "end"}]}
    due = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    h = Harness(flow, {"due": due}, start=datetime(2026, 1, 5, 8, 0, tzinfo=UTC), schema=SCHEMA)
    h.act("apply", "alice", "submit")
    assert h.open() == ["ontime"]
    h.advance("5h")  # the same engine (and its cached context), the clock now past `due`
    second = h.engine.start("late", {"due": due}, h.uid("alice"))
    second = h.sim.apply(second, {"task": "apply", "action": "submit", "by": "alice"})
    assert second.open_nodes() == ["late"]

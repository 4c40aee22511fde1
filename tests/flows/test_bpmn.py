"""BPMN 2.0 import of models the tests write, export, and the round trip."""

from __future__ import annotations

import pytest

from engine.errors import InvalidInput
from engine.flows import validate_flow
from engine.flows.bpmn_export import export_bpmn
from engine.flows.bpmn_expr import completion_mode, translate_condition
from engine.flows.bpmn_import import import_bpmn
from tests.flows.helpers import Harness

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/'
        '20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/'
        'XMLSchema-instance" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">\n')


def model(body: str, pid: str = "permit") -> str:
    return f'{HEAD}<bpmn:process id="{pid}" isExecutable="true">\n{body}\n</bpmn:process>\n</bpmn:definitions>\n'


def flow(fid: str, source: str, target: str, condition: str | None = None) -> str:
    cond = (f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>'
            if condition else "")
    return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}">{cond}</bpmn:sequenceFlow>'


REJECT_LOOP = model("\n".join([
    '<bpmn:startEvent id="start"/>',
    '<bpmn:userTask id="apply" name="Apply" camunda:assignee="${initiator}"/>',
    '<bpmn:userTask id="review" name="Review" camunda:assignee="bob"/>',
    '<bpmn:exclusiveGateway id="ok" default="f_yes"/>',
    '<bpmn:endEvent id="end"/>',
    flow("f1", "start", "apply"), flow("f2", "apply", "review"), flow("f3", "review", "ok"),
    flow("f_no", "ok", "apply", "${approved == false}"), flow("f_yes", "ok", "end"),
]))

PARALLEL = model("\n".join([
    '<bpmn:startEvent id="start"/>',
    '<bpmn:userTask id="apply" camunda:assignee="${initiator}"/>',
    '<bpmn:parallelGateway id="split"/>',
    '<bpmn:userTask id="fire" camunda:assignee="carol"/>',
    '<bpmn:userTask id="power" camunda:candidateGroups="workshop_director"/>',
    '<bpmn:parallelGateway id="join"/>',
    '<bpmn:exclusiveGateway id="level" default="f_low"/>',
    '<bpmn:userTask id="plant" camunda:assignee="erin"/>',
    '<bpmn:endEvent id="end"><bpmn:terminateEventDefinition/></bpmn:endEvent>',
    flow("f1", "start", "apply"), flow("f2", "apply", "split"), flow("f3", "split", "fire"),
    flow("f4", "split", "power"), flow("f5", "fire", "join"), flow("f6", "power", "join"),
    flow("f7", "join", "level"), flow("f_high", "level", "plant", "= level = &quot;major&quot; and score &gt;= 3"),
    flow("f_low", "level", "end"), flow("f9", "plant", "end"),
]))

VOTE = model("\n".join([
    '<bpmn:startEvent id="start"/>',
    '<bpmn:userTask id="committee" name="Committee">',
    '  <bpmn:multiInstanceLoopCharacteristics camunda:collection="${members}" camunda:elementVariable="member">',
    '    <bpmn:completionCondition xsi:type="bpmn:tFormalExpression">'
    '${nrOfCompletedInstances/nrOfInstances &gt;= 0.6}</bpmn:completionCondition>',
    '  </bpmn:multiInstanceLoopCharacteristics>',
    '</bpmn:userTask>',
    '<bpmn:boundaryEvent id="late" attachedToRef="committee" cancelActivity="false">',
    '  <bpmn:timerEventDefinition><bpmn:timeCycle>R2/PT4H</bpmn:timeCycle></bpmn:timerEventDefinition>',
    '</bpmn:boundaryEvent>',
    '<bpmn:sendTask id="nag"/>', '<bpmn:endEvent id="nag_end"/>',
    '<bpmn:callActivity id="archive" calledElement="archive_flow"/>',
    '<bpmn:endEvent id="end"/>',
    flow("f1", "start", "committee"), flow("f2", "committee", "archive"), flow("f3", "archive", "end"),
    flow("f4", "late", "nag"), flow("f5", "nag", "nag_end"),
]))


def test_a_loop_back_through_a_rejection_becomes_the_tasks_reject_target():
    result = import_bpmn(REJECT_LOOP)
    d = result.definition
    assert [n.type for n in d.nodes] == ["start", "fill", "approve", "end"]
    assert d.node("review").reject.to == "apply"
    assert [(e.source, e.target) for e in d.edges] == [("start", "apply"), ("apply", "review"), ("review", "end")]
    assert any(p.code == "flow.bpmn.reject_loop" for p in result.notes)
    assert not [p for p in validate_flow(d) if p.severity == "error"]
    h = Harness(d.to_dict())
    h.act("apply", "alice", "submit")
    h.act("review", "bob", "reject")
    assert h.open() == ["apply"]
    h.act("apply", "alice", "submit")
    h.act("review", "bob")
    assert h.status() == "completed"


def test_parallel_join_feel_condition_and_terminate_end_are_imported():
    result = import_bpmn(PARALLEL)
    d = result.definition
    assert result.skipped == []
    assert d.node("split").type == "parallel" and d.node("join").type == "parallel"
    assert d.node("power").assignees[0].role == "workshop_director" and d.node("power").mode == "or_sign"
    high = next(e for e in d.edges if e.target == "plant")
    assert high.when == 'level == "major" and score >= 3'
    assert next(e for e in d.edges if e.source == "level" and e.target == "end").default
    assert d.node("end").terminate


def test_a_multi_instance_ratio_vote_with_a_collection_and_a_boundary_timer():
    result = import_bpmn(VOTE)
    d = result.definition
    committee = d.node("committee")
    assert (committee.mode, committee.pass_ratio) == ("vote", 0.6)
    assert committee.assignees[0].field == "members"
    assert committee.deadline.remind_every == "PT4H" and committee.deadline.remind_max == 2
    assert d.node("archive").type == "subflow" and d.node("archive").flow == "archive_flow"
    # the nag path of the non-interrupting timer became reminders, and is listed
    assert "f4" in result.skipped and "nag" in result.skipped
    h = Harness({**d.to_dict(), "nodes": [n for n in d.to_dict()["nodes"] if n["id"] not in ("nag", "nag_end")],
                 "edges": [e for e in d.to_dict()["edges"] if e["from"] != "archive" and e["to"] != "archive"]
                 + [{"from": "committee", "to": "end"}]},
                {"members": ["bob", "carol", "dave", "erin", "frank"]})
    for name in ("bob", "carol", "dave"):
        h.act("committee", name)
    assert h.status() == "completed"


def test_unsupported_elements_are_listed_never_dropped():
    xml = model("\n".join([
        '<bpmn:startEvent id="start"/>', '<bpmn:serviceTask id="erp" name="Post to ERP"/>',
        '<bpmn:endEvent id="end"/>', flow("f1", "start", "erp"), flow("f2", "erp", "end")]))
    result = import_bpmn(xml)
    assert result.skipped == ["erp"]
    assert result.definition.node("erp").name == "[serviceTask] Post to ERP"
    assert [(e.source, e.target) for e in result.definition.edges] == [("start", "erp"), ("erp", "end")]


def test_malformed_xml_is_a_located_error():
    with pytest.raises(InvalidInput) as err:
        import_bpmn("<definitions>\n<oops", file="x.bpmn")
    problem = err.value.problems[0]
    assert problem.code == "flow.bpmn.xml" and problem.file == "x.bpmn" and problem.line == 2


def test_export_then_import_gives_the_same_definition():
    original = import_bpmn(PARALLEL).definition
    xml = export_bpmn(original)
    assert b"bpmndi:BPMNShape" in xml and b"parallelGateway" in xml
    again = import_bpmn(xml).definition
    assert again.to_dict() == original.to_dict()


def test_the_exported_model_is_readable_by_spiffworkflow():
    from SpiffWorkflow.bpmn.parser import BpmnParser

    parser = BpmnParser()
    parser.add_bpmn_str(export_bpmn(import_bpmn(PARALLEL).definition))
    spec = parser.get_spec("permit")
    assert {"split", "join", "fire", "power"} <= set(spec.task_specs)


@pytest.mark.parametrize(("source", "ours"), [
    ("${level == 'major'}", 'level == "major"'),
    ("${a > 3 && !b || c eq 'x'}", 'a > 3 and not b or c == "x"'),
    ('= level = "major" and score >= 3', 'level == "major" and score >= 3'),
    ("= not(closed)", "not (closed)"),
    ("amount >= 100", "amount >= 100"),
])
def test_juel_feel_and_plain_conditions_translate(source, ours):
    assert translate_condition(source) == ours


def test_method_calls_are_not_translated():
    assert translate_condition("${execution.getVariable('x') == 1}") is None


@pytest.mark.parametrize(("condition", "mapped"), [
    (None, ("countersign", None)),
    ("${nrOfCompletedInstances >= 1}", ("or_sign", None)),
    ("${nrOfCompletedInstances/nrOfInstances >= 0.6}", ("vote", 0.6)),
    ("${nrOfCompletedInstances == nrOfInstances}", ("countersign", None)),
    ("= numberOfCompletedInstances / numberOfInstances >= 1", ("countersign", None)),
    ("${pass == 'no'}", None),
])
def test_completion_condition_patterns(condition, mapped):
    assert completion_mode(condition) == mapped

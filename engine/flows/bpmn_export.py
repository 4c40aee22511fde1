"""BPMN 2.0 out: a flow as BPMN XML with diagram layout, readable in bpmn.io / Camunda Modeler.

Each element also carries its full SafeFlow node JSON in `extensionElements/safeflow:node`, so
an export followed by an import gives the same definition back (what BPMN cannot say — reject
targets, deadlines' on-timeout actions, field permissions — travels there). Approve nodes with
several people are drawn as multi-instance tasks with the matching completion condition.
"""

from __future__ import annotations

import json
from typing import Any

from lxml import etree

from engine.flows.bpmn_import import BPMN, SAFEFLOW, q
from engine.flows.layout import layout
from engine.flows.model import FlowDefinition
from engine.i18n import localized

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI, "camunda": CAMUNDA, "safeflow": SAFEFLOW, "xsi": XSI}

ELEMENT = {"start": "startEvent", "end": "endEvent", "fill": "userTask", "approve": "userTask", "cc": "sendTask",
           "automation": "scriptTask", "wait": "intermediateCatchEvent", "subflow": "callActivity",
           "exclusive": "exclusiveGateway", "parallel": "parallelGateway", "inclusive": "inclusiveGateway"}
COMPLETION = {"or_sign": "${nrOfCompletedInstances >= 1}", "single": "${nrOfCompletedInstances >= 1}"}


def _assignee_attrs(el: Any, node: Any) -> None:
    users = [str(a.user) for a in node.assignees if hasattr(a, "user")]
    roles = [a.role for a in node.assignees if hasattr(a, "role")]
    if any(getattr(a, "initiator", False) for a in node.assignees):
        el.set(f"{{{CAMUNDA}}}assignee", "${initiator}")
    elif len(users) == 1 and not roles:
        el.set(f"{{{CAMUNDA}}}assignee", users[0])
    elif users:
        el.set(f"{{{CAMUNDA}}}candidateUsers", ",".join(users))
    if roles:
        el.set(f"{{{CAMUNDA}}}candidateGroups", ",".join(roles))


def _multi_instance(el: Any, node: Any) -> None:
    """countersign / vote / sequential are multi-instance; single and or-sign are one claimable task."""
    mode = node.mode
    if mode in ("single", "or_sign"):
        return
    mi = etree.SubElement(el, q("multiInstanceLoopCharacteristics"))
    mi.set(f"{{{CAMUNDA}}}collection", f"${{{node.id}_assignees}}")
    mi.set(f"{{{CAMUNDA}}}elementVariable", "assignee")
    if mode == "sequential":
        mi.set("isSequential", "true")
    etree.SubElement(mi, q("loopCardinality")).text = str(max(1, len(node.assignees)))
    condition = COMPLETION.get(mode)
    if mode == "vote":
        condition = f"${{nrOfCompletedInstances / nrOfInstances >= {node.pass_ratio or 0.5}}}"
    if condition:
        cc = etree.SubElement(mi, q("completionCondition"))
        cc.set(f"{{{XSI}}}type", "bpmn:tFormalExpression")
        cc.text = condition


def export_bpmn(definition: FlowDefinition) -> bytes:
    root = etree.Element(q("definitions"), nsmap=NSMAP)
    root.set("id", f"Definitions_{definition.key}")
    root.set("targetNamespace", "https://safeflow.dev/flows")
    root.set("exporter", "SafeFlow")
    process = etree.SubElement(root, q("process"), id=definition.key, isExecutable="true")
    if definition.title:
        process.set("name", localized(definition.title))
    edges = list(enumerate(definition.edges))
    for node in definition.nodes:
        el = etree.SubElement(process, q(ELEMENT.get(node.type, "task")), id=node.id)
        if node.name:
            el.set("name", localized(node.name))
        ext = etree.SubElement(el, q("extensionElements"))
        etree.SubElement(ext, f"{{{SAFEFLOW}}}node").text = json.dumps(
            {k: v for k, v in definition.to_dict()["nodes"][definition.nodes.index(node)].items() if k != "id"},
            ensure_ascii=False)
        for index, edge in edges:
            if edge.target == node.id:
                etree.SubElement(el, q("incoming")).text = f"Flow_{index}"
        for index, edge in edges:
            if edge.source == node.id:
                etree.SubElement(el, q("outgoing")).text = f"Flow_{index}"
                if edge.default:
                    el.set("default", f"Flow_{index}")
        if node.type == "fill":
            el.set(f"{{{SAFEFLOW}}}type", "fill")
        if node.type in ("fill", "approve"):
            _assignee_attrs(el, node)
        if node.type == "approve":
            _multi_instance(el, node)
        if node.type == "end" and node.terminate:
            etree.SubElement(el, q("terminateEventDefinition"))
        if node.type == "wait":
            timer = etree.SubElement(el, q("timerEventDefinition"))
            etree.SubElement(timer, q("timeDuration")).text = node.duration or node.until
        if node.type == "subflow":
            el.set("calledElement", node.flow)
        if node.type == "automation":
            el.set("scriptFormat", "safeflow")
            etree.SubElement(el, q("script")).text = json.dumps(
                [a.model_dump(exclude_none=True) for a in node.actions], ensure_ascii=False)
    for index, edge in edges:
        flow = etree.SubElement(process, q("sequenceFlow"), id=f"Flow_{index}", sourceRef=edge.source,
                                targetRef=edge.target)
        if edge.name:
            flow.set("name", localized(edge.name))
        if edge.when:
            cond = etree.SubElement(flow, q("conditionExpression"))
            cond.set(f"{{{XSI}}}type", "bpmn:tFormalExpression")
            cond.text = edge.when
    _diagram(root, definition)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _diagram(root: Any, definition: FlowDefinition) -> None:
    boxes = layout(definition)
    diagram = etree.SubElement(root, f"{{{BPMNDI}}}BPMNDiagram", id=f"Diagram_{definition.key}")
    plane = etree.SubElement(diagram, f"{{{BPMNDI}}}BPMNPlane", id=f"Plane_{definition.key}",
                             bpmnElement=definition.key)
    for node in definition.nodes:
        box = boxes[node.id]
        shape = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", id=f"{node.id}_di", bpmnElement=node.id)
        etree.SubElement(shape, f"{{{DC}}}Bounds", x=f"{box.x:g}", y=f"{box.y:g}", width=f"{box.width:g}",
                         height=f"{box.height:g}")
    for index, edge in enumerate(definition.edges):
        if edge.source not in boxes or edge.target not in boxes:
            continue
        a, b = boxes[edge.source], boxes[edge.target]
        shape = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNEdge", id=f"Flow_{index}_di", bpmnElement=f"Flow_{index}")
        etree.SubElement(shape, f"{{{DI}}}waypoint", x=f"{a.x + a.width:g}", y=f"{a.center[1]:g}")
        etree.SubElement(shape, f"{{{DI}}}waypoint", x=f"{b.x:g}", y=f"{b.center[1]:g}")

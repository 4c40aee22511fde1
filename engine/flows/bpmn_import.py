"""BPMN 2.0 in: models drawn in Camunda Modeler, bpmn.io or Flowable become SafeFlow flows.

What maps (see docs/flows.md for the table): user/manual tasks, script tasks that only set
variables, exclusive/parallel/inclusive gateways with JUEL/FEEL/plain conditions and default
flows, multi-instance user tasks (cardinality or collection; completion conditions on
`nrOfCompletedInstances / nrOfInstances` → countersign / or-sign / vote), boundary timers →
deadlines, call activities → sub-flows, timer catch events → waits, terminate end events, and
the "approve, else loop back" gateway pattern → the task's reject target. Anything else is kept
as a placeholder node and listed with its element id — never silently dropped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine.errors import InvalidInput, Problem
from engine.flows.bpmn_expr import completion_mode, dialect_of, translate_condition
from engine.flows.definition import parse_definition
from engine.flows.model import FlowDefinition

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SAFEFLOW = "https://safeflow.dev/schema/bpmn"
VENDORS = ("http://camunda.org/schema/1.0/bpmn", "http://flowable.org/bpmn", "http://activiti.org/bpmn")
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
IGNORED = {"documentation", "extensionElements", "textAnnotation", "association", "laneSet", "dataObject",
           "dataObjectReference", "dataStoreReference", "ioSpecification", "property", "incoming", "outgoing",
           "group", "category"}


def q(tag: str, ns: str = BPMN) -> str:
    return f"{{{ns}}}{tag}"


@dataclass
class ImportResult:
    definition: FlowDefinition
    notes: list[Problem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _id(raw: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_\-]", "_", raw)
    return cleaned if re.match(r"^[A-Za-z_]", cleaned) else f"n_{cleaned}"


def _vendor(el: Any, name: str) -> str | None:
    for ns in VENDORS:
        value = el.get(f"{{{ns}}}{name}")
        if value:
            return value
    return None


def _text(el: Any) -> str:
    return (el.text or "").strip() if el is not None else ""


class _Importer:
    def __init__(self, root: Any, file: str | None) -> None:
        self.root = root
        self.file = file
        self.notes: list[Problem] = []
        self.skipped: list[str] = []
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: list[dict[str, Any]] = []
        self.flow_ids: dict[str, dict[str, Any]] = {}

    def note(self, code: str, element: Any, skipped: bool = False, **params: Any) -> None:
        element_id = element.get("id", "?") if element is not None else "?"
        if skipped:
            self.skipped.append(element_id)
        line = element.sourceline if element is not None else None
        self.notes.append(Problem(code, {"element": element_id, **params}, file=self.file, line=line,
                                  path=element_id, severity="warning"))

    # -- assignees ----------------------------------------------------------------------------

    def _assignee(self, value: str, element_var: str | None, collection: str | None) -> list[dict[str, Any]]:
        dialect, body = dialect_of(value)
        if dialect == "plain":
            return [{"user": body}]
        name = body.strip()
        if name in ("initiator", "starter", "startUser", "applyUserId"):
            return [{"initiator": True}]
        if element_var and name == element_var and collection:
            return [{"field": collection}]
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            return [{"field": name}]
        return [{"expr": translate_condition(value) or name}]

    def _user_task(self, el: Any, node: dict[str, Any]) -> None:
        assignees: list[dict[str, Any]] = []
        mi = el.find(q("multiInstanceLoopCharacteristics"))
        collection = element_var = None
        if mi is not None:
            collection = _vendor(mi, "collection")
            element_var = _vendor(mi, "elementVariable")
            zeebe = mi.find(f".//{{{ZEEBE}}}loopCharacteristics")
            if zeebe is not None:
                collection = zeebe.get("inputCollection")
                element_var = zeebe.get("inputElement")
            if collection:
                _d, collection = dialect_of(collection)
        assignee = _vendor(el, "assignee")
        zeebe_assign = el.find(f".//{{{ZEEBE}}}assignmentDefinition")
        if zeebe_assign is not None:
            assignee = assignee or zeebe_assign.get("assignee")
        if assignee:
            assignees += self._assignee(assignee, element_var, collection)
        for user in (_vendor(el, "candidateUsers") or "").split(","):
            if user.strip():
                assignees += self._assignee(user.strip(), element_var, collection)
        groups = _vendor(el, "candidateGroups") or (zeebe_assign.get("candidateGroups") if zeebe_assign is not None
                                                     else None)
        for group in (groups or "").split(","):
            if group.strip():
                assignees.append({"role": dialect_of(group.strip())[1]})
        if not assignees and collection:
            assignees.append({"field": collection})
        if assignees:
            node["assignees"] = assignees
        if mi is not None:
            condition = _text(mi.find(q("completionCondition"))) or None
            sequential = mi.get("isSequential") == "true"
            mapped = completion_mode(condition)
            if mapped is None:
                self.note("flow.bpmn.completion_condition", el, condition=condition)
                mapped = ("countersign", None)
            mode, ratio = mapped
            if sequential and mode == "countersign":
                mode = "sequential"
            node["mode"] = mode
            if ratio is not None:
                node["pass_ratio"] = ratio
            cardinality = _text(mi.find(q("loopCardinality")))
            if cardinality and not collection:
                self.note("flow.bpmn.cardinality", el, cardinality=cardinality)
        elif len(assignees) > 1 or any("role" in a for a in assignees):
            node["mode"] = "or_sign"  # candidates: whoever claims it first decides

    # -- elements -----------------------------------------------------------------------------

    def element(self, el: Any) -> None:
        tag = etree.QName(el).localname
        raw_id = el.get("id")
        if tag in IGNORED or raw_id is None:
            if tag not in IGNORED:
                self.note("flow.bpmn.unsupported", el, skipped=True, tag=tag)
            return
        if tag == "sequenceFlow":
            self.flow_ids[raw_id] = {"id": raw_id, "from": el.get("sourceRef"), "to": el.get("targetRef"),
                                     "el": el}
            return
        nid = _id(raw_id)
        node: dict[str, Any] = {"id": nid}
        if el.get("name"):
            node["name"] = el.get("name")
        embedded = el.find(f"{{{BPMN}}}extensionElements/{{{SAFEFLOW}}}node")
        if embedded is not None and embedded.text:
            node = {**json.loads(embedded.text), "id": nid}
        elif tag == "startEvent":
            node["type"] = "start"
            for definition in el:
                if etree.QName(definition).localname.endswith("EventDefinition"):
                    self.note("flow.bpmn.start_trigger", el, trigger=etree.QName(definition).localname)
        elif tag == "endEvent":
            node["type"] = "end"
            if el.find(q("terminateEventDefinition")) is not None:
                node["terminate"] = True
            elif any(etree.QName(c).localname.endswith("EventDefinition") for c in el):
                self.note("flow.bpmn.end_trigger", el)
        elif tag in ("userTask", "manualTask", "task"):
            node["type"] = "fill" if tag == "manualTask" or el.get(q("type", SAFEFLOW)) == "fill" else "approve"
            self._user_task(el, node)
            if node.get("assignees") == [{"initiator": True}] and "mode" not in node:
                node["type"] = "fill"  # the initiator's own task: the application
        elif tag == "scriptTask":
            actions = self._script(el)
            if actions is None:
                self._placeholder(el, node, tag)
            else:
                node.update(type="automation", actions=actions)
        elif tag in ("exclusiveGateway", "parallelGateway", "inclusiveGateway"):
            node["type"] = tag.removesuffix("Gateway")
        elif tag == "callActivity":
            called = el.get("calledElement") or ""
            zeebe = el.find(f".//{{{ZEEBE}}}calledElement")
            if zeebe is not None:
                called = zeebe.get("processId") or called
            node.update(type="subflow", flow=_id(dialect_of(called)[1]).lower())
        elif tag == "intermediateCatchEvent" and el.find(q("timerEventDefinition")) is not None:
            duration = _text(el.find(f"{q('timerEventDefinition')}/{q('timeDuration')}"))
            if duration:
                node.update(type="wait", duration=dialect_of(duration)[1].strip("\"'"))
            else:
                self._placeholder(el, node, tag)
        elif tag == "boundaryEvent":
            self.boundaries.append(el)
            return
        else:
            self._placeholder(el, node, tag)
        if el.get("default"):
            node["_default"] = el.get("default")
        self.nodes[raw_id] = node

    def _placeholder(self, el: Any, node: dict[str, Any], tag: str) -> None:
        """Keep the graph whole: a fill node with no assignee, which validation then flags."""
        node["type"] = "fill"
        node["name"] = f"[{tag}] {el.get('name') or el.get('id')}"
        self.note("flow.bpmn.unsupported", el, skipped=True, tag=tag)

    def _script(self, el: Any) -> list[dict[str, Any]] | None:
        script = _text(el.find(q("script")))
        updates: dict[str, Any] = {}
        for line in re.split(r"[;\n]", script):
            line = line.strip()
            if not line:
                continue
            match = re.fullmatch(r"(?:execution\.setVariable\(\s*['\"](\w+)['\"]\s*,\s*(.+)\)|(\w+)\s*=\s*(.+))",
                                 line)
            if not match:
                return None
            name = match.group(1) or match.group(3)
            value = (match.group(2) or match.group(4)).strip()
            translated = translate_condition(value)
            if translated is None:
                return None
            updates[name] = "=" + translated
        return [{"set": updates}] if updates else None

    # -- assembly -----------------------------------------------------------------------------

    def run(self, key: str | None, form: str | None) -> dict[str, Any]:
        processes = self.root.findall(q("process"))
        if not processes:
            raise InvalidInput("flow.bpmn.no_process",
                               problems=[Problem("flow.bpmn.no_process", file=self.file)])
        process = next((p for p in processes if p.get("isExecutable") == "true"), processes[0])
        for extra in processes[1:]:
            if extra is not process:
                self.note("flow.bpmn.extra_process", extra, skipped=True)
        self.boundaries: list[Any] = []
        for el in process:
            if isinstance(el.tag, str):
                self.element(el)
        for boundary in self.boundaries:
            self._boundary(boundary)
        for flow in self.flow_ids.values():
            self._edge(flow)
        self._fold_reject_loops()
        nodes = []
        for node in self.nodes.values():
            node.pop("_default", None)
            nodes.append(node)
        out: dict[str, Any] = {
            "key": key or _id(process.get("id", "imported")).lower(),
            "title": process.get("name") or process.get("id"),
            "nodes": nodes,
            "edges": self.edges,
        }
        if form:
            out["form"] = form
        return out

    def _edge(self, flow: dict[str, Any]) -> None:
        el = flow["el"]
        source, target = flow["from"], flow["to"]
        if source not in self.nodes or target not in self.nodes:
            if source in self.nodes or target in self.nodes:
                self.note("flow.bpmn.dangling_flow", el, skipped=True)
            return
        edge: dict[str, Any] = {"from": self.nodes[source]["id"], "to": self.nodes[target]["id"]}
        if el.get("name"):
            edge["name"] = el.get("name")
        if self.nodes[source].get("_default") == flow["id"]:
            edge["default"] = True
        condition = _text(el.find(q("conditionExpression")))
        if condition:
            translated = translate_condition(condition)
            if translated is None:
                self.note("flow.bpmn.condition", el, condition=condition)
                translated = dialect_of(condition)[1]
            edge["when"] = translated
        edge["_bpmn"] = flow["id"]
        self.edges.append(edge)

    def _boundary(self, el: Any) -> None:
        host = self.nodes.get(el.get("attachedToRef") or "")
        timer = el.find(q("timerEventDefinition"))
        if host is None or timer is None or host.get("type") not in ("fill", "approve"):
            self.note("flow.bpmn.boundary", el, skipped=True)
            return
        interrupting = el.get("cancelActivity", "true") != "false"
        duration = _text(timer.find(q("timeDuration")))
        cycle = _text(timer.find(q("timeCycle")))
        outgoing = [f for f in self.flow_ids.values() if f["from"] == el.get("id")]
        if cycle and not interrupting:
            match = re.fullmatch(r"R(\d*)/(P.+)", dialect_of(cycle)[1].strip("\"'"))
            if not match:
                self.note("flow.bpmn.timer", el, skipped=True, timer=cycle)
                return
            deadline = host.setdefault("deadline", {"after": match.group(2), "on_timeout": "remind"})
            deadline["remind_every"] = match.group(2)
            deadline["remind_max"] = int(match.group(1) or 3)
        elif duration:
            after = dialect_of(duration)[1].strip("\"'")
            deadline = {"after": after, "on_timeout": "remind"}
            if interrupting and outgoing and outgoing[0]["to"] in self.nodes:
                deadline.update(on_timeout="jump", target=self.nodes[outgoing[0]["to"]]["id"])
            host["deadline"] = {**host.get("deadline", {}), **deadline}
        else:
            self.note("flow.bpmn.timer", el, skipped=True, timer="timeDate")
            return
        for flow in outgoing:
            if not interrupting:
                self.note("flow.bpmn.boundary_path", flow["el"], skipped=True)
            self.flow_ids.pop(flow["id"], None)

    def _fold_reject_loops(self) -> None:
        """task → exclusive gateway → (back to an upstream user task | forward): the back edge is
        the task's rejection, the forward edge its normal way on."""
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_edges_from((e["from"], e["to"]) for e in self.edges)
        by_id = {n["id"]: n for n in self.nodes.values()}
        for gateway in [n for n in by_id.values() if n.get("type") == "exclusive"]:
            gid = gateway["id"]
            incoming = [e for e in self.edges if e["to"] == gid]
            outgoing = [e for e in self.edges if e["from"] == gid]
            if len(incoming) != 1 or len(outgoing) != 2:
                continue
            task = by_id.get(incoming[0]["from"])
            if task is None or task.get("type") != "approve":
                continue
            back = [e for e in outgoing if by_id.get(e["to"], {}).get("type") in ("fill", "approve")
                    and task["id"] in nx.descendants(graph, e["to"])]
            if len(back) != 1:
                continue
            forward = next(e for e in outgoing if e is not back[0])
            task["reject"] = {"to": back[0]["to"]}
            target = by_id[back[0]["to"]]
            if target.get("type") == "approve" and not target.get("mode"):
                target["type"] = "fill"
            self.edges = [e for e in self.edges if e not in (incoming[0], *outgoing)]
            self.edges.append({"from": task["id"], "to": forward["to"]})
            del self.nodes[next(k for k, v in self.nodes.items() if v is gateway)]
            graph.remove_node(gid)
            graph.add_edge(task["id"], forward["to"])
            element = self.root.find(f".//*[@id='{gid}']")
            self.note("flow.bpmn.reject_loop", element, task=task["id"], target=back[0]["to"],
                      condition=back[0].get("when") or "-")
        for edge in self.edges:
            edge.pop("_bpmn", None)


def import_bpmn(source: bytes | str, *, key: str | None = None, form: str | None = None,
                file: str | None = None) -> ImportResult:
    """Parse BPMN XML into a flow definition plus notes for everything not mapped one to one."""
    data = source.encode() if isinstance(source, str) else source
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        raise InvalidInput("flow.bpmn.xml", problems=[
            Problem("flow.bpmn.xml", {"error": exc.msg}, file=file, line=line, column=column)]) from None
    importer = _Importer(root, file)
    raw = importer.run(key, form)
    definition = parse_definition(raw, file=file)
    return ImportResult(definition, importer.notes, importer.skipped)

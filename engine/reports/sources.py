"""Sources: the tables a dataset can read, each seen as named, typed columns.

A form's records expose their system columns and every field SQL can compare, through the form
engine's `column_for` (the same typed JSON extraction its expression indexes are built on). Flow
tasks and instances, rule firings, sensor readings and the audit log are real tables. Each
source also says which columns carry the owner and the department, so the viewer's row scope is
a WHERE clause of the same query, and which date the dashboard's date filter applies to.

Reports do not import the flow or rule engines: flow node names come from the stored flow
definition's JSON, read through the definitions repository.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import false, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql import FromClause
from sqlalchemy.sql.elements import ColumnElement

from engine.errors import InvalidInput, NotFound, Problem
from engine.forms.catalog import FormCatalog
from engine.forms.fieldtypes import FieldBase
from engine.forms.model import FormDefinition
from engine.reports.dataset import SourceSpec
from engine.store.definitions import DefinitionRepository
from engine.store.models import AuditEntry, Record, RuleFiring, SensorReading, StoredInstance, StoredTask, User
from engine.store.records import column_for

Label = Mapping[str, str]


@dataclass(frozen=True)
class SourceColumn:
    """One column as datasets see it. `native`: a real column (timestamps typed by the
    database) rather than text extracted from a JSON document."""

    key: str
    sql: ColumnElement[Any]
    kind: str  # text | number | integer | boolean | date | datetime
    label: Label | None = None
    native: bool = True
    options: Mapping[str, Label] | None = None  # value -> label (choices, yes/no)
    ref: str | None = None  # "department" | "user": ids whose names are shown
    colors: Mapping[str, str] | None = None  # value -> "#rrggbb" (an option's colour)


@dataclass
class SourceView:
    """A source resolved for one query."""

    spec: SourceSpec
    table: FromClause
    where: list[ColumnElement[bool]]
    columns: dict[str, SourceColumn]
    date_field: str
    owner: ColumnElement[Any] | None = None
    department: ColumnElement[Any] | None = None
    # Hidden fields of the viewer's grant (records): using one in a dataset is refused.
    hidden: frozenset[str] = frozenset()
    title: Label = field(default_factory=dict)
    # A pre-aggregated source (a rollup): each row stands for `weight` records, and a numeric
    # field is summed as (sum, count of values) columns instead of being a column.
    weight: ColumnElement[Any] | None = None
    sums: dict[str, tuple[ColumnElement[Any], ColumnElement[Any], str]] = field(default_factory=dict)

    def column(self, key: str, path: str) -> SourceColumn:
        found = self.columns.get(key)
        if found is None:
            raise InvalidInput("reports.invalid", problems=[unknown_field(key, self, path)])
        return found


def unknown_field(key: str, view: SourceView, path: str) -> Problem:
    known = ", ".join(sorted(view.columns)[:40])
    return Problem("reports.unknown_field", {"field": key, "source": view.spec.kind, "known": known}, path=path)


def _l(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


_SYSTEM_LABELS = {
    "id": _l("编号", "ID"), "created_at": _l("创建时间", "Created"), "updated_at": _l("更新时间", "Updated"),
    "owner_id": _l("填报人", "Owner"), "department_id": _l("部门", "Department"), "status": _l("状态", "Status"),
    "form_version": _l("表单版本", "Form version"),
}  # fmt: skip
_SYSTEM_KINDS = {"id": "integer", "created_at": "datetime", "updated_at": "datetime", "owner_id": "integer",
                 "department_id": "integer", "status": "text", "form_version": "integer"}
_SYSTEM_REFS = {"owner_id": "user", "department_id": "department"}
_KINDS = {"date": "date", "datetime": "datetime", "boolean": "boolean", "integer": "integer", "number": "number"}


def _field_column(item: FieldBase, sql: ColumnElement[Any], sql_kind: str) -> SourceColumn:
    value_type = item.expr_type_spec() if isinstance(item.expr_type_spec(), str) else None
    kind = _KINDS.get(value_type or "", sql_kind if sql_kind != "text" else "text")
    options: dict[str, Label] | None = None
    colors: dict[str, str] | None = None
    choices = getattr(item, "options", None)
    if choices and all(hasattr(o, "value") and hasattr(o, "color") for o in choices):
        options = {o.value: dict(o.label or {"zh": o.value, "en": o.value}) for o in choices}
        colors = {o.value: o.color for o in choices if o.color} or None
    elif item.type == "boolean":
        options = {"true": _l(item.display(True, "zh-CN"), item.display(True, "en")),
                   "false": _l(item.display(False, "zh-CN"), item.display(False, "en"))}
    ref = {"department": "department", "user": "user"}.get(item.type)
    return SourceColumn(item.key, sql, kind, dict(item.label) if item.label else None, native=False,
                        options=options, ref=ref, colors=colors)


def _records(session: Session | None, spec: SourceSpec) -> SourceView:
    assert session is not None
    try:
        compiled = FormCatalog(session).current(spec.form or "")
    except NotFound:
        raise InvalidInput("reports.invalid", problems=[
            Problem("reports.unknown_form", {"form": spec.form}, path="source.form")]) from None
    return records_view(spec, compiled.definition)


def records_view(spec: SourceSpec, definition: FormDefinition) -> SourceView:
    """A form's records as a source, from its definition alone (checks need no database)."""
    columns_of = column_for(definition)
    columns: dict[str, SourceColumn] = {}
    for key, kind in _SYSTEM_KINDS.items():
        columns[key] = SourceColumn(key, columns_of(key), kind, _SYSTEM_LABELS[key], ref=_SYSTEM_REFS.get(key))
    for key, sql_kind in definition.sql_kinds().items():
        item = definition.field(key)
        if sql_kind is None or item is None or key in columns:
            continue
        columns[key] = _field_column(item, columns_of(key), sql_kind)
    table = Record.__table__
    return SourceView(spec, table, [table.c.form == spec.form, table.c.deleted_at.is_(None)], columns, "created_at",
                      owner=table.c.owner_id, department=table.c.department_id, title=dict(definition.title))


def _node_names(session: Session | None, flow: str | None) -> dict[str, Label] | None:
    if flow is None or session is None:
        return None
    row = DefinitionRepository(session).current("flow", flow)
    if row is None:
        raise InvalidInput("reports.invalid", problems=[
            Problem("reports.unknown_flow", {"flow": flow}, path="source.flow")])
    names: dict[str, Label] = {}
    for node in (row.body or {}).get("nodes", []):
        if isinstance(node, Mapping) and "id" in node:
            name = node.get("name")
            names[str(node["id"])] = dict(name) if isinstance(name, Mapping) else _l(str(node["id"]), str(node["id"]))
    return names


def _flow_tasks(session: Session | None, spec: SourceSpec) -> SourceView:
    t = StoredTask.__table__
    u = User.__table__.alias("assignee")
    table = t.outerjoin(u, u.c.id == t.c.assignee_id)
    c = {
        "id": SourceColumn("id", t.c.id, "text", _l("任务", "Task")),
        "instance_id": SourceColumn("instance_id", t.c.instance_id, "integer", _l("流程实例", "Flow instance")),
        "flow": SourceColumn("flow", t.c.flow_key, "text", _l("流程", "Flow")),
        "record_id": SourceColumn("record_id", t.c.record_id, "integer", _l("记录", "Record")),
        "node": SourceColumn("node", t.c.node, "text", _l("节点", "Node"), options=_node_names(session, spec.flow)),
        "kind": SourceColumn("kind", t.c.kind, "text", _l("任务类型", "Task kind")),
        "status": SourceColumn("status", t.c.status, "text", _l("状态", "Status")),
        "decision": SourceColumn("decision", t.c.decision, "text", _l("处理结果", "Decision")),
        "assignee_id": SourceColumn("assignee_id", t.c.assignee_id, "integer", _l("处理人", "Assignee"), ref="user"),
        "actor_id": SourceColumn("actor_id", t.c.actor_id, "integer", _l("实际处理人", "Actor"), ref="user"),
        "assignee_department_id": SourceColumn("assignee_department_id", u.c.department_id, "integer",
                                               _l("处理人部门", "Assignee's department"), ref="department"),
        "created_at": SourceColumn("created_at", t.c.created_at, "datetime", _l("到达时间", "Arrived")),
        "completed_at": SourceColumn("completed_at", t.c.completed_at, "datetime", _l("完成时间", "Completed")),
        "due_at": SourceColumn("due_at", t.c.due_at, "datetime", _l("期限", "Due")),
    }
    where = [t.c.flow_key == spec.flow] if spec.flow else []
    return SourceView(spec, table, where, c, "created_at", owner=t.c.assignee_id, department=u.c.department_id,
                      title=_l("流程任务", "Flow tasks"))


def _flow_instances(session: Session | None, spec: SourceSpec) -> SourceView:
    i = StoredInstance.__table__
    u = User.__table__.alias("initiator")
    table = i.outerjoin(u, u.c.id == i.c.initiator_id)
    c = {
        "id": SourceColumn("id", i.c.id, "integer", _l("实例", "Instance")),
        "flow": SourceColumn("flow", i.c.flow_key, "text", _l("流程", "Flow")),
        "flow_version": SourceColumn("flow_version", i.c.flow_version, "integer", _l("流程版本", "Flow version")),
        "status": SourceColumn("status", i.c.status, "text", _l("状态", "Status")),
        "form": SourceColumn("form", i.c.form, "text", _l("表单", "Form")),
        "record_id": SourceColumn("record_id", i.c.record_id, "integer", _l("记录", "Record")),
        "initiator_id": SourceColumn("initiator_id", i.c.initiator_id, "integer", _l("发起人", "Initiator"),
                                     ref="user"),
        "initiator_department_id": SourceColumn("initiator_department_id", u.c.department_id, "integer",
                                                _l("发起部门", "Initiator's department"), ref="department"),
        "started_at": SourceColumn("started_at", i.c.started_at, "datetime", _l("发起时间", "Started")),
        "ended_at": SourceColumn("ended_at", i.c.ended_at, "datetime", _l("结束时间", "Ended")),
    }
    where = [i.c.flow_key == spec.flow] if spec.flow else []
    return SourceView(spec, table, where, c, "started_at", owner=i.c.initiator_id, department=u.c.department_id,
                      title=_l("流程实例", "Flow instances"))


def _rule_firings(session: Session | None, spec: SourceSpec) -> SourceView:
    r = RuleFiring.__table__
    c = {
        "id": SourceColumn("id", r.c.id, "integer", _l("编号", "ID")),
        "rule": SourceColumn("rule", r.c.rule, "text", _l("规则", "Rule")),
        "ruleset": SourceColumn("ruleset", r.c.ruleset, "text", _l("规则集", "Rule set")),
        "version": SourceColumn("version", r.c.version, "integer", _l("版本", "Version")),
        "trigger": SourceColumn("trigger", r.c.trigger, "text", _l("触发", "Trigger")),
        "subject": SourceColumn("subject", r.c.subject, "text", _l("对象", "Subject")),
        "record_id": SourceColumn("record_id", r.c.record_id, "integer", _l("记录", "Record")),
        "outcome": SourceColumn("outcome", r.c.outcome, "text", _l("结果", "Outcome")),
        "fired": SourceColumn("fired", r.c.fired, "boolean", _l("已触发", "Fired")),
        "at": SourceColumn("at", r.c.at, "datetime", _l("时间", "At")),
    }
    where = [r.c.rule == spec.rule] if spec.rule else []
    return SourceView(spec, r, where, c, "at", title=_l("规则触发", "Rule firings"))


def _sensor_readings(session: Session | None, spec: SourceSpec) -> SourceView:
    s = SensorReading.__table__
    c = {
        "metric": SourceColumn("metric", s.c.metric, "text", _l("指标", "Metric")),
        "source": SourceColumn("source", s.c.source, "text", _l("测点", "Source")),
        "value": SourceColumn("value", s.c.value, "number", _l("读数", "Value")),
        "at": SourceColumn("at", s.c.at, "datetime", _l("时间", "At")),
        "received_at": SourceColumn("received_at", s.c.received_at, "datetime", _l("接收时间", "Received")),
    }
    where = [s.c.metric == spec.metric] if spec.metric else []
    return SourceView(spec, s, where, c, "at", title=_l("传感器读数", "Sensor readings"))


def _audit_log(session: Session | None, spec: SourceSpec) -> SourceView:
    a = AuditEntry.__table__
    c = {
        "id": SourceColumn("id", a.c.id, "integer", _l("编号", "ID")),
        "at": SourceColumn("at", a.c.at, "datetime", _l("时间", "At")),
        "actor_id": SourceColumn("actor_id", a.c.actor_id, "integer", _l("操作人", "Actor"), ref="user"),
        "actor": SourceColumn("actor", a.c.actor, "text", _l("操作人名称", "Actor name")),
        "action": SourceColumn("action", a.c.action, "text", _l("操作", "Action")),
        "object_type": SourceColumn("object_type", a.c.object_type, "text", _l("对象类型", "Object type")),
        "object_id": SourceColumn("object_id", a.c.object_id, "text", _l("对象", "Object")),
    }
    return SourceView(spec, a, [], c, "at", title=_l("审计日志", "Audit log"))


SOURCES: dict[str, Callable[[Session | None, SourceSpec], SourceView]] = {
    "records": _records,
    "flow_tasks": _flow_tasks,
    "flow_instances": _flow_instances,
    "rule_firings": _rule_firings,
    "sensor_readings": _sensor_readings,
    "audit_log": _audit_log,
}


def register_source(kind: str, resolver: Callable[[Session | None, SourceSpec], SourceView]) -> None:
    """Add a source kind (an integrator's table); its resolver builds the SourceView."""
    SOURCES[kind] = resolver


def resolve_source(session: Session | None, spec: SourceSpec) -> SourceView:
    """The source as columns. Without a session (definition checks) flow node names are left out."""
    return SOURCES[spec.kind](session, spec)


def scope_condition(view: SourceView, scope_clause: Callable[[Any, Any], ColumnElement[bool]],
                    scope: str) -> ColumnElement[bool]:
    """The viewer's row scope as a WHERE clause; a source without owner/department columns is
    visible only to viewers whose scope is "all"."""
    if scope == "all":
        return true()
    if view.owner is None:
        return false()
    department = view.department if view.department is not None else view.owner
    return scope_clause(view.owner, department)


def departments_below(department_id: int) -> Any:
    """Ids of a department and everything under it (a sub-select, for the department filter)."""
    from engine.store.models import Department

    path = select(Department.path).where(Department.id == department_id).scalar_subquery()
    return select(Department.id).where(or_(Department.id == department_id, Department.path.startswith(path)))

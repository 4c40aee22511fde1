"""The flow definition format: pydantic models the JSON Schema is generated from.

A flow is data — nodes and edges bound to a form by key — so the designer, `safeflow check`
and the runtime all read the same shapes. Node-type specific fields live on each node type's
own spec class (registered in `engine.flows.nodes`); this module holds the parts they share:
edges, assignee specs, deadlines, reject policies and field permissions.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Label = str | dict[str, str]
NodeId = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$", max_length=64)]


class Spec(BaseModel):
    """Base of every definition model: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# ----------------------------------------------------------------------------------------------
# Assignees


class AssigneeBase(Spec):
    # Weight of this assignee's vote on a `vote` node (票签 by weight).
    weight: float = Field(default=1.0, gt=0)


class UserAssignee(AssigneeBase):
    """A named user, by id or username."""

    user: int | str


class RoleAssignee(AssigneeBase):
    """Everyone holding a role, optionally only within a department."""

    role: str
    # "initiator": the initiator's department; a field key: the department in that record field.
    within: Literal["initiator"] | None = None
    within_field: str | None = None
    subtree: bool = False


class DepartmentHeadAssignee(AssigneeBase):
    """The head of the initiator's department, or of the department named in a record field."""

    department_head: Literal["initiator"] | dict[str, str]

    @field_validator("department_head")
    @classmethod
    def _field_form(cls, value: Any) -> Any:
        if isinstance(value, dict) and set(value) != {"field"}:
            raise ValueError('expected "initiator" or {"field": FIELD_KEY}')
        return value


class ManagerAssignee(AssigneeBase):
    """The initiator's manager `manager` levels up (1 = direct manager)."""

    manager: int = Field(ge=1, le=20)


class ManagerChainAssignee(AssigneeBase):
    """Every manager from level 1 up to `manager_chain` (in order; natural with `sequential`)."""

    manager_chain: int = Field(ge=1, le=20)


class FieldAssignee(AssigneeBase):
    """The user(s) in a record field, e.g. the area's responsible person."""

    field: str


class ExprAssignee(AssigneeBase):
    """An expression over the record giving a user id/username or a list of them."""

    expr: str


class ChosenAssignee(AssigneeBase):
    """Picked at runtime by whoever completes the previous user node (`"assignees"` in the action)."""

    chosen: Literal[True]


class InitiatorAssignee(AssigneeBase):
    initiator: Literal[True]


AssigneeSpec = (
    UserAssignee
    | RoleAssignee
    | DepartmentHeadAssignee
    | ManagerAssignee
    | ManagerChainAssignee
    | FieldAssignee
    | ExprAssignee
    | ChosenAssignee
    | InitiatorAssignee
)


def normalize_assignee(value: Any) -> Any:
    """`"initiator"` is shorthand for `{"initiator": true}`; `"chosen"` for `{"chosen": true}`."""
    if value == "initiator":
        return {"initiator": True}
    if value == "chosen":
        return {"chosen": True}
    return value


# ----------------------------------------------------------------------------------------------
# Policies shared by user nodes

EmptyPolicy = Literal["auto_approve", "auto_reject", "admin"]
TimeoutAction = Literal["remind", "auto_approve", "auto_reject", "escalate", "jump"]


class ToUser(Spec):
    """A named fallback user, e.g. for `on_empty`."""

    user: int | str


class RejectPolicy(Spec):
    """Where a rejection sends the instance and how it comes back.

    `to`: "previous" (the user node completed just before), "initiator" (the first user node of
    the instance), "terminate" (the instance ends as rejected), "choose" (the rejecting actor
    names an upstream user node as `target`, defaulting to previous) or a node id.
    `resume`: after resubmission, "rerun" goes on normally from the target; "return" jumps
    straight back to the node that rejected.
    """

    to: str = "previous"
    resume: Literal["rerun", "return"] = "rerun"


class Deadline(Spec):
    """When a task is due and what happens if it is not done by then."""

    after: str
    on_timeout: TimeoutAction = "remind"
    # Repeated reminders while the task is open (first one `remind_every` after creation).
    remind_every: str | None = None
    remind_max: int = Field(default=3, ge=0, le=100)
    # For on_timeout == "jump": the node the instance moves to.
    target: str | None = None


FieldAccess = Literal["editable", "readonly", "hidden"]


# ----------------------------------------------------------------------------------------------
# Nodes and edges


class NodeSpec(Spec):
    """Base of every node spec; each node type subclasses it with `type` fixed to its name."""

    id: NodeId
    type: str
    name: Label | None = None
    # Designer canvas position; ignored by the runtime.
    position: tuple[float, float] | None = None

    # The node type's classification, read by validation and the runtime (never serialised).
    is_user_node: ClassVar[bool] = False


class UserNodeSpec(NodeSpec):
    """Fields every node that creates tasks for people has."""

    # Approval nodes apply the initiator and repeat policies; fill nodes do not.
    kind_is_approval: ClassVar[bool] = False

    assignee: Any = None
    assignees: list[AssigneeSpec] = Field(default_factory=list)
    # Field permissions at this node: field key -> editable / readonly / hidden. Fields not
    # listed are read-only.
    fields: dict[str, FieldAccess] = Field(default_factory=dict)
    on_empty: EmptyPolicy | ToUser = "admin"
    # Approver is the initiator: "approve" (they act), "skip" (auto-pass), "manager" (their manager).
    on_initiator: Literal["approve", "skip", "manager"] = "approve"
    # Same approver as the previous user node: "approve" (act again) or "skip" (auto-pass).
    on_repeat: Literal["approve", "skip"] | None = None
    # Out of office: "substitute" hands the task to the active delegate; "none" ignores absences.
    on_absent: Literal["substitute", "none"] = "substitute"
    deadline: Deadline | None = None
    reject: RejectPolicy = Field(default_factory=RejectPolicy)

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        raw = dict(raw)
        if "assignee" in raw:
            single = raw.pop("assignee")
            raw["assignees"] = [normalize_assignee(single), *raw.get("assignees", [])]
        if "assignees" in raw and isinstance(raw["assignees"], list):
            raw["assignees"] = [normalize_assignee(a) for a in raw["assignees"]]
        if isinstance(raw.get("deadline"), str):
            raw["deadline"] = {"after": raw["deadline"]}
        for flat in ("on_timeout", "remind_every", "remind_max", "timeout_target"):
            if flat in raw and isinstance(raw.get("deadline"), dict):
                key = "target" if flat == "timeout_target" else flat
                raw["deadline"] = {**raw["deadline"], key: raw.pop(flat)}
        if isinstance(raw.get("reject"), str):
            raw["reject"] = {"to": raw["reject"]}
        if "reject_to" in raw:
            raw["reject"] = {**(raw.get("reject") or {}), "to": raw.pop("reject_to")}
        return raw


class Edge(Spec):
    source: NodeId = Field(alias="from")
    target: NodeId = Field(alias="to")
    when: str | None = None
    default: bool = False
    name: Label | None = None


class FlowSettings(Spec):
    # Default for nodes without `on_repeat`: the same approver on consecutive nodes auto-passes.
    skip_repeat_approver: bool = False
    # The initiator may withdraw (撤回) while the next node has not acted.
    allow_withdraw: bool = True
    # Business calendar name the deadlines use (the runtime maps names to calendars).
    calendar: str | None = None


class FlowDefinition(Spec):
    """A versioned flow graph bound to a form. Instances pin one (key, version)."""

    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
    version: int = Field(default=1, ge=1)
    title: Label | None = None
    description: Label | None = None
    form: str | None = None
    settings: FlowSettings = Field(default_factory=FlowSettings)
    nodes: list[NodeSpec]
    edges: list[Edge] = Field(default_factory=list)

    def node(self, node_id: str) -> NodeSpec | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def to_dict(self) -> dict[str, Any]:
        """The definition as plain JSON data (node subclasses' fields included, defaults omitted)."""
        rest = self.model_dump(mode="json", by_alias=True, exclude_defaults=True, exclude_none=True)
        out: dict[str, Any] = {"key": self.key, "version": self.version}
        for name in ("title", "description", "form", "settings"):
            if name in rest:
                out[name] = rest[name]
        out["nodes"] = [_node_dict(n) for n in self.nodes]
        out["edges"] = rest.get("edges", [])
        return out


def _node_dict(node: NodeSpec) -> dict[str, Any]:
    out = node.model_dump(mode="json", by_alias=True, exclude_defaults=True, exclude_none=True)
    return {"id": node.id, "type": node.type, **out}

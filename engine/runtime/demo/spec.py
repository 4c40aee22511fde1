"""The demo-data format: a pack's `demo/*.yaml`, one file per form (docs/demo.md).

    form: hazard                  # the form the records are written to
    order: 20                     # across packs, lower orders are generated first
    records: 1.0                  # generated records per --records N (rows come on top)
    rows: [{...}, ...]            # fixed records, written once (`unique` skips existing ones)
    created: {span: 180d, weekdays: 0.85, hours: [8, 18], trend: 1.5}
    by: {role: [employee, team_leader], weights: [8, 2]}   # who writes each record
    fields: {area: {record: area}, category: {choice: {electrical: 3, fire: 1}}, ...}
    flow: {key: hazard_flow, paths: [{weight: 7, when: "...", steps: [{node: assess, after: 2h..30h, data: {...}}]}]}
    adopt: true                   # records rules write (a schedule's inspections) follow the paths too

Everything is checked before anything is written, every problem located at file:line:column.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine import i18n
from engine.errors import Problem
from engine.runtime.packs.manifest import _line_of, yaml_problem

KEY = r"^[a-z][a-z0-9_]*$"
DURATION_RANGE = re.compile(r"^\s*(\S+?)\s*(?:\.\.\s*(\S+))?\s*$")


def parse_duration(text: str) -> timedelta:
    from engine.rules.syntax import to_timedelta

    return to_timedelta(text.strip())


def _signed(text: str, signed: bool) -> timedelta:
    if signed and text.startswith("-"):
        return -parse_duration(text[1:])
    return parse_duration(text)


def parse_after(value: str | dict[str, float], *, signed: bool = False) -> list[tuple[float, timedelta, timedelta]]:
    """`"2h..30h"`, `"1d"` or `{"1d..3d": 7, "5d..20d": 3}` → weighted (low, high) ranges.
    `signed` allows offsets into the past (`"-20min..-5min"`), as `moment` takes them."""
    items = value.items() if isinstance(value, dict) else [(value, 1.0)]
    out = []
    for text, weight in items:
        match = DURATION_RANGE.match(str(text))
        if match is None:
            raise ValueError(f"expected a duration or a range like 2h..30h, got {text!r}")
        low = _signed(match.group(1), signed)
        high = _signed(match.group(2), signed) if match.group(2) else low
        if high < low or float(weight) <= 0:
            raise ValueError(f"{text!r}: the range must run upwards and its weight be positive")
        out.append((float(weight), low, high))
    return out


class Created(BaseModel):
    """When generated records were created: spread over `span` up to the end of the timeline."""

    model_config = ConfigDict(extra="forbid")
    span: str = Field(default="180d", description="How far back the records go, e.g. 180d")
    weekdays: float = Field(default=0.85, ge=0, le=1, description="Share created Monday to Friday")
    hours: tuple[int, int] = Field(default=(8, 18), description="Local hours most records are created in")
    trend: float = Field(default=1.0, gt=0, description="Rate at the end ÷ rate at the start (1.5: growing)")

    @field_validator("span")
    @classmethod
    def _span(cls, value: str) -> str:
        if parse_duration(value) <= timedelta(0):
            raise ValueError("the span must be positive")
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= value[0] < value[1] <= 24:
            raise ValueError("hours are [first, last) within 0–24")
        return value


# One name or a list of them (`role: employee`, `node: [assess, assess_ehs]`).
Names = Annotated[list[str], BeforeValidator(lambda value: [value] if isinstance(value, str) else value)]


class Writer(BaseModel):
    """The people records are written by (their owners): users holding one of the roles."""

    model_config = ConfigDict(extra="forbid")
    role: Names = Field(min_length=1)
    weights: list[float] | None = None


class Step(BaseModel):
    """Act on the record's open task at `node` (or the first of several that is open) — or,
    with `action: update`, change the record itself as the person `by` names (a one-tap
    button outside the flow: an inspection's failed item raised as a hazard)."""

    model_config = ConfigDict(extra="forbid")
    node: Names = Field(default_factory=list)
    action: Literal["submit", "approve", "reject", "update"] | None = Field(
        default=None, description="Default: submit on fill tasks, approve on approvals")
    by: str | None = Field(default=None, description="update: an expression naming who (default: the owner)")
    after: str | dict[str, float] = Field(default="1h", description="Time since the step before")
    when: str | None = Field(default=None, description="Only if this holds for the record as it is then")
    not_before: str | None = Field(default=None, description="An expression: the step waits for this moment")
    data: dict[str, Any] = Field(default_factory=dict, description="Field generators for what is filled in")

    @field_validator("after")
    @classmethod
    def _after(cls, value: Any) -> Any:
        parse_after(value)
        return value

    @model_validator(mode="after")
    def _node_or_update(self) -> Step:
        if (self.action == "update") == bool(self.node):
            raise ValueError("a step names a node, or is action: update (without one)")
        if self.by is not None and self.action != "update":
            raise ValueError("by: is for action: update")
        return self


class Path(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = ""
    weight: float = Field(default=1.0, gt=0)
    when: str | None = Field(default=None, description="Only for records where this expression holds")
    steps: list[Step] = Field(default_factory=list)


class FlowPlan(BaseModel):
    """How the records' flow instances move along: a weighted choice of paths."""

    model_config = ConfigDict(extra="forbid")
    key: Names = Field(min_length=1, description="The flow, or several (a rule starts the one that fits)")
    start: bool = Field(default=False, description="Start the flow here (false: a rule starts it on create)")
    paths: list[Path] = Field(min_length=1)

    @field_validator("key")
    @classmethod
    def _keys(cls, value: list[str]) -> list[str]:
        bad = [k for k in value if not re.match(KEY, k)]
        if bad:
            raise ValueError(f"not a flow key: {bad[0]!r}")
        return value

    @model_validator(mode="after")
    def _start_one(self) -> FlowPlan:
        if self.start and len(self.key) > 1:
            raise ValueError("start: true starts one flow; name one key")
        return self


class DemoSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    form: str = Field(pattern=KEY)
    order: int = 50
    records: float = Field(default=0, ge=0, description="Generated records per --records N")
    min: int = Field(default=0, ge=0)
    max: int | None = Field(default=None, ge=0)
    unique: str | None = Field(default=None, description="Rows whose value of this field exists are skipped")
    rows: list[dict[str, Any]] = Field(default_factory=list)
    created: Created = Field(default_factory=Created)
    by: Writer | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    flow: FlowPlan | None = None
    adopt: bool = Field(default=False, description="Records of the form that rules write (a schedule's "
                                                   "inspections) follow the flow paths too")

    def count(self, n: int) -> int:
        wanted = max(self.min, round(self.records * n))
        return min(wanted, self.max) if self.max is not None else wanted


def load_spec(text: str, file: str) -> tuple[DemoSpec | None, list[Problem], Any]:
    """The spec, its problems and its YAML node tree (for locating later problems)."""
    try:
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return None, [yaml_problem(exc, file)], None
    if not isinstance(raw, dict):
        return None, [Problem("demo.bad_spec", {"detail": "expected a mapping"}, file=file, line=1, column=1)], node
    try:
        return DemoSpec.model_validate(raw), [], node
    except ValidationError as exc:
        problems = [locate(node, file, err["loc"], "demo.bad_spec", detail=err["msg"]) for err in exc.errors()]
        unknown = {err["loc"][0] for err in exc.errors() if err["type"] == "extra_forbidden" and len(err["loc"]) == 1}
        try:  # without its unknown keys the rest may still be checked, so every problem is listed at once
            spec = DemoSpec.model_validate({k: v for k, v in raw.items() if k not in unknown}) if unknown else None
        except ValidationError:
            spec = None
        return spec, problems, node


def locate(tree: Any, file: str, path: tuple[Any, ...] | list[Any], code: str, /, **params: Any) -> Problem:
    line, column = _line_of(tree, tuple(path))
    return Problem(code, params, file=file, path=".".join(map(str, path)) or None, line=line, column=column)


i18n.register_messages({
    "demo.bad_spec": {"zh-CN": "演示数据定义有误：{detail}", "en": "Demo spec: {detail}"},
})

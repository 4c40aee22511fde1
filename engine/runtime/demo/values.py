"""Field generators of the demo format: one small function per kind, registered by name.

A field's spec is a mapping with one generator key (`choice`, `range`, `text`, `record`, `user`,
`department`, `images`, `geo`, `moment`, `expr`, `rows`) and an optional `when` expression;
anything else is a literal value written as it is. `rows` (a sub-table's rows) is in rows.py.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from engine.expr import EvalContext, compile_expr
from engine.expr.types import DATETIME, Schema


class World(Protocol):
    """What generators may look up on the site: people, departments, records, files."""

    def users_with_role(self, role: str) -> list[int]: ...
    def user(self, username: str) -> int | None: ...
    def department(self, path: str) -> int | None: ...
    def department_of(self, user_id: int | None) -> int | None: ...
    def records(self, form: str) -> list[int]: ...
    def values(self, form: str, field: str) -> dict[int, Any]: ...
    def image(self, rng: random.Random, owner: int | None, form: str) -> int: ...
    def lookup(self) -> Any: ...


@dataclass
class Draw:
    """One record's (or one flow step's) generation: the random source, the demo clock's now,
    the values so far and the form's expression schema."""

    rng: random.Random
    now: datetime
    tz: Any
    form: str
    schema: Schema
    world: World
    owner: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)  # inside rows: record, index, count, previous
    resolve: Callable[[str, Any], Any] | None = None  # (field path, value): usernames and paths → ids
    key: str = ""  # the field being generated (rows need to know their sub-table)

    def evaluate(self, text: str) -> Any:
        context = EvalContext(now=self.now, tz=self.tz, lookup=self.world.lookup())
        if self.variables:
            context = context.with_variables(**self.variables)
        return compile_expr(text, self.schema).evaluate(self.data, context)


Generator = Callable[[Any, Draw, Mapping[str, Any]], Any]
GENERATORS: dict[str, Generator] = {}
OPTIONS: dict[str, set[str]] = {}  # extra keys a generator accepts beside its own


def generator(name: str, *options: str) -> Callable[[Generator], Generator]:
    def register(fn: Generator) -> Generator:
        GENERATORS[name] = fn
        OPTIONS[name] = set(options)
        return fn

    return register


def kind_of(spec: Any) -> str | None:
    """The generator a field spec names, or None for a literal."""
    if isinstance(spec, Mapping):
        found = [k for k in spec if k in GENERATORS]
        return found[0] if len(found) == 1 else None
    return None


def weighted(rng: random.Random, choices: Mapping[Any, float] | list[Any]) -> Any:
    if isinstance(choices, Mapping):
        values, weights = list(choices), [float(w) for w in choices.values()]
        return rng.choices(values, weights=weights)[0]
    return rng.choice(list(choices))


def count_of(spec: Any, rng: random.Random) -> int:
    """`2`, or `"1..3"` (both ends included)."""
    text = str(spec)
    low, _, high = text.partition("..")
    return rng.randint(int(low), int(high or low))


def generate(spec: Any, draw: Draw, key: str = "") -> tuple[bool, Any]:
    """(whether the field `key` gets a value, the value)."""
    if isinstance(spec, Mapping) and "when" in spec and not draw.evaluate(str(spec["when"])):
        return False, None
    kind = kind_of(spec)
    if kind is None:
        return True, spec
    draw.key = key
    return True, GENERATORS[kind](spec[kind], draw, spec)


def pick_by(value: Any, draw: Draw, spec: Mapping[str, Any]) -> Any:
    """With `by: <expression>`, `value` maps the expression's value (or `"*"`) to what to pick from."""
    if not spec.get("by"):
        return value
    found = draw.evaluate(str(spec["by"]))
    key = str(found).lower() if isinstance(found, bool) else str(found)
    return value.get(key, value.get(found, value.get("*", "")))


@generator("choice", "by")
def _choice(value: Any, draw: Draw, spec: Mapping[str, Any]) -> Any:
    return weighted(draw.rng, pick_by(value, draw, spec))


@generator("range", "decimals")
def _range(value: Any, draw: Draw, spec: Mapping[str, Any]) -> Any:
    low, high = value
    if isinstance(low, int) and isinstance(high, int) and "decimals" not in spec:
        return draw.rng.randint(low, high)
    return round(draw.rng.uniform(float(low), float(high)), int(spec.get("decimals", 2)))


PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@generator("text", "words", "by")
def _text(value: Any, draw: Draw, spec: Mapping[str, Any]) -> str:
    """A template (or one of several) with `{word}` from `words` lists or `{field}` values.
    With `by: field` (an expression), `text` maps its values to their own templates."""
    value = pick_by(value, draw, spec)
    template = weighted(draw.rng, value) if isinstance(value, list | Mapping) else str(value)
    words = spec.get("words") or {}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in words:
            return str(weighted(draw.rng, words[name]))
        found = draw.data.get(name)
        return "" if found is None else str(found)

    return PLACEHOLDER.sub(fill, str(template))


@generator("record", "weight_by", "weights")
def _record(value: Any, draw: Draw, spec: Mapping[str, Any]) -> int | None:
    """A record of the form; with `weight_by: field` and `weights: {value: weight}`, records are
    picked in proportion to their field's weight (more hazards where the risk is higher)."""
    ids = draw.world.records(str(value))
    if not ids:
        return None
    if spec.get("weight_by"):
        table = spec.get("weights") or {}
        values = draw.world.values(str(value), str(spec["weight_by"]))
        return draw.rng.choices(ids, weights=[float(table.get(values.get(i), 1)) for i in ids])[0]
    return draw.rng.choice(ids)


@generator("user")
def _user(value: Any, draw: Draw, spec: Mapping[str, Any]) -> int | None:
    if isinstance(value, Mapping):
        ids = draw.world.users_with_role(str(value["role"]))
        return draw.rng.choice(ids) if ids else None
    if value == "owner":
        return draw.owner
    return draw.world.user(str(value))


@generator("department")
def _department(value: Any, draw: Draw, spec: Mapping[str, Any]) -> int | None:
    """A department by path, or `owner`: the department of the person writing the record."""
    if value == "owner":
        return draw.world.department_of(draw.owner)
    return draw.world.department(str(value))


@generator("images")
def _images(value: Any, draw: Draw, spec: Mapping[str, Any]) -> list[int]:
    return [draw.world.image(draw.rng, draw.owner, draw.form) for _ in range(count_of(value, draw.rng))]


@generator("geo")
def _geo(value: Any, draw: Draw, spec: Mapping[str, Any]) -> dict[str, float]:
    """A point within `radius_m` of (`lat`, `lng`), with a phone-like accuracy."""
    radius = float(value.get("radius_m", 200)) * math.sqrt(draw.rng.random())
    angle = draw.rng.uniform(0, 2 * math.pi)
    lat = float(value["lat"]) + radius * math.cos(angle) / 111_320
    lng = float(value["lng"]) + radius * math.sin(angle) / (111_320 * math.cos(math.radians(float(value["lat"]))))
    return {"lat": round(lat, 6), "lng": round(lng, 6), "accuracy": round(draw.rng.uniform(4, 30), 1)}


@generator("moment", "from", "by")
def _moment(value: Any, draw: Draw, spec: Mapping[str, Any]) -> datetime:
    """A time `value` (a range such as `"-20min..-5min"`, or weighted ranges) after `from` (an
    expression; now when it is missing or null), to the minute: gas samples spaced 10–30 min."""
    from engine.runtime.demo.spec import parse_after

    base = draw.evaluate(str(spec["from"])) if spec.get("from") else None
    if isinstance(base, str):
        base = datetime.fromisoformat(base)
    if not isinstance(base, datetime):
        base = draw.now
    ranges = parse_after(pick_by(value, draw, spec), signed=True)
    _weight, low, high = draw.rng.choices(ranges, weights=[r[0] for r in ranges])[0]
    moment = base + low + (high - low) * draw.rng.random()
    return moment.replace(second=0, microsecond=0) if moment.second or moment.microsecond else moment


@generator("expr")
def _expr(value: Any, draw: Draw, spec: Mapping[str, Any]) -> Any:
    return draw.evaluate(str(value))


def check_value(spec: Any, schema: Schema | None, key: str = "") -> list[tuple[str, str]]:
    """(path inside the spec, dotted, message) for every problem of the spec of field `key`."""
    problems: list[tuple[str, str]] = []
    if not isinstance(spec, Mapping):
        return problems
    named = [k for k in spec if k in GENERATORS]
    if len(named) > 1:
        return [("", f"one generator per field, not {', '.join(named)}")]
    kind = named[0] if named else None
    if kind is not None:
        unknown = sorted(set(spec) - {kind, "when"} - OPTIONS[kind])
        if unknown:
            problems.append((unknown[0], f"unknown option {unknown[0]!r} of {kind}"))
    expressions = [("when", spec.get("when"))] + ([(kind, spec[kind])] if kind == "expr" else [])
    expressions += [(option, spec.get(option)) for option in ("by", "from") if kind is not None
                    and option in OPTIONS[kind]]
    for path, text in expressions:
        if text is None:
            continue
        try:
            compile_expr(str(text), schema, expected=DATETIME if path == "from" else None)
        except Exception as exc:  # an ExprError: the message names the place in the expression
            problems.append((path, str(exc)))
    if kind is not None and kind in SHAPES:
        problems += SHAPES[kind](spec, schema, key)
    return problems


Shape = Callable[[Mapping[str, Any], Schema | None, str], list[tuple[str, str]]]
SHAPES: dict[str, Shape] = {}  # per generator: problems of its value's shape


def shape(name: str) -> Callable[[Shape], Shape]:
    def register(fn: Shape) -> Shape:
        SHAPES[name] = fn
        return fn

    return register


@shape("range")
def _range_shape(spec: Mapping[str, Any], schema: Schema | None, key: str) -> list[tuple[str, str]]:
    ok = isinstance(spec["range"], list) and len(spec["range"]) == 2
    return [] if ok else [("range", "expected [low, high]")]


@shape("choice")
def _choice_shape(spec: Mapping[str, Any], schema: Schema | None, key: str) -> list[tuple[str, str]]:
    value = spec["choice"]
    if spec.get("by"):
        ok = isinstance(value, Mapping) and all(isinstance(v, list | Mapping) for v in value.values())
        return [] if ok else [("choice", "with by, expected a mapping of value: list (or value: weight)")]
    ok = isinstance(value, list | Mapping)
    return [] if ok else [("choice", "expected a list of values or a mapping of value: weight")]


@shape("images")
def _images_shape(spec: Mapping[str, Any], schema: Schema | None, key: str) -> list[tuple[str, str]]:
    ok = re.match(r"^\d+(\.\.\d+)?$", str(spec["images"]))
    return [] if ok else [("images", "expected a count such as 1 or 1..3")]


@shape("geo")
def _geo_shape(spec: Mapping[str, Any], schema: Schema | None, key: str) -> list[tuple[str, str]]:
    ok = isinstance(spec["geo"], Mapping) and {"lat", "lng"} <= set(spec["geo"])
    return [] if ok else [("geo", "expected lat and lng (and radius_m)")]


@shape("moment")
def _moment_shape(spec: Mapping[str, Any], schema: Schema | None, key: str) -> list[tuple[str, str]]:
    from engine.runtime.demo.spec import parse_after

    value = spec["moment"]
    choices = list(value.values()) if spec.get("by") and isinstance(value, Mapping) else [value]
    try:
        for choice in choices:
            parse_after(choice, signed=True)
    except Exception as exc:  # a ValueError or a duration the rules syntax refuses
        return [("moment", str(exc))]
    return []


from engine.runtime.demo import rows as _rows  # noqa: E402,F401  (registers the `rows` generator)

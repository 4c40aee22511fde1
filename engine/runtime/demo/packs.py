"""A pack's demo specs: read, checked against the forms and flows they name (the pack's own
and those of the packs it depends on), and gathered across packs in install order."""

from __future__ import annotations

from typing import Any

from engine import i18n
from engine.errors import Problem
from engine.runtime.demo.spec import DemoSpec, load_spec, locate
from engine.runtime.demo.values import check_value
from engine.runtime.packs.source import PackSource


def read_specs(source: PackSource) -> tuple[list[tuple[str, DemoSpec, Any]], list[Problem]]:
    """(file shown, spec, YAML node) of every `demo/*.yaml`, and the problems of reading them."""
    found, problems = [], []
    for rel, text in sorted(source.files.items()):
        if not (rel.startswith("demo/") and rel.endswith((".yaml", ".yml"))):
            continue
        shown = f"{source.root.name}/{rel}"
        spec, errors, node = load_spec(text, shown)
        problems += errors
        if spec is not None:
            found.append((shown, spec, node))
    return found, problems


def check_demo(source: PackSource) -> list[Problem]:
    """Every problem of a pack's demo specs (a pack check: `safeflow check`, installs)."""
    from engine.runtime.packs.library import install_order

    specs, problems = read_specs(source)
    if not specs:
        return problems
    try:
        packs = install_order(source, set())
    except Exception:  # a missing dependency is reported by the pack's own checks
        packs = [source]
    bodies: dict[tuple[str, str], Any] = {}
    for pack in packs:
        bodies.update(pack.by_id())
    for shown, spec, node in specs:
        problems += _check_spec(shown, spec, node, bodies)
    return problems


def _check_spec(file: str, spec: DemoSpec, node: Any, bodies: dict[tuple[str, str], Any]) -> list[Problem]:
    from engine.forms import FormDefinition

    def resolve(key: str) -> FormDefinition | None:
        body = bodies.get(("form", key))
        try:
            return FormDefinition.model_validate(body) if body is not None else None
        except ValueError:
            return None

    form = resolve(spec.form)
    if form is None:
        return [locate(node, file, ["form"], "demo.unknown_form", form=spec.form)]
    schema = form.expr_schema(resolve_form=resolve)
    keys = {f.key for f in form.value_fields()}
    problems: list[Problem] = []

    def fields(where: list[Any], values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key not in keys:
                problems.append(locate(node, file, [*where, key], "demo.unknown_field", form=spec.form, field=key))
                continue
            for sub, message in check_value(value, schema, key):
                path = [*where, key, *sub.split(".")] if sub else [*where, key]
                problems.append(locate(node, file, path, "demo.bad_value", detail=message))

    fields(["fields"], spec.fields)
    for number, row in enumerate(spec.rows):
        fields(["rows", number], row)
    if spec.unique is not None and spec.unique not in keys:
        problems.append(locate(node, file, ["unique"], "demo.unknown_field", form=spec.form, field=spec.unique))
    if spec.flow is not None:
        nodes: set[str] = set()
        for k, key in enumerate(spec.flow.key):
            flow = bodies.get(("flow", key))
            if flow is None or flow.get("form") != spec.form:
                where = ["flow", "key", k] if len(spec.flow.key) > 1 else ["flow", "key"]
                problems.append(locate(node, file, where, "demo.unknown_flow", flow=key, form=spec.form))
                continue
            nodes |= {n.get("id") for n in flow.get("nodes", [])}
        if len(nodes) == 0:
            return problems
        for p, path in enumerate(spec.flow.paths):
            if path.when is not None:
                for _sub, message in check_value({"when": path.when}, schema):
                    problems.append(locate(node, file, ["flow", "paths", p, "when"], "demo.bad_value", detail=message))
            for s, step in enumerate(path.steps):
                for n, name in enumerate(step.node):
                    if name not in nodes:
                        problems.append(locate(node, file, ["flow", "paths", p, "steps", s, "node", n],
                                               "demo.unknown_node", node=name, flow=", ".join(spec.flow.key)))
                for option, text in (("when", step.when), ("not_before", step.not_before), ("by", step.by)):
                    for _sub, message in check_value({"when": text} if text is not None else {}, schema):
                        problems.append(locate(node, file, ["flow", "paths", p, "steps", s, option], "demo.bad_value",
                                               detail=message))
                fields(["flow", "paths", p, "steps", s, "data"], step.data)
    return problems


i18n.register_messages({
    "demo.unknown_form": {"zh-CN": "表单 {form} 不在本模板包及其依赖中",
                          "en": "Form {form} is not in this pack or the packs it depends on"},
    "demo.unknown_field": {"zh-CN": "表单 {form} 没有字段 {field}", "en": "Form {form} has no field {field}"},
    "demo.unknown_flow": {"zh-CN": "没有运行在表单 {form} 上的流程 {flow}", "en": "No flow {flow} runs on form {form}"},
    "demo.unknown_node": {"zh-CN": "流程 {flow} 没有节点 {node}", "en": "Flow {flow} has no node {node}"},
    "demo.bad_value": {"zh-CN": "取值生成器有误：{detail}", "en": "Bad value generator: {detail}"},
})

"""Each engine's checker and publisher for its kind of definition, registered in the one
definition-kind registry that `safeflow check`, pack installs and the API share."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine import i18n
from engine.errors import InvalidInput, Problem
from engine.runtime.packs.kinds import (
    CheckContext,
    DefinitionSource,
    form_resolver,
    register_checker,
    register_pack_check,
    register_publisher,
)
from engine.store.audit import Actor


def check_form(source: DefinitionSource, context: CheckContext) -> list[Problem]:
    from engine.forms import check_form as check

    return check(source.text, source.file, resolve_form=form_resolver(context))[1]


def check_flow(source: DefinitionSource, context: CheckContext) -> list[Problem]:
    from engine.flows.definition import parse_definition
    from engine.flows.validate import validate_flow

    try:
        definition = parse_definition(source.text, file=source.file)
    except InvalidInput as exc:
        return exc.problems
    problems: list[Problem] = []
    schema = None
    form_key = getattr(definition, "form", None)
    if form_key:
        form = form_resolver(context)(form_key)
        if form is None:
            problems.append(Problem("definition.unknown_form", {"form": form_key}, file=source.file, path="form"))
        else:
            schema = form.expr_schema(resolve_form=form_resolver(context))
    return problems + validate_flow(definition, schema, text=source.text, file=source.file)


def check_rule(source: DefinitionSource, context: CheckContext) -> list[Problem]:
    from engine.rules.compile import Environment, compile_rules
    from engine.rules.syntax import parse_rules

    resolve = form_resolver(context)

    def form_schema(key: str) -> Any:
        form = resolve(key)
        return form.expr_schema(resolve_form=resolve) if form is not None else None

    def template_exists(key: str) -> bool:
        from engine.runtime.notify.templates import exists

        return context.lookup("template", key) is not None or exists(None, key)

    keys = sorted({key for (kind, key) in context.pack if kind == "form"})
    rules, problems = parse_rules(source.text, source.file)
    _compiled, more = compile_rules(rules, Environment(form_schema=form_schema, form_keys=lambda: keys,
                                                       template_exists=template_exists), file=source.file)
    return problems + more


def check_template(source: DefinitionSource, context: CheckContext) -> list[Problem]:
    from engine.runtime.notify.templates import check_template as check

    if not isinstance(source.body, dict):
        return [Problem("template.shape", {}, file=source.file)]
    return check(source.body, source.file)


def run_pack_rule_tests(source: Any) -> list[Problem]:
    """A pack's rules/tests/*.jsonl: feed the events to a dry run and compare the actions."""
    if not any(rel.startswith("rules/tests/") and rel.endswith(".jsonl") for rel in source.files):
        return []
    from engine.runtime.rule_tests import check_pack_rule_tests

    return check_pack_rule_tests(source)


def check_demo_specs(source: Any) -> list[Problem]:
    """A pack's demo/*.yaml against the forms and flows they name."""
    from engine.runtime.demo.packs import check_demo

    return check_demo(source)


def check_dictionary(source: DefinitionSource, context: CheckContext) -> list[Problem]:
    from engine.forms.dictionary import check_dictionary as check

    return check(source.body, source.file)


def publish_form(session: Session, actor: Actor, key: str, body: Any, pack: str | None) -> int:
    from engine.forms.publishing import publish

    return publish(session, actor, key, body, pack=pack).version


def register() -> None:
    register_checker("form", check_form)
    register_checker("flow", check_flow)
    register_checker("rule", check_rule)
    register_checker("dictionary", check_dictionary)
    register_checker("template", check_template)
    register_pack_check(run_pack_rule_tests)
    register_pack_check(check_demo_specs)
    register_publisher("form", publish_form)
    from engine.runtime.reports import register as register_reports

    register_reports()


register()

i18n.register_messages(
    {
        "definition.unknown_form": {"zh-CN": "表单 {form} 不存在（既不在本模板包中，也未安装）",
                                    "en": "Form {form} does not exist (neither in this pack nor installed)"},
    }
)

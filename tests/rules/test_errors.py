"""Bad rules are reported all at once: syntax with line, column, caret and the expected words;
unknown forms, fields, channels with did-you-mean; type errors from the expression checker."""

from __future__ import annotations

from engine.expr import Schema
from engine.rules.compile import Environment, compile_rules
from engine.rules.syntax import parse_rules

FORMS = {"hazard": Schema.of({"area": "integer", "category": "text", "title": "text", "risk_level": "text"},
                             name="hazard")}
ENV = Environment(form_schema=FORMS.get, form_keys=lambda: list(FORMS))

BROKEN = '''rule "a" when hazard craeted as h then notify h.owner end
rule "b" when hazard created as h
  if h.title == "x" and and h.area > 1
  then notify role("safety") end
rule "c" when hazard created then notify role("x") via emial end
rule "d" when hazrd created then notify role("x") end
rule "e" when hazard created as h
  if h.title + 3 > count(hazard where categroy == h.category)
  then update record set risk_levl = "major" end
rule "f" when daily at "25:00" then notify role("x") end
'''


def _problems(text: str) -> list:
    rules, problems = parse_rules(text, "plant.rules")
    _compiled, more = compile_rules(rules, ENV, file="plant.rules")
    return problems + more


def test_every_problem_of_a_file_is_reported_at_once_with_its_place() -> None:
    problems = _problems(BROKEN)
    assert [(p.line, p.code) for p in problems] == [
        (1, "rules.syntax_hint"), (3, "expr.syntax.unexpected_token"),
        (5, "rules.unknown_channel"), (6, "rules.unknown_form"), (8, "expr.operand_types"),
        (8, "expr.unknown_field"), (9, "rules.unknown_field"), (10, "rules.bad_time")]


def test_a_syntax_error_shows_the_caret_the_expected_words_and_a_did_you_mean() -> None:
    [typo] = _problems('rule "a" when hazard craeted as h then notify h.owner end')
    assert (typo.line, typo.column) == (1, 22)
    assert typo.message("en") == ("Syntax error: found 'craeted'; did you mean 'created'? "
                                  'Expected one of: "created", "deleted", "updated"')
    assert typo.message("zh-CN").startswith("语法错误：此处是 'craeted'，是否想写 “created”？")
    assert typo.params["context"].splitlines()[1].index("^") == 21


def test_an_expression_error_points_into_the_rule_file() -> None:
    problems = _problems('rule "b" when hazard created as h\n  if h.title == "x" and and h.area > 1\n'
                         '  then notify role("safety") end')
    [p] = problems
    assert (p.line, p.column) == (2, 25)
    assert "and" in p.message("en")


def test_unknown_names_suggest_the_closest_known_one() -> None:
    messages = [p.message("en") for p in _problems(BROKEN)]
    assert "Unknown channel 'emial'; did you mean 'email'? (use inapp, email, sms, webhook, dingtalk, wecom)" \
        in messages
    assert "Unknown form 'hazrd'; did you mean 'hazard'?" in messages
    assert "Form hazard has no field 'risk_levl'; did you mean 'risk_level'?" in messages
    assert any("categroy" in m and "category" in m for m in messages)


def test_the_check_endpoint_answers_in_the_callers_language(site, client) -> None:
    from tests.helpers import auth, make_user

    make_user(site, "boss", admin=True)
    body = {"text": 'rule "x" when every 1h then notify role("a") via emial end'}
    zh = client.post("/api/v1/rules/check", json=body, headers=auth(client, "boss", "zh-CN")).json()
    en = client.post("/api/v1/rules/check", json=body, headers=auth(client, "boss", "en")).json()
    assert zh["ok"] is False and zh["problems"][0]["message"].startswith("未知通知渠道 “emial”")
    assert en["problems"][0]["message"].startswith("Unknown channel 'emial'")
    assert (en["problems"][0]["line"], en["problems"][0]["column"]) == (1, 29)

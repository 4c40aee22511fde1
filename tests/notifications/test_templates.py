"""Templates are sandboxed Jinja2 in both languages; broken ones are reported with a location."""

from __future__ import annotations

import pytest
from jinja2.exceptions import SecurityError

from engine.runtime.notify import check_template, render
from engine.runtime.notify.templates import register_template


def test_a_registered_template_renders_in_each_language() -> None:
    register_template("test.cert", {"zh": "证书将到期：{{ name }}", "en": "Certificate expiring: {{ name }}"},
                      {"zh": "还剩 {{ days }} 天", "en": "{{ days }} days left"})
    assert render(None, "test.cert", "zh-CN", {"name": "焊工证", "days": 30}).subject == "证书将到期：焊工证"
    assert render(None, "test.cert", "en", {"name": "welder", "days": 30}).body == "30 days left"


def test_a_missing_value_renders_empty_instead_of_failing_the_delivery() -> None:
    out = render(None, None, "en", {}, subject={"zh": "x", "en": "Area {{ record.area.name }}!"}, body={"en": ""})
    assert out.subject == "Area !"


def test_a_template_cannot_reach_python_internals() -> None:
    with pytest.raises(SecurityError):
        render(None, None, "en", {"x": ""}, subject={"en": "{{ x.__class__.__mro__[1].__subclasses__() }}"},
               body={"en": ""})


def test_check_lists_every_syntax_error_and_missing_language() -> None:
    problems = check_template({"subject": {"zh": "{{ a ", "en": "ok"}, "body": {"zh": "正文"}}, file="t.json")
    codes = sorted((p.code, p.path) for p in problems)
    assert codes == [("template.missing_locale", "body"), ("template.syntax", "subject.zh")]

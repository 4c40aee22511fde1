"""A pack's rules/tests/*.jsonl: event lines followed by the actions they must cause."""

from __future__ import annotations

import json
from pathlib import Path

from engine.runtime.packs import load_pack
from engine.runtime.rule_tests import check_pack_rule_tests
from tests.rules.support import FORMS

RULE = '''rule "cluster" when hazard created as h
  if count(hazard where area == h.area, within 7d) >= 2
  then notify role("ehs_lead") via email
end
'''


def _pack(root: Path, test_lines: list[dict]) -> Path:
    (root / "forms").mkdir(parents=True)
    (root / "rules" / "tests").mkdir(parents=True)
    (root / "pack.yaml").write_text("key: plant\nname: {zh: 工厂, en: Plant}\ndescription: {zh: 测试, en: Test}\n"
                                    "version: 1.0.0\n", encoding="utf-8")
    for body in FORMS:
        (root / "forms" / f"{body['key']}.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    (root / "rules" / "cluster.rules").write_text(RULE, encoding="utf-8")
    (root / "rules" / "tests" / "cluster.jsonl").write_text("\n".join(json.dumps(x) for x in test_lines) + "\n",
                                                            encoding="utf-8")
    return root


AREA = {"create": "area", "data": {"name": "A"}}
HAZARD = {"create": "hazard", "data": {"title": "x", "area": 1, "category": "fire"}}


def test_a_pack_whose_rule_tests_hold_reports_nothing(tmp_path: Path) -> None:
    pack = _pack(tmp_path / "p", [AREA, HAZARD, HAZARD,
                                  {"expect": {"rule": "cluster", "action": "notify", "to": ["role:ehs_lead"]}}])
    assert check_pack_rule_tests(load_pack(pack)) == []


def test_missing_and_unexpected_actions_are_located_in_the_test_file(tmp_path: Path) -> None:
    pack = _pack(tmp_path / "p", [AREA, HAZARD, {"expect": {"rule": "cluster", "action": "notify"}}, HAZARD])
    problems = check_pack_rule_tests(load_pack(pack))
    assert [(p.code, p.file, p.line) for p in problems] == [
        ("rules.test.missing", "p/rules/tests/cluster.jsonl", 3),
        ("rules.test.unexpected", "p/rules/tests/cluster.jsonl", 4)]


def test_an_event_that_writes_an_invalid_record_is_reported_at_its_line(tmp_path: Path) -> None:
    """Not "the rules have errors": the rules are fine, the test's own event line is refused."""
    bad = {"create": "hazard", "data": {"title": "x", "area": 1, "risk_level": "no-such-level"}}
    pack = _pack(tmp_path / "p", [AREA, HAZARD, bad])
    problems = check_pack_rule_tests(load_pack(pack))
    assert problems[0].code == "rules.test.event_refused"
    assert (problems[0].file, problems[0].line) == ("p/rules/tests/cluster.jsonl", 3)
    assert len(problems) > 1 and all((p.file, p.line) == ("p/rules/tests/cluster.jsonl", 3) for p in problems)
    assert any(p.path and "risk_level" in p.path for p in problems[1:]), [p.to_dict("en") for p in problems]
    assert "rules.test.not_run" not in {p.code for p in problems}
    pack = _pack(tmp_path / "q", [AREA, {"update": "nobody", "data": {}}])
    problems = check_pack_rule_tests(load_pack(pack))
    assert [(p.code, p.line) for p in problems] == [("rules.test.event_refused", 2), ("rules.bad_alias", 2)]


def test_safeflow_check_checks_rule_files_and_runs_the_packs_rule_tests(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from engine.cli import app

    pack = _pack(tmp_path / "p", [AREA, HAZARD, HAZARD])  # the notify is not expected
    result = CliRunner().invoke(app, ["check", str(pack)], env={"SAFEFLOW_LOCALE": "en"})
    assert result.exit_code == 1
    assert "p/rules/tests/cluster.jsonl:3: This event caused an action that is not expected" in result.output
    (pack / "rules" / "typo.rules").write_text('rule "t" when hazard craeted then notify role("x") end\n',
                                               encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(pack)], env={"SAFEFLOW_LOCALE": "en"})
    assert "typo.rules:1:22: Syntax error: found 'craeted'; did you mean 'created'?" in result.output
    assert "cluster.jsonl: warning: Not run: the pack's definitions or rules have errors" in result.output

"""Rule tests a pack ships: `rules/tests/*.jsonl`, event lines each followed by the actions it
must cause, checked by a dry run against the pack's own forms and rules.

    {"create": "hazard", "data": {"area": 1, "category": "fire"}}
    {"expect": {"rule": "hazard_cluster", "action": "notify", "to": ["role:plant_manager"]}}

An `expect` line belongs to the event line above it and matches an action line when every key
it gives is equal (so it may leave out `detail`). For each event, the actions must be exactly
the expected ones, in order; every difference is a located problem.
"""

from __future__ import annotations

import json
from typing import Any

from engine import i18n
from engine.errors import InvalidInput, Problem
from engine.runtime.dryrun import Definitions, EventRefused, dry_run


def _matches(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    return all(actual.get(k) == v for k, v in expected.items())


def check_pack_rule_tests(source: Any) -> list[Problem]:
    """Run every `rules/tests/*.jsonl` of a loaded pack (engine.runtime.packs.PackSource)."""
    rules_text = "\n".join(d.body for d in source.ordered() if d.kind == "rule")
    try:
        definitions = Definitions.of_source(source)
    except InvalidInput as exc:  # a dependency the library does not have: reported by the pack check
        return [p.located(file=p.file or f"{source.root.name}/pack.yaml") for p in exc.problems]
    problems: list[Problem] = []
    for rel, text in sorted(source.files.items()):
        if not (rel.startswith("rules/tests/") and rel.endswith(".jsonl")):
            continue
        shown = f"{source.root.name}/{rel}"
        events: list[tuple[int, dict[str, Any]]] = []
        expected: dict[int, list[tuple[int, dict[str, Any]]]] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError:
                problems.append(Problem("rules.bad_event", file=shown, line=number))
                continue
            if isinstance(item, dict) and "expect" in item:
                expected.setdefault(len(events), []).append((number, dict(item["expect"])))
            else:
                events.append((number, item))
        actual: dict[int, list[dict[str, Any]]] = {}
        try:
            for action in dry_run(rules_text, events, definitions, rules_file="pack.rules"):
                actual.setdefault(action["event"], []).append(action)
        except EventRefused as exc:  # this test's own event line writes something invalid
            problems.append(Problem("rules.test.event_refused", file=shown, line=exc.line))
            problems += [p.located(file=shown) for p in exc.problems]
            continue
        except InvalidInput:  # the pack's definitions or rules are broken: reported by their own check
            problems.append(Problem("rules.test.not_run", file=shown, severity="warning"))
            continue
        for index in range(1, len(events) + 1):
            wanted, got = expected.get(index, []), actual.get(index, [])
            event_line = events[index - 1][0]
            for position, (number, want) in enumerate(wanted):
                if position >= len(got) or not _matches(want, got[position]):
                    problems.append(Problem("rules.test.missing", {"expected": json.dumps(want, ensure_ascii=False)},
                                            file=shown, line=number))
            for extra in got[len(wanted):]:
                problems.append(Problem("rules.test.unexpected", {"action": json.dumps(extra, ensure_ascii=False)},
                                        file=shown, line=event_line))
    return problems


i18n.register_messages({
    "rules.test.not_run": {"zh-CN": "模板包的定义或规则有错误，未运行本测试",
                           "en": "Not run: the pack's definitions or rules have errors"},
    "rules.test.event_refused": {"zh-CN": "该事件被拒绝，本测试未能运行完（原因见下）",
                                 "en": "This event was refused, so the test could not run on (reasons below)"},
    "rules.test.missing": {"zh-CN": "期望的动作没有发生：{expected}",
                           "en": "Expected action did not happen: {expected}"},
    "rules.test.unexpected": {"zh-CN": "该事件引发了未列出的动作：{action}",
                              "en": "This event caused an action that is not expected: {action}"},
})

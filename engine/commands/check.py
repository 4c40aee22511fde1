"""`safeflow check PATH…`: validate definition files and print every problem as
`file:line:column: message`.

A registry keyed by definition kind: the kind is read from the file (a form's JSON has
"fields", a flow's "nodes", a dashboard's "widgets"; rule sets are `.rules` text), and each
engine registers the checker for its kind. Forms register here; flows, rules and reports add
theirs with `register_checker`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from engine import i18n
from engine.commands.common import cli_locale, console, err_console
from engine.errors import Problem

# (file, text, every file's parsed JSON by kind) → problems
Checker = Callable[[Path, str, "CheckRun"], list[Problem]]
CHECKERS: dict[str, Checker] = {}
JSON_KINDS = (("fields", "form"), ("nodes", "flow"), ("widgets", "dashboard"))


def register_checker(kind: str, checker: Checker) -> None:
    CHECKERS[kind] = checker


@dataclass
class CheckRun:
    """Every file of one `check` run, so a checker can resolve references between them (a
    form's relation to another form of the same pack)."""

    files: dict[Path, tuple[str | None, str, Any]]

    def documents(self, kind: str) -> Iterable[tuple[Path, Any]]:
        for path, (found, _, data) in self.files.items():
            if found == kind and data is not None:
                yield path, data


def detect_kind(path: Path, text: str) -> tuple[str | None, Any]:
    if path.suffix == ".rules":
        return "rules", None
    try:
        data = json.loads(text)
    except ValueError:
        return ("form" if '"fields"' in text else None), None
    if isinstance(data, dict):
        for marker, kind in JSON_KINDS:
            if marker in data:
                return kind, data
    return None, data


def _files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.suffix in (".json", ".rules") and p.is_file())
        else:
            out.append(path)
    return out


def check_paths(paths: Iterable[Path]) -> list[Problem]:
    problems: list[Problem] = []
    files: dict[Path, tuple[str | None, str, Any]] = {}
    for path in _files(paths):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem("check.unreadable", {"detail": str(exc)}, file=str(path)))
            continue
        kind, data = detect_kind(path, text)
        files[path] = (kind, text, data)
    run = CheckRun(files)
    for path, (kind, text, _) in files.items():
        if kind is None:
            problems.append(Problem("check.unknown_kind", {}, file=str(path), severity="warning"))
        elif kind not in CHECKERS:
            problems.append(Problem("check.no_checker", {"kind": kind}, file=str(path), severity="warning"))
        else:
            problems += CHECKERS[kind](path, text, run)
    return problems


def _check_form(path: Path, text: str, run: CheckRun) -> list[Problem]:
    from engine.forms import FormDefinition, check_form

    siblings: dict[str, FormDefinition] = {}
    for _, data in run.documents("form"):
        try:
            definition = FormDefinition.model_validate(data)
        except ValueError:
            continue
        siblings.setdefault(definition.key, definition)
    return check_form(text, str(path), resolve_form=siblings.get)[1]


register_checker("form", _check_form)


def check(paths: Annotated[list[Path], typer.Argument(help="Definition files or folders (a template pack)")]) -> None:
    """Validate definition files; print every problem as file:line:column: message."""
    locale = cli_locale()
    problems = check_paths(paths)
    for problem in problems:
        err_console.print(problem.format(locale), markup=False, highlight=False, soft_wrap=True)
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    console.print(i18n.message("check.summary", locale, files=len(_files(paths)), errors=errors, warnings=warnings))
    if errors:
        raise typer.Exit(1)


i18n.register_messages(
    {
        "check.summary": {"zh-CN": "已检查 {files} 个文件：{errors} 个错误，{warnings} 个警告",
                          "en": "Checked {files} file(s): {errors} error(s), {warnings} warning(s)"},
        "check.unreadable": {"zh-CN": "无法读取：{detail}", "en": "Cannot read: {detail}"},
        "check.unknown_kind": {"zh-CN": "无法识别定义类型（表单需有 fields，流程需有 nodes，仪表板需有 widgets）",
                               "en": "Not a recognised definition (a form has \"fields\", a flow \"nodes\", "
                                     "a dashboard \"widgets\")"},
        "check.no_checker": {"zh-CN": "尚无 {kind} 定义的检查器", "en": "No checker for {kind} definitions yet"},
    }
)

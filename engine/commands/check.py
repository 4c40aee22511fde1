"""`safeflow check PATH…`: validate definition files and template packs; print every problem as
`file:line:column: message`.

A folder with a `pack.yaml` is checked as a pack (manifest, every definition, references to the
packs it depends on, taken from the bundled library), and so is every pack inside a folder given
(`safeflow check templates_library`). Other files are checked together, so a
flow can name a form given alongside it; the kind comes from a pack-style folder name or the
content (a form has "fields", a flow "nodes", a dashboard "widgets"; rules are `.rules`).
Checkers come from the one definition-kind registry (engine.runtime.definitions).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

import engine.runtime.definitions  # noqa: F401  (registers the engines' checkers)
from engine import i18n
from engine.commands.common import cli_locale, console, err_console
from engine.errors import Problem
from engine.runtime.packs.installer import check_offline
from engine.runtime.packs.kinds import KINDS, CheckContext, DefinitionSource, kind_for
from engine.runtime.packs.source import load_pack

SUFFIXES = {".json", ".rules", ".html"}
JSON_MARKERS = (("fields", "form"), ("nodes", "flow"), ("widgets", "report"))


def detect_kind(path: Path, text: str) -> tuple[str | None, Any]:
    by_folder = kind_for(f"{path.parent.name}/{path.name}")
    if by_folder is not None and by_folder.text:
        return by_folder.kind, text
    if path.suffix == ".rules":
        return "rule", text
    try:
        data = json.loads(text)
    except ValueError:
        return (by_folder.kind if by_folder else ("form" if '"fields"' in text else None)), None
    if by_folder is not None:
        return by_folder.kind, data
    if isinstance(data, dict):
        for marker, kind in JSON_MARKERS:
            if marker in data:
                return kind, data
    return None, data


def _collect(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    packs: list[Path] = []
    files: list[Path] = []
    for path in paths:
        if path.is_dir() and (path / "pack.yaml").is_file():
            packs.append(path)
        elif path.is_dir():
            # A library of packs (templates_library/): each pack inside is checked as a pack.
            roots = sorted(m.parent for m in path.rglob("pack.yaml") if m.is_file())
            packs += roots
            files += sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()
                            and not any(p.is_relative_to(root) for root in roots))
        else:
            files.append(path)
    return packs, files


def check_files(files: list[Path]) -> list[Problem]:
    problems: list[Problem] = []
    sources: list[DefinitionSource] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem("check.unreadable", {"detail": str(exc)}, file=str(path)))
            continue
        kind, body = detect_kind(path, text)
        if kind is None:
            problems.append(Problem("check.unknown_kind", {}, file=str(path), severity="warning"))
            continue
        key = body.get("key", path.stem) if isinstance(body, dict) else path.stem
        sources.append(DefinitionSource(kind, str(key), str(path), body, text))
    context = CheckContext(pack={(s.kind, s.key): s.body for s in sources if s.body is not None})
    for source in sources:
        checker = KINDS[source.kind].checker
        if checker is None:
            problems.append(Problem("check.no_checker", {"kind": source.kind}, file=source.file, severity="warning"))
            continue
        for problem in checker(source, context):
            # A reference to a form outside the checked files may well exist on the site: warn only.
            if problem.code in ("form.unknown_form", "definition.unknown_form", "rules.unknown_form"):
                problem = Problem(**{**problem.__dict__, "severity": "warning"})
            problems.append(problem.located(file=source.file))
    return problems


def check_paths(paths: Iterable[Path]) -> tuple[int, list[Problem]]:
    packs, files = _collect(list(paths))
    problems = check_files(files)
    count = len(files)
    for root in packs:
        source = load_pack(root)
        count += len(source.definitions) + 1
        problems += check_offline(source)
    return count, problems


def check(paths: Annotated[list[Path], typer.Argument(help="Definition files or folders (a template pack)")]) -> None:
    """Validate definition files and packs; print every problem as file:line:column: message."""
    locale = cli_locale()
    count, problems = check_paths(paths)
    for problem in problems:
        err_console.print(problem.format(locale), markup=False, highlight=False, soft_wrap=True)
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    console.print(i18n.message("check.summary", locale, files=count, errors=errors, warnings=warnings))
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

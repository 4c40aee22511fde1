"""`safeflow rules …`: check, publish, explain a firing, and dry-run rules against events."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from engine import i18n
from engine.commands.common import cli_locale, console, err_console, fail, open_site
from engine.errors import InvalidInput, SafeFlowError
from engine.store.audit import Actor

app = typer.Typer(help="Rules: check, publish, explain, dry-run", no_args_is_help=True)


def _print_problems(problems: list) -> None:
    locale = cli_locale()
    for p in problems:
        err_console.print(p.format(locale), markup=False, highlight=False, soft_wrap=True)
        context = p.params.get("context") if isinstance(p.params, dict) else None
        if context:
            err_console.print(str(context), markup=False, highlight=False, soft_wrap=True)


@app.command("check")
def check(file: Path) -> None:
    """Check a .rules file against the installed forms; every problem at once."""
    from engine.runtime.rules import check_text

    site = open_site()
    with site.session(readonly=True) as session:
        _compiled, problems = check_text(session, file.read_text(encoding="utf-8"), file=str(file))
    _print_problems(problems)
    if any(p.severity == "error" for p in problems):
        raise typer.Exit(2)
    console.print(i18n.message("rules.cli.ok", cli_locale(), file=str(file)))


@app.command("publish")
def publish(file: Path, key: Annotated[str | None, typer.Option(help="Rule set key (default: file name)")] = None
            ) -> None:
    """Publish a .rules file as the next version; takes effect without a restart."""
    from engine.runtime import rules as rules_runtime

    site = open_site()
    try:
        with site.session() as session:
            version = rules_runtime.publish(session, site, Actor.system("cli"), key or file.stem,
                                            file.read_text(encoding="utf-8"))
    except InvalidInput as exc:
        err_console.print(exc.message(cli_locale()), style="red", markup=False)
        _print_problems(exc.problems)
        raise typer.Exit(2) from exc
    console.print(i18n.message("rules.cli.published", cli_locale(), key=key or file.stem, version=version))


@app.command("explain")
def explain(rule: str, record: Annotated[int, typer.Option("--record", help="Record id")],
            as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """Why did (or didn't) RULE fire for a record: stored firings with every sub-condition."""
    from engine.runtime import explain as explaining

    site = open_site()
    try:
        with site.session(readonly=True) as session:
            result = explaining.explain(session, site, rule, record)
    except SafeFlowError as exc:
        raise fail(exc) from exc
    if as_json:
        console.print_json(json.dumps(result, default=str, ensure_ascii=False))
        return
    for line in explaining.lines(result, cli_locale()):
        console.print(line, markup=False, highlight=False)


@app.command("test")
def test(
    rules_file: Path,
    events: Annotated[Path, typer.Option("--events", help="JSON lines: create / update / reading / advance")],
    pack: Annotated[Path | None, typer.Option("--pack", help="Load forms and flows from this pack folder")] = None,
    start: Annotated[datetime | None, typer.Option(help="Clock start (ISO, with offset); default now")] = None,
) -> None:
    """Dry run: feed EVENTS to the rules in a scratch database; print one JSON line per action
    that would run. Nothing is ever sent."""
    from engine.runtime.dryrun import Definitions, dry_run, read_events

    try:
        stream = read_events(events)
        definitions = Definitions.from_pack(pack) if pack else Definitions.installed(open_site())
        for line in dry_run(rules_file.read_text(encoding="utf-8"), stream, definitions,
                            rules_file=str(rules_file), start=start):
            typer.echo(json.dumps(line, ensure_ascii=False, sort_keys=False, default=str))
    except InvalidInput as exc:
        err_console.print(exc.message(cli_locale()), style="red", markup=False)
        _print_problems(exc.problems)
        raise typer.Exit(2) from exc


@app.command("test-pack")
def test_pack(folder: Path) -> None:
    """Run a pack's rules/tests/*.jsonl (event lines, each followed by the actions it must cause)."""
    from engine.runtime.packs import load_pack
    from engine.runtime.rule_tests import check_pack_rule_tests

    problems = check_pack_rule_tests(load_pack(folder))
    _print_problems(problems)
    if problems:
        raise typer.Exit(1)
    console.print(i18n.message("rules.cli.ok", cli_locale(), file=str(folder)))




i18n.register_messages({
    "rules.cli.ok": {"zh-CN": "{file}：没有问题", "en": "{file}: no problems"},
    "rules.cli.published": {"zh-CN": "已发布规则集 {key} 第 {version} 版", "en": "Published rule set {key} v{version}"},
})

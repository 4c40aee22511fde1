"""`safeflow flow simulate|validate|import-bpmn|export-bpmn|migrate`."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from engine.commands.common import fail, print_problems
from engine.errors import InvalidInput, SafeFlowError

app = typer.Typer(name="flow", help="Flow definitions: simulate, validate, BPMN import/export, migrate.",
                  no_args_is_help=True)


def _read_json(path: Path) -> tuple[Any, str]:
    from engine.flows.source import load_json

    text = path.read_text(encoding="utf-8")
    raw, problems = load_json(text, str(path))
    if problems:
        raise InvalidInput.from_problems(problems)
    return raw, text


@app.command()
def simulate(
    flow: Annotated[Path, typer.Argument(help="FLOW.json", exists=True, dir_okay=False)],
    data: Annotated[Path | None, typer.Option("--data", help="DATA.json: the record", exists=True)] = None,
    script: Annotated[Path | None, typer.Option("--script", help="ACTIONS.jsonl: one action per line",
                                                exists=True)] = None,
    org: Annotated[Path | None, typer.Option("--org", help="ORG.json: users, departments, roles",
                                             exists=True)] = None,
    initiator: Annotated[str | None, typer.Option(help="Who starts (default: the first action's `by`)")] = None,
    at: Annotated[str | None, typer.Option(help="Start time, ISO 8601 (default: now)")] = None,
) -> None:
    """Run FLOW in memory and print one JSON line per step: open, completed, status, data."""
    from engine.flows.simulate import simulate as run

    try:
        _raw, flow_text = _read_json(flow)
        record = _read_json(data)[0] if data else {}
        org_raw = _read_json(org)[0] if org else None
        lines = script.read_text(encoding="utf-8").splitlines() if script else []
        start = datetime.fromisoformat(at) if at else None
        for step in run(flow_text, record, lines, org=org_raw, initiator=initiator, start=start,
                        script_file=str(script) if script else None, flow_file=str(flow)):
            sys.stdout.write(json.dumps(step, ensure_ascii=False, default=str) + "\n")
            sys.stdout.flush()
    except SafeFlowError as exc:
        raise fail(exc) from None


@app.command()
def validate(
    flow: Annotated[Path, typer.Argument(help="FLOW.json", exists=True, dir_okay=False)],
) -> None:
    """Check a flow definition: its shape, its graph, its expressions. Exit 2 on errors."""
    from engine.flows import parse_definition, validate_flow

    try:
        _raw, text = _read_json(flow)
        definition = parse_definition(text, file=str(flow))
        problems = validate_flow(definition, text=text, file=str(flow))
    except SafeFlowError as exc:
        raise fail(exc) from None
    print_problems(problems)
    if any(p.severity == "error" for p in problems):
        raise typer.Exit(code=2)
    typer.echo(f"{flow}: ok" + (f" ({len(problems)} warning(s))" if problems else ""))


@app.command("import-bpmn")
def import_bpmn(
    source: Annotated[Path, typer.Argument(help="FILE.bpmn", exists=True, dir_okay=False)],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="FLOW.json (default: stdout)")] = None,
    key: Annotated[str | None, typer.Option(help="Flow key (default: from the process id)")] = None,
    form: Annotated[str | None, typer.Option(help="Form key the flow is bound to")] = None,
) -> None:
    """Convert a BPMN 2.0 model (Camunda Modeler, bpmn.io, Flowable) to a SafeFlow flow.

    Elements that cannot be mapped are listed with their ids on stderr (never silently dropped);
    the exit code is 3 when any were skipped.
    """
    from engine.flows.bpmn_import import import_bpmn as convert
    from engine.flows.definition import dump_definition

    try:
        result = convert(source.read_bytes(), key=key, form=form, file=str(source))
    except SafeFlowError as exc:
        raise fail(exc) from None
    text = dump_definition(result.definition)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    print_problems(result.notes)
    if result.skipped:
        raise typer.Exit(code=3)


@app.command("export-bpmn")
def export_bpmn(
    flow: Annotated[Path, typer.Argument(help="FLOW.json", exists=True, dir_okay=False)],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="FILE.bpmn (default: stdout)")] = None,
) -> None:
    """Write a flow as BPMN 2.0 XML with diagram layout, for bpmn.io / Camunda Modeler."""
    from engine.flows import parse_definition
    from engine.flows.bpmn_export import export_bpmn as convert

    try:
        _raw, text = _read_json(flow)
        xml = convert(parse_definition(text, file=str(flow)))
    except SafeFlowError as exc:
        raise fail(exc) from None
    if output:
        output.write_bytes(xml)
    else:
        sys.stdout.write(xml.decode())


@app.command()
def migrate(
    key: Annotated[str, typer.Argument(help="Flow key")],
    to_version: Annotated[int | None, typer.Option("--to", help="Target version (default: the current)")] = None,
    from_version: Annotated[int | None, typer.Option("--from", help="Only instances on this version")] = None,
    mapping: Annotated[list[str] | None, typer.Option("--map", help="OLD_NODE=NEW_NODE (repeatable)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run/--apply", help="Report only (default) or apply")] = True,
) -> None:
    """Move running instances of a flow to another version, mapping nodes; dry run by default."""
    from engine.commands.common import open_site
    from engine.flows.migration import migrate_instances

    pairs: dict[str, str] = {}
    for item in mapping or []:
        old, sep, new = item.partition("=")
        if not sep or not old or not new:
            raise fail(InvalidInput("flow.migrate.bad_map", problems=[]))
        pairs[old.strip()] = new.strip()
    site = open_site()
    try:
        with site.session() as session:
            report = migrate_instances(session, key, to_version=to_version, from_version=from_version,
                                       mapping=pairs, dry_run=dry_run, clock=site.clock)
    except SafeFlowError as exc:
        raise fail(exc) from None
    for line in report.lines():
        typer.echo(line)
    if report.refused and not dry_run:
        raise typer.Exit(code=1)

"""`safeflow form …`: publish a definition, infer one from Excel, import/export records and the
import template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from engine.commands.common import cli_locale, console, err_console, fail, open_site, progress_bar
from engine.errors import SafeFlowError
from engine.forms.excel.export import export_xlsx, template_xlsx
from engine.forms.excel.importer import error_report_xlsx, import_xlsx
from engine.forms.excel.infer import infer_form
from engine.forms.publishing import publish
from engine.forms.records import RecordService
from engine.store.audit import Actor

form_app = typer.Typer(help="Forms: definitions, Excel import/export", no_args_is_help=True)
CLI = Actor.system("cli")


def _service(site, session) -> RecordService:
    return RecordService(session, site.events(session), tz=site.settings.tz, clock=site.clock)


@form_app.command("from-excel")
def from_excel(
    file: Annotated[Path, typer.Argument(help="An Excel form or checklist (.xlsx)")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the definition here")] = None,
    key: Annotated[str | None, typer.Option(help="The form key (default: from the file name)")] = None,
    sheet: Annotated[str | None, typer.Option(help="The sheet to read (default: the first)")] = None,
) -> None:
    """Turn an Excel form or paper checklist into a form definition to review and publish."""
    from engine.forms import check_form

    body = infer_form(file, key=key, sheet=sheet)
    text = json.dumps(body, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        console.print(text, markup=False, highlight=False)
    else:
        output.write_text(text, encoding="utf-8")
    _, problems = check_form(text, str(output or file))
    for problem in problems:
        err_console.print(problem.format(cli_locale()), markup=False, highlight=False, soft_wrap=True)
    fields = sum(1 for f in body["fields"] if f["type"] not in ("section", "divider"))
    err_console.print(f"{fields} fields → {output or 'stdout'}")


@form_app.command("publish")
def publish_file(file: Annotated[Path, typer.Argument(help="A form definition (.json)")]) -> None:
    """Check and publish a form definition (a new version if it changed)."""
    site = open_site()
    try:
        with site.session() as session:
            text = file.read_text(encoding="utf-8-sig")
            key = json.loads(text).get("key", "")
            published = publish(session, CLI, key, text)
    except SafeFlowError as exc:
        raise fail(exc) from exc
    console.print(f"{key} v{published.version} ({'published' if published.created else 'unchanged'})")


@form_app.command("export")
def export(form: str, file: Path, filter: Annotated[str | None, typer.Option(help="A filter expression")] = None
           ) -> None:
    """Export a form's records to xlsx."""
    from engine.forms.listing import ListQuery

    site = open_site()
    try:
        with site.session(readonly=True) as session, progress_bar(f"exporting {form}") as bar:
            count = export_xlsx(_service(site, session), form, file, locale=cli_locale(),
                                query=ListQuery(filter=filter),
                                progress=lambda n: bar.update(bar.task_ids[0], completed=n))
    except SafeFlowError as exc:
        raise fail(exc) from exc
    console.print(f"{count} records → {file}")


@form_app.command("template")
def template(form: str, file: Path) -> None:
    """Write the import template of a form."""
    site = open_site()
    with site.session(readonly=True) as session:
        template_xlsx(_service(site, session), form, file, locale=cli_locale())
    console.print(f"template → {file}")


@form_app.command("import")
def import_file(
    form: str,
    file: Path,
    mode: Annotated[str, typer.Option(help="all: all or nothing; valid: keep the good rows")] = "all",
    report: Annotated[Path | None, typer.Option(help="Also write the errors to this xlsx")] = None,
) -> None:
    """Import records from xlsx; prints each problem as sheet!cell: field: message."""
    if mode not in ("all", "valid"):
        raise typer.BadParameter("mode is all or valid")
    site = open_site()
    locale = cli_locale()
    try:
        with site.session() as session, progress_bar(f"importing {file.name}") as bar:
            outcome = import_xlsx(_service(site, session), form, file, mode=mode, locale=locale,  # type: ignore[arg-type]
                                  progress=lambda n: bar.update(bar.task_ids[0], completed=n))
    except SafeFlowError as exc:
        raise fail(exc) from exc
    for error in outcome.errors:
        err_console.print(f"{file}:{error.format(locale)}", markup=False, highlight=False, soft_wrap=True)
    if report is not None:
        error_report_xlsx(outcome, report, locale=locale)
    console.print(f"rows {outcome.rows}, created {outcome.created}, failed {outcome.failed_rows}")
    if not outcome.ok:
        raise typer.Exit(1)

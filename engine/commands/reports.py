"""`safeflow report …`: publish dashboards from files, export a dashboard (PDF, PNG) or its data
(xlsx). Dashboards are checked by `safeflow check` through the definition-kind registry
(engine.runtime.reports registers the checker)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from engine import i18n
from engine.commands.common import cli_locale, console, err_console, fail, open_site
from engine.errors import InvalidInput, NotFound, Problem, SafeFlowError
from engine.store.audit import Actor

report_app = typer.Typer(help="Dashboards: publish, export (PDF, PNG, xlsx)", no_args_is_help=True)
CLI = Actor.system("cli")


@report_app.command("publish")
def publish(files: Annotated[list[Path], typer.Argument(help="Dashboard definitions (.json)")]) -> None:
    """Check each dashboard against the site's forms and publish it (a new version if changed)."""
    from engine.runtime.reports import publish_dashboard

    site = open_site()
    for file in files:
        try:
            with site.session() as session:
                text = file.read_text(encoding="utf-8-sig")
                published = publish_dashboard(session, site, CLI, text)
        except SafeFlowError as exc:
            if isinstance(exc, InvalidInput):
                exc.problems = [p.located(file=str(file)) for p in exc.problems]
            raise fail(exc) from exc
        for warning in published.warnings:
            err_console.print(warning.located(file=str(file)).format(cli_locale()), markup=False, highlight=False)
        console.print(f"{published.dashboard.key} v{published.version}")


@report_app.command("export")
def export(
    key: Annotated[str, typer.Argument(help="The dashboard key")],
    format: Annotated[str, typer.Option("--format", "-f", help="pdf, png or xlsx")] = "pdf",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: a dated name)")] = None,
    widget: Annotated[str | None, typer.Option(help="Export only this widget")] = None,
    filters: Annotated[str | None, typer.Option(help='Filter values as JSON, e.g. {"date": "last_week"}')] = None,
    as_user: Annotated[str | None, typer.Option("--as", help="Render as this user (default: every row)")] = None,
) -> None:
    """Export a dashboard for a weekly report: PDF or PNG (offline, via Chromium) or xlsx data."""
    from sqlalchemy import select

    from engine.reports import Viewer
    from engine.reports.catalog import DashboardCatalog
    from engine.reports.exports import export_run
    from engine.reports.render import DashboardRun, file_images
    from engine.store.access import load_principal
    from engine.store.models import User

    if format not in ("pdf", "png", "xlsx"):
        raise fail(InvalidInput("reports.invalid", problems=[Problem("reports.bad_format", {"value": format},
                                                                      path="--format")]))
    try:
        values = json.loads(filters) if filters else {}
    except ValueError:
        raise fail(InvalidInput("reports.invalid", problems=[Problem("reports.filters_not_json",
                                                                      path="--filters")])) from None
    site = open_site()
    try:
        with site.session(readonly=True) as session:
            viewer = Viewer()
            if as_user:
                user_id = session.execute(select(User.id).where(User.username == as_user)).scalar_one_or_none()
                principal = load_principal(session, user_id) if user_id else None
                if principal is None:
                    raise NotFound(what=f"user {as_user}")
                viewer = Viewer(principal)
            dashboard, _ = DashboardCatalog(session).current(key)
            run = DashboardRun(session, dashboard, viewer, site.clock.now(), site.settings.tz, cli_locale(),
                               values if isinstance(values, dict) else {},
                               image=file_images(session, site.settings.files_dir))
            content, name = export_run(run, format, widget)
    except SafeFlowError as exc:
        raise fail(exc) from exc
    target = output or Path(name)
    target.write_bytes(content)
    console.print(f"{target} ({len(content):,} bytes)")


i18n.register_messages(
    {
        "reports.bad_format": {"zh-CN": "不支持的格式“{value}”（可选 pdf、png、xlsx）",
                               "en": "“{value}” is not a format (pdf, png or xlsx)"},
    }
)

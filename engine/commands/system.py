"""serve, db, user, org and audit commands."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from engine import i18n
from engine.commands.common import cli_locale, console, err_console, fail, open_site, progress_bar
from engine.config import get_settings
from engine.errors import SafeFlowError
from engine.identity import org
from engine.identity.orgimport import import_org
from engine.runtime.auditlog import export_xlsx
from engine.runtime.bootstrap import prepare_site
from engine.store import audit, migrate
from engine.store.audit import Actor

db_app = typer.Typer(help="Database schema", no_args_is_help=True)
user_app = typer.Typer(help="People", no_args_is_help=True)
org_app = typer.Typer(help="Organisation", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log", no_args_is_help=True)


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development)")] = False,
    demo: Annotated[bool, typer.Option(help="Install the bundled packs with demo data (first start only)")]
    = False,
    demo_records: Annotated[int, typer.Option(min=0, help="Demo records per pack form (with --demo)")] = 200,
    demo_password: Annotated[str | None, typer.Option(help="Password of the sample people (with --demo; "
                                                      "default: generated and shown once)")] = None,
) -> None:
    """Serve the API, the OpenAPI docs (/docs) and the web UI; creates the schema and first admin."""
    import uvicorn

    settings = get_settings()
    try:
        site, generated = prepare_site(settings)
    except SafeFlowError as exc:
        raise fail(exc) from exc
    site.db.dispose()
    host = host or settings.host
    port = port or settings.port
    if generated:
        console.print(f"[bold]{i18n.message('cli.admin_created', cli_locale(), user=settings.admin_username)}[/]")
        console.print(f"  password: [bold yellow]{generated}[/]")
    if demo:
        from engine.commands.demo import serve_demo

        serve_demo(settings, demo_records, demo_password)
    console.print(f"SafeFlow on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    console.print(f"database: {settings.effective_database_url}")
    uvicorn.run("engine.api.app:create_app", factory=True, host=host, port=port, reload=reload, log_level="info")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending schema migration."""
    site = open_site(migrate=False)
    site.migrate()
    console.print(f"schema at {sorted(migrate.current_heads(site.db.engine))}")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision and whether it is up to date."""
    site = open_site(migrate=False)
    heads = migrate.current_heads(site.db.engine)
    console.print(f"current: {sorted(heads)}  expected: {sorted(migrate.expected_heads())}")
    raise typer.Exit(0 if heads == migrate.expected_heads() else 1)


@user_app.command("create")
def user_create(
    username: str,
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    password: Annotated[str | None, typer.Option(help="Password (prompted if omitted)")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Site administrator")] = False,
    email: Annotated[str | None, typer.Option()] = None,
    role: Annotated[list[str] | None, typer.Option(help="Role key; repeatable")] = None,
) -> None:
    """Create a user."""
    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    site = open_site()
    try:
        with site.session() as session:
            actor = Actor.system("cli")
            user = org.create_user(session, actor, username=username, name=name, password=password, is_admin=admin,
                                   email=email)
            for key in role or []:
                org.assign_role(session, actor, user.id, key)
    except SafeFlowError as exc:
        raise fail(exc) from exc
    console.print(f"created user {username} (id {user.id})")


@org_app.command("import")
def org_import(file: Path) -> None:
    """Import people and departments from xlsx or CSV; all or nothing, every problem listed."""
    site = open_site()
    try:
        with site.session() as session, progress_bar(f"importing {file.name}") as bar:
            def advance(done: int, total: int) -> None:
                bar.update(bar.task_ids[0], completed=done, total=total)

            report = import_org(session, Actor.system("cli"), file, progress=advance)
    except SafeFlowError as exc:
        raise fail(exc) from exc
    console.print(f"created {report.created}, updated {report.updated}, "
                  f"new departments {report.departments_created}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit 1 naming the first bad entry."""
    site = open_site()
    with site.session(readonly=True) as session:
        result = audit.verify(session)
    if result.ok:
        console.print(result.message(cli_locale()))
        return
    err_console.print(result.message(cli_locale()), style="red", markup=False)
    raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    file: Path,
    actor: Annotated[str | None, typer.Option(help="Username of the actor")] = None,
    object_type: Annotated[str | None, typer.Option(help="e.g. record, user, definition")] = None,
    object_id: Annotated[str | None, typer.Option()] = None,
    since: Annotated[datetime | None, typer.Option(help="From (ISO date/time, UTC if no offset)")] = None,
    until: Annotated[datetime | None, typer.Option(help="Until, exclusive")] = None,
) -> None:
    """Export audit entries to xlsx, filtered by actor, object and time range."""
    from datetime import UTC

    def aware(value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    site = open_site()
    with site.session(readonly=True) as session:
        count = export_xlsx(session, file, locale=cli_locale(), actor=actor, object_type=object_type,
                            object_id=object_id, since=aware(since), until=aware(until))
    console.print(f"{count} entries → {file}")


i18n.register_messages(
    {
        "cli.admin_created": {"zh-CN": "已创建管理员账号 {user}（密码只显示这一次）",
                              "en": "Created the admin account {user} (the password is shown only once)"},
    }
)

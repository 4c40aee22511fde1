"""`safeflow demo`: realistic demo data for a template pack (docs/demo.md)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress

from engine.commands.common import console, fail, progress_bar
from engine.config import Settings, get_settings
from engine.errors import SafeFlowError

if TYPE_CHECKING:
    from engine.runtime.demo import DemoReport


def demo(
    pack: Annotated[list[str], typer.Option("--pack", help="Pack name or folder; repeatable")],
    records: Annotated[int, typer.Option("--records", "-n", min=0, help="How many records (N) per pack spec")] = 200,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data")] = 1,
    until: Annotated[datetime | None, typer.Option(help="End of the timeline (default: now)")] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Spread records over this many days "
                                             "(default: each pack's own span, e.g. 180)")] = None,
    password: Annotated[str | None, typer.Option(help="Set this password for the sample organisation's people")]
    = None,
) -> None:
    """Install the pack(s) if needed and write realistic records through the real services."""
    report = run_demo(pack, records, seed=seed, until=until, days=days, password=password)
    console.print(demo_summary(report))


def serve_demo(settings: Settings, records: int, password: str | None) -> DemoReport:
    """`serve --demo`: the bundled packs and their demo data, with a progress bar; the sample
    people's password is shown when it was generated."""
    from engine.runtime.demo import demo_site

    chosen = password or secrets.token_urlsafe(9)
    try:
        with progress_bar("demo", total=None) as bar:
            report = demo_site(settings, records, password=chosen, progress=_advance(bar))
    except SafeFlowError as exc:
        raise fail(exc) from exc
    console.print(demo_summary(report))
    if password is None and report.passwords_set:
        console.print(f"  sample people (e.g. {report.sample_user}) password: [bold yellow]{chosen}[/]")
    return report


def _advance(bar: Progress) -> Callable[[int, int, str], None]:
    task = bar.task_ids[0]

    def advance(done: int, total: int, day: str) -> None:
        bar.update(task, completed=done, total=total, description=f"demo {day}")

    return advance


def run_demo(packs: list[str], records: int, *, seed: int = 1, until: datetime | None = None,
             days: int | None = None, password: str | None = None) -> DemoReport:
    from engine.runtime.demo import generate_demo

    settings = get_settings()
    try:
        with progress_bar("demo", total=None) as bar:
            return generate_demo(settings, packs, records, seed=seed, until=until, days=days, password=password,
                                 progress=_advance(bar))
    except SafeFlowError as exc:
        raise fail(exc) from exc


def demo_summary(report: DemoReport) -> str:
    created = ", ".join(f"{form} {count}" for form, count in sorted(report.created.items()))
    return (f"demo data: {created or 'nothing new'}; {report.steps} flow steps; "
            f"{report.open_at_end} still open; {report.skipped} fixed rows already there")

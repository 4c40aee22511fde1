"""What every CLI command needs: settings, an opened site, a console, the user's locale."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from engine import i18n
from engine.config import Settings, get_settings
from engine.errors import Problem, SafeFlowError
from engine.runtime.bootstrap import wire
from engine.runtime.site import Site

console = Console()
# soft_wrap: a long `file:line:column: message` stays one line, so editors and greps can use it.
err_console = Console(stderr=True, soft_wrap=True)


def cli_locale() -> str:
    return i18n.normalize_locale(os.environ.get("SAFEFLOW_LOCALE") or os.environ.get("LANG", "").replace("_", "-")
                                 or get_settings().locale)


def open_site(settings: Settings | None = None, *, migrate: bool = True) -> Site:
    site = wire(Site(settings or get_settings()))
    if migrate:
        site.migrate()
    return site


def print_problems(problems: Iterable[Problem]) -> None:
    locale = cli_locale()
    for problem in problems:
        err_console.print(problem.format(locale), markup=False, highlight=False)


def fail(error: SafeFlowError) -> typer.Exit:
    """Print an error (and all its problems) in the user's locale; return the Exit to raise."""
    locale = cli_locale()
    err_console.print(f"error: {error.message(locale)}", markup=False, highlight=False, style="red")
    print_problems(error.problems)
    return typer.Exit(code=1 if error.status != 422 else 2)


@contextmanager
def progress_bar(description: str, total: int | None = None) -> Iterator[Progress]:
    """A progress bar for long work (imports, pack installs, demo data) on stderr."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err_console, transient=False) as progress:
        progress.add_task(description, total=total)
        yield progress

"""`safeflow pack …`: list, install, upgrade, diff, export, resolve conflicts, uninstall, fmt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from engine import i18n
from engine.commands.common import cli_locale, console, fail, open_site, print_problems, progress_bar
from engine.errors import SafeFlowError
from engine.runtime.packs import Packs, bundled_packs, find_pack, load_pack
from engine.runtime.packs.kinds import kind_for
from engine.runtime.packs.library import install_with_dependencies
from engine.store.audit import Actor

app = typer.Typer(help="Template packs", no_args_is_help=True)
ACTOR = Actor.system("cli")


@app.command("list")
def list_packs() -> None:
    """Bundled packs and what is installed."""
    site = open_site()
    locale = cli_locale()
    with site.session(readonly=True) as session:
        installed = {row.key: row.version for row in Packs(session, ACTOR).installed()}
    table = Table("pack", "name", "version", "installed")
    for source in bundled_packs():
        if source.manifest is None:
            continue
        table.add_row(source.key, i18n.localized(source.manifest.name.model_dump(), locale), source.manifest.version,
                      installed.pop(source.key, "-"))
    for key, version in installed.items():
        table.add_row(key, "", "", version)
    console.print(table)


@app.command("install")
def install(name: Annotated[str, typer.Argument(help="A bundled pack's name or a pack folder")]) -> None:
    """Check everything, then install (with bundled dependencies) in one transaction."""
    site = open_site()
    try:
        with site.session() as session, progress_bar("installing") as bar:
            reports = install_with_dependencies(
                Packs(session, ACTOR), name,
                progress=lambda key: bar.update(bar.task_ids[0], description=f"installing {key}"))
    except SafeFlowError as exc:
        raise fail(exc) from exc
    for report in reports:
        console.print(f"{report.pack} {report.version}: {len(report.published)} published, "
                      f"{len(report.unchanged)} unchanged")


@app.command("upgrade")
def upgrade(name: Annotated[str, typer.Argument(help="A bundled pack's name or a pack folder")]) -> None:
    """Three-way merge a new version with the site's edits; conflicts are listed, nothing lost."""
    site = open_site()
    try:
        with site.session() as session:
            report = Packs(session, ACTOR).upgrade(load_pack(find_pack(name)))
            conflicts = [(c.id, c.kind, c.key, c.path) for c in report.conflicts]
    except SafeFlowError as exc:
        raise fail(exc) from exc
    console.print(f"{report.pack} {report.from_version} → {report.to_version}: updated {len(report.updated)}, "
                  f"added {len(report.added)}, removed {len(report.removed)}, kept local {len(report.kept_local)}")
    for cid, kind, key, path in conflicts:
        console.print(f"  conflict #{cid}: {kind}/{key} {path or '/'}  (safeflow pack resolve {cid} mine|theirs)")
    raise typer.Exit(3 if conflicts else 0)


@app.command("diff")
def diff(name: str, against: Annotated[str | None, typer.Option(help="A newer pack folder to preview")] = None) -> None:
    """What the site edited since install, and what an upgrade would change or clash on."""
    site = open_site()
    try:
        with site.session(readonly=True) as session:
            source = load_pack(find_pack(against)) if against else None
            rows = Packs(session, ACTOR).diff(name, source)
    except SafeFlowError as exc:
        raise fail(exc) from exc
    console.print_json(json.dumps(rows, ensure_ascii=False))


@app.command("export")
def export(name: str, target: Path) -> None:
    """Write the pack as the site has it now into a folder (definitions as edited)."""
    site = open_site()
    try:
        with site.session(readonly=True) as session:
            written = Packs(session, ACTOR).export(name, target)
    except SafeFlowError as exc:
        raise fail(exc) from exc
    console.print(f"{len(written)} files → {target}")


@app.command("conflicts")
def conflicts(name: Annotated[str | None, typer.Argument()] = None) -> None:
    """Open upgrade conflicts with both values."""
    site = open_site()
    with site.session(readonly=True) as session:
        for c in Packs(session, ACTOR).conflicts(name):
            console.print(f"#{c.id} {c.pack} {c.kind}/{c.key} {c.path or '/'}")
            console.print(f"   mine:   {json.dumps(c.mine.get('value', '<deleted>'), ensure_ascii=False)}")
            console.print(f"   theirs: {json.dumps(c.theirs.get('value', '<deleted>'), ensure_ascii=False)}")


@app.command("resolve")
def resolve(conflict_id: int, take: Annotated[str, typer.Argument(help="mine or theirs")]) -> None:
    """Settle one upgrade conflict by keeping the site's value (mine) or taking the pack's (theirs)."""
    site = open_site()
    try:
        with site.session() as session:
            Packs(session, ACTOR).resolve(conflict_id, take)
    except SafeFlowError as exc:
        raise fail(exc) from exc
    console.print(f"conflict #{conflict_id}: took {take}")


@app.command("uninstall")
def uninstall(name: str) -> None:
    """Retire the pack's definitions (records stay readable) and forget the pack."""
    site = open_site()
    try:
        with site.session() as session:
            Packs(session, ACTOR).uninstall(name)
    except SafeFlowError as exc:
        raise fail(exc) from exc
    console.print(f"uninstalled {name}")


@app.command("fmt")
def fmt(folder: Path) -> None:
    """Rewrite a pack's JSON definitions in canonical form (so export is byte-identical)."""
    source = load_pack(folder)
    changed = 0
    for definition in source.definitions:
        kind = kind_for(definition.file)
        assert kind is not None
        text = kind.dump(definition.body)
        if text != definition.text:
            (source.root / definition.file).write_text(text, encoding="utf-8")
            changed += 1
    print_problems(p for p in source.problems if p.code != "pack.not_canonical")
    console.print(f"{changed} file(s) rewritten")

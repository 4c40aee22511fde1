"""Demo data: realistic records for installed template packs, written through the real services.

The engine knows no pack: each pack describes its data in `demo/*.yaml` (docs/demo.md). A demo
run installs the packs it is given (with their dependencies) if needed, imports their sample
organisations, then writes every pack's records in one timeline, in time order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from engine import i18n
from engine.config import Settings
from engine.errors import InvalidInput, Problem
from engine.identity import org
from engine.identity.orgimport import import_org
from engine.identity.secrets import hash_password
from engine.runtime.bootstrap import wire
from engine.runtime.demo.packs import check_demo, read_specs
from engine.runtime.demo.run import DEMO, DemoReport, DemoRun
from engine.runtime.demo.spec import DemoSpec
from engine.runtime.packs.installer import Packs, bundled_packs, find_pack
from engine.runtime.packs.library import install_order, install_with_dependencies
from engine.runtime.packs.source import PackSource, load_pack
from engine.runtime.site import Site
from engine.services import ManualClock
from engine.store.models import User

__all__ = ["DemoReport", "DemoRun", "check_demo", "demo_site", "generate_demo", "import_sample_orgs", "packs_in_order"]


def packs_in_order(names: list[str]) -> list[PackSource]:
    """The named packs (bundled names or folders) and their dependencies, each once, dependencies first."""
    seen: dict[str, PackSource] = {}
    for name in names:
        for source in install_order(load_pack(find_pack(name)), set()):
            seen.setdefault(source.key, source)
    return list(seen.values())


def _specs(sources: list[PackSource]) -> list[DemoSpec]:
    problems = []
    ordered: list[tuple[int, int, str, DemoSpec]] = []
    for position, source in enumerate(sources):
        problems += check_demo(source)
        specs, _ = read_specs(source)
        ordered += [(spec.order, position, shown, spec) for shown, spec, _node in specs]
    if any(p.severity == "error" for p in problems):
        raise InvalidInput("demo.invalid", problems=problems)
    return [spec for *_rest, spec in sorted(ordered, key=lambda item: item[:3])]


def import_sample_orgs(site: Site, sources: list[PackSource], password: str | None, *,
                 keep: bool = False) -> tuple[int, str]:
    """Each pack's sample organisation (seed/org.csv), imported like `safeflow org import`;
    `password` is set for its people (with `keep`, only for those who have none yet).
    Returns how many got it and one of their usernames."""
    count, sample = 0, ""
    hashed = ""
    for source in sources:
        text = source.files.get("seed/org.csv")
        if not text:
            continue
        path = site.settings.data_dir / f"demo-org-{source.key}.csv"
        path.write_text(text, encoding="utf-8")
        try:
            with site.session() as session:
                import_org(session, DEMO, path)
        finally:
            path.unlink(missing_ok=True)
        if password:
            usernames = [row["username"] for row in csv.DictReader(io.StringIO(text))]
            with site.session() as session:
                query = select(User.id).where(User.username.in_(usernames))
                if keep:
                    query = query.where(User.password_hash.is_(None))
                # One hash for all the packs' people: they share the password anyway.
                hashed = hashed or hash_password(password)
                for user_id, username in session.execute(query.add_columns(User.username)).all():
                    org.set_password(session, DEMO, user_id, password, hashed=hashed)
                    count, sample = count + 1, sample or username
    return count, sample


def generate_demo(settings: Settings, packs: list[str], n: int, *, seed: int = 1, until: datetime | None = None,
                  password: str | None = None, days: int | None = None, fresh_only: bool = False,
                  schedule_step: timedelta = timedelta(hours=6),
                  progress: Callable[[int, int, str], None] | None = None) -> DemoReport:
    """Install `packs` if needed, import their sample organisations, and write demo records for
    every pack among them and their dependencies (N scales each spec's `records`).

    `schedule_step`: how often scheduled rules run in the replayed history (DemoRun).
    With `fresh_only`, forms that already hold records get no generated ones: starting
    `serve --demo` again adds nothing."""
    if password is not None and len(password) < 8:
        raise InvalidInput(problems=[Problem("org.password_short", {"min": 8}, path="password")])
    sources = packs_in_order(packs)
    specs = _specs(sources)
    end = (until or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    clock = ManualClock(end)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    site = wire(Site(settings, clock=clock))
    site.dry_run = True  # demo notifications are kept, never sent
    try:
        site.migrate()
        with site.session() as session:
            packs_api = Packs(session, DEMO)
            installed = {row.key for row in packs_api.installed()}
            for source in sources:
                if source.key not in installed:
                    install_with_dependencies(packs_api, source.root)
                    installed.add(source.key)
        passwords, sample = import_sample_orgs(site, sources, password, keep=fresh_only)
        run = DemoRun(site, clock, specs, n, seed=seed, until=end, days=days, fresh_only=fresh_only,
                      schedule_step=schedule_step)
        report = run.run(progress)
        report.passwords_set, report.sample_user = passwords, sample
        return report
    finally:
        site.db.dispose()


def demo_site(settings: Settings, records: int, *, password: str | None = None,
              progress: Callable[[int, int, str], None] | None = None) -> DemoReport:
    """What `serve --demo` does before serving: every bundled pack installed, with demo data
    written the first time only (a restart keeps what is there)."""
    return generate_demo(settings, [source.key for source in bundled_packs()], records, password=password,
                         fresh_only=True, progress=progress)


i18n.register_messages({
    "demo.invalid": {"zh-CN": "演示数据定义有 {count} 处问题，未写入任何数据",
                     "en": "The demo specs have {count} problem(s); nothing was written"},
})

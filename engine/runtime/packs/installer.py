"""Installing, upgrading, exporting and removing template packs.

Install checks everything first and applies it in the caller's transaction (all or nothing);
installing the same version again changes nothing. Upgrade three-way merges each definition
(installed base, the site's edits, the new version): clean merges are published, conflicts keep
the site's value and are listed for the admin. Export writes the site's current definitions
back into a folder, byte for byte as a pack would carry them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

import engine
import templates_library
from engine import i18n
from engine.errors import Conflict, InvalidInput, NotFound, Problem
from engine.identity import org
from engine.runtime.packs import merge as merging
from engine.runtime.packs.kinds import KINDS, PACK_CHECKS, CheckContext
from engine.runtime.packs.manifest import load_manifest, parse_version, satisfies
from engine.runtime.packs.source import PackSource, load_pack, write_file
from engine.store import audit
from engine.store.audit import Actor
from engine.store.base import utcnow
from engine.store.definitions import DefinitionRepository
from engine.store.models import InstalledPack, PackConflict

LIBRARY = Path(templates_library.__file__).parent


def check_definitions(source: PackSource, context: CheckContext) -> list[Problem]:
    """Run each definition's registered checker; files are named as `<pack>/<path>`."""
    problems: list[Problem] = []
    for definition in source.ordered():
        checker = KINDS[definition.kind].checker
        if checker is None:
            continue
        shown = replace(definition, file=f"{source.root.name}/{definition.file}")
        problems.extend(p.located(file=shown.file) for p in checker(shown, context))
    return problems


def check_offline(source: PackSource) -> list[Problem]:
    """Check a pack without a site: what it depends on is taken from the bundled library."""
    problems = list(source.problems)
    library = {p.key: p for p in bundled_packs()}
    known: dict[tuple[str, str], Any] = {}
    for name, _op, _version in (source.manifest.requirements() if source.manifest else []):
        if name in library:
            known.update(library[name].by_id())
        else:
            problems.append(Problem("pack.missing_dependency", {"pack": name, "wanted": ""},
                                    file=f"{source.root.name}/pack.yaml", path="depends", severity="warning"))
    context = CheckContext(pack=source.by_id(), installed=lambda kind, key: known.get((kind, key)))
    problems += check_definitions(source, context)
    for pack_check in PACK_CHECKS:
        problems += pack_check(source)
    return problems


def find_pack(name_or_path: str | Path) -> Path:
    """A folder given by path, or a bundled pack by name."""
    path = Path(name_or_path)
    if path.is_dir():
        return path
    bundled = LIBRARY / str(name_or_path)
    if (bundled / "pack.yaml").is_file():
        return bundled
    raise NotFound(what=f"pack {name_or_path}")


def bundled_packs() -> list[PackSource]:
    return [load_pack(p) for p in sorted(LIBRARY.iterdir()) if (p / "pack.yaml").is_file()]


def _id(kind: str, key: str) -> str:
    return f"{kind}/{key}"


def _wrap(value: Any) -> dict[str, Any]:
    return {} if value is merging.MISSING else {"value": value}


def _unwrap(stored: Any) -> Any:
    return stored["value"] if isinstance(stored, dict) and "value" in stored else merging.MISSING


@dataclass
class InstallReport:
    pack: str
    version: str
    published: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@dataclass
class UpgradeReport:
    pack: str
    from_version: str
    to_version: str
    updated: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept_local: list[str] = field(default_factory=list)
    conflicts: list[PackConflict] = field(default_factory=list)


class Packs:
    """Pack lifecycle bound to one unit of work."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self.definitions = DefinitionRepository(session)

    # --- reading state ------------------------------------------------------------------------

    def installed(self, key: str | None = None) -> list[InstalledPack]:
        query = select(InstalledPack).order_by(InstalledPack.key)
        if key is not None:
            query = query.where(InstalledPack.key == key)
        return list(self.session.execute(query).scalars())

    def get(self, key: str) -> InstalledPack:
        row = self.session.get(InstalledPack, key)
        if row is None:
            raise NotFound(what=f"installed pack {key}")
        return row

    def conflicts(self, key: str | None = None, *, open_only: bool = True) -> list[PackConflict]:
        query = select(PackConflict).order_by(PackConflict.id)
        if key is not None:
            query = query.where(PackConflict.pack == key)
        if open_only:
            query = query.where(PackConflict.resolved.is_(False))
        return list(self.session.execute(query).scalars())

    def _installed_body(self, kind: str, key: str) -> Any | None:
        row = self.definitions.current(kind, key)
        return row.body if row is not None else None

    # --- checking -----------------------------------------------------------------------------

    def check(self, source: PackSource) -> list[Problem]:
        """Every problem of the pack: files, manifest, requirements, each definition's checker."""
        problems = list(source.problems)
        manifest = source.manifest
        if manifest is not None:
            shown = f"{source.root.name}/pack.yaml"
            if parse_version(manifest.min_safeflow) > parse_version(engine.__version__):
                problems.append(Problem("pack.needs_newer", {"wanted": manifest.min_safeflow,
                                                             "have": engine.__version__}, file=shown,
                                        path="min_safeflow"))
            for name, op, wanted in manifest.requirements():
                have = self.session.get(InstalledPack, name)
                if have is None or not satisfies(have.version, op, wanted):
                    problems.append(Problem("pack.missing_dependency",
                                            {"pack": name, "wanted": f"{op or ''}{wanted or ''}"}, file=shown,
                                            path="depends"))
        context = CheckContext(pack=source.by_id(), installed=self._installed_body)
        return problems + check_definitions(source, context)

    # --- install ------------------------------------------------------------------------------

    def install(self, source: PackSource) -> InstallReport:
        problems = self.check(source)
        if any(p.severity == "error" for p in problems) or source.manifest is None:
            raise InvalidInput("pack.invalid", problems=problems, pack=source.key)
        manifest = source.manifest
        existing = self.session.get(InstalledPack, manifest.key)
        if existing is not None and existing.version != manifest.version:
            raise Conflict("pack.use_upgrade", pack=manifest.key, installed=existing.version,
                           version=manifest.version)
        report = InstallReport(manifest.key, manifest.version)
        self._stage_forms(source)
        for definition in source.ordered():
            created = self._publish(definition.kind, definition.key, definition.body, manifest.key)
            (report.published if created else report.unchanged).append(_id(definition.kind, definition.key))
        self._apply_roles(source)
        base = {_id(d.kind, d.key): d.body for d in source.definitions}
        if existing is None:
            self.session.add(InstalledPack(key=manifest.key, version=manifest.version,
                                           manifest_text=source.manifest_text, base=base, files=source.files,
                                           installed_by=self.actor.id))
        else:
            existing.manifest_text, existing.base, existing.files = source.manifest_text, base, source.files
        self.session.flush()
        audit.append(self.session, self.actor, "pack.install", "pack", manifest.key,
                     {"version": manifest.version, "published": report.published})
        return report

    def _stage_forms(self, source: PackSource) -> None:
        """Save new or changed forms as drafts first, so a form's relation to another form of the
        same pack resolves whichever of the two is published first."""
        for definition in source.ordered():
            if definition.kind != "form":
                continue
            current = self.definitions.current("form", definition.key)
            if current is None or current.body != definition.body:
                self.definitions.save_draft(self.actor, "form", definition.key, definition.body,
                                            pack=source.key)

    def _publish(self, kind: str, key: str, body: Any, pack: str) -> bool:
        publisher = KINDS[kind].publisher
        before = self.definitions.current(kind, key)
        if publisher is not None:
            version = publisher(self.session, self.actor, key, body, pack)
            return before is None or before.version != version
        return self.definitions.publish(self.actor, kind, key, body, pack=pack).created

    def _apply_roles(self, source: PackSource) -> None:
        for role in source.roles():
            org.ensure_role(self.session, self.actor, role["key"], role.get("name") or {"zh": role["key"],
                                                                                       "en": role["key"]})
            for grant in role.get("grants", []):
                org.grant(self.session, self.actor, role["key"], kind=grant["kind"], key=grant["key"],
                          action=grant["action"], scope=grant.get("scope", "all"), fields=grant.get("fields"))

    # --- upgrade ------------------------------------------------------------------------------

    def upgrade(self, source: PackSource) -> UpgradeReport:
        problems = self.check(source)
        if any(p.severity == "error" for p in problems) or source.manifest is None:
            raise InvalidInput("pack.invalid", problems=problems, pack=source.key)
        manifest = source.manifest
        row = self.get(manifest.key)
        report = UpgradeReport(manifest.key, row.version, manifest.version)
        new_bodies = {_id(d.kind, d.key): d for d in source.ordered()}
        for ident, definition in new_bodies.items():
            base = row.base.get(ident, merging.MISSING)
            mine = self._installed_body(definition.kind, definition.key)
            mine = merging.MISSING if mine is None else mine
            self._upgrade_one(report, definition.kind, definition.key, base, mine, definition.body)
        for ident, base in row.base.items():
            if ident in new_bodies:
                continue
            kind, key = ident.split("/", 1)
            mine = self._installed_body(kind, key)
            if mine == base:
                self.definitions.retire(self.actor, kind, key)
                report.removed.append(ident)
            elif mine is not None:
                report.conflicts.append(self._conflict(row.key, kind, key, "", base, mine, merging.MISSING, report))
        self._apply_roles(source)
        row.version, row.manifest_text, row.files = manifest.version, source.manifest_text, source.files
        row.base = {ident: d.body for ident, d in new_bodies.items()}
        row.upgraded_at = utcnow()
        self.session.flush()
        audit.append(self.session, self.actor, "pack.upgrade", "pack", manifest.key,
                     {"from": report.from_version, "to": report.to_version, "updated": report.updated,
                      "conflicts": len(report.conflicts)})
        return report

    def _upgrade_one(self, report: UpgradeReport, kind: str, key: str, base: Any, mine: Any, theirs: Any) -> None:
        ident = _id(kind, key)
        if KINDS[kind].text and all(isinstance(x, str) for x in (base, mine, theirs)):
            result = merging.merge_rule_text(base, mine, theirs) if kind == "rule" else merging.merge(base, mine,
                                                                                                      theirs)
        else:
            result = merging.merge(base, mine, theirs)
        for c in result.conflicts:
            report.conflicts.append(self._conflict(report.pack, kind, key, c.path, c.base, c.mine, c.theirs,
                                                   report))
        if result.value is merging.MISSING:
            return
        if mine is merging.MISSING:
            report.added.append(ident)
        if result.value != mine:
            self._publish(kind, key, result.value, report.pack)
            if ident not in report.added:
                report.updated.append(ident)
        elif mine != theirs and mine is not merging.MISSING:
            report.kept_local.append(ident)

    def _conflict(self, pack: str, kind: str, key: str, path: str, base: Any, mine: Any, theirs: Any,
                  report: UpgradeReport) -> PackConflict:
        row = PackConflict(pack=pack, kind=kind, key=key, path=path, base=_wrap(base), mine=_wrap(mine),
                           theirs=_wrap(theirs), from_version=report.from_version, to_version=report.to_version)
        self.session.add(row)
        self.session.flush()
        return row

    def resolve(self, conflict_id: int, take: str) -> int | None:
        """Take "mine" (keep the site's value) or "theirs" (the pack's) for one conflict."""
        row = self.session.get(PackConflict, conflict_id)
        if row is None:
            raise NotFound(what=f"conflict {conflict_id}")
        if take not in ("mine", "theirs"):
            raise InvalidInput(problems=[Problem("pack.bad_take", {"value": take}, path="take")])
        version = None
        if take == "theirs":
            theirs = _unwrap(row.theirs)
            current = self._installed_body(row.kind, row.key)
            if current is None and theirs is merging.MISSING:
                pass
            elif theirs is merging.MISSING and row.path == "":
                self.definitions.retire(self.actor, row.kind, row.key)
            else:
                body = merging.set_pointer(current, row.path, theirs)
                self._publish(row.kind, row.key, body, row.pack)
                version = self.definitions.current(row.kind, row.key).version
        row.resolved, row.resolution = True, take
        audit.append(self.session, self.actor, "pack.resolve", "pack", row.pack,
                     {"conflict": row.id, "kind": row.kind, "key": row.key, "path": row.path, "take": take})
        return version

    # --- export, diff, uninstall --------------------------------------------------------------

    def export(self, key: str, target: Path) -> list[str]:
        """Write the pack as the site has it now: current definitions, the pack's other files."""
        row = self.get(key)
        written = []
        target.mkdir(parents=True, exist_ok=True)
        write_file(target / "pack.yaml", row.manifest_text)
        written.append("pack.yaml")
        for rel, content in sorted(row.files.items()):
            write_file(target / rel, content)
            written.append(rel)
        for kind in KINDS.values():
            for def_key in self.definitions.keys(kind.kind, pack=key, include_drafts=False):
                current = self.definitions.current(kind.kind, def_key)
                if current is None:
                    continue
                rel = f"{kind.folder}/{def_key}{kind.suffix}"
                write_file(target / rel, kind.dump(current.body))
                written.append(rel)
        return sorted(written)

    def diff(self, key: str, source: PackSource | None = None) -> list[dict[str, Any]]:
        """Per definition: did the site edit it, does the new version change it, would they clash."""
        row = self.get(key)
        new = source.by_id() if source else {}
        out = []
        idents = list(row.base) + [_id(k, n) for (k, n) in new if _id(k, n) not in row.base]
        for ident in idents:
            kind, def_key = ident.split("/", 1)
            base = row.base.get(ident, merging.MISSING)
            mine = self._installed_body(kind, def_key)
            mine = merging.MISSING if mine is None else mine
            theirs = new.get((kind, def_key), merging.MISSING) if source else base
            result = merging.merge(base, mine, theirs)
            out.append({
                "definition": ident,
                "edited_locally": mine != base,
                "changed_upstream": source is not None and theirs != base,
                "conflicts": [c.path or "/" for c in result.conflicts],
            })
        return out

    def uninstall(self, key: str) -> None:
        """Retire the pack's definitions (records written with them stay readable) and forget it."""
        row = self.get(key)
        dependents = [p.key for p in self.installed() if p.key != key and key in _requirements_of(p)]
        if dependents:
            raise Conflict("pack.in_use", pack=key, dependents=", ".join(dependents))
        for ident in row.base:
            kind, def_key = ident.split("/", 1)
            self.definitions.retire(self.actor, kind, def_key)
        self.session.execute(delete(PackConflict).where(PackConflict.pack == key))
        self.session.delete(row)
        audit.append(self.session, self.actor, "pack.uninstall", "pack", key, {"version": row.version})


def _requirements_of(row: InstalledPack) -> set[str]:
    manifest, _ = load_manifest(row.manifest_text)
    return {name for name, _op, _version in manifest.requirements()} if manifest else set()


i18n.register_messages(
    {
        "pack.invalid": {"zh-CN": "模板包 {pack} 有 {count} 处问题，未安装任何内容",
                         "en": "Pack {pack} has {count} problem(s); nothing was installed"},
        "pack.no_manifest": {"zh-CN": "缺少 pack.yaml", "en": "pack.yaml is missing"},
        "pack.bad_yaml": {"zh-CN": "YAML 格式错误：{detail}", "en": "Bad YAML: {detail}"},
        "pack.bad_json": {"zh-CN": "JSON 格式错误：{detail}", "en": "Bad JSON: {detail}"},
        "pack.bad_manifest": {"zh-CN": "pack.yaml 有误：{detail}", "en": "pack.yaml: {detail}"},
        "pack.key_mismatch": {"zh-CN": "定义的 key “{key}” 与文件名 “{name}” 不一致",
                              "en": "The definition's key \"{key}\" does not match its file name \"{name}\""},
        "pack.not_canonical": {"zh-CN": "文件不是规范格式（导出时会改写）；运行 safeflow pack fmt",
                               "en": "Not in canonical format (export would rewrite it); run safeflow pack fmt"},
        "pack.needs_newer": {"zh-CN": "需要 SafeFlow {wanted} 或更新（当前 {have}）",
                             "en": "Needs SafeFlow {wanted} or newer (this is {have})"},
        "pack.missing_dependency": {"zh-CN": "需要先安装模板包 {pack}{wanted}",
                                    "en": "Install pack {pack}{wanted} first"},
        "pack.use_upgrade": {"zh-CN": "已安装 {pack} {installed}；要换成 {version} 请用 upgrade",
                             "en": "{pack} {installed} is installed; use upgrade to move to {version}"},
        "pack.in_use": {"zh-CN": "模板包 {pack} 被 {dependents} 依赖，不能卸载",
                        "en": "Pack {pack} is needed by {dependents}"},
        "pack.bad_take": {"zh-CN": "只能选 mine 或 theirs，收到 {value}",
                          "en": "Take \"mine\" or \"theirs\", not {value}"},
    }
)

i18n.register_messages(
    {"pack.dependency_cycle": {"zh-CN": "模板包依赖成环：{cycle}", "en": "Pack dependencies form a cycle: {cycle}"}}
)

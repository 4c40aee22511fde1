"""Template packs over the API: the same lifecycle as `safeflow pack …`."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from engine import i18n
from engine.api.deps import LocaleDep, PrincipalDep, SessionDep, require
from engine.api.errors import ERRORS
from engine.errors import InvalidInput, Problem
from engine.runtime.packs import Packs, bundled_packs, find_pack, load_pack
from engine.runtime.packs.library import install_with_dependencies
from engine.store.access import Access

router = APIRouter(prefix="/api/v1", tags=["packs"], responses=ERRORS)
CanDesign = Annotated[Access, Depends(require("pack", "design", key_param="name"))]
CanDesignAny = Annotated[Access, Depends(require("pack", "design", "*"))]


class PackInfo(BaseModel):
    key: str
    name: str
    description: str
    version: str | None
    installed_version: str | None


@router.get("/packs", response_model=list[PackInfo], summary="Bundled and installed packs")
def list_packs(session: SessionDep, principal: PrincipalDep, locale: LocaleDep) -> list[PackInfo]:
    installed = {row.key: row.version for row in Packs(session, principal.actor).installed()}
    out = []
    for source in bundled_packs():
        if source.manifest is None:
            continue
        out.append(PackInfo(key=source.key, name=i18n.localized(source.manifest.name.model_dump(), locale),
                            description=i18n.localized(source.manifest.description.model_dump(), locale),
                            version=source.manifest.version, installed_version=installed.pop(source.key, None)))
    out += [PackInfo(key=k, name=k, description="", version=None, installed_version=v) for k, v in installed.items()]
    return out


class Installed(BaseModel):
    pack: str
    version: str
    published: list[str]
    unchanged: list[str]


@router.post("/packs/{name}/install", response_model=list[Installed],
             summary="Install a bundled pack with its dependencies (all or nothing, idempotent)")
def install(name: str, session: SessionDep, principal: PrincipalDep, _: CanDesign) -> list[Installed]:
    reports = install_with_dependencies(Packs(session, principal.actor), name)
    return [Installed(pack=r.pack, version=r.version, published=r.published, unchanged=r.unchanged) for r in reports]


@router.post("/packs/upload", response_model=list[Installed], summary="Install a pack uploaded as a zip")
def upload(file: UploadFile, session: SessionDep, principal: PrincipalDep, _: CanDesignAny) -> list[Installed]:
    with tempfile.TemporaryDirectory() as tmp:
        root = _unzip(file, Path(tmp))
        reports = install_with_dependencies(Packs(session, principal.actor), root)
    return [Installed(pack=r.pack, version=r.version, published=r.published, unchanged=r.unchanged) for r in reports]


def _unzip(file: UploadFile, target: Path) -> Path:
    try:
        archive = zipfile.ZipFile(io.BytesIO(file.file.read()))
    except zipfile.BadZipFile as exc:
        raise InvalidInput(problems=[Problem("pack.bad_zip", path="file")]) from exc
    for member in archive.infolist():
        dest = (target / member.filename).resolve()
        if not dest.is_relative_to(target.resolve()):  # no "../" escapes from an uploaded archive
            raise InvalidInput(problems=[Problem("pack.bad_zip", path=member.filename)])
    archive.extractall(target)
    manifests = list(target.rglob("pack.yaml"))
    if len(manifests) != 1:
        raise InvalidInput(problems=[Problem("pack.no_manifest", path="file")])
    return manifests[0].parent


class ConflictOut(BaseModel):
    id: int
    pack: str
    kind: str
    key: str
    path: str
    base: Any
    mine: Any
    theirs: Any
    from_version: str
    to_version: str


class Upgraded(BaseModel):
    pack: str
    from_version: str
    to_version: str
    updated: list[str]
    added: list[str]
    removed: list[str]
    kept_local: list[str]
    conflicts: list[ConflictOut]


def _conflict(c: Any) -> ConflictOut:
    return ConflictOut(id=c.id, pack=c.pack, kind=c.kind, key=c.key, path=c.path, base=c.base, mine=c.mine,
                       theirs=c.theirs, from_version=c.from_version, to_version=c.to_version)


@router.post("/packs/{name}/upgrade", response_model=Upgraded,
             summary="Upgrade to the bundled version, keeping the site's edits (conflicts listed)")
def upgrade(name: str, session: SessionDep, principal: PrincipalDep, _: CanDesign) -> Upgraded:
    report = Packs(session, principal.actor).upgrade(load_pack(find_pack(name)))
    return Upgraded(pack=report.pack, from_version=report.from_version, to_version=report.to_version,
                    updated=report.updated, added=report.added, removed=report.removed, kept_local=report.kept_local,
                    conflicts=[_conflict(c) for c in report.conflicts])


@router.get("/packs/{name}/diff", summary="Local edits since install and what the bundled version changes")
def diff(name: str, session: SessionDep, principal: PrincipalDep, _: CanDesign) -> list[dict[str, Any]]:
    source = load_pack(find_pack(name))
    return Packs(session, principal.actor).diff(name, source)


@router.get("/packs/{name}/conflicts", response_model=list[ConflictOut], summary="Open upgrade conflicts")
def conflicts(name: str, session: SessionDep, principal: PrincipalDep, _: CanDesign) -> list[ConflictOut]:
    return [_conflict(c) for c in Packs(session, principal.actor).conflicts(name)]


class Resolution(BaseModel):
    take: Literal["mine", "theirs"]


@router.post("/pack-conflicts/{conflict_id}/resolve", status_code=204, summary="Keep mine or take theirs")
def resolve(conflict_id: int, body: Resolution, session: SessionDep, principal: PrincipalDep,
            _: CanDesignAny) -> None:
    Packs(session, principal.actor).resolve(conflict_id, body.take)


@router.get("/packs/{name}/export.zip", summary="The pack as the site has it now, as a zip")
def export(name: str, session: SessionDep, principal: PrincipalDep, _: CanDesign) -> StreamingResponse:
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        written = Packs(session, principal.actor).export(name, Path(tmp) / name)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for rel in written:
                archive.write(Path(tmp) / name / rel, f"{name}/{rel}")
    buffer.seek(0)
    return StreamingResponse(buffer, media_type="application/zip",
                             headers={"Content-Disposition": f'attachment; filename="{name}.zip"'})


@router.delete("/packs/{name}", status_code=204, summary="Uninstall (definitions retired, records kept)")
def uninstall(name: str, session: SessionDep, principal: PrincipalDep, _: CanDesign) -> None:
    Packs(session, principal.actor).uninstall(name)


i18n.register_messages({"pack.bad_zip": {"zh-CN": "不是有效的模板包压缩文件", "en": "Not a valid pack archive"}})

"""Helpers for the tests of the bundled packs: install one with its dependencies, bring in
the sample organisation with a known password, copy a pack to edit it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.runtime.demo import import_sample_orgs, packs_in_order
from engine.runtime.packs import Packs
from engine.runtime.packs.installer import find_pack
from engine.runtime.packs.library import install_with_dependencies
from engine.runtime.site import Site
from engine.store.definitions import DefinitionRepository
from engine.store.models import User
from tests.helpers import PASSWORD, SETUP


def install(site: Site, name: str | Path) -> list[Any]:
    with site.session() as session:
        return install_with_dependencies(Packs(session, SETUP), name)


def with_people(site: Site, name: str) -> dict[str, int]:
    """Install `name` and import its packs' sample organisations; everyone's password is PASSWORD."""
    install(site, name)
    import_sample_orgs(site, packs_in_order([name]), PASSWORD)
    with site.session() as session:
        return {username: user_id for username, user_id in session.execute(select(User.username, User.id))}


def copy_pack(name: str, target: Path) -> Path:
    shutil.copytree(find_pack(name), target)
    return target


def current(site: Site, kind: str, key: str) -> Any:
    with site.session() as session:
        row = DefinitionRepository(session).current(kind, key)
        return row.body if row else None


def publish(site: Site, kind: str, key: str, body: Any) -> None:
    """A site's own edit of an installed definition (what the designer saves)."""
    with site.session() as session:
        DefinitionRepository(session).publish(SETUP, kind, key, body)


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

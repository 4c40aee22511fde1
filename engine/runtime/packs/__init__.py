"""Template packs: folders of definitions an EHS team installs, edits and upgrades."""

from engine.runtime.packs.installer import InstallReport, Packs, UpgradeReport, bundled_packs, find_pack
from engine.runtime.packs.kinds import DefinitionSource
from engine.runtime.packs.source import PackSource, load_pack

__all__ = [
    "DefinitionSource", "InstallReport", "PackSource", "Packs", "UpgradeReport", "bundled_packs", "find_pack",
    "load_pack",
]

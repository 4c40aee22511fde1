"""Dictionaries: lookup tables a pack ships, read by formulas, flow conditions and rules."""

from pathlib import Path
from typing import Any

import pytest

from engine.errors import InvalidInput
from engine.runtime.packs import Packs, load_pack
from engine.runtime.packs.kinds import canonical_json_text
from engine.runtime.site import Site
from tests.forms.support import publish_form, records
from tests.helpers import SETUP

VALIDITY = {
    "key": "permit_validity",
    "title": {"zh": "作业票有效期", "en": "Permit validity"},
    "source": "GB 30871-2022 5.2.7",
    "columns": [{"key": "hours", "label": {"zh": "小时", "en": "Hours"}, "type": "integer"}],
    "entries": [
        {"key": "special", "label": {"zh": "特级动火", "en": "Special hot work"}, "values": {"hours": 8}},
        {"key": "level1", "label": {"zh": "一级动火", "en": "Level 1 hot work"}, "values": {"hours": 8}},
        {"key": "level2", "label": {"zh": "二级动火", "en": "Level 2 hot work"}, "values": {"hours": 72}},
    ],
}
PERMIT = {"key": "permit", "title": {"zh": "动火作业票", "en": "Hot-work permit"}, "fields": [
    {"type": "radio", "key": "level", "label": {"zh": "级别", "en": "Level"}, "options": [
        {"value": v, "label": {"zh": v, "en": v}} for v in ("special", "level1", "level2")]},
    {"type": "formula", "key": "valid_hours", "label": {"zh": "有效期(小时)", "en": "Valid (h)"},
     "expr": 'LOOKUP("permit_validity", level, "hours")', "result": "integer"},
    {"type": "formula", "key": "level_name", "label": {"zh": "级别名称", "en": "Level name"},
     "expr": 'LOOKUP("permit_validity", level, "label")', "result": "text"},
]}


def dictionary_pack(root: Path, dictionary: dict[str, Any]) -> Path:
    """A pack folder holding one dictionary (file named by its key)."""
    (root / "seed" / "dictionaries").mkdir(parents=True)
    (root / "seed" / "dictionaries" / f"{dictionary['key']}.json").write_text(canonical_json_text(dictionary))
    (root / "pack.yaml").write_text("key: dicts\nname: {zh: 字典, en: Dictionaries}\n"
                                    "description: {zh: 字典, en: Dictionaries}\nversion: 1.0.0\n")
    return root


def test_a_formula_reads_a_dictionary_installed_by_a_pack(site: Site, tmp_path: Path) -> None:
    with site.session() as session:
        Packs(session, SETUP).install(load_pack(dictionary_pack(tmp_path / "dicts", VALIDITY)))
    publish_form(site, PERMIT)
    with site.session() as session:
        view = records(site, session).create("permit", {"level": "level2"})
    assert view.data["valid_hours"] == 72 and view.data["level_name"] == "二级动火"


def test_a_broken_dictionary_is_refused_with_its_field(site: Site, tmp_path: Path) -> None:
    broken = {**VALIDITY, "entries": [*VALIDITY["entries"], {"key": "level2", "label": {"zh": "x", "en": "x"},
                                                            "values": {"days": 3}}]}
    with pytest.raises(InvalidInput) as caught, site.session() as session:
        Packs(session, SETUP).install(load_pack(dictionary_pack(tmp_path / "dicts", broken)))
    assert {p.code for p in caught.value.problems} == {"dictionary.invalid"}
    assert all(p.file == "dicts/seed/dictionaries/permit_validity.json" for p in caught.value.problems)

"""The pack lifecycle through `safeflow pack …` and /api/v1/packs."""

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from engine.cli import app
from engine.config import get_settings
from engine.runtime.site import Site
from tests.helpers import auth, grant, make_user
from tests.packs.test_lifecycle import FORM, write_pack


def test_cli_install_export_upgrade_and_resolve(cli: CliRunner, tmp_path: Path) -> None:
    root = write_pack(tmp_path / "hazards")
    result = cli.invoke(app, ["pack", "install", str(root)])
    assert result.exit_code == 0, result.output
    assert "hazards 1.0.0: 3 published" in result.output
    assert "0 published, 3 unchanged" in cli.invoke(app, ["pack", "install", str(root)]).output

    out = tmp_path / "out"
    assert cli.invoke(app, ["pack", "export", "hazards", str(out)]).exit_code == 0
    assert (out / "forms" / "hazard.json").read_bytes() == (root / "forms" / "hazard.json").read_bytes()

    # The site edits the level options in the exported copy and re-publishes it as v1 of "its" pack …
    site_form = json.loads((out / "forms" / "hazard.json").read_text())
    site_form["fields"][1]["label"]["zh"] = "风险级别"
    from engine.store.definitions import DefinitionRepository
    from tests.helpers import SETUP

    site = Site(get_settings())
    with site.session() as session:
        DefinitionRepository(session).publish(SETUP, "form", "hazard", site_form)
    # … and a new version changes the same options: a conflict, exit code 3, nothing lost.
    new_form = json.loads(json.dumps(FORM))
    new_form["fields"][1]["label"]["zh"] = "隐患级别"
    upgraded = cli.invoke(app, ["pack", "upgrade", str(write_pack(tmp_path / "v11", "1.1.0", new_form))])
    assert upgraded.exit_code == 3, upgraded.output
    assert "conflict #1: form/hazard /fields/level/label/zh" in upgraded.output
    listed = cli.invoke(app, ["pack", "conflicts"]).output
    assert "风险级别" in listed and "隐患级别" in listed
    assert cli.invoke(app, ["pack", "resolve", "1", "theirs"]).exit_code == 0
    diff = json.loads(cli.invoke(app, ["pack", "diff", "hazards"]).output)
    assert {"definition": "form/hazard", "edited_locally": False, "changed_upstream": False, "conflicts": []} in diff


def test_cli_install_of_a_broken_pack_prints_every_problem(cli: CliRunner, tmp_path: Path) -> None:
    root = write_pack(tmp_path / "hazards")
    (root / "forms" / "hazard.json").write_text('{"key": "hazard",\n  "fields": [,]}\n')
    (root / "flows" / "hazard_flow.json").write_text('{"key": "other"}\n')
    result = cli.invoke(app, ["pack", "install", str(root)])
    assert result.exit_code == 2
    assert "hazards/forms/hazard.json:2:" in result.output
    assert "hazards/flows/hazard_flow.json: key:" in result.output


def _zip(root: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in root.rglob("*"):
            if path.is_file():
                archive.write(path, f"hazards/{path.relative_to(root).as_posix()}")
    return buffer.getvalue()


def test_api_upload_export_and_uninstall(client: Any, site: Site, tmp_path: Path) -> None:
    make_user(site, "designer", roles=("designer",))
    grant(site, "designer", "pack", "*", "design")
    make_user(site, "worker")
    payload = _zip(write_pack(tmp_path / "hazards"))
    denied = client.post("/api/v1/packs/upload", files={"file": ("h.zip", payload)}, headers=auth(client, "worker"))
    assert denied.status_code == 403
    h = auth(client, "designer")
    installed = client.post("/api/v1/packs/upload", files={"file": ("h.zip", payload)}, headers=h)
    assert installed.status_code == 200, installed.text
    assert installed.json()[0]["version"] == "1.0.0"
    exported = client.get("/api/v1/packs/hazards/export.zip", headers=h)
    names = zipfile.ZipFile(io.BytesIO(exported.content)).namelist()
    assert "hazards/forms/hazard.json" in names and "hazards/pack.yaml" in names
    assert client.delete("/api/v1/packs/hazards", headers=h).status_code == 204


def test_api_refuses_an_archive_that_escapes_its_folder(client: Any, site: Site) -> None:
    make_user(site, "root", admin=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../evil/pack.yaml", "key: x\n")
    response = client.post("/api/v1/packs/upload", files={"file": ("e.zip", buffer.getvalue())},
                           headers=auth(client, "root"))
    assert response.status_code == 422 and response.json()["error"]["problems"][0]["code"] == "pack.bad_zip"

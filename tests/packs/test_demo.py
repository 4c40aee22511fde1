"""`safeflow demo` / `serve --demo`: realistic data for the base and hazards packs, written
through the real services, so the hazard cockpit shows something on the first start.

SQLite only and small N: the generator runs the same services on both backends, which the
pack tests cover; here what matters is what the data look like."""

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.cli import app
from engine.config import Settings
from engine.errors import InvalidInput
from engine.runtime.demo import demo_site, generate_demo
from engine.runtime.packs import bundled_packs
from engine.runtime.site import Site
from engine.store.models import InstalledPack, Record, StoredFile, User
from tests.helpers import auth, make_user

UNTIL = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only (see the module docstring)."""
    import shutil

    target = tmp_path / "safeflow.sqlite3"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


def _hazards(site: Site) -> list[Record]:
    with site.session() as session:
        rows = list(session.execute(select(Record).where(Record.form == "hazard")).scalars())
        session.expunge_all()
        return rows


def test_demo_writes_plausible_hazards_that_the_cockpit_shows(site: Site, settings: Settings, client: Any) -> None:
    seen: list[tuple[int, int, str]] = []
    report = generate_demo(settings, ["hazards"], 12, days=21, until=UNTIL, password="demo-password-1",
                           schedule_step=timedelta(days=1),
                           progress=lambda done, total, day: seen.append((done, total, day)))
    assert report.created["area"] == 11 and 10 <= report.created["hazard"] <= 12
    assert report.steps > report.created["hazard"]  # flows moved along, not just reports
    assert report.passwords_set > 30 and report.sample_user
    # progress: every operation counted, in time order, ending complete
    assert [d for d, _t, _day in seen] == list(range(1, len(seen) + 1))
    assert seen[-1][0] == seen[-1][1]
    assert [day for *_rest, day in seen] == sorted(day for *_rest, day in seen)

    hazards = _hazards(site)
    assert len(hazards) == report.created["hazard"]
    created = sorted(h.created_at if h.created_at.tzinfo else h.created_at.replace(tzinfo=UTC) for h in hazards)
    assert created[0] >= UNTIL - timedelta(days=23) and created[-1] <= UNTIL
    assert created[-1] - created[0] > timedelta(days=10)  # spread over the timeline
    assert len({h.data["area"] for h in hazards}) >= 4
    assert len({h.data["category"] for h in hazards}) >= 4
    assert len({h.owner_id for h in hazards}) >= 5
    states = Counter(h.data.get("state") for h in hazards)
    assert states["closed"] >= len(hazards) // 3 and len(hazards) - states["closed"] >= 1, states
    overdue = [h for h in hazards if h.data.get("state") != "closed" and h.data.get("due_date")
               and date.fromisoformat(h.data["due_date"]) < UNTIL.date()]
    assert overdue, states
    assert all(h.data.get("department") and h.data.get("rectifier") for h in hazards)  # the intake rule ran
    with site.session() as session:
        assert session.execute(select(StoredFile.id).where(StoredFile.form == "hazard").limit(1)).first()
        assert session.execute(select(User.password_hash).where(User.username == "wang.jianguo")).scalar()

    make_user(site, "boss", admin=True)
    response = client.get("/api/v1/dashboards/hazard_cockpit", headers=auth(client, "boss"),
                          params={"filters": json.dumps({"date": {"from": "2026-01-01", "to": "2026-12-31"}})})
    assert response.status_code == 200, response.text
    widgets = {w["id"]: w for w in response.json()["widgets"]}
    assert not [w["id"] for w in widgets.values() if w["error"]]
    assert widgets["reported"]["summary"]["value"] == len(hazards), widgets["reported"]
    assert widgets["reporters"]["summary"]["value"] == len({h.owner_id for h in hazards})
    assert 0 < widgets["rectification_rate"]["summary"]["value"] < 1
    for key in ("trend", "category_pareto", "area_month", "levels", "sources", "top_reporters", "open_by_state"):
        assert widgets[key]["data"]["rows"], key
    assert len(widgets["category_pareto"]["data"]["rows"]) >= 4
    assert widgets["category_pareto"]["figure"]["data"]


def test_serve_demo_installs_every_bundled_pack_once(site: Site, settings: Settings, cli: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    served: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.append(app))
    result = cli.invoke(app, ["serve", "--demo", "--demo-records", "2"])
    assert result.exit_code == 0, result.output
    assert served == ["engine.api.app:create_app"]
    assert "demo data: area 11, certificate 19, hazard " in result.output and "password: " in result.output
    shown = next(line for line in result.output.splitlines() if "sample people" in line)
    password = shown.split("password: ")[1].strip()
    assert password_works(site, "li.haiyan", password)
    with site.session() as session:
        assert {row.key for row in session.execute(select(InstalledPack)).scalars()} == {
            source.key for source in bundled_packs()}
    hazards = len(_hazards(site))
    assert hazards >= 1
    again = demo_site(settings, 2, password="another-password")  # a restart with --demo
    assert again.created == Counter() and again.skipped == 11 + 19 and again.passwords_set == 0  # areas, certificates
    assert len(_hazards(site)) == hazards
    assert password_works(site, "li.haiyan", password)


def password_works(site: Site, username: str, password: str) -> bool:
    from engine.identity.secrets import verify_password

    with site.session() as session:
        stored = session.execute(select(User.password_hash).where(User.username == username)).scalar_one()
    return bool(stored) and verify_password(stored, password)


def test_the_demo_command_prints_its_summary(cli: Any) -> None:
    result = cli.invoke(app, ["demo", "--pack", "base", "--records", "5"])
    assert result.exit_code == 0, result.output
    assert "demo data: area 11; 0 flow steps" in result.output
    again = cli.invoke(app, ["demo", "--pack", "base"])
    assert again.exit_code == 0 and "nothing new" in again.output and "11 fixed rows already there" in again.output
    short = cli.invoke(app, ["demo", "--pack", "hazards", "--password", "short"])
    assert short.exit_code != 0 and "8" in short.output


def test_bad_input_writes_nothing(site: Site, settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        generate_demo(settings, ["hazards"], 3, password="short")
    pack = tmp_path / "broken"
    import shutil

    from engine.runtime.packs.installer import find_pack

    shutil.copytree(find_pack("hazards"), pack)
    spec = pack / "demo" / "hazard.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("  category:\n", "  categroy:\n", 1)
                    .replace("records: 1.0", "records: 1.0\nspeed: 3"), encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        generate_demo(settings, [str(pack)], 3)
    found = {(p.code, p.path) for p in caught.value.problems}
    assert ("demo.unknown_field", "fields.categroy") in found
    assert ("demo.bad_spec", "speed") in found
    assert all(p.line for p in caught.value.problems)
    with site.session() as session:
        assert session.execute(select(Record.id).limit(1)).first() is None

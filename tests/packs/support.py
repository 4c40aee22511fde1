"""A plant for the bundled packs' end-to-end tests: a site on a manual clock, the packs installed
through the API, the base pack's sample organisation imported, and a driver that works people's
inboxes over HTTP the way the runtime UI does."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.identity import org
from engine.runtime.packs import load_pack
from engine.runtime.rule_tests import check_pack_rule_tests
from engine.runtime.site import Site
from engine.services import ManualClock
from engine.store.models import Record, User
from tests.helpers import PASSWORD, SETUP, auth, make_user

LIBRARY = Path(__file__).resolve().parents[2] / "templates_library"
# Monday 2026-11-23, 09:00 in Shanghai: a working day, day shift.
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def at(local: str) -> str:
    """An ISO timestamp in the site's timezone (Asia/Shanghai) for a wall-clock time on T0's day."""
    return f"2026-11-23T{local}:00+08:00"


class PackPlant:
    """One site with packs installed; people are the sample organisation's usernames."""

    def __init__(self, site: Site, clock: ManualClock, client: TestClient) -> None:
        self.site, self.clock, self.client = site, clock, client
        self._headers: dict[str, dict[str, str]] = {}
        make_user(site, "admin.test", admin=True)

    # --- set-up -------------------------------------------------------------------------------

    def install(self, pack: str) -> list[dict[str, Any]]:
        response = self.client.post(f"/api/v1/packs/{pack}/install", headers=self.headers("admin.test"))
        assert response.status_code == 200, response.text
        # The dashboards built their rollups at this instant and follow the record events after
        # it; on a clock that stands still, step past it as real time would.
        self.clock.advance(timedelta(seconds=1))
        return response.json()

    def import_org(self) -> None:
        """The base pack's sample organisation, everyone with the tests' password."""
        csv = (LIBRARY / "base" / "seed" / "org.csv").read_bytes()
        response = self.client.post("/api/v1/org/import", files={"file": ("org.csv", csv)},
                                    headers=self.headers("admin.test"))
        assert response.status_code == 200, response.text
        with self.site.session() as session:
            for user in session.execute(select(User).where(User.username != "admin.test")).scalars():
                org.set_password(session, SETUP, user.id, PASSWORD)

    def user_id(self, username: str) -> int:
        with self.site.session(readonly=True) as session:
            return session.execute(select(User.id).where(User.username == username)).scalar_one()

    def department_id(self, user: str) -> int:
        with self.site.session(readonly=True) as session:
            return session.execute(select(User.department_id).where(User.username == user)).scalar_one()

    def headers(self, username: str) -> dict[str, str]:
        if username not in self._headers:
            self._headers[username] = auth(self.client, username)
        return self._headers[username]

    # --- time and work ------------------------------------------------------------------------

    def settle(self) -> None:
        report = self.site.drain()
        assert report.failed == 0, report.errors

    def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        self.settle()

    # --- records, tasks, dashboards -----------------------------------------------------------

    def create(self, username: str, form: str, data: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(f"/api/v1/records/{form}", json={"data": data}, headers=self.headers(username))
        assert response.status_code == 201, response.text
        self.settle()
        return response.json()

    def record(self, record_id: int) -> dict[str, Any]:
        with self.site.session(readonly=True) as session:
            row = session.get(Record, record_id)
            assert row is not None
            return dict(row.data)

    def records(self, form: str) -> list[Record]:
        with self.site.session(readonly=True) as session:
            return list(session.execute(select(Record).where(Record.form == form).order_by(Record.id)).scalars())

    def task(self, username: str, node: str) -> dict[str, Any]:
        items = self.client.get("/api/v1/tasks", params={"box": "todo"}, headers=self.headers(username)).json()["items"]
        found = [t for t in items if t["node"] == node]
        assert found, f"{username} has no {node!r} task; has {[t['node'] for t in items]}"
        return found[0]

    def act(self, username: str, node: str, action: str, data: dict[str, Any] | None = None,
            comment: str | None = None, status: int = 200) -> dict[str, Any]:
        task = self.task(username, node)
        body: dict[str, Any] = {"action": action, "data": data or {}}
        if comment:
            body["comment"] = comment
        response = self.client.post(f"/api/v1/tasks/{task['task_id']}/actions", json=body,
                                    headers=self.headers(username))
        assert response.status_code == status, response.text
        self.settle()
        return response.json()

    def widgets(self, dashboard: str, username: str = "admin.test") -> dict[str, dict[str, Any]]:
        response = self.client.get(f"/api/v1/dashboards/{dashboard}", headers=self.headers(username))
        assert response.status_code == 200, response.text
        return {w["id"]: w for w in response.json()["widgets"]}

    def export(self, pack: str) -> dict[str, bytes]:
        response = self.client.get(f"/api/v1/packs/{pack}/export.zip", headers=self.headers("admin.test"))
        assert response.status_code == 200, response.text
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist() if not name.endswith("/")}


def library_files(pack: str) -> dict[str, bytes]:
    root = LIBRARY / pack
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def rule_test_problems(pack: str) -> list[str]:
    """Every failed expectation of the pack's rules/tests/*.jsonl, located."""
    return [f"{p.where()}: {p.message('en')}" for p in check_pack_rule_tests(load_pack(LIBRARY / pack))]


def kpi(widget: dict[str, Any]) -> Any:
    """The number a KPI widget shows."""
    return widget["summary"]["value"]

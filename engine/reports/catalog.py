"""Published dashboards: saving (only valid definitions are stored), the current version, and a
cache of loaded definitions keyed by checksum, so a wallboard refreshing every minute does not
re-validate its JSON each time."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import i18n
from engine.errors import InvalidInput, NotFound, Problem
from engine.forms.catalog import FormCatalog
from engine.reports.checking import check_dashboard
from engine.reports.dashboard import Dashboard
from engine.store.audit import Actor
from engine.store.definitions import DefinitionRepository, Published
from engine.store.models import Definition

KIND = "report"
_CACHE: OrderedDict[tuple[str, int, str], Dashboard] = OrderedDict()
_LOCK = Lock()


@dataclass(frozen=True)
class PublishedDashboard:
    dashboard: Dashboard
    version: int
    warnings: list[Problem]


class DashboardCatalog:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.repo = DefinitionRepository(session)

    def current(self, key: str) -> tuple[Dashboard, int]:
        row = self.session.execute(
            select(Definition.key, Definition.version, Definition.checksum).where(
                Definition.kind == KIND, Definition.key == key, Definition.status == "published")
            .order_by(Definition.version.desc()).limit(1)).first()
        if row is None:
            raise NotFound(what=f"dashboard {key}")
        cache_key = (row.key, row.version, row.checksum)
        with _LOCK:
            found = _CACHE.get(cache_key)
            if found is not None:
                _CACHE.move_to_end(cache_key)
                return found, row.version
        body = self.session.execute(select(Definition.body).where(
            Definition.kind == KIND, Definition.key == key, Definition.version == row.version)).scalar_one()
        dashboard = Dashboard.model_validate(body)
        with _LOCK:
            _CACHE[cache_key] = dashboard
            if len(_CACHE) > 256:
                _CACHE.popitem(last=False)
        return dashboard, row.version

    def published(self) -> list[str]:
        return self.repo.keys(KIND, include_drafts=False)

    def check(self, body: Any, file: str | None = None) -> tuple[Dashboard, list[Problem]]:
        """The dashboard and its warnings, or InvalidInput with every error, datasets checked
        against the site's published forms."""
        dashboard, problems = check_dashboard(body, file, resolve_form=FormCatalog(self.session).definition)
        errors = [p for p in problems if p.severity == "error"]
        if errors or dashboard is None:
            raise InvalidInput("reports.invalid", problems=errors)
        return dashboard, [p for p in problems if p.severity == "warning"]

    def publish(self, actor: Actor, body: Any, *, key: str | None = None, pack: str | None = None,
                note: str | None = None, tz: ZoneInfo | None = None, now: datetime | None = None
                ) -> PublishedDashboard:
        """Check and publish; with the site's `tz` and `now`, also create the indexes and rollups
        its widgets need (engine.reports.rollups.accelerate)."""
        dashboard, warnings = self.check(body)
        if key is not None and dashboard.key != key:
            raise InvalidInput("reports.invalid", problems=[
                Problem("reports.key_mismatch", {"key": dashboard.key, "expected": key}, path="key")])
        published: Published = self.repo.publish(actor, KIND, dashboard.key, dashboard.body(), pack=pack, note=note)
        if tz is not None and now is not None:
            from engine.reports.rollups import accelerate

            accelerate(self.session, [w.dataset for w in dashboard.widgets if w.dataset], tz.key, now)
        return PublishedDashboard(dashboard, published.version, warnings)


i18n.register_messages({"reports.key_mismatch": {
    "zh-CN": "定义中的 key“{key}”与地址中的“{expected}”不一致",
    "en": "The definition's key “{key}” is not the “{expected}” in the path"}})

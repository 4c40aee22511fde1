"""Runtime wiring of the reports engine: scheduled deliveries on durable timers, rollups kept
current by record events and rebuilt nightly, and the checkers and publishers of the
template-pack kinds "report" (dashboards) and "print" (print templates)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Problem
from engine.events import Event
from engine.forms.catalog import FormCatalog
from engine.reports import rollups
from engine.reports.catalog import DashboardCatalog
from engine.reports.checking import check_dashboard
from engine.reports.printing import PrintCatalog, check_template
from engine.reports.schedules import TIMER_KIND, DeliveryServices, deliver, uploaded
from engine.runtime.packs.kinds import (
    CheckContext,
    DefinitionSource,
    form_resolver,
    register_checker,
    register_publisher,
)
from engine.runtime.site import Site
from engine.store.models.reports import Rollup
from engine.store.timers import DueTimer


def check_report(source: DefinitionSource, context: CheckContext) -> list[Problem]:
    """A dashboard checked against the forms of its pack (or the site); a form found in neither
    is `definition.unknown_form`, which `safeflow check` turns into a warning for loose files."""
    problems = check_dashboard(source.text, source.file, resolve_form=form_resolver(context))[1]
    return [Problem("definition.unknown_form", p.params, file=p.file, path=p.path, line=p.line, column=p.column)
            if p.code == "reports.unknown_form" else p for p in problems]


def check_print(source: DefinitionSource, context: CheckContext) -> list[Problem]:
    text = source.body if isinstance(source.body, str) else source.text
    return check_template(source.key, text, source.file,
                          form_exists=lambda form: context.lookup("form", form) is not None)


def publish_print(session: Session, actor: Any, key: str, body: Any, pack: str | None) -> int:
    return PrintCatalog(session).publish(actor, key, body, require_form=False, pack=pack)[0]


def publish_report(session: Session, actor: Any, key: str, body: Any, pack: str | None) -> int:
    """Without a site (offline installs): publish; rollups are built on the next publish."""
    return DashboardCatalog(session).publish(actor, body, key=key, pack=pack).version


def register() -> None:
    """The checkers and site-less publishers of dashboards and print templates."""
    register_checker("report", check_report)
    register_checker("print", check_print)
    register_publisher("report", publish_report)
    register_publisher("print", publish_print)


def report_publisher(site: Site) -> Any:
    def publish(session: Session, actor: Any, key: str, body: Any, pack: str | None) -> int:
        return publish_dashboard(session, site, actor, body, key=key, pack=pack).version

    return publish


def handle_delivery(session: Session, timer: DueTimer, site: Site) -> None:
    services = DeliveryServices(now=site.clock.now(), tz=site.settings.tz, files_dir=site.settings.files_dir,
                                notifier=site.notifier(session), timers=site.timers(session),
                                store_file=uploaded(site.settings.files_dir))
    deliver(session, int(timer.payload["schedule"]), services)


def arm_rebuild(session: Session, site: Site) -> None:
    """Make sure the nightly rebuild of rollups is scheduled (once rollups exist)."""
    if session.execute(select(Rollup.id).limit(1)).first() is not None:
        site.timers(session).ensure(rollups.REBUILD_KIND, rollups.next_rebuild(site.clock.now(), site.settings.tz),
                                    {}, key=rollups.REBUILD_KEY)


def publish_dashboard(session: Session, site: Site, actor: Any, body: Any, *, key: str | None = None,
                      pack: str | None = None) -> Any:
    """Publish a dashboard with its indexes and rollups, and arm their nightly rebuild."""
    published = DashboardCatalog(session).publish(actor, body, key=key, pack=pack, tz=site.settings.tz,
                                                  now=site.clock.now())
    arm_rebuild(session, site)
    return published


def keep_rollups(session: Session, event: Event, site: Site) -> None:
    """A record changed: apply it to its form's rollups."""
    rollups.apply_event(session, event)


def rebuild_rollups_now(session: Session, now: datetime) -> int:
    """Every rollup rebuilt from the records as of `now` (demo data: one build after the whole
    history is written, rather than an event per record)."""
    catalog = FormCatalog(session)
    forms = {form: d for form in session.execute(select(Rollup.form).distinct()).scalars()
             if (d := catalog.definition(form)) is not None}
    return rollups.rebuild_all(session, forms, now)


def rebuild_rollups(session: Session, timer: DueTimer, site: Site) -> None:
    """03:00 every night: rebuild every rollup from the records (heals any drift)."""
    now = site.clock.now()
    rebuild_rollups_now(session, now)
    site.timers(session).schedule(rollups.REBUILD_KIND, rollups.next_rebuild(now, site.settings.tz), {},
                                  key=rollups.REBUILD_KEY)


def wire_reports(site: Site) -> None:
    site.register_timer_handler(TIMER_KIND, handle_delivery)
    site.register_timer_handler(rollups.REBUILD_KIND, rebuild_rollups)
    site.on_event("reports.rollups", "record.", keep_rollups)
    register()
    register_publisher("report", report_publisher(site))

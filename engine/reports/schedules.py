"""Scheduled delivery: a dashboard exported (PDF, PNG or xlsx) and e-mailed on a schedule — the
weekly safety report every Monday at 08:00.

Each run is a durable timer ("report.deliver", keyed by the schedule), so a restart loses none;
the delivery goes through the site's notifier and outbox, so retries, dead letters and the
delivery log are the ones every other notification has. The dashboard is rendered as its
creator sees it, with their grants loaded at delivery time.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from engine import i18n
from engine.errors import InvalidInput, NotFound, Problem
from engine.reports.catalog import DashboardCatalog
from engine.reports.exports import MEDIA, export_run
from engine.reports.query import Viewer
from engine.reports.render import DashboardRun, file_images
from engine.services import Notification, Recipient
from engine.store import audit
from engine.store.access import Principal, authorize, load_principal
from engine.store.models.reports import ReportSchedule

TIMER_KIND = "report.deliver"


class RecipientSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["user", "role", "email"]
    value: int | str


class ScheduleSpec(BaseModel):
    """What a schedule asks for (the API's body)."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["pdf", "png", "xlsx"] = "pdf"
    recipients: list[RecipientSpec] = Field(min_length=1)
    cadence: Literal["daily", "weekly", "monthly"] = "weekly"
    weekday: int | None = Field(default=None, ge=0, le=6, description="weekly: 0 = Monday")
    day: int | None = Field(default=None, ge=1, le=28, description="monthly: day of the month")
    time: str = Field(default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Local time HH:MM")
    filters: dict[str, Any] | None = None
    locale: Literal["zh-CN", "en"] = "zh-CN"

    @model_validator(mode="after")
    def _day_for_cadence(self) -> ScheduleSpec:
        if self.cadence == "weekly" and self.weekday is None:
            self.weekday = 0
        if self.cadence == "monthly" and self.day is None:
            self.day = 1
        return self


def next_run(cadence: str, weekday: int | None, day: int | None, at: str, after: datetime, tz: ZoneInfo) -> datetime:
    """The first local `at` on the schedule strictly after `after`, as aware UTC."""
    hour, minute = (int(p) for p in at.split(":"))
    local = after.astimezone(tz)
    candidate_day: date = local.date()
    for _ in range(400):
        moment = datetime.combine(candidate_day, time(hour, minute), tz)
        fits = (cadence == "daily" or (cadence == "weekly" and candidate_day.weekday() == weekday)
                or (cadence == "monthly" and candidate_day.day == day))
        if fits and moment > local:
            return moment.astimezone(UTC)
        candidate_day += timedelta(days=1)
    raise ValueError("no run within 400 days")


def create_schedule(session: Session, principal: Principal, dashboard: str, spec: ScheduleSpec, *, now: datetime,
                    tz: ZoneInfo, timers: Any) -> ReportSchedule:
    """A schedule on `dashboard` (the creator needs export on it) and its first timer."""
    authorize(session, principal, "report", dashboard, "export")
    board, _ = DashboardCatalog(session).current(dashboard)
    if spec.filters:
        from engine.reports.render import parse_filter_values

        parse_filter_values(board, spec.filters, now.astimezone(tz).date())
    row = ReportSchedule(dashboard=dashboard, format=spec.format, recipients=[r.model_dump() for r in spec.recipients],
                         cadence=spec.cadence, weekday=spec.weekday, day=spec.day, time=spec.time,
                         filters=spec.filters, locale=spec.locale, created_by=principal.user_id, active=True,
                         created_at=now)
    row.next_at = next_run(row.cadence, row.weekday, row.day, row.time, now, tz)
    session.add(row)
    session.flush()
    timers.schedule(TIMER_KIND, row.next_at, {"schedule": row.id}, key=f"{TIMER_KIND}:{row.id}")
    audit.append(session, principal.actor, "report.schedule", "report", dashboard,
                 {"schedule": row.id, "format": row.format, "cadence": row.cadence, "time": row.time})
    return row


def cancel_schedule(session: Session, principal: Principal, dashboard: str, schedule_id: int, timers: Any) -> None:
    row = session.get(ReportSchedule, schedule_id)
    if row is None or row.dashboard != dashboard:
        raise NotFound(what=f"schedule {schedule_id}")
    if row.created_by != principal.user_id:
        authorize(session, principal, "report", dashboard, "design")
    row.active = False
    timers.cancel(f"{TIMER_KIND}:{row.id}")
    audit.append(session, principal.actor, "report.unschedule", "report", dashboard, {"schedule": row.id})


@dataclass
class DeliveryServices:
    """What a delivery needs from the running site (wired by engine.runtime)."""

    now: datetime
    tz: ZoneInfo
    files_dir: Any
    notifier: Any
    timers: Any
    store_file: Callable[[Session, bytes, str, int | None], Any] | None = None


def deliver(session: Session, schedule_id: int, services: DeliveryServices) -> str | None:
    """Run one delivery: render, export, store the file, notify; schedule the next run. Returns
    the stored file's name (None when the schedule is gone or paused)."""
    row = session.get(ReportSchedule, schedule_id)
    if row is None or not row.active:
        return None
    row.next_at = next_run(row.cadence, row.weekday, row.day, row.time, services.now, services.tz)
    services.timers.schedule(TIMER_KIND, row.next_at, {"schedule": row.id}, key=f"{TIMER_KIND}:{row.id}")
    principal = load_principal(session, row.created_by) if row.created_by else None
    if principal is None:
        row.last_error = "the schedule's creator no longer exists"
        return None
    dashboard, _ = DashboardCatalog(session).current(row.dashboard)
    run = DashboardRun(session, dashboard, Viewer(principal), services.now, services.tz, row.locale,
                       row.filters or {}, image=file_images(session, services.files_dir))
    content, name = export_run(run, row.format)
    stored = (services.store_file or _store)(session, content, name, row.created_by)
    title = {loc: i18n.localized(dashboard.title, loc) for loc in ("zh-CN", "en")}
    local = services.now.astimezone(services.tz).strftime("%Y-%m-%d")
    services.notifier.notify(Notification(
        to=_recipients(row.recipients), channels=("email",),
        subject={loc: i18n.message("reports.delivery.subject", loc, title=title[loc], date=local) for loc in title},
        body={loc: i18n.message("reports.delivery.body", loc, title=title[loc], date=local, file=name)
              for loc in title},
        source={"kind": "report", "dashboard": row.dashboard, "schedule": row.id},
        attachments=[{"sha256": stored.sha256, "filename": name, "content_type": MEDIA[row.format]}]))
    row.last_sent_at = services.now
    row.last_error = None
    return name


def _recipients(specs: Sequence[dict[str, Any]]) -> list[Recipient]:
    return [Recipient("user" if s["kind"] == "user" else s["kind"], s["value"]) for s in specs]


def _store(session: Session, content: bytes, name: str, created_by: int | None) -> Any:
    raise InvalidInput("reports.invalid", problems=[Problem("reports.no_file_store")])


def uploaded(files_dir: Any) -> Callable[[Session, bytes, str, int | None], Any]:
    """Store an export like an upload (content-hashed under the files folder)."""
    from engine.forms.files import UploadRules, store_upload

    def store(session: Session, content: bytes, name: str, created_by: int | None) -> Any:
        return store_upload(session, files_dir, io.BytesIO(content), filename=name,
                            rules=UploadRules(("pdf", "png", "xlsx"), 200 << 20), created_by=created_by)

    return store


i18n.register_messages(
    {
        "reports.delivery.subject": {"zh-CN": "【{title}】{date}", "en": "{title} — {date}"},
        "reports.delivery.body": {"zh-CN": "附件为 {date} 的《{title}》（{file}）。",
                                  "en": "Attached: {title} for {date} ({file})."},
        "reports.no_file_store": {"zh-CN": "未配置文件存储", "en": "No file store is configured"},
    }
)

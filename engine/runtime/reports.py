"""Runtime wiring of the reports engine: scheduled deliveries on durable timers, and the checkers
and publishers of the template-pack kinds "report" (dashboards) and "print" (print templates)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.errors import Problem
from engine.forms.model import FormDefinition
from engine.reports.catalog import DashboardCatalog
from engine.reports.checking import check_dashboard
from engine.reports.printing import PrintCatalog, check_template
from engine.reports.schedules import TIMER_KIND, DeliveryServices, deliver, uploaded
from engine.runtime.packs.kinds import CheckContext, register_checker, register_publisher
from engine.runtime.site import Site
from engine.store.timers import DueTimer


def _form_in(context: CheckContext) -> Any:
    def resolve(key: str) -> FormDefinition | None:
        body = context.lookup("form", key)
        if body is None:
            return None
        try:
            return FormDefinition.model_validate(body)
        except ValueError:
            return None

    return resolve


def check_report(body: Any, file: str, context: CheckContext) -> list[Problem]:
    return check_dashboard(body, file, resolve_form=_form_in(context))[1]


def check_print(body: Any, file: str, context: CheckContext) -> list[Problem]:
    key = file.rsplit("/", 1)[-1].removesuffix(".html")
    return check_template(key, body if isinstance(body, str) else "", file,
                          form_exists=lambda form: context.lookup("form", form) is not None)


def publish_report(session: Session, actor: Any, key: str, body: Any, pack: str | None) -> int:
    return DashboardCatalog(session).publish(actor, body, key=key, pack=pack).version


def publish_print(session: Session, actor: Any, key: str, body: Any, pack: str | None) -> int:
    return PrintCatalog(session).publish(actor, key, body)[0]


def handle_delivery(session: Session, timer: DueTimer, site: Site) -> None:
    services = DeliveryServices(now=site.clock.now(), tz=site.settings.tz, files_dir=site.settings.files_dir,
                                notifier=site.notifier(session), timers=site.timers(session),
                                store_file=uploaded(site.settings.files_dir))
    deliver(session, int(timer.payload["schedule"]), services)


def wire_reports(site: Site) -> None:
    site.register_timer_handler(TIMER_KIND, handle_delivery)
    register_checker("report", check_report)
    register_checker("print", check_print)
    register_publisher("report", publish_report)
    register_publisher("print", publish_print)

"""Bringing a site up: schema migrations, the first admin, the engines' wiring."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from engine.config import Settings
from engine.identity.auth import ensure_admin
from engine.runtime.site import Site

# Engines' runtime wiring registers here (timer handlers, event listeners): each entry is called
# with the Site once at start-up. Kept as a list so each engine adds one line.
WIRING: list[Callable[[Site], None]] = []


def _flows(site: Site) -> None:
    from engine.runtime.flows import wire_flows

    wire_flows(site)


WIRING.append(_flows)


def _notifications(site: Site) -> None:
    from engine.runtime.notify.wiring import wire_notifications

    wire_notifications(site)


def _broker(site: Site) -> None:
    from engine.runtime.worker import wire_broker

    wire_broker(site)


def _ingest(site: Site) -> None:
    from engine.runtime.ingest import wire_ingest

    wire_ingest(site)


def _rules(site: Site) -> None:
    from engine.runtime.rules import wire_rules

    wire_rules(site)


def _reports(site: Site) -> None:
    from engine.runtime.reports import wire_reports

    wire_reports(site)


WIRING.extend([_notifications, _broker, _ingest, _rules, _reports])


def _load_hook(spec: str) -> Callable[[Site], None]:
    """'package.module:function' from the `wiring` setting (an integrator's own handlers)."""
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise ValueError(f"wiring hook {spec!r} must look like 'package.module:function'")
    return getattr(importlib.import_module(module_name), attr)


def wire(site: Site) -> Site:
    import engine.runtime.definitions  # noqa: F401  (registers each engine's checker and publisher)

    for hook in WIRING:
        hook(site)
    for spec in site.settings.wiring:
        _load_hook(spec)(site)
    return site


def prepare_site(settings: Settings, *, migrate: bool = True) -> tuple[Site, str | None]:
    """Open the database, bring its schema up to date, make sure an admin exists.

    Returns the site and, on the very first start without SAFEFLOW_ADMIN_PASSWORD, the generated
    admin password (the caller prints it once; only its hash is stored).
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.files_dir.mkdir(parents=True, exist_ok=True)
    site = wire(Site(settings))
    if migrate:
        site.migrate()
    with site.session() as session:
        generated = ensure_admin(session, settings.admin_username, settings.admin_password)
    return site, generated

"""A small plant the report tests compute by hand: two plants, three workshops, four people and
seven hazard records (one more soft-deleted), created through the record service at fixed times.

Created (UTC → Asia/Shanghai local), with what the tests count:

  r1 2026-01-05 02:00Z (01-05 10:00)  A general closed  closed +24h   score 10 cost  100 quick  u1 D1
  r2 2026-01-06 03:00Z (01-06 11:00)  A major   closed  closed +72h   score 40 cost  300        u2 D1
  r3 2026-01-20 04:00Z (01-20 12:00)  B general open                   score 20 cost   50        u3 D2
  r4 2026-02-10 05:00Z (02-10 13:00)  B major   closed  closed +48h   score 80 cost  500        u3 D2
  r5 2026-02-11 06:00Z (02-11 14:00)  C general closed  closed +12h   score 30 cost    —  quick  u1 D1
  r6 2026-03-31 18:00Z (04-01 02:00)  A general open                   score 60 cost   20        u4 D3
  r7 2026-04-15 07:00Z (04-15 15:00)  C major   closed  closed +240h  score 90 cost 1000        u4 D3
  r8 deleted (never counted)

Departments: P1 (plant 1) ⊃ D1, D2; P2 ⊃ D3.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.forms.publishing import publish
from engine.forms.records import RecordService
from engine.runtime.site import Site
from engine.services import ManualClock
from engine.store.audit import Actor
from tests.helpers import grant, make_department, make_user

ADMIN = Actor.system("test")
NOW = datetime(2026, 4, 20, 4, 0, tzinfo=UTC)


def label(zh: str, en: str | None = None) -> dict[str, str]:
    return {"zh": zh, "en": en or zh}


HAZARD: dict[str, Any] = {
    "key": "hazard",
    "title": label("隐患上报", "Hazard report"),
    "title_field": "title",
    "fields": [
        {"type": "text", "key": "title", "label": label("隐患描述", "Description"), "required": True},
        {"type": "select", "key": "area", "label": label("区域", "Area"), "indexed": True,
         "options": [{"value": "A", "label": label("一号区", "Area 1")},
                     {"value": "B", "label": label("二号区", "Area 2")},
                     {"value": "C", "label": label("三号区", "Area 3")}]},
        {"type": "radio", "key": "level", "label": label("级别", "Level"), "default": "general",
         "options": [{"value": "general", "label": label("一般", "General")},
                     {"value": "major", "label": label("重大", "Major")}]},
        {"type": "select", "key": "state", "label": label("状态", "State"), "default": "open",
         "options": [{"value": "open", "label": label("待整改", "Open")},
                     {"value": "closed", "label": label("已关闭", "Closed")}]},
        {"type": "datetime", "key": "closed_at", "label": label("关闭时间", "Closed at")},
        {"type": "integer", "key": "score", "label": label("风险值", "Risk score")},
        {"type": "number", "key": "cost", "label": label("整改费用", "Cost")},
        {"type": "boolean", "key": "quick", "label": label("即查即改", "Fixed on the spot")},
        {"type": "department", "key": "dept", "label": label("责任部门", "Responsible department")},
        {"type": "signature", "key": "sign", "label": label("签字", "Signature")},
    ],
}

ROWS = [
    ("r1", "2026-01-05T02:00:00", "A", "general", 24, 10, 100.0, True, "u1"),
    ("r2", "2026-01-06T03:00:00", "A", "major", 72, 40, 300.0, False, "u2"),
    ("r3", "2026-01-20T04:00:00", "B", "general", None, 20, 50.0, False, "u3"),
    ("r4", "2026-02-10T05:00:00", "B", "major", 48, 80, 500.0, False, "u3"),
    ("r5", "2026-02-11T06:00:00", "C", "general", 12, 30, None, True, "u1"),
    ("r6", "2026-03-31T18:00:00", "A", "general", None, 60, 20.0, False, "u4"),
    ("r7", "2026-04-15T07:00:00", "C", "major", 240, 90, 1000.0, False, "u4"),
]


@dataclass
class Plant:
    site: Site
    departments: dict[str, int]
    users: dict[str, int]
    records: dict[str, int]


def hazard_form(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(HAZARD)
    body.update(changes)
    return body


def publish_form(site: Site, body: dict[str, Any]) -> int:
    with site.session() as session:
        return publish(session, ADMIN, body["key"], body).version


def build_plant(site: Site) -> Plant:
    """The departments, people and records described above (site clock: ManualClock)."""
    site.settings.timezone = "Asia/Shanghai"
    p1 = make_department(site, "P1", "一厂")
    p2 = make_department(site, "P2", "二厂")
    deps = {"P1": p1, "P2": p2, "D1": make_department(site, "D1", "一车间", p1),
            "D2": make_department(site, "D2", "二车间", p1), "D3": make_department(site, "D3", "三车间", p2)}
    home = {"u1": "D1", "u2": "D1", "u3": "D2", "u4": "D3"}
    users = {u: make_user(site, u, department=deps[d], name=f"User {u[1]}") for u, d in home.items()}
    publish_form(site, HAZARD)
    clock = site.clock
    assert isinstance(clock, ManualClock)
    ids: dict[str, int] = {}
    with site.session() as session:
        service = RecordService(session, site.events(session), tz=site.settings.tz, clock=clock)
        for name, created, area, level, hours, score, cost, quick, owner in ROWS:
            at = datetime.fromisoformat(created).replace(tzinfo=UTC)
            clock.set(at)
            data: dict[str, Any] = {"title": f"hazard {name}", "area": area, "level": level, "score": score,
                                    "cost": cost, "quick": quick, "dept": deps[home[owner]],
                                    "state": "closed" if hours is not None else "open"}
            if hours is not None:
                data["closed_at"] = (at + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
            view = service.create("hazard", data, owner_id=users[owner], department_id=deps[home[owner]])
            ids[name] = view.id
        clock.set(datetime(2026, 2, 1, tzinfo=UTC))
        gone = service.create("hazard", {"title": "deleted", "area": "A", "score": 1000},
                              owner_id=users["u1"], department_id=deps["D1"])
        service.delete("hazard", gone.id)
    clock.set(NOW)
    return Plant(site, deps, users, ids)


def reader(site: Site, username: str, department: int, scope: str, *, hidden: tuple[str, ...] = ()) -> int:
    """A user whose role reads hazards within `scope`."""
    role = f"reader_{username}"
    fields = {key: "hidden" for key in hidden} or None
    grant(site, role, "form", "hazard", "read", scope=scope, fields=fields)
    return make_user(site, username, roles=(role,), department=department)

"""Reports benchmark: an 8-widget hazard dashboard over 1M hazard records, two ways, in one run.

1. SafeFlow's engine: each widget's dataset compiled to one SQL query (rollups for the widgets
   they can answer exactly, the records through their indexes for the rest), plus its figure;
2. the naive way: load the hazard rows with SQLAlchemy and aggregate them with pandas.

The dashboard (now = 2026-11-20 12:00 in Shanghai): hazards this year vs last year (KPI),
rectification rate this year (KPI), hazards per month over 12 months (line), top 10 areas this
year (bar), level mix this year (pie), area × month (heat map), category Pareto this year, and
the p90 rectification time per level over the last 30 days (table, from the records).

Each way runs in its own process, so its peak memory (max RSS, and its growth over the process
after setup) is its own. Both ways' numbers are compared before timings are printed.

    python bench/reports_bench.py [ROWS] [--url SQLALCHEMY_URL] [--keep DIR]

Default 1,000,000 rows on SQLite in a temporary folder (PostgreSQL with --url), inserted in time
order (as records arrive). Setup (inserting the rows, publishing the dashboard, which builds its
rollups and indexes) is timed separately.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")
AREAS = [f"A{i:02d}" for i in range(40)]
CATEGORIES = [f"C{i:02d}" for i in range(12)]
DEPARTMENTS = 20
USERS = 200
SPAN = timedelta(days=3 * 365)


def _l(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


FORM = {"key": "hazard", "title": _l("隐患上报", "Hazard report"), "fields": [
    {"type": "text", "key": "title", "label": _l("描述", "Description")},
    {"type": "select", "key": "area", "label": _l("区域", "Area"), "options": AREAS},
    {"type": "select", "key": "category", "label": _l("专业类别", "Category"), "options": CATEGORIES},
    {"type": "radio", "key": "level", "label": _l("级别", "Level"), "options": ["general", "major"]},
    {"type": "select", "key": "state", "label": _l("状态", "State"), "options": ["open", "closed"]},
    {"type": "datetime", "key": "closed_at", "label": _l("关闭时间", "Closed at")},
    {"type": "integer", "key": "score", "label": _l("风险值", "Risk score")},
]}
HAZARDS = {"form": "hazard"}
COUNT = {"key": "n", "agg": "count"}
HOURS = {"from": "created_at", "to": "closed_at", "unit": "hours"}
DASHBOARD = {"key": "bench", "title": _l("隐患驾驶舱", "Hazard cockpit"), "widgets": [
    {"type": "kpi", "id": "year", "value": "n", "layout": {"x": 0, "w": 3, "h": 2},
     "dataset": {"source": HAZARDS, "range": "this_year", "measures": [{**COUNT, "compare": "previous"}]}},
    {"type": "kpi", "id": "rate", "value": "r", "layout": {"x": 3, "w": 3, "h": 2}, "target": 0.9,
     "dataset": {"source": HAZARDS, "range": "this_year",
                 "measures": [{"key": "r", "agg": "rate", "where": 'state == "closed"', "format": "percent"}]}},
    {"type": "line", "id": "trend", "x": "created_at_month", "y": ["n"], "layout": {"x": 6, "w": 6},
     "dataset": {"source": HAZARDS, "range": "last_12_months", "measures": [COUNT],
                 "dimensions": [{"field": "created_at", "bucket": "month"}]}},
    {"type": "bar", "id": "areas", "x": "area", "y": ["n"], "layout": {"y": 4, "w": 6},
     "dataset": {"source": HAZARDS, "range": "this_year", "measures": [COUNT], "dimensions": [{"field": "area"}],
                 "sort": [{"by": "n", "desc": True}], "limit": 10}},
    {"type": "pie", "id": "levels", "x": "level", "y": ["n"], "layout": {"x": 6, "y": 4, "w": 6},
     "dataset": {"source": HAZARDS, "range": "this_year", "measures": [COUNT], "dimensions": [{"field": "level"}]}},
    {"type": "heatmap", "id": "heat", "x": "created_at_month", "y": "area", "value": "n",
     "layout": {"y": 8, "w": 12},
     "dataset": {"source": HAZARDS, "range": "last_12_months", "measures": [COUNT],
                 "dimensions": [{"field": "created_at", "bucket": "month"}, {"field": "area"}]}},
    {"type": "pareto", "id": "pareto", "x": "category", "value": "n", "layout": {"y": 12, "w": 6},
     "dataset": {"source": HAZARDS, "range": "this_year", "measures": [COUNT],
                 "dimensions": [{"field": "category"}]}},
    {"type": "table", "id": "p90", "layout": {"x": 6, "y": 12, "w": 6},
     "dataset": {"source": HAZARDS, "range": "last_30d", "dimensions": [{"field": "level"}],
                 "filter": 'state == "closed"',
                 "measures": [{"key": "p90", "agg": "percentile", "p": 0.9, "duration": HOURS}]}},
]}


def site_for(url: str, data: Path) -> Any:
    from engine.config import Settings
    from engine.runtime.bootstrap import wire
    from engine.runtime.site import Site
    from engine.services import ManualClock

    settings = Settings(data_dir=data, database_url=url, secret_key="bench-" + "x" * 40, timezone="Asia/Shanghai")
    return wire(Site(settings, clock=ManualClock(NOW)))


# --- setup ------------------------------------------------------------------------------------

def setup(url: str, data: Path, rows: int) -> dict[str, float]:
    from sqlalchemy import insert

    from engine.forms.publishing import publish
    from engine.identity import org
    from engine.reports.catalog import DashboardCatalog
    from engine.store.audit import Actor
    from engine.store.models import Record

    site = site_for(url, data)
    site.migrate()
    actor = Actor.system("bench")
    with site.session() as session:
        plants = [org.create_department(session, actor, code=f"P{p}", name=f"Plant {p}").id for p in range(4)]
        depts = [org.create_department(session, actor, code=f"D{d}", name=f"Workshop {d}",
                                       parent_id=plants[d % 4]).id for d in range(DEPARTMENTS)]
        users = [org.create_user(session, actor, username=f"u{u}", name=f"User {u}", password=None,
                                 department_id=depts[u % DEPARTMENTS]).id for u in range(USERS)]
        publish(session, actor, "hazard", FORM)
    rng = random.Random(7)
    start = time.perf_counter()
    batch: list[dict[str, Any]] = []
    table = Record.__table__
    # Records arrive as they are reported: in time order, as they lie in a real site's table.
    times = sorted(NOW - timedelta(seconds=rng.randrange(int(SPAN.total_seconds()))) for _ in range(rows))
    with site.session() as session:
        for i, created in enumerate(times):
            closed = rng.random() < 0.8
            data_ = {"title": f"hazard {i}", "area": rng.choice(AREAS), "category": rng.choice(CATEGORIES),
                     "level": "major" if rng.random() < 0.1 else "general", "state": "closed" if closed else "open",
                     "score": rng.randint(1, 400)}
            if closed:
                data_["closed_at"] = (created + timedelta(hours=rng.randint(1, 400))).strftime("%Y-%m-%dT%H:%M:%SZ")
            user = rng.randrange(USERS)
            batch.append({"form": "hazard", "form_version": 1, "status": "active", "owner_id": users[user],
                          "department_id": depts[user % DEPARTMENTS], "data": data_, "row_version": 1,
                          "created_at": created, "updated_at": created})
            if len(batch) == 50_000:
                session.execute(insert(table), batch)
                batch = []
        if batch:
            session.execute(insert(table), batch)
    inserted = time.perf_counter() - start
    start = time.perf_counter()
    with site.session() as session:
        DashboardCatalog(session).publish(actor, DASHBOARD, tz=TZ, now=NOW)
    published = time.perf_counter() - start
    with site.db.engine.connect() as conn:  # fresh statistics, as autovacuum / a site's ANALYZE would give
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    site.db.dispose()
    return {"insert_s": inserted, "publish_s": published}


# --- 1. SafeFlow --------------------------------------------------------------------------------

def ours(url: str, data: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    from engine.reports import Viewer
    from engine.reports.catalog import DashboardCatalog
    from engine.reports.render import DashboardRun

    site = site_for(url, data)
    with site.session() as session:
        DashboardCatalog(session).current("bench")  # load the definition before timing
    times, results, served = [], {}, {}
    for _ in range(3):
        start = time.perf_counter()
        with site.session(readonly=True) as session:
            dashboard, _ = DashboardCatalog(session).current("bench")
            outputs = DashboardRun(session, dashboard, Viewer(), NOW, TZ, "zh-CN").all()
        times.append(time.perf_counter() - start)
        for out in outputs:
            assert out.error is None and out.figure is not None, (out.id, out.error)
            results[out.id] = out.data.rows if out.data else None
            served[out.id] = out.data.served_by if out.data else None
    site.db.dispose()
    return {"first_s": times[0], "best_s": min(times), "served": served}, results


# --- 2. naive: SQLAlchemy + pandas ---------------------------------------------------------------

def naive(url: str, data: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    import pandas as pd
    from sqlalchemy import select

    from engine.reports.periods import resolve
    from engine.store.models import Record

    site = site_for(url, data)
    start = time.perf_counter()
    with site.session(readonly=True) as session:
        loaded = session.execute(select(Record.data, Record.created_at).where(
            Record.form == "hazard", Record.deleted_at.is_(None))).all()
    frame = pd.DataFrame([row.data for row in loaded])
    frame["created_at"] = pd.to_datetime([row.created_at for row in loaded], utc=True).tz_convert(TZ)
    del loaded
    frame["closed_at"] = pd.to_datetime(frame["closed_at"], utc=True)
    today = NOW.astimezone(TZ).date()

    def within(spec: str) -> Any:
        period = resolve(spec, today)
        assert period is not None
        day = frame["created_at"].dt.date
        return frame[(day >= period.start) & (day < period.end)]

    year, last_year = within("this_year"), within("last_year")
    months = within("last_12_months")
    month = months["created_at"].dt.strftime("%Y-%m")
    recent = within("last_30d")
    closed = recent[recent["state"] == "closed"]
    hours = (closed["closed_at"] - closed["created_at"].dt.tz_convert(UTC)).dt.total_seconds() / 3600
    top = year.groupby("area").size().reset_index(name="n").sort_values(["n", "area"], ascending=[False, True])
    results = {
        "year": [[len(year), len(last_year), (len(year) - len(last_year)) / len(last_year)]],
        "rate": [[float((year["state"] == "closed").mean())]],
        "trend": [[m, int(n)] for m, n in month.value_counts().sort_index().items()],
        "areas": [[a, int(n)] for a, n in top.head(10).itertuples(index=False)],
        "levels": [[lv, int(n)] for lv, n in year.groupby("level").size().items()],
        "heat": [[m, a, int(n)] for (m, a), n in months.groupby([month, months["area"]]).size().items()],
        "pareto": [[c, int(n)] for c, n in year.groupby("category").size().items()],
        "p90": [[lv, float(h.quantile(0.9))] for lv, h in hours.groupby(closed["level"])],
    }
    seconds = time.perf_counter() - start
    site.db.dispose()
    return {"first_s": seconds, "best_s": seconds}, results


# --- the run ----------------------------------------------------------------------------------------

def phase(name: str, url: str, data: Path) -> None:
    """One way, in this process: prints its timings, results and memory as JSON."""
    import pandas  # noqa: F401

    import engine.api.app  # noqa: F401  (import everything first: memory is the work's, not the imports')

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stats, results = (ours if name == "ours" else naive)(url, data)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stats.update(peak_rss_mb=peak / 1024, growth_mb=(peak - base) / 1024)
    print(json.dumps({"stats": stats, "results": results}, default=str))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))
    return a == b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rows", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--url", help="SQLAlchemy URL of an empty database (default: SQLite in a temp folder)")
    parser.add_argument("--keep", type=Path, help="Use (and keep) this folder; reuse its database if present")
    parser.add_argument("--phase", choices=("ours", "naive"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="reports-bench-"))
    url = args.url or f"sqlite:///{folder / 'bench.sqlite3'}"
    if args.phase:
        phase(args.phase, url, folder)
        return
    folder.mkdir(parents=True, exist_ok=True)
    fresh = args.url is not None or not (folder / "bench.sqlite3").exists()
    if fresh:
        made = setup(url, folder, args.rows)
        print(f"setup: {args.rows:,} rows inserted in {made['insert_s']:.1f} s; dashboard published "
              f"(rollups and indexes built) in {made['publish_s']:.1f} s")
    out = {}
    for name in ("ours", "naive"):
        done = subprocess.run([sys.executable, __file__, "--phase", name, "--url", url, "--keep", str(folder)],
                              capture_output=True, text=True, check=True)
        out[name] = json.loads(done.stdout.strip().splitlines()[-1])
    mismatched = [k for k in out["naive"]["results"] if not _same(out["ours"]["results"][k],
                                                                  out["naive"]["results"][k])]
    backend = url.split(":", 1)[0]
    print(f"backend: {backend}; rows: {args.rows:,}; widgets: {len(DASHBOARD['widgets'])}")
    print(f"served by: {out['ours']['stats']['served']}")
    print(f"results equal: {not mismatched}{'' if not mismatched else ' — differ: ' + ', '.join(mismatched)}")
    o, n = out["ours"]["stats"], out["naive"]["stats"]
    print(f"ours : first {o['first_s'] * 1000:8.1f} ms  best {o['best_s'] * 1000:8.1f} ms  "
          f"peak RSS {o['peak_rss_mb']:7.1f} MB (+{o['growth_mb']:.1f} MB)")
    print(f"naive: {n['first_s'] * 1000:14.1f} ms                   "
          f"peak RSS {n['peak_rss_mb']:7.1f} MB (+{n['growth_mb']:.1f} MB)")
    print(f"ratio: naive / ours = {n['first_s'] / o['first_s']:.1f}× (first), {n['best_s'] / o['best_s']:.1f}× (best)")
    if not args.keep and not args.url:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

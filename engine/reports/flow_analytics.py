"""Flow analytics, built in for every flow with no setup: where the time goes (time per node,
p50/p90), rework (rejections and the instances that had any), deadlines (overdue rate), who and
which department work is waiting on, and the bottleneck — seed 003's "the approval step takes
40 % of the cycle".

It is an ordinary dashboard generated for the flow, over the `flow_tasks` and `flow_instances`
sources, so it renders, filters, drills and exports like any other; the viewer needs `read` on
the flow, and their scope applies (a department head sees tasks of their department's people).
"""

from __future__ import annotations

from typing import Any

from engine.reports.dashboard import Dashboard
from engine.reports.render import WidgetOutput

HOURS = {"from": "created_at", "to": "completed_at", "unit": "hours"}
DONE = 'kind != "cc" and status == "done"'
LIVE = 'kind != "cc" and status in ["open", "waiting"]'
OVERDUE = ("(not isblank(completed_at) and completed_at > due_at) or "
           '(isblank(completed_at) and status in ["open", "waiting"] and due_at < now())')


def _l(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


def flow_dashboard(flow: str) -> Dashboard:
    """The analytics dashboard of one flow."""
    tasks = {"kind": "flow_tasks", "flow": flow}
    instances = {"kind": "flow_instances", "flow": flow}

    def ds(source: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return {"source": source, **kw}

    widgets: list[dict[str, Any]] = [
        {"type": "kpi", "id": "cycle", "title": _l("平均办结时长", "Average cycle time"),
         "layout": {"x": 0, "y": 0, "w": 3, "h": 2}, "value": "hours", "better": "lower",
         "dataset": ds(instances, filter='status in ["completed", "rejected"]', measures=[
             {"key": "hours", "agg": "avg", "duration": {"from": "started_at", "to": "ended_at", "unit": "hours"},
              "label": _l("小时", "Hours"), "unit": _l("小时", "h")}])},
        {"type": "kpi", "id": "overdue_rate", "title": _l("超期率", "Overdue rate"),
         "layout": {"x": 3, "y": 0, "w": 3, "h": 2}, "value": "rate", "better": "lower", "green": 0.05,
         "yellow": 0.15,
         "dataset": ds(tasks, filter='kind != "cc"', measures=[
             {"key": "rate", "agg": "rate", "where": OVERDUE, "of": "not isblank(due_at)", "format": "percent",
              "label": _l("超期率", "Overdue rate")}])},
        {"type": "kpi", "id": "rework_rate",
         "title": _l("返工率（被驳回过的流程）", "Rework rate (instances rejected)"),
         "layout": {"x": 6, "y": 0, "w": 3, "h": 2}, "value": "rate", "better": "lower",
         "dataset": ds(tasks, measures=[
             {"key": "rate", "agg": "rate", "field": "instance_id", "where": 'decision == "reject"',
              "format": "percent", "label": _l("返工率", "Rework rate")}])},
        {"type": "kpi", "id": "waiting", "title": _l("待办任务", "Tasks waiting"),
         "layout": {"x": 9, "y": 0, "w": 3, "h": 2}, "value": "n", "ignore_filters": ["date"],
         "dataset": ds(tasks, filter=LIVE, measures=[{"key": "n", "agg": "count", "label": _l("任务", "Tasks")}])},
        {"type": "bar", "id": "node_time", "title": _l("各节点耗时（小时）", "Time per node (hours)"),
         "layout": {"x": 0, "y": 2, "w": 8, "h": 4}, "x": "node", "y": ["p50", "p90"], "orientation": "h",
         "dataset": ds(tasks, filter=DONE, dimensions=[{"field": "node"}], measures=[
             {"key": "p50", "agg": "percentile", "p": 0.5, "duration": HOURS, "label": _l("P50", "P50")},
             {"key": "p90", "agg": "percentile", "p": 0.9, "duration": HOURS, "label": _l("P90", "P90")},
             {"key": "hours", "agg": "sum", "duration": HOURS, "label": _l("总耗时", "Total hours")},
             {"key": "tasks", "agg": "count", "label": _l("任务数", "Tasks")}])},
        {"type": "pie", "id": "share", "title": _l("任务耗时占比", "Share of task time"),
         "layout": {"x": 8, "y": 2, "w": 4, "h": 4}, "x": "node", "y": ["hours"], "hole": 0.45,
         "dataset": ds(tasks, filter=DONE, dimensions=[{"field": "node"}], measures=[
             {"key": "hours", "agg": "sum", "duration": HOURS, "label": _l("小时", "Hours")}])},
        {"type": "bar", "id": "rework", "title": _l("各节点驳回次数", "Rejections per node"),
         "layout": {"x": 0, "y": 6, "w": 6, "h": 4}, "x": "node", "y": ["rejections"],
         "dataset": ds(tasks, filter='decision == "reject"', dimensions=[{"field": "node"}], measures=[
             {"key": "rejections", "agg": "count", "label": _l("驳回", "Rejections")},
             {"key": "instances", "agg": "count_distinct", "field": "instance_id",
              "label": _l("涉及流程", "Instances")}])},
        {"type": "bar", "id": "node_overdue", "title": _l("各节点超期率", "Overdue rate per node"),
         "layout": {"x": 6, "y": 6, "w": 6, "h": 4}, "x": "node", "y": ["rate"],
         "dataset": ds(tasks, filter='kind != "cc"', dimensions=[{"field": "node"}], measures=[
             {"key": "rate", "agg": "rate", "where": OVERDUE, "of": "not isblank(due_at)", "format": "percent",
              "label": _l("超期率", "Overdue rate")}])},
        {"type": "table", "id": "by_approver", "title": _l("待办（按处理人）", "Waiting, by assignee"),
         "layout": {"x": 0, "y": 10, "w": 6, "h": 4}, "ignore_filters": ["date"],
         "dataset": ds(tasks, filter=LIVE, dimensions=[{"field": "assignee_id"}],
                       sort=[{"by": "tasks", "desc": True}], limit=50, measures=[
             {"key": "tasks", "agg": "count", "label": _l("待办", "Waiting")},
             {"key": "age", "agg": "avg", "duration": {"from": "created_at", "to": "now", "unit": "hours"},
              "label": _l("平均等待（小时）", "Average wait (h)")},
             {"key": "oldest", "agg": "max", "duration": {"from": "created_at", "to": "now", "unit": "hours"},
              "label": _l("最长等待（小时）", "Longest wait (h)")}])},
        {"type": "bar", "id": "by_department", "title": _l("待办（按部门）", "Waiting, by department"),
         "layout": {"x": 6, "y": 10, "w": 6, "h": 4}, "x": "assignee_department_id", "y": ["tasks"],
         "ignore_filters": ["date"],
         "dataset": ds(tasks, filter=LIVE, dimensions=[{"field": "assignee_department_id"}], measures=[
             {"key": "tasks", "agg": "count", "label": _l("待办", "Waiting")},
             {"key": "age", "agg": "avg", "duration": {"from": "created_at", "to": "now", "unit": "hours"},
              "label": _l("平均等待（小时）", "Average wait (h)")}])},
        {"type": "line", "id": "started", "title": _l("每周发起与办结", "Started and finished per week"),
         "layout": {"x": 0, "y": 14, "w": 12, "h": 4}, "x": "started_at_week", "y": ["started", "finished"],
         "dataset": ds(instances, dimensions=[{"field": "started_at", "bucket": "week"}], measures=[
             {"key": "started", "agg": "count", "label": _l("发起", "Started")},
             {"key": "finished", "agg": "count", "where": "not isblank(ended_at)",
              "label": _l("已办结", "Finished")}])},
    ]
    return Dashboard.model_validate({
        "key": f"flow_{flow}"[:128], "title": _l(f"流程分析：{flow}", f"Flow analytics: {flow}"),
        "filters": [{"key": "date", "type": "date_range", "label": _l("日期", "Date"), "default": "last_90d"},
                    {"key": "department", "type": "department", "label": _l("部门", "Department")}],
        "widgets": widgets})


def bottleneck(outputs: list[WidgetOutput]) -> dict[str, Any] | None:
    """The node with the largest share of task time: {"node", "label", "share", "hours"}."""
    share = next((o for o in outputs if o.id == "share"), None)
    if share is None or share.data is None or not share.data.rows:
        return None
    rows = share.data.records()
    total = sum(r["hours"] or 0 for r in rows)
    if not total:
        return None
    top = max(rows, key=lambda r: r["hours"] or 0)
    column = share.data.column("node")
    return {"node": top["node"], "label": column.labels.get(top["node"]), "share": (top["hours"] or 0) / total,
            "hours": top["hours"]}

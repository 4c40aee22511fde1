"""Explicit migration of running instances to a new version: dry run, mapping, refusal."""

from __future__ import annotations

from typer.testing import CliRunner

from engine.flows import parse_definition
from engine.flows.migration import apply_migration, migrate_instances, plan_migration
from tests.flows.helpers import Harness, apply_node, linear
from tests.flows.test_persistence import act, load, people, publish, start

V1 = linear(apply_node(), {"id": "l1", "type": "approve", "assignee": {"user": "bob"}},
            {"id": "l2", "type": "approve", "assignee": {"user": "carol"}}, key="permit")
V2 = linear(apply_node(), {"id": "review", "type": "approve", "assignee": {"user": "bob"}},
            {"id": "l2", "type": "approve", "assignee": {"user": "carol"}}, key="permit", version=2)


def at_l1() -> Harness:
    h = Harness(V1)
    h.act("apply", "alice", "submit")
    return h


def test_a_node_without_counterpart_is_refused_until_mapped():
    h = at_l1()
    v2 = parse_definition(V2)
    refused = plan_migration(h.instance, v2, {})
    assert refused.refused and "'l1'" in refused.refused
    plan = plan_migration(h.instance, v2, {"l1": "review"})
    assert plan.refused is None and plan.moves == {"l1": "review"}


def test_an_open_task_cannot_land_on_a_gateway():
    h = at_l1()
    v2 = parse_definition({**V2, "nodes": [*V2["nodes"], {"id": "gw", "type": "exclusive"}]})
    plan = plan_migration(h.instance, v2, {"l1": "gw"})
    assert plan.refused and "exclusive" in plan.refused


def test_an_applied_plan_moves_tokens_and_tasks_and_keeps_the_history():
    h = at_l1()
    inst = h.instance
    plan = plan_migration(inst, parse_definition(V2), {"l1": "review"})
    apply_migration(inst, plan, {"l1": "review"}, "2026-01-05T10:00:00+00:00")
    assert inst.flow_version == 2 and inst.open_nodes() == ["review"]
    assert inst.history[-1]["action"] == "migrated"


def test_migrate_dry_run_changes_nothing_and_apply_moves_the_instance(site):
    ids = people(site, "alice", "bob", "carol")
    publish(site, V1)
    instance_id = start(site, "permit", ids["alice"])
    act(site, instance_id, "apply", ids["alice"], "submit")
    publish(site, {k: v for k, v in V2.items() if k != "version"})
    with site.session() as session:
        report = migrate_instances(session, "permit", mapping={}, dry_run=True)
    assert len(report.refused) == 1 and load(site, instance_id).flow_version == 1
    with site.session() as session:
        report = migrate_instances(session, "permit", mapping={"l1": "review"}, dry_run=False)
    assert report.refused == [] and "l1->review" in report.lines()[1]
    inst = load(site, instance_id)
    assert inst.flow_version == 2 and inst.open_nodes() == ["review"]
    act(site, instance_id, "review", ids["bob"])
    assert load(site, instance_id).open_nodes() == ["l2"]


def test_the_migrate_command_reports_a_dry_run(site, monkeypatch):
    from engine.commands import flow as flow_cli

    ids = people(site, "alice", "bob", "carol")
    publish(site, V1)
    act(site, start(site, "permit", ids["alice"]), "apply", ids["alice"], "submit")
    publish(site, {k: v for k, v in V2.items() if k != "version"})
    monkeypatch.setattr("engine.commands.common.get_settings", lambda: site.settings)
    result = CliRunner().invoke(flow_cli.app, ["migrate", "permit", "--map", "l1=review"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.stdout and "l1->review" in result.stdout


def test_a_deadline_the_target_version_dropped_is_void_when_it_falls_due(settings):
    """v1's l1 had a 4h deadline, v2's l1 has none: the timer armed under v1 must not crash the tick."""
    from datetime import UTC, datetime, timedelta

    from engine.runtime.bootstrap import wire
    from engine.runtime.site import Site
    from engine.services import ManualClock

    clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    site = wire(Site(settings, clock=clock))
    site.migrate()
    ids = people(site, "alice", "bob", "carol")
    timed = {**V1, "nodes": [{**n, "deadline": {"after": "4h", "on_timeout": "auto_approve"}} if n["id"] == "l1"
                             else n for n in V1["nodes"]]}
    publish(site, timed)
    instance_id = start(site, "permit", ids["alice"])
    act(site, instance_id, "apply", ids["alice"], "submit")
    publish(site, V1)  # v2: the same flow without the deadline
    with site.session() as session:
        assert migrate_instances(session, "permit", dry_run=False).refused == []
    clock.advance(timedelta(hours=5))
    report = site.tick()
    assert report.failed == 0
    inst = load(site, instance_id)
    assert inst.flow_version == 2 and inst.open_nodes() == ["l1"]
    assert not any(e.get("reason") == "timeout" for e in inst.history)
    site.db.dispose()

"""`safeflow rules test`: rules against an event stream in a scratch database, one JSON line per
action — and nothing sent, checked against real SMTP and HTTP servers listening on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.config import get_settings
from tests.notifications.servers import http_receiver, smtp_server
from tests.rules.support import FORMS

RULES = '''
rule "hazard_cluster"
  when hazard created as h
  if count(hazard where area == h.area and category == h.category, within 7d) > 2
  then
    notify role("plant_manager"), h.reporter via email, sms
    call webhook "URL/alarm" with area = h.area, category = h.category
    update record set risk_level = "major"
  dedupe by h.area for 7d
end

rule "stale_hazard"
  when every 1h
  for each hazard as h where h.state == "open"
  if now() - h.created_at > 24h
  then escalate to role("ehs_lead") via dingtalk, wecom
  dedupe by h.id for 7d
end
'''


def _pack(root: Path) -> Path:
    (root / "forms").mkdir(parents=True)
    (root / "pack.yaml").write_text("key: plant\nname: {zh: 工厂, en: Plant}\ndescription: {zh: 测试, en: Test}\n"
                                    "version: 1.0.0\n", encoding="utf-8")
    for body in FORMS:
        if body["key"] == "hazard":
            body = {**body, "fields": [*body["fields"], {"type": "email", "key": "reporter",
                                                         "label": {"zh": "上报人", "en": "Reporter"}}]}
        (root / "forms" / f"{body['key']}.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return root


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("SAFEFLOW_DATA_DIR", str(tmp_path / "site"))
    monkeypatch.setenv("SAFEFLOW_LOCALE", "en")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_a_dry_run_prints_each_action_and_sends_nothing(runner: CliRunner, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    pack = _pack(tmp_path / "pack")
    events = tmp_path / "events.jsonl"
    lines = [{"create": "area", "data": {"name": "Tank farm"}, "as": "a"}]
    lines += [{"create": "hazard", "data": {"title": f"leak {i}", "area": 1, "category": "fire",
                                            "reporter": "li@example.test"}, "as": f"h{i}"} for i in range(3)]
    lines += [{"update": "h0", "data": {"state": "closed"}}, {"advance": "25h"}]
    events.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    with smtp_server() as mailbox, http_receiver((200, {"errcode": 0})) as server:
        monkeypatch.setenv("SAFEFLOW_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SAFEFLOW_SMTP_PORT", str(mailbox.port))
        monkeypatch.setenv("SAFEFLOW_SMS_GATEWAY_URL", server.url + "/sms")
        monkeypatch.setenv("SAFEFLOW_DINGTALK_WEBHOOK", server.url + "/dingtalk")
        monkeypatch.setenv("SAFEFLOW_WECOM_WEBHOOK", server.url + "/wecom")
        rules = tmp_path / "plant.rules"
        rules.write_text(RULES.replace("URL", server.url), encoding="utf-8")
        get_settings.cache_clear()
        result = runner.invoke(app, ["rules", "test", str(rules), "--events", str(events), "--pack", str(pack)])
        assert result.exit_code == 0, result.output
        out = [json.loads(line) for line in result.stdout.splitlines()]
        assert mailbox.messages == [] and server.requests == []
    assert out == [
        {"rule": "hazard_cluster", "event": 4, "action": "notify",
         "to": ["role:plant_manager", "email:li@example.test"],
         "detail": {"channels": ["email", "sms"], "template": "rules.notify"}},
        {"rule": "hazard_cluster", "event": 4, "action": "call_webhook", "to": [f"{server.url}/alarm"],
         "detail": {"body": {"area": 1, "category": "fire", "rule": "hazard_cluster"}}},
        {"rule": "hazard_cluster", "event": 4, "action": "update_record", "to": [],
         "detail": {"record": 4, "values": {"risk_level": "major"}}},
        {"rule": "stale_hazard", "event": 6, "action": "escalate", "to": ["role:ehs_lead"],
         "detail": {"channels": ["dingtalk", "wecom"], "template": "rules.escalate"}},
        {"rule": "stale_hazard", "event": 6, "action": "escalate", "to": ["role:ehs_lead"],
         "detail": {"channels": ["dingtalk", "wecom"], "template": "rules.escalate"}},
    ]


def test_bad_event_lines_are_all_reported_with_their_line(runner: CliRunner, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text('{"create": "hazard"}\nnot json\n\n{"wat": 1}\n', encoding="utf-8")
    rules = tmp_path / "r.rules"
    rules.write_text(RULES, encoding="utf-8")
    result = runner.invoke(app, ["rules", "test", str(rules), "--events", str(events), "--pack",
                                 str(_pack(tmp_path / "pack"))])
    assert result.exit_code == 2
    assert "events.jsonl:2:" in result.output and "events.jsonl:4:" in result.output


def test_a_first_clock_line_pins_now_so_a_deadline_test_reads_the_same_any_day(runner: CliRunner,
                                                                                tmp_path: Path) -> None:
    pack = _pack(tmp_path / "pack")
    rules = tmp_path / "due.rules"
    rules.write_text('rule "due_tomorrow"\n  when daily at "09:00"\n  for each inspection as i where '
                     'i.result == null\n  if TODATE(i.due_at) == today() + days(1)\n'
                     '  then notify role("ehs_lead") via inapp\nend\n', encoding="utf-8")
    events = tmp_path / "events.jsonl"
    lines = [{"clock": "2026-11-23T08:00:00+08:00"},
             {"create": "inspection", "data": {"due_at": "2026-11-24T10:00:00+08:00"}}, {"advance": "2h"}]
    events.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["rules", "test", str(rules), "--events", str(events), "--pack", str(pack)])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(a["rule"], a["event"], a["to"]) for a in out] == [("due_tomorrow", 3, ["role:ehs_lead"])]

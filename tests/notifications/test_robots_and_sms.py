"""DingTalk and WeCom group robots and an HTTP SMS gateway, each against a local server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from datetime import timedelta

from sqlalchemy import select

from engine.runtime.site import Site
from engine.services import ManualClock, Notification, Recipient
from engine.store.models import OutboxMessage
from tests.helpers import make_user
from tests.notifications.servers import http_receiver

ALARM = Notification(to=[Recipient("role", "shift_lead")], channels=("dingtalk", "wecom"),
                     subject={"zh": "气柜压力超限", "en": "Gas holder over pressure"},
                     body={"zh": "{{ sensor }} 连续 3 次超限", "en": "{{ sensor }} over 3 times"},
                     context={"sensor": "GH-1"})


def test_robots_get_their_vendor_payloads_and_mention_the_people_by_phone(csite: Site) -> None:
    make_user(csite, "zhou", phone="13800000001", roles=("shift_lead",))
    make_user(csite, "wu", roles=("shift_lead",))  # no phone: in the group, not mentioned
    with http_receiver((200, {"errcode": 0, "errmsg": "ok"})) as server:
        csite.settings.dingtalk_webhook = server.url + "/robot/send?access_token=abc"
        csite.settings.wecom_webhook = server.url + "/cgi-bin/webhook/send?key=xyz"
        with csite.session() as session:
            csite.notifier(session).notify(ALARM)
        csite.drain()
    by_path = {r.path.split("?")[0]: r.json() for r in server.requests}
    assert by_path["/robot/send"] == {
        "msgtype": "markdown",
        "markdown": {"title": "气柜压力超限", "text": "### 气柜压力超限\n\nGH-1 连续 3 次超限\n\n@13800000001"},
        "at": {"atMobiles": ["13800000001"], "isAtAll": False}}
    assert by_path["/cgi-bin/webhook/send"] == {
        "msgtype": "text",
        "text": {"content": "气柜压力超限\nGH-1 连续 3 次超限", "mentioned_mobile_list": ["13800000001"]}}


def test_a_dingtalk_robot_with_a_secret_gets_a_valid_signature(csite: Site) -> None:
    secret = "SECabcdef"
    make_user(csite, "zhou", phone="13800000001", roles=("shift_lead",))
    with http_receiver((200, {"errcode": 0})) as server:
        csite.settings.dingtalk_webhook = server.url + "/robot/send?access_token=abc"
        csite.settings.dingtalk_secret = secret
        with csite.session() as session:
            csite.notifier(session).notify(Notification(to=ALARM.to, channels=("dingtalk",), subject=ALARM.subject))
        csite.drain()
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(server.requests[0].path).query)
    stamp = query["timestamp"][0]
    expected = base64.b64encode(hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest())
    assert query["sign"][0] == expected.decode() and query["access_token"] == ["abc"]


def test_a_robot_answering_an_errcode_is_a_failed_delivery(csite: Site, clock: ManualClock) -> None:
    make_user(csite, "zhou", roles=("shift_lead",))
    with http_receiver((200, {"errcode": 130101, "errmsg": "send too fast"}), (200, {"errcode": 0})) as server:
        csite.settings.wecom_webhook = server.url + "/send?key=k"
        with csite.session() as session:
            csite.notifier(session).notify(Notification(to=ALARM.to, channels=("wecom",), subject=ALARM.subject))
        csite.drain()
        with csite.session() as session:
            row = session.execute(select(OutboxMessage)).scalar_one()
            assert row.status == "failed" and "130101" in (row.last_error or "")
        clock.advance(timedelta(minutes=1))
        csite.drain()
    with csite.session() as session:
        assert session.execute(select(OutboxMessage.status)).scalar_one() == "sent"


def test_sms_goes_to_the_configured_gateway_with_its_body_template(csite: Site) -> None:
    make_user(csite, "zhou", phone="13800000001", roles=("shift_lead",))
    with http_receiver((200, {"result": "queued"})) as server:
        csite.settings.sms_gateway_url = server.url + "/sms"
        csite.settings.sms_gateway_headers = {"Authorization": "Bearer gw-token"}
        csite.settings.sms_gateway_body = '{"mobile": {{ phone|tojson }}, "content": {{ text|tojson }}, "sign": "厂区"}'
        with csite.session() as session:
            csite.notifier(session).notify(Notification(to=ALARM.to, channels=("sms",), subject=ALARM.subject,
                                                        body=ALARM.body, context=ALARM.context))
        csite.drain()
    [request] = server.requests
    assert request.headers["Authorization"] == "Bearer gw-token"
    assert request.json() == {"mobile": "13800000001", "content": "GH-1 连续 3 次超限", "sign": "厂区"}


def test_a_channel_that_is_not_configured_dead_letters_with_the_setting_to_fix(csite: Site) -> None:
    make_user(csite, "zhou", phone="13800000001", roles=("shift_lead",))
    with csite.session() as session:
        csite.notifier(session).notify(Notification(to=ALARM.to, channels=("sms",), subject=ALARM.subject))
    csite.drain()
    with csite.session() as session:
        row = session.execute(select(OutboxMessage)).scalar_one()
    assert row.status == "dead" and "SAFEFLOW_SMS_GATEWAY_URL" in (row.last_error or "")

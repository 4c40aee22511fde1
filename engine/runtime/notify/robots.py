"""DingTalk and WeCom group robots: one message to a group chat that @-mentions the people.

Payload formats follow the two vendors' robot documentation: DingTalk `markdown` with
`at.atMobiles` (the phone must also appear in the text for the mention to show) and optional
"加签" signing; WeCom `text` with `mentioned_mobile_list`. Both answer HTTP 200 with an
`errcode`; anything but 0 is a failed delivery (retried, then dead-lettered).
"""

from __future__ import annotations

from typing import Any

from engine.config import Settings
from engine.runtime.notify.channels import Channel, DeliveryFailed, post_json, register_channel
from engine.runtime.notify.signing import dingtalk_signed_url
from engine.store.outbox import ClaimedMessage


def _check_errcode(response: Any, vendor: str) -> None:
    try:
        answer = response.json()
    except ValueError as exc:
        raise DeliveryFailed(f"{vendor} answered non-JSON: {response.text[:200]}") from exc
    if answer.get("errcode", 0) != 0:
        raise DeliveryFailed(f"{vendor} errcode {answer.get('errcode')}: {answer.get('errmsg')}")


def dingtalk_payload(subject: str, body: str, mobiles: list[str]) -> dict[str, Any]:
    mentions = " ".join(f"@{m}" for m in mobiles)
    text = f"### {subject}\n\n{body}" + (f"\n\n{mentions}" if mentions else "")
    return {"msgtype": "markdown", "markdown": {"title": subject, "text": text},
            "at": {"atMobiles": mobiles, "isAtAll": False}}


def wecom_payload(subject: str, body: str, mobiles: list[str]) -> dict[str, Any]:
    content = f"{subject}\n{body}" if body else subject
    return {"msgtype": "text", "text": {"content": content, "mentioned_mobile_list": mobiles}}


@register_channel
class DingTalkChannel(Channel):
    name = "dingtalk"
    group = True

    def send(self, message: ClaimedMessage, settings: Settings) -> None:
        url = message.recipient if message.recipient.startswith("http") else settings.dingtalk_webhook
        if not url:
            raise DeliveryFailed("DingTalk robot is not configured (SAFEFLOW_DINGTALK_WEBHOOK)", permanent=True)
        if settings.dingtalk_secret:
            url = dingtalk_signed_url(url, settings.dingtalk_secret)
        payload = dingtalk_payload(message.subject, message.body, list(message.payload.get("mobiles", [])))
        _check_errcode(post_json(url, payload, settings), "DingTalk")


@register_channel
class WeComChannel(Channel):
    name = "wecom"
    group = True

    def send(self, message: ClaimedMessage, settings: Settings) -> None:
        url = message.recipient if message.recipient.startswith("http") else settings.wecom_webhook
        if not url:
            raise DeliveryFailed("WeCom robot is not configured (SAFEFLOW_WECOM_WEBHOOK)", permanent=True)
        payload = wecom_payload(message.subject, message.body, list(message.payload.get("mobiles", [])))
        _check_errcode(post_json(url, payload, settings), "WeCom")

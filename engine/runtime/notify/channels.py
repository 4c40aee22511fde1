"""Delivery channels: how one outbox message leaves the site.

Each channel is one small registered class: where a person's address for it comes from, and
how to send a claimed message. `send` raises `DeliveryFailed` (transient: retried with backoff;
permanent: dead-lettered at once, e.g. a 4xx from a webhook or a channel that is not set up).
Channels never touch the database: the worker records the outcome.
"""

from __future__ import annotations

import json
import smtplib
from email.message import EmailMessage
from typing import Any, ClassVar

import httpx

from engine.config import Settings
from engine.directory import Person
from engine.runtime.notify import signing
from engine.runtime.notify.templates import render_text
from engine.store.outbox import ClaimedMessage


class DeliveryFailed(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Channel:
    name: ClassVar[str]
    # Group channels send one message per notification (a robot in a group chat) that mentions
    # the people; person channels send one per recipient to their own address.
    group: ClassVar[bool] = False
    # Written straight into the database with its cause (the in-app inbox): nothing to send.
    local: ClassVar[bool] = False

    def address(self, person: Person) -> str | None:
        return None

    def send(self, message: ClaimedMessage, settings: Settings) -> None:
        raise NotImplementedError


CHANNELS: dict[str, Channel] = {}


def register_channel(channel: type[Channel]) -> type[Channel]:
    CHANNELS[channel.name] = channel()
    return channel


def to_json_bytes(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, default=str).encode()


def post_json(url: str, body: Any, settings: Settings, headers: dict[str, str] | None = None,
              method: str = "POST", raw: bytes | None = None) -> httpx.Response:
    """Send JSON; 2xx passes, 408/429/5xx and network errors are transient, other 4xx permanent."""
    raw = to_json_bytes(body) if raw is None else raw
    all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    try:
        response = httpx.request(method, url, content=raw, headers=all_headers,
                                 timeout=settings.webhook_timeout_seconds)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if response.is_success:
        return response
    permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
    raise DeliveryFailed(f"HTTP {response.status_code}: {response.text[:500]}", permanent=permanent)


@register_channel
class InAppChannel(Channel):
    name = "inapp"
    local = True

    def address(self, person: Person) -> str | None:
        return f"user:{person.id}"


@register_channel
class EmailChannel(Channel):
    name = "email"

    def address(self, person: Person) -> str | None:
        return person.email

    def send(self, message: ClaimedMessage, settings: Settings) -> None:
        if not settings.smtp_host:
            raise DeliveryFailed("email channel is not configured (SAFEFLOW_SMTP_HOST)", permanent=True)
        mail = EmailMessage()
        mail["From"] = settings.smtp_from
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Message-ID"] = f"<outbox-{message.id}@safeflow>"
        mail.set_content(message.body or message.subject)
        for attachment in message.payload.get("attachments") or ():
            path = settings.files_dir / attachment["sha256"][:2] / attachment["sha256"]
            if not path.is_file():
                raise DeliveryFailed(f"attachment {attachment.get('filename')} is missing", permanent=True)
            maintype, _, subtype = str(attachment.get("content_type") or "application/octet-stream").partition("/")
            mail.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype.split(";")[0] or "octet-stream",
                                filename=str(attachment.get("filename") or "attachment"))
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.webhook_timeout_seconds) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls()
                if settings.smtp_username:
                    smtp.login(settings.smtp_username, settings.smtp_password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryFailed(f"recipient refused: {exc.recipients}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc


@register_channel
class WebhookChannel(Channel):
    """A generic JSON webhook, signed with HMAC-SHA256 (see `signing`)."""

    name = "webhook"

    def send(self, message: ClaimedMessage, settings: Settings) -> None:
        body = message.payload.get("json", {"subject": message.subject, "body": message.body})
        headers = {signing.DELIVERY_HEADER: str(message.id)}
        raw = to_json_bytes(body)
        if settings.webhook_secret:
            headers[signing.SIGNATURE_HEADER] = signing.sign(settings.webhook_secret, raw)
        post_json(message.recipient, body, settings, headers, method=message.payload.get("method", "POST"), raw=raw)


@register_channel
class SmsChannel(Channel):
    """SMS through whatever HTTP gateway the site uses: URL, headers and a JSON body template."""

    name = "sms"

    def address(self, person: Person) -> str | None:
        return person.phone

    def send(self, message: ClaimedMessage, settings: Settings) -> None:
        if not settings.sms_gateway_url:
            raise DeliveryFailed("SMS channel is not configured (SAFEFLOW_SMS_GATEWAY_URL)", permanent=True)
        text = message.body or message.subject
        try:
            body = json.loads(render_text(settings.sms_gateway_body, {"phone": message.recipient, "text": text,
                                                                      "subject": message.subject}))
        except json.JSONDecodeError as exc:
            raise DeliveryFailed(f"SMS gateway body template is not JSON: {exc}", permanent=True) from exc
        post_json(settings.sms_gateway_url, body, settings, dict(settings.sms_gateway_headers))

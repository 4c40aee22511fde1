"""Signatures on outbound webhooks, and how a receiver checks them (docs/notifications.md).

Header `X-SafeFlow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
Signing the timestamp with the body lets a receiver refuse replays older than a few minutes;
comparing with `hmac.compare_digest` keeps the check constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

SIGNATURE_HEADER = "X-SafeFlow-Signature"
DELIVERY_HEADER = "X-SafeFlow-Delivery"


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, *, tolerance_seconds: int = 300, now: float | None = None) -> bool:
    """True when `header` is a valid signature of `body` made within the tolerance."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        stamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - stamp) > tolerance_seconds:
        return False
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    """DingTalk robots with "加签": append timestamp and sign = base64(HMAC-SHA256(secret,
    "<timestamp>\\n<secret>")), URL-encoded, as their documentation specifies."""
    stamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    digest = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign_value = urllib.parse.quote_plus(base64.b64encode(digest).decode())
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={stamp}&sign={sign_value}"

"""Turning credentials into a Principal: password logins, bearer tokens, API keys, first admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import i18n
from engine.errors import NotFound, Unauthorized
from engine.identity import org
from engine.identity.secrets import (
    generate_password,
    hash_api_key,
    issue_token,
    new_api_key,
    read_token,
    verify_password,
)
from engine.store import audit
from engine.store.access import Principal, load_principal
from engine.store.audit import Actor
from engine.store.models import ApiKey, User


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    user_id: int


def record_failed_login(session: Session, username: str) -> None:
    """Audit a failed attempt; the caller commits it on its own, since the login's rolls back."""
    audit.append(session, Actor.system("auth"), "auth.login_failed", "user", username[:100], {})


def login(session: Session, username: str, password: str, *, secret: str, minutes: int) -> IssuedToken:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if not verify_password(user.password_hash if user else None, password) or user is None or not user.active:
        raise Unauthorized("auth.bad_credentials")
    audit.append(session, Actor(user.id, user.username), "auth.login", "user", user.id, {})
    return IssuedToken(issue_token(user.id, user.token_version, secret, minutes), minutes * 60, user.id)


def principal_from_token(session: Session, token: str, *, secret: str) -> Principal:
    claims = read_token(token, secret)
    user = session.get(User, int(claims["sub"]))
    if user is None or not user.active or user.token_version != claims["ver"]:
        raise Unauthorized("auth.token_revoked")
    principal = load_principal(session, user.id)
    assert principal is not None
    return principal


def principal_from_api_key(session: Session, key: str) -> Principal:
    row = session.execute(select(ApiKey).where(ApiKey.key_hash == hash_api_key(key))).scalar_one_or_none()
    now = datetime.now(UTC)
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise Unauthorized("auth.bad_api_key")
    principal = load_principal(session, row.user_id, api_key_id=row.id)
    if principal is None:
        raise Unauthorized("auth.bad_api_key")
    return principal


def create_api_key(session: Session, actor: Actor, user_id: int, name: str,
                   expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    org.get_user(session, user_id)
    key, prefix, digest = new_api_key()
    row = ApiKey(user_id=user_id, name=name, prefix=prefix, key_hash=digest, expires_at=expires_at)
    session.add(row)
    session.flush()
    audit.append(session, actor, "apikey.create", "api_key", row.id, {"after": {"user_id": user_id, "name": name}})
    return row, key


def revoke_api_key(session: Session, actor: Actor, key_id: int) -> None:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(what=f"api key {key_id}")
    row.revoked_at = datetime.now(UTC)
    audit.append(session, actor, "apikey.revoke", "api_key", row.id, {})


def ensure_admin(session: Session, username: str, password: str | None) -> str | None:
    """Create the first admin if there is no admin yet; return a generated password to print once."""
    if session.execute(select(User.id).where(User.is_admin.is_(True))).first():
        return None
    generated = None
    if not password:
        password = generated = generate_password()
    existing = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    actor = Actor.system("setup")
    if existing:
        org.update_user(session, actor, existing.id, is_admin=True, active=True)
        org.set_password(session, actor, existing.id, password)
    else:
        org.create_user(session, actor, username=username, name="Administrator", password=password, is_admin=True)
    return generated


i18n.register_messages(
    {
        "auth.bad_credentials": {"zh-CN": "用户名或密码错误", "en": "Wrong username or password"},
        "auth.token_expired": {"zh-CN": "登录已过期，请重新登录", "en": "Your session has expired; log in again"},
        "auth.token_invalid": {"zh-CN": "登录凭证无效", "en": "Invalid token"},
        "auth.token_revoked": {"zh-CN": "登录凭证已失效", "en": "This token is no longer valid"},
        "auth.bad_api_key": {"zh-CN": "API 密钥无效或已吊销", "en": "Invalid or revoked API key"},
        "auth.no_grant": {
            "zh-CN": "没有对 {kind} “{key}” 执行 {action} 的权限",
            "en": "No permission to {action} {kind} \"{key}\"",
        },
    }
)

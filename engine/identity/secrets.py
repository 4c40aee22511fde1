"""Password hashes (argon2id), expiring bearer tokens (JWT, HS256) and API keys.

argon2-cffi and PyJWT are the maintained, audited implementations; we only choose parameters.
Tokens carry the user's `token_version`, so changing a password or deactivating a user revokes
every token issued before without keeping a token table.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine.errors import Unauthorized

_hasher = PasswordHasher()


def configure_hasher(*, time_cost: int, memory_cost: int, parallelism: int = 1) -> None:
    """Tune argon2's cost (tests lower it; production keeps argon2-cffi's recommended defaults)."""
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
API_KEY_PREFIX = "sfk_"
_ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend the same time as a real check so timing does not reveal unknown usernames.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def issue_token(user_id: int, token_version: int, secret: str, minutes: int, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    claims = {"sub": str(user_id), "ver": token_version, "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_token(token: str, secret: str) -> dict[str, Any]:
    try:
        return jwt.decode(token, secret, algorithms=[_ALGORITHM], options={"require": ["sub", "exp", "ver"]})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("auth.token_expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("auth.token_invalid") from exc


def new_api_key() -> tuple[str, str, str]:
    """(the key shown once, its lookup prefix, the sha256 kept in the database)."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return key, key[:12], hash_api_key(key)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_password() -> str:
    return secrets.token_urlsafe(12)

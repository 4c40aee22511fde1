"""Site configuration from environment variables (SAFEFLOW_*) and an optional safeflow.toml.

Precedence: explicit arguments > environment > safeflow.toml (in the working directory, or the
file named by SAFEFLOW_CONFIG) > defaults. Defaults give a working single-machine site: SQLite
in ./safeflow-data, embedded worker, Asia/Shanghai, zh-CN.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _toml_path() -> Path:
    return Path(os.environ.get("SAFEFLOW_CONFIG", "safeflow.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFEFLOW_", extra="ignore")

    data_dir: Path = Field(default=Path("safeflow-data"), description="Uploaded files, SQLite database, secrets")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in data_dir")
    broker_url: str = Field(default="", description="Celery broker (redis://…); empty = embedded worker")
    celery_queue: str = Field(default="safeflow", description="Celery queue name (sites sharing one Redis differ)")
    timezone: str = Field(default="Asia/Shanghai", description="Site timezone for dates, schedules, calendars")
    locale: str = Field(default="zh-CN", description="Default locale: zh-CN or en")
    secret_key: str | None = Field(default=None, description="Signs tokens; generated into data_dir if unset")
    token_minutes: int = Field(default=12 * 60, description="Lifetime of a login token")
    admin_username: str = "admin"
    admin_password: str | None = Field(default=None, description="First admin's password; generated if unset")
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_mb: int = 25
    worker_interval_seconds: float = Field(default=5.0, description="How often the embedded worker ticks")
    public_url: str = "http://127.0.0.1:8000"
    timer_lease_seconds: float = Field(default=300, description="How long a claimed timer or message is held "
                                       "before another worker may take it over (its worker died)")
    wiring: list[str] = Field(default_factory=list, description="Extra wiring hooks 'module:function' "
                              "(an integrator's own timer kinds and event listeners)")
    # --- notifications (docs/notifications.md) ---
    smtp_host: str = Field(default="", description="SMTP server for email; empty = email channel off")
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_from: str = "safeflow@localhost"
    webhook_secret: str = Field(default="", description="HMAC-SHA256 key signing outbound webhooks")
    webhook_timeout_seconds: float = 10
    outbox_max_attempts: int = Field(default=8, description="Deliveries tried before a message is dead-lettered")
    outbox_backoff_seconds: float = Field(default=30, description="First retry delay; doubles per attempt")
    dingtalk_webhook: str = Field(default="", description="DingTalk group-robot URL (…/robot/send?access_token=…)")
    dingtalk_secret: str = Field(default="", description="DingTalk robot signing secret (SEC…), if enabled")
    wecom_webhook: str = Field(default="", description="WeCom group-robot URL (…/webhook/send?key=…)")
    sms_gateway_url: str = Field(default="", description="HTTP SMS gateway; empty = SMS channel off")
    sms_gateway_headers: dict[str, str] = Field(default_factory=dict, description="e.g. an Authorization header")
    sms_gateway_body: str = Field(default='{"to": {{ phone|tojson }}, "text": {{ text|tojson }}}',
                                  description="Sandboxed Jinja2 template of the gateway's JSON body")
    # --- sensors ---
    sensor_retention_days: int = Field(default=90, description="Readings older than this are purged daily")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=_toml_path()))

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)  # a typo fails at start-up, not when the 8 am schedule is due
        except (KeyError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (expected an IANA name such as Asia/Shanghai)") from exc
        return value

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in ("zh-CN", "en"):
            raise ValueError("locale must be zh-CN or en")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'safeflow.sqlite3').resolve()}"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    def effective_secret_key(self) -> str:
        """The configured secret, else one generated once and kept in data_dir (mode 0600)."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key

    def public_dict(self) -> dict[str, Any]:
        """Settings safe to show (no secrets)."""
        hidden = {"secret_key", "admin_password"}
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.model_dump().items() if k not in hidden}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

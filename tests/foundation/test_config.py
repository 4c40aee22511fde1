from pathlib import Path

import pytest
from pydantic import ValidationError

from engine.config import Settings


def test_defaults_give_a_working_single_machine_site(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.timezone == "Asia/Shanghai"
    assert settings.locale == "zh-CN"
    assert settings.broker_url == ""


def test_environment_overrides_the_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "safeflow.toml").write_text('timezone = "Europe/Berlin"\nlocale = "en"\nport = 9000\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAFEFLOW_PORT", "9100")
    settings = Settings()
    assert settings.timezone == "Europe/Berlin"
    assert settings.locale == "en"
    assert settings.port == 9100


def test_an_unknown_timezone_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFEFLOW_TIMEZONE", "Asia/Shanghia")
    with pytest.raises(ValidationError):
        Settings()


def test_a_generated_secret_key_is_kept_private_and_stable(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = settings.effective_secret_key()
    assert first == Settings(data_dir=tmp_path).effective_secret_key()
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0
    assert "secret_key" not in settings.public_dict()

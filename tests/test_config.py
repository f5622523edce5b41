from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from loglens.config import Settings, default_data_dir, load_settings, parse_duration
from loglens.errors import ConfigError, InputError


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30m", timedelta(minutes=30)), ("2h", timedelta(hours=2)), ("1d", timedelta(days=1)),
     ("90s", timedelta(seconds=90)), ("1w", timedelta(weeks=1)), ("1.5h", timedelta(minutes=90))],
)  # fmt: skip
def test_parse_duration_accepts_number_and_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "m", "2 hours", "-1h", "1y"])
def test_parse_duration_rejects_other_forms(text: str) -> None:
    with pytest.raises(InputError, match="invalid duration"):
        parse_duration(text)


def test_settings_read_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGLENS_LOKI_URL", "http://loki:3100/")
    monkeypatch.setenv("LOGLENS_LOKI_TENANT", "homelab")
    monkeypatch.setenv("LOGLENS_MAX_WINDOW", "2d")
    settings = load_settings()
    assert settings.loki_url == "http://loki:3100"
    assert settings.loki_tenant == "homelab"
    assert settings.max_window_delta == timedelta(days=2)


def test_settings_read_dotenv_in_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("LOGLENS_LOKI_URL=http://from-dotenv:3100\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().loki_url == "http://from-dotenv:3100"


def test_masked_settings_hide_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGLENS_LOKI_PASSWORD", "hunter2")
    monkeypatch.setenv("LOGLENS_LOKI_TOKEN", "tok-123")
    masked = load_settings().masked()
    assert masked["loki_password"] == "********"
    assert masked["loki_token"] == "********"
    assert "hunter2" not in str(masked) and "tok-123" not in str(masked)


def test_invalid_url_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGLENS_LOKI_URL", "loki:3100")
    with pytest.raises(ConfigError, match="loki_url"):
        load_settings()


def test_invalid_max_window_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGLENS_MAX_WINDOW", "a week")
    with pytest.raises(ConfigError, match="max_window"):
        load_settings()


def test_everything_stored_lives_under_data_dir(isolated_settings: Path) -> None:
    settings = Settings()
    assert settings.data_dir == isolated_settings
    assert settings.patterns_db.parent == isolated_settings
    assert settings.eval_db.parent == isolated_settings


def test_default_data_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "loglens"

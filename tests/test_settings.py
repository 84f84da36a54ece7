from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from app.settings import SettingsError, load_settings

TOKEN = "123456:SECRET-token-value"


def settings_from(**env: Any) -> Any:
    return load_settings(_env_file=None, **env)


def test_defaults_match_the_contract() -> None:
    s = settings_from()
    assert s.database_url == "sqlite+aiosqlite:///./data/app.db"
    assert s.telegram_bot_token is None
    assert s.local_mode
    assert s.telegram_api_base == "https://api.telegram.org"
    assert s.telegram_updates == "webhook"
    assert s.tma_init_data_max_age == 86400
    assert s.scheduler_enabled is True
    assert s.scheduler_max_sleep == 60
    assert s.send_rate_global == 30
    assert s.send_rate_per_chat == 1
    assert s.reminders_per_user_per_tick == 3
    assert s.auto_migrate is True
    assert not s.llm_configured
    assert s.reconcile_interval == 6 * 3600
    assert s.metrics_token is None


def test_environment_names_are_the_contracts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEND_RATE_GLOBAL", "12.5")
    monkeypatch.setenv("TELEGRAM_UPDATES", "polling")
    monkeypatch.setenv("AUTO_MIGRATE", "false")
    monkeypatch.setenv("TMA_INIT_DATA_MAX_AGE", "0")
    s = settings_from()
    assert s.send_rate_global == 12.5
    assert s.telegram_updates == "polling"
    assert s.auto_migrate is False
    assert s.tma_init_data_max_age == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SEND_RATE_GLOBAL", "0"),
        ("SEND_RATE_PER_CHAT", "-1"),
        ("TELEGRAM_UPDATES", "carrier-pigeon"),
        ("DATABASE_URL", "not a url"),
        ("DATABASE_URL", "mysql://root@localhost/app"),
        ("DATABASE_URL", "sqlite+aiosqlite:///:memory:"),
        ("DATABASE_URL", "postgresql://user@/nodb"),
        ("TMA_INIT_DATA_MAX_AGE", "-5"),
        ("REMINDERS_PER_USER_PER_TICK", "0"),
        ("SCHEDULER_MAX_SLEEP", "0"),
        ("SCHEDULER_ENABLED", "maybe"),
        ("PUBLIC_BASE_URL", "example.com"),
        ("TELEGRAM_API_BASE", "ftp://api"),
        ("TELEGRAM_BOT_TOKEN", "no-colon-here"),
        ("LLM_TIMEOUT", "0"),
        ("RECONCILE_INTERVAL", "-1"),
        ("RECONCILE_INTERVAL", "604801"),
        ("RECONCILE_INTERVAL", "hourly"),
    ],
)
def test_impossible_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        settings_from()


def test_reconcile_interval_and_metrics_token_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECONCILE_INTERVAL", "0")
    monkeypatch.setenv("METRICS_TOKEN", "scrape-secret")
    s = settings_from()
    assert s.reconcile_interval == 0
    assert s.metrics_token is not None
    assert s.metrics_token.get_secret_value() == "scrape-secret"
    assert "scrape-secret" not in repr(s)
    monkeypatch.setenv("METRICS_TOKEN", "  ")
    assert settings_from().metrics_token is None


def test_a_bad_token_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "leaky-secret-value")
    with pytest.raises(SettingsError) as info:
        settings_from()
    assert "leaky-secret-value" not in str(info.value)


def test_platform_database_urls_are_normalised() -> None:
    s = settings_from(database_url="postgres://u:p@db.internal:5432/app?sslmode=require")
    assert s.database.drivername == "postgresql+asyncpg"
    assert s.database.query == {"ssl": "require"}
    assert s.is_postgres
    assert settings_from(database_url="sqlite:///./x.db").database.drivername == (
        "sqlite+aiosqlite"
    )


def test_blank_optional_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    monkeypatch.setenv("PUBLIC_BASE_URL", " ")
    s = settings_from()
    assert s.local_mode
    assert s.public_base_url is None


def test_token_switches_local_mode_off() -> None:
    s = settings_from(telegram_bot_token=TOKEN)
    assert not s.local_mode
    assert s.initdata_token == TOKEN
    assert TOKEN not in repr(s)


def test_start_up_with_an_impossible_value_stops_with_a_named_message(
    tmp_path: Any,
) -> None:
    env = {**os.environ, "SEND_RATE_GLOBAL": "0"}
    result = subprocess.run(
        [sys.executable, "-c", "import app.main"],
        env=env,
        cwd=os.getcwd(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "SEND_RATE_GLOBAL" in result.stderr
    assert "Traceback" not in result.stderr

"""Settings from the environment (or a `.env` file), named exactly as CONTRACT.md names them."""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

# Used to sign and check initData only when no bot token is configured (local mode), so the
# Mini App can be opened in a plain browser. It can never verify data Telegram signed.
LOCAL_MODE_BOT_TOKEN = "0:local-mode-development-key"  # noqa: S105 - public by design

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


class SettingsError(Exception):
    """A setting has an impossible value; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        case_sensitive=False,
        extra="ignore",
    )

    database_url: str = "sqlite+aiosqlite:///./data/app.db"
    telegram_bot_token: SecretStr | None = None
    telegram_api_base: str = "https://api.telegram.org"
    telegram_webhook_secret: SecretStr | None = None
    telegram_updates: Literal["webhook", "polling"] = "webhook"
    public_base_url: str | None = None
    internal_token: SecretStr | None = None
    tma_init_data_max_age: int = Field(default=86400, ge=0)
    scheduler_enabled: bool = True
    scheduler_max_sleep: float = Field(default=60.0, gt=0, le=3600)
    send_rate_global: float = Field(default=30.0, gt=0)
    send_rate_per_chat: float = Field(default=1.0, gt=0)
    reminders_per_user_per_tick: int = Field(default=3, ge=1, le=50)
    # Seconds between background reconcile passes (app/scheduler/reconcile.py); 0 = off.
    reconcile_interval: float = Field(default=6 * 3600, ge=0, le=7 * 86400)
    # When set, GET /metrics demands it as a bearer token; unset = open (a private network).
    metrics_token: SecretStr | None = None
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
    llm_timeout: float = Field(default=20.0, gt=0, le=600)
    llm_max_concurrency: int = Field(default=4, ge=1, le=100)
    # Every request body, REST API and webhook alike. The default holds the largest valid
    # body (20 steps at their longest, every character \u-escaped) with room to spare.
    max_request_body_bytes: int = Field(default=2 * 1024 * 1024, ge=64 * 1024, le=64 * 1024 * 1024)
    auto_migrate: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The Mini App's build (`npm run build` in webapp/); unset = webapp/dist beside app/.
    webapp_dist: str | None = None

    @field_validator(
        "telegram_bot_token",
        "telegram_webhook_secret",
        "internal_token",
        "metrics_token",
        "llm_api_key",
        mode="before",
    )
    @classmethod
    def _blank_secret_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("public_base_url", "llm_base_url", "llm_model", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("public_base_url", "telegram_api_base", "llm_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram tokens look like "123456:ABC..."; catching a pasted wrong value at start-up
        # beats a 401 from Telegram at the first reminder. The value itself is never echoed.
        if value is not None:
            bot_id, sep, rest = value.get_secret_value().partition(":")
            if not sep or not bot_id.isdigit() or not rest:
                raise ValueError("must look like '<bot id>:<secret>' as BotFather gives it")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalise_database_url(value).render_as_string(hide_password=False)

    @property
    def local_mode(self) -> bool:
        return self.telegram_bot_token is None

    @property
    def initdata_token(self) -> str:
        """The key initData is checked against: the bot's token, or the local-mode key."""
        if self.telegram_bot_token is None:
            return LOCAL_MODE_BOT_TOKEN
        return self.telegram_bot_token.get_secret_value()

    @cached_property
    def database(self) -> URL:
        return make_url(self.database_url)

    @property
    def is_postgres(self) -> bool:
        return self.database.get_backend_name() == "postgresql"

    @property
    def llm_configured(self) -> bool:
        return self.llm_base_url is not None and self.llm_model is not None


def normalise_database_url(raw: str) -> URL:
    """Accept the URL forms hosting platforms hand out and pin the async driver we ship."""
    try:
        url = make_url(raw.strip())
    except ArgumentError as exc:
        raise ValueError(f"is not a database URL ({exc})") from None
    driver = _ASYNC_DRIVERS.get(url.drivername)
    if driver is None:
        raise ValueError(
            f"uses {url.drivername!r}; expected sqlite+aiosqlite:///path or postgresql+asyncpg://"
        )
    url = url.set(drivername=driver)
    if driver.startswith("sqlite"):
        if not url.database or url.database == ":memory:":
            raise ValueError("needs a file path: an in-memory SQLite database is not shared")
    else:
        if not url.host and "host" not in url.query:
            raise ValueError("needs a host")
        if not url.database:
            raise ValueError("needs a database name")
        # asyncpg spells libpq's sslmode as ssl; platforms hand out the libpq form.
        if "sslmode" in url.query:
            query = dict(url.query)
            query["ssl"] = query.pop("sslmode")
            url = url.set(query=query)
    return url


def load_settings(**overrides: object) -> Settings:
    """Read and validate settings, turning pydantic's report into one that names variables."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "?"
            problems.append(f"{name}: {error['msg']}")
        raise SettingsError("Invalid settings — " + "; ".join(problems)) from None

"""Logging set-up, including the guarantee that no secret reaches a log line."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from app.settings import Settings


class RedactSecrets(logging.Filter):
    """Replaces secrets in rendered messages: libraries log URLs, and the Bot API puts the
    bot token in every URL."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, "***")
        if redacted != message or record.exc_info:
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                for secret in self._secrets:
                    record.exc_text = record.exc_text.replace(secret, "***")
            record.msg = redacted
            record.args = None
        return True


def secrets_of(settings: Settings) -> list[str]:
    values = [
        settings.telegram_bot_token,
        settings.telegram_webhook_secret,
        settings.internal_token,
        settings.metrics_token,
        settings.llm_api_key,
    ]
    return [v.get_secret_value() for v in values if v is not None]


def configure_logging(settings: Settings) -> None:
    root = logging.getLogger()
    if not any(getattr(h, "_eplan", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._eplan = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(settings.log_level)
    # Alembic narrates every start-up at INFO; one line of our own says where the schema is.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # aiogram logs a line for every update it handles; that belongs to debugging, not to
    # a log read by people (and it costs a few percent of a button press).
    logging.getLogger("aiogram.event").setLevel(
        logging.NOTSET if settings.log_level == "DEBUG" else logging.WARNING
    )
    redactor = RedactSecrets(secrets_of(settings))
    handlers = list(root.handlers)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        handlers.extend(logging.getLogger(name).handlers)
    for each in handlers:
        for existing in [f for f in each.filters if isinstance(f, RedactSecrets)]:
            each.removeFilter(existing)
        each.addFilter(redactor)

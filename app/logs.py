"""Logging set-up, including the guarantee that no secret reaches a log line."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from pathlib import Path

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


def exception_summary(exc: BaseException) -> str:
    """An exception for a log line without its message: messages can quote what a person
    wrote (a validation error its input, a driver error a value). The type, and where it
    was raised, in this app's code when the raise was inside a library."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    if frames:
        last = frames[-1]
        ours = next((f for f in reversed(frames) if _is_ours(f.filename)), None)
        where = f" at {_short(last.filename)}:{last.lineno}"
        if ours is not None and ours is not last:
            where += f" (from {_short(ours.filename)}:{ours.lineno})"
    chain = [_name(exc)]
    cause = exc.__cause__ or exc.__context__
    while cause is not None and len(chain) < 5:
        chain.append(_name(cause))
        cause = cause.__cause__ or cause.__context__
    return f"{chain[0]}{where}" + "".join(f", from {name}" for name in chain[1:])


def _name(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__qualname__}"


_APP_DIR = str(Path(__file__).resolve().parent)


def _is_ours(filename: str) -> bool:
    return filename.startswith(_APP_DIR)


def _short(filename: str) -> str:
    # The app's files from the project root; a library's from its package directory.
    if _is_ours(filename):
        return "app" + filename[len(_APP_DIR) :]
    marker = "site-packages/"
    at = filename.rfind(marker)
    return filename[at + len(marker) :] if at >= 0 else filename

"""Logging set-up, including the guarantee that no secret reaches a log line."""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import SecretStr

from app.settings import Settings


def _spellings(secret: str) -> str:
    """A pattern for `secret` as written or percent-encoded, in part or whole, as it shows
    in a logged URL (httpx sends a bot token's ":" as %3A in a query)."""
    parts = []
    for char in secret:
        options = [re.escape(char), "".join(f"%{byte:02x}" for byte in char.encode())]
        if char == " ":
            options.append(r"\+")
        parts.append(f"(?:{'|'.join(options)})")
    return "".join(parts)


class RedactSecrets(logging.Filter):
    """Replaces secrets in rendered messages: libraries log URLs, and the Bot API puts the
    bot token in every URL.

    The record keeps its shape: formatters such as uvicorn's access log unpack `args`
    (client, method, path, version, status), so each argument is redacted in place rather
    than the whole message flattened into `msg` (which lost the line, with a `--- Logging
    error ---` in its place)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is hidden whole. Case-insensitive
        # for %3a as much as %3A; hiding a differently-cased lookalike costs nothing.
        ordered = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._pattern = (
            re.compile("|".join(_spellings(s) for s in ordered), re.IGNORECASE) if ordered else None
        )

    def _redact(self, text: str) -> str:
        return text if self._pattern is None else self._pattern.sub("***", text)

    def _redact_arg(self, arg: object) -> object:
        if isinstance(arg, str):
            return self._redact(arg)
        # Anything else keeps its type (a %d needs its int) unless its text holds a secret.
        text = str(arg)
        redacted = self._redact(text)
        return arg if redacted == text else redacted

    def filter(self, record: logging.LogRecord) -> bool:
        pattern = self._pattern
        if pattern is None:
            return True
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        try:
            message: str | None = record.getMessage()
        except Exception:
            # Arguments that do not fit the message: the handler reports that itself, and
            # prints the message and its arguments, so those are redacted all the same.
            message = None
        if message is not None and pattern.search(message) is None:
            return True
        if isinstance(record.msg, str):
            record.msg = self._redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self._redact_arg(a) for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: self._redact_arg(v) for k, v in record.args.items()}
        if message is None:
            return True
        try:
            still = record.getMessage()
        except Exception:
            still = message
        if pattern.search(still) is not None:
            # A secret only the joined message shows (split across arguments): the
            # message alone then, redacted whole, at the price of the record's shape.
            record.msg, record.args = self._redact(message), None
        return True


def secrets_of(settings: Settings) -> list[str]:
    """Every secret setting: any field typed SecretStr, so a new one cannot be forgotten."""
    values = [getattr(settings, name) for name in type(settings).model_fields]
    return [v.get_secret_value() for v in values if isinstance(v, SecretStr)]


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
    # a log read by people (and it slows every button press: BENCHMARKS.md, "Figures behind
    # design choices").
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

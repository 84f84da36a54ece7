"""POST /telegram/webhook: Telegram's updates into the aiogram dispatcher.

Always a fast 200 once the secret matches: a handler that fails is logged with the update
id (Telegram would otherwise redeliver the same failing update for hours), a body that is
not an update is logged and acknowledged, and an update id seen before is ignored.
"""

from __future__ import annotations

import hmac
import json
import logging
import re

from aiogram.types import Update
from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import ValidationError

from app.container import Container
from app.logs import exception_summary
from app.services import updates as updates_service

router = APIRouter(tags=["telegram"])
log = logging.getLogger(__name__)

# A JSON integer of 19 digits or more is the only way to spell one beyond 64 bits
# (pydantic refuses floats that large for an int); the search is cheap enough for every
# update, and the full check below runs only on its rare hits.
_LONG_NUMBER = re.compile(rb"[0-9]{19}")
INT64 = range(-(2**63), 2**63)


def beyond_64_bits(body: bytes) -> bool:
    """True if any number in the JSON body is an integer no BIGINT column can hold."""
    if _LONG_NUMBER.search(body) is None:
        return False
    found = False

    def check(literal: str) -> int:
        nonlocal found
        value = int(literal)
        found = found or value not in INT64
        return value

    try:
        json.loads(body, parse_int=check)
    except ValueError:
        # More digits than Python converts: far beyond 64 bits.
        return True
    return found


async def webhook(request: Request) -> Response:
    container: Container = request.app.state.container
    secret = container.settings.telegram_webhook_secret
    if secret is not None:
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
            raise HTTPException(status_code=401, detail="invalid secret token")
    bot, dispatcher = container.bot, container.bot_dispatcher
    if bot is None or dispatcher is None:
        raise HTTPException(status_code=404, detail="no bot is configured (local mode)")
    # Bounded by BodyLimitMiddleware while it streams in: an oversized body is a 413 before
    # it is ever held whole.
    body = await request.body()
    try:
        update = Update.model_validate_json(body, context={"bot": bot})
    except ValidationError as exc:
        log.warning("webhook body is not an update: %s", type(exc).__name__)
        return Response(status_code=200)
    if beyond_64_bits(body):
        # Nothing from Telegram looks like this, and the database cannot store such an id:
        # acknowledged (a refusal would be redelivered for a day) and not handled. The
        # body is not logged: it carries people's names and messages.
        log.warning("webhook update ignored: it holds an integer beyond 64 bits")
        return Response(status_code=200)
    if not await updates_service.first_delivery(
        container.db, update.update_id, container.clock.now()
    ):
        log.info("update %s already processed; ignored", update.update_id)
        return Response(status_code=200)
    try:
        await dispatcher.feed_update(bot, update)
    except Exception as exc:
        # Without the exception's message: it can quote what the person wrote.
        log.error("handler failed for update %s: %s", update.update_id, exception_summary(exc))
        log.debug("handler failure of update %s", update.update_id, exc_info=exc)
    return Response(status_code=200)


# A plain Starlette route, not a FastAPI one: it takes nothing FastAPI would validate or
# inject (the body is parsed as an aiogram Update here), and FastAPI's per-request
# machinery (dependency solving, the endpoint wrapper) showed in a press (BENCHMARKS.md).
router.add_route("/telegram/webhook", webhook, methods=["POST"], include_in_schema=False)

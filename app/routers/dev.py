"""Local mode only (no TELEGRAM_BOT_TOKEN): the outbox page and the demo login.

GET /dev/outbox shows what the bot sent, with its buttons; pressing one sends a real
callback_query update through the very same aiogram dispatcher and handlers.
"""

from __future__ import annotations

import itertools
import json
from html import escape
from typing import Annotated, Any

from aiogram.types import Update
from fastapi import APIRouter, Depends, Form, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse

from app.container import Container, get_container
from app.services.demo import DEMO_USER
from app.tma_signing import sign_init_data

router = APIRouter(prefix="/dev", tags=["local mode"], include_in_schema=False)
Deps = Annotated[Container, Depends(get_container)]
_update_ids = itertools.count(10**9)

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Local outbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:system-ui,sans-serif;max-width:680px;margin:2em auto;padding:0 1em;background:#eef1f5}}
.msg{{background:#fff;border-radius:12px;padding:12px 14px;margin:12px 0;box-shadow:0 1px 2px #0002}}
.msg pre{{white-space:pre-wrap;font:inherit;margin:0}} blockquote{{border-left:3px solid #7aa7e8;margin:6px 0;padding-left:8px;color:#333}}
.kb{{display:grid;grid-template-columns:repeat(3,1fr);gap:6px;margin-top:10px}}
.kb button,.kb a{{padding:7px;border:0;border-radius:8px;background:#e3ecf8;color:#1d5fb4;font:inherit;text-align:center;text-decoration:none;cursor:pointer}}
.toast{{background:#333;color:#fff;border-radius:8px;padding:8px 12px;margin:8px 0}}
small{{color:#666}}
</style></head><body>
<h1>Local outbox</h1>
<p>No bot token is set, so messages stay here. Buttons work: each press goes through the
bot's real handlers. <a href="/dev/outbox">Refresh</a></p>
<form method="post" action="/dev/outbox/say"><input name="text" value="/today" size="30">
<button>Send as the demo user</button></form>
{toast}
{messages}
</body></html>"""


def _keyboard(entry: dict[str, Any]) -> str:
    markup = entry.get("reply_markup") or {}
    cells = []
    for row in markup.get("inline_keyboard", []):
        for button in row:
            label = escape(button.get("text", ""))
            if "callback_data" in button:
                cells.append(
                    '<form method="post" action="/dev/outbox/press">'
                    f'<input type="hidden" name="chat_id" value="{entry["chat_id"]}">'
                    f'<input type="hidden" name="message_id" value="{entry["message_id"]}">'
                    f'<input type="hidden" name="data" value="{escape(button["callback_data"])}">'
                    f"<button>{label}</button></form>"
                )
            elif "web_app" in button or "url" in button:
                url = (button.get("web_app") or {}).get("url") or button.get("url", "#")
                cells.append(f'<a href="{escape(url)}">{label}</a>')
    return f'<div class="kb">{"".join(cells)}</div>' if cells else ""


def _body(entry: dict[str, Any]) -> str:
    text = entry["text"]
    if entry.get("parse_mode") == "HTML":
        # The bot's own Telegram-HTML, in which every user or AI text is already escaped.
        return f"<div>{text.replace(chr(10), '<br>')}</div>"
    return f"<pre>{escape(text)}</pre>"


@router.get("/outbox", response_class=HTMLResponse)
async def outbox_page(container: Deps) -> HTMLResponse:
    outbox = container.outbox
    if outbox is None:
        raise HTTPException(status_code=404)
    items = [
        f'<div class="msg"><small>to {entry["chat_id"]} · #{entry["message_id"]}</small>'
        f"{_body(entry)}{_keyboard(entry)}</div>"
        for entry in reversed(outbox.messages)
    ]
    toast = ""
    if outbox.toasts:
        last = outbox.toasts[-1]
        toast = (
            f'<div class="toast">{"⚠️ " if last["alert"] else ""}{escape(last["text"] or "")}</div>'
        )
    body = "".join(items) or "<p>Nothing sent yet. Reminders appear here as they come due.</p>"
    return HTMLResponse(PAGE.format(messages=body, toast=toast))


async def _feed(container: Container, update: dict[str, Any]) -> None:
    bot, dispatcher = container.bot, container.bot_dispatcher
    if bot is None or dispatcher is None:
        raise HTTPException(status_code=404)
    await dispatcher.feed_update(bot, Update.model_validate(update, context={"bot": bot}))


def _demo_user() -> dict[str, Any]:
    return {"id": DEMO_USER.telegram_id, "is_bot": False, "first_name": DEMO_USER.first_name}


@router.post("/outbox/press")
async def press(
    container: Deps,
    chat_id: Annotated[int, Form()],
    message_id: Annotated[int, Form()],
    data: Annotated[str, Form(max_length=64)],
) -> RedirectResponse:
    outbox = container.outbox
    entry = outbox.find(chat_id, message_id) if outbox is not None else None
    if entry is None:
        raise HTTPException(status_code=404, detail="no such message in the outbox")
    user = _demo_user() | {"id": chat_id}
    await _feed(
        container,
        {
            "update_id": next(_update_ids),
            "callback_query": {
                "id": str(next(_update_ids)),
                "from": user,
                "chat_instance": str(chat_id),
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(container.clock.now().timestamp()),
                    "chat": {"id": chat_id, "type": "private"},
                    "from": {"id": 0, "is_bot": True, "first_name": "bot"},
                    "text": entry["text"],
                },
            },
        },
    )
    return RedirectResponse("/dev/outbox", status_code=303)


@router.post("/outbox/say")
async def say(container: Deps, text: Annotated[str, Form(max_length=4096)]) -> RedirectResponse:
    user = _demo_user()
    message: dict[str, Any] = {
        "message_id": next(_update_ids),
        "date": int(container.clock.now().timestamp()),
        "chat": {"id": user["id"], "type": "private"},
        "from": user,
        "text": text,
    }
    if text.startswith("/"):
        command = text.split()[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    await _feed(container, {"update_id": next(_update_ids), "message": message})
    return RedirectResponse("/dev/outbox", status_code=303)


@router.get("/init-data")
async def demo_init_data(container: Deps) -> dict[str, str]:
    """initData for the demo user, signed with the local-mode key: the Mini App uses it when
    opened in an ordinary browser."""
    user = {
        "id": DEMO_USER.telegram_id,
        "first_name": DEMO_USER.first_name,
        "last_name": DEMO_USER.last_name,
    }
    raw = sign_init_data(
        container.settings.initdata_token,
        {
            "user": json.dumps(user, separators=(",", ":")),
            "auth_date": str(int(container.clock.now().timestamp())),
        },
    )
    return {"init_data": raw}

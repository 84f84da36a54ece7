"""aiogram objects bound to their bot in one step (app/patches/bot_binding.py) are the objects
pydantic's chain of wrappers builds.

Each side runs in a fresh interpreter: the app's import installs the one-step binding, and
the other side imports aiogram without the app."""

from __future__ import annotations

import json

from tests.support.python_process import run_python

_PROBE = r"""
import json, sys
if sys.argv[1] == "app":
    import app
from aiogram import Bot
from aiogram.client.context_controller import BotContextController
from aiogram.methods import Response
from aiogram.types import Message, Update, InlineKeyboardButton
from pydantic import BaseModel

bot = Bot("42:secret")
update = {
    "update_id": 7,
    "callback_query": {
        "id": "cq1", "chat_instance": "1", "data": "eplan:done:5",
        "from": {"id": 1001, "is_bot": False, "first_name": "Ana"},
        "message": {
            "message_id": 3, "date": 1, "chat": {"id": 1001, "type": "private"},
            "from": {"id": 42, "is_bot": True, "first_name": "Bot"},
            "text": "Ana Co step 1", "entities": [{"type": "bold", "offset": 0, "length": 3}],
            "reply_markup": {"inline_keyboard": [[
                {"text": "Done", "callback_data": "eplan:done:5"},
                {"text": "Lead", "web_app": {"url": "https://x.test/app/"}},
            ]]},
        },
    },
}

def walk(obj, path="update"):
    if isinstance(obj, BaseModel):
        yield path, obj
        for name in type(obj).model_fields:
            yield from walk(getattr(obj, name), f"{path}.{name}")
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            yield from walk(item, f"{path}[{i}]")

def privates(root):
    return {
        path: None if obj.__pydantic_private__ is None else {
            k: ("bot" if v is bot else repr(v)) for k, v in obj.__pydantic_private__.items()
        }
        for path, obj in walk(root)
    }

seen = {
    "validated": privates(Update.model_validate(update, context={"bot": bot})),
    "from_json": privates(Update.model_validate_json(json.dumps(update), context={"bot": bot})),
    "no_context": privates(Update.model_validate(update)),
    "answer": privates(Response[Message].model_validate(
        {"ok": True, "result": update["callback_query"]["message"]}, context={"bot": bot}
    )),
    "constructed": privates(InlineKeyboardButton.model_construct(text="x", callback_data="y")),
    "built": privates(InlineKeyboardButton(text="x", callback_data="y")),
    "rebound": privates(Message.model_validate(update["callback_query"]["message"]).as_(bot)),
    "copied": privates(
        Update.model_validate(update, context={"bot": bot}).model_copy(deep=False)
    ),
}
print(json.dumps({
    "seen": seen,
    "one_step": Message.model_post_init.__name__ == "_bind_bot",
    "classes": sum(1 for c in BotContextController.__subclasses__()),
}))
"""


def test_objects_are_bound_to_their_bot_as_pydantic_binds_them() -> None:
    ours = json.loads(run_python(_PROBE, "app"))
    pydantics = json.loads(run_python(_PROBE, "plain"))
    assert ours["one_step"] is True
    assert pydantics["one_step"] is False
    assert ours["seen"] == pydantics["seen"]
    # The probe really walked nested objects, bound and unbound.
    validated = ours["seen"]["validated"]
    assert len(validated) >= 10
    assert validated[
        "update.callback_query.message.reply_markup.inline_keyboard[0][1].web_app"
    ] == {"_bot": "bot"}
    assert all(v == {"_bot": "None"} for v in ours["seen"]["no_context"].values())


def test_every_aiogram_type_takes_the_one_step_binding() -> None:
    probe = r"""
import json
import app
from aiogram.client.context_controller import BotContextController
from app.patches.bot_binding import _bind_bot, _family, bind_bots_directly
family = list(_family(BotContextController))
print(json.dumps({
    "family": len(family),
    "bound": sum(1 for c in family if c.__dict__.get("model_post_init") is _bind_bot),
    "again": bind_bots_directly(),
}))
"""
    result = json.loads(run_python(probe))
    assert result["family"] > 400
    assert result["bound"] == result["family"]
    assert result["again"] == 0

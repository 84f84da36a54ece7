"""aiogram imported with its models deferred (app/patches/lazy_aiogram.py) builds the same
models.

Each check runs in a fresh interpreter, because the way aiogram was imported is fixed for
the life of a process.
"""

from __future__ import annotations

import json

from tests.support.python_process import run_python

# Prints, for every model aiogram exports, a digest of its JSON schema, after the import
# chosen by argv[1]: "lazy" through the app, "eager" with aiogram imported on its own first.
_PROBE = r"""
import hashlib, json, sys
mode = sys.argv[1]
if mode == "eager":
    import aiogram
import app
from app import patches
from pydantic import BaseModel
from pydantic.errors import PydanticInvalidForJsonSchema
import aiogram.methods, aiogram.types
built_at_import = {
    module.__name__: sum(
        1 for name in module.__all__
        if isinstance(getattr(module, name), type) and issubclass(getattr(module, name), BaseModel)
        and getattr(module, name).__pydantic_complete__
    )
    for module in (aiogram.types, aiogram.methods)
}
digests = {}
for module in (aiogram.types, aiogram.methods):
    for name in module.__all__:
        model = getattr(module, name)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        if model.__pydantic_generic_metadata__["parameters"]:
            continue  # an open generic such as TelegramMethod[T] has no schema of its own
        try:
            schema = json.dumps(model.model_json_schema(), sort_keys=True)
        except PydanticInvalidForJsonSchema as exc:
            schema = f"no JSON schema: {exc}"  # a field of a type JSON Schema cannot describe
        digests[f"{module.__name__}.{name}"] = hashlib.sha256(schema.encode()).hexdigest()
before = patches.outcomes()
print(json.dumps({"built_at_import": built_at_import, "digests": digests,
                  "lazy": before["lazy_aiogram"].status, "again": patches.apply() == before}))
"""


def _probe(mode: str) -> dict[str, object]:
    result: dict[str, object] = json.loads(run_python(_PROBE, mode))
    return result


def test_deferred_models_match_the_eager_ones() -> None:
    lazy = _probe("lazy")
    eager = _probe("eager")
    # The app's import really deferred them, and the eager run really built them up front.
    # (Methods without forward references are built when their class is created either way;
    # more of them are complete after an eager import, which builds the types they name.)
    lazy_built, eager_built = lazy["built_at_import"], eager["built_at_import"]
    assert isinstance(lazy_built, dict)
    assert isinstance(eager_built, dict)
    assert lazy_built["aiogram.types"] == 0
    assert eager_built["aiogram.types"] > 400
    assert lazy_built["aiogram.methods"] <= eager_built["aiogram.methods"]
    lazy_digests = lazy["digests"]
    eager_digests = eager["digests"]
    assert isinstance(lazy_digests, dict)
    assert isinstance(eager_digests, dict)
    assert len(lazy_digests) > 500
    assert lazy_digests.keys() == eager_digests.keys()
    differing = [name for name in lazy_digests if lazy_digests[name] != eager_digests[name]]
    assert differing == []
    # The patch ran only where aiogram was not imported before the app.
    assert lazy["lazy"] == "applied"
    assert eager["lazy"] == "skipped"
    # A second call is a no-op.
    assert lazy["again"] is True
    assert eager["again"] is True


def test_a_webhook_update_and_a_bot_call_work_after_a_lazy_import() -> None:
    script = r"""
import app, asyncio, json
from aiogram import Bot
from aiogram.methods import Response, SendMessage
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
update = Update.model_validate({
    "update_id": 7,
    "callback_query": {
        "id": "1", "from": {"id": 5, "is_bot": False, "first_name": "Ann"},
        "chat_instance": "c", "data": "step:done:9",
        "message": {"message_id": 3, "date": 1700000000, "chat": {"id": 5, "type": "private"},
                    "text": "Call Bob", "reply_markup": {"inline_keyboard": [[
                        {"text": "Done", "callback_data": "step:done:9"}]]}},
    },
})
message = update.callback_query.message
assert isinstance(message, Message) and message.from_user is None
assert message.reply_markup.inline_keyboard[0][0].callback_data == "step:done:9"
answer = Response[Message].model_validate({"ok": True, "result": {
    "message_id": 4, "date": 1700000001, "chat": {"id": 5, "type": "private"},
    "from": {"id": 1, "is_bot": True, "first_name": "bot"}, "text": "x"}})
assert answer.result.from_user.is_bot
keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="a", callback_data="b")]])
method = SendMessage(chat_id=5, text="hi", reply_markup=keyboard)
print(json.dumps(method.model_dump(mode="json", exclude_none=True, exclude_defaults=True)))
"""
    sent = json.loads(run_python(script))
    assert sent["chat_id"] == 5
    assert sent["text"] == "hi"
    assert sent["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "b"


def test_the_hot_models_are_built_before_the_first_update_or_send() -> None:
    script = r"""
import app, json
from aiogram import Bot
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
from aiogram.types import InlineKeyboardMarkup, Message, Update
from app.telegram import response_models
hot = (Update, Message, InlineKeyboardMarkup, SendMessage, AnswerCallbackQuery, EditMessageText)
before = [model.__pydantic_complete__ for model in hot]
response_models.hold_response_models(Bot("123:abc"))
after = [model.__pydantic_complete__ for model in hot]
print(json.dumps({"before": before, "after": after,
                  "held": sorted(kind.__name__ for kind in response_models._held)}))
"""
    state = json.loads(run_python(script))
    # Nothing of the hot set is built by the import alone, except methods that name no
    # other type (AnswerCallbackQuery); all of it is built once a bot is set up.
    assert state["before"][:3] == [False, False, False]
    assert state["after"] == [True] * 6
    assert state["held"] == ["AnswerCallbackQuery", "EditMessageText", "SendMessage"]

"""The local fake Telegram Bot API, driven by the real aiogram Bot over real HTTP."""

from __future__ import annotations

import asyncio
import html
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command
from aiogram.types import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonWebApp,
    Message,
    WebAppInfo,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from tests.support.fake_telegram import (
    DEFAULT_TOKEN,
    FakeTelegram,
    callback_query_update,
    make_bot,
    message_update,
    parse_html,
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as telegram:
        yield telegram


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with make_bot(fake) as client:
        yield client


async def eventually(predicate: Callable[[], object], within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.01)


def dumped(markup: object) -> dict[str, Any]:
    assert isinstance(markup, InlineKeyboardMarkup)
    return markup.model_dump(exclude_none=True)


def keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text="Done ✅", callback_data="step:17:done")
    builder.button(text="Open", url="https://example.com/plan/17")
    builder.adjust(1)
    return builder.as_markup()


# --- happy paths ---------------------------------------------------------------------------


async def test_get_me_returns_the_bot_of_the_token(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()

    assert me.id == int(DEFAULT_TOKEN.split(":")[0]) == fake.bot_id
    assert me.is_bot
    assert me.username == "fake_test_bot"
    assert fake.calls_to("getMe")[0].ok


async def test_send_message_records_params_and_returns_a_message(
    fake: FakeTelegram, bot: Bot
) -> None:
    markup = keyboard()

    first = await bot.send_message(
        42, "<b>Call Anna</b> &amp; <i>follow up</i>", parse_mode="HTML", reply_markup=markup
    )
    second = await bot.send_message(42, "again")
    other_chat = await bot.send_message(43, "hello")

    assert (first.message_id, second.message_id, other_chat.message_id) == (1, 2, 1)
    assert first.chat.id == 42
    assert first.chat.type == "private"
    assert first.from_user is not None
    assert first.from_user.id == fake.bot_id
    assert abs(first.date.timestamp() - time.time()) < 5
    # Telegram answers with the parsed text and its entities, and echoes the keyboard.
    assert first.text == "Call Anna & follow up"
    assert [(e.type, e.offset, e.length) for e in first.entities or []] == [
        ("bold", 0, 9),
        ("italic", 12, 9),
    ]
    assert dumped(first.reply_markup) == dumped(markup)
    assert second.reply_markup is None

    call = fake.sent_messages()[0]
    assert call.method == "sendMessage"
    assert call.params == {
        "chat_id": 42,
        "text": "<b>Call Anna</b> &amp; <i>follow up</i>",
        "parse_mode": "HTML",
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "Done ✅", "callback_data": "step:17:done"}],
                [{"text": "Open", "url": "https://example.com/plan/17"}],
            ]
        },
    }
    assert call.response_status == 200
    assert call.answered is True
    assert call.chat_id == 42
    assert call.result["message_id"] == 1
    assert [c.chat_id for c in fake.sent_messages()] == [42, 42, 43]
    assert [c.params["text"] for c in fake.sent_messages(43)] == ["hello"]
    stored = fake.message(42, 1)
    assert stored is not None
    assert stored["text"] == "Call Anna & follow up"


async def test_default_parse_mode_is_sent_and_numeric_text_stays_a_string(
    fake: FakeTelegram,
) -> None:
    async with make_bot(fake, default=DefaultBotProperties(parse_mode="HTML")) as bot:
        await bot.send_message(7, "123")

    assert fake.sent_messages()[0].params == {"chat_id": 7, "text": "123", "parse_mode": "HTML"}


async def test_calls_are_recorded_in_arrival_order_with_monotonic_times(
    fake: FakeTelegram, bot: Bot
) -> None:
    before = time.monotonic()
    await bot.get_me()
    await bot.send_message(1, "a")
    await bot.answer_callback_query("cb-1", text="Saved")

    assert [c.method for c in fake.calls] == ["getMe", "sendMessage", "answerCallbackQuery"]
    times = [c.at for c in fake.calls]
    assert before <= times[0] <= times[1] <= times[2] <= time.monotonic()
    assert fake.calls[2].params == {"callback_query_id": "cb-1", "text": "Saved"}


async def test_edit_and_delete_follow_telegram_rules(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(5, "Reminder", reply_markup=keyboard())

    edited = await bot.edit_message_text("Reminder (done)", chat_id=5, message_id=sent.message_id)
    assert isinstance(edited, Message)
    assert edited.text == "Reminder (done)"
    assert edited.edit_date is not None
    assert edited.reply_markup is None  # editing text without a keyboard removes it
    stored = fake.message(5, sent.message_id)
    assert stored is not None
    assert "reply_markup" not in stored

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Reminder (done)", chat_id=5, message_id=sent.message_id)

    with_markup = await bot.edit_message_reply_markup(
        chat_id=5, message_id=sent.message_id, reply_markup=keyboard()
    )
    assert isinstance(with_markup, Message)
    assert dumped(with_markup.reply_markup) == dumped(keyboard())
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=5, message_id=sent.message_id, reply_markup=keyboard()
        )

    assert await bot.edit_message_text("inline", inline_message_id="abc") is True
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("nope", chat_id=5, message_id=999)

    assert await bot.delete_message(5, sent.message_id) is True
    assert fake.message(5, sent.message_id) is None
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(5, sent.message_id)


async def test_setup_methods_answer_true(fake: FakeTelegram, bot: Bot) -> None:
    assert await bot.set_my_commands([BotCommand(command="start", description="Start")])
    assert await bot.set_chat_menu_button(
        chat_id=5,
        menu_button=MenuButtonWebApp(text="Plans", web_app=WebAppInfo(url="https://x.example")),
    )
    assert await bot.delete_webhook(drop_pending_updates=True)

    commands = fake.calls_to("setMyCommands")[0].params["commands"]
    assert commands == [{"command": "start", "description": "Start"}]
    menu = fake.calls_to("setChatMenuButton")[0].params["menu_button"]
    assert menu == {"type": "web_app", "text": "Plans", "web_app": {"url": "https://x.example"}}


# --- errors mapped to aiogram's exceptions -------------------------------------------------


async def test_scripted_429_raises_retry_after_then_is_consumed(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=3)

    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(1, "x")
    assert caught.value.retry_after == 3
    assert "Too Many Requests: retry after 3" in caught.value.message

    assert (await bot.send_message(1, "x")).message_id == 1
    refused = fake.calls_to("sendMessage")[0]
    assert refused.response_status == 429
    assert refused.response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert len(fake.sent_messages()) == 1


async def test_scripted_403_and_blocked_chat_raise_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", status=403, description="Forbidden: user is deactivated")
    with pytest.raises(TelegramForbiddenError, match="user is deactivated"):
        await bot.send_message(1, "x")

    fake.block_chat(2)
    for _ in range(2):
        with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
            await bot.send_message(2, "x")
    await bot.send_message(3, "other chats still work")
    fake.unblock_chat(2)
    await bot.send_message(2, "x")

    assert [c.response_status for c in fake.calls_to("sendMessage")] == [403, 403, 403, 200, 200]


async def test_missing_chat_raises_bad_request(fake: FakeTelegram, bot: Bot) -> None:
    fake.missing_chat(404404)

    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(404404, "x")
    assert fake.calls[-1].description == "Bad Request: chat not found"


async def test_scripted_502_raises_server_error(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", status=502)

    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(1, "x")
    assert fake.calls[-1].response == {"ok": False, "error_code": 502, "description": "Bad Gateway"}


async def test_scripted_failures_for_one_chat_and_several_times(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.fail_next("sendMessage", status=500, times=2, chat_id=5)
    fake.fail_next("editMessageText", status=400, description="Bad Request: whatever")

    await bot.send_message(6, "unaffected")
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Internal Server Error"):
            await bot.send_message(5, "x")
    await bot.send_message(5, "x")
    with pytest.raises(TelegramBadRequest, match="whatever"):
        await bot.edit_message_text("y", chat_id=5, message_id=1)

    assert [(c.chat_id, c.response_status) for c in fake.calls_to("sendMessage")] == [
        (6, 200),
        (5, 500),
        (5, 500),
        (5, 200),
    ]


async def test_wrong_token_raises_unauthorized(fake: FakeTelegram) -> None:
    async with make_bot(fake, token="987654321:not-the-right-token") as stranger:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await stranger.send_message(1, "x")

    assert fake.calls[-1].response == {
        "ok": False,
        "error_code": 401,
        "description": "Unauthorized",
    }
    assert fake.sent_messages() == []


async def test_html_rejected_like_telegram_does(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(1, "Line<br>next", parse_mode="HTML")
    assert caught.value.message == (
        'Bad Request: can\'t parse entities: Unsupported start tag "br" at byte offset 4'
    )
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(1, "if a < b then", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Can't find end tag corresponding"):
        await bot.send_message(1, "<b>unclosed", parse_mode="HTML")

    escaped = html.escape("if a < b & c > d then")
    sent = await bot.send_message(1, f"<i>{escaped}</i>", parse_mode="HTML")
    assert sent.text == "if a < b & c > d then"
    # Without a parse mode nothing is parsed.
    assert (await bot.send_message(1, "a < b")).text == "a < b"


async def test_message_limits_and_button_data(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(1, "x" * 4097)
    assert (await bot.send_message(1, "x" * 4096)).message_id == 1

    too_long = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(1, "x", reply_markup=too_long)


# --- slowness and flood limits -------------------------------------------------------------


async def test_delay_slows_every_answer(fake: FakeTelegram, bot: Bot) -> None:
    fake.delay = 0.3
    started = time.monotonic()

    await bot.send_message(1, "slow")

    assert time.monotonic() - started >= 0.3


async def test_client_timeout_raises_network_error_but_message_was_delivered() -> None:
    async with FakeTelegram() as fake:
        fake.delay = 0.6
        async with make_bot(fake, timeout=0.2) as impatient:
            with pytest.raises(TelegramNetworkError, match="Request timeout error"):
                await impatient.send_message(1, "maybe delivered")

        call = fake.calls_to("sendMessage")[0]
        assert call.response_status == 200  # processed on arrival: Telegram did send it
        await eventually(lambda: call.answered is not None)
        assert call.answered is False  # ...but the client never heard back
        assert fake.sent_messages() == [call]

        fake.delay = 30  # a stop must not wait for slow answers
        async with make_bot(fake, timeout=0.2) as impatient:
            with pytest.raises(TelegramNetworkError):
                await impatient.get_me()
        started = time.monotonic()
    assert time.monotonic() - started < 2


async def test_limits_refuse_a_second_quick_send_to_the_same_chat(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.enforce_limits()

    await bot.send_message(1, "first")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(1, "second")
    assert caught.value.retry_after == 1
    await bot.send_message(2, "another chat is fine")

    await asyncio.sleep(caught.value.retry_after)
    await bot.send_message(1, "second, retried")

    assert [(c.chat_id, c.response_status) for c in fake.calls_to("sendMessage")] == [
        (1, 200),
        (1, 429),
        (2, 200),
        (1, 200),
    ]


async def test_limits_refuse_the_31st_send_in_a_second(fake: FakeTelegram, bot: Bot) -> None:
    fake.enforce_limits(global_per_second=30, per_chat_per_second=1, retry_after=1)

    for chat_id in range(1, 31):
        await bot.send_message(chat_id, "x")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(31, "x")
    assert caught.value.retry_after == 1
    assert fake.calls[-1].response["parameters"] == {"retry_after": 1}

    await asyncio.sleep(caught.value.retry_after)
    await bot.send_message(31, "x")
    assert len(fake.sent_messages()) == 31


async def test_limits_count_concurrent_sends(fake: FakeTelegram, bot: Bot) -> None:
    fake.enforce_limits(global_per_second=5, per_chat_per_second=5)

    results = await asyncio.gather(
        *(bot.send_message(chat_id, "x") for chat_id in range(8)), return_exceptions=True
    )

    assert sum(isinstance(r, Message) for r in results) == 5
    assert sum(isinstance(r, TelegramRetryAfter) for r in results) == 3


# --- updates and webhooks ------------------------------------------------------------------


async def test_get_updates_returns_queued_updates_and_confirms_by_offset(
    fake: FakeTelegram, bot: Bot
) -> None:
    queued = fake.queue_update(message_update(77, "/start"))
    assert queued["update_id"] == 1

    updates = await bot.get_updates(timeout=30)
    assert [u.update_id for u in updates] == [1]
    assert updates[0].message is not None
    assert updates[0].message.text == "/start"
    assert (await bot.get_updates(timeout=0))[0].update_id == 1  # not confirmed yet

    started = time.monotonic()
    assert await bot.get_updates(offset=2, timeout=30) == []
    assert 0.9 <= time.monotonic() - started < 1.8  # the long poll is capped at 1 s


async def test_long_poll_wakes_up_when_an_update_arrives(fake: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await eventually(lambda: fake.calls_to("getUpdates"))
    started = time.monotonic()
    fake.queue_update(message_update(1, "hi"))

    updates = await poll

    assert len(updates) == 1
    assert time.monotonic() - started < 0.5


async def test_queued_callback_message_can_be_edited(fake: FakeTelegram, bot: Bot) -> None:
    markup = keyboard().model_dump(exclude_none=True)
    fake.queue_update(callback_query_update(9, "step:17:done", message_id=40, reply_markup=markup))

    [update] = await bot.get_updates()
    assert update.callback_query is not None
    assert update.callback_query.data == "step:17:done"
    assert await bot.answer_callback_query(update.callback_query.id)
    await bot.edit_message_reply_markup(chat_id=9, message_id=40)

    stored = fake.message(9, 40)
    assert stored is not None
    assert "reply_markup" not in stored
    assert (await bot.send_message(9, "next")).message_id == 41


async def test_webhook_info_and_conflict_with_polling(fake: FakeTelegram, bot: Bot) -> None:
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("", 0)

    with pytest.raises(TelegramBadRequest, match="HTTPS URL must be provided"):
        await bot.set_webhook("http://insecure.example/hook")
    assert await bot.set_webhook("https://bot.example/hook", secret_token="s3cret")
    fake.queue_update(message_update(1, "hi"))
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("https://bot.example/hook", 1)
    assert fake.calls_to("setWebhook")[-1].params["secret_token"] == "s3cret"
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()

    assert await bot.delete_webhook(drop_pending_updates=True)
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("", 0)


async def test_dispatcher_long_polling_end_to_end(fake: FakeTelegram, bot: Bot) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message(Command("start"))
    async def start(message: Message) -> None:
        await message.answer(f"Hello, {html.escape('<you>')}!", parse_mode="HTML")

    fake.queue_update(message_update(555, "/start"))
    polling = asyncio.create_task(
        dispatcher.start_polling(
            bot, handle_signals=False, close_bot_session=False, polling_timeout=1
        )
    )
    try:
        await eventually(lambda: fake.sent_messages(555))
    finally:
        await dispatcher.stop_polling()
        await polling

    reply = fake.sent_messages(555)[0]
    assert reply.params["text"] == "Hello, &lt;you&gt;!"
    assert reply.result["text"] == "Hello, <you>!"


# --- raw HTTP: body formats and unknown methods --------------------------------------------


async def test_urlencoded_json_and_query_bodies_are_parsed(fake: FakeTelegram) -> None:
    url = f"{fake.base_url}/bot{fake.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data={"chat_id": "5", "text": "42"}) as resp:
            assert resp.status == 200
            body: dict[str, Any] = await resp.json()
            assert body["result"]["text"] == "42"
        async with http.post(
            url, json={"chat_id": 6, "text": "j", "reply_markup": json.dumps(markup)}
        ) as resp:
            assert resp.status == 200
        async with http.get(url, params={"chat_id": "7", "text": "q"}) as resp:
            assert resp.status == 200

    assert [c.params for c in fake.sent_messages()] == [
        {"chat_id": 5, "text": "42"},
        {"chat_id": 6, "text": "j", "reply_markup": markup},
        {"chat_id": 7, "text": "q"},
    ]


async def test_unknown_method_is_404(fake: FakeTelegram) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{fake.base_url}/bot{fake.token}/sendPigeon", data={"chat_id": "1"}) as resp,
    ):
        assert resp.status == 404
        assert await resp.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }
    assert fake.calls[-1].method == "sendPigeon"
    assert fake.calls[-1].response_status == 404


# --- bookkeeping ---------------------------------------------------------------------------


async def test_reset_forgets_everything(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(1, "x")
    fake.block_chat(2)
    fake.missing_chat(3)
    fake.fail_next("getMe", status=500)
    fake.enforce_limits()
    fake.delay = 0.2
    fake.queue_update(message_update(1, "hi"))

    fake.reset()

    assert fake.calls == []
    assert fake.delay == 0
    await bot.get_me()
    for chat_id in (1, 1, 2, 3):
        await bot.send_message(chat_id, "x")
    assert [c.result["message_id"] for c in fake.sent_messages()] == [1, 2, 1, 1]
    assert await bot.get_updates() == []


def test_parse_html_entities_use_utf16_offsets() -> None:
    text, entities = parse_html(
        '🎉 <b>bold <i>both</i></b> <a href="https://x.example/?a=1&amp;b=2">link</a> '
        '<pre><code class="language-python">print()</code></pre> '
        '<span class="tg-spoiler">s</span> <blockquote expandable>q</blockquote> &#65;&lt;'
    )

    assert text == "🎉 bold both link print() s q A<"
    assert entities == [
        {"offset": 3, "length": 9, "type": "bold"},
        {"offset": 8, "length": 4, "type": "italic"},
        {"offset": 13, "length": 4, "type": "text_link", "url": "https://x.example/?a=1&b=2"},
        {"offset": 18, "length": 7, "type": "pre", "language": "python"},
        {"offset": 26, "length": 1, "type": "spoiler"},
        {"offset": 28, "length": 1, "type": "expandable_blockquote"},
    ]


def test_fail_next_validates_its_arguments() -> None:
    telegram = FakeTelegram()
    with pytest.raises(ValueError, match="error status"):
        telegram.fail_next("sendMessage", status=200)
    with pytest.raises(ValueError, match="times"):
        telegram.fail_next("sendMessage", status=500, times=0)
    with pytest.raises(RuntimeError, match="not been started"):
        _ = telegram.base_url

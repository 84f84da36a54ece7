"""The app's Bot API session: every call as one JSON document, files as a form.

Checked against aiogram's own form-posting session: the fake Bot API must read the same
parameters from both, for the calls the app makes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonWebApp,
    WebAppInfo,
)

from app.telegram.json_session import JsonAiohttpSession, telegram_bot
from tests.reliability.support import free_port
from tests.support.fake_telegram import FakeTelegram, make_bot


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as telegram:
        yield telegram


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="✅ Done", callback_data="eplan:done:7"),
                InlineKeyboardButton(text="Snooze 1d", callback_data="eplan:snooze1:7"),
            ],
            [InlineKeyboardButton(text="Open", web_app=WebAppInfo(url="https://x.test/app/"))],
        ]
    )


CALLS: dict[str, Callable[[Bot], Awaitable[object]]] = {
    "message with a keyboard": lambda bot: bot.send_message(
        42, "<b>Ana &amp; Co</b> — step 1 of 6 ✅ " + "é" * 300, reply_markup=keyboard()
    ),
    "message, plain, no preview": lambda bot: bot.send_message(
        42, "50% & <not html>", parse_mode=None, disable_notification=True
    ),
    "alert": lambda bot: bot.answer_callback_query("cq1", text="Not yours", show_alert=True),
    "toast": lambda bot: bot.answer_callback_query("cq2", text="✅ Done"),
    "commands": lambda bot: bot.set_my_commands(
        [BotCommand(command="today", description="Due today")]
    ),
    "menu button": lambda bot: bot.set_chat_menu_button(
        menu_button=MenuButtonWebApp(text="Plans", web_app=WebAppInfo(url="https://x.test/app/"))
    ),
    "webhook": lambda bot: bot.set_webhook(
        "https://x.test/telegram/webhook",
        secret_token="s3cret",
        allowed_updates=["message", "callback_query"],
        drop_pending_updates=False,
    ),
}


@pytest.mark.parametrize("name", list(CALLS))
async def test_the_api_reads_the_same_call_from_json_as_from_aiogram_form(
    fake: FakeTelegram, name: str
) -> None:
    default = DefaultBotProperties(parse_mode="HTML")
    form_session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    async with (
        make_bot(fake, default=default) as ours,
        Bot(fake.token, session=form_session, default=default) as aiogram_form,
    ):
        await CALLS[name](aiogram_form)
        await CALLS[name](ours)
    by_form, by_json = fake.calls
    assert by_json.content_type == "application/json"
    assert by_form.content_type == "application/x-www-form-urlencoded"
    assert by_form.ok, by_form.response
    assert by_json.ok, by_json.response
    assert by_json.params == by_form.params
    if name == "message with a keyboard":
        # The bot's default parse mode travels, and the keyboard arrives as an object.
        assert by_json.params["parse_mode"] == "HTML"
        assert by_json.params["reply_markup"] == keyboard().model_dump(exclude_none=True)
    if name == "message, plain, no preview":
        # parse_mode=None overrides the default: the field is left out, as in the form.
        assert "parse_mode" not in by_json.params


async def test_a_call_with_a_file_goes_as_aiogram_multipart_form(fake: FakeTelegram) -> None:
    certificate = BufferedInputFile(b"-----BEGIN CERTIFICATE-----\nabc\n", filename="cert.pem")
    async with make_bot(fake) as bot:
        assert await bot.set_webhook("https://x.test/hook", certificate=certificate)
    [call] = fake.calls
    assert call.content_type == "multipart/form-data"
    assert call.params["url"] == "https://x.test/hook"
    # aiogram's form: the field names an attached part, which holds the file's bytes.
    attached = call.params["certificate"]
    assert attached.startswith("attach://")
    assert call.params[attached.removeprefix("attach://")] == b"-----BEGIN CERTIFICATE-----\nabc\n"


async def test_an_unreachable_api_is_a_network_error() -> None:
    async with telegram_bot("1:x", f"http://127.0.0.1:{free_port()}") as bot:
        assert isinstance(bot.session, JsonAiohttpSession)
        with pytest.raises(TelegramNetworkError, match="ClientConnectorError"):
            await bot.send_message(1, "hello")


async def test_the_session_answers_decoded_results(fake: FakeTelegram) -> None:
    async with make_bot(fake) as bot:
        sent = await bot.send_message(42, "<i>hi</i>", parse_mode="HTML", reply_markup=keyboard())
        edited = await bot.edit_message_text(
            "<b>done</b>", chat_id=42, message_id=sent.message_id, parse_mode="HTML"
        )
    assert sent.text == "hi"
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump() == keyboard().model_dump()
    assert not isinstance(edited, bool)
    assert edited.text == "done"
    assert edited.reply_markup is None

"""aiogram handlers: thin. They identify the person, call a service, and render.

Every step change goes through app.services.steps, exactly like a tap in the Mini App.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, ErrorEvent, Message, WebAppInfo
from aiogram.utils.keyboard import InlineKeyboardBuilder

from app.container import Container
from app.domain.outcomes import LEAD_STATUS_WORDS, OUTCOME_WORDS
from app.domain.users import TelegramProfile, User
from app.domain.views import LeadRead
from app.logs import exception_summary
from app.schemas import MAX_CONTEXT, MAX_NAME
from app.services import notes as notes_service
from app.services import plans as plans_service
from app.services import steps as steps_service
from app.services import users as users_service
from app.services.errors import Conflict, NotFound, ServiceError
from app.telegram import render
from app.telegram.callbacks import ReminderAction

log = logging.getLogger(__name__)

NOT_YOURS = "This reminder isn't available to you (it may have been deleted)."
PRESS_FAILED = "Something went wrong on our side. Please press again in a moment."
COMMAND_FAILED = "Something went wrong on our side. Please try again in a moment."
PRIVATE_ONLY = "I only work in a private chat: message me directly to see your plans."
# The commands this bot answers (build_router); in a group, only these get PRIVATE_ONLY,
# so the commands of other bots in the same group are left to them.
COMMAND_NAMES = ("start", "help", "pause", "resume", "today", "lead")
HELP = (
    "I remind you of the steps of your outreach plans when they are due.\n\n"
    "/today — steps due now and overdue\n"
    "/lead Name, Company — context — add a lead with a written outreach plan\n"
    "/pause [days] — pause all reminders (for a number of days)\n"
    "/resume — resume reminders\n"
    "/help — this message\n\n"
    "Reply to a reminder with text to save it as a note on that lead."
)
OUTCOME = {
    "done": "✅ Done",
    "skip": "⏭ Skipped",
}
REPLIED = "Plan finished: they replied"
# What separates a settled reminder's own text from its outcome: undo cuts it off again.
SETTLED = "\n\n"
TODAY_LIMIT = 10
DRAFT_SOURCE = {
    "llm": "written by AI",
    "template": "from a template",
    "plan": "from the plan",
    "none": "none",
}
LEAD_USAGE = (
    "Usage: /lead Name, Company — context\n"
    "e.g. /lead Ana Silva, Acme — met at SaaStr, evaluating CRMs for Q3"
)
_CONTEXT_SEPARATOR = re.compile(r"\s+[—–-]+\s+|\s*[—–]\s*")


def _profile(user: object) -> TelegramProfile:
    from aiogram.types import User as TgUser

    assert isinstance(user, TgUser)
    return TelegramProfile(
        telegram_id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
    )


def _local(moment: datetime, user: User) -> str:
    return moment.astimezone(ZoneInfo(user.timezone)).strftime("%a %H:%M")


async def on_reminder_button(
    query: CallbackQuery, callback_data: ReminderAction, container: Container
) -> None:
    now = container.clock.now()
    action, reminder_id = callback_data.action, callback_data.reminder_id
    try:
        if action in ("done", "skip"):
            await _close(query, container, action, reminder_id, now)
            return
        if action == "replied":
            await _replied(query, container, reminder_id, now)
            return
        if action == "undo":
            await _undo(query, container, reminder_id, now)
            return
        user = await users_service.get_user(
            container.db, query.from_user.id, now, container.user_cache
        )
        if user is None:
            await query.answer(NOT_YOURS, show_alert=True)
            return
        if action in ("snooze1", "snooze3"):
            days = 1 if action == "snooze1" else 3
            change = await steps_service.snooze(container.db, user, reminder_id, days, now)
            until = _local(change.reminder.due_at, user)
            await query.answer(f"Snoozed until {until}")
            await _settle(query, f"💤 Snoozed until {until}", undo=reminder_id)
        elif action == "draft":
            view = await container.drafts.for_user(user, reminder_id)
            text = view.text
            # The toast says who wrote it; the draft itself stays clean to copy.
            await query.answer(
                f"Draft below ({DRAFT_SOURCE[view.source]})"
                if text
                else "No draft for this step yet."
            )
            if text and query.message is not None and query.bot is not None:
                # Plain text, its own message: easy to long-press and copy.
                await query.bot.send_message(query.from_user.id, text[:4096], parse_mode=None)
        else:
            await query.answer(await _lead_summary(container, user, reminder_id), show_alert=True)
    except NotFound:
        await query.answer(NOT_YOURS, show_alert=True)
    except Conflict as exc:
        await query.answer(str(exc).capitalize() + ".", show_alert=True)


async def _close(
    query: CallbackQuery, container: Container, action: str, reminder_id: int, now: datetime
) -> None:
    """Done or Skip. The owner check is the step service's own: it finds the reminder only
    among the leads of the user pressing (an unknown user owns none), and reads that user in
    the same transaction."""
    change = await steps_service.close_step(
        container.db,
        query.from_user.id,
        reminder_id,
        "complete" if action == "done" else "skip",
        now,
    )
    if not change.changed:
        await query.answer(f"Already {'done' if action == 'done' else 'skipped'}.")
        return
    toast = OUTCOME[action]
    if change.plan_completed:
        toast += " — plan complete 🎉"
    await query.answer(toast)
    await _settle(query, OUTCOME[action], undo=reminder_id)


async def _replied(
    query: CallbackQuery, container: Container, reminder_id: int, now: datetime
) -> None:
    """The prospect answered: the plan ends with outcome `replied`, nothing more is sent
    about the lead, and the reminder says so (with Undo, for a mis-tap)."""
    change = await steps_service.finish_plan(
        container.db, query.from_user.id, "replied", None, now, reminder_id=reminder_id
    )
    if not change.changed:
        await query.answer("Already finished: they replied.")
        return
    await query.answer(REPLIED)
    await _settle(query, f"💬 {REPLIED}", undo=reminder_id)


async def _undo(
    query: CallbackQuery, container: Container, reminder_id: int, now: datetime
) -> None:
    """Take the press back: the reminder gets its text and buttons again. When it can no
    longer be undone, the alert says why and the Undo button goes."""
    try:
        change = await steps_service.undo(container.db, query.from_user.id, reminder_id, now)
    except Conflict as exc:
        await query.answer(str(exc).capitalize() + ".", show_alert=True)
        await _drop_buttons(query)
        return
    await query.answer("↩ Undone")
    message = query.message
    if not isinstance(message, Message):
        return
    # The outcome is the last paragraph _settle added; what is above it is the reminder.
    text, _, _ = message.html_text.rpartition(SETTLED)
    try:
        await message.edit_text(
            text or message.html_text,
            parse_mode="HTML",
            reply_markup=render.reminder_keyboard(
                reminder_id, container.links.lead_url(change.lead.id)
            ),
        )
    except TelegramAPIError as exc:
        log.info("could not restore reminder message %s: %s", message.message_id, exc.message)


async def _drop_buttons(query: CallbackQuery) -> None:
    message = query.message
    if not isinstance(message, Message):
        return
    try:
        await message.edit_reply_markup(reply_markup=None)
    except TelegramAPIError as exc:
        log.info("could not drop buttons of message %s: %s", message.message_id, exc.message)


async def _lead_summary(container: Container, user: User, reminder_id: int) -> str:
    lead = await plans_service.lead_progress(container.db, user, reminder_id)
    who = lead.name + (f" · {lead.company}" if lead.company else "")
    closed = f"{lead.steps_closed}/{lead.steps_total} steps closed"
    status = LEAD_STATUS_WORDS[lead.status]
    if lead.plan_outcome is not None:
        plan = f"finished ({OUTCOME_WORDS[lead.plan_outcome]})"
    else:
        plan = lead.plan_status
    return f"{who}\nStatus: {status}\nPlan: {closed}, {plan}."[:200]


async def _settle(query: CallbackQuery, outcome: str, *, undo: int | None = None) -> None:
    """Show the outcome on the reminder itself, and take its buttons away: all but Undo,
    while the press can be taken back."""
    message = query.message
    if not isinstance(message, Message):
        return
    try:
        await message.edit_text(
            f"{message.html_text}{SETTLED}<b>{escape(outcome)}</b>"[: render.TELEGRAM_LIMIT],
            parse_mode="HTML",
            reply_markup=render.undo_keyboard(undo) if undo is not None else None,
        )
    except TelegramAPIError as exc:
        log.info("could not edit reminder message %s: %s", message.message_id, exc.message)


async def on_unknown_button(query: CallbackQuery) -> None:
    await query.answer("This button is no longer valid.", show_alert=True)


async def on_command_elsewhere(message: Message) -> None:
    await message.answer(PRIVATE_ONLY, parse_mode=None)


async def on_press_elsewhere(query: CallbackQuery) -> None:
    # The bot never sends buttons outside private chats, so this press is forged: nothing
    # is looked up or changed, and no lead data goes into a chat others can read.
    await query.answer(PRIVATE_ONLY, show_alert=True)


async def on_start(message: Message, container: Container) -> None:
    if message.from_user is None:
        return
    now = container.clock.now()
    await users_service.sign_in(
        container.db, _profile(message.from_user), now, container.user_cache
    )
    resumed = await users_service.mark_reachable(
        container.db, message.from_user.id, now, container.user_cache
    )
    text = "👋 Welcome! I'll ping you when a step of your outreach plans is due."
    if resumed:
        text = "👋 Welcome back! Your reminders are on again."
    markup = None
    if container.links.app_url is not None:
        kb = InlineKeyboardBuilder()
        kb.button(text="Open plans", web_app=WebAppInfo(url=container.links.app_url))
        markup = kb.as_markup()
    await message.answer(f"{text}\n\n{HELP}", reply_markup=markup, parse_mode=None)


async def on_help(message: Message) -> None:
    await message.answer(HELP, parse_mode=None)


async def on_pause(message: Message, command: CommandObject, container: Container) -> None:
    user = await _known(message, container)
    if user is None:
        return
    now = container.clock.now()
    arg = (command.args or "").strip()
    try:
        if arg:
            if not arg.isdigit() or not 1 <= int(arg) <= 365:
                await message.answer("Usage: /pause or /pause 3 (days, 1–365).", parse_mode=None)
                return
            until = now + timedelta(days=int(arg))
            await users_service.update_settings(
                container.db, user.telegram_id, {"paused_until": until}, now, container.user_cache
            )
            await message.answer(
                f"⏸ Reminders paused until {_local(until, user)}.", parse_mode=None
            )
        else:
            await users_service.update_settings(
                container.db,
                user.telegram_id,
                {"reminders_paused": True},
                now,
                container.user_cache,
            )
            await message.answer(
                "⏸ Reminders paused. /resume to turn them back on.", parse_mode=None
            )
    except ServiceError as exc:
        await message.answer(f"Could not pause: {exc}", parse_mode=None)


async def on_resume(message: Message, container: Container) -> None:
    user = await _known(message, container)
    if user is None:
        return
    await users_service.update_settings(
        container.db,
        user.telegram_id,
        {"reminders_paused": False, "paused_until": None},
        container.clock.now(),
        container.user_cache,
    )
    await message.answer(
        "▶️ Reminders are on. Anything waiting comes as one digest.", parse_mode=None
    )


async def on_today(message: Message, container: Container) -> None:
    user = await _known(message, container)
    if user is None:
        return
    now = container.clock.now()
    plans = await plans_service.list_plans(container.db, user, now, filter_by="active")
    due = [
        (lead, step)
        for lead in plans.leads
        for step in lead.steps
        if step.status in ("due", "overdue") and step.reminder_id is not None
    ]
    if not due:
        await message.answer("Nothing due right now. 🎯", parse_mode=None)
        return
    for lead, step in due[:TODAY_LIMIT]:
        assert step.reminder_id is not None
        when = render.overdue_words(step.due_at or now, now)
        text = (
            f"<b>{escape(lead.name)}</b> — step {step.position + 1} of {len(lead.steps)}\n"
            f"{escape(step.description[:500])}\n<i>{when}</i>"
        )
        await message.answer(
            text,
            parse_mode="HTML",
            reply_markup=render.reminder_keyboard(
                step.reminder_id, container.links.lead_url(lead.id)
            ),
        )
    if len(due) > TODAY_LIMIT:
        await message.answer(f"…and {len(due) - TODAY_LIMIT} more in the app.", parse_mode=None)


async def on_reply(message: Message, container: Container) -> None:
    user = await _known(message, container)
    if user is None or message.reply_to_message is None or message.text is None:
        return
    try:
        saved = await notes_service.add_note_by_reply(
            container.db,
            user,
            message.reply_to_message.message_id,
            _without_nul(message.text),
            container.clock.now(),
        )
    except ServiceError as exc:
        await message.answer(f"Could not save the note: {exc}", parse_mode=None)
        return
    if not saved:
        await message.answer(HELP, parse_mode=None)
        return
    await message.answer("📝 Saved as a note on this lead.", parse_mode=None)


def parse_lead_args(args: str | None) -> dict[str, str | None] | None:
    """`Name, Company — context` (company and context optional) as lead fields."""
    text = _without_nul(args or "").strip()
    if not text:
        return None
    head, context = text, None
    split = _CONTEXT_SEPARATOR.split(text, maxsplit=1)
    if len(split) == 2:
        head, context = split[0].strip(), split[1].strip() or None
    name, _, company = head.partition(",")
    name = name.strip()
    if not name:
        return None
    return {
        "name": name[:MAX_NAME],
        "company": company.strip()[:MAX_NAME] or None,
        "context": context[:MAX_CONTEXT] if context else None,
    }


def _without_nul(text: str) -> str:
    # Telegram lets a person type U+0000; PostgreSQL cannot store it and the plan schemas
    # refuse it, so the lead or note would fail. It carries no meaning: dropped.
    return text.replace("\x00", "")


def lead_plan_summary(lead: LeadRead, source: str) -> str:
    who = lead.name + (f" · {lead.company}" if lead.company else "")
    by = "written by the AI model" if source == "llm" else "from the built-in templates"
    lines = [f"🗂 New lead: {who}", f"Plan of {len(lead.steps)} steps ({by}):"]
    for step in lead.steps:
        label = render.CHANNEL_LABEL.get(step.channel, "Other")
        when = step.timing or f"Day {step.delay_days}"
        lines.append(f"{step.position + 1}. {when} · {label} — {step.description[:120]}")
    return "\n".join(lines)[: render.TELEGRAM_LIMIT - 200]


async def on_lead(message: Message, command: CommandObject, container: Container) -> None:
    user = await _known(message, container)
    if user is None:
        return
    fields = parse_lead_args(command.args)
    if fields is None:
        await message.answer(LEAD_USAGE, parse_mode=None)
        return
    if not container.writer.has_model:
        await _write_lead(message, container, user, fields)
        return
    # A model may take up to LLM_TIMEOUT: the webhook answers Telegram now, the plan follows.
    await message.answer(f"✍️ Writing a plan for {fields['name']}…", parse_mode=None)
    container.background.spawn(
        _write_lead(message, container, user, fields), name=f"lead-plan-{user.telegram_id}"
    )


async def _write_lead(
    message: Message, container: Container, user: User, fields: dict[str, str | None]
) -> None:
    lead, source = await plans_service.create_generated_lead(
        container.db,
        container.writer,
        user,
        {**fields, "title": None, "channel": None},
        container.clock.now(),
    )
    text = lead_plan_summary(lead, source)
    url = container.links.lead_url(lead.id)
    markup = None
    if url is not None:
        kb = InlineKeyboardBuilder()
        kb.button(text="Open plan", web_app=WebAppInfo(url=url))
        markup = kb.as_markup()
    else:
        text += "\n\nOpen the Mini App to see the dated steps; /today lists what is due."
    await message.answer(text, reply_markup=markup, parse_mode=None)


async def on_anything_else(message: Message) -> None:
    await message.answer(HELP, parse_mode=None)


async def _known(message: Message, container: Container) -> User | None:
    if message.from_user is None:
        return None
    return await users_service.sign_in(
        container.db, _profile(message.from_user), container.clock.now(), container.user_cache
    )


async def on_handler_failed(event: ErrorEvent) -> None:
    """A handler raised (the database went away mid-transition, say). The webhook still
    answers Telegram 200, so the update is not delivered again: a button press would be
    left spinning with nothing said, as if it were lost. The person is told to press again
    instead (a new press is a new update), and the failure is logged with the update id.

    Exception messages can carry what the person wrote (a validation error quotes its
    input), so the ERROR line names only the exception and where it was raised; the full
    traceback is at DEBUG."""
    log.error(
        "handler failed for update %s: %s",
        event.update.update_id,
        exception_summary(event.exception),
    )
    log.debug("handler failure of update %s", event.update.update_id, exc_info=event.exception)
    query, message = event.update.callback_query, event.update.message
    if query is not None:
        try:
            await query.answer(PRESS_FAILED, show_alert=True)
        except TelegramAPIError as exc:  # answered already, or Telegram is away too
            log.info("could not answer failed press %s: %s", query.id, exc.message)
    elif message is not None and message.chat.type == ChatType.PRIVATE:
        # A command that failed would otherwise meet silence, as if the bot were gone.
        try:
            await message.answer(COMMAND_FAILED, parse_mode=None)
        except TelegramAPIError as exc:
            log.info("could not answer failed update %s: %s", event.update.update_id, exc.message)


def build_router() -> Router:
    """A fresh router per app: an aiogram router belongs to one dispatcher.

    Everything that shows or changes lead data is in the private router: its filters let
    through only updates from a private chat, whatever handler would match. Groups,
    supergroups and channels reach the other router, which says one line to a command of
    this bot and nothing to anything else (chatter, joins)."""
    private = Router(name="reminders")
    private.message.filter(F.chat.type == ChatType.PRIVATE)
    # A press under an inline-mode message has no message: not private either.
    private.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    private.callback_query.register(on_reminder_button, ReminderAction.filter())
    private.callback_query.register(on_unknown_button)
    private.message.register(on_start, CommandStart())
    private.message.register(on_help, Command("help"))
    private.message.register(on_pause, Command("pause"))
    private.message.register(on_resume, Command("resume"))
    private.message.register(on_today, Command("today"))
    private.message.register(on_lead, Command("lead"))
    private.message.register(on_reply, F.reply_to_message, F.text)
    private.message.register(on_anything_else)

    elsewhere = Router(name="not-private")
    elsewhere.message.register(on_command_elsewhere, Command(*COMMAND_NAMES))
    elsewhere.callback_query.register(on_press_elsewhere)

    router = Router(name="bot")
    router.include_routers(private, elsewhere)
    router.errors.register(on_handler_failed)
    return router

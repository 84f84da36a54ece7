"""Reminder and digest messages: HTML with every piece of user or AI text escaped, always
within Telegram's 4,096 characters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from aiogram.types import InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.keyboard import InlineKeyboardBuilder

from app.bot.callbacks import ReminderAction
from app.domain.escalation import Rung

TELEGRAM_LIMIT = 4096
DRAFT_PREVIEW = 200
DIGEST_LINES = 30

CHANNEL_LABEL = {
    "linkedin": "LinkedIn",
    "email": "Email",
    "phone": "Call",
    "telegram": "Telegram",
    "other": "Other",
}


@dataclass(frozen=True, slots=True)
class ReminderCard:
    """Everything a reminder message shows about one step."""

    reminder_id: int
    lead_id: int
    lead_name: str
    company: str | None
    step_number: int
    step_total: int
    description: str
    timing: str | None
    channel: str
    due_at: datetime
    draft: str | None


def overdue_words(due_at: datetime, now: datetime) -> str:
    seconds = (now - due_at).total_seconds()
    if seconds < 3600:
        return "due now"
    hours = int(seconds // 3600)
    if hours < 24:
        return f"overdue by {hours} h"
    days = hours // 24
    return f"overdue by {days} day{'s' if days != 1 else ''}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


HEADLINES: dict[Rung, str] = {
    "first": "🔔 <b>Step {n} of {total} is due</b>",
    "gentle": "👋 <b>Still pending: step {n} of {total}</b>",
    "final": "⏰ <b>Last nudge: step {n} of {total}</b>",
    "auto_snooze": "",
}
FOOTERS: dict[Rung, str] = {
    "first": "",
    "gentle": "Ready to tackle it? One tap below.",
    "final": "This is the last reminder before it is snoozed for a week — done, snooze or skip?",
    "auto_snooze": "",
}


def reminder_text(card: ReminderCard, rung: Rung, now: datetime) -> str:
    who = escape(card.lead_name)
    if card.company:
        who += f" · {escape(card.company)}"
    lines = [
        HEADLINES[rung].format(n=card.step_number, total=card.step_total),
        f"👤 {who}",
        "",
        f"{CHANNEL_LABEL.get(card.channel, 'Other')}: {escape(_clip(card.description, 1000))}",
    ]
    when = overdue_words(card.due_at, now)
    if card.timing:
        lines.append(f"<i>{escape(_clip(card.timing, 100))}</i> · {when}")
    else:
        lines.append(f"<i>{when}</i>")
    if card.draft:
        lines += [
            "",
            "<b>Draft:</b>",
            f"<blockquote>{escape(_clip(card.draft, DRAFT_PREVIEW))}</blockquote>",
        ]
    if FOOTERS[rung]:
        lines += ["", FOOTERS[rung]]
    return _clip_html("\n".join(lines))


def _clip_html(text: str) -> str:
    # Every user-supplied part is clipped before escaping, so the whole stays far below the
    # limit; this is the last guard should the layout ever grow.
    if len(text) <= TELEGRAM_LIMIT:
        return text
    return text[: TELEGRAM_LIMIT - 1]


def reminder_keyboard(reminder_id: int, lead_url: str | None) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for label, action in (("✅ Done", "done"), ("Snooze 1d", "snooze1"), ("Snooze 3d", "snooze3")):
        kb.button(text=label, callback_data=ReminderAction(action=action, reminder_id=reminder_id))
    kb.button(text="Skip", callback_data=ReminderAction(action="skip", reminder_id=reminder_id))
    kb.button(
        text="View draft", callback_data=ReminderAction(action="draft", reminder_id=reminder_id)
    )
    if lead_url is not None:
        kb.button(text="View lead", web_app=WebAppInfo(url=lead_url))
    else:
        kb.button(
            text="View lead", callback_data=ReminderAction(action="lead", reminder_id=reminder_id)
        )
    kb.adjust(3, 3)
    return kb.as_markup()


@dataclass(frozen=True, slots=True)
class DigestItem:
    lead_name: str
    step_number: int
    description: str
    due_at: datetime


def digest_text(items: list[DigestItem], now: datetime) -> str:
    count = len(items)
    lines = [f"📋 <b>{count} more step{'s' if count != 1 else ''} waiting for you</b>", ""]
    for item in items[:DIGEST_LINES]:
        lines.append(
            f"• <b>{escape(_clip(item.lead_name, 60))}</b> — step {item.step_number}: "
            f"{escape(_clip(item.description, 80))} ({overdue_words(item.due_at, now)})"
        )
    if count > DIGEST_LINES:
        lines.append(f"… and {count - DIGEST_LINES} more")
    lines += ["", "Open the app to act on them, or send /today."]
    return _clip_html("\n".join(lines))


def digest_keyboard(app_url: str | None) -> InlineKeyboardMarkup | None:
    if app_url is None:
        return None
    kb = InlineKeyboardBuilder()
    kb.button(text="Open plans", web_app=WebAppInfo(url=app_url))
    return kb.as_markup()

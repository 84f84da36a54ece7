"""Reminder and digest messages: HTML with every piece of user or AI text escaped, always
within Telegram's 4,096 characters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.keyboard import InlineKeyboardBuilder

from app.domain.escalation import Rung
from app.telegram.callbacks import Action, ReminderAction

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


def _fit(text: str, chars: int, budget: int) -> str:
    """`text` clipped to `chars` characters, escaped, and at most `budget` long once escaped.

    Escaping can grow text fivefold ("&" → "&amp;"), so each part gets an escaped budget:
    the parts together can never pass Telegram's limit, and nothing is ever cut inside an
    entity or a tag.
    """
    clipped = _clip(text, chars)
    escaped = escape(clipped)
    if len(escaped) <= budget:
        return escaped
    low, high = 0, len(clipped)
    while low < high:
        mid = (low + high + 1) // 2
        if len(escape(clipped[:mid])) + 1 <= budget:
            low = mid
        else:
            high = mid - 1
    return escape(clipped[:low]) + "…"


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
    who = _fit(card.lead_name, 100, 300)
    if card.company:
        who += f" · {_fit(card.company, 100, 300)}"
    channel = CHANNEL_LABEL.get(card.channel, "Other")
    lines = [
        HEADLINES[rung].format(n=card.step_number, total=card.step_total),
        f"👤 {who}",
        "",
        f"{channel}: {_fit(card.description, 1000, 1800)}",
    ]
    when = overdue_words(card.due_at, now)
    if card.timing:
        lines.append(f"<i>{_fit(card.timing, 100, 300)}</i> · {when}")
    else:
        lines.append(f"<i>{when}</i>")
    if card.draft:
        draft = _fit(card.draft, DRAFT_PREVIEW, 1000)
        lines += ["", "<b>Draft:</b>", f"<blockquote>{draft}</blockquote>"]
    if FOOTERS[rung]:
        lines += ["", FOOTERS[rung]]
    return _clip_html("\n".join(lines))


def _clip_html(text: str) -> str:
    # Every part has an escaped budget (_fit), so the whole stays below the limit by
    # construction; failing loudly beats sending Telegram HTML cut in half.
    if len(text) > TELEGRAM_LIMIT:
        raise ValueError(
            f"rendered message is {len(text)} characters; the layout outgrew its budgets"
        )
    return text


def _action_button(label: str, action: Action, reminder_id: int) -> InlineKeyboardButton:
    data = ReminderAction(action=action, reminder_id=reminder_id).pack()
    return InlineKeyboardButton(text=label, callback_data=data)


def reminder_keyboard(reminder_id: int, lead_url: str | None) -> InlineKeyboardMarkup:
    # Built row by row rather than with InlineKeyboardBuilder: the builder validates and
    # copies every button several times, ten times the cost, and a dispatch pass renders
    # one keyboard per reminder.
    lead = (
        InlineKeyboardButton(text="View lead", web_app=WebAppInfo(url=lead_url))
        if lead_url is not None
        else _action_button("View lead", "lead", reminder_id)
    )
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _action_button("✅ Done", "done", reminder_id),
                _action_button("Snooze 1d", "snooze1", reminder_id),
                _action_button("Snooze 3d", "snooze3", reminder_id),
            ],
            [
                _action_button("💬 Replied", "replied", reminder_id),
                _action_button("Skip", "skip", reminder_id),
            ],
            [_action_button("View draft", "draft", reminder_id), lead],
        ]
    )


def undo_keyboard(reminder_id: int) -> InlineKeyboardMarkup:
    """Under a reminder a press has settled, while the press can still be taken back."""
    return InlineKeyboardMarkup(inline_keyboard=[[_action_button("↩ Undo", "undo", reminder_id)]])


@dataclass(frozen=True, slots=True)
class DigestItem:
    lead_name: str
    step_number: int
    description: str
    due_at: datetime


def digest_text(items: list[DigestItem], now: datetime) -> str:
    count = len(items)
    head = [f"📋 <b>{count} more step{'s' if count != 1 else ''} waiting for you</b>", ""]
    tail = ["", "Open the app to act on them, or send /today."]
    budget = TELEGRAM_LIMIT - sum(len(x) + 1 for x in head + tail) - 40
    lines: list[str] = []
    for item in items[:DIGEST_LINES]:
        line = (
            f"• <b>{_fit(item.lead_name, 60, 120)}</b> — step {item.step_number}: "
            f"{_fit(item.description, 80, 160)} ({overdue_words(item.due_at, now)})"
        )
        if len(line) + 1 > budget:
            break
        budget -= len(line) + 1
        lines.append(line)
    if len(lines) < count:
        lines.append(f"… and {count - len(lines)} more")
    return _clip_html("\n".join(head + lines + tail))


def digest_keyboard(app_url: str | None) -> InlineKeyboardMarkup | None:
    if app_url is None:
        return None
    kb = InlineKeyboardBuilder()
    kb.button(text="Open plans", web_app=WebAppInfo(url=app_url))
    return kb.as_markup()

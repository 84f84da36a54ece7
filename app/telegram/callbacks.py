"""Callback data of reminder buttons: `eplan:{action}:{reminder_id}` (CONTRACT.md)."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

Action = Literal["done", "snooze1", "snooze3", "skip", "draft", "lead", "replied", "undo"]
ACTIONS: tuple[Action, ...] = get_args(Action)
# Callback data comes from the client and can be forged: an id no row can have (past a
# BIGINT, zero, negative) used to reach the database, fail there and leave the press
# unanswered. Now it does not unpack, and the press gets the "no longer valid" alert.
MAX_REMINDER_ID = 2**63 - 1


class ReminderAction(CallbackData, prefix="eplan"):
    action: Action
    reminder_id: Annotated[int, Field(ge=1, le=MAX_REMINDER_ID)]

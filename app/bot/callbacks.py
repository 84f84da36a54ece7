"""Callback data of reminder buttons: `eplan:{action}:{reminder_id}` (CONTRACT.md)."""

from __future__ import annotations

from typing import Literal

from aiogram.filters.callback_data import CallbackData

Action = Literal["done", "snooze1", "snooze3", "skip", "draft", "lead"]
ACTIONS: tuple[Action, ...] = ("done", "snooze1", "snooze3", "skip", "draft", "lead")


class ReminderAction(CallbackData, prefix="eplan"):
    action: Action
    reminder_id: int

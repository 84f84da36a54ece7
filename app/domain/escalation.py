"""The escalation ladder: what the dispatcher does with a step the user has not acted on.

Pure: the stage a reminder is at and the moment of its last message in, the next rung and
its time out. A rung's time is counted from the message before it, so a dispatcher that
was down for days sends the first reminder late but never fires the whole ladder at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from app.domain.calendar import WorkSchedule, next_working_moment

Rung = Literal["first", "gentle", "final", "auto_snooze"]

# stage = messages sent in the current ladder: 0 none yet, 1 first, 2 gentle, 3 final.
RUNG_AT_STAGE: tuple[Rung, ...] = ("first", "gentle", "final", "auto_snooze")
GENTLE_AFTER_FIRST = timedelta(hours=24)
FINAL_AFTER_GENTLE = timedelta(hours=48)  # 72 h after the first reminder
AUTO_SNOOZE_AFTER_FINAL = timedelta(hours=24)  # 96 h after the first reminder
AUTO_SNOOZE_DAYS = 7


def rung_for(stage: int) -> Rung:
    return RUNG_AT_STAGE[min(max(stage, 0), len(RUNG_AT_STAGE) - 1)]


@dataclass(frozen=True, slots=True)
class AfterMessage:
    stage: int
    next_action_at: datetime


def after_message(rung: Rung, sent_at: datetime, schedule: WorkSchedule) -> AfterMessage:
    """The reminder's stage and next look-in once `rung`'s message went out at `sent_at`.

    Nudges respect working hours and workdays; the silent auto-snooze sends nothing, so it
    may happen at any hour.
    """
    if rung == "first":
        return AfterMessage(1, next_working_moment(sent_at + GENTLE_AFTER_FIRST, schedule))
    if rung == "gentle":
        return AfterMessage(2, next_working_moment(sent_at + FINAL_AFTER_GENTLE, schedule))
    if rung == "final":
        return AfterMessage(3, sent_at + AUTO_SNOOZE_AFTER_FINAL)
    raise ValueError("an auto-snooze sends no message")

"""What really happened with a lead: its status, how a plan was finished, and the window
in which a person's action on a step can be taken back. Pure data, no I/O."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, get_args

# A lead's status, as the research's system (Deal Quest) tracks it.
LeadStatus = Literal[
    "analyzed", "reached_out", "in_progress", "meeting_booked", "closed_won", "closed_lost"
]
LEAD_STATUSES: tuple[LeadStatus, ...] = get_args(LeadStatus)
CLOSED_LEAD_STATUSES: frozenset[LeadStatus] = frozenset({"closed_won", "closed_lost"})

# How a plan was finished by hand, and the lead status each outcome leads to.
Outcome = Literal["replied", "meeting_booked", "not_interested", "closed_won", "closed_lost"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
STATUS_AFTER: dict[Outcome, LeadStatus] = {
    "replied": "in_progress",
    "meeting_booked": "meeting_booked",
    "not_interested": "closed_lost",
    "closed_won": "closed_won",
    "closed_lost": "closed_lost",
}
# A lead status set by hand that ends an active plan, and the outcome it finishes it with.
OUTCOME_OF_STATUS: dict[LeadStatus, Outcome] = {
    "meeting_booked": "meeting_booked",
    "closed_won": "closed_won",
    "closed_lost": "closed_lost",
}

MAX_REASON = 200

# A person's done, skip, snooze or finish can be taken back this long after it was made.
UNDO_WINDOW = timedelta(minutes=10)


def status_after_first_done(status: LeadStatus) -> LeadStatus | None:
    """The first step done means the salesperson reached out."""
    return "reached_out" if status == "analyzed" else None

"""Path ids. An id no row can have (beyond 64 bits, zero, negative) is simply not found:
the same 404 as a missing or someone else's id, never a database error."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException

MAX_ID = 2**63 - 1


def _existing(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise HTTPException(status_code=404, detail="not found")
    return value


# Async on purpose: FastAPI runs a plain `def` dependency in a worker thread, a thread hop
# per request for a comparison.
async def _lead_id(lead_id: int) -> int:
    return _existing(lead_id)


async def _reminder_id(reminder_id: int) -> int:
    return _existing(reminder_id)


LeadId = Annotated[int, Depends(_lead_id)]
ReminderId = Annotated[int, Depends(_reminder_id)]

"""The statuses the database accepts are the domain's: the SQL spells them out (as the
migrations created them), so a status added to one side only fails here, not in production."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import CheckConstraint, Constraint

from app.db.tables import _open_status_sql, lead_registry, scheduled_reminders
from app.domain.outcomes import LEAD_STATUSES, OUTCOMES
from app.domain.plans import OPEN_STATUSES, PLAN_STATUSES, REMINDER_STATUSES


def _listed(sql: str) -> set[str]:
    return set(re.findall(r"'([a-z_]+)'", sql))


def _check(constraints: Iterable[Constraint], name: str) -> str:
    (found,) = [c for c in constraints if isinstance(c, CheckConstraint) and c.name == name]
    return str(found.sqltext)


def test_reminder_statuses_match_the_check_constraint() -> None:
    sql = _check(scheduled_reminders.constraints, "ck_scheduled_reminders_status")
    assert _listed(sql) == set(REMINDER_STATUSES)


def test_plan_statuses_match_the_check_constraint() -> None:
    sql = _check(lead_registry.constraints, "ck_lead_registry_plan_status")
    assert _listed(sql) == set(PLAN_STATUSES)


def test_the_open_indexes_cover_exactly_the_open_statuses() -> None:
    assert _listed(_open_status_sql) == set(OPEN_STATUSES)


def test_lead_statuses_and_outcomes_match_their_check_constraints() -> None:
    status = _check(lead_registry.constraints, "ck_lead_registry_status")
    assert _listed(status) == set(LEAD_STATUSES)
    outcome = _check(lead_registry.constraints, "ck_lead_registry_plan_outcome")
    assert _listed(outcome) == set(OUTCOMES)

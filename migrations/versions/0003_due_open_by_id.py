"""The dispatcher's index on open reminders also orders by id: claims take the oldest due
first and, among reminders due at the same moment (every step of a zone comes due at the
start of its working hours), the lowest id first. A killed worker's claims, freed when its
leases run out, are then the next to go rather than waiting behind everything due with
them; and the order is read straight from the index on both engines.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "status IN ('pending', 'sent', 'auto_snoozed')"
_NAME = "ix_scheduled_reminders_due_open"


def _create(*columns: str) -> None:
    op.create_index(
        _NAME,
        "scheduled_reminders",
        list(columns),
        postgresql_where=sa.text(_OPEN),
        sqlite_where=sa.text(_OPEN),
    )


def upgrade() -> None:
    op.drop_index(_NAME, table_name="scheduled_reminders")
    _create("next_action_at", "id")


def downgrade() -> None:
    op.drop_index(_NAME, table_name="scheduled_reminders")
    _create("next_action_at")

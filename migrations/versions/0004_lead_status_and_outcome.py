"""Lead status takes the research's values (`analyzed` for a captured lead with a plan,
then reached_out, in_progress, meeting_booked, closed_won, closed_lost); a plan finished
by hand keeps its outcome, and a closing status its reason.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_STATUS = (
    "status IN ('analyzed', 'reached_out', 'in_progress', 'meeting_booked', "
    "'closed_won', 'closed_lost')"
)
_OUTCOME = (
    "plan_outcome IS NULL OR plan_outcome IN ('replied', 'meeting_booked', "
    "'not_interested', 'closed_won', 'closed_lost')"
)


def upgrade() -> None:
    op.execute(
        "UPDATE lead_registry SET status = 'analyzed' WHERE status NOT IN "
        "('reached_out', 'in_progress', 'meeting_booked', 'closed_won', 'closed_lost')"
    )
    with op.batch_alter_table("lead_registry") as batch:
        batch.alter_column(
            "status",
            existing_type=sa.String(32),
            existing_nullable=False,
            server_default="analyzed",
        )
        batch.add_column(sa.Column("plan_outcome", sa.String(32)))
        batch.add_column(sa.Column("status_reason", sa.Text()))
        batch.create_check_constraint("status", _STATUS)
        batch.create_check_constraint("plan_outcome", _OUTCOME)
    # What a person's action changed, for undo (app.services.steps.undo).
    op.add_column("lead_activity_log", sa.Column("undo_state", JSON_DOC))


def downgrade() -> None:
    op.drop_column("lead_activity_log", "undo_state")
    with op.batch_alter_table("lead_registry") as batch:
        batch.drop_constraint("plan_outcome", type_="check")
        batch.drop_constraint("status", type_="check")
        batch.drop_column("status_reason")
        batch.drop_column("plan_outcome")
        batch.alter_column(
            "status", existing_type=sa.String(32), existing_nullable=False, server_default="new"
        )
    op.execute("UPDATE lead_registry SET status = 'new' WHERE status = 'analyzed'")

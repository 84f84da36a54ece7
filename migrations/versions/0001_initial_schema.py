"""Initial schema: users, leads with their plans, one reminder per step, activity, updates.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types, so later changes to app code never rewrite history.
TS = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OPEN_STATUS = sa.text("status IN ('pending', 'sent', 'auto_snoozed')")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("telegram_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("first_name", sa.Text(), server_default="", nullable=False),
        sa.Column("last_name", sa.Text()),
        sa.Column("username", sa.Text()),
        sa.Column("language_code", sa.Text()),
        sa.Column("photo_url", sa.Text()),
        sa.Column("timezone", sa.String(64), server_default="UTC", nullable=False),
        sa.Column("timezone_set_at", TS),
        sa.Column("work_start", sa.String(5), server_default="09:00", nullable=False),
        sa.Column("work_end", sa.String(5), server_default="18:00", nullable=False),
        sa.Column(
            "workdays", JSON_DOC, server_default=sa.text("'[1, 2, 3, 4, 5]'"), nullable=False
        ),
        sa.Column("reminders_paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("paused_until", TS),
        sa.Column("blocked_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("telegram_id", name=op.f("pk_users")),
    )
    op.create_table(
        "lead_registry",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("company", sa.Text()),
        sa.Column("title", sa.Text()),
        sa.Column("channel", sa.String(16)),
        sa.Column("context", sa.Text()),
        sa.Column("status", sa.String(32), server_default="new", nullable=False),
        sa.Column("engagement_plan", JSON_DOC, server_default=sa.text("'[]'"), nullable=False),
        sa.Column("plan_status", sa.String(16), server_default="none", nullable=False),
        sa.Column("plan_started_at", TS),
        sa.Column("plan_paused_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint(
            "plan_status IN ('none', 'active', 'paused', 'completed')",
            name=op.f("ck_lead_registry_plan_status"),
        ),
        sa.ForeignKeyConstraint(
            ["telegram_id"],
            ["users.telegram_id"],
            name=op.f("fk_lead_registry_telegram_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_registry")),
    )
    op.create_index(op.f("ix_lead_registry_telegram_id_id"), "lead_registry", ["telegram_id", "id"])
    op.create_table(
        "scheduled_reminders",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("lead_id", BIG_ID, nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("planned_due_at", TS, nullable=False),
        sa.Column("status", sa.String(16), server_default="pending", nullable=False),
        sa.Column("nudge_stage", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_action_at", TS, nullable=False),
        sa.Column("snooze_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reminder_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_reminded_at", TS),
        sa.Column("message_id", sa.BigInteger()),
        sa.Column("draft_text", sa.Text()),
        sa.Column("draft_source", sa.String(16)),
        sa.Column("draft_generated_at", TS),
        sa.Column("completed_at", TS),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_until", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'completed', 'skipped', 'auto_snoozed', 'cancelled')",
            name=op.f("ck_scheduled_reminders_status"),
        ),
        sa.CheckConstraint(
            "snooze_count >= 0 AND reminder_count >= 0",
            name=op.f("ck_scheduled_reminders_counts"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["lead_registry.id"],
            name=op.f("fk_scheduled_reminders_lead_id_lead_registry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["telegram_id"],
            ["users.telegram_id"],
            name=op.f("fk_scheduled_reminders_telegram_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_reminders")),
        sa.UniqueConstraint(
            "lead_id", "step_id", name=op.f("uq_scheduled_reminders_lead_id_step_id")
        ),
    )
    op.create_index(
        "ix_scheduled_reminders_due_open",
        "scheduled_reminders",
        ["next_action_at"],
        postgresql_where=OPEN_STATUS,
        sqlite_where=OPEN_STATUS,
    )
    op.create_index(
        "ix_scheduled_reminders_open_by_lead",
        "scheduled_reminders",
        ["lead_id", "position"],
        postgresql_where=OPEN_STATUS,
        sqlite_where=OPEN_STATUS,
    )
    op.create_index(
        op.f("ix_scheduled_reminders_telegram_id_status"),
        "scheduled_reminders",
        ["telegram_id", "status"],
    )
    op.create_table(
        "lead_activity_log",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("lead_id", BIG_ID, nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("step_id", sa.Integer()),
        sa.Column("activity_type", sa.String(32), nullable=False),
        sa.Column("details", JSON_DOC, server_default=sa.text("'{}'"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["lead_registry.id"],
            name=op.f("fk_lead_activity_log_lead_id_lead_registry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["telegram_id"],
            ["users.telegram_id"],
            name=op.f("fk_lead_activity_log_telegram_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_activity_log")),
    )
    op.create_index(
        op.f("ix_lead_activity_log_lead_id_created_at"),
        "lead_activity_log",
        ["lead_id", "created_at"],
    )
    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("processed_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_processed_updates")),
    )
    op.create_index(
        op.f("ix_processed_updates_processed_at"), "processed_updates", ["processed_at"]
    )


def downgrade() -> None:
    op.drop_table("processed_updates")
    op.drop_table("lead_activity_log")
    op.drop_table("scheduled_reminders")
    op.drop_table("lead_registry")
    op.drop_table("users")

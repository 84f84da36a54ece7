"""SQLAlchemy Core tables. The migrations in migrations/ build exactly this schema."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from app.db.types import BigId, JsonDoc, UTCDateTime
from app.domain import plans

# Named constraints make migrations reproducible on both engines (SQLite batch mode needs names).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# The CHECK constraints below spell the domain's statuses (app.domain.plans) in SQL, as the
# migrations created them (tests/db/test_statuses.py holds the two together).
# Statuses the dispatcher still has to act on; the partial due index covers exactly these.
OPEN_REMINDER_STATUSES = plans.OPEN_STATUSES
CHANNELS = ("linkedin", "email", "phone", "telegram", "other")

_open_status_sql = "status IN ('pending', 'sent', 'auto_snoozed')"

users = Table(
    "users",
    metadata,
    Column("telegram_id", BigInteger, primary_key=True, autoincrement=False),
    Column("first_name", Text, nullable=False, server_default=""),
    Column("last_name", Text),
    Column("username", Text),
    Column("language_code", Text),
    Column("photo_url", Text),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("timezone_set_at", UTCDateTime),
    Column("work_start", String(5), nullable=False, server_default="09:00"),
    Column("work_end", String(5), nullable=False, server_default="18:00"),
    Column("workdays", JsonDoc, nullable=False, server_default=text("'[1, 2, 3, 4, 5]'")),
    Column("reminders_paused", Boolean, nullable=False, server_default=text("false")),
    Column("paused_until", UTCDateTime),
    Column("blocked_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Bumped in the same transaction as every change to the user's leads or steps (besides
    # the dispatcher's records, which raise reminder_count instead): the key under which a
    # GET /plans answer may be served from cache.
    Column("plans_version", BigInteger, nullable=False, server_default="0"),
)

lead_registry = Table(
    "lead_registry",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "telegram_id",
        BigInteger,
        ForeignKey("users.telegram_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", Text, nullable=False),
    Column("company", Text),
    Column("title", Text),
    Column("channel", String(16)),
    Column("context", Text),
    Column("status", String(32), nullable=False, server_default="analyzed"),
    Column("engagement_plan", JsonDoc, nullable=False, server_default=text("'[]'")),
    Column("plan_status", String(16), nullable=False, server_default="none"),
    Column("plan_outcome", String(32)),
    Column("status_reason", Text),
    Column("plan_started_at", UTCDateTime),
    Column("plan_paused_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("plan_status IN ('none', 'active', 'paused', 'completed')", name="plan_status"),
    CheckConstraint(
        "status IN ('analyzed', 'reached_out', 'in_progress', 'meeting_booked', "
        "'closed_won', 'closed_lost')",
        name="status",
    ),
    CheckConstraint(
        "plan_outcome IS NULL OR plan_outcome IN ('replied', 'meeting_booked', "
        "'not_interested', 'closed_won', 'closed_lost')",
        name="plan_outcome",
    ),
    Index(None, "telegram_id", "id"),
)

scheduled_reminders = Table(
    "scheduled_reminders",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "lead_id",
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("lead_registry.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "telegram_id",
        BigInteger,
        ForeignKey("users.telegram_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("step_id", Integer, nullable=False),
    Column("position", Integer, nullable=False, server_default="0"),
    Column("due_at", UTCDateTime, nullable=False),
    # The date the plan itself gives the step; sequencing never moves a step before it.
    Column("planned_due_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    # The escalation ladder: messages sent since the step last came due, and when the
    # dispatcher should look at the step next (its due time, or the next rung's time).
    Column("nudge_stage", Integer, nullable=False, server_default="0"),
    Column("next_action_at", UTCDateTime, nullable=False),
    Column("snooze_count", Integer, nullable=False, server_default="0"),
    Column("reminder_count", Integer, nullable=False, server_default="0"),
    Column("last_reminded_at", UTCDateTime),
    Column("message_id", BigInteger),
    Column("draft_text", Text),
    Column("draft_source", String(16)),
    Column("draft_generated_at", UTCDateTime),
    Column("completed_at", UTCDateTime),
    # The lease: who holds the claim and until when. An expired lease is free to take again.
    Column("claimed_by", String(64)),
    Column("claimed_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("lead_id", "step_id"),
    CheckConstraint(
        "status IN ('pending', 'sent', 'completed', 'skipped', 'auto_snoozed', 'cancelled')",
        name="status",
    ),
    CheckConstraint("snooze_count >= 0 AND reminder_count >= 0", name="counts"),
    # The dispatcher's hot query: open reminders by next action time, then id (the claim's
    # order). Partial on both engines, so closed history costs the claim nothing and
    # far-future rows are never read.
    Index(
        "ix_scheduled_reminders_due_open",
        "next_action_at",
        "id",
        postgresql_where=text(_open_status_sql),
        sqlite_where=text(_open_status_sql),
    ),
    Index(None, "telegram_id", "status"),
    # "Is an earlier step of this lead still open?" — asked for every claim candidate.
    Index(
        "ix_scheduled_reminders_open_by_lead",
        "lead_id",
        "position",
        postgresql_where=text(_open_status_sql),
        sqlite_where=text(_open_status_sql),
    ),
)

lead_activity_log = Table(
    "lead_activity_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "lead_id",
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("lead_registry.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "telegram_id",
        BigInteger,
        ForeignKey("users.telegram_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("step_id", Integer),
    Column("activity_type", String(32), nullable=False),
    Column("details", JsonDoc, nullable=False, server_default=text("'{}'")),
    Column("created_at", UTCDateTime, nullable=False),
    # A person's action on a step: what it changed, before and after, so that it can be
    # undone within the undo window (app.services.steps.undo). Not part of the API.
    Column("undo_state", JsonDoc),
    Index(None, "lead_id", "created_at"),
)

# Telegram redelivers webhook updates; remembering ids for a while makes a redelivery a no-op.
processed_updates = Table(
    "processed_updates",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("processed_at", UTCDateTime, nullable=False),
    Index(None, "processed_at"),
)

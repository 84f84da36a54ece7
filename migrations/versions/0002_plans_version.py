"""users.plans_version: bumped by every change to a user's leads or steps, so a replica can
tell with one indexed read whether its cached GET /plans answer is still current.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both engines (SQLite has ADD and DROP COLUMN natively): a batch
# "copy and move" of users would drop the table that leads cascade from.


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("plans_version", sa.BigInteger(), server_default="0", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("users", "plans_version")

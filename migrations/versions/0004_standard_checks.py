"""Standard check results: one row per standard per `continuous check`, for the standards compliance rate.

Revision ID: 0004_standard_checks
Revises: 0002_operations (0005_execution_events follows it)
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_standard_checks"
down_revision: str | Sequence[str] | None = "0002_operations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = sa.String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")
TSTZ = sa.DateTime(timezone=True)
NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "ops_standard_checks",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()") if pg else None),
        sa.Column("check_id", UUID, nullable=False),
        sa.Column("checked_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("worktree", sa.Text()),
        sa.Column("head_commit", sa.Text()),
        sa.Column("standard_id", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("violations", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("fixed", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.PrimaryKeyConstraint("id", name="pk_ops_standard_checks"),
    )
    op.create_index("ix_ops_standard_checks_checked_at", "ops_standard_checks", ["checked_at"])


def downgrade() -> None:
    op.drop_index("ix_ops_standard_checks_checked_at", table_name="ops_standard_checks")
    op.drop_table("ops_standard_checks")

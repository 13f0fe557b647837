"""Execution events (a rollback is its own event, not a rewrite of the run's outcome) and which execution
restored an archived item.

Revision ID: 0005_execution_events
Revises: 0004_standard_checks
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_execution_events"
down_revision: str | Sequence[str] | None = "0004_standard_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = sa.String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")
JSONB = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
TSTZ = sa.DateTime(timezone=True)
NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "sys_execution_events",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()") if pg else None),
        sa.Column("execution_id", UUID, nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("created_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("by", sa.Text()),
        sa.Column("details", JSONB),
        sa.PrimaryKeyConstraint("id", name="pk_sys_execution_events"),
        sa.ForeignKeyConstraint(
            ["execution_id"], ["sys_scenario_executions.id"], name="fk_sys_execution_events_execution_id"
        ),
    )
    op.create_index("ix_sys_execution_events_execution_id", "sys_execution_events", ["execution_id"])
    op.add_column("sys_archived_items", sa.Column("restored_by", UUID))


def downgrade() -> None:
    with op.batch_alter_table("sys_archived_items") as batch:
        batch.drop_column("restored_by")
    op.drop_index("ix_sys_execution_events_execution_id", table_name="sys_execution_events")
    op.drop_table("sys_execution_events")

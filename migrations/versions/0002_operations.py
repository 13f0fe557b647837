"""Operations: the background job queue, job completions and health-check results.

Revision ID: 0002_operations
Revises: 0001_initial
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_operations"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = sa.String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")
JSONB = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
TSTZ = sa.DateTime(timezone=True)
NOW = sa.text("CURRENT_TIMESTAMP")


def _id() -> sa.Column:
    pg = op.get_bind().dialect.name == "postgresql"
    default = sa.text("gen_random_uuid()") if pg else None
    return sa.Column("id", UUID, primary_key=True, server_default=default)


def upgrade() -> None:
    op.create_table(
        "ops_jobs",
        _id(),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("payload", JSONB),
        sa.Column("status", sa.Text(), nullable=False, server_default=sa.text("'queued'")),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("max_attempts", sa.Integer(), nullable=False, server_default=sa.text("3")),
        sa.Column("worktree", sa.Text()),
        sa.Column("schedule_id", sa.Text()),
        sa.Column("dedup_key", sa.Text()),
        sa.Column("run_after", TSTZ, nullable=False, server_default=NOW),
        sa.Column("enqueued_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("leased_by", sa.Text()),
        sa.Column("leased_until", TSTZ),
        sa.Column("started_at", TSTZ),
        sa.Column("finished_at", TSTZ),
        sa.Column("result", JSONB),
        sa.Column("error", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_ops_jobs"),
    )
    op.create_index("ix_ops_jobs_status_run_after", "ops_jobs", ["status", "run_after"])
    op.create_index("uq_ops_jobs_dedup_key", "ops_jobs", ["dedup_key"], unique=True)
    op.create_table(
        "ops_job_completions",
        sa.Column("job_id", UUID, nullable=False),
        sa.Column("worker", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("completed_at", TSTZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("job_id", name="pk_ops_job_completions"),
        sa.ForeignKeyConstraint(["job_id"], ["ops_jobs.id"], name="fk_ops_job_completions_job_id_ops_jobs"),
    )
    op.create_table(
        "ops_health_checks",
        _id(),
        sa.Column("checked_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("latency_ms", sa.Integer()),
        sa.Column("detail", sa.Text()),
        sa.Column("worktree", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_ops_health_checks"),
    )
    op.create_index("ix_ops_health_checks_checked_at", "ops_health_checks", ["checked_at"])


def downgrade() -> None:
    op.drop_index("ix_ops_health_checks_checked_at", table_name="ops_health_checks")
    op.drop_table("ops_health_checks")
    op.drop_table("ops_job_completions")
    op.drop_index("uq_ops_jobs_dedup_key", table_name="ops_jobs")
    op.drop_index("ix_ops_jobs_status_run_after", table_name="ops_jobs")
    op.drop_table("ops_jobs")

"""The tracking store: scenarios, executions, steps, archived items, dev tasks, port registry, and two views.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Native types on PostgreSQL (as in the spec), portable text/JSON on SQLite. Self-contained on purpose: a
# migration must keep producing the same schema even if the model code changes later.
UUID = sa.String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")
JSONB = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
TEXT_ARRAY = sa.JSON(none_as_null=True).with_variant(postgresql.ARRAY(sa.Text()), "postgresql")
TSTZ = sa.DateTime(timezone=True)
NOW = sa.text("CURRENT_TIMESTAMP")


def _id() -> sa.Column:
    pg = op.get_bind().dialect.name == "postgresql"
    return sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()") if pg else None)


def upgrade() -> None:
    op.create_table(
        "sys_scenarios",
        _id(),
        sa.Column("scenario_id", sa.Text(), nullable=False),
        sa.Column("object_type", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("dependencies", TEXT_ARRAY),
        sa.Column("preconditions", JSONB),
        sa.Column("steps", JSONB),
        sa.Column("validations", JSONB),
        sa.Column("automation_level", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("estimate_seconds", sa.Integer()),
        sa.Column("manual_effort_seconds", sa.Integer()),
        sa.Column("content_hash", sa.Text()),
        sa.Column("archived_at", TSTZ),
        sa.Column("created_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("updated_at", TSTZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_sys_scenarios"),
        sa.UniqueConstraint("scenario_id", name="uq_sys_scenarios_scenario_id"),
    )
    op.create_table(
        "sys_scenario_executions",
        _id(),
        sa.Column("kind", sa.Text(), nullable=False, server_default=sa.text("'scenario'")),
        sa.Column("parent_id", UUID),
        sa.Column("scenario_id", sa.Text()),
        sa.Column("worktree_path", sa.Text()),
        sa.Column("branch", sa.Text()),
        sa.Column("executed_by", sa.Text()),
        sa.Column("parameters", JSONB),
        sa.Column("plan", JSONB),
        sa.Column("rule_base_hash", sa.Text()),
        sa.Column("head_commit", sa.Text()),
        sa.Column("started_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("completed_at", TSTZ),
        sa.Column("status", sa.Text(), nullable=False),
        # The spec's JSONB[]: a JSONB array holds the same list and reads the same on both backends.
        sa.Column("checkpoints", JSONB),
        sa.Column("artifacts", JSONB),
        sa.Column("error_details", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_sys_scenario_executions"),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["sys_scenario_executions.id"],
            name="fk_sys_scenario_executions_parent_id",
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["sys_scenarios.scenario_id"],
            name="fk_sys_scenario_executions_scenario_id",
        ),
    )
    op.create_index(
        "ix_sys_scenario_executions_scenario_started",
        "sys_scenario_executions",
        ["scenario_id", "started_at"],
    )
    op.create_index(
        "ix_sys_scenario_executions_worktree_status", "sys_scenario_executions", ["worktree_path", "status"]
    )
    op.create_index("ix_sys_scenario_executions_parent_id", "sys_scenario_executions", ["parent_id"])
    op.create_index("ix_sys_scenario_executions_started_at", "sys_scenario_executions", ["started_at"])

    op.create_table(
        "sys_scenario_step_executions",
        _id(),
        sa.Column("execution_id", UUID),
        sa.Column("step_number", sa.Integer(), nullable=False),
        sa.Column("step_name", sa.Text(), nullable=False),
        sa.Column("started_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("completed_at", TSTZ),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("output", sa.Text()),
        sa.Column("checkpoint_commit", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_sys_scenario_step_executions"),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["sys_scenario_executions.id"],
            name="fk_sys_scenario_step_executions_execution_id",
        ),
    )
    op.create_index("ix_sys_scenario_step_executions_execution_id", "sys_scenario_step_executions", ["execution_id"])

    op.create_table(
        "sys_archived_items",
        _id(),
        sa.Column("item_type", sa.Text(), nullable=False),
        sa.Column("item_path", sa.Text(), nullable=False),
        sa.Column("archived_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("archived_by", sa.Text()),
        sa.Column("reason", sa.Text()),
        sa.Column("metadata", JSONB),
        sa.Column("restored_at", TSTZ),
        sa.Column("execution_id", UUID),
        sa.PrimaryKeyConstraint("id", name="pk_sys_archived_items"),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["sys_scenario_executions.id"],
            name="fk_sys_archived_items_execution_id",
        ),
    )

    op.create_table(
        "dev_tasks",
        _id(),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False, server_default=sa.text("'open'")),
        sa.Column("worktree", sa.Text()),
        sa.Column("execution_id", UUID),
        sa.Column("dedup_key", sa.Text()),
        sa.Column("created_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("closed_at", TSTZ),
        sa.Column("close_reason", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_dev_tasks"),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["sys_scenario_executions.id"],
            name="fk_dev_tasks_execution_id",
        ),
    )
    op.create_index("ix_dev_tasks_status", "dev_tasks", ["status"])
    op.create_index(
        "uq_dev_tasks_open_dedup_key",
        "dev_tasks",
        ["dedup_key"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )

    op.create_table(
        "sys_port_registry",
        _id(),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("worktree", sa.Text()),
        sa.Column("allocated_at", TSTZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_sys_port_registry"),
        sa.UniqueConstraint("port", name="uq_sys_port_registry_port"),
    )

    dialect = "postgresql" if op.get_bind().dialect.name == "postgresql" else "sqlite"
    for statement in VIEWS[dialect]:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS sys_scenario_health_view")
    op.execute("DROP VIEW IF EXISTS sys_scenario_impact_view")
    op.drop_table("sys_port_registry")
    op.drop_index("uq_dev_tasks_open_dedup_key", table_name="dev_tasks")
    op.drop_index("ix_dev_tasks_status", table_name="dev_tasks")
    op.drop_table("dev_tasks")
    op.drop_table("sys_archived_items")
    op.drop_index("ix_sys_scenario_step_executions_execution_id", table_name="sys_scenario_step_executions")
    op.drop_table("sys_scenario_step_executions")
    for name in (
        "ix_sys_scenario_executions_started_at",
        "ix_sys_scenario_executions_parent_id",
        "ix_sys_scenario_executions_worktree_status",
        "ix_sys_scenario_executions_scenario_started",
    ):
        op.drop_index(name, table_name="sys_scenario_executions")
    op.drop_table("sys_scenario_executions")
    op.drop_table("sys_scenarios")


# ----------------------------------------------------------------------------------------------- views
#
# Both views describe the current rule base: scenarios archived by `registry sync` (archived_at set) are left
# out. Only kind = 'scenario' executions count (a 'run' row is the envelope of a plan, not an execution of a scenario).
#
# avg_files_changed differs from the spec on purpose. The spec's `COUNT(DISTINCT e.artifacts->>'files')`
# counts the distinct *file-list texts* of a scenario's executions, which is not an average and not a number of files.
# Here it is the real mean, over the scenario's executions that recorded artifacts, of the number of files each changed:
#   artifacts.files_changed                                  if it is a number, else
#   len(artifacts.files)                                     if files is a list of paths, else
#   len(files.created) + len(files.modified) + len(files.deleted)   if files is an object.
# Executions without artifacts (NULL) are not part of the average; a recorded empty change counts as 0.
# direct_dependencies is 0 (not NULL, as the spec's array_length gives) for a scenario without dependencies.

_PG_FILES = """
CASE
  WHEN jsonb_typeof(e.artifacts -> 'files_changed') = 'number' THEN (e.artifacts ->> 'files_changed')::numeric
  WHEN jsonb_typeof(e.artifacts -> 'files') = 'array' THEN jsonb_array_length(e.artifacts -> 'files')
  WHEN jsonb_typeof(e.artifacts -> 'files') = 'object' THEN
      COALESCE(CASE WHEN jsonb_typeof(e.artifacts -> 'files' -> 'created') = 'array'
                    THEN jsonb_array_length(e.artifacts -> 'files' -> 'created') END, 0)
    + COALESCE(CASE WHEN jsonb_typeof(e.artifacts -> 'files' -> 'modified') = 'array'
                    THEN jsonb_array_length(e.artifacts -> 'files' -> 'modified') END, 0)
    + COALESCE(CASE WHEN jsonb_typeof(e.artifacts -> 'files' -> 'deleted') = 'array'
                    THEN jsonb_array_length(e.artifacts -> 'files' -> 'deleted') END, 0)
  WHEN e.artifacts IS NOT NULL THEN 0
END"""

_SQLITE_FILES = """
CASE
  WHEN json_type(e.artifacts, '$.files_changed') IN ('integer', 'real')
    THEN json_extract(e.artifacts, '$.files_changed')
  WHEN json_type(e.artifacts, '$.files') = 'array' THEN json_array_length(e.artifacts, '$.files')
  WHEN json_type(e.artifacts, '$.files') = 'object' THEN
      COALESCE(CASE WHEN json_type(e.artifacts, '$.files.created') = 'array'
                    THEN json_array_length(e.artifacts, '$.files.created') END, 0)
    + COALESCE(CASE WHEN json_type(e.artifacts, '$.files.modified') = 'array'
                    THEN json_array_length(e.artifacts, '$.files.modified') END, 0)
    + COALESCE(CASE WHEN json_type(e.artifacts, '$.files.deleted') = 'array'
                    THEN json_array_length(e.artifacts, '$.files.deleted') END, 0)
  WHEN e.artifacts IS NOT NULL THEN 0
END"""

_HEALTH = """
CREATE VIEW sys_scenario_health_view AS
SELECT
    object_type,
    COUNT(*) AS total_scenarios,
    AVG(automation_level * 1.0) AS avg_automation,
    SUM(CASE WHEN automation_level >= 80 THEN 1 ELSE 0 END) AS highly_automated,
    SUM(CASE WHEN automation_level = 0 THEN 1 ELSE 0 END) AS manual_only
FROM sys_scenarios
WHERE archived_at IS NULL
GROUP BY object_type
"""

VIEWS = {
    "postgresql": [
        f"""
CREATE VIEW sys_scenario_impact_view AS
SELECT
    s.scenario_id,
    s.name,
    s.object_type,
    COALESCE(cardinality(s.dependencies), 0) AS direct_dependencies,
    COUNT(e.id) AS total_executions,
    AVG(EXTRACT(EPOCH FROM (e.completed_at - e.started_at))) AS avg_duration_seconds,
    AVG({_PG_FILES}) AS avg_files_changed
FROM sys_scenarios s
LEFT JOIN sys_scenario_executions e ON e.scenario_id = s.scenario_id AND e.kind = 'scenario'
WHERE s.archived_at IS NULL
GROUP BY s.scenario_id, s.name, s.object_type, s.dependencies
""",
        _HEALTH,
    ],
    "sqlite": [
        f"""
CREATE VIEW sys_scenario_impact_view AS
SELECT
    s.scenario_id,
    s.name,
    s.object_type,
    COALESCE(json_array_length(s.dependencies), 0) AS direct_dependencies,
    COUNT(e.id) AS total_executions,
    AVG((julianday(e.completed_at) - julianday(e.started_at)) * 86400.0) AS avg_duration_seconds,
    AVG({_SQLITE_FILES}) AS avg_files_changed
FROM sys_scenarios s
LEFT JOIN sys_scenario_executions e ON e.scenario_id = s.scenario_id AND e.kind = 'scenario'
WHERE s.archived_at IS NULL
GROUP BY s.scenario_id, s.name, s.object_type, s.dependencies
""",
        _HEALTH,
    ],
}

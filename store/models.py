"""The tracking tables (SQLAlchemy 2 typed models).

`Base.metadata` is shared: another part may declare its own tables on `Base` and add them in a later Alembic
revision. The schema itself is created only by the migrations in `continuous/migrations`; a test compares the two.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from continuous.common.status import EXECUTION_STATUSES as EXECUTION_STATUSES
from continuous.store.types import GUID, JSONDoc, TextList, UTCDateTime, new_id, utcnow
from sqlalchemy import ForeignKey, Index, Integer, MetaData, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


EXECUTION_KINDS = ("run", "scenario")
TASK_STATUSES = ("open", "closed", "wontfix")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ScenarioRow(Base):
    """One scenario of the rule base as last synchronised (`continuous registry sync`)."""

    __tablename__ = "sys_scenarios"

    id: Mapped[str] = mapped_column(GUID, primary_key=True, default=new_id)
    scenario_id: Mapped[str] = mapped_column(Text, unique=True)
    object_type: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    dependencies: Mapped[list[str] | None] = mapped_column(TextList)
    preconditions: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    steps: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    validations: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    automation_level: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    estimate_seconds: Mapped[int | None] = mapped_column(Integer)
    manual_effort_seconds: Mapped[int | None] = mapped_column(Integer)
    content_hash: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=text("CURRENT_TIMESTAMP"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=text("CURRENT_TIMESTAMP"))


class ExecutionRow(Base):
    """A `run` (what the user asked for, holding the plan) or a `scenario` execution (one plan item, owning
    steps).
    """

    __tablename__ = "sys_scenario_executions"
    __table_args__ = (
        Index("ix_sys_scenario_executions_scenario_started", "scenario_id", "started_at"),
        Index("ix_sys_scenario_executions_worktree_status", "worktree_path", "status"),
        Index("ix_sys_scenario_executions_parent_id", "parent_id"),
        Index("ix_sys_scenario_executions_started_at", "started_at"),
    )

    id: Mapped[str] = mapped_column(GUID, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(Text, default="scenario", server_default=text("'scenario'"))
    parent_id: Mapped[str | None] = mapped_column(
        GUID, ForeignKey("sys_scenario_executions.id", name="fk_sys_scenario_executions_parent_id")
    )
    scenario_id: Mapped[str | None] = mapped_column(
        Text, ForeignKey("sys_scenarios.scenario_id", name="fk_sys_scenario_executions_scenario_id")
    )
    worktree_path: Mapped[str | None] = mapped_column(Text)
    branch: Mapped[str | None] = mapped_column(Text)
    executed_by: Mapped[str | None] = mapped_column(Text)
    parameters: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    plan: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    rule_base_hash: Mapped[str | None] = mapped_column(Text)
    head_commit: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=text("CURRENT_TIMESTAMP"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(Text)
    checkpoints: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    artifacts: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    error_details: Mapped[str | None] = mapped_column(Text)

    steps: Mapped[list[StepRow]] = relationship(order_by="StepRow.step_number", lazy="selectin", viewonly=True)


class StepRow(Base):
    __tablename__ = "sys_scenario_step_executions"
    __table_args__ = (Index("ix_sys_scenario_step_executions_execution_id", "execution_id"),)

    id: Mapped[str] = mapped_column(GUID, primary_key=True, default=new_id)
    execution_id: Mapped[str] = mapped_column(
        GUID,
        ForeignKey("sys_scenario_executions.id", name="fk_sys_scenario_step_executions_execution_id"),
        nullable=True,
    )
    step_number: Mapped[int] = mapped_column(Integer)
    step_name: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=text("CURRENT_TIMESTAMP"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(Text)
    output: Mapped[str | None] = mapped_column(Text)
    checkpoint_commit: Mapped[str | None] = mapped_column(Text)


class ArchivedItemRow(Base):
    __tablename__ = "sys_archived_items"

    id: Mapped[str] = mapped_column(GUID, primary_key=True, default=new_id)
    item_type: Mapped[str] = mapped_column(Text)
    item_path: Mapped[str] = mapped_column(Text)
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=text("CURRENT_TIMESTAMP"))
    archived_by: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[Any] = mapped_column("metadata", JSONDoc, nullable=True)
    restored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    execution_id: Mapped[str | None] = mapped_column(
        GUID, ForeignKey("sys_scenario_executions.id", name="fk_sys_archived_items_execution_id")
    )
    # the execution that restored it: when that execution is rolled back, the item is archived again
    restored_by: Mapped[str | None] = mapped_column(GUID)


class EventRow(Base):
    """Something that happened to an execution after it finished, e.g. `rollback`. The execution keeps its own
    outcome and duration; its history is the row plus its events."""

    __tablename__ = "sys_execution_events"
    __table_args__ = (Index("ix_sys_execution_events_execution_id", "execution_id"),)

    id: Mapped[str] = mapped_column(GUID, primary_key=True, default=new_id)
    execution_id: Mapped[str] = mapped_column(
        GUID, ForeignKey("sys_scenario_executions.id", name="fk_sys_execution_events_execution_id")
    )
    kind: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=text("CURRENT_TIMESTAMP"))
    by: Mapped[str | None] = mapped_column(Text)
    details: Mapped[Any] = mapped_column(JSONDoc, nullable=True)


class TaskRow(Base):
    """A development task; at most one open task per `dedup_key` (partial unique index)."""

    __tablename__ = "dev_tasks"
    __table_args__ = (
        Index(
            "uq_dev_tasks_open_dedup_key",
            "dedup_key",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_dev_tasks_status", "status"),
    )

    id: Mapped[str] = mapped_column(GUID, primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="open", server_default=text("'open'"))
    worktree: Mapped[str | None] = mapped_column(Text)
    execution_id: Mapped[str | None] = mapped_column(
        GUID, ForeignKey("sys_scenario_executions.id", name="fk_dev_tasks_execution_id")
    )
    dedup_key: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=text("CURRENT_TIMESTAMP"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[str | None] = mapped_column(Text)


class PortRow(Base):
    """A port held by one owner in one worktree; the UNIQUE constraint, not a Python lock, stops reuse."""

    __tablename__ = "sys_port_registry"
    __table_args__ = (UniqueConstraint("port", name="uq_sys_port_registry_port"),)

    id: Mapped[str] = mapped_column(GUID, primary_key=True, default=new_id)
    port: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(Text)
    worktree: Mapped[str | None] = mapped_column(Text)
    allocated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=text("CURRENT_TIMESTAMP")
    )


TRACKING_TABLES = (
    "sys_scenarios",
    "sys_scenario_executions",
    "sys_scenario_step_executions",
    "sys_archived_items",
    "dev_tasks",
    "sys_port_registry",
    "sys_execution_events",
)
EVENT_KINDS = ("rollback",)
VIEWS = ("sys_scenario_impact_view", "sys_scenario_health_view")

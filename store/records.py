"""What the store hands out: plain pydantic records, detached from any database session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from continuous.common.status import ExecutionStatus, StepStatus
from pydantic import BaseModel, ConfigDict, Field


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)


class StepRecord(Record):
    id: str
    execution_id: str
    step_number: int
    step_name: str
    status: StepStatus
    started_at: datetime
    completed_at: datetime | None = None
    output: str | None = None
    checkpoint_commit: str | None = None


class ExecutionRecord(Record):
    """One execution row; `steps` and `children` are filled by `get_execution` (empty in lists)."""

    id: str
    kind: str
    scenario_id: str | None
    parent_id: str | None = None
    worktree: str | None = None
    branch: str | None = None
    executed_by: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    plan: Any = None
    rule_base_hash: str | None = None
    head_commit: str | None = None
    status: ExecutionStatus
    started_at: datetime
    completed_at: datetime | None = None
    checkpoints: list[Any] = Field(default_factory=list)
    artifacts: Any = None
    error_details: str | None = None
    steps: list[StepRecord] = Field(default_factory=list)
    children: list[ExecutionRecord] = Field(default_factory=list)

    @property
    def duration_seconds(self) -> float | None:
        if self.completed_at is None:
            return None
        return (self.completed_at - self.started_at).total_seconds()


class ScenarioRecord(Record):
    id: str
    scenario_id: str
    object_type: str
    name: str
    description: str | None = None
    dependencies: list[str] = Field(default_factory=list)
    automation_level: int = 0
    estimate_seconds: int | None = None
    manual_effort_seconds: int | None = None
    content_hash: str | None = None
    archived_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class SyncReport(Record):
    added: list[str] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    archived: list[str] = Field(default_factory=list)
    restored: list[str] = Field(default_factory=list)


class ScenarioStats(Record):
    """History of one scenario's finished executions, for dry-run estimates (seconds; None without history)."""

    executions: int
    successes: int
    failures: int
    median_seconds: float | None = None
    p90_seconds: float | None = None


class PortRecord(Record):
    port: int
    owner: str
    worktree: str | None = None
    allocated_at: datetime


class TaskRecord(Record):
    id: str
    title: str
    description: str | None = None
    source: str
    status: str
    worktree: str | None = None
    execution_id: str | None = None
    dedup_key: str | None = None
    created_at: datetime
    closed_at: datetime | None = None
    close_reason: str | None = None


class ArchivedRecord(Record):
    id: str
    item_type: str
    item_path: str
    archived_at: datetime
    archived_by: str | None = None
    reason: str | None = None
    metadata: dict[str, Any] | None = None
    restored_at: datetime | None = None
    execution_id: str | None = None
    restored_by: str | None = None
    # archived | restored | rolled_back (the archiving execution was rolled back); events decide, see the store
    state: str = "archived"


class EventRecord(Record):
    """Something that happened to an execution after it ran (`rollback`)."""

    id: str
    execution_id: str
    kind: str
    created_at: datetime
    by: str | None = None
    details: dict[str, Any] | None = None


class StoreInfo(Record):
    url: str
    backend: str
    source: str
    revision: str | None
    head: str
    counts: dict[str, int]

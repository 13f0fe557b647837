"""Typed results of the executor, shared by the CLI's `--json` output and the Python API."""

from __future__ import annotations

from typing import Any

from continuous.common.status import ExecutionStatus, StepStatus
from continuous.dsl.model import Scalar
from continuous.engine.plan import SavedPlan
from pydantic import BaseModel, ConfigDict, Field


class Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class FileEffect(Result):
    path: str
    change: str  # created | modified | deleted
    diff: str = ""
    step: str = ""
    sha256: str | None = None  # of the predicted content (None when deleted)


class PlannedStep(Result):
    item: int
    scenario: str
    number: int
    name: str
    kind: str
    action: str
    files: list[str] = Field(default_factory=list)
    predicted: bool = True


class PlannedItem(Result):
    index: int
    scenario: str
    params: dict[str, Scalar]
    role: str
    reason: str
    after: list[int] = Field(default_factory=list)
    group: int = 0
    estimate_seconds: float | None = None
    estimate_source: str = "unknown"


class Systems(Result):
    apps: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    tables: list[str] = Field(default_factory=list)
    ports: list[int] = Field(default_factory=list)
    pipelines: list[str] = Field(default_factory=list)


class ConventionUsed(Result):
    """A layout convention the plan's files or parameters read, and where its value came from."""

    key: str
    value: str | list[str]
    source: str  # file | detected | default
    evidence: str


class Risk(Result):
    level: str
    reasons: list[str] = Field(default_factory=list)


class DryRunReport(Result):
    """Everything a run would do, computed without changing anything."""

    dry_run: bool = True
    head: str
    rule_base_hash: str
    worktree: str
    branch: str | None
    items: list[PlannedItem]
    skipped: list[dict[str, Any]] = Field(default_factory=list)
    branches: list[list[int]] = Field(default_factory=list)
    steps: list[PlannedStep]
    files: list[FileEffect]
    systems: Systems
    estimate_seconds: float | None
    estimate_sources: list[str] = Field(default_factory=list)
    risk: Risk
    problems: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    plan: SavedPlan | None = None
    conventions: list[ConventionUsed] = Field(default_factory=list)

    def files_changed(self) -> dict[str, str]:
        return {f.path: f.change for f in self.files}

    def render(self, *, diffs: bool = True) -> str:
        from continuous.engine.report import render_dry_run

        return render_dry_run(self, diffs=diffs)


class StepResult(Result):
    number: int
    name: str
    kind: str
    status: StepStatus
    output: str = ""
    seconds: float = 0.0
    checkpoint: str | None = None
    files: list[str] = Field(default_factory=list)


class ItemResult(Result):
    index: int
    scenario: str
    params: dict[str, Scalar]
    execution_id: str | None
    status: ExecutionStatus
    steps: list[StepResult] = Field(default_factory=list)


class Artifacts(Result):
    created: list[str] = Field(default_factory=list)
    modified: list[str] = Field(default_factory=list)
    deleted: list[str] = Field(default_factory=list)

    def stored(self, **extra: Any) -> dict[str, Any]:
        """The store's artifacts format (docs/contracts.md): files by change kind plus their count, which the
        impact view and analytics average."""
        files = self.model_dump()
        return {"files": files, "files_changed": sum(len(v) for v in files.values()), **extra}

    @classmethod
    def from_stored(cls, data: Any) -> Artifacts:
        """Read either the store format or a bare {created, modified, deleted} mapping."""
        if not isinstance(data, dict):
            return cls()
        nested = data.get("files")
        files: dict[str, Any] = nested if isinstance(nested, dict) else data
        return cls(**{k: list(files.get(k) or []) for k in ("created", "modified", "deleted")})


class ExecutionResult(Result):
    execution_id: str
    status: ExecutionStatus
    worktree: str
    branch: str | None
    items: list[ItemResult]
    artifacts: Artifacts
    checkpoints: list[str] = Field(default_factory=list)
    commit: str | None = None
    commit_error: str | None = None  # --commit was asked for and refused (e.g. by a hook); the changes stay
    pending_migrations: list[str] = Field(default_factory=list)
    ports: list[int] = Field(default_factory=list)
    branches: list[list[int]] = Field(default_factory=list)  # independent parts of the plan (item indexes)
    error: str | None = None
    seconds: float = 0.0
    refreshed: list[str] = Field(default_factory=list)  # living documents rewritten after the run
    warnings: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Success, or nothing to do because everything asked for already holds."""
        return self.status in ("success", "skipped")


class RollbackResult(Result):
    execution_id: str
    status: ExecutionStatus
    restored: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

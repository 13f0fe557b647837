"""The run journal: a small JSON file in the worktree's git directory, rewritten atomically before every change.

It is what makes a run recoverable after `kill -9`, and it is the truth about a run: which items and steps
completed, which step was running (and what it was about to write), and — for every path the execution touched —
the blob id of its content before the execution (or null if it did not exist), saved in git's object store and
kept reachable by a ref. The tracking store is a record of the journal: when the store is missing rows or could
not be written, recovery rewrites the rows from the journal.

Status: `running` (a process runs it, or it was killed), `interrupted` (stopped on request, resumable),
`rolling_back`, `success`, `rolled_back`. A run whose journal reached an end state but whose store record may
lag behind has a marker file `<id>.unrecorded` beside the journal; the next command that takes the worktree
finishes the record.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from continuous.common import faults
from continuous.common.errors import UserError
from continuous.common.status import RESUMABLE, SETTLED, RunStatus
from continuous.common.status import ExecutionStatus as ItemStatus
from continuous.dsl.model import Scalar
from continuous.engine.plan import FrozenPlan
from continuous.engine.worktree import Workspace
from pydantic import BaseModel, ConfigDict, Field

JOURNAL_VERSION = 3


class _Part(BaseModel):
    """Journal parts are mutable (the journal is rewritten as the run goes) and keep unknown keys, so a journal
    written by a newer version survives a round trip through this one."""

    model_config = ConfigDict(extra="allow", validate_assignment=False)


class Original(_Part):
    """A touched path before the execution: its saved blob (None: it did not exist) and file mode."""

    blob: str | None = None
    mode: int | None = None


class CommandSnapshot(_Part):
    """The worktree before a command: status and hash of each dirty path, the saved content of those not seen yet,
    their index entries, and the untracked folders (so the command's changes can be told from the user's)."""

    hashes: dict[str, str] = Field(default_factory=dict)
    saved: dict[str, str | None] = Field(default_factory=dict)
    index: dict[str, str] = Field(default_factory=dict)
    dirs: list[str] | None = None
    ignored: list[str] | None = None  # files git ignores (dependency folders aside)


class CurrentStep(_Part):
    """The step in progress: what it is about to write (sha256 of each path's new content) or the snapshot
    before its command, and the paths first seen during it."""

    item: int
    step: int
    step_id: str | None = None
    kind: str
    remembered: list[str] = Field(default_factory=list)
    writes: dict[str, str | None] | None = None
    snapshot: CommandSnapshot | None = None


class Checkpoint(_Part):
    n: int
    item: int
    step: int
    step_id: str
    commit: str
    paths: list[str] = Field(default_factory=list)
    ref: str


class ItemTimes(_Part):
    started: float | None = None
    finished: float | None = None


class Committing(_Part):
    """A `--commit` under way: the parent it is made on and the paths it holds."""

    parent: str | None
    paths: list[str]


class RollbackState(_Part):
    """A rollback, after a failure or on request; `done` lists the rollback steps already run (`item:step`)."""

    manual: bool
    prior: str | None = None
    forced: bool = False
    reason: str | None = None
    failing: int | None = None
    outcome: ItemStatus = "failed"
    event: str
    stopped_at: float | None = None
    by: str | None = None
    done: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    at: float | None = None
    restored: int = 0
    removed: int = 0
    details: str | None = None


class RunJournal(_Part):
    """The journal of one execution (see the module docstring); field names are the keys on disk."""

    version: int = JOURNAL_VERSION
    execution_id: str
    status: RunStatus = "running"
    pid: int | None = None
    pid_start: str | None = None
    root: str
    branch: str | None = None
    head: str
    now: str
    commit: bool = False
    commit_message: str | None = None
    plan: FrozenPlan
    top: str | None = None
    top_params: dict[str, Scalar] = Field(default_factory=dict)
    executed_by: str | None = None
    children: dict[str, str] = Field(default_factory=dict)
    items: dict[str, ItemStatus] = Field(default_factory=dict)
    item_times: dict[str, ItemTimes] = Field(default_factory=dict)
    done: dict[str, list[int]] = Field(default_factory=dict)
    current: CurrentStep | None = None
    originals: dict[str, Original] = Field(default_factory=dict)
    created_dirs: list[str] = Field(default_factory=list)
    checkpoints: list[Checkpoint] = Field(default_factory=list)
    pending_sql: list[str] = Field(default_factory=list)
    ports: list[int] = Field(default_factory=list)
    index_originals: dict[str, str | None] = Field(default_factory=dict)
    started: float | None = None
    updated: float | None = None
    finished: float | None = None
    clock: tuple[str | None, str] | None = None
    final: str | None = None
    commit_sha: str | None = None
    commit_error: str | None = None
    committing: Committing | None = None
    message: str | None = None
    rollback: RollbackState | None = None


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """A journal as an older version wrote it, in the current shape. Version 2 (untyped) had the same keys;
    what it may lack is filled in: a rollback's event id (stable, so the store's rollback event stays
    idempotent), and a pid_start read as text."""
    version = int(data.get("version") or 2)
    if version > JOURNAL_VERSION:
        return data  # a newer version's journal: its extra keys are kept, the known ones read as they are
    out = dict(data)
    if version < 3:
        rb = out.get("rollback")
        if isinstance(rb, dict):
            rb = dict(rb)
            rb.setdefault("event", str(uuid.uuid5(uuid.NAMESPACE_URL, f"continuous:{out.get('execution_id')}")))
            rb.setdefault("manual", True)
            out["rollback"] = rb
        if out.get("pid_start") is not None:
            out["pid_start"] = str(out["pid_start"])
        out["version"] = JOURNAL_VERSION
    return out


def read_journal(path: Path) -> RunJournal:
    """A journal file, migrated and validated; ValueError when it is not one."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError("not a JSON object")
    return RunJournal.model_validate(migrate(raw))


__all__ = ["RESUMABLE", "SETTLED", "ItemStatus", "RunStatus"]


class Journal:
    """A run's journal file and its typed content."""

    def __init__(self, path: Path, data: RunJournal) -> None:
        self.path = path
        self.data = data

    @staticmethod
    def runs_dir(ws: Workspace) -> Path:
        return ws.state_dir / "runs"

    @staticmethod
    def path_for(ws: Workspace, execution_id: str) -> Path:
        return ws.state_dir / "runs" / f"{execution_id}.json"

    @classmethod
    def create(cls, ws: Workspace, execution_id: str, data: RunJournal) -> Journal:
        journal = cls(cls.path_for(ws, execution_id), data)
        journal.save()
        return journal

    @classmethod
    def load(cls, ws: Workspace, execution_id: str) -> Journal:
        return cls.load_path(cls.path_for(ws, execution_id), ws)

    @classmethod
    def load_path(cls, path: Path, ws: Workspace) -> Journal:
        try:
            data = read_journal(path)
        except FileNotFoundError:
            raise UserError(
                f"execution {path.stem} has no journal in this worktree ({ws.root})",
                hint="run the command in the worktree where the execution ran",
            ) from None
        except ValueError as exc:
            raise UserError(f"the journal {path} is damaged: {exc}") from None
        return cls(path, data)

    @classmethod
    def find(cls, ws: Workspace, key: str) -> str | None:
        """The execution id of the journal whose run (or one of whose items) has id `key` or starts with it."""
        key = key.strip().lower()
        runs = cls.runs_dir(ws)
        if not runs.is_dir() or len(key) < 4:
            return None
        exact = runs / f"{key}.json"
        if exact.is_file():
            return key
        matches = sorted(p.stem for p in runs.glob(f"{key}*.json"))
        if len(matches) > 1:
            raise UserError(f"execution id prefix {key!r} is ambiguous", hint="give more characters of the id")
        if matches:
            return matches[0]
        for path in runs.glob("*.json"):  # an item's id: a scenario execution inside a run
            try:
                children = json.loads(path.read_text(encoding="utf-8")).get("children", {})
            except (OSError, ValueError):
                continue
            if any(str(c).startswith(key) for c in children.values()):
                return path.stem
        return None

    def save(self) -> None:
        with faults.around("journal.save"):
            self._write()

    def _write(self) -> None:
        self.data.updated = time.time()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.data.model_dump(mode="json"), fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    # -- the record marker
    @property
    def marker(self) -> Path:
        return self.path.with_suffix(".unrecorded")

    def mark_unrecorded(self) -> None:
        """Before an end state is written: the store may lag behind the journal from here on."""
        self.marker.parent.mkdir(parents=True, exist_ok=True)
        self.marker.touch()

    def mark_recorded(self) -> None:
        self.marker.unlink(missing_ok=True)

    @classmethod
    def unrecorded(cls, ws: Workspace) -> list[str]:
        runs = cls.runs_dir(ws)
        return sorted(p.stem for p in runs.glob("*.unrecorded")) if runs.is_dir() else []

    @property
    def status(self) -> RunStatus:
        return self.data.status

    @property
    def rollback_state(self) -> RollbackState:
        """The rollback under way (only called once `roll_back` has started one)."""
        assert self.data.rollback is not None
        return self.data.rollback

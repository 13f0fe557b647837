"""One execution's state, backed by its journal: the originals of every touched path, what a command changed,
the facts known so far, and the store rows that record it (shared by the runner and recovery)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from continuous.common.errors import ContinuousError
from continuous.common.status import ExecutionStatus, StepStatus
from continuous.engine import git
from continuous.engine.checkpoint import Checkpointer, hash_files, keep_blobs, read_blob, save_blobs
from continuous.engine.facts import FactSet
from continuous.engine.plan import FrozenPlan
from continuous.engine.results import Artifacts, ItemResult, StepResult
from continuous.engine.run import record as run_record
from continuous.engine.run.journal import Checkpoint, CommandSnapshot, Journal, Original
from continuous.engine.worktree import RunLock, dirty_paths

if TYPE_CHECKING:
    from continuous.engine.executor import Executor


class RunStopped(Exception):
    """A stop was requested (Ctrl-C, SIGTERM): the run stops between steps and stays resumable."""


def tmp_of(full: Path) -> Path:
    """The temporary file `steps.write_changes` writes before renaming it into place."""
    return full.with_name(f".{full.name}.continuous-tmp")


class RunStateBase:
    """One execution, backed by its journal (so that another process can pick it up at any instant)."""

    def __init__(self, ex: Executor, journal: Journal, plan: FrozenPlan, lock: RunLock | None) -> None:
        self.ex = ex
        self.journal = journal
        self.plan = plan
        self.lock = lock
        self.run_id: str = journal.data.execution_id
        self.root = ex.root
        self.now = datetime.fromisoformat(journal.data.now)
        self.checkpointer = Checkpointer(
            self.root,
            ex.ws.state_dir,
            self.run_id,
            parent=journal.data.checkpoints[-1].commit if journal.data.checkpoints else None,
        )
        self.results: dict[int, list[StepResult]] = {}
        self._facts: FactSet | None = None
        self.recorded_items: set[int] = set()  # items this process has recorded as finished already

    # -- journal views
    @property
    def children(self) -> dict[int, str]:
        return {int(k): v for k, v in self.journal.data.children.items()}

    @property
    def item_status(self) -> dict[int, ExecutionStatus]:
        return {int(k): v for k, v in self.journal.data.items.items()}

    @property
    def originals(self) -> dict[str, Original]:
        return self.journal.data.originals

    @property
    def started_at(self) -> datetime:
        return datetime.fromtimestamp(float(self.journal.data.started or time.time()), UTC)

    def touched(self) -> set[str]:
        return set(self.originals)

    def done(self, i: int) -> list[int]:
        return list(self.journal.data.done.get(str(i), []))

    def last_checkpoint(self) -> str | None:
        checkpoints = self.journal.data.checkpoints
        return str(checkpoints[-1].commit) if checkpoints else None

    def check_stop(self) -> None:
        if self.ex.stop_requested:
            raise RunStopped("stop requested")

    # -- originals
    def remember(self, paths: Iterable[str], *, saved: dict[str, str | None] | None = None) -> None:
        """Record the pre-execution content of paths seen for the first time (before they change). The blobs
        are reachable from a ref before the journal names them."""
        new = [p for p in dict.fromkeys(paths) if p not in self.originals]
        if not new:
            return
        if saved is None:
            existing = [p for p in new if (self.root / p).is_file()]
            blobs: dict[str, str | None] = dict(save_blobs(self.root, existing))
        else:
            blobs = saved
        self.keep({p: b for p, b in blobs.items() if b and p in new})
        current = self.journal.data.current
        for p in new:
            full = self.root / p
            blob = blobs.get(p)
            mode = full.stat().st_mode & 0o7777 if blob is not None and full.exists() else None
            self.originals[p] = Original(blob=blob, mode=mode)
            if current is not None:
                current.remembered.append(p)
            if blob is None:
                parent = full.parent
                while parent != self.root and not parent.exists():
                    rel = str(parent.relative_to(self.root))
                    if rel not in self.journal.data.created_dirs:
                        self.journal.data.created_dirs.append(rel)
                    parent = parent.parent

    def keep(self, blobs: dict[str, str]) -> None:
        """Make saved blobs reachable from refs (`refs/continuous/<id>/kept/<blob>`) before anything names them."""
        keep_blobs(self.root, self.run_id, blobs.values())

    def differs_from_original(self, path: str) -> bool:
        orig = self.originals[path]
        full = self.root / path
        current = full.read_bytes() if full.is_file() else None
        if orig.blob is None:
            return current is not None
        return current is None or current != read_blob(self.root, orig.blob)

    def snapshot_dirty(self) -> CommandSnapshot:
        """Before a command: status + hash of every dirty path, their index entries, and the saved content of
        those not seen yet (a command may change the index too, e.g. `git mv`)."""
        dirty = dirty_paths(self.root)
        existing = [p for p in dirty if (self.root / p).is_file()]
        hashes = hash_files(self.root, existing)
        unseen = [p for p in existing if p not in self.originals]
        saved = save_blobs(self.root, unseen)
        self.keep(saved)
        return CommandSnapshot(
            hashes={p: f"{status}:{hashes.get(p)}" for p, status in dirty.items()},
            saved=dict(saved),
            index=git.index_entries(self.root, list(dirty)),
            dirs=git.untracked_dirs(self.root),
            ignored=git.ignored_files(self.root),
        )

    def reconcile_command(self, snapshot: CommandSnapshot) -> tuple[list[str], dict[str, str | None]]:
        """Paths a command changed since the snapshot, remembered with their originals (content and index);
        also the index entries those paths had before the command, where the command changed them."""
        before: dict[str, str] = snapshot.hashes
        dirty = dirty_paths(self.root)
        existing = [p for p in dirty if (self.root / p).is_file()]
        hashes = hash_files(self.root, existing)
        after = {p: f"{status}:{hashes.get(p)}" for p, status in dirty.items()}
        changed = sorted(p for p in set(before) | set(after) if before.get(p, "clean") != after.get(p, "clean"))
        saved: dict[str, str | None] = {}
        for p in changed:
            if p in self.originals:
                continue
            if p in before:
                saved[p] = snapshot.saved.get(p)
            else:
                saved[p] = git.head_blob(self.root, p)
        self.remember([p for p in changed if p not in self.originals], saved=saved)
        gone = [p for p in saved if saved[p] is not None and self.originals[p].mode is None]
        if gone:  # a file the command removed keeps the mode it had (an executable script stays executable)
            entries = {
                **git.head_entries(self.root, [p for p in gone if p not in before]),
                **{p: snapshot.index.get(p) for p in gone if p in before},
            }
            for p in gone:
                mode = (entries.get(p) or "").split(" ")[0]
                if mode in ("100755", "100644"):
                    self.originals[p].mode = int(mode[-3:], 8)
        if snapshot.ignored is not None:  # what a command created where git does not look (an archive folder)
            seen = set(snapshot.ignored)
            made = [p for p in git.ignored_files(self.root) if p not in seen]
            self.remember([p for p in made if p not in self.originals], saved=dict.fromkeys(made))
            changed = sorted(set(changed) | set(made))
        if snapshot.dirs is not None:  # folders a command created, empty ones included (git status does not show them)
            known = set(snapshot.dirs)
            for top in git.untracked_dirs(self.root):
                if top in known or not (self.root / top).is_dir():
                    continue
                found = [top, *(str(d.relative_to(self.root)) for d in (self.root / top).rglob("*") if d.is_dir())]
                for d in found:
                    if d not in self.journal.data.created_dirs:
                        self.journal.data.created_dirs.append(d)
        index_originals: dict[str, str | None] = self.journal.data.index_originals
        index_before: dict[str, str | None] = {}
        if changed:
            now = git.index_entries(self.root, changed)
            clean = [p for p in changed if p not in before]
            head = git.head_entries(self.root, clean)
            for p in changed:
                was = snapshot.index.get(p) if p in before else head.get(p)
                if now.get(p) != was:
                    index_before[p] = was
                    index_originals.setdefault(p, was)
        return changed, index_before

    def _put(self, path: str, data: bytes | None, mode: int | None) -> bool:
        """Make `path` hold `data` (None: absent); True when something changed."""
        full = self.root / path
        if data is None:
            if full.is_file() or full.is_symlink():
                full.unlink()
                return True
            return False
        current = full.read_bytes() if full.is_file() else None
        changed = False
        if current != data:
            full.parent.mkdir(parents=True, exist_ok=True)
            full.write_bytes(data)
            changed = True
        if mode is not None and (full.stat().st_mode & 0o7777) != mode:
            os.chmod(full, mode)
        return changed

    # -- the tracking store, a record of the journal
    def _quietly(self, write: Callable[..., Any], *args: Any, **kwargs: Any) -> str | None:
        """A store write that must not stop the files from being put right; its error, if any."""
        try:
            write(*args, **kwargs)
        except (ContinuousError, OSError) as exc:
            return getattr(exc, "message", str(exc))
        return None

    def ensure_rows(self) -> None:
        run_record.ensure_rows(self)

    def close_rows(self, status: StepStatus, note: str) -> None:
        run_record.close_rows(self, status, note)

    def finish_items(self) -> None:
        run_record.finish_items(self)

    def record(self) -> None:
        run_record.record(self)

    def record_safely(self) -> str | None:
        return run_record.record_safely(self)

    # -- facts
    def fact_set(self) -> FactSet:
        if self._facts is None:
            self._facts = FactSet(self.ex.facts())
            from continuous.engine.resolution import provided_facts

            for i, item in enumerate(self.plan.items):
                if self.item_status.get(i) == "success":
                    for f in provided_facts(self.ex.scenario(item.scenario), item.params):
                        self._facts.add(f)
        return self._facts

    def item_paths(self, i: int) -> list[str]:
        return sorted({p for c in self.journal.data.checkpoints if c.item == i for p in c.paths})

    def item_checkpoints(self, i: int) -> list[Checkpoint]:
        return [c for c in self.journal.data.checkpoints if c.item == i]

    def add_result(self, i: int, result: StepResult) -> None:
        self.results.setdefault(i, []).append(result)

    # -- endings
    def artifacts(self, paths: Iterable[str] | None = None) -> Artifacts:
        created, modified, deleted = [], [], []
        for p in sorted(self.touched() if paths is None else paths):
            orig = self.originals.get(p)
            if orig is None or not self.differs_from_original(p):
                continue
            exists = (self.root / p).exists()
            if orig.blob is None:
                created.append(p)
            elif exists:
                modified.append(p)
            else:
                deleted.append(p)
        return Artifacts(created=created, modified=modified, deleted=deleted)

    def items_result(self, statuses: dict[int, ExecutionStatus]) -> list[ItemResult]:
        return [
            ItemResult(
                index=i,
                scenario=item.scenario,
                params=item.params,
                execution_id=self.children.get(i),
                status=statuses.get(i, "skipped"),
                steps=self.results.get(i, []),
            )
            for i, item in enumerate(self.plan.items)
        ]

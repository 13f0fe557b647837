"""Recovery: resume a killed or interrupted run from its last completed step, and roll a run back.

Both take the worktree's run lock before they read the journal, so a concurrent resume or rollback is refused
instead of racing; both re-create whatever store rows are missing from the journal first.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from continuous.common import faults
from continuous.common.errors import ContinuousError, UserError
from continuous.engine import git, planning
from continuous.engine import steps as st
from continuous.engine.checkpoint import drop_kept, hash_files, keep_originals, read_blob
from continuous.engine.facts import FactQuery
from continuous.engine.planning import item_now
from continuous.engine.results import ExecutionResult, RollbackResult
from continuous.engine.run import events as ev
from continuous.engine.run.journal import SETTLED, Journal, RollbackState
from continuous.engine.run.state import RunStateBase, tmp_of
from continuous.engine.stepkinds import kind_of, kind_of_current
from continuous.engine.worktree import RunLock, check_runnable, process_start

if TYPE_CHECKING:
    from continuous.engine.executor import Executor


class Recovery(RunStateBase):
    """Undoing a run's changes: the step in flight when it stopped, its rollback steps, every touched path."""

    # -- the step in progress when the run stopped
    def settle_in_flight(self, note: str, *, undo: bool) -> None:
        """Account for the step that was running when the process died: remember what a command changed, and
        with `undo` put its paths back as they were before the step (so that resume runs it again from a clean
        start). Its step row is closed as interrupted."""
        current = self.journal.data.current
        if not current:
            return
        paths, index_before = kind_of_current(current).revert(self, current)
        if undo:
            remembered = set(current.remembered or [])
            last = self.last_checkpoint()
            at_last = git.tree_blobs(self.root, last, paths) if last else {}
            for p in paths:
                if p not in self.originals:
                    continue
                blob = self.originals[p].blob if (p in remembered or last is None) else at_last.get(p)
                self._put(p, None if blob is None else read_blob(self.root, blob), self.originals[p].mode)
            git.set_index(self.root, index_before)
        for p in current.writes or {}:
            tmp_of(self.root / p).unlink(missing_ok=True)
        if current.step_id:
            self._quietly(self.ex.store().finish_step, current.step_id, "interrupted", output=note)
        self.journal.data.current = None
        self.journal.save()

    def changed_since_stop(self) -> list[str]:
        """Touched paths whose content is none the run can explain: not the original, not the last checkpoint,
        not what the step in progress was writing. Those are edits made after the run stopped."""
        paths = sorted(self.originals)
        if not paths:
            return []
        if self.journal.status == "success":
            last = self.journal.data.final or self.last_checkpoint()
        else:
            last = self.last_checkpoint()
        at_last = git.tree_blobs(self.root, last, paths) if last else {}
        current = self.journal.data.current
        writes: dict[str, str | None] = (current.writes if current else None) or {}
        existing = [p for p in paths if (self.root / p).is_file()]
        now = hash_files(self.root, existing)
        out = []
        for p in paths:
            blob = now.get(p) if p in existing else None
            if blob == self.originals[p].blob or (last is not None and blob == at_last.get(p)):
                continue
            if p in writes:
                full = self.root / p
                digest = hashlib.sha256(full.read_bytes()).hexdigest() if full.is_file() else None
                if digest == writes[p]:
                    continue
            out.append(p)
        return out

    # -- resuming
    def prepare_resume(self) -> None:
        """Before a resumed run continues: stale git locks of its private indexes removed, rows re-created,
        the step that was in progress put back as it was before it started, rows re-opened."""
        self.checkpointer.clear_stale_locks()
        self.ensure_rows()
        note = "interrupted: the process stopped during this step; resume runs it again"
        self.settle_in_flight(note, undo=True)
        self.finish_items()
        self.close_rows("interrupted", note)
        store = self.ex.store()
        self.journal.data.status = "running"
        self.journal.data.pid = os.getpid()
        self.journal.data.pid_start = process_start(os.getpid())
        self.journal.data.message = None
        self.journal.save()
        self.journal.mark_recorded()
        store.update_execution(self.run_id, status="running", reopen=True)
        for i, child in self.children.items():
            if self.item_status.get(i) != "success":
                store.update_execution(child, status="running", reopen=True)

    def roll_back(
        self, *, manual: bool, forced: bool = False, reason: str | None = None, failing: int | None = None
    ) -> tuple[list[str], list[str], str | None]:
        """The one place a run is undone, after a failure or on request, and again after a crash half-way
        through: the DSL rollback steps of the items that started (newest first), then every touched path back
        to its original content, index entries included. The journal says `rolling_back` before anything
        changes, so a crash here is finished by `continuous rollback`."""
        journal = self.journal
        if journal.status != "rolling_back":
            journal.data.rollback = RollbackState(
                manual=manual,
                prior=journal.status,
                forced=forced,
                reason=reason,
                failing=failing,
                outcome="failed",
                event=str(uuid.uuid4()),
                stopped_at=journal.data.finished or journal.data.updated,
                by=self.ex.executed_by,
            )
            if not manual:
                journal.data.message = reason
            journal.data.status = "rolling_back"
            journal.save()
        self.settle_in_flight("interrupted: the run was rolled back", undo=False)
        rb = journal.rollback_state
        started = [i for i in self.children if self.item_status.get(i) in ("success", "running")]
        rb.errors = list(rb.errors or []) + self.run_rollback_steps(started)
        restored, removed = self.restore()
        rb.errors += self.run_rollback_steps(started, after_restore=True)
        journal.mark_unrecorded()
        journal.data.status = "rolled_back"
        journal.data.current = None
        rb.at = time.time()
        rb.restored, rb.removed = len(restored), len(removed)
        if not manual:
            rb.details = (
                (reason or "failed")
                + "\nevery file the execution touched was restored"
                + ("\nrollback steps that failed: " + "; ".join(rb.errors) if rb.errors else "")
            )
        journal.save()
        planning.rewind_clock(self.ex, journal)
        self.checkpointer.discard_index()
        (self.ex.ws.state_dir / "index" / f"{self.run_id}.commit.index").unlink(missing_ok=True)
        drop_kept(self.root, self.run_id)
        return restored, removed, self.record_safely()

    def keep_originals(self) -> None:
        blobs = {p: o.blob for p, o in self.originals.items() if o.blob}
        keep_originals(self.root, self.ex.ws.state_dir, self.run_id, blobs)

    def run_rollback_steps(self, indexes: Iterable[int], *, after_restore: bool = False) -> list[str]:
        """Run the DSL rollback steps of the given items, newest first; failures are collected, not raised.
        Each step done is journaled, so a rollback resumed after a crash does not repeat it.

        `rollback finally` steps run after the touched files are restored, so they act on the original
        content (a reinstall from the restored lockfile)."""
        errors: list[str] = []
        store = self.ex.store()
        done: list[str] = self.journal.rollback_state.done
        for i in sorted(set(indexes), reverse=True):
            item = self.plan.items[i]
            sc = self.ex.scenario(item.scenario)
            steps = sc.rollback_finally if after_restore else sc.rollback
            if not steps:
                continue
            child = self.children.get(i)
            ctx = st.StepContext(self.root, sc, item.params, now=item_now(self.now, i), facts=FactQuery(self.fact_set))
            for k, step in enumerate(steps, 1 + (len(sc.rollback) if after_restore else 0)):
                key = f"{i}:{k}"
                if key in done:
                    continue
                step_id = str(uuid.uuid4())
                if child:
                    self._quietly(store.start_step, child, 1000 + k, f"rollback: {step.name}", step_id=step_id)
                try:
                    output = kind_of(step).apply(self, step, ctx, None, lambda: None).output
                    if child:
                        self._quietly(store.finish_step, step_id, "success", output=output)
                except ContinuousError as exc:
                    errors.append(f"{sc.id} > {step.name}: {exc.message}")
                    if child:
                        self._quietly(store.finish_step, step_id, "failed", output=exc.render())
                done.append(key)
                self.journal.save()
        return errors

    def restore(self) -> tuple[list[str], list[str]]:
        restored: list[str] = []
        removed: list[str] = []
        with faults.around("restore"):
            for path, orig in sorted(self.originals.items()):
                tmp_of(self.root / path).unlink(missing_ok=True)
                data = None if orig.blob is None else read_blob(self.root, orig.blob)
                if self._put(path, data, orig.mode):
                    (removed if data is None else restored).append(path)
            self._restore_index()
        dirs = sorted(
            set(self.journal.data.created_dirs) | {str(Path(p).parent) for p in removed},
            key=lambda d: d.count("/"),
            reverse=True,
        )
        for d in dirs:
            target = self.root / d
            while d not in ("", ".") and target != self.root:
                try:
                    target.rmdir()
                except OSError:
                    break
                target = target.parent
                d = str(Path(d).parent)
        self.ex.events.restored(ev.Restored(restored=restored, removed=removed))
        return restored, removed

    def _restore_index(self) -> None:
        """Undo index changes made by commands (`git mv`), entry by entry; nothing else in the index moves."""
        git.set_index(self.root, self.journal.data.index_originals)


def run_id_of(ex: Executor, execution_id: str) -> str:
    """The run an id (or id prefix) names, a run or one of its items: from this worktree's journals first,
    so that recovery works when the tracking database lost the rows, else from the store."""
    found = Journal.find(ex.ws, execution_id)
    if found is not None:
        return found
    record = ex.store().get_execution(execution_id)
    return record.parent_id or record.id


def settled(ex: Executor, owner: str) -> bool:
    """Whether the execution named by a leftover run lock has finished (its lock is stale)."""
    path = Journal.path_for(ex.ws, owner)
    if not path.exists():
        return True  # killed before its journal existed: it changed nothing
    try:
        return Journal.load(ex.ws, owner).status in SETTLED
    except UserError:
        return False


def record_unrecorded(ex: Executor) -> None:
    """Finish the store records of runs whose journal reached an end state that the store did not get (the
    database was locked, full or gone when they ended). Called holding the worktree's run lock."""
    from continuous.engine.run.runner import RunState

    for run_id in Journal.unrecorded(ex.ws):
        try:
            journal = Journal.load(ex.ws, run_id)
        except UserError:
            continue
        if journal.status not in (*SETTLED, "interrupted"):
            continue
        plan = journal.data.plan
        RunState(ex, journal, plan, None).record()


def give_back(ex: Executor, lock: RunLock, run_id: str, journal: Journal | None = None) -> None:
    """Release the worktree; a run that can still be resumed or rolled back keeps owning it."""
    if journal is None:
        path = Journal.path_for(ex.ws, run_id)
        try:
            journal = Journal.load(ex.ws, run_id) if path.exists() else None
        except UserError:
            journal = None
    keep = journal is not None and journal.status not in SETTLED
    lock.release(run_id, keep_owner=keep)


def resume(ex: Executor, execution_id: str) -> ExecutionResult:
    """Finish a killed or interrupted run from its last completed step. The run lock is taken before the
    journal is read, so a concurrent rollback (or second resume) is refused instead of racing."""
    from continuous.engine.run.runner import RunState, drive

    run_id = run_id_of(ex, execution_id)
    lock = RunLock(ex.ws)
    lock.acquire(run_id, takeover=run_id, settled=partial(settled, ex))
    try:
        record_unrecorded(ex)
        journal = Journal.load(ex.ws, run_id)
        faults.point("resume.state.after")
        status = journal.status
        if status in SETTLED:
            word = "succeeded" if status == "success" else "was rolled back"
            raise UserError(f"execution {run_id} {word} ({status}); there is nothing to resume")
        if status == "rolling_back":
            raise UserError(
                f"execution {run_id} stopped while it was being rolled back",
                hint=f"`continuous rollback {run_id}` finishes the rollback",
            )
        check_runnable(ex.ws)
        plan = journal.data.plan
        if plan.rule_base_hash != ex.rule_base.content_hash():
            raise UserError(
                f"the scenarios changed since execution {run_id} started; it cannot be resumed safely",
                hint=f"`continuous rollback {run_id}` undoes it",
            )
        state = RunState(ex, journal, plan, lock)
        state.prepare_resume()
    except BaseException:
        give_back(ex, lock, run_id)
        raise
    ex.events.resumed(ev.Resumed(execution_id=run_id, completed=len(journal.data.checkpoints)))
    return drive(ex, state)


def rollback(ex: Executor, execution_id: str, *, force: bool = False) -> RollbackResult:
    """Undo an execution: every file it touched back to its content from before it, nothing else.

    Refused when files changed after the run stopped (finished, failed half-way or killed), unless `force`:
    those changes are the user's."""
    from continuous.engine.run.runner import RunState

    run_id = run_id_of(ex, execution_id)
    if not Journal.path_for(ex.ws, run_id).exists():
        return _forget_unstarted(ex, run_id)
    lock = RunLock(ex.ws)
    lock.acquire(run_id, takeover=run_id, settled=partial(settled, ex))
    try:
        record_unrecorded(ex)
        journal = Journal.load(ex.ws, run_id)
        faults.point("rollback.state.after")
        if journal.status == "rolled_back":
            raise UserError(f"execution {run_id} is already rolled back")
        plan = journal.data.plan
        state = RunState(ex, journal, plan, lock)
        state.checkpointer.clear_stale_locks()
        state.ensure_rows()
        if journal.status != "rolling_back" and not force:
            changed = state.changed_since_stop()
            if changed:
                when = "finished" if journal.status == "success" else "stopped"
                raise UserError(
                    f"files changed after the run {when}; a rollback would lose those changes: "
                    + ", ".join(changed[:8]),
                    hint="commit or move those changes away first, or pass --force",
                )
        restored, removed, warning = state.roll_back(manual=True, forced=force)
    except BaseException:
        give_back(ex, lock, run_id)
        raise
    lock.release(run_id)
    ex.events.rolled_back(ev.RolledBack(execution_id=run_id, restored=restored, removed=removed))
    return RollbackResult(
        execution_id=run_id,
        status="rolled_back",
        restored=restored,
        removed=removed,
        warnings=[warning] if warning else [],
    )


def _forget_unstarted(ex: Executor, run_id: str) -> RollbackResult:
    """A run recorded as running that has no journal here changed nothing: close its row and free the
    worktree."""
    store = ex.store()
    record = store.get_execution(run_id)
    if record.worktree != str(ex.root):
        raise UserError(f"execution {run_id} ran in {record.worktree}; roll it back there")
    if record.status != "running":
        raise UserError(f"execution {run_id} has no journal to roll back (status {record.status})")
    lock = RunLock(ex.ws)
    lock.acquire(run_id, takeover=run_id, settled=partial(settled, ex))
    try:
        store.finish_execution(run_id, "interrupted", error_details="interrupted before its first step")
    finally:
        lock.release(run_id)
    return RollbackResult(execution_id=run_id, status="rolled_back")

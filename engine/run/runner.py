"""The run: steps, checkpoints and validation, from a frozen plan to one of three endings.

Order of a run: simulate every file step in memory (the same code as dry-run) → refuse before any change when the
repository is not in a state to run → take the worktree's run lock → journal, then the store row → for each plan
item: check preconditions, run steps (journal first, then the change, then a checkpoint, the journal again and
the store row), validate, add the provided facts.

Endings: success; a failure runs the scenarios' rollback steps and restores every touched path to its content
from before the execution, and nothing else (the journal knows the original blob of each path, so a user's
unrelated uncommitted changes are never read or written); a stop request (Ctrl-C, SIGTERM) stops between steps
and leaves the run resumable.
"""

from __future__ import annotations

import os
import time
import uuid
from functools import partial
from typing import TYPE_CHECKING

from continuous.common import faults
from continuous.common.errors import ContinuousError, RunFailed, UserError
from continuous.common.status import ExecutionStatus
from continuous.dsl import model as m
from continuous.engine import planning, simulate
from continuous.engine import steps as st
from continuous.engine.checkpoint import blob_at, commit_paths, drop_kept, find_commit, sync_index
from continuous.engine.facts import FactQuery
from continuous.engine.plan import FrozenPlan
from continuous.engine.planning import item_now
from continuous.engine.results import Artifacts, ExecutionResult, StepResult
from continuous.engine.run import events as ev
from continuous.engine.run import record as run_record
from continuous.engine.run.journal import (
    Checkpoint,
    Committing,
    CurrentStep,
    ItemTimes,
    Journal,
    RunJournal,
    read_journal,
)
from continuous.engine.run.recovery import Recovery, give_back, record_unrecorded, settled
from continuous.engine.run.state import RunStopped
from continuous.engine.run.validation import check_validation
from continuous.engine.stepkinds import kind_of
from continuous.engine.worktree import RunLock, check_runnable, dirty_paths, process_start

if TYPE_CHECKING:
    from continuous.engine.executor import Executor


def _stop_message(exc: BaseException) -> str:
    return (
        "interrupted by the user"
        if isinstance(exc, KeyboardInterrupt | RunStopped)
        else (f"interrupted by the user (the step in progress stopped: {getattr(exc, 'message', exc)})")
    )


class RunState(Recovery):
    """One execution being run (or resumed)."""

    # -- items and steps
    def run_item(self, i: int) -> None:
        ex = self.ex
        store = ex.store()
        item = self.plan.items[i]
        sc = ex.scenario(item.scenario)
        ctx = st.StepContext(self.root, sc, item.params, now=item_now(self.now, i), facts=FactQuery(self.fact_set))
        child = self.children.get(i)
        if child is None:
            child = str(uuid.uuid4())
            self.journal.data.children[str(i)] = child
            self.journal.data.items[str(i)] = "running"
            self.journal.data.item_times[str(i)] = ItemTimes(started=time.time())
            self.journal.save()
            store.start_execution(
                sc.id,
                item.params,
                kind="scenario",
                worktree=str(self.root),
                branch=ex.ws.branch,
                executed_by=ex.executed_by,
                parent_id=self.run_id,
                rule_base_hash=self.plan.rule_base_hash,
                head_commit=self.plan.head,
                execution_id=child,
            )
            failed = simulate.preconditions(ex, sc, ctx, self.fact_set(), st.VirtualFS(self.root), self.touched())
            if failed:
                raise st.StepError(f"{sc.id}: precondition failed: {'; '.join(failed)}")
        ex.events.item_started(
            ev.ItemStarted(
                index=i,
                total=len(self.plan.items),
                scenario=sc.id,
                params=item.params,
                execution_id=child,
                steps=len(sc.steps),
            )
        )
        done = self.done(i)
        for n, step in enumerate(sc.steps, 1):
            if n in done:
                continue
            self.check_stop()
            self.run_step(i, child, n, step, ctx)
        self.validate(i, child, sc, ctx)
        from continuous.engine.resolution import provided_facts

        for f in provided_facts(sc, item.params):
            self.fact_set().add(f)
        self.journal.data.items[str(i)] = "success"
        self.journal.data.item_times.setdefault(str(i), ItemTimes()).finished = time.time()
        self.journal.save()
        store.finish_execution(
            child,
            "success",
            artifacts=self.artifacts(self.item_paths(i)).stored(),
            checkpoints=run_record.stored(self.item_checkpoints(i)),
        )
        self.recorded_items.add(i)

    def run_step(self, i: int, child: str, n: int, step: m.Step, ctx: st.StepContext) -> None:
        """Journal first (what is about to change and its original content), then the store row, the change,
        the checkpoint, the journal again ("done"), the store again. A crash between any two is recoverable."""
        ex = self.ex
        store = ex.store()
        number = len(self.journal.data.checkpoints) + 1
        ex.events.step_started(
            ev.StepStarted(
                item=i, number=n, global_number=number, name=step.name, kind=step.kind, scenario=ctx.scenario.id
            )
        )
        step_id = str(uuid.uuid4())
        current = CurrentStep(item=i, step=n, step_id=step_id, kind=step.kind)
        self.journal.data.current = current
        started = time.monotonic()
        try:
            unmet = st.unmet_conditions(step, ctx, st.VirtualFS(self.root))

            def begin() -> None:
                store.start_step(child, n, step.name, step_id=step_id)

            if unmet:
                self.journal.save()
                begin()
                paths, output = [], f"skipped: {', '.join(unmet)}"
            else:
                applied = kind_of(step).apply(self, step, ctx, current, begin)
                paths, output = applied.paths, applied.output
            with faults.around("checkpoint"):
                commit = self.checkpointer.checkpoint(
                    number,
                    f"continuous {self.run_id[:8]} step {number}: {ctx.scenario.id} > {step.name}",
                    sorted(self.touched()),
                )
        except ContinuousError as exc:
            self._quietly(store.finish_step, step_id, "failed", output=exc.render())
            self.add_result(
                i,
                StepResult(
                    number=n,
                    name=step.name,
                    kind=step.kind,
                    status="failed",
                    output=exc.render(),
                    seconds=time.monotonic() - started,
                ),
            )
            raise
        seconds = time.monotonic() - started
        self.journal.data.checkpoints.append(
            Checkpoint(
                n=number,
                item=i,
                step=n,
                step_id=step_id,
                commit=commit,
                paths=paths,
                ref=f"refs/continuous/{self.run_id}/{number}",
            )
        )
        self.journal.data.done.setdefault(str(i), []).append(n)
        self.journal.data.current = None
        self.journal.save()
        store.finish_step(step_id, "success", output=output, checkpoint_commit=commit)
        store.update_execution(child, checkpoints=run_record.stored(self.item_checkpoints(i)))
        self.add_result(
            i,
            StepResult(
                number=n,
                name=step.name,
                kind=step.kind,
                status="success",
                output=output,
                seconds=seconds,
                checkpoint=commit,
                files=paths,
            ),
        )
        ex.events.step_done(
            ev.StepDone(
                item=i,
                number=n,
                global_number=number,
                name=step.name,
                seconds=seconds,
                checkpoint=commit,
                paths=paths,
                output=output,
            )
        )
        faults.point("step.done")

    def validate(self, i: int, child: str, sc: m.Scenario, ctx: st.StepContext) -> None:
        if not sc.validations:
            return
        store = self.ex.store()
        base = len(sc.steps)
        for k, v in enumerate(sc.validations, 1):
            label = simulate.validation_label(v, ctx)
            if st.unmet_conditions(v, ctx, st.VirtualFS(self.root)):
                continue
            step_id = store.start_step(child, base + k, f"validate: {label}")
            started = time.monotonic()
            try:
                output = check_validation(self, v, ctx)
            except ContinuousError as exc:
                self._quietly(store.finish_step, step_id, "failed", output=exc.render())
                self.add_result(
                    i,
                    StepResult(
                        number=base + k,
                        name=f"validate: {label}",
                        kind="validate",
                        status="failed",
                        output=exc.render(),
                        seconds=time.monotonic() - started,
                    ),
                )
                raise st.StepError(f"{sc.id}: validation failed: {label}: {exc.message}") from None
            store.finish_step(step_id, "success", output=output)
            self.add_result(
                i,
                StepResult(
                    number=base + k,
                    name=f"validate: {label}",
                    kind="validate",
                    status="success",
                    output=output,
                    seconds=time.monotonic() - started,
                ),
            )
            self.ex.events.validated(ev.Validated(item=i, label=label))

    def finish_success(self, commit_sha: str | None, seconds: float) -> ExecutionResult:
        journal = self.journal
        artifacts = self.artifacts()
        checkpoints = [c.commit for c in journal.data.checkpoints]
        self.keep_originals()
        journal.mark_unrecorded()
        journal.data.status = "success"
        journal.data.final = checkpoints[-1] if checkpoints else None
        journal.data.commit_sha = commit_sha
        journal.data.finished = time.time()
        journal.save()
        warnings = [w for w in [self.record_safely()] if w]
        self.checkpointer.discard_index()
        drop_kept(self.root, self.run_id)
        refreshed = self.ex.run_after_success_hooks()
        commit_error = journal.data.commit_error
        result = ExecutionResult(
            execution_id=self.run_id,
            status="success",
            worktree=str(self.root),
            branch=self.ex.ws.branch,
            items=self.items_result(self.item_status),
            artifacts=artifacts,
            checkpoints=checkpoints,
            commit=commit_sha,
            commit_error=run_record.commit_note(commit_error),
            pending_migrations=list(journal.data.pending_sql),
            ports=list(journal.data.ports),
            branches=self.plan.groups(),
            seconds=seconds,
            refreshed=refreshed,
            warnings=warnings,
        )
        self.ex.events.finished(ev.Finished(result=result))
        return result

    def suspend(self, message: str, seconds: float) -> ExecutionResult:
        """Stop here, resumable: the journal on disk (not this process's view of it, which a Ctrl-C may have
        caught half-way) is marked `interrupted`, and the rows say so."""
        journal = Journal.load(self.ex.ws, self.run_id)
        self.journal = journal
        journal.mark_unrecorded()
        journal.data.status = "interrupted"
        journal.data.message = message
        journal.data.finished = time.time()
        journal.data.pid = None
        journal.save()
        warnings = [w for w in [self.record_safely()] if w]
        hint = f"`continuous resume {self.run_id}` continues it, `continuous rollback {self.run_id}` undoes it"
        statuses: dict[int, ExecutionStatus] = {
            i: ("interrupted" if s != "success" else s) for i, s in self.item_status.items()
        }
        result = ExecutionResult(
            execution_id=self.run_id,
            status="interrupted",
            worktree=str(self.root),
            branch=self.ex.ws.branch,
            items=self.items_result(statuses),
            artifacts=self.artifacts(),
            checkpoints=[c.commit for c in journal.data.checkpoints],
            branches=self.plan.groups(),
            error=f"{message}; the run stopped after {len(journal.data.checkpoints)} step(s) and can be resumed: "
            + hint,
            seconds=seconds,
            warnings=warnings,
        )
        self.ex.events.finished(ev.Finished(result=result))
        return result

    def fail(self, message: str, seconds: float) -> ExecutionResult:
        """A step failed: undo the whole run (the worktree and the index as they were before it)."""
        current = self.journal.data.current
        failing = current.item if current else next((i for i, s in self.item_status.items() if s == "running"), None)
        self.ex.events.rolling_back(ev.RollingBack(message=message))
        warning = self.roll_back(manual=False, reason=message, failing=failing)[2]
        rollback_errors = self.journal.rollback_state.errors
        details = message + "\nevery file the execution touched was restored"
        if rollback_errors:
            details += "\nrollback steps that failed: " + "; ".join(rollback_errors)
        statuses: dict[int, ExecutionStatus] = {i: ("failed" if i == failing else "rolled_back") for i in self.children}
        result = ExecutionResult(
            execution_id=self.run_id,
            status="failed",
            worktree=str(self.root),
            branch=self.ex.ws.branch,
            items=self.items_result(statuses),
            artifacts=Artifacts(),
            checkpoints=[c.commit for c in self.journal.data.checkpoints],
            branches=self.plan.groups(),
            error=details,
            seconds=seconds,
            warnings=[warning] if warning else [],
        )
        self.ex.events.finished(ev.Finished(result=result))
        return result


def start(ex: Executor, plan: FrozenPlan, *, commit: bool, message: str | None) -> ExecutionResult:
    check_runnable(ex.ws)
    head = ex.ws.head()
    if plan.head != head:
        raise UserError(
            f"the plan was made on commit {plan.head[:12]}, but HEAD is now {(head or '')[:12]}",
            hint="re-plan against the current HEAD",
        )
    if message is not None and not message.strip():
        raise UserError("--message is empty", hint="give the commit message, or leave --message out")
    if not plan.items:
        return _nothing_to_do(ex, plan)
    store = ex.store()
    run_id = str(uuid.uuid4())
    lock = RunLock(ex.ws)
    lock.acquire(run_id, settled=partial(settled, ex))
    try:
        record_unrecorded(
            ex,
        )
        active = store.find_active_run(str(ex.root))
        if active is not None:
            raise UserError(
                f"run {active.id} is recorded as running in this worktree",
                hint=f"`continuous resume {active.id}` finishes it, `continuous rollback {active.id}` undoes it",
            )
        now = planning.clock_now(ex)
        sim = ex.simulate(plan, now)
        if sim.problems:
            raise UserError(
                "the run would fail before changing anything:\n  " + "\n  ".join(sim.problems),
                hint="`--dry-run` shows the whole plan",
            )
        dirty = dirty_paths(ex.root)
        overlap = [e for e, _ in sim.effects() if e.path in dirty]
        ours = _left_by_earlier_runs(ex, [e.path for e in overlap])
        for effect in overlap:
            if effect.path not in ours:
                raise UserError(
                    f"{effect.path} has uncommitted changes that step {effect.step!r} would overwrite",
                    hint="commit or stash your changes to that file first; nothing was changed",
                )
        used = {item.scenario for item in plan.items}
        store.sync_registry(
            m.RuleBase(scenarios={sid: sc for sid, sc in ex.rule_base.scenarios.items() if sid in used}),
            archive_missing=False,
        )
        top = plan.top_scenario()
        top_params: dict[str, m.Scalar] = (
            next((i.params for i in plan.items if i.role == "requested"), {}) if top else {}
        )
        if ex._stop:  # stopped before anything changed: nothing to resume
            raise KeyboardInterrupt
    except BaseException:
        lock.release(run_id)
        raise
    clock = planning.advance_clock(ex, now, len(plan.items))
    journal = Journal.create(
        ex.ws,
        run_id,
        RunJournal(
            execution_id=run_id,
            status="running",
            pid=os.getpid(),
            pid_start=process_start(os.getpid()),
            root=str(ex.root),
            branch=ex.ws.branch,
            head=plan.head,
            now=now.isoformat(),
            commit=commit,
            commit_message=message,
            plan=plan,
            top=top,
            top_params=top_params,
            executed_by=ex.executed_by,
            ports=list(ex.allocated_ports),
            started=time.time(),
            clock=clock,
        ),
    )
    state = RunState(ex, journal, plan, lock)
    try:
        run_record.start_run_row(ex, plan, top, top_params, execution_id=run_id, started_at=state.started_at)
    except BaseException:
        # nothing has changed yet: the run never happened
        journal.path.unlink(missing_ok=True)
        planning.rewind_clock(ex, journal)
        lock.release(run_id)
        raise
    return drive(ex, state)


def _left_by_earlier_runs(ex: Executor, paths: list[str]) -> set[str]:
    """Dirty paths whose content is exactly what an earlier successful run left (not user edits)."""
    if not paths:
        return set()
    ours: set[str] = set()
    runs = sorted((ex.ws.state_dir / "runs").glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in runs:
        try:
            data = read_journal(path)
        except (OSError, ValueError):
            continue
        final = data.final
        if data.status != "success" or not final:
            continue
        for p in paths:
            if p in ours or p not in data.originals:
                continue
            full = ex.root / p
            current = full.read_bytes() if full.is_file() else None
            if current == blob_at(ex.root, final, p):
                ours.add(p)
        if len(ours) == len(paths):
            break
    return ours


def _nothing_to_do(ex: Executor, plan: FrozenPlan) -> ExecutionResult:
    """Everything asked for already holds: record the request as skipped, change nothing."""
    reasons = "; ".join(f"{s.scenario}: {s.reason}" for s in plan.skipped) or "the plan is empty"
    requested = plan.skipped[0] if len(plan.skipped) == 1 else None
    store = ex.store()
    run_id = run_record.start_run_row(
        ex, plan, requested.scenario if requested else None, requested.params if requested else {}, "skipped"
    )
    store.finish_execution(run_id, "skipped", error_details=f"nothing to do: {reasons}")
    result = ExecutionResult(
        execution_id=run_id,
        status="skipped",
        worktree=str(ex.root),
        branch=ex.ws.branch,
        items=[],
        artifacts=Artifacts(),
        error=f"nothing to do: {reasons}",
    )
    ex.events.finished(ev.Finished(result=result))
    return result


def drive(ex: Executor, state: RunState) -> ExecutionResult:
    started = time.monotonic()
    try:
        for i in range(len(state.plan.items)):
            if state.item_status.get(i) == "success":
                continue
            state.check_stop()
            state.run_item(i)
        state.check_stop()
        commit_sha = _commit(ex, state) if state.journal.data.commit else None
        return state.finish_success(commit_sha, time.monotonic() - started)
    except BaseException as exc:
        stopped = isinstance(exc, KeyboardInterrupt | RunStopped) or (ex._stop and isinstance(exc, Exception))
        if stopped:
            return state.suspend(_stop_message(exc), time.monotonic() - started)
        if not isinstance(exc, Exception):
            raise
        if isinstance(exc, ContinuousError):
            message = exc.message
        elif isinstance(exc, OSError) and exc.strerror:  # disk full, permissions: not a bug
            message = f"{exc.strerror}" + (f": {exc.filename}" if exc.filename else "")
        else:
            message = f"internal error: {type(exc).__name__}: {exc}"
        return state.fail(message, time.monotonic() - started)
    finally:
        assert state.lock is not None
        give_back(ex, state.lock, state.run_id, state.journal)


def _commit(ex: Executor, state: RunState) -> str | None:
    """The one commit of `--commit`. A crash right after it is recognised on resume by the execution id in
    the message; a commit refused by a hook leaves the run's changes in place and the index as it was."""
    journal = state.journal
    if journal.data.commit_sha or journal.data.commit_error:
        return journal.data.commit_sha
    marker = f"execution {state.run_id}"
    pending = journal.data.committing
    if pending and pending.parent:
        found = find_commit(ex.root, pending.parent, marker)
        if found is not None:
            sync_index(ex.root, pending.paths)
            journal.data.commit_sha = found
            journal.data.committing = None
            journal.save()
            return found
    changed = [p for p in sorted(state.touched()) if state.differs_from_original(p)]
    if not changed:
        return None
    what = state.plan.request or ", ".join(i.scenario for i in state.plan.items)
    subject = journal.data.commit_message or f"continuous: {what}"
    journal.data.committing = Committing(parent=ex.ws.head(), paths=changed)
    journal.save()
    try:
        sha = commit_paths(ex.root, ex.ws.state_dir, state.run_id, changed, f"{subject}\n\n{marker}")
    except RunFailed as exc:
        journal.data.commit_error = exc.message
        journal.data.committing = None
        journal.save()
        return None
    journal.data.commit_sha = sha
    journal.data.committing = None
    journal.save()
    return sha

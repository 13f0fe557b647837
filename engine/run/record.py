"""The tracking store as a record of a run's journal.

The journal (`continuous.engine.run.journal`) is the truth about a run; these functions make the store say the same,
idempotently: rows the store lacks are re-created (the database was deleted or switched), statuses follow the
journal's end state, a rollback becomes an event, ports are released, and no step row stays `running`. They run
at the end of every run and whenever a later command finds a run whose record lags behind its journal.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from continuous.common.status import ExecutionStatus, StepStatus
from continuous.dsl import model as m
from continuous.engine.results import Artifacts
from continuous.engine.run.journal import Checkpoint, ItemTimes

if TYPE_CHECKING:
    from continuous.engine.executor import Executor
    from continuous.engine.plan import FrozenPlan
    from continuous.engine.run.state import RunStateBase as RunState


def stored(checkpoints: list[Checkpoint]) -> list[dict[str, object]]:
    """Checkpoints as the store's JSON column holds them."""
    return [c.model_dump(mode="json") for c in checkpoints]


def commit_note(error: str | None) -> str | None:
    """What the record and the result say when `--commit` was refused."""
    if not error:
        return None
    return (
        f"{error}\nthe run's changes are in place, uncommitted; commit them yourself (git commit), or undo the "
        "run with `continuous rollback`"
    )


def record_safely(state: RunState) -> str | None:
    """Record, or say why the store could not be written (the journal keeps the truth; the next command in
    this worktree finishes the record)."""
    error = state._quietly(record, state)
    if error is None:
        return None
    return (
        f"the tracking database could not be updated ({error}); the next `continuous` run, resume or "
        "rollback in this worktree records it"
    )


def ensure_rows(state: RunState) -> None:
    """Re-create the rows of this run that the store lacks (the database was deleted or switched), from the
    journal: the run, its items, and their completed steps."""
    store = state.ex.store()
    children = state.children
    present = store.existing_executions([state.run_id, *children.values()])
    if state.run_id not in present:
        used = {item.scenario for item in state.plan.items}
        store.sync_registry(
            m.RuleBase(scenarios={sid: sc for sid, sc in state.ex.rule_base.scenarios.items() if sid in used}),
            archive_missing=False,
        )
        start_run_row(
            state.ex,
            state.plan,
            state.journal.data.top,
            state.journal.data.top_params,
            execution_id=state.run_id,
            started_at=state.started_at,
            executed_by=state.journal.data.executed_by,
        )
    for i, child in sorted(children.items()):
        if child in present:
            continue
        item = state.plan.items[i]
        sc = state.ex.scenario(item.scenario)
        started = (state.journal.data.item_times.get(str(i)) or ItemTimes()).started
        store.start_execution(
            sc.id,
            item.params,
            kind="scenario",
            worktree=str(state.root),
            branch=state.journal.data.branch,
            executed_by=state.journal.data.executed_by,
            parent_id=state.run_id,
            rule_base_hash=state.plan.rule_base_hash,
            head_commit=state.plan.head,
            execution_id=child,
            started_at=datetime.fromtimestamp(started, UTC) if started else state.started_at,
        )
        for cp in state.item_checkpoints(i):
            number = cp.step
            name = sc.steps[number - 1].name if 0 < number <= len(sc.steps) else f"step {number}"
            store.start_step(
                child,
                number,
                name,
                step_id=cp.step_id,
                status="success",
                output="(recorded again from the run's journal)",
                checkpoint_commit=cp.commit,
            )


def close_rows(state: RunState, status: StepStatus, note: str) -> None:
    """No step row of this run stays `running`: the last checkpointed step is a success (the journal says
    so even if the store never heard), every other running one gets `status`."""
    store = state.ex.store()
    checkpoints = state.journal.data.checkpoints
    if checkpoints and checkpoints[-1].step_id:
        last = checkpoints[-1]
        store.finish_step(
            last.step_id,
            "success",
            output="(recorded from the run's journal)",
            checkpoint_commit=last.commit,
            only_running=True,
        )
    store.close_running_steps([state.run_id, *state.children.values()], status, note)


def finish_items(state: RunState, *, artifacts: bool = True) -> None:
    """Items the journal says succeeded are recorded as such (a crash may have come before the store). After a
    rollback their files are gone, so `artifacts=False` leaves the recorded artifacts as they are."""
    store = state.ex.store()
    times = state.journal.data.item_times
    for i, child in sorted(state.children.items()):
        if state.item_status.get(i) != "success" or i in state.recorded_items:
            continue
        finished = (times.get(str(i)) or ItemTimes()).finished
        store.finish_execution(
            child,
            "success",
            artifacts=state.artifacts(state.item_paths(i)).stored() if artifacts else None,
            checkpoints=stored(state.item_checkpoints(i)),
            completed_at=datetime.fromtimestamp(finished, UTC) if finished else None,
        )


def record(state: RunState) -> None:
    """Make the store say what the journal says (idempotent): rows re-created if missing, statuses, the
    rollback event, ports, and no step left running."""
    journal = state.journal
    status = journal.status
    store = state.ex.store()
    ensure_rows(state)
    finished = journal.data.finished
    finished_at = datetime.fromtimestamp(finished, UTC) if finished else None
    if status == "success":
        finish_items(state)
        store.finish_execution(
            state.run_id,
            "success",
            artifacts=state.artifacts().stored(
                pending_migrations=journal.data.pending_sql, commit=journal.data.commit_sha
            ),
            checkpoints=stored(journal.data.checkpoints),
            error_details=commit_note(journal.data.commit_error),
            completed_at=finished_at,
        )
        if journal.data.commit_sha:
            store.update_execution(state.run_id, head_commit=journal.data.commit_sha)
        close_rows(state, "interrupted", "interrupted: the process stopped during this step")
    elif status == "interrupted":
        finish_items(state)
        for i, child in state.children.items():
            if state.item_status.get(i) != "success":
                store.finish_execution(child, "interrupted", completed_at=finished_at)
        store.finish_execution(
            state.run_id,
            "interrupted",
            error_details=journal.data.message or "interrupted",
            checkpoints=stored(journal.data.checkpoints),
            completed_at=finished_at,
        )
        close_rows(state, "interrupted", "interrupted: resume runs this step again")
    elif status == "rolled_back":
        _record_rollback(state)
    journal.mark_recorded()


def _record_rollback(state: RunState) -> None:
    journal = state.journal
    store = state.ex.store()
    rb = journal.rollback_state
    at = datetime.fromtimestamp(rb.at or 0.0, UTC)
    stopped_at = datetime.fromtimestamp(rb.stopped_at or rb.at or 0.0, UTC)
    if not rb.manual:
        failing = rb.failing
        outcome = rb.outcome
        for i, child in state.children.items():
            status: ExecutionStatus = outcome if i == failing else "rolled_back"
            store.finish_execution(
                child,
                status,
                error_details=journal.data.message if i == failing else None,
                artifacts=Artifacts().stored(),
                completed_at=at,
            )
        store.finish_execution(
            state.run_id,
            outcome,
            error_details=rb.details or journal.data.message,
            checkpoints=stored(journal.data.checkpoints),
            artifacts=Artifacts().stored(),
            completed_at=at,
        )
    else:
        record = store.get_execution(state.run_id)
        if rb.prior == "success":
            if record.status != "success":  # re-created from the journal
                finished = journal.data.finished
                store.finish_execution(
                    state.run_id,
                    "success",
                    checkpoints=stored(journal.data.checkpoints),
                    completed_at=datetime.fromtimestamp(finished, UTC) if finished else stopped_at,
                )
            finish_items(state, artifacts=False)
        else:
            finish_items(state, artifacts=False)
            for i, child in state.children.items():
                if state.item_status.get(i) != "success":
                    store.finish_execution(child, "interrupted", completed_at=stopped_at)
            store.finish_execution(
                state.run_id,
                "interrupted",
                error_details=journal.data.message or "interrupted: the process stopped during the run",
                checkpoints=stored(journal.data.checkpoints),
                completed_at=stopped_at,
            )
    details = {
        "manual": bool(rb.manual),
        "forced": bool(rb.forced),
        "prior": rb.prior,
        "restored": rb.restored,
        "removed": rb.removed,
        "reason": rb.reason,
    }
    for execution_id in [state.run_id, *state.children.values()]:
        store.record_event(
            execution_id,
            "rollback",
            details=details,
            by=rb.by,
            at=at,
            event_id=str(uuid.uuid5(uuid.UUID(rb.event), execution_id)),
        )
    for port in journal.data.ports:
        store.release_port(int(port))
    close_rows(state, "rolled_back", "closed by the rollback")


def start_run_row(
    ex: Executor,
    plan: FrozenPlan,
    scenario: str | None,
    params: dict[str, m.Scalar],
    status: ExecutionStatus = "running",
    *,
    execution_id: str | None = None,
    started_at: datetime | None = None,
    executed_by: str | None = None,
) -> str:
    """The top-level `run` row of an execution: where, by whom, and the frozen plan it follows."""
    return ex.store().start_execution(
        scenario,
        params,
        kind="run",
        worktree=str(ex.root),
        branch=ex.ws.branch,
        executed_by=executed_by or ex.executed_by,
        plan=plan.model_dump(mode="json"),
        rule_base_hash=plan.rule_base_hash,
        head_commit=plan.head,
        status=status,
        execution_id=execution_id,
        started_at=started_at,
    )

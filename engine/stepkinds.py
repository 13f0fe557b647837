"""Step kinds: the one place each kind of step is described, simulated, applied and reverted.

Dry-run (`simulate`), the run (`run.runner`) and rollback (`run.recovery`) all go through `kind_of(step)`, so a
kind's behaviour cannot drift between them. There are three kinds as the engine sees them:

- file steps (render, edit, doc, insert, entry, route, move, `sql types`, ...): their changes are computed first
  (on a virtual file system in a dry-run), journaled with the hash of what will be written, then written;
- commands (`run`): the dirty paths are snapshotted before, and what the command changed is found after;
- sql (`sql apply`, `sql migrate`): run against the target database, or left pending without one.

`revert` names what a step that was in flight when the process died may have changed, so recovery can put those
paths back before it resumes or rolls back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from continuous.common import faults
from continuous.dsl import model as m
from continuous.engine import steps as st

if TYPE_CHECKING:
    from continuous.engine.run.journal import CurrentStep
    from continuous.engine.run.state import RunStateBase

Begin = Callable[[], None]  # opens the step's store row


@dataclass
class Simulated:
    """What simulating one step found: the file changes (applied to the virtual file system already), paths a
    command declares it writes, whether its effect is known before it runs, and a problem if any."""

    changes: list[st.FileChange] = field(default_factory=list)
    commanded: list[tuple[str, bool]] = field(default_factory=list)  # (path, existed before)
    predicted: bool = True
    problem: str | None = None
    sql_apply: bool = False
    command: bool = False


@dataclass
class Applied:
    paths: list[str]
    output: str


class StepKind:
    """How the engine handles one kind of step."""

    name = "step"

    def describe(self, step: m.Step, ctx: st.StepContext) -> str:
        return st.describe(step, ctx)

    def simulate(self, step: m.Step, ctx: st.StepContext, fs: st.VirtualFS, *, after_command: bool) -> Simulated:
        raise NotImplementedError

    def apply(
        self, state: RunStateBase, step: m.Step, ctx: st.StepContext, current: CurrentStep | None, begin: Begin
    ) -> Applied:
        """Make the step's change. `current` (the journal's step in progress; None for a rollback step) is
        filled in before anything changes; `begin` opens the step's store row once the journal says enough."""
        raise NotImplementedError

    def revert(self, state: RunStateBase, current: CurrentStep) -> tuple[list[str], dict[str, str | None]]:
        """The paths an interrupted step may have changed, and the index entries they had before it."""
        return [], {}


class FileKind(StepKind):
    name = "file"

    def simulate(self, step: m.Step, ctx: st.StepContext, fs: st.VirtualFS, *, after_command: bool) -> Simulated:
        out = Simulated()
        try:
            out.changes = st.file_changes(step, ctx, fs)
        except st.StepError as exc:
            if after_command:
                out.predicted = False  # the files a command writes decide it: the run will tell
            else:
                out.problem = exc.message
        fs.apply(out.changes)
        return out

    def apply(
        self, state: RunStateBase, step: m.Step, ctx: st.StepContext, current: CurrentStep | None, begin: Begin
    ) -> Applied:
        changes = st.file_changes(step, ctx, st.VirtualFS(state.root))
        if current is not None:
            current.writes = {c.path: None if c.after is None else hashlib.sha256(c.after).hexdigest() for c in changes}
        state.remember(c.path for c in changes)
        state.journal.save()
        begin()
        with _fault("files.write", current):
            st.write_changes(state.root, changes)
        output = "\n".join(f"{c.kind} {c.path}" for c in changes)
        if current is not None and not output:
            output = "no change needed (already done)"
        return Applied([c.path for c in changes], output)

    def revert(self, state: RunStateBase, current: CurrentStep) -> tuple[list[str], dict[str, str | None]]:
        return list(current.writes or {}), {}


class CommandKind(StepKind):
    name = "command"

    def simulate(self, step: m.Step, ctx: st.StepContext, fs: st.VirtualFS, *, after_command: bool) -> Simulated:
        assert isinstance(step, m.RunStep)
        out = Simulated(predicted=False, command=True)
        missing = st.missing_program(step, ctx)
        if missing and not after_command:
            out.problem = missing
        for pattern in step.changes:
            rel = ctx.path(pattern, "changed file")
            out.commanded.append((rel, fs.read(rel) is not None))
        return out

    def apply(
        self, state: RunStateBase, step: m.Step, ctx: st.StepContext, current: CurrentStep | None, begin: Begin
    ) -> Applied:
        assert isinstance(step, m.RunStep)
        snapshot = state.snapshot_dirty()
        if current is not None:
            current.snapshot = snapshot
            state.journal.save()
        begin()
        with _fault("command", current):
            result = st.run_step(step, ctx, step.name)
        return Applied(state.reconcile_command(snapshot)[0], result.output)

    def revert(self, state: RunStateBase, current: CurrentStep) -> tuple[list[str], dict[str, str | None]]:
        if current.snapshot is None:
            return list(current.writes or {}), {}
        return state.reconcile_command(current.snapshot)


class SqlKind(StepKind):
    name = "sql"

    def simulate(self, step: m.Step, ctx: st.StepContext, fs: st.VirtualFS, *, after_command: bool) -> Simulated:
        assert isinstance(step, m.SqlStep)
        return Simulated(sql_apply=step.action == "apply")

    def apply(
        self, state: RunStateBase, step: m.Step, ctx: st.StepContext, current: CurrentStep | None, begin: Begin
    ) -> Applied:
        assert isinstance(step, m.SqlStep)
        if current is not None:
            state.journal.save()
        begin()
        with _fault("sql", current):
            output, pending = st.sql_step(step, ctx)
        if pending and current is not None:
            state.journal.data.pending_sql.append(ctx.path(step.file, "file"))
        return Applied([], output)


FILE, COMMAND, SQL = FileKind(), CommandKind(), SqlKind()


def kind_of(step: m.Step) -> StepKind:
    if st.is_file_step(step):
        return FILE
    if isinstance(step, m.RunStep):
        return COMMAND
    if isinstance(step, m.SqlStep):
        return SQL
    raise AssertionError(f"no step kind handles {type(step).__name__}")  # the model admits no other kind


def kind_of_current(current: CurrentStep) -> StepKind:
    """The handler of the journaled step in progress, from its step kind."""
    return COMMAND if current.kind == "run" else FILE


def _fault(name: str, current: CurrentStep | None) -> AbstractContextManager[None]:
    """Kill points (CONTINUOUS_FAULT) around a forward step's change; a rollback step has its own journal."""
    return faults.around(name) if current is not None else nullcontext()

"""The executor: a frozen plan in, a checkpointed, recorded, recoverable execution out.

A façade over the engine's parts: `planning` (requests → frozen plan, ports), `simulate` (the virtual file
system, dry-run), `run.runner` (steps, checkpoints, validation) and `run.recovery` (resume, rollback). The journal
(`run.journal`) is the truth about a run and the store its record: a crash at any instant is finished by `resume`
or undone by `rollback`, which take the run lock before they read the journal and re-create whatever rows the
store lacks.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from continuous.common import worktree_state
from continuous.common.errors import ContinuousError, RunFailed, UserError
from continuous.dsl import model as m
from continuous.engine import planning, simulate
from continuous.engine.discovery import discover
from continuous.engine.estimates import Estimator
from continuous.engine.facts import Fact
from continuous.engine.plan import FrozenPlan, SavedPlan
from continuous.engine.planning import Request, fixed_now, item_now, requests_from_dicts
from continuous.engine.results import DryRunReport, ExecutionResult, RollbackResult
from continuous.engine.run import recovery, runner
from continuous.engine.run.events import Guarded, RunObserver, Warned
from continuous.engine.simulate import Simulation, dry_run_plan
from continuous.engine.worktree import Workspace, load_repo_rule_base, open_workspace

if TYPE_CHECKING:
    from continuous.store.repository import TrackingStore

# Called after a successful run with (worktree root, rule base); returns the files it rewrote.
AfterSuccess = Callable[[Path, m.RuleBase], list[Path]]


def _executed_by() -> str:
    user = os.environ.get("CONTINUOUS_EXECUTED_BY")
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


class Executor:
    """The engine's one entry point: a façade over planning, simulation, the runner and recovery, holding what
    they share (the workspace, the rule base, the store, the event observer)."""

    def __init__(
        self,
        repo: Path | str | None = None,
        *,
        database_url: str | None = None,
        observer: RunObserver | None = None,
        executed_by: str | None = None,
        rule_base: m.RuleBase | None = None,
        after_success: Sequence[AfterSuccess] = (),
        estimator: Estimator | None = None,
    ) -> None:
        self.ws: Workspace = open_workspace(repo)
        self.after_success: tuple[AfterSuccess, ...] = tuple(after_success)
        self.estimator = estimator
        self.database_url = database_url
        self.events: RunObserver = Guarded(observer)
        self.executed_by = executed_by or _executed_by()
        self._rule_base: m.RuleBase | None = rule_base
        self._store: TrackingStore | None = None
        self.allocated_ports: list[int] = []
        self.facts_cache: list[Fact] | None = None
        self.planned_ports: list[int] = []
        self._stop = False

    # ------------------------------------------------------------------ shared pieces

    def run_after_success_hooks(self) -> list[str]:
        """Upper layers (living docs) react to a finished run; a hook failing never fails the run."""
        written: list[str] = []
        for hook in self.after_success:
            try:
                paths = hook(self.root, self.rule_base)
            except Exception as exc:  # a hook is best-effort by contract
                self.events.warned(Warned(message=f"after-run hook failed: {exc}"))
                continue
            written.extend(str(Path(p).resolve().relative_to(self.root)) for p in paths)
        return written

    @property
    def root(self) -> Path:
        return self.ws.root

    @property
    def rule_base(self) -> m.RuleBase:
        if self._rule_base is None:
            self._rule_base = load_repo_rule_base(self.root)
        return self._rule_base

    def scenario(self, scenario_id: str) -> m.Scenario:
        sc = self.rule_base.scenario(scenario_id)
        if sc is None:
            from continuous.dsl.suggest import closest

            guess = closest(scenario_id, list(self.rule_base.scenarios) + list(self.rule_base.aliases))
            raise UserError(
                f"unknown scenario {scenario_id!r}",
                hint=f"did you mean {guess!r}?" if guess else "`continuous scenarios list` shows them",
            )
        return sc

    def facts(self) -> list[Fact]:
        return discover(self.rule_base, self.root)

    def store(self) -> TrackingStore:
        if self._store is None:
            from continuous.store import open_store

            self._store = open_store(self.database_url, repo=self.root)
        return self._store

    def existing_store(self) -> TrackingStore | None:
        """The store if it already exists (a dry-run must not create a database)."""
        if self._store is not None:
            return self._store
        from continuous.store.url import resolve_url

        resolved = resolve_url(self.database_url, repo=self.root)
        if resolved.url.startswith("sqlite:///"):
            path = Path(resolved.url.removeprefix("sqlite:///"))
            if not path.exists():
                return None
        try:
            return self.store()
        except ContinuousError:
            return None

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    # ------------------------------------------------------------------ real runs

    def request_stop(self) -> None:
        """Stop the run after the step in progress; it stays resumable (`interrupted`). Signal-handler safe."""
        self._stop = True

    @property
    def stop_requested(self) -> bool:
        return self._stop

    def run(self, plan: FrozenPlan, *, commit: bool = False, message: str | None = None) -> ExecutionResult:
        """Execute a frozen plan. Refusals (exit 2) happen before any change; failures roll back (exit 1); a stop
        request or Ctrl-C leaves the run resumable (`interrupted`)."""
        try:
            return runner.start(self, plan, commit=commit, message=message)
        except UserError:
            if self.allocated_ports:
                for port in self.allocated_ports:
                    self.store().release_port(port)
            raise
        finally:
            worktree_state.forget(self.root)  # the run wrote to the worktree: the caches' key reads git again

    # ------------------------------------------------------------------ the four parts

    def build_plan(
        self,
        requests: Sequence[Request],
        *,
        request_text: str | None = None,
        allocate_ports: bool = False,
        facts: list[Fact] | None = None,
    ) -> FrozenPlan:
        return planning.build_plan(
            self, requests, request_text=request_text, allocate_ports=allocate_ports, facts=facts
        )

    def plan_from_saved(self, data: SavedPlan, *, allocate_ports: bool = False) -> FrozenPlan:
        return planning.plan_from_saved(self, data, allocate_ports=allocate_ports)

    def simulate(self, plan: FrozenPlan, now: datetime) -> Simulation:
        return simulate.simulate(self, plan, now)

    def dry_run(self, plan: FrozenPlan) -> DryRunReport:
        return simulate.dry_run(self, plan)

    def resume(self, execution_id: str) -> ExecutionResult:
        """Finish a killed or interrupted run from its last completed step."""
        try:
            return recovery.resume(self, execution_id)
        finally:
            worktree_state.forget(self.root)

    def rollback(self, execution_id: str, *, force: bool = False) -> RollbackResult:
        """Undo an execution: every file it touched back to its content from before it, nothing else."""
        try:
            return recovery.rollback(self, execution_id, force=force)
        finally:
            worktree_state.forget(self.root)


__all__ = [
    "Executor",
    "Request",
    "RunFailed",
    "RunObserver",
    "dry_run_plan",
    "fixed_now",
    "item_now",
    "requests_from_dicts",
]

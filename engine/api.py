"""The public Python API: the same executor, checks and guarantees as `continuous run-scenario`.

    from continuous import ScenarioExecutor

    ex = ScenarioExecutor(repo="path/to/worktree")
    report = ex.plan("create-service", {"name": "preferences"})      # a dry-run: nothing changes
    result = ex.execute("create-service", {"name": "preferences"})   # ExecutionResult
    chain = ex.execute_chain([
        {"scenario": "create-table", "params": {"name": "user_preferences"}},
        {"scenario": "create-service", "params": {"name": "preferences"}},
    ])

Bad input raises `UserError` before anything changes; a failed run is rolled back and comes back as a result
with `status == "failed"` (or raises `RunFailed` with `raise_on_failure=True`).

Dry-run durations come from the tracking store's median per scenario, else the scenario's declared `estimate`;
pass `estimator=continuous.analytics.estimates.estimate` for the CLI's (the analytics export first, and the
failure rate over at least 3 runs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from continuous.common.errors import RunFailed
from continuous.dsl.model import Scalar
from continuous.engine.estimates import Estimator
from continuous.engine.executor import Executor, Request, requests_from_dicts
from continuous.engine.plan import FrozenPlan
from continuous.engine.results import DryRunReport, ExecutionResult, RollbackResult
from continuous.engine.run.events import RunObserver

ChainItem = Mapping[str, Any] | str


class ScenarioExecutor:
    """Run scenarios in a git worktree, with checkpoints, rollback, resume and tracking."""

    def __init__(
        self,
        repo: Path | str = ".",
        *,
        database_url: str | None = None,
        observer: RunObserver | None = None,
        executed_by: str | None = None,
        raise_on_failure: bool = False,
        estimator: Estimator | None = None,
    ) -> None:
        self.repo = Path(repo)
        self.estimator = estimator
        self.database_url = database_url
        self.observer = observer
        self.executed_by = executed_by or "api"
        self.raise_on_failure = raise_on_failure

    def _executor(self) -> Executor:
        return Executor(
            self.repo,
            database_url=self.database_url,
            observer=self.observer,
            executed_by=self.executed_by,
            estimator=self.estimator,
        )

    def _requests(self, scenario: str | Sequence[ChainItem], params: Mapping[str, Scalar] | None) -> list[Request]:
        if isinstance(scenario, str):
            return [Request(scenario=scenario, params=dict(params or {}))]
        return requests_from_dicts(scenario)

    def plan(self, scenario: str | Sequence[ChainItem], params: Mapping[str, Scalar] | None = None) -> DryRunReport:
        """A dry-run of one scenario or a chain: ordered steps, diffs, systems, estimate, risk."""
        ex = self._executor()
        try:
            return ex.dry_run(ex.build_plan(self._requests(scenario, params)))
        finally:
            ex.close()

    def frozen_plan(
        self, scenario: str | Sequence[ChainItem], params: Mapping[str, Scalar] | None = None
    ) -> FrozenPlan:
        ex = self._executor()
        try:
            return ex.build_plan(self._requests(scenario, params))
        finally:
            ex.close()

    def execute(
        self,
        scenario_id: str,
        params: Mapping[str, Scalar] | None = None,
        *,
        commit: bool = False,
        message: str | None = None,
    ) -> ExecutionResult:
        """Run one scenario and everything it needs, dependencies first (`message`: of the `commit`)."""
        return self._run(self._requests(scenario_id, params), commit=commit, message=message)

    def execute_chain(
        self, items: Sequence[ChainItem], *, commit: bool = False, message: str | None = None
    ) -> ExecutionResult:
        """Run several scenarios resolved together: a dependency shared by several of them runs once."""
        return self._run(requests_from_dicts(items), commit=commit, message=message)

    def _run(self, requests: list[Request], *, commit: bool, message: str | None = None) -> ExecutionResult:
        ex = self._executor()
        try:
            plan = ex.build_plan(requests, allocate_ports=True)
            result = ex.run(plan, commit=commit, message=message)
        finally:
            ex.close()
        if self.raise_on_failure and not result.ok:
            raise RunFailed(f"execution {result.execution_id} {result.status}: {result.error}")
        return result

    def resume(self, execution_id: str) -> ExecutionResult:
        ex = self._executor()
        try:
            return ex.resume(execution_id)
        finally:
            ex.close()

    def rollback(self, execution_id: str, *, force: bool = False) -> RollbackResult:
        ex = self._executor()
        try:
            return ex.rollback(execution_id, force=force)
        finally:
            ex.close()


__all__ = ["DryRunReport", "ExecutionResult", "RollbackResult", "ScenarioExecutor"]

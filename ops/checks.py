"""`continuous check`: standards violations, self-healing fixes and the dev tasks that track the rest.

A fixable violation is repaired by running its fix scenario through the executor like any other run
(checkpointed, recorded, reversible with `continuous rollback`). A violation without a fix (or whose fix
failed) is tracked as one open `dev_tasks` row keyed on `standard:path:line`; when a later check no longer
finds it, its task is closed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from continuous.dsl.model import RuleBase
from continuous.ops.standards import Violation, evaluate, select_standards

if TYPE_CHECKING:
    from continuous.store.repository import TrackingStore

TASK_SOURCE = "check"


@dataclass
class FixResult:
    standard: str
    location: str
    scenario: str
    params: dict[str, Any]
    status: str
    execution_id: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class CheckReport:
    violations: list[Violation]
    fixes: list[FixResult] = field(default_factory=list)
    tasks_opened: list[dict[str, Any]] = field(default_factory=list)
    tasks_kept: list[dict[str, Any]] = field(default_factory=list)
    tasks_closed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.violations)

    def to_json(self) -> dict[str, Any]:
        return {
            "violations": [v.to_json() for v in self.violations],
            "count": len(self.violations),
            "fixes": [f.to_json() for f in self.fixes],
            "tasks": {"opened": self.tasks_opened, "kept": self.tasks_kept, "closed": self.tasks_closed},
        }


def run_check(rule_base: RuleBase, worktree: Path, *, store: TrackingStore | None = None,
              only: Sequence[str] | None = None, fix: bool = False) -> CheckReport:
    worktree = Path(worktree).resolve()
    violations = evaluate(rule_base, worktree, only=only)
    fixes: list[FixResult] = []
    if fix and any(v.fixable for v in violations):
        fixes = apply_fixes(rule_base, worktree, violations, store=store)
        violations = evaluate(rule_base, worktree, only=only)
    report = CheckReport(violations, fixes)
    if store is not None:
        checked = select_standards(rule_base, only)
        _sync_tasks(report, store, worktree, [s.id for s in checked], fixes)
        _record_results(store, worktree, checked, violations, fixes)
    return report


def _record_results(store: TrackingStore, worktree: Path, checked: Sequence[Any], violations: Sequence[Violation],
                    fixes: Sequence[FixResult]) -> None:
    """One row per checked standard, so analytics can tell the share of standards a repository meets."""
    from continuous.engine.worktree import open_workspace
    from continuous.store.ops_models import OpsDB

    counts: dict[str, int] = {}
    for v in violations:
        counts[v.standard] = counts.get(v.standard, 0) + 1
    fixed: dict[str, int] = {}
    for f in fixes:
        if f.status == "success":
            fixed[f.standard] = fixed.get(f.standard, 0) + 1
    try:
        head = open_workspace(worktree).head()
    except Exception:  # a check outside git still records its results
        head = None
    OpsDB(store.engine).record_checks(
        [{"standard": s.id, "severity": s.severity, "violations": counts.get(s.id, 0), "fixed": fixed.get(s.id, 0)}
         for s in checked],
        worktree=str(worktree),
        head_commit=head,
    )


def apply_fixes(rule_base: RuleBase, worktree: Path, violations: Sequence[Violation], *,
                store: TrackingStore | None) -> list[FixResult]:
    """Run each distinct fix once (two violations may need the same fix), in location order."""
    from continuous.common.errors import ContinuousError
    from continuous.ops.execution import run_scenario

    done: dict[tuple[str, tuple[tuple[str, str], ...]], FixResult] = {}
    out: list[FixResult] = []
    for v in violations:
        if not v.fix_scenario:
            continue
        key = (v.fix_scenario, tuple(sorted((k, str(val)) for k, val in v.fix_params.items())))
        if key in done:
            continue
        result = FixResult(v.standard, v.location, v.fix_scenario, dict(v.fix_params), "failed")
        try:
            outcome = run_scenario(rule_base, worktree, v.fix_scenario, v.fix_params, store=store,
                                   reason=f"check --fix: {v.standard} at {v.location}")
            result.status = outcome.status
            result.execution_id = outcome.execution_id
            result.error = outcome.error
        except ContinuousError as exc:
            result.error = exc.render()
        done[key] = result
        out.append(result)
    return out


def _task_json(task: Any) -> dict[str, Any]:
    return {"id": task.id, "title": task.title, "dedup_key": task.dedup_key, "status": task.status}


def _sync_tasks(report: CheckReport, store: TrackingStore, worktree: Path, checked: list[str],
                fixes: list[FixResult]) -> None:
    failed_fix = {(f.standard, f.location) for f in fixes if f.status != "success"}
    wanted: dict[str, Violation] = {}
    for v in report.violations:
        if v.fixable and (v.standard, v.location) not in failed_fix:
            continue  # `check --fix` repairs it; no task needed
        wanted.setdefault(v.dedup_key, v)
    existing = {t.dedup_key: t for t in store.list_tasks("open", source=TASK_SOURCE)}
    for key, v in wanted.items():
        if key in existing:
            report.tasks_kept.append(_task_json(existing[key]))
            continue
        task = store.create_task(
            f"[{v.standard}] {v.message}",
            f"{v.location}: {v.message}\nseverity: {v.severity}\nfound by `continuous check` "
            f"(standard {v.standard}); it closes itself when the violation is gone.",
            source=TASK_SOURCE, worktree=str(worktree), dedup_key=key,
        )
        report.tasks_opened.append(_task_json(task))
    current = {v.dedup_key for v in report.violations}
    for key, task in existing.items():
        if key is None or key in wanted:
            continue
        standard = key.split(":", 1)[0]
        if standard not in checked or (task.worktree and Path(task.worktree) != worktree):
            continue
        reason = "violation is gone" if key not in current else "violation is now fixable by `check --fix`"
        closed = store.close_task(task.id, reason)
        report.tasks_closed.append(_task_json(closed))

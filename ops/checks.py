"""`continuous check`: standards violations, self-healing fixes and the dev tasks that track the rest.

A fixable violation is repaired by running its fix scenario through the executor like any other run
(checkpointed, recorded, reversible with `continuous rollback`). A violation without a fix (or whose fix
failed) is tracked as one open `dev_tasks` row keyed on `standard:path:line`; when a later check no longer
finds it, its task is closed. A task closed as "won't fix" (`continuous tasks close ID --wont-fix`) stays closed.

Only errors fail a check; warnings too under `strict`. Violations recorded in the repository's baseline file
(`continuous check --baseline`, `.continuous-baseline.json`) are reported apart and never fail it, so only new ones
do; `continuous: ignore RULE` comments (see continuous.ops.standards) accept single places."""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from continuous.dsl.model import RuleBase
from continuous.ops.standards import Violation, evaluate, select_standards

if TYPE_CHECKING:
    from continuous.store.repository import TrackingStore

TASK_SOURCE = "check"
WONT_FIX = "wontfix"
BASELINE_FILE = ".continuous-baseline.json"
BASELINE_VERSION = 1


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
    tasks_wont_fix: list[dict[str, Any]] = field(default_factory=list)
    baselined: list[Violation] = field(default_factory=list)
    ignored: list[Violation] = field(default_factory=list)
    strict: bool = False
    baseline_written: str | None = None
    baseline_fixed: int = 0  # entries of the baseline that no violation matches any more

    @property
    def failing(self) -> list[Violation]:
        """The violations that fail the check: errors, and warnings under --strict (never info)."""
        levels = ("error", "warning") if self.strict else ("error",)
        return [v for v in self.violations if v.severity in levels]

    @property
    def failed(self) -> bool:
        return bool(self.failing)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": not self.failed,
            "strict": self.strict,
            "violations": [v.to_json() for v in self.violations],
            "count": len(self.violations),
            "failing": len(self.failing),
            "baselined": [v.to_json() for v in self.baselined],
            "baseline": {"file": BASELINE_FILE, "written": self.baseline_written, "fixed": self.baseline_fixed},
            "ignored": [v.to_json() for v in self.ignored],
            "fixes": [f.to_json() for f in self.fixes],
            "tasks": {
                "opened": self.tasks_opened,
                "kept": self.tasks_kept,
                "closed": self.tasks_closed,
                "wont_fix": self.tasks_wont_fix,
            },
        }


def run_check(
    rule_base: RuleBase,
    worktree: Path,
    *,
    store: TrackingStore | None = None,
    only: Sequence[str] | None = None,
    fix: bool = False,
    strict: bool = False,
    write_baseline: bool = False,
) -> CheckReport:
    worktree = Path(worktree).resolve()
    ignored: list[Violation] = []
    violations = evaluate(rule_base, worktree, only=only, ignored=ignored)
    fixes: list[FixResult] = []
    if fix and any(v.fixable for v in violations):
        fixes = apply_fixes(rule_base, worktree, violations, store=store)
        ignored = []
        violations = evaluate(rule_base, worktree, only=only, ignored=ignored)
    checked = select_standards(rule_base, only)
    found = list(violations)
    if write_baseline:
        written = write_baseline_file(worktree, violations, {s.id for s in checked})
        report = CheckReport(
            [], fixes, baselined=violations, ignored=ignored, strict=strict, baseline_written=str(written)
        )
    else:
        new, known, fixed = split_baselined(worktree, read_baseline(worktree), violations, {s.id for s in checked})
        report = CheckReport(new, fixes, baselined=known, ignored=ignored, strict=strict, baseline_fixed=fixed)
    if store is not None:
        _sync_tasks(report, found, store, worktree, [s.id for s in checked], fixes)
        _record_results(store, worktree, checked, found, fixes)
    return report


# ---------------------------------------------------------------- the baseline file


def fingerprint(worktree: Path, v: Violation) -> str:
    """What identifies a violation across edits elsewhere in its file: the text of its line (not its number)."""
    text = ""
    if v.path:
        try:
            lines = (worktree / v.path).read_text(encoding="utf-8", errors="replace").splitlines()
            text = lines[v.line - 1].strip() if 0 < v.line <= len(lines) else ""
        except OSError:
            text = ""
    return hashlib.sha256(f"{v.standard}\0{v.path}\0{text}".encode()).hexdigest()[:16]


def _entry_key(entry: dict[str, Any]) -> tuple[str, str, str]:
    return (str(entry.get("standard", "")), str(entry.get("path", "")), str(entry.get("fingerprint", "")))


def read_baseline(worktree: Path) -> list[dict[str, Any]]:
    from continuous.common.errors import UserError

    path = worktree / BASELINE_FILE
    if not path.exists():
        return []
    hint = "rewrite it with `continuous check --baseline`"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise UserError(f"{path}: not a readable baseline: {exc}", hint=hint) from None
    if (
        not isinstance(data, dict)
        or data.get("version") != BASELINE_VERSION
        or not isinstance(data.get("violations"), list)
    ):
        raise UserError(f"{path}: not a baseline of version {BASELINE_VERSION}", hint=hint)
    return [e for e in data["violations"] if isinstance(e, dict)]


def split_baselined(
    worktree: Path, entries: list[dict[str, Any]], violations: Sequence[Violation], checked: set[str]
) -> tuple[list[Violation], list[Violation], int]:
    """(new violations, those the baseline accepts, baseline entries of checked standards no longer found).
    Entries count: a baseline with one entry accepts one violation of that key, not every one."""
    if not entries:
        return list(violations), [], 0
    budget = Counter(_entry_key(e) for e in entries if e.get("standard") in checked)
    new: list[Violation] = []
    known: list[Violation] = []
    for v in violations:
        key = (v.standard, v.path, fingerprint(worktree, v))
        if budget[key] > 0:
            budget[key] -= 1
            known.append(v)
        else:
            new.append(v)
    return new, known, sum(n for n in budget.values() if n > 0)


def write_baseline_file(worktree: Path, violations: Sequence[Violation], checked: set[str]) -> Path:
    """Record the violations of the checked standards; the entries of other standards are kept as they were."""
    kept = [e for e in read_baseline(worktree) if e.get("standard") not in checked]
    entries = kept + [
        {
            "standard": v.standard,
            "path": v.path,
            "line": v.line,
            "fingerprint": fingerprint(worktree, v),
            "message": v.message,
        }
        for v in violations
    ]
    entries.sort(key=lambda e: (str(e.get("path", "")), int(e.get("line", 0) or 0), str(e.get("standard", ""))))
    data = {
        "version": BASELINE_VERSION,
        "about": "Standards violations accepted as they are: `continuous check` reports them apart and fails only "
        "on new ones. Rewritten by `continuous check --baseline`; see docs/standards.md.",
        "violations": entries,
    }
    path = worktree / BASELINE_FILE
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def _record_results(
    store: TrackingStore,
    worktree: Path,
    checked: Sequence[Any],
    violations: Sequence[Violation],
    fixes: Sequence[FixResult],
) -> None:
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
        [
            {"standard": s.id, "severity": s.severity, "violations": counts.get(s.id, 0), "fixed": fixed.get(s.id, 0)}
            for s in checked
        ],
        worktree=str(worktree),
        head_commit=head,
    )


def apply_fixes(
    rule_base: RuleBase, worktree: Path, violations: Sequence[Violation], *, store: TrackingStore | None
) -> list[FixResult]:
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
            outcome = run_scenario(
                rule_base,
                worktree,
                v.fix_scenario,
                v.fix_params,
                store=store,
                reason=f"check --fix: {v.standard} at {v.location}",
            )
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


def _sync_tasks(
    report: CheckReport,
    found: Sequence[Violation],
    store: TrackingStore,
    worktree: Path,
    checked: list[str],
    fixes: list[FixResult],
) -> None:
    """Tasks follow every violation found (baselined ones too: accepted is not solved), except those a person
    closed as won't fix: the latest task of a key decides, so a won't-fix task is not opened again."""
    failed_fix = {(f.standard, f.location) for f in fixes if f.status != "success"}
    wanted: dict[str, Violation] = {}
    for v in found:
        if v.fixable and (v.standard, v.location) not in failed_fix:
            continue  # `check --fix` repairs it; no task needed
        wanted.setdefault(v.dedup_key, v)
    existing = {t.dedup_key: t for t in store.list_tasks("open", source=TASK_SOURCE)}
    wont_fix = {t.dedup_key: t for t in store.list_tasks(WONT_FIX, source=TASK_SOURCE)}
    for key, v in wanted.items():
        if key in existing:
            report.tasks_kept.append(_task_json(existing[key]))
            continue
        if key in wont_fix:
            report.tasks_wont_fix.append(_task_json(wont_fix[key]))
            continue
        task = store.create_task(
            f"[{v.standard}] {v.message}",
            f"{v.location}: {v.message}\nseverity: {v.severity}\nfound by `continuous check` "
            f"(standard {v.standard}); it closes itself when the violation is gone, or close it as won't fix "
            f"(`continuous tasks close ID --wont-fix`) to keep it closed.",
            source=TASK_SOURCE,
            worktree=str(worktree),
            dedup_key=key,
        )
        report.tasks_opened.append(_task_json(task))
    current = {v.dedup_key for v in found}
    for key, task in existing.items():
        if key is None or key in wanted:
            continue
        standard = key.split(":", 1)[0]
        if standard not in checked or (task.worktree and Path(task.worktree) != worktree):
            continue
        reason = "violation is gone" if key not in current else "violation is now fixable by `check --fix`"
        closed = store.close_task(task.id, reason)
        report.tasks_closed.append(_task_json(closed))

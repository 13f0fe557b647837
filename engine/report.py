"""Plain-text renderings of executor results, shared by the CLI and the planner's `plan --dry-run`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from continuous.common.humanize import duration

if TYPE_CHECKING:
    from continuous.engine.results import DryRunReport, ExecutionResult
    from continuous.store.records import EventRecord, ExecutionRecord


def _params(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items() if v != "")


def _conventions(report: DryRunReport) -> list[str]:
    """The conventions the plan read that .continuous.toml does not set: a detected folder or prefix, or a
    default, deserves a look before anything is written. Each as the line that would set it in the file."""
    unset = [c for c in report.conventions if c.source != "file"]
    if not unset:
        return []
    out = ["", "Conventions used, not set in .continuous.toml (`continuous conventions` shows all):"]
    width = max(len(f"{c.key} = {_toml(c.value)}") for c in unset)
    for c in unset:
        out.append(f"  {f'{c.key} = {_toml(c.value)}':<{width}}  {c.source}: {c.evidence}")
    return out


def _toml(value: str | list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in value) + "]" if isinstance(value, list) else json.dumps(value)


def render_dry_run(report: DryRunReport, *, diffs: bool = True) -> str:
    out = [
        f"Dry run on {report.branch or '(detached)'} at {report.head[:12]} in {report.worktree}",
        "Nothing has been changed.",
        "",
        "Plan:",
    ]
    for item in report.items:
        after = f" (after {', '.join(str(a + 1) for a in item.after)})" if item.after else ""
        out.append(f"  {item.index + 1}. {item.scenario} {_params(item.params)}  [{item.role}: {item.reason}]{after}")
    if len(report.branches) > 1:
        out.append(
            "  independent branches: " + "; ".join(", ".join(str(i + 1) for i in group) for group in report.branches)
        )
    for skipped in report.skipped:
        out.append(f"  - skip {skipped['scenario']} {_params(skipped.get('params') or {})}: {skipped['reason']}")
    out += ["", "Steps:"]
    for s in report.steps:
        note = "" if s.predicted else "  (effects not predictable)"
        out.append(f"  {s.item + 1}.{s.number} {s.scenario} › {s.name}: {s.action}{note}")
    out += ["", f"Files ({len(report.files)}):"]
    for f in report.files:
        out.append(f"  {f.change:<9} {f.path}")
    if not report.files:
        out.append("  (none)")
    out += _conventions(report)
    sy = report.systems
    out += ["", "Systems affected:"]
    for label, values in (
        ("apps", sy.apps),
        ("services", sy.services),
        ("tables", sy.tables),
        ("ports", sy.ports),
        ("pipelines", sy.pipelines),
    ):
        out.append(f"  {label:<10} {', '.join(str(v) for v in values) or '-'}")
    out += ["", f"Estimated time: {duration(report.estimate_seconds)}"]
    for src in report.estimate_sources:
        out.append(f"  {src}")
    if report.notes:
        out += ["", "Notes:"] + [f"  - {n}" for n in report.notes]
    out += ["", f"Risk: {report.risk.level}"]
    out += [f"  - {r}" for r in report.risk.reasons]
    if report.problems:
        out += ["", "Predicted problems:"] + [f"  ! {p}" for p in report.problems]
    if diffs and report.files:
        out += ["", "Diffs:"]
        for f in report.files:
            out.append(f.diff.rstrip("\n"))
    return "\n".join(out) + "\n"


def render_result(result: ExecutionResult) -> str:
    if result.status == "skipped":
        return f"Execution {result.execution_id}: {result.error}\n"
    out = [f"Execution {result.execution_id}: {result.status} in {duration(result.seconds)}"]
    a = result.artifacts
    for label, paths in (("created", a.created), ("modified", a.modified), ("deleted", a.deleted)):
        for p in paths:
            out.append(f"  {label:<9} {p}")
    for item in result.items:
        if item.status not in ("success",):
            out.append(f"  {item.scenario}: {item.status}")
    if result.pending_migrations:
        out.append(
            "PENDING migrations (no target database configured; set CONTINUOUS_TARGET_DATABASE_URL): "
            + ", ".join(result.pending_migrations)
        )
    if result.ports:
        out.append("ports allocated: " + ", ".join(str(p) for p in result.ports))
    if result.commit:
        out.append(f"committed as {result.commit[:12]}")
    elif result.checkpoints and result.ok:
        out.append(
            f"checkpoints: refs/continuous/{result.execution_id}/1..{len(result.checkpoints)} "
            "(HEAD and your index untouched)"
        )
    if result.commit_error:
        out.append("commit failed: " + result.commit_error)
    if result.error:
        out.append(("stopped: " if result.status == "interrupted" else "error: ") + result.error)
    out.extend("warning: " + w for w in result.warnings)
    return "\n".join(out) + "\n"


def render_status(record: ExecutionRecord, events: Sequence[EventRecord] = ()) -> str:
    dur = duration(record.duration_seconds) if record.completed_at else "running"
    out = [
        f"Execution {record.id} ({record.kind}) {record.scenario_id or 'plan'}: {record.status}",
        f"  worktree {record.worktree} branch {record.branch or '-'} by {record.executed_by or '-'}",
        f"  started {record.started_at:%Y-%m-%d %H:%M:%S}  duration {dur}",
    ]
    for e in events:
        d = e.details or {}
        how = "rolled back" if d.get("manual", True) else "rolled back after the failure"
        counts = f"{d.get('restored', 0)} restored, {d.get('removed', 0)} removed" if e.kind == "rollback" else ""
        out.append(
            f"  {how if e.kind == 'rollback' else e.kind} {e.created_at:%Y-%m-%d %H:%M:%S} by {e.by or '-'}"
            + (f" ({counts}{', forced' if d.get('forced') else ''})" if counts else "")
        )
    plan_items = (record.plan or {}).get("items", []) if isinstance(record.plan, dict) else []
    by_index = {i: c for i, c in enumerate(record.children)}
    if plan_items:
        out.append("  plan:")
        for i, item in enumerate(plan_items):
            child = by_index.get(i)
            status = child.status if child else "pending"
            out.append(f"    {i + 1}. {item['scenario']} {_params(item.get('params') or {})}: {status}")
    for child in record.children:
        out.append(f"  {child.scenario_id} [{child.id[:8]}]: {child.status}")
        for s in child.steps:
            cp = f" @{s.checkpoint_commit[:10]}" if s.checkpoint_commit else ""
            out.append(f"    {s.step_number:>4}. {s.step_name}: {s.status}{cp}")
    for s in record.steps:
        out.append(f"  {s.step_number:>4}. {s.step_name}: {s.status}")
    if record.artifacts:
        from continuous.engine.results import Artifacts

        arts = Artifacts.from_stored(record.artifacts)
        for label in ("created", "modified", "deleted"):
            for p in getattr(arts, label):
                out.append(f"  {label:<9} {p}")
    if record.error_details:
        out.append("  error: " + record.error_details.replace("\n", "\n         "))
    return "\n".join(out) + "\n"

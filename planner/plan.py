"""`continuous plan`: a suggestion frozen into the saved-plan format, optionally dry-run by the engine.

The saved plan carries the HEAD commit and the rule-base hash it was made against; `continuous run-plan`
refuses it when either has moved, so what was reviewed is what runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from continuous.common.errors import UserError

if TYPE_CHECKING:
    from continuous.engine.estimates import Estimator
    from continuous.engine.plan import SavedPlan


def make_plan(
    text: str,
    *,
    dry_run: bool = False,
    out: Path | None = None,
    worktree: Path | None = None,
    estimator: Estimator | None = None,
    params: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The suggestion for `text`, frozen into a saved plan against HEAD; `dry_run` adds the engine's dry-run,
    with durations from `estimator` (the CLI passes the execution history's)."""
    from continuous.common import gitinfo
    from continuous.planner.suggest import load_context, suggest

    ctx = load_context(worktree)
    suggestion = suggest(text, ctx, params=params)
    result: dict[str, Any] = {"suggestion": suggestion.to_json()}
    if ctx.worktree is None:
        if out is not None or dry_run:
            raise UserError(
                "a plan is made against a git worktree; run this inside one",
                hint="cd into your repository (git init creates one)",
            )
        return result
    head = gitinfo.git(["rev-parse", "HEAD"], ctx.worktree, check=False) or ""
    if not head:
        raise UserError(f"{ctx.worktree} has no commit yet", hint="commit once; plans are pinned to HEAD")
    from continuous.engine.plan import SavedItem, SavedPlan

    saved = SavedPlan(
        request=suggestion.request,
        head=head,
        rule_base_hash=ctx.rule_base.content_hash(),
        items=tuple(
            SavedItem(
                scenario=i.scenario, params=dict(i.params), role=i.role, reason=i.reason, after=i.after, group=i.group
            )
            for i in suggestion.plan
        ),
    )
    result["plan"] = saved.to_json()
    missing = [f"{i.scenario}: {', '.join(i.missing)}" for i in suggestion.plan if i.missing]
    if missing:
        result["missing"] = missing
    if missing and (dry_run or out is not None):
        raise UserError(
            "the plan still misses parameters: " + "; ".join(missing),
            hint="give them with --param NAME=VALUE (or run on a terminal to be asked)",
        )
    if dry_run and suggestion.plan:
        result.update(_dry_run(saved, ctx, estimator))
    if out is not None:
        if not suggestion.plan:
            raise UserError("nothing to save: the plan is empty")
        saved.write(out)
        result["saved"] = str(out)
    return result


def _dry_run(saved: SavedPlan, ctx: Any, estimator: Estimator | None) -> dict[str, Any]:
    """The engine's dry-run of the whole plan (files, systems, duration, risk); it changes nothing."""
    try:
        from continuous.engine import executor
    except ModuleNotFoundError:
        raise UserError("dry-run needs the engine's executor, which is not installed") from None
    dry = getattr(executor, "dry_run_plan", None) or getattr(executor, "dry_run", None)
    if dry is None:
        raise UserError("this engine has no dry-run entry point")
    report = dry(saved, worktree=ctx.worktree, rule_base=ctx.rule_base, estimator=estimator)
    data = report.model_dump(mode="json") if hasattr(report, "model_dump") else report
    text = report.render() if hasattr(report, "render") else json.dumps(data, indent=2, default=str)
    return {"dry_run": data, "dry_run_text": text}

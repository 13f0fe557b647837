"""`continuous plan`: a suggestion frozen into the saved-plan format, optionally dry-run by the engine.

The saved plan carries the HEAD commit and the rule-base hash it was made against; `continuous run-plan`
refuses it when either has moved, so what was reviewed is what runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from continuous.common.errors import UserError

if TYPE_CHECKING:
    from continuous.engine.estimates import Estimator
    from continuous.engine.plan import SavedPlan
    from continuous.engine.results import DryRunReport
    from continuous.planner.result import Suggestion
    from continuous.planner.suggest import Context


@dataclass(frozen=True)
class MadePlan:
    """What `continuous plan` made: the suggestion, the plan frozen against HEAD (none outside a worktree), the
    parameters it still misses, and, when asked, the engine's dry-run and where the plan was saved."""

    suggestion: Suggestion
    saved: SavedPlan | None = None
    missing: tuple[str, ...] = ()
    dry_run: DryRunReport | None = None
    saved_to: Path | None = None

    def to_json(self, *, with_text: bool = True) -> dict[str, Any]:
        """The `--json` document; `with_text` adds the dry-run as the terminal shows it (`dry_run_text`)."""
        out: dict[str, Any] = {"suggestion": self.suggestion.to_json()}
        if self.saved is not None:
            out["plan"] = self.saved.to_json()
        if self.missing:
            out["missing"] = list(self.missing)
        if self.dry_run is not None:
            out["dry_run"] = self.dry_run.model_dump(mode="json")
            if with_text:
                out["dry_run_text"] = self.dry_run.render()
        if self.saved_to is not None:
            out["saved"] = str(self.saved_to)
        return out


def make_plan(
    text: str,
    *,
    dry_run: bool = False,
    out: Path | None = None,
    worktree: Path | None = None,
    estimator: Estimator | None = None,
    params: Mapping[str, str] | None = None,
) -> MadePlan:
    """The suggestion for `text`, frozen into a saved plan against HEAD; `dry_run` adds the engine's dry-run,
    with durations from `estimator` (the CLI passes the execution history's)."""
    from continuous.common import gitinfo
    from continuous.planner.suggest import load_context, suggest

    ctx = load_context(worktree)
    suggestion = suggest(text, ctx, params=params)
    if ctx.worktree is None:
        if out is not None or dry_run:
            raise UserError(
                "a plan is made against a git worktree; run this inside one",
                hint="cd into your repository (git init creates one)",
            )
        return MadePlan(suggestion)
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
    missing = tuple(f"{i.scenario}: {', '.join(i.missing)}" for i in suggestion.plan if i.missing)
    if missing and (dry_run or out is not None):
        raise UserError(
            "the plan still misses parameters: " + "; ".join(missing),
            hint="give them with --param NAME=VALUE (or run on a terminal to be asked)",
        )
    report = _dry_run(saved, ctx, estimator) if dry_run and suggestion.plan else None
    if out is not None:
        if not suggestion.plan:
            raise UserError("nothing to save: the plan is empty")
        saved.write(out)
    return MadePlan(suggestion, saved, missing, report, out)


def _dry_run(saved: SavedPlan, ctx: Context, estimator: Estimator | None) -> DryRunReport:
    """The engine's dry-run of the whole plan (files, systems, duration, risk); it changes nothing."""
    from continuous.engine.simulate import dry_run_plan

    return dry_run_plan(saved, worktree=ctx.worktree, rule_base=ctx.rule_base, estimator=estimator)

"""Operations run scenarios like a user would: through the executor, checkpointed, recorded, reversible."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from continuous.dsl.model import RuleBase

if TYPE_CHECKING:
    from continuous.store.repository import TrackingStore


@dataclass
class Outcome:
    execution_id: str | None
    status: str
    error: str | None = None
    changed: list[str] = field(default_factory=list)


def run_scenario(
    rule_base: RuleBase | None,
    worktree: Path,
    scenario_id: str,
    params: Mapping[str, Any],
    *,
    store: TrackingStore | None = None,
    positional: Sequence[str] = (),
    reason: str = "requested",
    commit: bool = False,
    executed_by: str | None = None,
) -> Outcome:
    """Plan (with dependencies) and run one scenario; bad input raises UserError before anything changes.

    The executor opens the store the repository is configured with, the same one `store` points at;
    `rule_base` is the one the caller evaluated (the executor reloads the repository's own, which is the same
    files)."""
    from continuous.engine.executor import Executor, Request

    ex = Executor(worktree, executed_by=executed_by or "continuous-ops")
    try:
        plan = ex.build_plan(
            [
                Request(
                    scenario=scenario_id,
                    positional=tuple(str(p) for p in positional),
                    params={k: v for k, v in params.items()},
                    reason=reason,
                )
            ],
            allocate_ports=True,
        )
        result = ex.run(plan, commit=commit)
    finally:
        ex.close()
    art = result.artifacts
    changed = sorted({*art.created, *art.modified, *art.deleted})
    return Outcome(result.execution_id, result.status, result.error, changed)

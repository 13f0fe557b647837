"""What the commands do, without their printing: the CLI and the MCP server (continuous.cli.mcp_server) call the
same functions, so a check or an error message is written once and both interfaces say the same thing.

Everything here takes the worktree explicitly: the CLI passes the current directory, the MCP server the worktree
it serves. Only the standard library at module level (the CLI imports this module to print `--help`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from continuous.dsl.model import RuleBase, Scenario
    from continuous.engine.estimates import Estimator
    from continuous.engine.executor import Executor
    from continuous.engine.facts import Fact
    from continuous.engine.run.events import RunObserver
    from continuous.store.records import ExecutionRecord


def refresh_living_docs(root: Path, rule_base: RuleBase) -> list[Path]:
    """Keep the repository's living inventory current after a run, where the repository has opted in (the
    inventory exists, i.e. `continuous docs build` was run there once)."""
    from continuous.ops.livedocs import REPO_OUT
    from continuous.ops.livedocs import refresh_living_docs as refresh

    if not (root / REPO_OUT / "inventory.md").exists():
        return []
    return refresh(root, rule_base)


def estimator() -> Estimator:
    """Dry-run estimates from the execution history: the analytics export, else the tracking store (at least 3
    finished runs), else the scenario's declared `estimate`."""
    from continuous.analytics.estimates import estimate

    return estimate


def executor(root: Path | None = None, observer: RunObserver | None = None, *, living_docs: bool = True) -> Executor:
    """The executor a run, resume, rollback or dry-run uses; runs keep the living docs current."""
    from continuous.engine.executor import Executor

    return Executor(
        root,
        observer=observer,
        after_success=[refresh_living_docs] if living_docs else [],
        estimator=estimator(),
    )


def facts(ex: Executor, fact_type: str | None = None) -> list[Fact]:
    """The repository's facts (of one declared type), in a stable order."""
    found = ex.facts()
    if fact_type:
        known = {d.fact_type for d in ex.rule_base.discovers}
        if fact_type not in known:
            from continuous.common.errors import UserError
            from continuous.dsl.suggest import closest

            guess = closest(fact_type, sorted(known))
            raise UserError(
                f"no discover declaration for fact type {fact_type!r}",
                hint=f"did you mean {guess!r}?" if guess else f"known: {', '.join(sorted(known))}",
            )
        found = [f for f in found if f.type == fact_type]
    found.sort(key=lambda f: (f.type, f.source or ""))
    return found


def aliases_of(rule_base: RuleBase, scenario_id: str) -> list[str]:
    return sorted(a for a, target in rule_base.aliases.items() if target == scenario_id)


def select_scenarios(rule_base: RuleBase, object_type: str | None = None) -> list[Scenario]:
    from continuous.common.errors import UserError
    from continuous.dsl.model import OBJECT_TYPES
    from continuous.dsl.suggest import did_you_mean

    if object_type is not None and object_type not in OBJECT_TYPES:
        raise UserError(
            f"unknown object type {object_type!r}; expected one of: {', '.join(OBJECT_TYPES)}",
            hint=did_you_mean(object_type, OBJECT_TYPES),
        )
    return [
        s
        for s in sorted(rule_base.scenarios.values(), key=lambda s: (s.object_type, s.id))
        if object_type is None or s.object_type == object_type
    ]


def scenario_row(rule_base: RuleBase, s: Scenario) -> dict[str, Any]:
    """One line of `scenarios list --json`."""
    return {
        "id": s.id,
        "object_type": s.object_type,
        "summary": s.summary,
        "automation": s.automation,
        "estimate_seconds": s.estimate_seconds,
        "aliases": aliases_of(rule_base, s.id),
        "params": [p.name for p in s.params],
        "requires": [d.scenario for d in s.dependencies],
        "source": s.source,
        "origin": rule_base.origins.get(s.id),
        "overrides": o.replaced if (o := replaced_by(rule_base, s.id)) else None,
    }


def replaced_by(rule_base: RuleBase, scenario_id: str) -> Any:
    """The Override record when this scenario replaced one of a lower-ranked source (docs/packs.md), else None."""
    for o in rule_base.overrides:
        if o.kind == "scenario" and o.id == scenario_id:
            return o
    return None


def find_scenario(rule_base: RuleBase, scenario_id: str) -> Scenario:
    from continuous.common.errors import UserError
    from continuous.dsl.suggest import did_you_mean

    scenario = rule_base.scenario(scenario_id)
    if scenario is None:
        raise UserError(
            f"unknown scenario {scenario_id!r}",
            hint=did_you_mean(scenario_id, [*rule_base.scenarios, *rule_base.aliases])
            or "`continuous scenarios list` shows every scenario",
        )
    return scenario


def scenario_detail(rule_base: RuleBase, s: Scenario) -> dict[str, Any]:
    """`scenarios show --json`: the scenario as the DSL declared it, plus its alias names, where it comes from
    (`origin`) and what it overrides."""
    data = s.model_dump(mode="json")
    data["alias_names"] = aliases_of(rule_base, s.id)
    data["origin"] = rule_base.origins.get(s.id)
    replaced = replaced_by(rule_base, s.id)
    data["overrides"] = replaced.model_dump(mode="json") if replaced else None
    return data


def list_executions(
    root: Path,
    *,
    scenario: str | None = None,
    status: str | None = None,
    worktree: Path | None = None,
    kind: str | None = None,
    limit: int = 20,
) -> list[ExecutionRecord]:
    """Recorded executions, newest first (the store of the worktree `root`)."""
    from continuous.common.errors import UserError
    from continuous.store import open_store
    from continuous.store.models import EXECUTION_KINDS, EXECUTION_STATUSES

    if status is not None and status not in EXECUTION_STATUSES:
        raise UserError(f"unknown status {status!r}", hint="one of " + ", ".join(EXECUTION_STATUSES))
    if kind is not None and kind not in EXECUTION_KINDS:
        raise UserError(f"unknown kind {kind!r}", hint="run or scenario")
    wt = str(worktree.resolve()) if worktree is not None else None
    with open_store(repo=root) as store:
        return store.list_executions(scenario_id=scenario, status=status, worktree=wt, kind=kind, limit=limit)


def get_execution(root: Path | None, execution_id: str) -> ExecutionRecord:
    from continuous.store import open_store

    with open_store(repo=root) as store:
        return store.get_execution(execution_id)


def check(
    root: Path | None,
    *,
    standards: list[str] | None = None,
    fix: bool = False,
    tasks: bool = True,
    strict: bool = False,
    baseline: bool = False,
) -> Any:
    """`continuous check`: the repository against its standards (a CheckReport); tasks open and close in the
    database unless `tasks` is false. `strict`: warnings fail too; `baseline`: record today's violations in the
    repository's baseline file instead of failing on them."""
    from continuous.common.errors import UserError
    from continuous.ops.checks import run_check
    from continuous.ops.context import repo_context

    if fix and not tasks:
        raise UserError("--fix records its executions in the database; it cannot be combined with --no-tasks")
    ctx = repo_context(root)
    store = ctx.open_store() if tasks else None
    try:
        return run_check(
            ctx.rule_base,
            ctx.worktree,
            store=store,
            only=standards or None,
            fix=fix,
            strict=strict,
            write_baseline=baseline,
        )
    finally:
        if store is not None:
            store.close()

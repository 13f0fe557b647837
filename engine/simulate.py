"""Simulation and dry-run: every step of a plan applied to an in-memory overlay of the worktree.

The run simulates first with the same code, so a dry-run shows exactly what a run would do, and a run refuses
before any change when the simulation finds a problem.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from continuous.common.config import recording_conventions
from continuous.common.errors import ContinuousError
from continuous.dsl import model as m
from continuous.engine import planning
from continuous.engine import steps as st
from continuous.engine.discovery import glob_regex, list_files
from continuous.engine.estimates import Estimator
from continuous.engine.facts import Fact, FactSet, LazyFactSet
from continuous.engine.plan import FrozenPlan, SavedPlan
from continuous.engine.planning import item_now
from continuous.engine.results import ConventionUsed, DryRunReport, FileEffect, PlannedItem, PlannedStep
from continuous.engine.stepkinds import kind_of
from continuous.engine.worktree import dirty_paths

if TYPE_CHECKING:
    from continuous.engine.executor import Executor
    from continuous.store.repository import TrackingStore


@dataclass
class Simulation:
    steps: list[PlannedStep]
    before: dict[str, bytes | None]
    after: dict[str, bytes | None]
    step_of: dict[str, str]
    problems: list[str]
    sql_apply: int = 0
    provided: list[Fact] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    commanded: dict[str, tuple[str, bool]] = field(default_factory=dict)  # path -> (step, existed before)

    def effects(self) -> list[tuple[FileEffect, bytes | None]]:
        out: list[tuple[FileEffect, bytes | None]] = []
        for path in sorted(set(self.after) | set(self.commanded)):
            if path in self.commanded:
                step, existed = self.commanded[path]
                out.append(
                    (
                        FileEffect(
                            path=path,
                            change="modified" if existed or self.before.get(path) is not None else "created",
                            diff=f"(content written by the command of {step})\n",
                            step=self.step_of.get(path, step),
                            sha256=None,
                        ),
                        None,
                    )
                )
                continue
            change = st.FileChange(path, self.before[path], self.after[path])
            if change.before == change.after:
                continue
            out.append(
                (
                    FileEffect(
                        path=path,
                        change=change.kind,
                        diff=change.diff(),
                        step=self.step_of[path],
                        sha256=None if change.after is None else hashlib.sha256(change.after).hexdigest(),
                    ),
                    change.after,
                )
            )
        return out


class _NoHistory:
    """Stands in for a store that does not exist yet, so an estimate never creates one."""

    def scenario_stats(self, scenario_id: str) -> Any:
        from types import SimpleNamespace

        return SimpleNamespace(executions=0, successes=0, failures=0, median_seconds=None, p90_seconds=None)


def simulate(ex: Executor, plan: FrozenPlan, now: datetime) -> Simulation:
    """Every step of the plan applied to an in-memory overlay of the worktree (nothing is written)."""
    from continuous.engine.resolution import provided_facts

    fs = st.VirtualFS(ex.root)
    sim = Simulation(steps=[], before={}, after={}, step_of={}, problems=[])
    after_command = False
    cached = ex.facts_cache
    # indexing ten thousand facts is only worth it when a precondition or a template asks
    known = LazyFactSet(lambda: cached if cached is not None else ex.facts())
    ex.facts_cache = None
    for i, item in enumerate(plan.items):
        sc = ex.scenario(item.scenario)
        ctx = st.StepContext(ex.root, sc, item.params, now=item_now(now, i), facts=known.query())
        failed = preconditions(ex, sc, ctx, known, fs)
        if failed and not after_command:
            sim.problems.extend(f"{sc.id}: precondition failed: {f}" for f in failed)
        for n, step in enumerate(sc.steps, 1):
            action = kind_of(step).describe(step, ctx)
            files: list[str] = []
            predicted = True
            unmet = st.unmet_conditions(step, ctx, fs)
            if unmet:
                action = f"skipped ({', '.join(unmet)}): {action}"
            else:
                where = f"{sc.id} › {step.name}"
                found = kind_of(step).simulate(step, ctx, fs, after_command=after_command)
                predicted = found.predicted
                if found.problem:
                    sim.problems.append(f"{where}: {found.problem}")
                for ch in found.changes:
                    sim.before.setdefault(ch.path, ch.before)
                    sim.after[ch.path] = ch.after
                    sim.step_of.setdefault(ch.path, where)
                    files.append(ch.path)
                sim.notes.extend(f"{where}: {n}" for n in ctx.notes)
                ctx.notes.clear()
                for rel, existed in found.commanded:
                    sim.commanded.setdefault(rel, (where, existed))
                    files.append(rel)
                after_command = after_command or found.command
                sim.sql_apply += found.sql_apply
            sim.steps.append(
                PlannedStep(
                    item=i,
                    scenario=sc.id,
                    number=n,
                    name=step.name,
                    kind=step.kind,
                    action=action,
                    files=files,
                    predicted=predicted,
                )
            )
        for v in sc.validations:
            _check_validation_paths(ex.root, v, ctx)
        for fact in provided_facts(sc, item.params):
            known.add(fact)
            sim.provided.append(fact)
    return sim


def preconditions(
    ex: Executor,
    sc: m.Scenario,
    ctx: st.StepContext,
    facts: FactSet | LazyFactSet,
    fs: st.VirtualFS,
    touched: Iterable[str] = (),
) -> list[str]:
    from continuous.engine.resolution import render_pattern

    failed = []
    for pre in sc.preconditions:
        if pre.kind in ("fact", "no_fact") and pre.pattern is not None:
            rendered = render_pattern(pre.pattern, ctx.variables)
            if rendered is None:
                continue
            known = facts.get() if isinstance(facts, LazyFactSet) else facts
            holds = known.holds(*rendered)
            if holds != (pre.kind == "fact"):
                args = ", ".join(f"{k}: {v!r}" for k, v in rendered[1].items())
                failed.append(f"{'' if pre.kind == 'fact' else 'not '}{rendered[0]}({args})")
        elif pre.kind == "expr" and pre.path is not None:
            reason = st.expression_unmet(ctx.render(pre.path, "precondition"), pre.path)
            if reason:
                failed.append(reason)
        elif pre.kind in ("exists", "missing") and pre.path is not None:
            rel = ctx.path(pre.path, "precondition path")
            exists = fs.read(rel) is not None or (ex.root / rel).exists()
            if exists != (pre.kind == "exists"):
                failed.append(f"{pre.kind} {rel}")
        elif pre.kind == "clean":
            ours = set(touched)
            dirty = [p for p in dirty_paths(ex.root) if p not in ours]
            if dirty:
                failed.append(f"clean worktree (uncommitted: {', '.join(sorted(dirty)[:5])})")
    return failed


def dry_run(ex: Executor, plan: FrozenPlan) -> DryRunReport:
    from continuous.engine.impact import assess_risk, systems_affected

    now = planning.clock_now(ex)
    with recording_conventions() as read:
        sim = simulate(ex, plan, now)
    effects = sim.effects()
    files = [e for e, _ in effects]
    store = ex.existing_store()
    items: list[PlannedItem] = []
    total = 0.0
    known_total = False
    sources: list[str] = []
    failure_rates: dict[str, float] = {}
    for i, item in enumerate(plan.items):
        sc = ex.scenario(item.scenario)
        seconds, source = _estimate(ex, sc, store, failure_rates)
        if seconds is not None:
            total += seconds
            known_total = True
        sources.append(f"{sc.id}: {source}")
        items.append(
            PlannedItem(
                index=i,
                scenario=sc.id,
                params=item.params,
                role=item.role,
                reason=item.reason,
                after=list(item.after),
                group=item.group,
                estimate_seconds=seconds,
                estimate_source=source,
            )
        )
    dirty = dirty_paths(ex.root)
    overlap = [f.path for f in files if f.path in dirty]
    systems = systems_affected(sim.provided, effects, [i.params for i in plan.items])
    without_rollback = sorted(
        {s.scenario for s in sim.steps if s.kind == "sql" and not ex.scenario(s.scenario).rollback}
    )
    risk = assess_risk(
        sim.steps,
        files,
        sql_apply=sim.sql_apply,
        scenarios_without_rollback=without_rollback,
        failure_rates=failure_rates,
        problems=sim.problems,
        dirty_overlap=overlap,
        systems=systems,
    )
    return DryRunReport(
        head=plan.head,
        rule_base_hash=plan.rule_base_hash,
        worktree=str(ex.root),
        branch=ex.ws.branch,
        items=items,
        skipped=[s.model_dump() for s in plan.skipped],
        branches=plan.groups(),
        steps=sim.steps,
        files=files,
        systems=systems,
        estimate_seconds=total if known_total else None,
        estimate_sources=sources,
        risk=risk,
        problems=sim.problems,
        notes=sim.notes,
        plan=plan.saved(),
        conventions=_conventions_used(ex, plan, read),
    )


def _conventions_used(ex: Executor, plan: FrozenPlan, read: set[str]) -> list[ConventionUsed]:
    """The conventions the simulated steps read, and those the patterns of the given parameters read (checked
    when the plan was built: create-app's name starts with the app prefix), with where each came from."""
    from continuous.common.config import convention_uses
    from continuous.dsl.params import convention_settings

    keys = set(read)
    for item in plan.items:
        for param in ex.scenario(item.scenario).params:
            if param.name in item.params:
                keys.update(convention_settings(param.pattern))
    return [ConventionUsed(**asdict(use)) for use in convention_uses(keys)]


def _estimate(
    ex: Executor, sc: m.Scenario, store: TrackingStore | None, failure_rates: dict[str, float]
) -> tuple[float | None, str]:
    """History (the estimator's, else the store's median), else the DSL estimate. Never creates a database."""
    if ex.estimator is not None:
        try:
            found = ex.estimator(sc.id, repo=ex.root, store=store if store is not None else _NoHistory(), scenario=sc)
        except Exception:  # an estimator must never break a dry-run
            found = None
        if found is not None and found.seconds is not None:
            if found.failure_rate is not None:
                failure_rates[sc.id] = found.failure_rate
            return float(found.seconds), found.reasons[0] if found.reasons else found.source
    if store is not None:
        try:
            stats = store.scenario_stats(sc.id)
        except ContinuousError:
            stats = None
        if stats is not None and stats.executions:
            failure_rates[sc.id] = stats.failures / stats.executions
            if stats.median_seconds is not None:
                return stats.median_seconds, f"median of {stats.executions} past run(s)"
    if sc.estimate_seconds is not None:
        return float(sc.estimate_seconds), "scenario estimate"
    return None, "unknown"


def _check_validation_paths(root: Path, v: m.Validation, ctx: st.StepContext) -> None:
    """The files a validation reads and the folder its command runs in stay inside the worktree; checked while
    simulating, so a hostile glob is refused before any step changes anything."""
    if isinstance(v, m.FileExists | m.FileContains):
        _glob_path(root, ctx.render(v.glob, "validation glob"), ctx.scenario.id)
    elif isinstance(v, m.CommandSucceeds) and v.cwd:
        ctx.path(v.cwd, "validation directory")


def _glob_path(root: Path, pattern: str, scenario_id: str = "") -> str:
    where = f"validation glob of {scenario_id}" if scenario_id else "validation glob"
    return st.safe_path(root, re.sub(r"[*?\[\]]", "x", pattern), what=where)


def glob_files(root: Path, pattern: str) -> list[str]:
    _glob_path(root, pattern)
    if not any(ch in pattern for ch in "*?["):
        return [pattern] if (root / pattern).exists() else []
    rx = glob_regex(pattern)
    return sorted(p for p in list_files(root) if rx.match(p) and (root / p).exists())


def validation_label(v: m.Validation, ctx: st.StepContext) -> str:
    try:
        if isinstance(v, m.FileExists):
            return f"file {ctx.render(v.glob, 'glob')} exists"
        if isinstance(v, m.FileContains):
            verb = "lacks" if v.negated else "contains"
            return f"file {ctx.render(v.glob, 'glob')} {verb} {ctx.render(v.text, 'text')!r}"
        if isinstance(v, m.CommandSucceeds):
            return "run " + " ".join(st.render_argv(v.argv, ctx))
        if isinstance(v, m.FactHolds):
            return f"fact {v.pattern.type}"
    except ContinuousError:
        pass
    return v.kind


def dry_run_plan(
    saved: SavedPlan,
    *,
    worktree: Path | str | None = None,
    rule_base: m.RuleBase | None = None,
    estimator: Estimator | None = None,
) -> DryRunReport:
    """Dry-run a saved plan (the contract's JSON): used by `continuous plan --dry-run`."""
    from continuous.engine.executor import Executor

    ex = Executor(worktree, rule_base=rule_base, estimator=estimator)
    try:
        return ex.dry_run(ex.plan_from_saved(saved))
    finally:
        ex.close()

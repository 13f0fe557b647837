"""The executor: a frozen plan in, a checkpointed, recorded, recoverable execution out.

Order of a run: resolve (the shared resolver) → simulate every file step in memory (the same code as dry-run) →
refuse before any change when the repository is not in a state to run → take the worktree's run lock → journal,
then the store row → for each plan item: check preconditions, run steps (journal first, then the change, then a
checkpoint, the journal again and the store row), validate, add the provided facts.

Endings: success; a failure runs the scenarios' rollback steps and restores every touched path to its content
from before the execution, and nothing else (the journal knows the original blob of each path, so a user's
unrelated uncommitted changes are never read or written); a stop request (Ctrl-C, SIGTERM) stops between steps
and leaves the run resumable. The journal is the truth about a run and the store its record: a crash at any
instant is finished by `resume` or undone by `rollback`, which take the run lock before they read the journal
and re-create whatever rows the store lacks.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from continuous.common import faults
from continuous.common.errors import ContinuousError, RunFailed, UserError
from continuous.dsl import model as m
from continuous.dsl.params import bind_params
from continuous.engine import record as run_record
from continuous.engine import steps as st
from continuous.engine.checkpoint import (
    Checkpointer,
    blob_at,
    commit_paths,
    drop_kept,
    find_commit,
    hash_files,
    keep_blobs,
    keep_originals,
    read_blob,
    save_blobs,
    sync_index,
)
from continuous.engine.discovery import discover, glob_regex, list_files
from continuous.engine.estimates import Estimator
from continuous.engine.facts import Fact, FactQuery, FactSet, LazyFactSet
from continuous.engine.journal import SETTLED, Journal
from continuous.engine.plan import FrozenPlan, PlanEntry, SkippedEntry
from continuous.engine.results import (
    Artifacts,
    DryRunReport,
    ExecutionResult,
    FileEffect,
    ItemResult,
    PlannedItem,
    PlannedStep,
    RollbackResult,
    StepResult,
)
from continuous.engine.worktree import (
    RunLock,
    Workspace,
    check_runnable,
    dirty_paths,
    load_repo_rule_base,
    open_workspace,
    process_start,
)

if TYPE_CHECKING:
    from continuous.store.repository import TrackingStore

JOURNAL_VERSION = 2
NOW_ENV = "CONTINUOUS_NOW"
EventSink = Callable[[str, dict[str, Any]], None]
# Called after a successful run with (worktree root, rule base); returns the files it rewrote.
AfterSuccess = Callable[[Path, m.RuleBase], list[Path]]
PORT_LOW, PORT_HIGH = 3000, 3099


@dataclass(frozen=True)
class Request:
    """One scenario the user asked for: positional values and named values, not yet validated."""

    scenario: str
    positional: tuple[str, ...] = ()
    params: dict[str, m.Scalar] = field(default_factory=dict)
    reason: str = "requested"


def fixed_now() -> datetime:
    raw = os.environ.get(NOW_ENV)
    if raw:
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise UserError(f"{NOW_ENV}={raw!r} is not an ISO date-time") from None
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.now(UTC).replace(microsecond=0)


def item_now(now: datetime, index: int) -> datetime:
    # One second apart, so two migrations rendered in one run get distinct, ordered timestamps.
    return now + timedelta(seconds=index)


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


def _executed_by() -> str:
    user = os.environ.get("CONTINUOUS_EXECUTED_BY")
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def _params_key(params: dict[str, m.Scalar]) -> str:
    import json

    return json.dumps(params, sort_keys=True, default=str)


def _guarded_sink(sink: EventSink | None) -> EventSink:
    """Progress display is best-effort: a display that fails must never interrupt a run or its rollback."""
    if sink is None:
        return lambda kind, data: None

    def emit(kind: str, data: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):  # the display's problem, never the run's
            sink(kind, data)

    return emit


class Executor:
    def __init__(
        self,
        repo: Path | str | None = None,
        *,
        database_url: str | None = None,
        on_event: EventSink | None = None,
        executed_by: str | None = None,
        rule_base: m.RuleBase | None = None,
        after_success: Sequence[AfterSuccess] = (),
        estimator: Estimator | None = None,
    ) -> None:
        self.ws: Workspace = open_workspace(repo)
        self.after_success: tuple[AfterSuccess, ...] = tuple(after_success)
        self.estimator = estimator
        self.database_url = database_url
        self.emit: EventSink = _guarded_sink(on_event)
        self.executed_by = executed_by or _executed_by()
        self._rule_base: m.RuleBase | None = rule_base
        self._store: TrackingStore | None = None
        self.allocated_ports: list[int] = []
        self._facts_cache: list[Fact] | None = None
        self._planned_ports: list[int] = []
        self._stop = False

    # ------------------------------------------------------------------ shared pieces

    def run_after_success_hooks(self) -> list[str]:
        """Upper layers (living docs) react to a finished run; a hook failing never fails the run."""
        written: list[str] = []
        for hook in self.after_success:
            try:
                paths = hook(self.root, self.rule_base)
            except Exception as exc:  # a hook is best-effort by contract
                self.emit("warning", {"message": f"after-run hook failed: {exc}"})
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

    def _now(self) -> datetime:
        """The clock for generated names: at least a second after the last run here, so two runs in one second
        (or under a pinned CONTINUOUS_NOW) still get distinct, ordered migration names."""
        now = fixed_now()
        try:
            last = datetime.fromisoformat((self.ws.state_dir / "clock").read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return now
        return max(now, last + timedelta(seconds=1))

    def _advance_clock(self, now: datetime, items: int) -> tuple[str | None, str]:
        path = self.ws.state_dir / "clock"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            before: str | None = path.read_text(encoding="utf-8").strip()
        except OSError:
            before = None
        value = item_now(now, max(items - 1, 0)).isoformat()
        path.write_text(value, encoding="utf-8")
        return before, value

    def rewind_clock(self, journal: Journal) -> None:
        """A rolled-back run gives its timestamps back, unless a later run already used the clock."""
        clock = journal.data.get("clock")
        path = self.ws.state_dir / "clock"
        if not clock:
            return
        try:
            if path.read_text(encoding="utf-8").strip() != clock[1]:
                return
        except OSError:
            return
        if clock[0] is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(clock[0], encoding="utf-8")

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    # ------------------------------------------------------------------ planning

    def build_plan(
        self,
        requests: Sequence[Request],
        *,
        request_text: str | None = None,
        allocate_ports: bool = False,
        facts: list[Fact] | None = None,
    ) -> FrozenPlan:
        from continuous.engine.resolution import PlanRequest, resolve

        if not requests:
            raise UserError("nothing to plan: no scenario given")
        facts = self.facts() if facts is None else facts
        self._facts_cache = facts
        plan_requests = []
        allocated_by_request: dict[tuple[str, str], tuple[str, ...]] = {}
        for req in requests:
            sc = self.scenario(req.scenario)
            params = bind_params(sc, list(req.positional), req.params)
            given = set(req.params) | {p.name for p in sc.positional_params()[: len(req.positional)]}
            allocated = self._ports(sc, params, facts, given, allocate=allocate_ports)
            allocated_by_request[(sc.id, _params_key(params))] = allocated
            plan_requests.append(PlanRequest(scenario=sc.id, params=params, reason=req.reason))
        resolution = resolve(self.rule_base, plan_requests, facts)
        items = []
        for i in resolution.items:
            params = dict(i.params)
            sc = self.scenario(i.scenario)
            st.check_path_params(self.root, sc, params)
            names = allocated_by_request.get((sc.id, _params_key(params)))
            if names is None:  # a dependency: its ports were never given by anyone
                given = {n for n, v in params.items() if not any(p.name == n and v == p.default for p in sc.params)}
                names = self._ports(sc, params, facts, given, allocate=allocate_ports)
            items.append(
                PlanEntry(
                    scenario=i.scenario,
                    params=params,
                    role=i.role,
                    reason=i.reason,
                    after=i.after,
                    group=i.group,
                    allocated=names,
                )
            )
        head = self.ws.head()
        if head is None:
            raise UserError(f"{self.root} has no commit yet", hint="make a first commit")
        return FrozenPlan(
            request=request_text,
            head=head,
            rule_base_hash=self.rule_base.content_hash(),
            items=tuple(items),
            skipped=tuple(
                SkippedEntry(scenario=s.scenario, params=s.params, reason=s.reason)
                for s in resolution.skipped
            ),
            worktree=str(self.root),
            branch=self.ws.branch,
        )

    def _port_params(self, sc: m.Scenario) -> list[tuple[m.Param, tuple[int, int]]]:
        """The ports a scenario takes from a range: each `port` parameter that declares a `range` is allocated in
        it when left out (a port without a range names an existing server's port, and is only checked); and
        `port: int` of a proxy, as libraries wrote it before the `port` type, in 3000-3099."""
        out = []
        for p in sc.params:
            if p.type == "port" and p.range is not None:
                bounds = p.range
            elif p.type == "int" and p.name == "port" and sc.object_type == "proxy":
                bounds = (PORT_LOW, PORT_HIGH)
            else:
                continue
            out.append((p, bounds))
        return out

    def _repository_port_range(self) -> tuple[int, int] | None:
        from continuous.common.config import load_config

        return load_config(self.root).port_range

    def _ports(
        self, sc: m.Scenario, params: dict[str, m.Scalar], facts: list[Fact], given: set[str], *, allocate: bool
    ) -> tuple[str, ...]:
        """Check the given ports against the repository's `port_range` and allocate the others from the port
        registry (the declared default first, when it is free); returns the names of the allocated ones."""
        ports = self._port_params(sc)
        if not ports and not any(p.type == "port" for p in sc.params):
            return ()
        configured = self._repository_port_range()
        for p in sc.params:
            value = params.get(p.name)
            if p.name in given and (p.type == "port" or any(p is q for q, _ in ports)) and configured \
                    and isinstance(value, int) and not configured[0] <= value <= configured[1]:
                raise UserError(
                    f"parameter {p.name} of {sc.id}: port {value} is outside this repository's port_range "
                    f"{configured[0]}-{configured[1]}",
                    hint="choose a port in that range, or widen port_range in .continuous.toml",
                )
        allocated = []
        for p, (low, high) in ports:
            if p.name in given:
                continue
            if configured:
                low, high = max(low, configured[0]), min(high, configured[1])
                if low > high:
                    raise UserError(
                        f"parameter {p.name} of {sc.id} takes ports {p.bounds()[0]}-{p.bounds()[1]}, which this "
                        f"repository's port_range {configured[0]}-{configured[1]} excludes",
                        hint="widen port_range in .continuous.toml, or give the port",
                    )
            default = p.default if isinstance(p.default, int) and low <= p.default <= high else None
            params[p.name] = self._port_for(sc, p.name, params, facts, low, high, default, allocate=allocate)
            allocated.append(p.name)
        return tuple(allocated)

    def _port_for(
        self,
        sc: m.Scenario,
        name: str,
        params: dict[str, m.Scalar],
        facts: list[Fact],
        low: int,
        high: int,
        default: int | None,
        *,
        allocate: bool,
    ) -> int:
        used = {
            int(value)
            for f in facts
            for key, value in f.fields.items()
            if (key == "port" or (f.type == "port" and key == "number")) and str(value).isdigit()
        }
        store = self.store() if allocate else self.existing_store()
        if store is not None:
            used |= {p.port for p in store.list_ports()}
        used |= set(self._planned_ports)
        start = default if default is not None else low  # the default first, then the ports after it
        order = [*range(start, high + 1), *range(low, start)]
        preferred = next((p for p in order if p not in used), None)
        if not allocate:
            if preferred is None:
                raise UserError(f"no free port in {low}-{high} for {sc.id}")
            self._planned_ports.append(preferred)
            return preferred
        others = ",".join(f"{k}={v}" for k, v in sorted(params.items()) if k != name)
        owner = f"{sc.id}:{others}" if name == "port" else f"{sc.id}#{name}:{others}"
        assert store is not None
        port = store.allocate_port(owner, str(self.root), low=low, high=high, preferred=preferred)
        self.allocated_ports.append(port)
        return port

    def plan_from_saved(self, data: dict[str, Any], *, allocate_ports: bool = False) -> FrozenPlan:
        head = self.ws.head()
        if data["head"] != head:
            raise UserError(
                f"the saved plan was made on commit {str(data['head'])[:12]}, but HEAD is now "
                f"{(head or 'nothing')[:12]}",
                hint="re-plan (`continuous plan ... --out FILE`) so the plan matches the repository",
            )
        current = self.rule_base.content_hash()
        if data["rule_base_hash"] != current:
            raise UserError(
                f"the saved plan was made with rule base {data['rule_base_hash']}, but the scenarios or their "
                f"templates have changed since (now {current})",
                hint="re-plan (`continuous plan ... --out FILE`) against the current scenarios",
            )
        items = []
        facts = self.facts()
        for n, raw in enumerate(data["items"]):
            sc = self.scenario(raw["scenario"])
            saved = dict(raw.get("params") or {})
            planned = tuple(str(a) for a in raw.get("allocated") or ())
            for name in planned:  # a port the plan only proposed: allocate it now (the same one when still free)
                saved.pop(name, None)
            params = bind_params(sc, (), saved)
            st.check_path_params(self.root, sc, params)
            given = set(saved)
            allocated = self._ports(sc, params, facts, given, allocate=allocate_ports)
            items.append(
                PlanEntry(
                    scenario=sc.id,
                    params=params,
                    role=str(raw.get("role", "requested")),
                    reason=str(raw.get("reason", "requested")),
                    after=(n - 1,) if n else (),
                    group=0,
                    allocated=allocated,
                )
            )
        self._check_saved_items(items, facts)
        return FrozenPlan(
            request=data.get("request"),
            head=str(head),
            rule_base_hash=current,
            items=tuple(items),
            worktree=str(self.root),
            branch=self.ws.branch,
        )

    def _check_saved_items(self, items: list[PlanEntry], facts: list[Fact]) -> None:
        """A saved plan is only run as the resolver would run it today: every `requires` before its item, no item
        already done, and not the very plan a successful run already applied at this commit."""
        from continuous.engine.resolution import plan_problems

        hint = "re-plan (`continuous plan ... --out FILE`); a plan file is not edited by hand"
        problems = plan_problems(self.rule_base, [(i.scenario, i.params) for i in items], facts)
        if problems:
            done = all("already done" in p for p in problems)
            raise UserError(
                ("the saved plan is already applied: " if done else "the saved plan does not hold: ")
                + "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""),
                hint="commit or roll back the earlier run, or re-plan" if done else hint,
            )
        previous = self._applied_by(items)
        if previous is not None:
            raise UserError(
                f"the saved plan is already applied: execution {previous} ran it at this commit",
                hint=f"commit its changes, or `continuous rollback {previous}`, before running it again",
            )

    def _applied_by(self, items: list[PlanEntry]) -> str | None:
        """The successful, not rolled back, run of the same items at the current HEAD (from the run journals)."""
        import json

        head = self.ws.head()
        wanted = [
            (i.scenario, {k: v for k, v in i.params.items() if k not in i.allocated}) for i in items
        ]
        for path in (self.ws.state_dir / "runs").glob("*.json"):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if data.get("status") != "success" or data.get("head") != head:
                    continue
                ran = [
                    (
                        str(i["scenario"]),
                        {k: v for k, v in dict(i["params"]).items() if k not in (i.get("allocated") or ())},
                    )
                    for i in data["plan"]["items"]
                ]
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                continue
            if ran == wanted:
                return str(data.get("execution_id", path.stem))
        return None

    # ------------------------------------------------------------------ simulation and dry-run

    def simulate(self, plan: FrozenPlan, now: datetime) -> Simulation:
        """Every step of the plan applied to an in-memory overlay of the worktree (nothing is written)."""
        from continuous.engine.resolution import provided_facts

        fs = st.VirtualFS(self.root)
        sim = Simulation(steps=[], before={}, after={}, step_of={}, problems=[])
        after_command = False
        cached = self._facts_cache
        # indexing ten thousand facts is only worth it when a precondition or a template asks
        known = LazyFactSet(lambda: cached if cached is not None else self.facts())
        self._facts_cache = None
        for i, item in enumerate(plan.items):
            sc = self.scenario(item.scenario)
            ctx = st.StepContext(self.root, sc, item.params, now=item_now(now, i), facts=known.query())
            failed = self._preconditions(sc, ctx, known, fs)
            if failed and not after_command:
                sim.problems.extend(f"{sc.id}: precondition failed: {f}" for f in failed)
            for n, step in enumerate(sc.steps, 1):
                action = st.describe(step, ctx)
                files: list[str] = []
                predicted = True
                unmet = st.unmet_conditions(step, ctx, fs)
                if unmet:
                    action = f"skipped ({', '.join(unmet)}): {action}"
                elif st.is_file_step(step):
                    try:
                        changes = st.file_changes(step, ctx, fs)
                    except st.StepError as exc:
                        if after_command:
                            predicted = False
                        else:
                            sim.problems.append(f"{sc.id} › {step.name}: {exc.message}")
                        changes = []
                    for ch in changes:
                        sim.before.setdefault(ch.path, ch.before)
                        sim.after[ch.path] = ch.after
                        sim.step_of.setdefault(ch.path, f"{sc.id} › {step.name}")
                        files.append(ch.path)
                    fs.apply(changes)
                    sim.notes.extend(f"{sc.id} › {step.name}: {n}" for n in ctx.notes)
                    ctx.notes.clear()
                elif isinstance(step, m.RunStep):
                    missing = st.missing_program(step, ctx)
                    if missing and not after_command:
                        sim.problems.append(f"{sc.id} › {step.name}: {missing}")
                    after_command = True
                    predicted = False
                    for pattern in step.changes:
                        rel = ctx.path(pattern, "changed file")
                        existed = fs.read(rel) is not None
                        sim.commanded.setdefault(rel, (f"{sc.id} › {step.name}", existed))
                        files.append(rel)
                elif isinstance(step, m.SqlStep) and step.action == "apply":
                    sim.sql_apply += 1
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
                _check_validation_paths(self.root, v, ctx)
            for fact in provided_facts(sc, item.params):
                known.add(fact)
                sim.provided.append(fact)
        return sim

    def _preconditions(
        self,
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
                exists = fs.read(rel) is not None or (self.root / rel).exists()
                if exists != (pre.kind == "exists"):
                    failed.append(f"{pre.kind} {rel}")
            elif pre.kind == "clean":
                ours = set(touched)
                dirty = [p for p in dirty_paths(self.root) if p not in ours]
                if dirty:
                    failed.append(f"clean worktree (uncommitted: {', '.join(sorted(dirty)[:5])})")
        return failed

    def dry_run(self, plan: FrozenPlan) -> DryRunReport:
        from continuous.engine.impact import assess_risk, systems_affected

        now = self._now()
        sim = self.simulate(plan, now)
        effects = sim.effects()
        files = [e for e, _ in effects]
        store = self.existing_store()
        items: list[PlannedItem] = []
        total = 0.0
        known_total = False
        sources: list[str] = []
        failure_rates: dict[str, float] = {}
        for i, item in enumerate(plan.items):
            sc = self.scenario(item.scenario)
            seconds, source = self._estimate(sc, store, failure_rates)
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
        dirty = dirty_paths(self.root)
        overlap = [f.path for f in files if f.path in dirty]
        systems = systems_affected(sim.provided, effects, [i.params for i in plan.items])
        without_rollback = sorted(
            {s.scenario for s in sim.steps if s.kind == "sql" and not self.scenario(s.scenario).rollback}
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
            worktree=str(self.root),
            branch=self.ws.branch,
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
            plan=plan.saved_json(),
        )

    def _estimate(
        self, sc: m.Scenario, store: TrackingStore | None, failure_rates: dict[str, float]
    ) -> tuple[float | None, str]:
        """History (the estimator's, else the store's median), else the DSL estimate. Never creates a database."""
        if self.estimator is not None:
            try:
                found = self.estimator(
                    sc.id, repo=self.root, store=store if store is not None else _NoHistory(), scenario=sc
                )
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
            return self._run(plan, commit=commit, message=message)
        except UserError:
            if self.allocated_ports:
                for port in self.allocated_ports:
                    self.store().release_port(port)
            raise

    def _run(self, plan: FrozenPlan, *, commit: bool, message: str | None) -> ExecutionResult:
        check_runnable(self.ws)
        head = self.ws.head()
        if plan.head != head:
            raise UserError(
                f"the plan was made on commit {plan.head[:12]}, but HEAD is now {(head or '')[:12]}",
                hint="re-plan against the current HEAD",
            )
        if message is not None and not message.strip():
            raise UserError("--message is empty", hint="give the commit message, or leave --message out")
        if not plan.items:
            return self._nothing_to_do(plan)
        store = self.store()
        run_id = str(uuid.uuid4())
        lock = RunLock(self.ws)
        lock.acquire(run_id, settled=self._settled)
        try:
            self._record_unrecorded()
            active = store.find_active_run(str(self.root))
            if active is not None:
                raise UserError(
                    f"run {active.id} is recorded as running in this worktree",
                    hint=f"`continuous resume {active.id}` finishes it, `continuous rollback "
                    f"{active.id}` undoes it",
                )
            now = self._now()
            sim = self.simulate(plan, now)
            if sim.problems:
                raise UserError(
                    "the run would fail before changing anything:\n  " + "\n  ".join(sim.problems),
                    hint="`--dry-run` shows the whole plan",
                )
            dirty = dirty_paths(self.root)
            overlap = [e for e, _ in sim.effects() if e.path in dirty]
            ours = self._left_by_earlier_runs([e.path for e in overlap])
            for effect in overlap:
                if effect.path not in ours:
                    raise UserError(
                        f"{effect.path} has uncommitted changes that step {effect.step!r} would overwrite",
                        hint="commit or stash your changes to that file first; nothing was changed",
                    )
            used = {item.scenario for item in plan.items}
            store.sync_registry(
                m.RuleBase(scenarios={sid: sc for sid, sc in self.rule_base.scenarios.items() if sid in used}),
                archive_missing=False,
            )
            top = plan.top_scenario()
            top_params: dict[str, m.Scalar] = (
                next((i.params for i in plan.items if i.role == "requested"), {}) if top else {}
            )
            if self._stop:  # stopped before anything changed: nothing to resume
                raise KeyboardInterrupt
        except BaseException:
            lock.release(run_id)
            raise
        clock = self._advance_clock(now, len(plan.items))
        journal = Journal.create(
            self.ws,
            run_id,
            {
                "version": JOURNAL_VERSION,
                "execution_id": run_id,
                "status": "running",
                "pid": os.getpid(),
                "pid_start": process_start(os.getpid()),
                "root": str(self.root),
                "branch": self.ws.branch,
                "head": plan.head,
                "now": now.isoformat(),
                "commit": commit,
                "commit_message": message,
                "plan": plan.model_dump(mode="json"),
                "top": top,
                "top_params": top_params,
                "executed_by": self.executed_by,
                "children": {},
                "items": {},
                "item_times": {},
                "done": {},
                "current": None,
                "originals": {},
                "created_dirs": [],
                "checkpoints": [],
                "pending_sql": [],
                "ports": list(self.allocated_ports),
                "started": time.time(),
                "clock": list(clock),
            },
        )
        state = _RunState(self, journal, plan, lock)
        try:
            self._start_run_row(plan, top, top_params, execution_id=run_id, started_at=state.started_at)
        except BaseException:
            # nothing has changed yet: the run never happened
            journal.path.unlink(missing_ok=True)
            self.rewind_clock(journal)
            lock.release(run_id)
            raise
        return self._drive(state)

    def _left_by_earlier_runs(self, paths: list[str]) -> set[str]:
        """Dirty paths whose content is exactly what an earlier successful run left (not user edits)."""
        if not paths:
            return set()
        import json

        ours: set[str] = set()
        runs = sorted(
            (self.ws.state_dir / "runs").glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for path in runs:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            final = data.get("final")
            if data.get("status") != "success" or not final:
                continue
            for p in paths:
                if p in ours or p not in data.get("originals", {}):
                    continue
                full = self.root / p
                current = full.read_bytes() if full.is_file() else None
                if current == blob_at(self.root, final, p):
                    ours.add(p)
            if len(ours) == len(paths):
                break
        return ours

    # ------------------------------------------------------------------ recovery

    def _run_id(self, execution_id: str) -> str:
        """The run an id (or id prefix) names, a run or one of its items: from this worktree's journals first,
        so that recovery works when the tracking database lost the rows, else from the store."""
        found = Journal.find(self.ws, execution_id)
        if found is not None:
            return found
        record = self.store().get_execution(execution_id)
        return record.parent_id or record.id

    def _settled(self, owner: str) -> bool:
        """Whether the execution named by a leftover run lock has finished (its lock is stale)."""
        path = Journal.path_for(self.ws, owner)
        if not path.exists():
            return True  # killed before its journal existed: it changed nothing
        try:
            return Journal.load(self.ws, owner).status in SETTLED
        except UserError:
            return False

    def _record_unrecorded(self) -> None:
        """Finish the store records of runs whose journal reached an end state that the store did not get (the
        database was locked, full or gone when they ended). Called holding the worktree's run lock."""
        for run_id in Journal.unrecorded(self.ws):
            try:
                journal = Journal.load(self.ws, run_id)
            except UserError:
                continue
            if journal.status not in (*SETTLED, "interrupted"):
                continue
            plan = FrozenPlan.model_validate(journal["plan"])
            _RunState(self, journal, plan, None).record()

    def _give_back(self, lock: RunLock, run_id: str, journal: Journal | None = None) -> None:
        """Release the worktree; a run that can still be resumed or rolled back keeps owning it."""
        if journal is None:
            path = Journal.path_for(self.ws, run_id)
            try:
                journal = Journal.load(self.ws, run_id) if path.exists() else None
            except UserError:
                journal = None
        keep = journal is not None and journal.status not in SETTLED
        lock.release(run_id, keep_owner=keep)

    def resume(self, execution_id: str) -> ExecutionResult:
        """Finish a killed or interrupted run from its last completed step. The run lock is taken before the
        journal is read, so a concurrent rollback (or second resume) is refused instead of racing."""
        run_id = self._run_id(execution_id)
        lock = RunLock(self.ws)
        lock.acquire(run_id, takeover=run_id, settled=self._settled)
        try:
            self._record_unrecorded()
            journal = Journal.load(self.ws, run_id)
            faults.point("resume.state.after")
            status = journal.status
            if status in SETTLED:
                word = "succeeded" if status == "success" else "was rolled back"
                raise UserError(f"execution {run_id} {word} ({status}); there is nothing to resume")
            if status == "rolling_back":
                raise UserError(
                    f"execution {run_id} stopped while it was being rolled back",
                    hint=f"`continuous rollback {run_id}` finishes the rollback",
                )
            check_runnable(self.ws)
            plan = FrozenPlan.model_validate(journal["plan"])
            if plan.rule_base_hash != self.rule_base.content_hash():
                raise UserError(
                    f"the scenarios changed since execution {run_id} started; it cannot be resumed safely",
                    hint=f"`continuous rollback {run_id}` undoes it",
                )
            state = _RunState(self, journal, plan, lock)
            state.prepare_resume()
        except BaseException:
            self._give_back(lock, run_id)
            raise
        self.emit("resume", {"execution_id": run_id, "completed": len(journal["checkpoints"])})
        return self._drive(state)

    def rollback(self, execution_id: str, *, force: bool = False) -> RollbackResult:
        """Undo an execution: every file it touched back to its content from before it, nothing else.

        Refused when files changed after the run stopped (finished, failed half-way or killed), unless `force`:
        those changes are the user's."""
        run_id = self._run_id(execution_id)
        if not Journal.path_for(self.ws, run_id).exists():
            return self._forget_unstarted(run_id)
        lock = RunLock(self.ws)
        lock.acquire(run_id, takeover=run_id, settled=self._settled)
        try:
            self._record_unrecorded()
            journal = Journal.load(self.ws, run_id)
            faults.point("rollback.state.after")
            if journal.status == "rolled_back":
                raise UserError(f"execution {run_id} is already rolled back")
            plan = FrozenPlan.model_validate(journal["plan"])
            state = _RunState(self, journal, plan, lock)
            state.checkpointer.clear_stale_locks()
            state.ensure_rows()
            if journal.status != "rolling_back" and not force:
                changed = state.changed_since_stop()
                if changed:
                    when = "finished" if journal.status == "success" else "stopped"
                    raise UserError(
                        f"files changed after the run {when}; a rollback would lose those changes: "
                        + ", ".join(changed[:8]),
                        hint="commit or move those changes away first, or pass --force",
                    )
            restored, removed, warning = state.roll_back(manual=True, forced=force)
        except BaseException:
            self._give_back(lock, run_id)
            raise
        lock.release(run_id)
        self.emit("rolled_back", {"execution_id": run_id, "restored": restored, "removed": removed})
        return RollbackResult(
            execution_id=run_id,
            status="rolled_back",
            restored=restored,
            removed=removed,
            warnings=[warning] if warning else [],
        )

    def _start_run_row(
        self,
        plan: FrozenPlan,
        scenario: str | None,
        params: dict[str, m.Scalar],
        status: str = "running",
        *,
        execution_id: str | None = None,
        started_at: datetime | None = None,
        executed_by: str | None = None,
    ) -> str:
        """The top-level `run` row of an execution: where, by whom, and the frozen plan it follows."""
        return self.store().start_execution(
            scenario,
            params,
            kind="run",
            worktree=str(self.root),
            branch=self.ws.branch,
            executed_by=executed_by or self.executed_by,
            plan=plan.model_dump(mode="json"),
            rule_base_hash=plan.rule_base_hash,
            head_commit=plan.head,
            status=status,
            execution_id=execution_id,
            started_at=started_at,
        )

    def _nothing_to_do(self, plan: FrozenPlan) -> ExecutionResult:
        """Everything asked for already holds: record the request as skipped, change nothing."""
        reasons = "; ".join(f"{s.scenario}: {s.reason}" for s in plan.skipped) or "the plan is empty"
        requested = plan.skipped[0] if len(plan.skipped) == 1 else None
        store = self.store()
        run_id = self._start_run_row(
            plan, requested.scenario if requested else None, requested.params if requested else {}, "skipped"
        )
        store.finish_execution(run_id, "skipped", error_details=f"nothing to do: {reasons}")
        result = ExecutionResult(
            execution_id=run_id,
            status="skipped",
            worktree=str(self.root),
            branch=self.ws.branch,
            items=[],
            artifacts=Artifacts(),
            error=f"nothing to do: {reasons}",
        )
        self.emit("done", {"result": result})
        return result

    def _forget_unstarted(self, run_id: str) -> RollbackResult:
        """A run recorded as running that has no journal here changed nothing: close its row and free the
        worktree."""
        store = self.store()
        record = store.get_execution(run_id)
        if record.worktree != str(self.root):
            raise UserError(f"execution {run_id} ran in {record.worktree}; roll it back there")
        if record.status != "running":
            raise UserError(f"execution {run_id} has no journal to roll back (status {record.status})")
        lock = RunLock(self.ws)
        lock.acquire(run_id, takeover=run_id, settled=self._settled)
        try:
            store.finish_execution(run_id, "interrupted", error_details="interrupted before its first step")
        finally:
            lock.release(run_id)
        return RollbackResult(execution_id=run_id, status="rolled_back")

    # ------------------------------------------------------------------ the run loop

    def _drive(self, state: _RunState) -> ExecutionResult:
        started = time.monotonic()
        try:
            for i in range(len(state.plan.items)):
                if state.item_status.get(i) == "success":
                    continue
                state.check_stop()
                state.run_item(i)
            state.check_stop()
            commit_sha = self._commit(state) if state.journal["commit"] else None
            return state.finish_success(commit_sha, time.monotonic() - started)
        except BaseException as exc:
            stopped = isinstance(exc, KeyboardInterrupt | RunStopped) or (
                self._stop and isinstance(exc, Exception)
            )
            if stopped:
                return state.suspend(_stop_message(exc), time.monotonic() - started)
            if not isinstance(exc, Exception):
                raise
            if isinstance(exc, ContinuousError):
                message = exc.message
            elif isinstance(exc, OSError) and exc.strerror:  # disk full, permissions: not a bug
                message = f"{exc.strerror}" + (f": {exc.filename}" if exc.filename else "")
            else:
                message = f"internal error: {type(exc).__name__}: {exc}"
            return state.fail(message, time.monotonic() - started)
        finally:
            assert state.lock is not None
            self._give_back(state.lock, state.run_id, state.journal)

    def _commit(self, state: _RunState) -> str | None:
        """The one commit of `--commit`. A crash right after it is recognised on resume by the execution id in
        the message; a commit refused by a hook leaves the run's changes in place and the index as it was."""
        journal = state.journal
        if journal.get("commit_sha") or journal.get("commit_error"):
            return journal.get("commit_sha")
        marker = f"execution {state.run_id}"
        pending = journal.get("committing")
        if pending:
            found = find_commit(self.root, pending["parent"], marker)
            if found is not None:
                sync_index(self.root, pending["paths"])
                journal["commit_sha"] = found
                journal.data.pop("committing", None)
                journal.save()
                return found
        changed = [p for p in sorted(state.touched()) if state.differs_from_original(p)]
        if not changed:
            return None
        what = state.plan.request or ", ".join(i.scenario for i in state.plan.items)
        subject = journal.get("commit_message") or f"continuous: {what}"
        journal["committing"] = {"parent": self.ws.head(), "paths": changed}
        journal.save()
        try:
            sha = commit_paths(self.root, self.ws.state_dir, state.run_id, changed, f"{subject}\n\n{marker}")
        except RunFailed as exc:
            journal["commit_error"] = exc.message
            journal.data.pop("committing", None)
            journal.save()
            return None
        journal["commit_sha"] = sha
        journal.data.pop("committing", None)
        journal.save()
        return sha


class RunStopped(Exception):
    """A stop was requested (Ctrl-C, SIGTERM): the run stops between steps and stays resumable."""


def _stop_message(exc: BaseException) -> str:
    return "interrupted by the user" if isinstance(exc, KeyboardInterrupt | RunStopped) else (
        f"interrupted by the user (the step in progress stopped: {getattr(exc, 'message', exc)})"
    )


class _RunState:
    """One execution, backed by its journal (so that another process can pick it up at any instant)."""

    def __init__(self, ex: Executor, journal: Journal, plan: FrozenPlan, lock: RunLock | None) -> None:
        self.ex = ex
        self.journal = journal
        self.plan = plan
        self.lock = lock
        self.run_id: str = journal["execution_id"]
        self.root = ex.root
        self.now = datetime.fromisoformat(journal["now"])
        self.checkpointer = Checkpointer(
            self.root,
            ex.ws.state_dir,
            self.run_id,
            parent=journal["checkpoints"][-1]["commit"] if journal["checkpoints"] else None,
        )
        self.results: dict[int, list[StepResult]] = {}
        self._facts: FactSet | None = None
        self.recorded_items: set[int] = set()  # items this process has recorded as finished already

    # -- journal views
    @property
    def children(self) -> dict[int, str]:
        return {int(k): v for k, v in self.journal["children"].items()}

    @property
    def item_status(self) -> dict[int, str]:
        return {int(k): v for k, v in self.journal["items"].items()}

    @property
    def originals(self) -> dict[str, dict[str, Any]]:
        data: dict[str, dict[str, Any]] = self.journal["originals"]
        return data

    @property
    def started_at(self) -> datetime:
        return datetime.fromtimestamp(float(self.journal.get("started") or time.time()), UTC)

    def touched(self) -> set[str]:
        return set(self.originals)

    def done(self, i: int) -> list[int]:
        return list(self.journal["done"].get(str(i), []))

    def last_checkpoint(self) -> str | None:
        checkpoints = self.journal["checkpoints"]
        return str(checkpoints[-1]["commit"]) if checkpoints else None

    def check_stop(self) -> None:
        if self.ex.stop_requested:
            raise RunStopped("stop requested")

    # -- originals
    def remember(self, paths: Iterable[str], *, saved: dict[str, str | None] | None = None) -> None:
        """Record the pre-execution content of paths seen for the first time (before they change). The blobs
        are reachable from a ref before the journal names them."""
        new = [p for p in dict.fromkeys(paths) if p not in self.originals]
        if not new:
            return
        if saved is None:
            existing = [p for p in new if (self.root / p).is_file()]
            blobs: dict[str, str | None] = dict(save_blobs(self.root, existing))
        else:
            blobs = saved
        self.keep({p: b for p, b in blobs.items() if b and p in new})
        current = self.journal["current"]
        for p in new:
            full = self.root / p
            blob = blobs.get(p)
            mode = full.stat().st_mode & 0o7777 if blob is not None and full.exists() else None
            self.originals[p] = {"blob": blob, "mode": mode}
            if current is not None:
                current.setdefault("remembered", []).append(p)
            if blob is None:
                parent = full.parent
                while parent != self.root and not parent.exists():
                    rel = str(parent.relative_to(self.root))
                    if rel not in self.journal["created_dirs"]:
                        self.journal["created_dirs"].append(rel)
                    parent = parent.parent

    def keep(self, blobs: dict[str, str]) -> None:
        """Make saved blobs reachable from refs (`refs/continuous/<id>/kept/<blob>`) before anything names them."""
        keep_blobs(self.root, self.run_id, blobs.values())

    def differs_from_original(self, path: str) -> bool:
        orig = self.originals[path]
        full = self.root / path
        current = full.read_bytes() if full.is_file() else None
        if orig["blob"] is None:
            return current is not None
        return current is None or current != read_blob(self.root, orig["blob"])

    def snapshot_dirty(self) -> dict[str, Any]:
        """Before a command: status + hash of every dirty path, their index entries, and the saved content of
        those not seen yet (a command may change the index too, e.g. `git mv`)."""
        dirty = dirty_paths(self.root)
        existing = [p for p in dirty if (self.root / p).is_file()]
        hashes = hash_files(self.root, existing)
        unseen = [p for p in existing if p not in self.originals]
        saved = save_blobs(self.root, unseen)
        self.keep(saved)
        return {
            "hashes": {p: f"{status}:{hashes.get(p)}" for p, status in dirty.items()},
            "saved": saved,
            "index": _index_entries(self.root, list(dirty)),
            "dirs": _untracked_dirs(self.root),
            "ignored": _ignored_files(self.root),
        }

    def reconcile_command(self, snapshot: dict[str, Any]) -> tuple[list[str], dict[str, str | None]]:
        """Paths a command changed since the snapshot, remembered with their originals (content and index);
        also the index entries those paths had before the command, where the command changed them."""
        before: dict[str, str | None] = snapshot["hashes"]
        dirty = dirty_paths(self.root)
        existing = [p for p in dirty if (self.root / p).is_file()]
        hashes = hash_files(self.root, existing)
        after = {p: f"{status}:{hashes.get(p)}" for p, status in dirty.items()}
        changed = sorted(
            p for p in set(before) | set(after) if before.get(p, "clean") != after.get(p, "clean")
        )
        saved: dict[str, str | None] = {}
        for p in changed:
            if p in self.originals:
                continue
            if p in before:
                saved[p] = snapshot["saved"].get(p)
            else:
                saved[p] = _head_blob(self.root, p)
        self.remember([p for p in changed if p not in self.originals], saved=saved)
        gone = [p for p in saved if saved[p] is not None and self.originals[p].get("mode") is None]
        if gone:  # a file the command removed keeps the mode it had (an executable script stays executable)
            entries = {**_head_entries(self.root, [p for p in gone if p not in before]),
                       **{p: snapshot.get("index", {}).get(p) for p in gone if p in before}}
            for p in gone:
                mode = (entries.get(p) or "").split(" ")[0]
                if mode in ("100755", "100644"):
                    self.originals[p]["mode"] = int(mode[-3:], 8)
        if "ignored" in snapshot:  # what a command created where git does not look (an archive folder)
            seen = set(snapshot["ignored"])
            made = [p for p in _ignored_files(self.root) if p not in seen]
            self.remember([p for p in made if p not in self.originals], saved=dict.fromkeys(made))
            changed = sorted(set(changed) | set(made))
        if "dirs" in snapshot:  # folders a command created, empty ones included (git status does not show them)
            known = set(snapshot["dirs"])
            for top in _untracked_dirs(self.root):
                if top in known or not (self.root / top).is_dir():
                    continue
                found = [top, *(str(d.relative_to(self.root)) for d in (self.root / top).rglob("*") if d.is_dir())]
                for d in found:
                    if d not in self.journal["created_dirs"]:
                        self.journal["created_dirs"].append(d)
        index_originals: dict[str, str | None] = self.journal.data.setdefault("index_originals", {})
        index_before: dict[str, str | None] = {}
        if changed:
            now = _index_entries(self.root, changed)
            clean = [p for p in changed if p not in before]
            head = _head_entries(self.root, clean)
            for p in changed:
                was = snapshot.get("index", {}).get(p) if p in before else head.get(p)
                if now.get(p) != was:
                    index_before[p] = was
                    index_originals.setdefault(p, was)
        return changed, index_before

    # -- the step in progress when the run stopped
    def settle_in_flight(self, note: str, *, undo: bool) -> None:
        """Account for the step that was running when the process died: remember what a command changed, and
        with `undo` put its paths back as they were before the step (so that resume runs it again from a clean
        start). Its step row is closed as interrupted."""
        current = self.journal["current"]
        if not current:
            return
        paths: list[str] = list(current.get("writes") or {})
        index_before: dict[str, str | None] = {}
        if current.get("snapshot"):
            paths, index_before = self.reconcile_command(current["snapshot"])
        if undo:
            remembered = set(current.get("remembered") or [])
            last = self.last_checkpoint()
            at_last = _tree_blobs(self.root, last, paths) if last else {}
            for p in paths:
                if p not in self.originals:
                    continue
                blob = self.originals[p]["blob"] if (p in remembered or last is None) else at_last.get(p)
                self._put(p, None if blob is None else read_blob(self.root, blob), self.originals[p].get("mode"))
            _set_index(self.root, index_before)
        for p in current.get("writes") or {}:
            _tmp_of(self.root / p).unlink(missing_ok=True)
        if current.get("step_id"):
            self._quietly(self.ex.store().finish_step, current["step_id"], "interrupted", output=note)
        self.journal["current"] = None
        self.journal.save()

    def _put(self, path: str, data: bytes | None, mode: int | None) -> bool:
        """Make `path` hold `data` (None: absent); True when something changed."""
        full = self.root / path
        if data is None:
            if full.is_file() or full.is_symlink():
                full.unlink()
                return True
            return False
        current = full.read_bytes() if full.is_file() else None
        changed = False
        if current != data:
            full.parent.mkdir(parents=True, exist_ok=True)
            full.write_bytes(data)
            changed = True
        if mode is not None and (full.stat().st_mode & 0o7777) != mode:
            os.chmod(full, mode)
        return changed

    def changed_since_stop(self) -> list[str]:
        """Touched paths whose content is none the run can explain: not the original, not the last checkpoint,
        not what the step in progress was writing. Those are edits made after the run stopped."""
        paths = sorted(self.originals)
        if not paths:
            return []
        if self.journal.status == "success":
            last = self.journal.get("final") or self.last_checkpoint()
        else:
            last = self.last_checkpoint()
        at_last = _tree_blobs(self.root, last, paths) if last else {}
        current = self.journal["current"] or {}
        writes: dict[str, str | None] = current.get("writes") or {}
        existing = [p for p in paths if (self.root / p).is_file()]
        now = hash_files(self.root, existing)
        out = []
        for p in paths:
            blob = now.get(p) if p in existing else None
            if blob == self.originals[p]["blob"] or (last is not None and blob == at_last.get(p)):
                continue
            if p in writes:
                full = self.root / p
                digest = hashlib.sha256(full.read_bytes()).hexdigest() if full.is_file() else None
                if digest == writes[p]:
                    continue
            out.append(p)
        return out

    # -- the tracking store, a record of the journal
    def _quietly(self, write: Callable[..., Any], *args: Any, **kwargs: Any) -> str | None:
        """A store write that must not stop the files from being put right; its error, if any."""
        try:
            write(*args, **kwargs)
        except (ContinuousError, OSError) as exc:
            return getattr(exc, "message", str(exc))
        return None

    def ensure_rows(self) -> None:
        run_record.ensure_rows(self)

    def close_rows(self, status: str, note: str) -> None:
        run_record.close_rows(self, status, note)

    def finish_items(self) -> None:
        run_record.finish_items(self)

    def record(self) -> None:
        run_record.record(self)

    def record_safely(self) -> str | None:
        return run_record.record_safely(self)

    # -- resuming
    def prepare_resume(self) -> None:
        """Before a resumed run continues: stale git locks of its private indexes removed, rows re-created,
        the step that was in progress put back as it was before it started, rows re-opened."""
        self.checkpointer.clear_stale_locks()
        self.ensure_rows()
        note = "interrupted: the process stopped during this step; resume runs it again"
        self.settle_in_flight(note, undo=True)
        self.finish_items()
        self.close_rows("interrupted", note)
        store = self.ex.store()
        self.journal["status"] = "running"
        self.journal["pid"] = os.getpid()
        self.journal["pid_start"] = process_start(os.getpid())
        self.journal.data.pop("message", None)
        self.journal.save()
        self.journal.mark_recorded()
        store.update_execution(self.run_id, status="running", reopen=True)
        for i, child in self.children.items():
            if self.item_status.get(i) != "success":
                store.update_execution(child, status="running", reopen=True)

    # -- facts
    def fact_set(self) -> FactSet:
        if self._facts is None:
            self._facts = FactSet(self.ex.facts())
            from continuous.engine.resolution import provided_facts

            for i, item in enumerate(self.plan.items):
                if self.item_status.get(i) == "success":
                    for f in provided_facts(self.ex.scenario(item.scenario), item.params):
                        self._facts.add(f)
        return self._facts

    # -- items and steps
    def run_item(self, i: int) -> None:
        ex = self.ex
        store = ex.store()
        item = self.plan.items[i]
        sc = ex.scenario(item.scenario)
        ctx = st.StepContext(self.root, sc, item.params, now=item_now(self.now, i), facts=FactQuery(self.fact_set))
        child = self.children.get(i)
        if child is None:
            child = str(uuid.uuid4())
            self.journal["children"][str(i)] = child
            self.journal["items"][str(i)] = "running"
            self.journal.data.setdefault("item_times", {})[str(i)] = {"started": time.time()}
            self.journal.save()
            store.start_execution(
                sc.id,
                item.params,
                kind="scenario",
                worktree=str(self.root),
                branch=ex.ws.branch,
                executed_by=ex.executed_by,
                parent_id=self.run_id,
                rule_base_hash=self.plan.rule_base_hash,
                head_commit=self.plan.head,
                execution_id=child,
            )
            failed = ex._preconditions(sc, ctx, self.fact_set(), st.VirtualFS(self.root), self.touched())
            if failed:
                raise st.StepError(f"{sc.id}: precondition failed: {'; '.join(failed)}")
        ex.emit(
            "item",
            {
                "index": i,
                "total": len(self.plan.items),
                "scenario": sc.id,
                "params": item.params,
                "execution_id": child,
                "steps": len(sc.steps),
            },
        )
        done = self.done(i)
        for n, step in enumerate(sc.steps, 1):
            if n in done:
                continue
            self.check_stop()
            self.run_step(i, child, n, step, ctx)
        self.validate(i, child, sc, ctx)
        from continuous.engine.resolution import provided_facts

        for f in provided_facts(sc, item.params):
            self.fact_set().add(f)
        self.journal["items"][str(i)] = "success"
        self.journal.data.setdefault("item_times", {}).setdefault(str(i), {})["finished"] = time.time()
        self.journal.save()
        store.finish_execution(
            child,
            "success",
            artifacts=self.artifacts(self.item_paths(i)).stored(),
            checkpoints=self.item_checkpoints(i),
        )
        self.recorded_items.add(i)

    def item_paths(self, i: int) -> list[str]:
        return sorted({p for c in self.journal["checkpoints"] if c["item"] == i for p in c.get("paths", [])})

    def item_checkpoints(self, i: int) -> list[dict[str, Any]]:
        return [c for c in self.journal["checkpoints"] if c["item"] == i]

    def run_step(self, i: int, child: str, n: int, step: m.Step, ctx: st.StepContext) -> None:
        """Journal first (what is about to change and its original content), then the store row, the change,
        the checkpoint, the journal again ("done"), the store again. A crash between any two is recoverable."""
        ex = self.ex
        store = ex.store()
        number = len(self.journal["checkpoints"]) + 1
        ex.emit(
            "step",
            {
                "item": i,
                "number": n,
                "global": number,
                "name": step.name,
                "kind": step.kind,
                "scenario": ctx.scenario.id,
            },
        )
        step_id = str(uuid.uuid4())
        current: dict[str, Any] = {"item": i, "step": n, "step_id": step_id, "kind": step.kind, "remembered": []}
        self.journal["current"] = current
        started = time.monotonic()
        try:
            unmet = st.unmet_conditions(step, ctx, st.VirtualFS(self.root))
            if unmet:
                store.start_step(child, n, step.name, step_id=step_id)
                paths, output = [], f"skipped: {', '.join(unmet)}"
            elif st.is_file_step(step):
                changes = st.file_changes(step, ctx, st.VirtualFS(self.root))
                current["writes"] = {
                    c.path: None if c.after is None else hashlib.sha256(c.after).hexdigest() for c in changes
                }
                self.remember(c.path for c in changes)
                self.journal.save()
                store.start_step(child, n, step.name, step_id=step_id)
                with faults.around("files.write"):
                    st.write_changes(self.root, changes)
                paths = [c.path for c in changes]
                output = "\n".join(f"{c.kind} {c.path}" for c in changes) or "no change needed (already done)"
            elif isinstance(step, m.RunStep):
                current["snapshot"] = self.snapshot_dirty()
                self.journal.save()
                store.start_step(child, n, step.name, step_id=step_id)
                with faults.around("command"):
                    result = st.run_step(step, ctx, step.name)
                paths = self.reconcile_command(current["snapshot"])[0]
                output = result.output
            elif isinstance(step, m.SqlStep):
                self.journal.save()
                store.start_step(child, n, step.name, step_id=step_id)
                with faults.around("sql"):
                    output, pending = st.sql_step(step, ctx)
                if pending:
                    self.journal["pending_sql"].append(ctx.path(step.file, "file"))
                paths = []
            else:  # pragma: no cover - the model admits no other kind
                raise AssertionError(step)
            with faults.around("checkpoint"):
                commit = self.checkpointer.checkpoint(
                    number,
                    f"continuous {self.run_id[:8]} step {number}: {ctx.scenario.id} > {step.name}",
                    sorted(self.touched()),
                )
        except ContinuousError as exc:
            self._quietly(store.finish_step, step_id, "failed", output=exc.render())
            self.add_result(
                i,
                StepResult(
                    number=n,
                    name=step.name,
                    kind=step.kind,
                    status="failed",
                    output=exc.render(),
                    seconds=time.monotonic() - started,
                ),
            )
            raise
        seconds = time.monotonic() - started
        self.journal["checkpoints"].append(
            {
                "n": number,
                "item": i,
                "step": n,
                "step_id": step_id,
                "commit": commit,
                "paths": paths,
                "ref": f"refs/continuous/{self.run_id}/{number}",
            }
        )
        self.journal["done"].setdefault(str(i), []).append(n)
        self.journal["current"] = None
        self.journal.save()
        store.finish_step(step_id, "success", output=output, checkpoint_commit=commit)
        store.update_execution(child, checkpoints=self.item_checkpoints(i))
        self.add_result(
            i,
            StepResult(
                number=n,
                name=step.name,
                kind=step.kind,
                status="success",
                output=output,
                seconds=seconds,
                checkpoint=commit,
                files=paths,
            ),
        )
        ex.emit(
            "step_done",
            {
                "item": i,
                "number": n,
                "global": number,
                "name": step.name,
                "seconds": seconds,
                "checkpoint": commit,
                "paths": paths,
                "output": output,
            },
        )
        faults.point("step.done")

    def add_result(self, i: int, result: StepResult) -> None:
        self.results.setdefault(i, []).append(result)

    def validate(self, i: int, child: str, sc: m.Scenario, ctx: st.StepContext) -> None:
        if not sc.validations:
            return
        store = self.ex.store()
        base = len(sc.steps)
        for k, v in enumerate(sc.validations, 1):
            label = _validation_label(v, ctx)
            if st.unmet_conditions(v, ctx, st.VirtualFS(self.root)):
                continue
            step_id = store.start_step(child, base + k, f"validate: {label}")
            started = time.monotonic()
            try:
                output = self._check(v, ctx)
            except ContinuousError as exc:
                self._quietly(store.finish_step, step_id, "failed", output=exc.render())
                self.add_result(
                    i,
                    StepResult(
                        number=base + k,
                        name=f"validate: {label}",
                        kind="validate",
                        status="failed",
                        output=exc.render(),
                        seconds=time.monotonic() - started,
                    ),
                )
                raise st.StepError(f"{sc.id}: validation failed: {label}: {exc.message}") from None
            store.finish_step(step_id, "success", output=output)
            self.add_result(
                i,
                StepResult(
                    number=base + k,
                    name=f"validate: {label}",
                    kind="validate",
                    status="success",
                    output=output,
                    seconds=time.monotonic() - started,
                ),
            )
            self.ex.emit("validated", {"item": i, "label": label})
    def _check(self, v: m.Validation, ctx: st.StepContext) -> str:
        if isinstance(v, m.FileExists):
            found = _glob(self.root, ctx.render(v.glob, "validation glob"))
            if not found:
                raise st.StepError(f"no file matches {ctx.render(v.glob, 'validation glob')}")
            return f"found {', '.join(found[:5])}"
        if isinstance(v, m.FileContains):
            pattern = ctx.render(v.glob, "validation glob")
            text = ctx.render(v.text, "validation text")
            found = _glob(self.root, pattern)
            if not found and not v.negated:
                raise st.StepError(f"no file matches {pattern}")
            bad = [
                p
                for p in found
                if (text in (self.root / p).read_text(encoding="utf-8", errors="replace")) == v.negated
            ]
            if bad:
                raise st.StepError(f"{bad[0]} {'contains' if v.negated else 'does not contain'} {text!r}")
            return f"{len(found)} file(s) {'lack' if v.negated else 'contain'} {text!r}"
        if isinstance(v, m.CommandSucceeds):
            return st.run_step(v, ctx, "validation").output
        if isinstance(v, m.FactHolds):
            from continuous.engine.resolution import render_pattern

            rendered = render_pattern(v.pattern, ctx.variables)
            if rendered is None:
                raise st.StepError(f"cannot render fact pattern {v.pattern.type}")
            fact_type, fields = rendered
            declared = any(d.fact_type == fact_type for d in self.ex.rule_base.discovers)
            fresh = FactSet(self.ex.facts())
            self._facts = None
            holds = fresh.holds(fact_type, fields) if declared else self.fact_set().holds(fact_type, fields)
            if holds == v.pattern.negated:
                args = ", ".join(f"{k}: {val!r}" for k, val in fields.items())
                raise st.StepError(
                    f"{'unexpected' if v.pattern.negated else 'no'} fact {fact_type}({args})"
                    + (" in the repository" if declared else "")
                )
            return f"fact {fact_type} holds"
        raise AssertionError(v)

    # -- endings
    def artifacts(self, paths: Iterable[str] | None = None) -> Artifacts:
        created, modified, deleted = [], [], []
        for p in sorted(self.touched() if paths is None else paths):
            orig = self.originals.get(p)
            if orig is None or not self.differs_from_original(p):
                continue
            exists = (self.root / p).exists()
            if orig["blob"] is None:
                created.append(p)
            elif exists:
                modified.append(p)
            else:
                deleted.append(p)
        return Artifacts(created=created, modified=modified, deleted=deleted)

    def items_result(self, statuses: dict[int, str]) -> list[ItemResult]:
        return [
            ItemResult(
                index=i,
                scenario=item.scenario,
                params=item.params,
                execution_id=self.children.get(i),
                status=statuses.get(i, "skipped"),
                steps=self.results.get(i, []),
            )
            for i, item in enumerate(self.plan.items)
        ]

    def finish_success(self, commit_sha: str | None, seconds: float) -> ExecutionResult:
        journal = self.journal
        artifacts = self.artifacts()
        checkpoints = [c["commit"] for c in journal["checkpoints"]]
        self.keep_originals()
        journal.mark_unrecorded()
        journal["status"] = "success"
        journal["final"] = checkpoints[-1] if checkpoints else None
        journal["commit_sha"] = commit_sha
        journal["finished"] = time.time()
        journal.save()
        warnings = [w for w in [self.record_safely()] if w]
        self.checkpointer.discard_index()
        drop_kept(self.root, self.run_id)
        refreshed = self.ex.run_after_success_hooks()
        commit_error = journal.get("commit_error")
        result = ExecutionResult(
            execution_id=self.run_id,
            status="success",
            worktree=str(self.root),
            branch=self.ex.ws.branch,
            items=self.items_result(self.item_status),
            artifacts=artifacts,
            checkpoints=checkpoints,
            commit=commit_sha,
            commit_error=run_record.commit_note(commit_error),
            pending_migrations=list(journal["pending_sql"]),
            ports=list(journal["ports"]),
            branches=self.plan.groups(),
            seconds=seconds,
            refreshed=refreshed,
            warnings=warnings,
        )
        self.ex.emit("done", {"result": result})
        return result

    def suspend(self, message: str, seconds: float) -> ExecutionResult:
        """Stop here, resumable: the journal on disk (not this process's view of it, which a Ctrl-C may have
        caught half-way) is marked `interrupted`, and the rows say so."""
        journal = Journal.load(self.ex.ws, self.run_id)
        self.journal = journal
        journal.mark_unrecorded()
        journal["status"] = "interrupted"
        journal["message"] = message
        journal["finished"] = time.time()
        journal["pid"] = None
        journal.save()
        warnings = [w for w in [self.record_safely()] if w]
        hint = f"`continuous resume {self.run_id}` continues it, `continuous rollback {self.run_id}` undoes it"
        statuses = {i: ("interrupted" if s != "success" else s) for i, s in self.item_status.items()}
        result = ExecutionResult(
            execution_id=self.run_id,
            status="interrupted",
            worktree=str(self.root),
            branch=self.ex.ws.branch,
            items=self.items_result(statuses),
            artifacts=self.artifacts(),
            checkpoints=[c["commit"] for c in journal["checkpoints"]],
            branches=self.plan.groups(),
            error=f"{message}; the run stopped after {len(journal['checkpoints'])} step(s) and can be resumed: "
            + hint,
            seconds=seconds,
            warnings=warnings,
        )
        self.ex.emit("done", {"result": result})
        return result

    def fail(self, message: str, seconds: float) -> ExecutionResult:
        """A step failed: undo the whole run (the worktree and the index as they were before it)."""
        current = self.journal["current"]
        failing = (
            current["item"]
            if current
            else next((i for i, s in self.item_status.items() if s == "running"), None)
        )
        self.ex.emit("rollback", {"message": message})
        warning = self.roll_back(manual=False, reason=message, failing=failing)[2]
        rollback_errors = self.journal["rollback"].get("errors") or []
        details = message + "\nevery file the execution touched was restored"
        if rollback_errors:
            details += "\nrollback steps that failed: " + "; ".join(rollback_errors)
        statuses = {i: ("failed" if i == failing else "rolled_back") for i in self.children}
        result = ExecutionResult(
            execution_id=self.run_id,
            status="failed",
            worktree=str(self.root),
            branch=self.ex.ws.branch,
            items=self.items_result(statuses),
            artifacts=Artifacts(),
            checkpoints=[c["commit"] for c in self.journal["checkpoints"]],
            branches=self.plan.groups(),
            error=details,
            seconds=seconds,
            warnings=[warning] if warning else [],
        )
        self.ex.emit("done", {"result": result})
        return result

    def roll_back(
        self, *, manual: bool, forced: bool = False, reason: str | None = None, failing: int | None = None
    ) -> tuple[list[str], list[str], str | None]:
        """The one place a run is undone, after a failure or on request, and again after a crash half-way
        through: the DSL rollback steps of the items that started (newest first), then every touched path back
        to its original content, index entries included. The journal says `rolling_back` before anything
        changes, so a crash here is finished by `continuous rollback`."""
        journal = self.journal
        if journal.status != "rolling_back":
            journal["rollback"] = {
                "manual": manual,
                "prior": journal.status,
                "forced": forced,
                "reason": reason,
                "failing": failing,
                "outcome": "failed",
                "event": str(uuid.uuid4()),
                "stopped_at": journal.get("finished") or journal.get("updated"),
                "by": self.ex.executed_by,
                "done": [],
                "errors": [],
            }
            if not manual:
                journal["message"] = reason
            journal["status"] = "rolling_back"
            journal.save()
        self.settle_in_flight("interrupted: the run was rolled back", undo=False)
        rb = journal["rollback"]
        started = [i for i in self.children if self.item_status.get(i) in ("success", "running")]
        rb["errors"] = list(rb.get("errors") or []) + self.run_rollback_steps(started)
        restored, removed = self.restore()
        rb["errors"] += self.run_rollback_steps(started, after_restore=True)
        journal.mark_unrecorded()
        journal["status"] = "rolled_back"
        journal["current"] = None
        rb["at"] = time.time()
        rb["restored"], rb["removed"] = len(restored), len(removed)
        if not manual:
            rb["details"] = (
                (reason or "failed")
                + "\nevery file the execution touched was restored"
                + ("\nrollback steps that failed: " + "; ".join(rb["errors"]) if rb["errors"] else "")
            )
        journal.save()
        self.ex.rewind_clock(journal)
        self.checkpointer.discard_index()
        (self.ex.ws.state_dir / "index" / f"{self.run_id}.commit.index").unlink(missing_ok=True)
        drop_kept(self.root, self.run_id)
        return restored, removed, self.record_safely()

    def keep_originals(self) -> None:
        blobs = {p: o["blob"] for p, o in self.originals.items() if o.get("blob")}
        keep_originals(self.root, self.ex.ws.state_dir, self.run_id, blobs)

    def run_rollback_steps(self, indexes: Iterable[int], *, after_restore: bool = False) -> list[str]:
        """Run the DSL rollback steps of the given items, newest first; failures are collected, not raised.
        Each step done is journaled, so a rollback resumed after a crash does not repeat it. `rollback finally`
        steps run after the touched files are restored, so they act on the original content (a reinstall from
        the restored lockfile)."""
        errors: list[str] = []
        store = self.ex.store()
        done: list[str] = self.journal["rollback"].setdefault("done", [])
        for i in sorted(set(indexes), reverse=True):
            item = self.plan.items[i]
            sc = self.ex.scenario(item.scenario)
            steps = sc.rollback_finally if after_restore else sc.rollback
            if not steps:
                continue
            child = self.children.get(i)
            ctx = st.StepContext(
                self.root, sc, item.params, now=item_now(self.now, i), facts=FactQuery(self.fact_set)
            )
            first = 1 + (len(sc.rollback) if after_restore else 0)
            for k, step in enumerate(steps, first):
                key = f"{i}:{k}"
                if key in done:
                    continue
                step_id = str(uuid.uuid4())
                if child:
                    self._quietly(
                        store.start_step, child, 1000 + k, f"rollback: {step.name}", step_id=step_id
                    )
                try:
                    if st.is_file_step(step):
                        changes = st.file_changes(step, ctx, st.VirtualFS(self.root))
                        self.remember(c.path for c in changes)
                        self.journal.save()
                        st.write_changes(self.root, changes)
                        output = "\n".join(f"{c.kind} {c.path}" for c in changes)
                    elif isinstance(step, m.RunStep):
                        snap = self.snapshot_dirty()
                        output = st.run_step(step, ctx, step.name).output
                        self.reconcile_command(snap)
                    elif isinstance(step, m.SqlStep):
                        output = st.sql_step(step, ctx)[0]
                    else:  # pragma: no cover
                        output = ""
                    if child:
                        self._quietly(store.finish_step, step_id, "success", output=output)
                except ContinuousError as exc:
                    errors.append(f"{sc.id} > {step.name}: {exc.message}")
                    if child:
                        self._quietly(store.finish_step, step_id, "failed", output=exc.render())
                done.append(key)
                self.journal.save()
        return errors

    def restore(self) -> tuple[list[str], list[str]]:
        restored: list[str] = []
        removed: list[str] = []
        with faults.around("restore"):
            for path, orig in sorted(self.originals.items()):
                _tmp_of(self.root / path).unlink(missing_ok=True)
                data = None if orig["blob"] is None else read_blob(self.root, orig["blob"])
                if self._put(path, data, orig.get("mode")):
                    (removed if data is None else restored).append(path)
            self._restore_index()
        dirs = sorted(
            set(self.journal["created_dirs"]) | {str(Path(p).parent) for p in removed},
            key=lambda d: d.count("/"),
            reverse=True,
        )
        for d in dirs:
            target = self.root / d
            while d not in ("", ".") and target != self.root:
                try:
                    target.rmdir()
                except OSError:
                    break
                target = target.parent
                d = str(Path(d).parent)
        self.ex.emit("restored", {"restored": restored, "removed": removed})
        return restored, removed

    def _restore_index(self) -> None:
        """Undo index changes made by commands (`git mv`), entry by entry; nothing else in the index moves."""
        _set_index(self.root, self.journal.data.get("index_originals", {}))


def _untracked_dirs(root: Path) -> list[str]:
    """Untracked, not ignored folders at their topmost level (empty ones included), without the slash."""
    import subprocess

    proc = subprocess.run(
        ["git", "ls-files", "-z", "--others", "--directory", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    entries = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
    return sorted(e.rstrip("/") for e in entries if e.endswith("/"))


# Folders of installed dependencies: reproducible, and far too many files to journal one by one.
_UNJOURNALED = frozenset({"node_modules", ".venv", "__pycache__"})


def _ignored_entries(root: Path) -> list[str]:
    """Ignored files and topmost wholly ignored folders (with a slash), as git lists them without entering them."""
    import subprocess

    proc = subprocess.run(
        ["git", "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    return sorted(e for e in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if e)


def _ignored_files(root: Path, limit: int = 20_000) -> list[str]:
    """Every file git ignores, folders of installed dependencies aside (at most `limit`): a command's files in an
    ignored archive folder are undone like any other."""
    out: list[str] = []
    for entry in _ignored_entries(root):
        if any(part in _UNJOURNALED for part in entry.rstrip("/").split("/")):
            continue
        full = root / entry.rstrip("/")
        if entry.endswith("/"):
            for dirpath, dirnames, filenames in os.walk(full):
                dirnames[:] = [d for d in dirnames if d not in _UNJOURNALED]
                out += [(Path(dirpath) / f).relative_to(root).as_posix() for f in filenames]
                if len(out) > limit:
                    return sorted(out)
        else:
            out.append(entry)
    return sorted(out)


def _tmp_of(full: Path) -> Path:
    """The temporary file `steps.write_changes` writes before renaming it into place."""
    return full.with_name(f".{full.name}.continuous-tmp")


def _set_index(root: Path, entries: dict[str, str | None]) -> None:
    """Set index entries ("mode blob", or None: absent), in one git call."""
    import subprocess

    if not entries:
        return
    records = "".join(
        f"0 {'0' * 40}\t{p}\0" if e is None else f"{e}\t{p}\0" for p, e in sorted(entries.items())
    )
    with faults.around("git.update-index"):
        subprocess.run(
            ["git", "update-index", "-z", "--index-info"],
            cwd=root,
            input=records.encode("utf-8", "surrogateescape"),
            capture_output=True,
            check=False,
        )


def _tree_blobs(root: Path, commit: str, paths: list[str]) -> dict[str, str]:
    """path → blob id in `commit` (absent paths left out), in one git call."""
    import subprocess

    if not paths:
        return {}
    out: dict[str, str] = {}
    for chunk in [paths[i : i + 500] for i in range(0, len(paths), 500)]:
        proc = subprocess.run(
            ["git", "ls-tree", "-z", commit, "--", *chunk], cwd=root, capture_output=True, check=False
        )
        for rec in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
            if "\t" in rec:
                meta, path = rec.split("\t", 1)
                out[path] = meta.split()[2]
    return out
def _head_blob(root: Path, path: str) -> str | None:
    import subprocess

    proc = subprocess.run(
        ["git", "rev-parse", "-q", "--verify", f"HEAD:{path}"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or None


def _index_entries(root: Path, paths: list[str]) -> dict[str, str]:
    """path → "mode blob" in the user's index (read-only)."""
    return _git_entries(root, paths, ["ls-files", "-s", "-z"], lambda meta: (meta[0], meta[1]))


def _head_entries(root: Path, paths: list[str]) -> dict[str, str]:
    """path → "mode blob" in HEAD's tree."""
    return _git_entries(root, paths, ["ls-tree", "-z", "HEAD"], lambda meta: (meta[0], meta[2]))


def _git_entries(
    root: Path, paths: list[str], command: list[str], mode_blob: Callable[[list[str]], tuple[str, str]]
) -> dict[str, str]:
    import subprocess

    if not paths:
        return {}
    proc = subprocess.run(["git", *command, "--", *paths], cwd=root, capture_output=True, check=False)
    out: dict[str, str] = {}
    for rec in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if "\t" in rec:
            meta, path = rec.split("\t", 1)
            mode, blob = mode_blob(meta.split())
            out[path] = f"{mode} {blob}"
    return out


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


def _glob(root: Path, pattern: str) -> list[str]:
    _glob_path(root, pattern)
    if not any(ch in pattern for ch in "*?["):
        return [pattern] if (root / pattern).exists() else []
    rx = glob_regex(pattern)
    return sorted(p for p in list_files(root) if rx.match(p) and (root / p).exists())


def _validation_label(v: m.Validation, ctx: st.StepContext) -> str:
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
    saved: dict[str, Any],
    *,
    worktree: Path | str | None = None,
    rule_base: m.RuleBase | None = None,
    estimator: Estimator | None = None,
) -> DryRunReport:
    """Dry-run a saved plan (the contract's JSON): used by `continuous plan --dry-run`."""
    ex = Executor(worktree, rule_base=rule_base, estimator=estimator)
    try:
        return ex.dry_run(ex.plan_from_saved(saved))
    finally:
        ex.close()


def requests_from_dicts(items: Iterable[Any]) -> list[Request]:
    out = []
    for raw in items:
        if isinstance(raw, str):
            out.append(Request(scenario=raw))
            continue
        if not isinstance(raw, dict) or "scenario" not in raw:
            raise UserError(f"a chain item needs a 'scenario' (got {raw!r})")
        params = raw.get("params") or {}
        if not isinstance(params, dict):
            raise UserError(f"'params' of {raw['scenario']} must be a mapping")
        out.append(Request(scenario=str(raw["scenario"]), params=dict(params)))
    return out


__all__ = ["Executor", "Request", "RunFailed", "dry_run_plan", "requests_from_dicts"]

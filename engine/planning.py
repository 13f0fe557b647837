"""Planning: requests in, a frozen plan out (resolution included), and the ports a plan allocates.

Also the run clock: the timestamps generated names use (migrations) are at least a second after the last run in
this worktree, and a rolled-back run gives its seconds back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from continuous.common.errors import UserError
from continuous.dsl import model as m
from continuous.dsl.params import bind_params
from continuous.engine import steps as st
from continuous.engine.facts import Fact
from continuous.engine.plan import FrozenPlan, PlanEntry, SavedPlan, SkippedEntry

if TYPE_CHECKING:
    from continuous.engine.executor import Executor
    from continuous.engine.run.journal import Journal

NOW_ENV = "CONTINUOUS_NOW"
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


def _params_key(params: dict[str, m.Scalar]) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def clock_now(ex: Executor) -> datetime:
    """The clock for generated names: at least a second after the last run here, so two runs in one second
    (or under a pinned CONTINUOUS_NOW) still get distinct, ordered migration names."""
    now = fixed_now()
    try:
        last = datetime.fromisoformat((ex.ws.state_dir / "clock").read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return now
    return max(now, last + timedelta(seconds=1))


def advance_clock(ex: Executor, now: datetime, items: int) -> tuple[str | None, str]:
    path = ex.ws.state_dir / "clock"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        before: str | None = path.read_text(encoding="utf-8").strip()
    except OSError:
        before = None
    value = item_now(now, max(items - 1, 0)).isoformat()
    path.write_text(value, encoding="utf-8")
    return before, value


def rewind_clock(ex: Executor, journal: Journal) -> None:
    """A rolled-back run gives its timestamps back, unless a later run already used the clock."""
    clock = journal.data.clock
    path = ex.ws.state_dir / "clock"
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


def build_plan(
    ex: Executor,
    requests: Sequence[Request],
    *,
    request_text: str | None = None,
    allocate_ports: bool = False,
    facts: list[Fact] | None = None,
) -> FrozenPlan:
    from continuous.engine.resolution import PlanRequest, resolve

    if not requests:
        raise UserError("nothing to plan: no scenario given")
    facts = ex.facts() if facts is None else facts
    ex.facts_cache = facts
    plan_requests = []
    allocated_by_request: dict[tuple[str, str], tuple[str, ...]] = {}
    for req in requests:
        sc = ex.scenario(req.scenario)
        params = bind_params(sc, list(req.positional), req.params)
        given = set(req.params) | {p.name for p in sc.positional_params()[: len(req.positional)]}
        allocated = _ports(ex, sc, params, facts, given, allocate=allocate_ports)
        allocated_by_request[(sc.id, _params_key(params))] = allocated
        plan_requests.append(PlanRequest(scenario=sc.id, params=params, reason=req.reason))
    resolution = resolve(ex.rule_base, plan_requests, facts)
    items = []
    for i in resolution.items:
        params = dict(i.params)
        sc = ex.scenario(i.scenario)
        st.check_path_params(ex.root, sc, params)
        names = allocated_by_request.get((sc.id, _params_key(params)))
        if names is None:  # a dependency: its ports were never given by anyone
            given = {n for n, v in params.items() if not any(p.name == n and v == p.default for p in sc.params)}
            names = _ports(ex, sc, params, facts, given, allocate=allocate_ports)
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
    head = ex.ws.head()
    if head is None:
        raise UserError(f"{ex.root} has no commit yet", hint="make a first commit")
    return FrozenPlan(
        request=request_text,
        head=head,
        rule_base_hash=ex.rule_base.content_hash(),
        items=tuple(items),
        skipped=tuple(SkippedEntry(scenario=s.scenario, params=s.params, reason=s.reason) for s in resolution.skipped),
        worktree=str(ex.root),
        branch=ex.ws.branch,
    )


def _port_params(ex: Executor, sc: m.Scenario) -> list[tuple[m.Param, tuple[int, int]]]:
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


def _repository_port_range(ex: Executor) -> tuple[int, int] | None:
    from continuous.common.config import load_config

    return load_config(ex.root).port_range


def _ports(
    ex: Executor, sc: m.Scenario, params: dict[str, m.Scalar], facts: list[Fact], given: set[str], *, allocate: bool
) -> tuple[str, ...]:
    """Check the given ports against the repository's `port_range` and allocate the others from the port
    registry (the declared default first, when it is free); returns the names of the allocated ones."""
    ports = _port_params(ex, sc)
    if not ports and not any(p.type == "port" for p in sc.params):
        return ()
    configured = _repository_port_range(ex)
    for p in sc.params:
        value = params.get(p.name)
        if (
            p.name in given
            and (p.type == "port" or any(p is q for q, _ in ports))
            and configured
            and isinstance(value, int)
            and not configured[0] <= value <= configured[1]
        ):
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
        params[p.name] = _port_for(ex, sc, p.name, params, facts, low, high, default, allocate=allocate)
        allocated.append(p.name)
    return tuple(allocated)


def _port_for(
    ex: Executor,
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
    store = ex.store() if allocate else ex.existing_store()
    if store is not None:
        used |= {p.port for p in store.list_ports()}
    used |= set(ex.planned_ports)
    start = default if default is not None else low  # the default first, then the ports after it
    order = [*range(start, high + 1), *range(low, start)]
    preferred = next((p for p in order if p not in used), None)
    if not allocate:
        if preferred is None:
            raise UserError(f"no free port in {low}-{high} for {sc.id}")
        ex.planned_ports.append(preferred)
        return preferred
    others = ",".join(f"{k}={v}" for k, v in sorted(params.items()) if k != name)
    owner = f"{sc.id}:{others}" if name == "port" else f"{sc.id}#{name}:{others}"
    assert store is not None
    port = store.allocate_port(owner, str(ex.root), low=low, high=high, preferred=preferred)
    ex.allocated_ports.append(port)
    return port


def plan_from_saved(ex: Executor, data: SavedPlan, *, allocate_ports: bool = False) -> FrozenPlan:
    """A saved plan, checked against the repository as it is now, frozen again (ports allocated)."""
    head = ex.ws.head()
    if data.head != head:
        raise UserError(
            f"the saved plan was made on commit {data.head[:12]}, but HEAD is now {(head or 'nothing')[:12]}",
            hint="re-plan (`continuous plan ... --out FILE`) so the plan matches the repository",
        )
    current = ex.rule_base.content_hash()
    if data.rule_base_hash != current:
        raise UserError(
            f"the saved plan was made with rule base {data.rule_base_hash}, but the scenarios or their "
            f"templates have changed since (now {current})",
            hint="re-plan (`continuous plan ... --out FILE`) against the current scenarios",
        )
    items = []
    facts = ex.facts()
    for n, raw in enumerate(data.items):
        sc = ex.scenario(raw.scenario)
        saved = dict(raw.params)
        planned = raw.allocated or ()
        for name in planned:  # a port the plan only proposed: allocate it now (the same one when still free)
            saved.pop(name, None)
        params = bind_params(sc, (), saved)
        st.check_path_params(ex.root, sc, params)
        given = set(saved)
        allocated = _ports(ex, sc, params, facts, given, allocate=allocate_ports)
        items.append(
            PlanEntry(
                scenario=sc.id,
                params=params,
                role=raw.role,
                reason=raw.reason,
                # an item waits only for earlier ones; the resolver's check below names a misordered plan
                after=tuple(a for a in raw.after if 0 <= a < n) if raw.after is not None else ((n - 1,) if n else ()),
                group=raw.group,
                allocated=allocated,
            )
        )
    _check_saved_items(ex, items, facts)
    return FrozenPlan(
        request=data.request,
        head=str(head),
        rule_base_hash=current,
        items=tuple(items),
        worktree=str(ex.root),
        branch=ex.ws.branch,
    )


def _check_saved_items(ex: Executor, items: list[PlanEntry], facts: list[Fact]) -> None:
    """A saved plan is only run as the resolver would run it today: every `requires` before its item, no item
    already done, and not the very plan a successful run already applied at this commit."""
    from continuous.engine.resolution import plan_problems

    hint = "re-plan (`continuous plan ... --out FILE`); a plan file is not edited by hand"
    problems = plan_problems(ex.rule_base, [(i.scenario, i.params) for i in items], facts)
    if problems:
        done = all("already done" in p for p in problems)
        raise UserError(
            ("the saved plan is already applied: " if done else "the saved plan does not hold: ")
            + "; ".join(problems[:3])
            + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""),
            hint="commit or roll back the earlier run, or re-plan" if done else hint,
        )
    previous = _applied_by(ex, items)
    if previous is not None:
        raise UserError(
            f"the saved plan is already applied: execution {previous} ran it at this commit",
            hint=f"commit its changes, or `continuous rollback {previous}`, before running it again",
        )


def _applied_by(ex: Executor, items: list[PlanEntry]) -> str | None:
    """The successful, not rolled back, run of the same items at the current HEAD (from the run journals)."""
    head = ex.ws.head()
    wanted = [(i.scenario, {k: v for k, v in i.params.items() if k not in i.allocated}) for i in items]
    from continuous.engine.run.journal import read_journal

    for path in (ex.ws.state_dir / "runs").glob("*.json"):
        try:
            data = read_journal(path)
        except (OSError, ValueError):
            continue
        if data.status != "success" or data.head != head:
            continue
        ran = [(i.scenario, {k: v for k, v in i.params.items() if k not in i.allocated}) for i in data.plan.items]
        if ran == wanted:
            return data.execution_id
    return None


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

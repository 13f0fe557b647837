"""TrackingStore: the only code that writes SQL against the tracking tables.

Every public method is one short transaction (writes take the write lock up front on SQLite, see `db.py`), so
many processes in many worktrees can record into one database at once. Uniqueness that matters under
concurrency (one holder per port, one open task per dedup key, one row per scenario id) is enforced by
database constraints, and a writer that loses a race retries; no Python-side lock is trusted across processes.
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import json
import math
import random
import statistics
import time
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from continuous.common import faults
from continuous.common.errors import RunFailed, UserError, mask_url
from continuous.common.status import FAILED, ExecutionStatus, StepStatus
from continuous.store import models as m
from continuous.store.db import IMMEDIATE, check_reachable, guard, make_engine
from continuous.store.records import (
    ArchivedRecord,
    EventRecord,
    ExecutionRecord,
    PortRecord,
    ScenarioRecord,
    ScenarioStats,
    StepRecord,
    StoreInfo,
    SyncReport,
    TaskRecord,
)
from continuous.store.types import new_id, utcnow
from continuous.store.url import ResolvedUrl, resolve_url
from sqlalchemy import Engine, Table, bindparam, cast, func, insert, select, text, update
from sqlalchemy import String as SAString
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

if TYPE_CHECKING:
    from continuous.dsl.model import RuleBase, Scenario

SCENARIOS: Table = m.ScenarioRow.__table__
EXECUTIONS: Table = m.ExecutionRow.__table__
STEPS: Table = m.StepRow.__table__
ARCHIVED: Table = m.ArchivedItemRow.__table__
TASKS: Table = m.TaskRow.__table__
PORTS: Table = m.PortRow.__table__
EVENTS: Table = m.EventRow.__table__

# The statement of the hot path (finishing a step) is built once: constructing and cache-keying a statement
# costs
# more client CPU than executing it, and with many writers on few cores that CPU is the throughput limit.
_FINISH_STEP = (
    update(STEPS)
    .where(STEPS.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        output=bindparam("b_output"),
        checkpoint_commit=bindparam("b_commit"),
        completed_at=bindparam("b_done"),
    )
)

_INSERT_IGNORE: dict[tuple[str, str, str], Any] = {}

FAILED_STATUSES = FAILED
SYNC_LOCK_KEY = 0x636F6E75
RETRIES = 5
WRITE_ATTEMPTS = 4
T = TypeVar("T")


F = TypeVar("F", bound=Callable[..., Any])


def _fault_point(fn: F) -> F:
    """A store write is a named fault point (`store.<method>.before` / `.after`) for the crash harness."""
    name = f"store.{fn.__name__}"

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with faults.around(name):
            return fn(*args, **kwargs)

    return typing.cast(F, wrapper)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def _strip(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _strip(v) for k, v in data.items() if k not in ("loc", "source")}
    if isinstance(data, list):
        return [_strip(v) for v in data]
    return data


def scenario_values(scenario: Scenario) -> dict[str, Any]:
    """The sys_scenarios columns for one DSL scenario; the content hash ignores where it was written."""
    dump = _strip(scenario.model_dump(mode="json"))
    digest = hashlib.sha256(json.dumps(dump, sort_keys=True).encode()).hexdigest()[:16]
    return {
        "scenario_id": scenario.id,
        "object_type": scenario.object_type,
        "name": scenario.summary or scenario.id,
        "description": scenario.description or None,
        "dependencies": [d.scenario for d in scenario.dependencies],
        "preconditions": dump.get("preconditions", []),
        "steps": dump.get("steps", []),
        "validations": dump.get("validations", []),
        "automation_level": scenario.automation,
        "estimate_seconds": scenario.estimate_seconds,
        "manual_effort_seconds": scenario.manual_effort_seconds,
        "content_hash": digest,
    }


def _check_status(status: str) -> None:
    if status not in m.EXECUTION_STATUSES:
        raise ValueError(f"unknown execution status {status!r}; expected one of {', '.join(m.EXECUTION_STATUSES)}")


def _step(row: RowMapping) -> StepRecord:
    return StepRecord.model_validate(dict(row))


def _execution(
    row: RowMapping, steps: Sequence[StepRecord] = (), children: Sequence[ExecutionRecord] = ()
) -> ExecutionRecord:
    data = dict(row)
    data["worktree"] = data.pop("worktree_path")
    data["parameters"] = data.get("parameters") or {}
    data["checkpoints"] = data.get("checkpoints") or []
    return ExecutionRecord.model_validate({**data, "steps": list(steps), "children": list(children)})


def _task(row: RowMapping) -> TaskRecord:
    return TaskRecord.model_validate(dict(row))


def _archived(row: Mapping[str, Any], rolled_back: AbstractSet[str] = frozenset()) -> ArchivedRecord:
    data = dict(row)
    if data.get("execution_id") in rolled_back:
        data["state"] = "rolled_back"
    elif data.get("restored_at") is not None and data.get("restored_by") not in rolled_back:
        data["state"] = "restored"
    else:
        data["state"] = "archived"
        data["restored_at"] = None if data.get("restored_by") in rolled_back else data.get("restored_at")
    return ArchivedRecord.model_validate(data)


def _scenario(row: RowMapping) -> ScenarioRecord:
    data = dict(row)
    data["dependencies"] = data.get("dependencies") or []
    return ScenarioRecord.model_validate(data)


class TrackingStore:
    """A handle on one tracking database. Cheap to keep open; `close()` releases the connection pool."""

    def __init__(self, engine: Engine, resolved: ResolvedUrl) -> None:
        self._engine = engine
        self._resolved = resolved
        self._known_scenarios: set[str] = set()

    # ---------------------------------------------------------------------------------------- plumbing

    @property
    def url_masked(self) -> str:
        return mask_url(self._resolved.url)

    @property
    def backend(self) -> str:
        return self._engine.dialect.name

    @property
    def source(self) -> str:
        """Where the URL came from: argument, environment, config or default."""
        return self._resolved.source

    @property
    def engine(self) -> Engine:
        """For read-only bulk access (analytics export); writes go through the methods of this class."""
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> TrackingStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        with guard(self._resolved.url, "database error"):
            yield

    @contextmanager
    def _write(self, *, single: bool = False) -> Iterator[Connection]:
        """A write transaction. `single`: the caller runs exactly one statement, which PostgreSQL then runs as
        its own implicit transaction (one round trip instead of BEGIN, statement, COMMIT)."""
        with self._engine.connect() as conn:
            if single and conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            else:
                conn = conn.execution_options(**{IMMEDIATE: True})
            with conn.begin():
                yield conn

    def _retrying(self, write: Callable[[], T]) -> T:
        """Run one write transaction, again after a dropped connection: a network blip or a restarted
        PostgreSQL costs a short wait, not the run. Bounded (WRITE_ATTEMPTS, about 5 s in all); SQLite's
        "database is locked" has waited its busy timeout already and is not retried."""
        delay = 0.25
        for attempt in range(WRITE_ATTEMPTS):
            try:
                return write()
            except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
                transient = bool(getattr(exc, "connection_invalidated", False)) or self.backend == "postgresql"
                if not transient or attempt == WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(delay)
                delay *= 4
        raise AssertionError("unreachable")

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn

    def _insert_ignore(self, conn: Connection, table: Table, values: dict[str, Any], key: str) -> None:
        """INSERT, unless a row with the same `key` exists. The statement is built once per table and key."""
        dialect = conn.dialect.name
        if dialect not in ("postgresql", "sqlite"):
            exists = conn.execute(select(table.c[key]).where(table.c[key] == values[key])).first()
            if exists is None:
                conn.execute(insert(table).values(**values))
            return
        cache_key = (dialect, table.name, key)
        statement = _INSERT_IGNORE.get(cache_key)
        if statement is None:
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as pg_insert

                statement = pg_insert(table).on_conflict_do_nothing(index_elements=[key])
            else:
                from sqlalchemy.dialects.sqlite import insert as sqlite_insert

                statement = sqlite_insert(table).on_conflict_do_nothing(index_elements=[key])
            _INSERT_IGNORE[cache_key] = statement
        conn.execute(statement, values)

    # ---------------------------------------------------------------------------------------- registry

    @_fault_point
    def sync_registry(
        self, rule_base: RuleBase, *, archived_by: str | None = None, archive_missing: bool = True
    ) -> SyncReport:
        """Upsert every scenario of the rule base; archive (never delete) the ones that disappeared.

        With `archive_missing=False` only the given scenarios are upserted: the executor registers what a run uses
        without archiving what another worktree's rule base still has."""
        wanted = {sid: scenario_values(sc) for sid, sc in rule_base.scenarios.items()}
        with self._guard():
            for attempt in range(RETRIES):
                try:
                    report = self._sync(wanted, archived_by or _user(), archive_missing)
                    self._known_scenarios.update(wanted)
                    return report
                except IntegrityError:
                    if attempt == RETRIES - 1:
                        raise
        raise AssertionError("unreachable")

    def _sync(self, wanted: dict[str, dict[str, Any]], archived_by: str, archive_missing: bool = True) -> SyncReport:
        report: dict[str, list[str]] = {
            "added": [],
            "changed": [],
            "unchanged": [],
            "archived": [],
            "restored": [],
        }
        now = utcnow()
        with self._write() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SYNC_LOCK_KEY})
            existing = {r.scenario_id: r for r in conn.execute(select(SCENARIOS)).mappings()}
            for sid in sorted(wanted):
                values = wanted[sid]
                row = existing.get(sid)
                if row is None:
                    conn.execute(insert(SCENARIOS).values(id=new_id(), created_at=now, updated_at=now, **values))
                    report["added"].append(sid)
                    continue
                if row.archived_at is not None:
                    conn.execute(
                        update(ARCHIVED)
                        .where(
                            ARCHIVED.c.item_type == "scenario",
                            ARCHIVED.c.item_path == sid,
                            ARCHIVED.c.restored_at.is_(None),
                        )
                        .values(restored_at=now)
                    )
                    report["restored"].append(sid)
                if row.content_hash != values["content_hash"] or row.archived_at is not None:
                    conn.execute(
                        update(SCENARIOS)
                        .where(SCENARIOS.c.scenario_id == sid)
                        .values(updated_at=now, archived_at=None, **values)
                    )
                    (report["changed"] if row.content_hash != values["content_hash"] else report["unchanged"]).append(
                        sid
                    )
                else:
                    report["unchanged"].append(sid)
            for sid in sorted(set(existing) - set(wanted)) if archive_missing else ():
                row = existing[sid]
                if row.archived_at is not None:
                    continue
                snapshot = {
                    k: row[k]
                    for k in (
                        "object_type",
                        "name",
                        "description",
                        "dependencies",
                        "automation_level",
                        "content_hash",
                        "steps",
                    )
                }
                conn.execute(
                    insert(ARCHIVED).values(
                        id=new_id(),
                        item_type="scenario",
                        item_path=sid,
                        archived_at=now,
                        archived_by=archived_by,
                        reason="removed from the rule base",
                        metadata=snapshot,
                    )
                )
                conn.execute(update(SCENARIOS).where(SCENARIOS.c.scenario_id == sid).values(archived_at=now))
                report["archived"].append(sid)
        return SyncReport(**report)

    def list_scenarios(self, *, include_archived: bool = False) -> list[ScenarioRecord]:
        query = select(SCENARIOS).order_by(SCENARIOS.c.scenario_id)
        if not include_archived:
            query = query.where(SCENARIOS.c.archived_at.is_(None))
        with self._guard(), self._read() as conn:
            return [_scenario(r) for r in conn.execute(query).mappings()]

    # -------------------------------------------------------------------------------------- executions

    @_fault_point
    def start_execution(
        self,
        scenario_id: str | None,
        params: Mapping[str, Any] | None,
        *,
        kind: str = "scenario",
        worktree: str | Path | None = None,
        branch: str | None = None,
        executed_by: str | None = None,
        parent_id: str | None = None,
        plan: Any = None,
        rule_base_hash: str | None = None,
        head_commit: str | None = None,
        status: ExecutionStatus = "running",
        execution_id: str | None = None,
        started_at: datetime | None = None,
    ) -> str:
        """Record an execution as running; a scenario never synced gets a placeholder registry row (type
        unknown).

        The executor chooses `execution_id` itself and writes it to its journal first, so a crash between the
        two never leaves a row that no journal knows; inserting an id that exists already is a no-op, which
        also makes a retried insert safe.
        """
        if kind not in m.EXECUTION_KINDS:
            raise ValueError(f"unknown execution kind {kind!r}; expected run or scenario")
        _check_status(status)
        if kind == "scenario" and scenario_id is None:
            raise ValueError("a scenario execution needs a scenario_id")
        execution_id = execution_id or new_id()
        now = utcnow()
        known = scenario_id is None or scenario_id in self._known_scenarios
        values = {
            "id": execution_id,
            "kind": kind,
            "parent_id": parent_id,
            "scenario_id": scenario_id,
            "worktree_path": str(worktree) if worktree is not None else None,
            "branch": branch,
            "executed_by": executed_by,
            "parameters": dict(params or {}),
            "plan": plan,
            "rule_base_hash": rule_base_hash,
            "head_commit": head_commit,
            "started_at": started_at or now,
            "status": status,
            "checkpoints": [],
        }

        def write() -> None:
            with self._write(single=known) as conn:
                if not known:
                    self._insert_ignore(
                        conn,
                        SCENARIOS,
                        {
                            "id": new_id(),
                            "scenario_id": scenario_id,
                            "object_type": "unknown",
                            "name": scenario_id,
                            "created_at": now,
                            "updated_at": now,
                        },
                        "scenario_id",
                    )
                self._insert_ignore(conn, EXECUTIONS, values, "id")

        with self._guard():
            self._retrying(write)
        if scenario_id is not None:
            self._known_scenarios.add(scenario_id)
        return execution_id

    def existing_executions(self, execution_ids: Sequence[str]) -> set[str]:
        """Which of these execution ids have a row."""
        if not execution_ids:
            return set()
        query = select(EXECUTIONS.c.id).where(EXECUTIONS.c.id.in_(list(execution_ids)))
        with self._guard(), self._read() as conn:
            return {str(r[0]) for r in conn.execute(query)}

    @_fault_point
    def start_step(
        self,
        execution_id: str,
        step_number: int,
        step_name: str,
        *,
        step_id: str | None = None,
        status: StepStatus = "running",
        output: str | None = None,
        checkpoint_commit: str | None = None,
    ) -> str:
        """A step row, `running` unless told otherwise (recovery re-creates finished steps from the journal)."""
        _check_status(status)
        step_id = step_id or new_id()
        now = utcnow()
        values = {
            "id": step_id,
            "execution_id": execution_id,
            "step_number": step_number,
            "step_name": step_name,
            "started_at": now,
            "status": status,
            "output": output,
            "checkpoint_commit": checkpoint_commit,
            "completed_at": None if status == "running" else now,
        }

        def write() -> None:
            with self._write(single=True) as conn:
                self._insert_ignore(conn, STEPS, values, "id")

        with self._guard():
            self._retrying(write)
        return step_id

    @_fault_point
    def finish_step(
        self,
        step_id: str,
        status: StepStatus,
        output: str = "",
        checkpoint_commit: str | None = None,
        *,
        only_running: bool = False,
    ) -> None:
        """Close a step row. `only_running`: leave a row that is already closed (or absent) alone."""
        _check_status(status)
        params = {
            "b_id": step_id,
            "b_status": status,
            "b_output": output,
            "b_commit": checkpoint_commit,
            "b_done": utcnow(),
        }
        statement = _FINISH_STEP.where(STEPS.c.status == "running") if only_running else _FINISH_STEP

        def write() -> int:
            with self._write(single=True) as conn:
                return int(conn.execute(statement, params).rowcount)

        with self._guard():
            if self._retrying(write) == 0 and not only_running:
                raise UserError(f"no step execution {step_id}")

    @_fault_point
    def close_running_steps(self, execution_ids: Sequence[str], status: StepStatus, output: str) -> int:
        """Close every step of these executions still marked running (a crash left it so); returns how many."""
        _check_status(status)
        if not execution_ids:
            return 0
        statement = (
            update(STEPS)
            .where(STEPS.c.execution_id.in_(list(execution_ids)), STEPS.c.status == "running")
            .values(status=status, output=output, completed_at=utcnow())
        )

        def write() -> int:
            with self._write(single=True) as conn:
                return int(conn.execute(statement).rowcount)

        with self._guard():
            return self._retrying(write)

    @_fault_point
    def update_execution(
        self,
        execution_id: str,
        *,
        status: ExecutionStatus | None = None,
        checkpoints: list[Any] | None = None,
        artifacts: Any = None,
        error_details: str | None = None,
        completed: bool = False,
        completed_at: datetime | None = None,
        reopen: bool = False,
        head_commit: str | None = None,
    ) -> None:
        """Change an execution row. `completed` stamps now (or `completed_at`); `reopen` clears the completion
        time (a resumed run is running again)."""
        values: dict[str, Any] = {}
        if status is not None:
            _check_status(status)
            values["status"] = status
        if checkpoints is not None:
            values["checkpoints"] = list(checkpoints)
        if artifacts is not None:
            values["artifacts"] = artifacts
        if error_details is not None:
            values["error_details"] = error_details
        if head_commit is not None:
            values["head_commit"] = head_commit
        if completed or completed_at is not None:
            values["completed_at"] = completed_at or utcnow()
        if reopen:
            values["completed_at"] = None
        if not values:
            return
        statement = update(EXECUTIONS).where(EXECUTIONS.c.id == execution_id).values(**values)

        def write() -> int:
            with self._write(single=True) as conn:
                return int(conn.execute(statement).rowcount)

        with self._guard():
            if self._retrying(write) == 0:
                raise UserError(f"no execution {execution_id}")

    def finish_execution(
        self,
        execution_id: str,
        status: ExecutionStatus,
        *,
        artifacts: Any = None,
        error_details: str | None = None,
        checkpoints: list[Any] | None = None,
        completed_at: datetime | None = None,
    ) -> None:
        self.update_execution(
            execution_id,
            status=status,
            artifacts=artifacts,
            error_details=error_details,
            checkpoints=checkpoints,
            completed=True,
            completed_at=completed_at,
        )

    # ------------------------------------------------------------------------------------------ events

    @_fault_point
    def record_event(
        self,
        execution_id: str,
        kind: str,
        *,
        details: dict[str, Any] | None = None,
        by: str | None = None,
        at: datetime | None = None,
        event_id: str | None = None,
    ) -> str:
        """An event in an execution's history (`rollback`). Recording the same `event_id` twice is a no-op, so
        recovery may replay it."""
        if kind not in m.EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}; expected one of {', '.join(m.EVENT_KINDS)}")
        values = {
            "id": event_id or new_id(),
            "execution_id": execution_id,
            "kind": kind,
            "created_at": at or utcnow(),
            "by": by or _user(),
            "details": details,
        }

        def write() -> None:
            with self._write(single=True) as conn:
                self._insert_ignore(conn, EVENTS, values, "id")

        with self._guard():
            self._retrying(write)
        return str(values["id"])

    def list_events(
        self, execution_id: str | None = None, *, kind: str | None = None, limit: int | None = 1000
    ) -> list[EventRecord]:
        query = select(EVENTS).order_by(EVENTS.c.created_at, EVENTS.c.id)
        if execution_id is not None:
            query = query.where(EVENTS.c.execution_id == execution_id)
        if kind is not None:
            query = query.where(EVENTS.c.kind == kind)
        if limit is not None:
            query = query.limit(limit)
        with self._guard(), self._read() as conn:
            return [EventRecord.model_validate(dict(r)) for r in conn.execute(query).mappings()]

    def _resolve_execution_id(self, conn: Connection, execution_id: str) -> str:
        key = execution_id.strip().lower()
        if len(key) == 36:
            try:
                row = conn.execute(select(EXECUTIONS.c.id).where(EXECUTIONS.c.id == key)).first()
            except Exception:
                row = None
            if row is not None:
                return str(row[0])
        elif len(key) >= 4 and all(c in "0123456789abcdef-" for c in key):
            rows = conn.execute(
                select(EXECUTIONS.c.id).where(cast(EXECUTIONS.c.id, SAString).like(key + "%")).limit(2)
            ).all()
            if len(rows) == 1:
                return str(rows[0][0])
            if len(rows) > 1:
                raise UserError(
                    f"execution id prefix {execution_id!r} is ambiguous",
                    hint="give more characters of the id",
                )
        raise UserError(f"no execution {execution_id!r}", hint="`continuous executions list` shows the ids")

    def get_execution(self, execution_id: str) -> ExecutionRecord:
        """One execution with its steps and child executions (each with steps); accepts a unique id prefix."""
        with self._guard(), self._read() as conn:
            full_id = self._resolve_execution_id(conn, execution_id)
            row = conn.execute(select(EXECUTIONS).where(EXECUTIONS.c.id == full_id)).mappings().one()
            kids = (
                conn.execute(
                    select(EXECUTIONS)
                    .where(EXECUTIONS.c.parent_id == full_id)
                    .order_by(EXECUTIONS.c.started_at, EXECUTIONS.c.id)
                )
                .mappings()
                .all()
            )
            ids = [full_id, *(k["id"] for k in kids)]
            steps: dict[str, list[StepRecord]] = {i: [] for i in ids}
            for s in conn.execute(
                select(STEPS).where(STEPS.c.execution_id.in_(ids)).order_by(STEPS.c.step_number, STEPS.c.started_at)
            ).mappings():
                steps[s["execution_id"]].append(_step(s))
            children = [_execution(k, steps[k["id"]]) for k in kids]
            return _execution(row, steps[full_id], children)

    def list_executions(
        self,
        *,
        scenario_id: str | None = None,
        status: str | None = None,
        worktree: str | Path | None = None,
        kind: str | None = None,
        parent_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = 100,
    ) -> list[ExecutionRecord]:
        """Newest first. Records carry no steps or children (use get_execution)."""
        query = select(EXECUTIONS)
        if scenario_id is not None:
            query = query.where(EXECUTIONS.c.scenario_id == scenario_id)
        if status is not None:
            query = query.where(EXECUTIONS.c.status == status)
        if worktree is not None:
            query = query.where(EXECUTIONS.c.worktree_path == str(worktree))
        if kind is not None:
            query = query.where(EXECUTIONS.c.kind == kind)
        if parent_id is not None:
            query = query.where(EXECUTIONS.c.parent_id == parent_id)
        if since is not None:
            query = query.where(EXECUTIONS.c.started_at >= since)
        if until is not None:
            query = query.where(EXECUTIONS.c.started_at < until)
        query = query.order_by(EXECUTIONS.c.started_at.desc(), EXECUTIONS.c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self._guard(), self._read() as conn:
            return [_execution(r) for r in conn.execute(query).mappings()]

    def find_active_run(self, worktree: str | Path) -> ExecutionRecord | None:
        runs = self.list_executions(worktree=worktree, kind="run", status="running", limit=1)
        return runs[0] if runs else None

    def scenario_stats(self, scenario_id: str, *, window: int = 500) -> ScenarioStats:
        """Counts over all finished executions; durations over the latest `window` successes (else all)."""
        finished = (
            (EXECUTIONS.c.scenario_id == scenario_id)
            & (EXECUTIONS.c.kind == "scenario")
            & EXECUTIONS.c.completed_at.is_not(None)
        )
        with self._guard(), self._read() as conn:
            counts: dict[str, int] = {
                str(k): int(v)
                for k, v in conn.execute(
                    select(EXECUTIONS.c.status, func.count()).where(finished).group_by(EXECUTIONS.c.status)
                ).all()
            }
            rows = conn.execute(
                select(EXECUTIONS.c.status, EXECUTIONS.c.started_at, EXECUTIONS.c.completed_at)
                .where(finished)
                .order_by(EXECUTIONS.c.started_at.desc())
                .limit(window * 4)
            ).all()
        ok = [(r[2] - r[1]).total_seconds() for r in rows if r[0] == "success"][:window]
        durations = ok or [(r[2] - r[1]).total_seconds() for r in rows][:window]
        median: float | None = None
        p90: float | None = None
        if durations:
            ordered = sorted(durations)
            median = float(statistics.median(ordered))
            p90 = float(ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)])  # nearest rank
        total = sum(counts.values())
        return ScenarioStats(
            executions=total,
            successes=counts.get("success", 0),
            failures=sum(counts.get(s, 0) for s in FAILED_STATUSES),
            median_seconds=median,
            p90_seconds=p90,
        )

    # ------------------------------------------------------------------------------------------------ ports

    @_fault_point
    def allocate_port(
        self,
        owner: str,
        worktree: str | Path | None,
        *,
        low: int = 3000,
        high: int = 3099,
        preferred: int | None = None,
    ) -> int:
        """A port no one else holds; the same owner in the same worktree gets its existing port back."""
        if not (0 < low <= high < 65536):
            raise UserError(f"invalid port range {low}-{high}")
        wt = str(worktree) if worktree is not None else None
        with self._guard():
            for attempt in range(high - low + 10):
                try:
                    with self._write() as conn:
                        held = conn.execute(
                            select(PORTS.c.port).where(
                                PORTS.c.owner == owner,
                                PORTS.c.worktree.is_(None) if wt is None else PORTS.c.worktree == wt,
                            )
                        ).first()
                        if held is not None:
                            return int(held[0])
                        taken = {int(p) for (p,) in conn.execute(select(PORTS.c.port))}
                        candidates = [preferred] if preferred is not None and preferred not in taken else []
                        candidates += [p for p in range(low, high + 1) if p not in taken and p != preferred]
                        if not candidates:
                            raise UserError(
                                f"no free port in {low}-{high}: all {high - low + 1} are allocated",
                                hint="`continuous health` lists them; release unused ones",
                            )
                        # lowest free port first; after losing a race, spread out so racers stop colliding
                        port = candidates[0] if attempt == 0 else random.choice(candidates[:16])
                        conn.execute(
                            insert(PORTS).values(
                                id=new_id(), port=port, owner=owner, worktree=wt, allocated_at=utcnow()
                            )
                        )
                        return port
                except IntegrityError:
                    continue  # another process took it between our read and our insert: pick again
        raise RunFailed(f"could not allocate a port in {low}-{high} after repeated conflicts")

    @_fault_point
    def release_port(self, port: int) -> None:
        def write() -> None:
            with self._write(single=True) as conn:
                conn.execute(PORTS.delete().where(PORTS.c.port == port))

        with self._guard():
            self._retrying(write)

    def list_ports(self) -> list[PortRecord]:
        with self._guard(), self._read() as conn:
            rows = conn.execute(select(PORTS).order_by(PORTS.c.port)).mappings().all()
        return [PortRecord.model_validate(dict(r)) for r in rows]

    # ------------------------------------------------------------------------------------------------ tasks

    def create_task(
        self,
        title: str,
        description: str = "",
        *,
        source: str,
        worktree: str | Path | None = None,
        execution_id: str | None = None,
        dedup_key: str | None = None,
    ) -> TaskRecord:
        """A new open task; with `dedup_key`, the already-open task of that key if there is one."""
        with self._guard():
            for attempt in range(RETRIES):
                try:
                    with self._write() as conn:
                        if dedup_key is not None:
                            row = (
                                conn.execute(
                                    select(TASKS).where(TASKS.c.dedup_key == dedup_key, TASKS.c.status == "open")
                                )
                                .mappings()
                                .first()
                            )
                            if row is not None:
                                return _task(row)
                        task_id = new_id()
                        conn.execute(
                            insert(TASKS).values(
                                id=task_id,
                                title=title,
                                description=description,
                                source=source,
                                status="open",
                                worktree=str(worktree) if worktree is not None else None,
                                execution_id=execution_id,
                                dedup_key=dedup_key,
                                created_at=utcnow(),
                            )
                        )
                        return _task(conn.execute(select(TASKS).where(TASKS.c.id == task_id)).mappings().one())
                except IntegrityError:
                    if attempt == RETRIES - 1:
                        raise
        raise AssertionError("unreachable")

    def list_tasks(
        self, status: str | None = None, *, source: str | None = None, dedup_key: str | None = None
    ) -> list[TaskRecord]:
        query = select(TASKS).order_by(TASKS.c.created_at, TASKS.c.id)
        if status is not None:
            query = query.where(TASKS.c.status == status)
        if source is not None:
            query = query.where(TASKS.c.source == source)
        if dedup_key is not None:
            query = query.where(TASKS.c.dedup_key == dedup_key)
        with self._guard(), self._read() as conn:
            return [_task(r) for r in conn.execute(query).mappings()]

    def _task_id(self, conn: Connection, task_id: str) -> str:
        key = task_id.strip().lower()
        rows = (
            conn.execute(select(TASKS.c.id).where(cast(TASKS.c.id, SAString).like(key + "%")).limit(2)).all()
            if len(key) >= 4 and all(c in "0123456789abcdef-" for c in key)
            else []
        )
        if len(rows) == 1:
            return str(rows[0][0])
        if len(rows) > 1:
            raise UserError(f"task id prefix {task_id!r} is ambiguous", hint="give more characters of the id")
        raise UserError(f"no task {task_id!r}", hint="`continuous tasks list` shows the ids")

    def get_task(self, task_id: str) -> TaskRecord:
        with self._guard(), self._read() as conn:
            full = self._task_id(conn, task_id)
            return _task(conn.execute(select(TASKS).where(TASKS.c.id == full)).mappings().one())

    def close_task(self, task_id: str, reason: str = "", *, status: str = "closed") -> TaskRecord:
        """Close an open task; `status` "wontfix" keeps it closed: `continuous check` does not open it again."""
        if status not in ("closed", "wontfix"):
            raise UserError(f"a task is closed as 'closed' or 'wontfix', not {status!r}")
        with self._guard(), self._write() as conn:
            full = self._task_id(conn, task_id)
            conn.execute(
                update(TASKS)
                .where(TASKS.c.id == full, TASKS.c.status == "open")
                .values(status=status, closed_at=utcnow(), close_reason=reason)
            )
            return _task(conn.execute(select(TASKS).where(TASKS.c.id == full)).mappings().one())

    def reopen_task(self, task_id: str) -> TaskRecord:
        """Open a closed or won't-fix task again (the next check keeps it, or closes it when the violation is
        gone)."""
        try:
            with self._guard(), self._write() as conn:
                full = self._task_id(conn, task_id)
                conn.execute(
                    update(TASKS)
                    .where(TASKS.c.id == full, TASKS.c.status != "open")
                    .values(status="open", closed_at=None, close_reason=None)
                )
                return _task(conn.execute(select(TASKS).where(TASKS.c.id == full)).mappings().one())
        except IntegrityError:
            raise UserError(
                f"task {task_id} cannot be reopened: another open task tracks the same violation",
                hint="`continuous tasks list` shows it",
            ) from None

    # ------------------------------------------------------------------------------------------------ archive

    def archive_item(
        self,
        item_type: str,
        item_path: str,
        *,
        reason: str,
        archived_by: str | None = None,
        metadata: dict[str, Any] | None = None,
        execution_id: str | None = None,
    ) -> str:
        item_id = new_id()
        with self._guard(), self._write(single=True) as conn:
            conn.execute(
                insert(ARCHIVED).values(
                    id=item_id,
                    item_type=item_type,
                    item_path=item_path,
                    archived_at=utcnow(),
                    archived_by=archived_by or _user(),
                    reason=reason,
                    metadata=metadata,
                    execution_id=execution_id,
                )
            )
        return item_id

    def list_archived(self, *, item_type: str | None = None, include_restored: bool = True) -> list[ArchivedRecord]:
        """Archived items with their state: `rolled_back` when the execution that archived the item was rolled
        back, `restored` when it was restored by an execution that still stands, else `archived`."""
        query = select(ARCHIVED).order_by(ARCHIVED.c.archived_at, ARCHIVED.c.id)
        if item_type is not None:
            query = query.where(ARCHIVED.c.item_type == item_type)
        with self._guard(), self._read() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
            undone = self._rolled_back(
                conn, {r[k] for r in rows for k in ("execution_id", "restored_by") if r[k] is not None}
            )
        items = [_archived(r, undone) for r in rows]
        if not include_restored:
            items = [i for i in items if i.state == "archived"]
        return items

    @staticmethod
    def _rolled_back(conn: Connection, execution_ids: set[str]) -> set[str]:
        if not execution_ids:
            return set()
        found = conn.execute(
            select(EVENTS.c.execution_id).where(
                EVENTS.c.kind == "rollback", EVENTS.c.execution_id.in_(sorted(execution_ids))
            )
        )
        return {str(r[0]) for r in found}

    def get_archived(self, item_id: str) -> ArchivedRecord:
        key = item_id.strip().lower()
        with self._guard(), self._read() as conn:
            rows = (
                conn.execute(select(ARCHIVED).where(cast(ARCHIVED.c.id, SAString).like(key + "%")).limit(2))
                .mappings()
                .all()
                if len(key) >= 4
                else []
            )
            if len(rows) != 1:
                raise UserError(
                    f"no archived item {item_id!r}" if not rows else f"archived id {item_id!r} is ambiguous",
                    hint="`continuous archive list` shows the ids",
                )
            row = dict(rows[0])
            undone = self._rolled_back(conn, {row[k] for k in ("execution_id", "restored_by") if row[k] is not None})
        return _archived(row, undone)

    def mark_restored(self, item_id: str, execution_id: str | None = None) -> ArchivedRecord:
        full = self.get_archived(item_id).id
        with self._guard(), self._write(single=True) as conn:
            conn.execute(
                update(ARCHIVED).where(ARCHIVED.c.id == full).values(restored_at=utcnow(), restored_by=execution_id)
            )
        return self.get_archived(full)

    # -------------------------------------------------------------------------------------------- info

    def view(self, name: str) -> list[dict[str, Any]]:
        """Rows of sys_scenario_impact_view or sys_scenario_health_view, numbers as float/int."""
        if name not in m.VIEWS:
            raise UserError(f"unknown view {name!r}; known: {', '.join(m.VIEWS)}")
        with self._guard(), self._read() as conn:
            rows = conn.execute(text(f"SELECT * FROM {name}")).mappings().all()
        out = []
        for r in rows:
            item: dict[str, Any] = {}
            for k, v in r.items():
                item[k] = float(v) if v is not None and type(v).__name__ == "Decimal" else v
            out.append(item)
        return out

    def revision(self) -> str | None:
        from continuous.store.migrate import current_engine

        return current_engine(self._engine, self._resolved.url)

    def info(self) -> StoreInfo:
        from continuous.store.migrate import head

        revision = self.revision()
        counts: dict[str, int] = {}
        with self._guard(), self._read() as conn:
            for table in m.TRACKING_TABLES:
                counts[table] = int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
        return StoreInfo(
            url=self.url_masked,
            backend=self.backend,
            source=self.source,
            revision=revision,
            head=head(),
            counts=counts,
        )


def open_store(url: str | None = None, *, repo: Path | None = None, auto_upgrade: bool | None = None) -> TrackingStore:
    """Open (and for SQLite, create and migrate) the tracking database.

    auto_upgrade: None = migrate SQLite databases automatically and refuse other databases that are not at
    head (a shared PostgreSQL is migrated deliberately with `continuous db upgrade`); True/False force either way.
    """
    from continuous.store.migrate import ensure_schema

    resolved = resolve_url(url, repo=repo)
    if resolved.is_default:
        path = Path(resolved.url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(resolved.url)
    try:
        check_reachable(engine, resolved.url)
        auto = auto_upgrade if auto_upgrade is not None else engine.dialect.name == "sqlite"
        ensure_schema(engine, resolved.url, auto_upgrade=auto)
    except BaseException:
        engine.dispose()
        raise
    return TrackingStore(engine, resolved)


def describe_database(url: str | None = None, *, repo: Path | None = None) -> StoreInfo:
    """What `continuous db info` shows, read-only: it neither creates tables nor requires the schema to be at
    head.
    """
    from continuous.store.migrate import current_revision_on, head
    from sqlalchemy import inspect as sa_inspect

    resolved = resolve_url(url, repo=repo)
    if resolved.is_default:
        Path(resolved.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(resolved.url)
    try:
        with guard(resolved.url, "cannot read database"), engine.connect() as conn:
            revision = current_revision_on(conn)
            present = set(sa_inspect(conn).get_table_names())
            counts = {
                t: int(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one())
                for t in m.TRACKING_TABLES
                if t in present
            }
        return StoreInfo(
            url=mask_url(resolved.url),
            backend=engine.dialect.name,
            source=resolved.source,
            revision=revision,
            head=head(),
            counts=counts,
        )
    finally:
        engine.dispose()

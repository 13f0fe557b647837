"""Background and scheduled runs: `continuous enqueue`, the DSL's `schedule` blocks and `continuous worker`.

The queue is the `ops_jobs` table of the tracking store (see `continuous.store.ops_models`): PostgreSQL
workers on any number of machines claim jobs with `FOR UPDATE SKIP LOCKED` and a lease that a heartbeat keeps
extending; a worker killed mid-job stops renewing, its lease expires and another worker takes the job. A job's
completion is recorded in the same transaction as its state change, and only while the lease is still held, so
it completes exactly once. SQLite allows one worker at a time (an exclusive file lock beside the database
file). SIGTERM lets the current job finish, then the worker stops; when the database goes away the worker
retries with backoff and says so."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from continuous.common import worktree_state
from continuous.common.errors import ContinuousError, RunFailed, UserError, mask_url

if TYPE_CHECKING:
    from continuous.dsl.model import RuleBase, Schedule
    from continuous.store.ops_models import Job, OpsDB

JOB_KINDS = ("scenario", "check", "docs", "health", "echo")
SCHEDULE_GRACE = timedelta(seconds=60)


@dataclass
class WorkerStats:
    name: str
    completed: int = 0
    failed: int = 0
    lost: int = 0
    scheduled: int = 0
    db_retries: int = 0
    stopped_by: str = ""
    jobs: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def validate_job(kind: str, payload: dict[str, Any], rule_base: RuleBase | None) -> None:
    if kind not in JOB_KINDS:
        raise UserError(f"unknown job kind {kind!r}", hint=f"known kinds: {', '.join(JOB_KINDS)}")
    if kind == "check" and payload.get("standards") and rule_base is not None:
        from continuous.ops.standards import select_standards

        select_standards(rule_base, list(payload["standards"]))
    if kind == "scenario":
        if rule_base is None or rule_base.scenario(str(payload.get("scenario", ""))) is None:
            raise UserError(
                f"unknown scenario {payload.get('scenario')!r}", hint="`continuous scenarios list` shows the scenarios"
            )
        from continuous.dsl.params import bind_params

        sc = rule_base.scenario(str(payload["scenario"]))
        assert sc is not None
        bind_params(sc, list(payload.get("positional", [])), dict(payload.get("params", {})))


# ---------------------------------------------------------------------------------------------------- schedul


def due_schedule_jobs(
    schedules: dict[str, Schedule], now: datetime, started: datetime, last_fire: Callable[[str], datetime | None]
) -> list[tuple[Schedule, datetime]]:
    """The latest cron slot of each schedule that has not been enqueued yet.

    A slot counts when it falls after the worker started (minus a grace minute) or after the schedule's
    previous enqueued slot: a worker that was down for a day enqueues the missed run once, not once per missed slot.
    """
    from croniter import croniter

    out = []
    for sid in sorted(schedules):
        sch = schedules[sid]
        prev = croniter(sch.cron, now).get_prev(datetime)
        prev = prev.replace(tzinfo=UTC) if prev.tzinfo is None else prev.astimezone(UTC)
        last = last_fire(sid)
        if (last is not None and last < prev) or (last is None and prev >= started - SCHEDULE_GRACE):
            out.append((sch, prev))
    return out


def schedule_job(sch: Schedule) -> tuple[str, dict[str, Any]]:
    from continuous.dsl.model import Value

    if sch.run is not None:
        params = {k: v.value for k, v in sch.run.bindings.items() if isinstance(v, Value)}
        return "scenario", {"scenario": sch.run.scenario, "params": params}
    if sch.docs:
        return "docs", {}
    return "check", {"standards": [sch.check] if sch.check else None}


# ---------------------------------------------------------------------------------------------------- executi


def execute_job(job: Job, *, default_worktree: Path | None) -> Any:
    """Do the work of one job; returns its JSON result, raises ContinuousError when it failed."""
    payload = job.payload
    if job.kind == "echo":
        delay = float(payload.get("sleep", 0) or 0)
        if delay:
            time.sleep(delay)
        return {"echo": payload.get("message")}
    worktree = Path(job.worktree) if job.worktree else default_worktree
    if worktree is None or not worktree.is_dir():
        raise RunFailed(f"job {job.id[:8]}: worktree {worktree} does not exist on this machine")
    from continuous.ops.context import repo_context

    ctx = repo_context(worktree)
    if job.kind == "scenario":
        from continuous.ops.execution import run_scenario

        store = ctx.open_store()
        try:
            outcome = run_scenario(
                ctx.rule_base,
                ctx.worktree,
                str(payload["scenario"]),
                dict(payload.get("params", {})),
                store=store,
                positional=list(payload.get("positional", [])),
                reason=f"background job {job.id[:8]}",
            )
        finally:
            store.close()
        if outcome.status != "success":
            raise RunFailed(f"scenario {payload['scenario']} {outcome.status}: {outcome.error or ''}".strip())
        return {"execution_id": outcome.execution_id, "status": outcome.status}
    if job.kind == "check":
        from continuous.ops.checks import run_check

        store = ctx.open_store()
        try:
            report = run_check(
                ctx.rule_base, ctx.worktree, store=store, only=payload.get("standards"), fix=bool(payload.get("fix"))
            )
        finally:
            store.close()
        return {
            "violations": len(report.violations),
            "tasks_opened": len(report.tasks_opened),
            "tasks_closed": len(report.tasks_closed),
        }
    if job.kind == "docs":
        from continuous.ops.livedocs import build_docs

        store = ctx.open_store()
        try:
            result = build_docs(ctx.worktree, ctx.rule_base, store=store)
        finally:
            store.close()
        return result.to_json()
    if job.kind == "health":
        from continuous.ops.health import run_health

        results = run_health(ctx.rule_base, ctx.worktree)
        return {"results": [r.to_json() for r in results]}
    raise RunFailed(f"unknown job kind {job.kind!r}")


# ---------------------------------------------------------------------------------------------------- worker


class SqliteWorkerLock:
    """One worker per SQLite database: an exclusive, non-blocking flock the OS drops if the process dies."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".worker.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise UserError(
                f"another worker ({holder}) is already running on this SQLite database",
                hint="SQLite allows one worker at a time; use PostgreSQL for several",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, worker_name().encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Worker:
    def __init__(
        self,
        url: str | None,
        *,
        repo: Path | None,
        rule_base: RuleBase | None = None,
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
        max_jobs: int | None = None,
        drain: bool = False,
        name: str | None = None,
        log: Callable[[str], None] | None = None,
        max_backoff: float = 30.0,
    ) -> None:
        self.url = url
        self.repo = repo
        self.rule_base = rule_base
        self.lease = lease_seconds
        self.poll = poll_seconds
        self.max_jobs = max_jobs
        self.drain = drain
        self.name = name or worker_name()
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.max_backoff = max_backoff
        self.stopping = False
        self.stop_reason = ""
        self.stats = WorkerStats(self.name)
        self.started = datetime.now(UTC)
        self._db: OpsDB | None = None
        self._store: Any = None

    # -- signals
    def _on_signal(self, signum: int, _frame: Any) -> None:
        self.stopping = True
        self.stop_reason = signal.Signals(signum).name
        self.log(f"worker {self.name}: {self.stop_reason} received; finishing the current job, then stopping")

    def install_signals(self) -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)

    # -- database with retries
    def _connect(self) -> OpsDB:
        from continuous.store import open_store
        from continuous.store.ops_models import OpsDB

        if self._db is None:
            self._store = open_store(self.url, repo=self.repo)
            self._db = OpsDB(self._store.engine)
        return self._db

    def _with_db(self, what: str, fn: Callable[[OpsDB], Any]) -> Any:
        """Run `fn` against the database, retrying with exponential backoff while it is unreachable."""
        from sqlalchemy import exc as sa_exc

        delay = 0.5
        while True:
            try:
                return fn(self._connect())
            except (sa_exc.OperationalError, sa_exc.InterfaceError, RunFailed, OSError) as exc:
                if isinstance(exc, RunFailed) and not any(w in exc.message for w in ("database", "connect")):
                    raise
                self.stats.db_retries += 1
                where = self._store.url_masked if self._store is not None else mask_url(self.url or "default")
                text = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
                self.log(
                    f"worker {self.name}: database unreachable at {where} while {what} ({text}); retrying in {delay:g}s"
                )
                self._reset()
                if self.stopping:
                    return None  # an unrecorded job's lease expires, then another worker retries it
                time.sleep(delay)
                delay = min(delay * 2, self.max_backoff)

    def _reset(self) -> None:
        if self._store is not None:
            with contextlib.suppress(Exception):
                self._store.close()
        self._store = None
        self._db = None

    # -- main loop
    def run(self) -> WorkerStats:
        lock = None
        try:
            from continuous.store.url import resolve_url

            resolved = resolve_url(self.url, repo=self.repo)
            url = resolved.url
            if url.startswith("sqlite") and ":///" in url and ":memory:" not in url:
                lock = SqliteWorkerLock(Path(url.split(":///", 1)[1]))
                lock.acquire()
            with worktree_state.memoised(share=False):  # worktrees change between jobs: never shared across
                self._loop()
        finally:
            if lock is not None:
                lock.release()
            self._reset()
        self.stats.stopped_by = self.stop_reason or self.stats.stopped_by
        return self.stats

    def _loop(self) -> None:
        while not self.stopping:
            if self.max_jobs is not None and self.stats.completed + self.stats.failed >= self.max_jobs:
                self.stop_reason = f"max-jobs {self.max_jobs}"
                return
            self._tick_schedules()
            self._with_db("expiring leases", lambda db: db.expire_exhausted())
            job = self._with_db("claiming a job", lambda db: db.claim(self.name, self.lease))
            if job is None:
                if self.drain:
                    counts = self._with_db("reading the queue", lambda db: db.count_jobs()) or {}
                    if not counts.get("queued") and not counts.get("running"):
                        self.stop_reason = "queue drained"
                        return
                time.sleep(self.poll)
                continue
            self._run_job(job)

    def _tick_schedules(self) -> None:
        if self.rule_base is None or not self.rule_base.schedules:
            return
        now = datetime.now(UTC)

        schedules = self.rule_base.schedules

        def enqueue_due(db: OpsDB) -> int:
            n = 0
            for sch, slot in due_schedule_jobs(schedules, now, self.started, db.last_schedule_fire):
                kind, payload = schedule_job(sch)
                added = db.enqueue(
                    kind,
                    payload,
                    worktree=str(self.repo) if self.repo else None,
                    schedule_id=sch.id,
                    dedup_key=f"schedule:{sch.id}:{slot.isoformat()}",
                    run_after=slot,
                )
                if added is not None:
                    n += 1
                    self.log(f"worker {self.name}: schedule {sch.id} enqueued job {added.id[:8]} for {slot:%H:%M}")
            return n

        self.stats.scheduled += self._with_db("enqueuing scheduled jobs", enqueue_due) or 0

    def _run_job(self, job: Job) -> None:
        stop_heartbeat = threading.Event()

        def heartbeat() -> None:
            while not stop_heartbeat.wait(max(self.lease / 3, 0.05)):
                try:
                    if self._db is not None and not self._db.renew(job.id, self.name, self.lease):
                        return
                except Exception:
                    continue  # the database is away; the main loop reports it when it next needs it

        beat = threading.Thread(target=heartbeat, daemon=True)
        beat.start()
        error: str | None = None
        result: Any = None
        try:
            with worktree_state.memoised():  # one job reads each worktree's git status once
                result = execute_job(job, default_worktree=self.repo)
        except ContinuousError as exc:
            error = exc.render()
        except Exception as exc:  # a bug in one job must not kill the worker
            error = f"{type(exc).__name__}: {exc}"
        finally:
            stop_heartbeat.set()
            beat.join()
        if error is None:
            done = self._with_db("recording a completion", lambda db: db.complete(job, self.name, result))
            if done:
                self.stats.completed += 1
                self.stats.jobs.append(job.id)
            else:
                self.stats.lost += 1
                self.log(f"worker {self.name}: lost the lease of job {job.id[:8]}; another worker owns it")
            return
        state = self._with_db("recording a failure", lambda db: db.fail(job, self.name, error or ""))
        self.stats.failed += 1
        self.log(f"worker {self.name}: job {job.id[:8]} ({job.kind}) failed, {state}: {error}")

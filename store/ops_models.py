"""Operations tables (job queue, job completions, health checks, standard checks) and the SQL that uses them.

The tables live on the store's `Base.metadata` and are created by migrations 0002_operations and
0004_standard_checks. Queue semantics:
a job is claimed by setting a lease (`leased_by`, `leased_until`); on PostgreSQL the claim selects with `FOR
UPDATE SKIP LOCKED`, so any number of workers on any number of machines share the queue without blocking each
other. A job whose lease expired (its worker died) is claimable again. Completion is one transaction that
checks the lease is still ours, marks the job done and inserts its completion row (primary key = job id), so a
job completes exactly once even when two workers ran it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from continuous.store.models import Base
from continuous.store.types import GUID, JSONDoc, UTCDateTime, new_id, utcnow
from sqlalchemy import Engine, ForeignKey, Index, Integer, Text, func, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

JOB_STATUSES = ("queued", "running", "done", "failed")


class JobRow(Base):
    __tablename__ = "ops_jobs"
    __table_args__ = (
        Index("ix_ops_jobs_status_run_after", "status", "run_after"),
        Index("uq_ops_jobs_dedup_key", "dedup_key", unique=True),
    )

    id: Mapped[str] = mapped_column(GUID, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(Text)
    payload: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    status: Mapped[str] = mapped_column(Text, default="queued", server_default=text("'queued'"))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    max_attempts: Mapped[int] = mapped_column(Integer, default=3, server_default=text("3"))
    worktree: Mapped[str | None] = mapped_column(Text)
    schedule_id: Mapped[str | None] = mapped_column(Text)
    dedup_key: Mapped[str | None] = mapped_column(Text)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=text("CURRENT_TIMESTAMP"))
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=text("CURRENT_TIMESTAMP"))
    leased_by: Mapped[str | None] = mapped_column(Text)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    error: Mapped[str | None] = mapped_column(Text)


class JobCompletionRow(Base):
    """One row per completed job; the primary key makes a second completion impossible."""

    __tablename__ = "ops_job_completions"

    job_id: Mapped[str] = mapped_column(GUID, ForeignKey("ops_jobs.id"), primary_key=True)
    worker: Mapped[str] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer)
    completed_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=text("CURRENT_TIMESTAMP")
    )


class HealthCheckRow(Base):
    __tablename__ = "ops_health_checks"
    __table_args__ = (Index("ix_ops_health_checks_checked_at", "checked_at"),)

    id: Mapped[str] = mapped_column(GUID, primary_key=True, default=new_id)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=text("CURRENT_TIMESTAMP"))
    kind: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)
    worktree: Mapped[str | None] = mapped_column(Text)


class StandardCheckRow(Base):
    """One standard's result in one `continuous check`: pass (no violation left) or fail."""

    __tablename__ = "ops_standard_checks"
    __table_args__ = (Index("ix_ops_standard_checks_checked_at", "checked_at"),)

    id: Mapped[str] = mapped_column(GUID, primary_key=True, default=new_id)
    check_id: Mapped[str] = mapped_column(GUID)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=text("CURRENT_TIMESTAMP"))
    worktree: Mapped[str | None] = mapped_column(Text)
    head_commit: Mapped[str | None] = mapped_column(Text)
    standard_id: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    violations: Mapped[int] = mapped_column(Integer, default=0)
    fixed: Mapped[int] = mapped_column(Integer, default=0)


OPS_TABLES = ("ops_jobs", "ops_job_completions", "ops_health_checks", "ops_standard_checks")


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    payload: dict[str, Any]
    status: str
    attempts: int
    max_attempts: int
    worktree: str | None
    schedule_id: str | None
    leased_by: str | None
    leased_until: datetime | None
    enqueued_at: datetime
    finished_at: datetime | None
    result: Any
    error: str | None

    def to_json(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}


def _job(row: JobRow) -> Job:
    return Job(
        row.id,
        row.kind,
        dict(row.payload or {}),
        row.status,
        row.attempts,
        row.max_attempts,
        row.worktree,
        row.schedule_id,
        row.leased_by,
        row.leased_until,
        row.enqueued_at,
        row.finished_at,
        row.result,
        row.error,
    )


class OpsDB:
    """Queue and health-check access on one engine (the tracking store's database)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    def _begin(self) -> Any:
        from continuous.store.db import IMMEDIATE

        # SQLite: take the write lock up front so a read-then-write claim never fails with "database is
        # locked".
        return self.engine.execution_options(**{IMMEDIATE: True}).begin()

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # ------------------------------------------------------------ queue
    def enqueue(
        self,
        kind: str,
        payload: dict[str, Any] | None = None,
        *,
        worktree: str | None = None,
        schedule_id: str | None = None,
        dedup_key: str | None = None,
        max_attempts: int = 3,
        run_after: datetime | None = None,
    ) -> Job | None:
        """Add a job; with a `dedup_key` already used, nothing is added and None is returned."""
        from sqlalchemy.exc import IntegrityError

        row = JobRow(
            id=new_id(),
            kind=kind,
            payload=payload or {},
            worktree=worktree,
            schedule_id=schedule_id,
            dedup_key=dedup_key,
            max_attempts=max_attempts,
            run_after=run_after or utcnow(),
            enqueued_at=utcnow(),
            status="queued",
            attempts=0,
        )
        with self._session() as s:
            s.add(row)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                return None
            return _job(row)

    def enqueue_many(self, jobs: list[tuple[str, dict[str, Any]]], *, worktree: str | None = None) -> int:
        now = utcnow()
        with self._session() as s:
            s.add_all(
                JobRow(
                    id=new_id(),
                    kind=k,
                    payload=p,
                    worktree=worktree,
                    run_after=now,
                    enqueued_at=now,
                    status="queued",
                    attempts=0,
                    max_attempts=3,
                )
                for k, p in jobs
            )
            s.commit()
        return len(jobs)

    def claim(self, worker: str, lease_seconds: float) -> Job | None:
        """Lease the oldest runnable job (queued, or running with an expired lease) to `worker`."""
        now = utcnow()
        until = now + timedelta(seconds=lease_seconds)
        jobs = JobRow.__table__
        runnable = ((jobs.c.status == "queued") & (jobs.c.run_after <= now)) | (
            (jobs.c.status == "running") & (jobs.c.leased_until < now) & (jobs.c.attempts < jobs.c.max_attempts)
        )
        pick = select(jobs.c.id).where(runnable).order_by(jobs.c.run_after, jobs.c.enqueued_at).limit(1)
        if self.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        with self._begin() as conn:
            job_id = conn.execute(pick).scalar()
            if job_id is None:
                return None
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(
                    status="running",
                    leased_by=worker,
                    leased_until=until,
                    attempts=jobs.c.attempts + 1,
                    started_at=now,
                )
            )
        with self._session() as s:
            row = s.get(JobRow, job_id)
            return _job(row) if row else None

    def renew(self, job_id: str, worker: str, lease_seconds: float) -> bool:
        jobs = JobRow.__table__
        with self._begin() as conn:
            res = conn.execute(
                update(jobs)
                .where((jobs.c.id == job_id) & (jobs.c.leased_by == worker) & (jobs.c.status == "running"))
                .values(leased_until=utcnow() + timedelta(seconds=lease_seconds))
            )
            return bool(res.rowcount)

    def complete(self, job: Job, worker: str, result: Any = None) -> bool:
        """Mark done and record the completion in one transaction, only while the lease is still ours."""
        jobs = JobRow.__table__
        with self._begin() as conn:
            res = conn.execute(
                update(jobs)
                .where((jobs.c.id == job.id) & (jobs.c.leased_by == worker) & (jobs.c.status == "running"))
                .values(status="done", finished_at=utcnow(), result=result, leased_until=None)
            )
            if res.rowcount != 1:
                return False  # the lease moved on: another worker owns (or finished) this job
            conn.execute(
                JobCompletionRow.__table__.insert().values(
                    job_id=job.id, worker=worker, attempt=job.attempts, completed_at=utcnow()
                )
            )
        return True

    def fail(self, job: Job, worker: str, error: str, *, retry_in: float = 5.0) -> str:
        """Record a failed attempt: back to the queue (after a delay) or, after max_attempts, failed."""
        jobs = JobRow.__table__
        final = job.attempts >= job.max_attempts
        values: dict[str, Any] = {"error": error[:4000], "leased_until": None}
        if final:
            values.update(status="failed", finished_at=utcnow())
        else:
            values.update(status="queued", run_after=utcnow() + timedelta(seconds=retry_in))
        with self._begin() as conn:
            conn.execute(
                update(jobs)
                .where((jobs.c.id == job.id) & (jobs.c.leased_by == worker) & (jobs.c.status == "running"))
                .values(**values)
            )
        return "failed" if final else "queued"

    def release(self, job: Job, worker: str) -> None:
        """Give a job back untouched (a worker stopping before it started the job)."""
        jobs = JobRow.__table__
        with self._begin() as conn:
            conn.execute(
                update(jobs)
                .where((jobs.c.id == job.id) & (jobs.c.leased_by == worker) & (jobs.c.status == "running"))
                .values(status="queued", leased_by=None, leased_until=None, attempts=jobs.c.attempts - 1)
            )

    def expire_exhausted(self) -> int:
        """Jobs whose last allowed attempt lost its lease become failed instead of staying running forever."""
        jobs = JobRow.__table__
        with self._begin() as conn:
            res = conn.execute(
                update(jobs)
                .where(
                    (jobs.c.status == "running")
                    & (jobs.c.leased_until < utcnow())
                    & (jobs.c.attempts >= jobs.c.max_attempts)
                )
                .values(status="failed", finished_at=utcnow(), error="lease expired on the last attempt")
            )
            return int(res.rowcount or 0)

    def get_job(self, job_id: str) -> Job | None:
        with self._session() as s:
            row = s.get(JobRow, job_id)
            if row is None:
                matches = s.scalars(select(JobRow).where(JobRow.id.in_(self._prefix_ids(s, job_id)))).all()
                row = matches[0] if len(matches) == 1 else None
            return _job(row) if row else None

    def _prefix_ids(self, s: Session, prefix: str) -> list[str]:
        ids = s.scalars(select(JobRow.id)).all()
        return [i for i in ids if str(i).startswith(prefix)]

    def list_jobs(self, status: str | None = None, limit: int = 100) -> list[Job]:
        with self._session() as s:
            q = select(JobRow).order_by(JobRow.enqueued_at.desc()).limit(limit)
            if status:
                q = q.where(JobRow.status == status)
            return [_job(r) for r in s.scalars(q)]

    def count_jobs(self) -> dict[str, int]:
        with self._session() as s:
            rows = s.execute(select(JobRow.status, func.count()).group_by(JobRow.status)).all()
            return {str(k): int(v) for k, v in rows}

    def completions(self) -> list[tuple[str, str, int]]:
        with self._session() as s:
            rows = s.execute(select(JobCompletionRow.job_id, JobCompletionRow.worker, JobCompletionRow.attempt))
            return [(str(a), str(b), int(c)) for a, b, c in rows]

    def last_schedule_fire(self, schedule_id: str) -> datetime | None:
        with self._session() as s:
            return s.scalar(select(func.max(JobRow.run_after)).where(JobRow.schedule_id == schedule_id))

    # ------------------------------------------------------------ health
    def record_health(self, results: list[dict[str, Any]], *, worktree: str | None = None) -> None:
        now = utcnow()
        with self._session() as s:
            s.add_all(
                HealthCheckRow(
                    id=new_id(),
                    checked_at=now,
                    kind=r["kind"],
                    target=r["target"],
                    status=r["status"],
                    latency_ms=r.get("latency_ms"),
                    detail=r.get("detail"),
                    worktree=worktree,
                )
                for r in results
            )
            s.commit()

    # ------------------------------------------------------------ standard checks
    def record_checks(
        self, results: list[dict[str, Any]], *, worktree: str | None = None, head_commit: str | None = None
    ) -> str:
        """One `continuous check`: a row per standard ({standard, severity, violations, fixed}); its id."""
        now = utcnow()
        check_id = new_id()
        with self._session() as s:
            s.add_all(
                StandardCheckRow(
                    id=new_id(),
                    check_id=check_id,
                    checked_at=now,
                    worktree=worktree,
                    head_commit=head_commit,
                    standard_id=r["standard"],
                    severity=r["severity"],
                    status="fail" if r["violations"] else "pass",
                    violations=r["violations"],
                    fixed=r.get("fixed", 0),
                )
                for r in results
            )
            s.commit()
        return check_id

    def list_checks(self, limit: int = 1000) -> list[dict[str, Any]]:
        with self._session() as s:
            rows = s.scalars(
                select(StandardCheckRow)
                .order_by(StandardCheckRow.checked_at.desc(), StandardCheckRow.standard_id)
                .limit(limit)
            )
            return [
                {
                    "check_id": r.check_id,
                    "checked_at": r.checked_at.isoformat(),
                    "worktree": r.worktree,
                    "head_commit": r.head_commit,
                    "standard": r.standard_id,
                    "severity": r.severity,
                    "status": r.status,
                    "violations": r.violations,
                    "fixed": r.fixed,
                }
                for r in rows
            ]

    def list_health(self, limit: int = 200) -> list[dict[str, Any]]:
        with self._session() as s:
            rows = s.scalars(select(HealthCheckRow).order_by(HealthCheckRow.checked_at.desc()).limit(limit))
            return [
                {
                    "checked_at": r.checked_at.isoformat(),
                    "kind": r.kind,
                    "target": r.target,
                    "status": r.status,
                    "latency_ms": r.latency_ms,
                    "detail": r.detail,
                    "worktree": r.worktree,
                }
                for r in rows
            ]

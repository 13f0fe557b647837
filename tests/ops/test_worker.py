"""Background jobs: enqueue, schedules, one SQLite worker at a time, PostgreSQL workers sharing the queue."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from continuous.common.errors import DslError
from continuous.dsl.parser import parse_text
from continuous.ops.worker import Worker, due_schedule_jobs, schedule_job
from continuous.store import open_store
from continuous.store.ops_models import OpsDB

from ..conftest import EXE as CONTINUOUS
from ..conftest import git


def _popen(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    full = {k: v for k, v in os.environ.items() if k != "CONTINUOUS_DATABASE_URL"}
    full.update(env or {})
    return subprocess.Popen(
        [CONTINUOUS, *args], cwd=repo, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_enqueue_and_drain_on_sqlite(git_repo: Path, invoke, run_cli) -> None:
    # the repository states where its services live (its files show nothing yet)
    (git_repo / ".continuous.toml").write_text('[conventions]\nservices_dir = "packages/shared/services"\n')
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "conventions")
    repo = str(git_repo)
    code, out = invoke("enqueue", "--kind", "echo", "--count", "25", "-p", "message=hi", "-C", repo)
    assert code == 0, out
    code, out = invoke("enqueue", "fix-service-index", "my-service", "--json", "-C", repo)
    assert code == 0, out
    payload = json.loads(out)["payload"]
    assert payload == {"scenario": "fix-service-index", "positional": ["my-service"], "params": {}}
    code, out = invoke("enqueue", "no-such-scenario", "-C", repo)
    assert code == 2 and "unknown scenario" in out
    code, out = invoke("enqueue", "fix-service-index", "Not_Kebab", "-C", repo)
    assert code == 2 and "Traceback" not in out
    code, out = invoke("enqueue", "--kind", "check", "no-such-standard", "-C", repo)
    assert code == 2 and "unknown standard" in out

    proc = run_cli(git_repo, "worker", "--once", "--poll", "0.05", "--json")
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    # 25 echo jobs and one scenario run, all completed by one drain
    assert stats["completed"] == 26 and stats["failed"] == 0
    assert (git_repo / "packages/shared/services/my-service/index.ts").exists()
    with open_store(repo=git_repo) as store:
        db = OpsDB(store.engine)
        done = [j for j in db.list_jobs("done", 100) if j.kind == "echo"]
        assert len(done) == 25 and all(j.result == {"echo": "hi"} for j in done)
        assert len(db.completions()) == stats["completed"]
        scenario_job = next(j for j in db.list_jobs("done", 100) if j.kind == "scenario")
        assert store.get_execution(scenario_job.result["execution_id"]).status == "success"


def test_sqlite_allows_one_worker_and_sigterm_stops_it(git_repo: Path, run_cli) -> None:
    first = _popen(git_repo, "worker", "--poll", "0.1")
    try:
        deadline = time.monotonic() + 30
        lock = next(iter((git_repo / ".git" / "continuous").glob("*.worker.lock")), None)
        while lock is None and time.monotonic() < deadline:
            time.sleep(0.1)
            lock = next(iter((git_repo / ".git" / "continuous").glob("*.worker.lock")), None)
        time.sleep(0.5)
        second = run_cli(git_repo, "worker", "--once")
        assert second.returncode == 2
        assert "already running" in second.stderr and "PostgreSQL" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        out, err = first.communicate(timeout=30)
    assert first.returncode == 0, err
    assert "SIGTERM" in err and "stopped: SIGTERM" in out


def test_sigterm_lets_the_running_job_finish(git_repo: Path, invoke) -> None:
    repo = str(git_repo)
    assert invoke("enqueue", "--kind", "echo", "-p", "message=slow", "-p", "sleep=3", "-C", repo)[0] == 0
    assert invoke("enqueue", "--kind", "echo", "-p", "message=next", "-C", repo)[0] == 0
    worker = _popen(git_repo, "worker", "--poll", "0.05", "--json")
    try:
        with open_store(repo=git_repo) as store:
            db = OpsDB(store.engine)
            deadline = time.monotonic() + 60
            while not db.list_jobs("running") and time.monotonic() < deadline:
                time.sleep(0.05)
            assert db.list_jobs("running"), "the worker never started the job"
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    stats = json.loads(out)
    assert stats["completed"] == 1 and stats["stopped_by"] == "SIGTERM"
    with open_store(repo=git_repo) as store:
        counts = OpsDB(store.engine).count_jobs()
    assert counts == {"done": 1, "queued": 1}


def test_schedules_enqueue_the_latest_slot_once() -> None:
    items = parse_text(
        'schedule nightly-docs {\n  cron "0 3 * * *"\n  docs\n}\n'
        'schedule hourly-check {\n  cron "0 * * * *"\n  check "cli-tracking"\n}\n',
        "s.scn",
    )
    schedules = {s.id: s for s in items}
    now = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)
    fired: dict[str, datetime] = {}
    # a worker that just started: only slots inside the grace minute count
    assert due_schedule_jobs(schedules, now, now, fired.get) == []
    started = datetime(2026, 11, 26, 9, 59, 30, tzinfo=UTC)
    due = due_schedule_jobs(schedules, now, started, fired.get)
    assert [(s.id, t.hour) for s, t in due] == [("hourly-check", 10)]
    fired["hourly-check"] = due[0][1]
    assert due_schedule_jobs(schedules, now, started, fired.get) == []
    later = now + timedelta(days=1)  # a day of downtime: each schedule runs its latest missed slot once
    fired["nightly-docs"] = datetime(2026, 11, 25, 3, tzinfo=UTC)
    assert sorted(s.id for s, _ in due_schedule_jobs(schedules, later, started, fired.get)) == [
        "hourly-check",
        "nightly-docs",
    ]
    assert schedule_job(schedules["nightly-docs"]) == ("docs", {})
    assert schedule_job(schedules["hourly-check"]) == ("check", {"standards": ["cli-tracking"]})


def test_schedule_syntax_errors_are_located_dsl_errors() -> None:
    with pytest.raises(DslError) as err:
        parse_text('schedule bad {\n  cron "61 * * * *"\n  docs\n}\n', "sched.scn")
    assert "sched.scn:2:8:" in str(err.value) and "minute" in str(err.value)


def test_worker_retries_with_backoff_when_the_database_is_unreachable(git_repo: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    logs: list[str] = []
    worker = Worker(url, repo=git_repo, poll_seconds=0.05, max_backoff=0.2, log=logs.append)

    def stop_soon() -> None:
        time.sleep(1.5)
        worker.stopping = True

    import threading

    threading.Thread(target=stop_soon, daemon=True).start()
    stats = worker.run()
    assert stats.db_retries >= 2
    assert any("database unreachable" in m and "retrying in" in m for m in logs)
    assert all("nobody@" not in m or "***" in m or ":" in m for m in logs)


# ------------------------------------------------------------------------------------------------ PostgreSQL


@pytest.fixture
def pg_db(pg_url: str) -> str:
    """A private database on the test server, so concurrent test runs never share a queue."""
    import psycopg

    admin = pg_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"ops_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = pg_url.replace("/continuous_test", f"/{name}")
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.postgres
@pytest.mark.slow
def test_three_postgres_workers_drain_300_jobs_exactly_once_despite_a_kill(git_repo: Path, pg_db: str) -> None:
    with open_store(pg_db, auto_upgrade=True) as store:
        db = OpsDB(store.engine)
        db.enqueue_many([("echo", {"message": f"slow-{i}", "sleep": 1.5}) for i in range(6)])
        time.sleep(0.01)
        db.enqueue_many([("echo", {"message": f"job-{i}"}) for i in range(294)])
        env = {"CONTINUOUS_DATABASE_URL": pg_db}
        workers = [
            _popen(git_repo, "worker", "--once", "--lease", "2", "--poll", "0.05", "--json", env=env) for _ in range(3)
        ]
        victim = workers[0]
        deadline = time.monotonic() + 60
        killed_job = None
        while killed_job is None and time.monotonic() < deadline:
            for job in db.list_jobs("running", 50):
                if (
                    job.leased_by
                    and job.leased_by.endswith(f":{victim.pid}")
                    and "slow" in str(job.payload.get("message"))
                ):
                    killed_job = job
                    break
            else:
                time.sleep(0.02)
        assert killed_job is not None, "the first worker never took a slow job"
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        results = []
        for w in workers[1:]:
            out, err = w.communicate(timeout=120)
            assert w.returncode == 0, err
            results.append(json.loads(out))

        assert db.count_jobs() == {"done": 300}
        completions = db.completions()
        assert len(completions) == 300 and len({c[0] for c in completions}) == 300
        by_job = {c[0]: c for c in completions}
        retried = db.get_job(killed_job.id)
        assert retried is not None and retried.attempts == 2
        assert retried.result == {"echo": killed_job.payload["message"]}
        assert not by_job[killed_job.id][1].endswith(f":{victim.pid}")
        assert by_job[killed_job.id][2] == 2
        survivors = Counter(c[1] for c in completions)
        assert sum(r["completed"] for r in results) == sum(
            n for w, n in survivors.items() if not w.endswith(f":{victim.pid}")
        )
        assert all(r["lost"] == 0 for r in results)


@pytest.mark.postgres
@pytest.mark.slow
def test_worker_survives_the_database_going_away(git_repo: Path, pg_db: str, pg_url: str) -> None:
    import psycopg

    admin = pg_url.replace("postgresql+psycopg://", "postgresql://")
    from sqlalchemy.engine import make_url

    name = make_url(pg_db).database
    with open_store(pg_db, auto_upgrade=True) as store:
        db = OpsDB(store.engine)
        db.enqueue_many([("echo", {"message": f"m{i}", "sleep": 0.05}) for i in range(60)])
    worker = _popen(
        git_repo, "worker", "--once", "--lease", "5", "--poll", "0.05", "--json", env={"CONTINUOUS_DATABASE_URL": pg_db}
    )
    time.sleep(0.5)
    with psycopg.connect(admin, autocommit=True) as conn:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until the worker is connected and busy
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()
            if row and row[0]:
                break
            time.sleep(0.1)
        conn.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        time.sleep(2.5)
        conn.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
    out, err = worker.communicate(timeout=120)
    assert worker.returncode == 0, err
    assert "database unreachable" in err and "retrying in" in err
    stats = json.loads(out)
    assert stats["db_retries"] >= 1
    with open_store(pg_db) as store:
        db = OpsDB(store.engine)
        assert db.count_jobs() == {"done": 60}
        assert len(db.completions()) == 60


def test_worker_enqueues_and_runs_dsl_schedules(git_repo: Path, commit, run_cli) -> None:
    (git_repo / "ops.scn").write_text('schedule loose-files {\n  cron "* * * * *"\n  check "no-loose-files"\n}\n')
    (git_repo / ".continuous.toml").write_text('scenario_paths = ["ops.scn"]\n')
    commit(git_repo, "schedule")
    proc = run_cli(git_repo, "worker", "--once", "--poll", "0.05", "--json")
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    # one slot (two if the run straddles a minute boundary), each enqueued once and run once
    assert stats["scheduled"] in (1, 2) and stats["completed"] == stats["scheduled"]
    with open_store(repo=git_repo) as store:
        jobs = OpsDB(store.engine).list_jobs("done")
    assert {(j.kind, j.schedule_id) for j in jobs} == {("check", "loose-files")}
    assert len(jobs) == stats["scheduled"]
    # ops.scn is a loose file at the root
    assert all(j.result["violations"] == 1 for j in jobs)
    assert sum(j.result["tasks_opened"] for j in jobs) == 1

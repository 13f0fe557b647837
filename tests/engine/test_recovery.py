"""Recovery after crashes, signals and database faults, on a fresh `continuous init --example` repository.

Each test reproduces one failure of issue 12 (sections 1, 2 and 4) or issue 14 section 5. The faults are real: a
SIGKILL at a named point of the run (`continuous.common.faults`), `git gc`, a stale lock file, a deleted
database, a database locked by another process, a signal, a closed pipe, a commit hook that says no.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from continuous.engine.api import ScenarioExecutor
from continuous.store import open_store

PLAN = ("run-scenario", "create-table", "new_things", "--yes", "--json")
MIGRATION = "supabase/migrations/20260301120000_create_new_things.sql"
STEPS = 5  # create-table: 4 steps, generate-types: 1 (merge types)


def killed(repo: Path, h, fault: str, *args: str) -> str:
    """Run the plan with a SIGKILL at `fault`; the execution id (from the journal)."""
    proc = h.cli(repo, *(args or PLAN), env={"CONTINUOUS_FAULT": fault})
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout, proc.stderr)
    return journal_of(repo)["execution_id"]


def journal_of(repo: Path) -> dict:
    runs = sorted((repo / ".git/continuous/runs").glob("*.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(runs[-1].read_text())


def reference(repo: Path, h) -> dict:
    """The tree an uninterrupted run makes (CONTINUOUS_NOW pins the clock); the repository is left as it was."""
    before = h.snapshot(repo)
    result = ScenarioExecutor(repo).execute("create-table", {"name": "new_things"})
    assert result.ok, result.error
    after = h.snapshot(repo)
    ScenarioExecutor(repo).rollback(result.execution_id)
    assert h.snapshot(repo) == before
    return after


def running_rows(db_url: str) -> list[tuple[str, str]]:
    with open_store(db_url) as store:
        out = [(e.id, "execution") for e in store.list_executions(status="running", limit=None)]
        for run in store.list_executions(kind="run", limit=None):
            full = store.get_execution(run.id)
            out += [(s.id, "step") for c in [full, *full.children] for s in c.steps if s.status == "running"]
    return out


# ---------------------------------------------------------------- 1. the user's work is never lost


def test_rollback_of_a_killed_run_keeps_edits_made_after_the_crash(example: Path, h) -> None:
    run_id = killed(example, h, "step.done@2")
    with open(example / MIGRATION, "a", encoding="utf-8") as fh:
        fh.write("-- my note, written after the crash\n")
    edited = (example / MIGRATION).read_bytes()
    refused = h.cli(example, "rollback", run_id)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert MIGRATION in refused.stderr and "--force" in refused.stderr
    assert (example / MIGRATION).read_bytes() == edited
    h.cli(example, "rollback", run_id, "--force", check=True)
    assert not (example / MIGRATION).exists()


def test_originals_survive_gc_between_crash_and_rollback(example: Path, h) -> None:
    """The pre-run blobs and checkpoints are held by refs, so `git gc --prune=now` between the crash and the
    rollback loses nothing; the user's uncommitted edit and untracked file (the fixture's) stay as they were."""
    types = example / "supabase/types.ts"
    before = h.snapshot(example)
    run_id = killed(example, h, f"step.done@{STEPS}")
    assert "new_things" in types.read_text()  # generate-types merged the new table
    h.git(example, "reflog", "expire", "--expire=now", "--all")
    h.git(example, "gc", "-q", "--prune=now")
    h.cli(example, "rollback", run_id, check=True)
    assert h.snapshot(example) == before


def test_stale_index_lock_of_the_private_index_is_recovered(example: Path, h) -> None:
    expected = reference(example, h)
    run_id = killed(example, h, "step.done@2")
    index = example / ".git/continuous/index" / f"{run_id}.index"
    assert index.exists()
    Path(str(index) + ".lock").write_bytes(b"")  # a git child killed while it held the private index
    proc = h.cli(example, "resume", run_id, "--json", check=True)
    assert json.loads(proc.stdout)["status"] == "success"
    assert h.snapshot(example) == expected


def test_crash_right_after_the_commit_is_resumed_as_committed(example: Path, h, db_url: str) -> None:
    head = h.git(example, "rev-parse", "HEAD")
    run_id = killed(example, h, "commit.after", *PLAN, "--commit")
    committed = h.git(example, "rev-parse", "HEAD")
    assert committed != head
    proc = h.cli(example, "resume", run_id, "--json", check=True)
    data = json.loads(proc.stdout)
    assert data["status"] == "success" and data["commit"] == committed
    assert h.git(example, "rev-parse", "HEAD") == committed
    assert h.git(example, "rev-list", "--count", f"{head}..HEAD") == "1"
    assert (example / MIGRATION).exists()
    assert h.git(example, "status", "--porcelain", "--", "supabase") == ""
    with open_store(db_url) as store:
        assert store.get_execution(run_id).head_commit == committed


# ---------------------------------------------------------------- 2. no state the commands cannot get out of


def test_lock_left_by_a_successful_run_is_cleared(example: Path, h, db_url: str) -> None:
    run_id = killed(example, h, "lock.release.before")
    assert (example / ".git/continuous/run.lock").exists()
    nothing = h.cli(example, "resume", run_id)
    assert nothing.returncode == 2 and "success" in nothing.stderr
    after = h.cli(example, "run-scenario", "create-table", "other_things", "--yes", "--json")
    assert after.returncode == 0, after.stderr
    with open_store(db_url) as store:
        assert store.get_execution(run_id).status == "success"


def test_resume_works_from_the_journal_when_the_database_is_gone(example: Path, h, db_url: str) -> None:
    expected = reference(example, h)
    run_id = killed(example, h, "step.done@3")
    db = Path(db_url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    proc = h.cli(example, "resume", run_id, "--json", check=True)
    assert json.loads(proc.stdout)["status"] == "success"
    assert h.snapshot(example) == expected
    with open_store(db_url) as store:
        run = store.get_execution(run_id)
        assert run.status == "success"
        assert [c.scenario_id for c in run.children] == ["create-table", "generate-types"]
        assert [c.status for c in run.children] == ["success", "success"]
    assert running_rows(db_url) == []


def test_rollback_works_from_the_journal_after_switching_databases(
    example: Path, h, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = h.snapshot(example)
    run_id = killed(example, h, "step.done@3")
    other = f"sqlite:///{tmp_path}/other.db"
    monkeypatch.setenv("CONTINUOUS_DATABASE_URL", other)
    blocked = h.cli(example, "run-scenario", "create-table", "other_things", "--yes")
    assert blocked.returncode == 2 and run_id in blocked.stderr and "resume" in blocked.stderr
    h.cli(example, "rollback", run_id[:8], check=True)
    assert h.snapshot(example) == before
    with open_store(other) as store:
        assert store.get_execution(run_id).status == "interrupted"
    assert running_rows(other) == []
    h.cli(example, *PLAN, check=True)


def test_failure_while_recording_a_failure_is_finished_by_the_next_command(example: Path, h, db_url: str) -> None:
    """The database is locked (beyond the busy timeout) from step 3 on: step 3 fails, and so does recording it."""
    before = h.snapshot(example)
    h.cli(example, "db", "upgrade", check=True)
    release = example.parent / "go"
    run = subprocess.Popen(
        [h.exe, *PLAN],
        cwd=example,
        env={
            **os.environ,
            "CONTINUOUS_FAULT": f"step.done@2:pause={release}",
            "CONTINUOUS_DB_BUSY_TIMEOUT_MS": "300",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(Path(str(release) + ".waiting"))
        holder = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        release.write_text("")
        out, err = run.communicate(timeout=120)
        holder.execute("ROLLBACK")
        holder.close()
    finally:
        run.kill()
    assert run.returncode == 1, out + err
    assert "Traceback" not in err
    assert h.snapshot(example) == before  # the files were restored even though nothing could be recorded
    after = h.cli(example, "run-scenario", "create-table", "other_things", "--yes", "--json")
    assert after.returncode == 0, after.stderr
    assert running_rows(db_url) == []
    with open_store(db_url) as store:
        failed = [e for e in store.list_executions(kind="run") if e.status != "success"]
        assert [e.status for e in failed] == ["failed"]


def test_a_full_disk_while_recording_a_failure_is_finished_by_the_next_command(example: Path, h, db_url: str) -> None:
    """Step 3 cannot write its file (disk full) and from then on no store write succeeds either."""
    before = h.snapshot(example)
    proc = h.cli(example, *PLAN, env={"CONTINUOUS_FAULT": "files.write.before@3:raise=store."})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "failed" and "No space left on device" in data["error"]
    assert any("could not be updated" in w for w in data["warnings"])
    assert h.snapshot(example) == before
    assert running_rows(db_url)  # what the failed run could not record
    after = h.cli(example, "run-scenario", "create-table", "other_things", "--yes", "--json")
    assert after.returncode == 0, after.stderr
    assert running_rows(db_url) == []
    with open_store(db_url) as store:
        failed = store.get_execution(data["execution_id"])
        assert failed.status == "failed" and "No space left" in (failed.error_details or "")


@pytest.mark.parametrize("nth", [3, 5])
def test_step_rows_never_stay_running(example: Path, h, db_url: str, nth: int) -> None:
    """Killed right after a step row (3: a step, 5: a validation) was inserted, before the journal knew it."""
    run_id = killed(example, h, f"store.start_step.after@{nth}")
    assert any(kind == "step" for _, kind in running_rows(db_url))
    h.cli(example, "resume", run_id, check=True)
    assert running_rows(db_url) == []


def test_a_reused_pid_does_not_block_the_worktree(example: Path, h) -> None:
    expected = reference(example, h)
    run_id = killed(example, h, "step.done@2")
    lock = example / ".git/continuous/run.lock"
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        held = json.loads(lock.read_text())
        held["pid"] = stranger.pid  # the dead run's pid now belongs to a live, unrelated process
        lock.write_text(json.dumps(held))
        blocked = h.cli(example, "run-scenario", "create-table", "other_things", "--yes")
        assert blocked.returncode == 2 and "interrupted" in blocked.stderr, blocked.stderr
        h.cli(example, "resume", run_id, check=True)
    finally:
        stranger.kill()
        stranger.wait()
    assert h.snapshot(example) == expected


def test_rollback_waits_for_a_resume_that_has_read_its_state(example: Path, h, db_url: str) -> None:
    expected = reference(example, h)
    run_id = killed(example, h, "step.done@2")
    release = example.parent / "go"
    resume = subprocess.Popen(
        [h.exe, "resume", run_id, "--json"],
        cwd=example,
        env={**os.environ, "CONTINUOUS_FAULT": f"resume.state.after:pause={release}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(Path(str(release) + ".waiting"))
        rollback = h.cli(example, "rollback", run_id)
        release.write_text("")
        _, err = resume.communicate(timeout=120)
    finally:
        resume.kill()
    assert rollback.returncode == 2 and "active" in rollback.stderr, rollback.stdout + rollback.stderr
    assert resume.returncode == 0, err
    assert h.snapshot(example) == expected
    with open_store(db_url) as store:
        assert store.get_execution(run_id).status == "success"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_after_the_current_step_and_leaves_the_run_resumable(
    example: Path, h, db_url: str, signum: int
) -> None:
    expected = reference(example, h)
    release = example.parent / "go"
    run = subprocess.Popen(
        [h.exe, *PLAN],
        cwd=example,
        env={**os.environ, "CONTINUOUS_FAULT": f"step.done@2:pause={release}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(Path(str(release) + ".waiting"))
        run.send_signal(signum)
        time.sleep(0.2)
        release.write_text("")
        out, err = run.communicate(timeout=120)
    finally:
        run.kill()
    assert run.returncode == 130, (run.returncode, out, err)
    assert "Traceback" not in err
    run_id = journal_of(example)["execution_id"]
    with open_store(db_url) as store:
        record = store.get_execution(run_id)
        assert record.status == "interrupted"
        assert [s.status for s in record.children[0].steps] == ["success", "success"]
    assert (example / MIGRATION).exists()  # nothing was rolled back
    proc = h.cli(example, "resume", run_id, "--json", check=True)
    assert json.loads(proc.stdout)["status"] == "success"
    assert h.snapshot(example) == expected
    assert running_rows(db_url) == []


@pytest.mark.parametrize("command", [("scenarios", "list"), ("facts",)])
def test_a_closed_pipe_exits_quietly(example: Path, h, command: tuple[str, ...]) -> None:
    proc = subprocess.Popen([h.exe, *command], cwd=example, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head -1` exiting before the command writes
    err = proc.stderr.read()
    proc.wait(timeout=120)
    assert err == ""
    assert proc.returncode in (0, 141)


# ---------------------------------------------------------------- committing (issue 14, section 5)


def test_commit_takes_a_message(example: Path, h) -> None:
    h.cli(example, *PLAN, "--commit", "--message", "db: the new_things table", check=True)
    assert h.git(example, "log", "-1", "--format=%s") == "db: the new_things table"


def test_a_rejected_commit_keeps_the_changes_and_the_index(example: Path, h, db_url: str) -> None:
    expected = reference(example, h)
    hook = example / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\necho 'hook: no commits today' >&2\nexit 1\n")
    hook.chmod(0o755)
    index = (example / ".git/index").read_bytes()
    head = h.git(example, "rev-parse", "HEAD")
    proc = h.cli(example, *PLAN, "--commit")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["status"] == "success" and data["commit"] is None
    assert "no commits today" in data["commit_error"]
    assert "rolled back" not in proc.stdout + proc.stderr
    assert h.snapshot(example) == expected
    assert (example / ".git/index").read_bytes() == index
    assert h.git(example, "rev-parse", "HEAD") == head
    human = h.cli(example, "rollback", data["execution_id"], check=True)
    assert "rolled back" in human.stdout


# ---------------------------------------------------------------- 4. the history tells the truth


def test_rolling_back_a_successful_run_keeps_its_outcome_and_records_an_event(example: Path, h, db_url: str) -> None:
    result = ScenarioExecutor(example).execute("create-table", {"name": "new_things"})
    with open_store(db_url) as store:
        before = store.get_execution(result.execution_id)
    time.sleep(1.1)
    ScenarioExecutor(example).rollback(result.execution_id)
    with open_store(db_url) as store:
        after = store.get_execution(result.execution_id)
        assert after.status == "success" and after.completed_at == before.completed_at
        assert [c.status for c in after.children] == ["success", "success"]
        assert [c.artifacts for c in after.children] == [c.artifacts for c in before.children]
        assert after.artifacts == before.artifacts
        events = store.list_events(result.execution_id)
        assert [e.kind for e in events] == ["rollback"]
        assert store.scenario_stats("create-table").failures == 0
    status = h.cli(example, "scenario-status", result.execution_id, check=True).stdout
    assert ": success" in status.splitlines()[0] and "  rolled back " in status
    h.cli(example, "analytics", "export", check=True)
    values = json.loads(h.cli(example, "analytics", "metrics", "--json", check=True).stdout)["metrics"]
    assert (values["successes"], values["failures"], values["rolled_back"]) == (2, 0, 2)
    trends = json.loads(h.cli(example, "analytics", "trends", "--json", check=True).stdout)
    assert [(r["successes"], r["failures"], r["rolled_back"]) for r in trends["rows"]] == [(2, 0, 2)]


@pytest.mark.postgres
def test_a_dropped_database_connection_does_not_fail_the_run(
    example: Path, h, pg_url: str, pg_schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every connection of the run is terminated by the server between two steps (a network blip, a restarted
    PostgreSQL): the next writes reconnect and the run succeeds."""
    import psycopg

    name = "continuous-blip-" + os.urandom(4).hex()
    url = f"{pg_schema_url}&application_name={name}"
    monkeypatch.setenv("CONTINUOUS_DATABASE_URL", url)
    release = example.parent / "go"
    run = subprocess.Popen(
        [h.exe, *PLAN],
        cwd=example,
        env={**os.environ, "CONTINUOUS_FAULT": f"step.done@2:pause={release}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(Path(str(release) + ".waiting"))
        with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            killed = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
                (name,),
            ).fetchone()
        assert killed is not None and killed[0] >= 1
        release.write_text("")
        out, err = run.communicate(timeout=120)
    finally:
        run.kill()
    assert run.returncode == 0, out + err
    assert json.loads(out)["status"] == "success"
    with open_store(url) as store:
        assert store.get_execution(json.loads(out)["execution_id"]).status == "success"


def _wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def test_a_journal_written_by_version_2_is_migrated_and_resumed(example: Path, h) -> None:
    """Journals already on disk when continuous is upgraded (version 2: the untyped dict) still resume."""
    expected = reference(example, h)
    run_id = killed(example, h, "step.done@2")
    path = example / ".git/continuous/runs" / f"{run_id}.json"
    data = json.loads(path.read_text())
    data["version"] = 2
    for key in ("index_originals", "committing", "rollback", "final", "updated"):
        data.pop(key, None)  # version 2 wrote these only once they had a value
    path.write_text(json.dumps(data))
    proc = h.cli(example, "resume", run_id, "--json", check=True)
    assert json.loads(proc.stdout)["status"] == "success"
    assert h.snapshot(example) == expected
    assert json.loads(path.read_text())["version"] == 3


def test_a_version_2_rollback_in_progress_gets_a_stable_event_id() -> None:
    from continuous.engine.run.journal import migrate

    old = {"version": 2, "execution_id": "abc", "rollback": {"manual": False, "prior": "running"}}
    first, second = migrate(old), migrate(old)
    assert first["rollback"]["event"] == second["rollback"]["event"]
    assert first["version"] == 3 and "event" not in old["rollback"]

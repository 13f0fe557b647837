"""kill -9 at every step of a multi-step plan: `resume` completes it, `rollback` restores the tree byte for
byte.

The CLI runs in a subprocess with CONTINUOUS_FAULT=step.done@k, which makes the executor SIGKILL itself right
after step k's journal entry and checkpoint (tests/engine/test_faults.py kills it at every other point).
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from continuous.store import open_store

# create-service needs create-table: 3 + 6 = 9 steps across two scenarios.
TOTAL_STEPS = 9


def _killed_run(repo: Path, h, k: int) -> str:
    proc = h.cli(
        repo,
        "run-scenario",
        "create-service",
        "kill-me",
        "--yes",
        "--json",
        env={"CONTINUOUS_FAULT": f"step.done@{k}"},
    )
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout, proc.stderr)
    lock = json.loads((repo / ".git" / "continuous" / "run.lock").read_text())
    return str(lock["execution_id"])


def _reference(repo: Path, h, tmp_path: Path) -> dict:
    """The tree an uninterrupted run produces (the clock is pinned by CONTINUOUS_NOW)."""
    result = h.cli(repo, "run-scenario", "create-service", "kill-me", "--yes", "--json", check=True)
    after = h.snapshot(repo)
    h.cli(repo, "rollback", json.loads(result.stdout)["execution_id"], check=True)
    return after


def _check_kill(repo: Path, h, k: int, before: dict, reference: dict, db_url: str, *, full: bool = True) -> None:
    # killed, then rolled back: the tree is exactly as before (user's own dirty files included)
    execution_id = _killed_run(repo, h, k)
    if full:
        blocked = h.cli(repo, "run-scenario", "create-table", "other", "--yes")
        assert blocked.returncode == 2 and "interrupted" in blocked.stderr and execution_id in blocked.stderr
    h.cli(repo, "rollback", execution_id, check=True)
    assert h.snapshot(repo) == before, f"rollback after kill at step {k}"
    # killed, then resumed: the tree is exactly what an uninterrupted run makes
    execution_id = _killed_run(repo, h, k)
    resumed = h.cli(repo, "resume", execution_id, "--json", check=True)
    data = json.loads(resumed.stdout)
    assert data["status"] == "success" and data["execution_id"] == execution_id
    assert h.snapshot(repo) == reference, f"resume after kill at step {k}"
    with open_store(db_url) as store:
        run = store.get_execution(execution_id)
        assert run.status == "success"
        assert [c.status for c in run.children] == ["success", "success"]
        done = [s for c in run.children for s in c.steps if s.checkpoint_commit]
        assert len(done) == TOTAL_STEPS
        assert len({s.checkpoint_commit for s in done}) == TOTAL_STEPS
    h.cli(repo, "rollback", execution_id, "--force" if not full else "--json", check=True)
    assert h.snapshot(repo) == before


@pytest.fixture
def prepared(repo: Path, h, tmp_path: Path) -> tuple[dict, dict]:
    (repo / "README.md").write_text("# the user's unsaved edit\n")
    (repo / "scratch.txt").write_text("untracked notes\n")
    before = h.snapshot(repo)
    reference = _reference(repo, h, tmp_path)
    assert h.snapshot(repo) == before
    assert reference != before
    return before, reference


@pytest.mark.parametrize("k", [4])
def test_kill_resume_rollback_quick(repo: Path, h, db_url: str, prepared: tuple[dict, dict], k: int) -> None:
    _check_kill(repo, h, k, *prepared, db_url)


@pytest.mark.slow
def test_kill_at_every_step(repo: Path, h, db_url: str, prepared: tuple[dict, dict]) -> None:
    for k in range(1, TOTAL_STEPS + 1):
        _check_kill(repo, h, k, *prepared, db_url, full=False)


def test_kill_inside_a_command_step_is_reconciled(repo: Path, h, db_url: str) -> None:
    """A kill during a command: resume re-runs it, rollback removes what the half-run command wrote."""
    before = h.snapshot(repo)
    proc = h.cli(repo, "run-scenario", "generate-file", "--yes", "--json", env={"CONTINUOUS_FAULT": "step.done@1"})
    assert proc.returncode == -signal.SIGKILL
    runs_dir = repo / ".git" / "continuous" / "runs"
    journal_path = next(runs_dir.glob("*.json"))
    journal = json.loads(journal_path.read_text())
    # pretend the kill came while the command was running: the step is current, not done
    journal["current"] = {
        "item": 0,
        "step": 1,
        "step_id": None,
        "kind": "run",
        "snapshot": {"hashes": {}, "saved": {}},
    }
    journal["done"] = {}
    journal["checkpoints"] = []
    journal["originals"] = {}  # a command's changes are remembered only once it has finished
    journal_path.write_text(json.dumps(journal))
    assert (repo / "gen/out.txt").exists()
    h.cli(repo, "rollback", journal["execution_id"], check=True)
    assert h.snapshot(repo) == before

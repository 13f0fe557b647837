"""Names the planner makes up pass the repository's own standards: the README's requests, planned, run and then
checked in the example monorepo (issue 14 §5). The example's `.continuous.toml` gives tables three domains, so a
table the planner names must carry one of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REQUESTS = [
    "a table for bookmarks plus a service to manage them",
    "admin dashboard for managing user preferences",
]


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CONTINUOUS_NO_DAEMON": "1",
        "CONTINUOUS_NO_PROMPT": "1",
        "HF_HUB_OFFLINE": "1",
        "CONTINUOUS_NOW": "2026-03-01T12:00:00+00:00",
    }
    return subprocess.run(
        [str(Path(sys.executable).parent / "continuous"), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "example"
    proc = _cli(tmp_path, "init", "--example", str(root))
    assert proc.returncode == 0, proc.stderr
    for key, value in (("user.email", "dev@example.com"), ("user.name", "Dev")):
        subprocess.run(["git", "config", key, value], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qam", "example", "--allow-empty"], cwd=root, check=True)
    return root


@pytest.mark.slow
@pytest.mark.parametrize("request_text", REQUESTS)
def test_a_planned_run_passes_check(example: Path, tmp_path: Path, request_text: str) -> None:
    assert _cli(example, "check").returncode == 0  # the example starts clean
    plan = tmp_path / "plan.json"
    proc = _cli(example, "plan", request_text, "--out", str(plan), "--json")
    assert proc.returncode == 0, proc.stderr
    tables = [
        s["params"]["name"] for s in json.loads(proc.stdout)["suggestion"]["plan"] if s["scenario"] == "create-table"
    ]
    assert tables and all(t.split("_", 1)[0] in ("command", "doc", "sys") for t in tables), tables
    run = _cli(example, "run-plan", str(plan), "--yes")
    assert run.returncode == 0, run.stderr
    check = _cli(example, "check")
    assert check.returncode == 0, check.stdout + check.stderr

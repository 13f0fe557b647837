"""The fault-injection harness (tests/engine/faultlib.py) on a fresh `continuous init --example` repository.

Every kill point of a three-scenario plan on SQLite, real SIGKILLs at sampled points on SQLite and PostgreSQL,
and (slow) random points over many plans. After every crash: rollback gives the original tree, resume the clean
run's tree, the user's uncommitted edit survives, no row stays `running` and no lock blocks the worktree.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HARNESS = Path(__file__).with_name("faultlib.py")


def _faultlib() -> Any:
    spec = importlib.util.spec_from_file_location("faultlib", HARNESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FAULTLIB = _faultlib()
PLAN = FAULTLIB.THREE


def sweep(repo: Path, db_url: str, requests: list[dict[str, Any]], **job: Any) -> dict[str, Any]:
    """Run the harness in its own process (it forks per operation) and return its report."""
    payload = {"repo": str(repo), "db_url": db_url, "requests": requests, **job}
    proc = subprocess.run(
        [sys.executable, str(HARNESS)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        env={**os.environ, "CONTINUOUS_DATABASE_URL": db_url},
        timeout=3600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    report: dict[str, Any] = json.loads(proc.stdout)
    summary = {k: v for k, v in report.items() if k != "failures"}
    print(f"\nfault harness: {json.dumps(summary)}")
    return report


def assert_clean(report: dict[str, Any]) -> None:
    assert report["failures"] == [], json.dumps(report["failures"], indent=1)
    assert (report["lost_edits"], report["blocked"], report["running_rows"], report["failed_points"]) == (0, 0, 0, 0)


def test_every_kill_point_of_a_three_scenario_plan(example: Path, db_url: str) -> None:
    # (the rollback of each resumed run is left to the sampled kills and bench/bench_faults.py, for time)
    report = sweep(example, db_url, PLAN, mode="capture", rollback_resumed=False)
    assert report["kill_points"] == report["points_traced"] >= 150
    assert report["crash_states"] >= 60
    assert_clean(report)


def test_real_kills_at_sampled_points(example: Path, db_url: str) -> None:
    report = sweep(example, db_url, PLAN, mode="kill", sample=8, seed=12)
    assert report["kill_points"] == 8
    assert_clean(report)


@pytest.mark.postgres
def test_real_kills_on_postgresql(example: Path, pg_schema_url: str) -> None:
    report = sweep(example, pg_schema_url, PLAN, mode="kill", sample=6, seed=3)
    assert report["kill_points"] == 6
    assert_clean(report)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAULTLIB.PLANS))
def test_random_kill_points_over_many_plans(example: Path, db_url: str, name: str) -> None:
    requests, commit = FAULTLIB.PLANS[name]
    report = sweep(example, db_url, requests, mode="kill", sample=5, seed=len(name), commit=commit)
    assert_clean(report)

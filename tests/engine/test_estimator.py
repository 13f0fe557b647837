"""The engine takes its history estimates from an `Estimator` it is given: the CLI gives it the analytics one,
the engine alone uses the store's median."""

from __future__ import annotations

import json
from pathlib import Path

from continuous.analytics.estimates import estimate
from continuous.engine.api import ScenarioExecutor


def test_the_cli_wires_the_analytics_history_and_the_engine_alone_uses_the_store_median(
    repo: Path, db_url: str, h
) -> None:
    for n in range(3):
        done = ScenarioExecutor(repo).execute("create-proxy", {"name": f"p{n}", "port": 4000 + n}, commit=True)
        assert done.ok, done.error
    proc = h.cli(repo, "run-scenario", "create-proxy", "api", "--param", "port=4100", "--dry-run", "--json", check=True)
    data = json.loads(proc.stdout)
    assert data["estimate_sources"] == ["create-proxy: median of 3 past executions (tracking store)"]
    assert data["estimate_seconds"] is not None and data["estimate_seconds"] >= 0
    alone = ScenarioExecutor(repo).plan("create-proxy", {"name": "api", "port": 4100})
    assert alone.estimate_sources == ["create-proxy: median of 3 past run(s)"]
    wired = ScenarioExecutor(repo, estimator=estimate).plan("create-proxy", {"name": "api", "port": 4100})
    assert wired.estimate_sources == data["estimate_sources"]


def test_a_failing_estimator_never_breaks_a_dry_run(repo: Path, db_url: str) -> None:
    def broken(scenario_id: str, **_: object) -> None:
        raise RuntimeError("history unavailable")

    report = ScenarioExecutor(repo, estimator=broken).plan("create-proxy", {"name": "api", "port": 4100})
    assert report.estimate_seconds is None and report.estimate_sources == ["create-proxy: unknown"]

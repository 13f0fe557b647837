"""The two views give the right figures on a known data set, identically on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from continuous.dsl.model import Dependency, RuleBase, Scenario
from continuous.store.repository import EXECUTIONS, TrackingStore
from continuous.store.types import new_id
from sqlalchemy import insert

T0 = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)


def _scenario(sid: str, object_type: str, automation: int, deps: tuple[str, ...] = ()) -> Scenario:
    return Scenario(
        id=sid,
        object_type=object_type,
        summary=f"Scenario {sid}",
        automation=automation,  # type: ignore[arg-type]
        dependencies=tuple(Dependency(scenario=d) for d in deps),
    )


def _execution(
    store: TrackingStore,
    sid: str,
    seconds: float | None,
    artifacts: Any,
    *,
    kind: str = "scenario",
    status: str = "success",
) -> None:
    completed = T0 + timedelta(seconds=seconds) if seconds is not None else None
    with store.engine.begin() as conn:
        conn.execute(
            insert(EXECUTIONS).values(
                id=new_id(),
                kind=kind,
                scenario_id=sid,
                started_at=T0,
                completed_at=completed,
                status=status if completed else "running",
                artifacts=artifacts,
                parameters={},
            )
        )


@pytest.fixture
def loaded(store: TrackingStore) -> TrackingStore:
    gone = RuleBase(scenarios={"e": _scenario("e", "infra", 0)})
    store.sync_registry(gone)
    rb = RuleBase(
        scenarios={
            "a": _scenario("a", "database", 100, ("b", "c")),
            "b": _scenario("b", "database", 0),
            "c": _scenario("c", "ui", 80, ("b",)),
            "d": _scenario("d", "ui", 50),
        }
    )
    report = store.sync_registry(rb)
    assert report.archived == ["e"]
    _execution(store, "a", 10, {"files": {"created": ["x", "y"], "modified": ["z"], "deleted": []}})  # 3 files
    _execution(store, "a", 20, {"files_changed": 5})  # 5 files
    _execution(store, "a", None, None)  # running: no duration, no files
    _execution(store, "a", 100, {"files_changed": 100}, kind="run")  # a run row: not counted at all
    _execution(store, "b", 30, {"files": ["a.ts"]})  # 1 file
    _execution(store, "b", 40, {}, status="failed")  # artifacts without files: 0
    _execution(store, "e", 7, {"files_changed": 9})  # archived scenario: not shown
    return store


def test_impact_view(loaded: TrackingStore) -> None:
    rows = {r["scenario_id"]: r for r in loaded.view("sys_scenario_impact_view")}
    assert set(rows) == {"a", "b", "c", "d"}
    a, b, c = rows["a"], rows["b"], rows["c"]
    assert (a["name"], a["object_type"], a["direct_dependencies"], a["total_executions"]) == (
        "Scenario a",
        "database",
        2,
        3,
    )
    assert a["avg_duration_seconds"] == pytest.approx(15.0, abs=0.01)
    assert a["avg_files_changed"] == pytest.approx(4.0)
    assert (b["direct_dependencies"], b["total_executions"]) == (0, 2)
    assert b["avg_duration_seconds"] == pytest.approx(35.0, abs=0.01)
    assert b["avg_files_changed"] == pytest.approx(0.5)
    assert (c["direct_dependencies"], c["total_executions"]) == (1, 0)
    assert c["avg_duration_seconds"] is None and c["avg_files_changed"] is None


def test_health_view(loaded: TrackingStore) -> None:
    rows = {r["object_type"]: r for r in loaded.view("sys_scenario_health_view")}
    assert set(rows) == {"database", "ui"}
    db, ui = rows["database"], rows["ui"]
    assert (db["total_scenarios"], db["highly_automated"], db["manual_only"]) == (2, 1, 1)
    assert db["avg_automation"] == pytest.approx(50.0)
    assert (ui["total_scenarios"], ui["highly_automated"], ui["manual_only"]) == (2, 1, 0)
    assert ui["avg_automation"] == pytest.approx(65.0)


def test_scenario_stats_figures(store: TrackingStore) -> None:
    store.sync_registry(RuleBase(scenarios={"s": _scenario("s", "cli", 10)}))
    for seconds in range(1, 11):
        _execution(store, "s", seconds, None)
    _execution(store, "s", 500, None, status="failed")  # failures are counted, not timed
    _execution(store, "s", None, None)  # running: neither
    stats = store.scenario_stats("s")
    assert (stats.executions, stats.successes, stats.failures) == (11, 10, 1)
    assert stats.median_seconds == pytest.approx(5.5, abs=0.01)
    assert stats.p90_seconds == pytest.approx(9.0, abs=0.01)

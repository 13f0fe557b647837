"""Every analytics query over the hand-made history, on SQLite and PostgreSQL, checked against figures worked
out by hand (see the data in conftest.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from continuous.analytics import duck
from continuous.analytics import queries as q
from continuous.common.errors import UserError

ALL = q.Filters()


def _con(exported: Path) -> Any:
    return duck.connect(exported)


def _rows(result: q.QueryResult) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, r, strict=True)) for r in result.rows]


def test_trends_per_week(exported: Path) -> None:
    rows = _rows(q.trends(_con(exported), ALL, by="week"))
    assert [r["period"] for r in rows] == [dt.date(2026, 1, 5), dt.date(2026, 1, 12)]
    w1, w2 = rows
    # week 1: E1, E2, E3, E11 — durations 7, 10, 20, 30; files 3 + 5 + 9; automation (90+90+50+10)/4
    assert (w1["executions"], w1["successes"], w1["failures"]) == (4, 3, 1)
    assert w1["success_rate"] == pytest.approx(0.75)
    assert w1["median_seconds"] == pytest.approx(15.0)
    assert w1["p90_seconds"] == pytest.approx(27.0)
    assert w1["files_changed"] == pytest.approx(17)
    assert w1["automation_level"] == pytest.approx(60.0)
    # week 2: E4, E5, E6, E7 (running), E9 (skipped), E10 — finished durations 40, 50, 60, 70; the run row
    # E8 is not an execution of a scenario
    assert (w2["executions"], w2["successes"], w2["failures"]) == (6, 1, 3)
    assert w2["success_rate"] == pytest.approx(0.25)
    assert w2["median_seconds"] == pytest.approx(55.0)
    assert w2["p90_seconds"] == pytest.approx(67.0)
    assert w2["files_changed"] == pytest.approx(1)
    assert w2["automation_level"] == pytest.approx(55.0)


def test_trends_filters_and_periods(exported: Path) -> None:
    con = _con(exported)
    page = _rows(q.trends(con, q.Filters(scenario="add-page")))
    assert [(r["executions"], r["successes"]) for r in page] == [(1, 0), (3, 1)]
    assert _rows(q.trends(con, q.Filters(object_type="ui"))) == page
    since = _rows(q.trends(con, q.Filters(since=dt.datetime(2026, 1, 12, tzinfo=dt.UTC))))
    assert [r["executions"] for r in since] == [6]
    until = _rows(q.trends(con, q.Filters(until=dt.datetime(2026, 1, 6, tzinfo=dt.UTC))))
    assert [r["executions"] for r in until] == [1]
    days = _rows(q.trends(con, ALL, by="day"))
    assert sum(r["executions"] for r in days) == 10 and len(days) == 8
    month = _rows(q.trends(con, ALL, by="month"))
    assert [(r["period"], r["executions"]) for r in month] == [(dt.date(2026, 1, 1), 10)]
    with pytest.raises(UserError, match=r"expected one of day, week, month"):
        q.trends(con, ALL, by="year")
    with pytest.raises(UserError, match=r"no executions match .*scenario nope"):
        q.trends(con, q.Filters(scenario="nope"))


def _view(store: Any, name: str, key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in store.view(name)}


def test_impact_agrees_with_store_view(loaded: Any, exported: Path) -> None:
    ours = {r["scenario_id"]: r for r in _rows(q.impact(_con(exported), ALL))}
    theirs = _view(loaded, "sys_scenario_impact_view", "scenario_id")
    assert set(ours) == set(theirs) == {"create-table", "add-page", "create-service"}
    for sid, row in theirs.items():
        for col, value in row.items():
            mine = ours[sid][col]
            if value is None or mine is None:
                assert mine is None and value is None, (sid, col)
            elif isinstance(value, str):
                assert mine == value, (sid, col)
            else:
                assert float(mine) == pytest.approx(float(value), abs=1e-3), (sid, col)  # julianday rounding
    # and the figures themselves
    assert (
        ours["create-table"]["total_executions"],
        ours["create-table"]["avg_duration_seconds"],
        ours["create-table"]["avg_files_changed"],
    ) == (4, pytest.approx(10.0), pytest.approx(4.0))
    assert ours["add-page"]["direct_dependencies"] == 1
    assert ours["add-page"]["avg_duration_seconds"] == pytest.approx(47.5)
    assert ours["add-page"]["avg_files_changed"] == pytest.approx(0.5)
    assert ours["create-service"]["avg_files_changed"] is None


def test_health_agrees_with_store_view(loaded: Any, exported: Path) -> None:
    ours = {r["object_type"]: r for r in _rows(q.health(_con(exported), ALL))}
    theirs = _view(loaded, "sys_scenario_health_view", "object_type")
    assert set(ours) == set(theirs) == {"database", "ui", "service"}
    for key, row in theirs.items():
        for col, value in row.items():
            assert ours[key][col] == (value if isinstance(value, str) else pytest.approx(value)), (key, col)
    assert (ours["service"]["manual_only"], ours["database"]["highly_automated"]) == (1, 1)
    assert ours["database"]["executions"] == 4 and ours["database"]["success_rate"] == pytest.approx(1.0)
    assert ours["ui"]["success_rate"] == pytest.approx(0.25)


def test_duckdb_views_named_like_the_stores(loaded: Any, exported: Path) -> None:
    con = _con(exported)
    got = q.run_query(con, "SELECT scenario_id, total_executions FROM sys_scenario_impact_view ORDER BY 1")
    assert got.rows == [("add-page", 4), ("create-service", 1), ("create-table", 4)]


def test_failures_grouped_by_normalised_message(exported: Path) -> None:
    rows = _rows(q.failures(_con(exported), ALL))
    assert [(r["scenario_id"], r["step_name"], r["error"], r["failures"]) for r in rows] == [
        ("add-page", "render page", "Error: cannot write <path> (id <hex>)", 2),
        ("add-page", "precondition: app exists", "precondition failed: app <n> missing", 1),
        ("create-service", "run: pnpm build", "Error: cannot write <path> (id <hex>)", 1),
    ]
    assert rows[0]["executions"] == 2
    assert rows[0]["last_seen"] == dt.datetime(2026, 1, 16, 12, 0, 10)  # exported times are naive UTC
    only = _rows(q.failures(_con(exported), q.Filters(since=dt.datetime(2026, 1, 14, tzinfo=dt.UTC))))
    assert [(r["scenario_id"], r["failures"]) for r in only] == [("add-page", 1), ("create-service", 1)]


def test_slowest(exported: Path) -> None:
    scenarios, steps = q.slowest(_con(exported), ALL, limit=10)
    got = [(r["scenario_id"], r["p90_seconds"]) for r in _rows(scenarios)]
    # add-page 30, 40, 50, 70 -> p90 64; create-service 60; create-table 10, 20 -> 19; old-thing 7
    assert got == [
        ("add-page", pytest.approx(64.0)),
        ("create-service", pytest.approx(60.0)),
        ("create-table", pytest.approx(19.0)),
        ("old-thing", pytest.approx(7.0)),
    ]
    first = _rows(steps)[0]
    assert (first["scenario_id"], first["step_name"], first["max_seconds"]) == (
        "create-service",
        "run: pnpm build",
        60.0,
    )


def test_metrics(exported: Path) -> None:
    m = q.metrics(_con(exported), ALL).pairs()
    assert (m["executions"], m["successes"], m["failures"]) == (10, 4, 4)
    # successes with a declared manual effort: E1 600-10, E2 600-20, E4 300-40
    assert m["time_saved_per_execution_s"] == pytest.approx(1430 / 3, abs=1e-3)
    assert m["time_saved_total_s"] == pytest.approx(1430)
    assert m["manual_steps_avoided"] == 8
    assert m["configuration_errors_caught"] == 1
    assert m["scenarios_per_week"] == pytest.approx(5.0)
    assert m["automation_percentage"] == pytest.approx(57.0)
    assert m["automation_growth_points"] == pytest.approx(-5.0)
    assert m["standards_compliance_rate"] is None
    notes = q.metrics(_con(exported), ALL).notes
    assert any("standards compliance rate: not available yet" in n for n in notes)


def test_parse_when() -> None:
    now = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    assert q.parse_when("7d", option="--since", now=now) == dt.datetime(2026, 1, 25, tzinfo=dt.UTC)
    assert q.parse_when("2026-01-31", option="--since") == dt.datetime(2026, 1, 31, tzinfo=dt.UTC)
    with pytest.raises(UserError, match="--since 'yesterday': not a date"):
        q.parse_when("yesterday", option="--since")

"""The Parquet export: complete, incremental, atomic; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from continuous.analytics import duck
from continuous.analytics import export as export_module
from continuous.analytics import queries as q
from continuous.analytics.export import export
from continuous.common.errors import RunFailed, UserError
from continuous.store.repository import EXECUTIONS
from sqlalchemy import insert, update

from .conftest import EXECUTIONS as DATA
from .conftest import IDS, STEPS, at


def _files(out: Path) -> dict[str, float]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and p.name != ".lock"}


def _count(out: Path, table: str) -> int:
    return int(q.run_query(duck.connect(out), f"SELECT count(*) FROM {table}").rows[0][0])


def test_export_writes_every_table_with_its_rows(loaded: Any, tmp_path: Path) -> None:
    out = tmp_path / "x"
    report = export(engine=loaded.engine, out=out)
    by_table = {t.table: t for t in report.tables}
    assert {
        "sys_scenarios",
        "sys_scenario_executions",
        "sys_scenario_step_executions",
        "sys_archived_items",
        "dev_tasks",
        "sys_port_registry",
    } <= set(by_table)
    assert by_table["sys_scenario_executions"].rows_written == len(DATA)
    assert by_table["sys_scenario_step_executions"].rows_written == len(STEPS)
    assert by_table["sys_scenarios"].rows_written == 4  # three live, one archived
    part = out / by_table["sys_scenario_executions"].files_written[0]
    parquet = duckdb.connect().sql(f"SELECT * FROM read_parquet('{part}')")
    types = dict(zip(parquet.columns, map(str, parquet.types), strict=True))
    assert types["started_at"] == "TIMESTAMP" and types["_files_changed"] == "DOUBLE"  # naive UTC
    assert types["_export"] == "BIGINT" and types["id"] == "VARCHAR"
    rows = [dict(zip(parquet.columns, r, strict=True)) for r in parquet.fetchall()]
    row = next(r for r in rows if r["id"] == IDS["E1"])
    start = at(5).replace(tzinfo=None)
    assert row["started_at"] == start and row["completed_at"] == start + timedelta(seconds=10)
    assert json.loads(row["artifacts"])["files"]["created"] == ["a.sql", "b.ts"]
    # every table is queryable, including the empty ones
    assert _count(out, "dev_tasks") == 0
    assert _count(out, "sys_scenario_executions") == len(DATA)


def test_reexport_after_nothing_changed_writes_nothing(loaded: Any, tmp_path: Path) -> None:
    out = tmp_path / "x"
    export(engine=loaded.engine, out=out)
    before = _files(out)
    again = export(engine=loaded.engine, out=out)
    assert again.rows_written == 0 and again.files_written == 0
    assert _files(out) == before  # not even the manifest was rewritten


def test_incremental_export_adds_only_new_and_changed_rows(loaded: Any, tmp_path: Path) -> None:
    out = tmp_path / "x"
    export(engine=loaded.engine, out=out)
    with loaded.engine.begin() as conn:
        conn.execute(
            insert(EXECUTIONS).values(
                id="00000000-0000-4000-8000-000000000042",
                kind="scenario",
                scenario_id="create-table",
                status="success",
                started_at=at(20),
                completed_at=at(20) + timedelta(seconds=12),
                parameters={},
            )
        )
        # E7 was running at the first export and finishes now; it is older than the watermark window
        conn.execute(
            update(EXECUTIONS)
            .where(EXECUTIONS.c.id == IDS["E7"])
            .values(status="success", completed_at=at(15) + timedelta(seconds=30))
        )
    report = export(engine=loaded.engine, out=out)
    by_table = {t.table: t for t in report.tables}
    assert by_table["sys_scenario_executions"].rows_written == 2
    assert [t.table for t in report.tables if t.files_written] == ["sys_scenario_executions"]
    con = duck.connect(out)
    assert _count(out, "sys_scenario_executions") == len(DATA) + 1  # E7's old version is superseded
    status = con.execute("SELECT status FROM sys_scenario_executions WHERE id = ?", [IDS["E7"]]).fetchone()
    assert status == ("success",)
    week3 = [r for r in q.trends(con, q.Filters()).records() if r["period"] == "2026-01-19"]
    assert week3 and week3[0]["executions"] == 1
    # and a third export is a no-op again
    assert export(engine=loaded.engine, out=out).files_written == 0


def test_interrupted_export_keeps_the_previous_one(
    loaded: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "x"
    export(engine=loaded.engine, out=out)
    before = _files(out)
    manifest = (out / "manifest.json").read_text()
    with loaded.engine.begin() as conn:
        conn.execute(
            insert(EXECUTIONS).values(
                id="00000000-0000-4000-8000-000000000043",
                kind="scenario",
                scenario_id="add-page",
                status="failed",
                started_at=at(21),
                completed_at=at(21) + timedelta(seconds=3),
                parameters={},
            )
        )
    calls = {"n": 0}
    real = export_module._Stage._copy

    def failing_copy(self: Any, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        real(self, *args, **kwargs)  # the part is written (to its temp name), then the disk fills up
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_module._Stage, "_copy", failing_copy)
    with pytest.raises(OSError, match="No space left"):
        export(engine=loaded.engine, out=out)
    assert calls["n"] >= 1
    assert _files(out) == before
    assert (out / "manifest.json").read_text() == manifest
    assert _count(out, "sys_scenario_executions") == len(DATA)
    monkeypatch.undo()
    assert export(engine=loaded.engine, out=out).rows_written == 1
    assert _count(out, "sys_scenario_executions") == len(DATA) + 1


def test_a_value_its_column_cannot_hold_fails_the_export_clearly(loaded: Any, tmp_path: Path) -> None:
    if loaded.engine.dialect.name != "sqlite":
        pytest.skip("only SQLite stores a text in a timestamp column")
    out = tmp_path / "x"
    export(engine=loaded.engine, out=out)
    before = _files(out)
    with loaded.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO sys_scenario_executions (id, kind, scenario_id, status, started_at, parameters) "
            "VALUES ('00000000-0000-4000-8000-000000000099', 'scenario', 'add-page', 'failed', 'yesterday', '{}')"
        )
    with pytest.raises(RunFailed, match=r"^cannot export table sys_scenario_executions: .*yesterday"):
        export(engine=loaded.engine, out=out)
    assert _files(out) == before
    assert not list(out.glob(".stage-*"))


def test_orphans_of_a_crashed_export_are_ignored_then_cleaned(loaded: Any, tmp_path: Path) -> None:
    out = tmp_path / "x"
    export(engine=loaded.engine, out=out)
    orphan = out / "sys_scenario_executions" / "part-7.parquet"
    orphan.write_bytes((out / "sys_scenario_executions" / "part-0.parquet").read_bytes())
    (out / "sys_scenario_executions" / "part-8.parquet.tmp").write_bytes(b"half")
    assert _count(out, "sys_scenario_executions") == len(DATA)  # readers use the manifest, not a glob
    export(engine=loaded.engine, out=out)
    assert not orphan.exists() and not (out / "sys_scenario_executions" / "part-8.parquet.tmp").exists()


def test_snapshot_tables_follow_updates_and_deletes(loaded: Any, tmp_path: Path) -> None:
    out = tmp_path / "x"
    loaded.allocate_port("proxy-a", "/w/a")
    port = loaded.allocate_port("proxy-b", "/w/b")
    export(engine=loaded.engine, out=out)
    assert _count(out, "sys_port_registry") == 2
    loaded.release_port(port)
    report = export(engine=loaded.engine, out=out)
    assert [t.table for t in report.tables if t.files_written] == ["sys_port_registry"]
    assert _count(out, "sys_port_registry") == 1
    assert len(list((out / "sys_port_registry").glob("*.parquet"))) == 1  # the old snapshot is gone


def test_empty_store_exports_and_queries_say_what_to_run(store: Any, tmp_path: Path) -> None:
    out = tmp_path / "x"
    with pytest.raises(UserError, match="no analytics export") as exc:
        duck.connect(out)
    assert "continuous analytics export" in (exc.value.hint or "")
    export(engine=store.engine, out=out)
    con = duck.connect(out)
    for fn in (q.trends, q.failures, q.metrics, q.slowest):
        with pytest.raises(UserError, match="no scenario executions in the analytics export") as exc:
            fn(con, q.Filters())
        assert "continuous analytics export" in (exc.value.hint or "")
    with pytest.raises(UserError, match="no scenarios in the analytics export"):
        q.impact(con, q.Filters())


def test_missing_default_database_is_a_clear_error(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTINUOUS_DATABASE_URL", raising=False)
    with pytest.raises(UserError, match="no tracking database yet") as exc:
        export(repo=git_repo)
    assert "continuous analytics export" in (exc.value.hint or "")
    assert not (git_repo / ".git" / "continuous" / "continuous.db").exists()


def test_export_by_url_exports_steps_in_a_worker_process(loaded: Any, db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "x"
    report = export(db_url, out=out)  # its own engine: the step table goes to a worker process
    by_table = {t.table: t for t in report.tables}
    assert by_table["sys_scenario_step_executions"].rows_written == len(STEPS)
    assert by_table["sys_scenario_executions"].rows_written == len(DATA)
    assert _count(out, "sys_scenario_step_executions") == len(STEPS)
    assert "***" in report.url_masked or "@" not in report.url_masked
    assert export(db_url, out=out).files_written == 0

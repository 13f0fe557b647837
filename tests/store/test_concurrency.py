"""Many processes recording into one database at once: no lost row, no "database is locked", no shared port."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from continuous.store import open_store
from continuous.store.repository import EXECUTIONS, STEPS
from sqlalchemy import func, select

WORKER = Path(__file__).with_name("worker.py")
PROCS, EXECS, STEPS_PER = 8, 200, 5


def _run(procs: int, *args: str, timeout: float) -> list[object]:
    proc = subprocess.run(
        [sys.executable, str(WORKER), str(procs), *args], capture_output=True, text=True, timeout=timeout
    )
    assert "database is locked" not in proc.stdout + proc.stderr
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    results = json.loads(proc.stdout)
    assert len(results) == procs and all(r["ok"] for r in results)
    return [r["out"] for r in results]


@pytest.mark.slow
def test_eight_processes_record_without_loss(db_url: str) -> None:
    # The SQLite file does not exist yet: the workers also race to create and migrate it.
    if not db_url.startswith("sqlite"):
        open_store(db_url, auto_upgrade=True).close()
    started = time.monotonic()
    outs = _run(PROCS, "executions", db_url, str(EXECS), str(STEPS_PER), timeout=170)
    elapsed = time.monotonic() - started
    assert outs == [EXECS] * PROCS

    store = open_store(db_url)
    try:
        with store.engine.connect() as conn:
            per_tag = dict(conn.execute(select(EXECUTIONS.c.branch, func.count()).group_by(EXECUTIONS.c.branch)).all())
            assert per_tag == {f"p{i}": EXECS for i in range(PROCS)}
            assert (
                conn.execute(
                    select(func.count())
                    .select_from(EXECUTIONS)
                    .where(EXECUTIONS.c.status == "success", EXECUTIONS.c.completed_at.is_not(None))
                ).scalar_one()
                == PROCS * EXECS
            )
            assert (
                conn.execute(select(func.count()).select_from(STEPS).where(STEPS.c.status == "success")).scalar_one()
                == PROCS * EXECS * STEPS_PER
            )
            # every execution has exactly its 5 numbered steps
            bad = conn.execute(
                select(STEPS.c.execution_id)
                .group_by(STEPS.c.execution_id)
                .having(func.count(func.distinct(STEPS.c.step_number)) != STEPS_PER)
            ).all()
            assert bad == []
        [impact] = [r for r in store.view("sys_scenario_impact_view") if r["scenario_id"] == "bench-scenario"]
        assert impact["total_executions"] == PROCS * EXECS and impact["avg_files_changed"] == STEPS_PER
    finally:
        store.close()
    print(f"\n{db_url.split(':')[0]}: {PROCS * EXECS} executions x {STEPS_PER} steps in {elapsed:.1f}s")


@pytest.mark.slow
def test_sixteen_processes_never_share_a_port(db_url: str) -> None:
    open_store(db_url, auto_upgrade=True).close()
    low, high, each = 3000, 3079, 5  # exactly 80 ports for 16 x 5 allocations: every race is a real conflict
    outs = _run(16, "ports", db_url, str(each), str(low), str(high), timeout=120)
    ports = [p for o in outs for p in o]  # type: ignore[attr-defined]
    assert len(ports) == 16 * each
    assert len(set(ports)) == len(ports)
    assert set(ports) == set(range(low, high + 1))
    store = open_store(db_url)
    try:
        registry = store.list_ports()
    finally:
        store.close()
    assert sorted(p.port for p in registry) == sorted(ports)
    assert len({p.owner for p in registry}) == 16 * each


def test_a_new_connection_waits_for_a_writer_before_switching_to_wal(tmp_path: Path) -> None:
    """Two servers creating one database: the WAL switch of the second waits for the first one's write to commit
    instead of failing with "database is locked", and without blocking that commit."""
    import sqlite3
    import threading

    from continuous.store.db import check_reachable, make_engine

    path = tmp_path / "new.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("CREATE TABLE t (x INTEGER)")  # a rollback-journal database with a write in flight
    committed: list[str] = []

    def commit() -> None:
        writer.execute("COMMIT")  # timeout 0: fails at once if the new connection blocks it
        committed.append("yes")

    timer = threading.Timer(0.5, commit)
    timer.start()
    try:
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        check_reachable(engine, url)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        engine.dispose()
    finally:
        timer.join()
        writer.close()
    assert committed == ["yes"]

"""A hand-made execution history, loaded into a real store (SQLite, or a fresh PostgreSQL schema).

The figures every analytics test checks are worked out by hand in `EXPECTED` comments next to the data; the
schema always comes from the store's own migrations (`open_store`), rows are inserted through the store's
table definitions with fixed timestamps (the repository API stamps `now`, which a known data set cannot use).
`db_url` (each backend) and `store` are the shared fixtures of tests/conftest.py.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


# id, scenario, kind, status, started, seconds (None = still running), artifacts
EXECUTIONS: list[tuple[str, str, str, str, datetime, float | None, Any]] = [
    (
        "E1",
        "create-table",
        "scenario",
        "success",
        at(5),
        10,
        {"files": {"created": ["a.sql", "b.ts"], "modified": ["c.ts"], "deleted": []}},
    ),
    ("E2", "create-table", "scenario", "success", at(6), 20, {"files_changed": 5}),
    ("E3", "add-page", "scenario", "failed", at(7), 30, None),
    ("E11", "old-thing", "scenario", "success", at(6, 9), 7, {"files_changed": 9}),
    ("E4", "add-page", "scenario", "success", at(12), 40, {"files": ["a.ts"]}),
    ("E5", "add-page", "scenario", "failed", at(13), 50, None),
    ("E6", "create-service", "scenario", "rolled_back", at(14), 60, None),
    ("E7", "create-table", "scenario", "running", at(15), None, None),
    ("E8", "create-table", "run", "success", at(15, 11), 100, {"files_changed": 100}),
    ("E9", "create-table", "scenario", "skipped", at(16), 0, None),
    ("E10", "add-page", "scenario", "failed", at(16, 12), 70, {}),
]

# execution, number, name, status, seconds, output
STEPS: list[tuple[str, int, str, str, float, str]] = [
    ("E1", 1, "precondition: table absent", "success", 2, ""),
    ("E1", 2, "render migration", "success", 8, ""),
    ("E2", 1, "precondition: table absent", "success", 2, ""),
    ("E2", 2, "render migration", "success", 18, ""),
    ("E3", 1, "precondition: app exists", "success", 5, ""),
    ("E3", 2, "render page", "failed", 25, "Error: cannot write /tmp/x/123.ts (id 0a1b2c3d4e)"),
    ("E4", 1, "precondition: app exists", "success", 5, ""),
    ("E4", 2, "render page", "success", 35, ""),
    ("E5", 1, "precondition: app exists", "failed", 50, "precondition failed: app 7 missing"),
    (
        "E6",
        1,
        "run: pnpm build",
        "failed",
        60,
        "building 3 packages\nError: cannot write /var/y/456.ts (id ffee00112233)\ndone in 4s",
    ),
    ("E10", 1, "precondition: app exists", "success", 10, ""),
    (
        "E10",
        2,
        "render page",
        "failed",
        60,
        "Error: cannot write src/pages/9.ts (id 99aa88bb77)\n  at render (engine.py:12)",
    ),
]

IDS = {name: str(uuid.uuid5(uuid.NAMESPACE_URL, f"continuous-test/{name}")) for name, *_ in EXECUTIONS}


def rule_base() -> Any:
    from continuous.dsl.model import Dependency, RuleBase, Scenario

    def sc(sid: str, obj: str, automation: int, effort: int | None, deps: tuple[str, ...] = ()) -> Scenario:
        return Scenario(
            id=sid,
            object_type=obj,
            summary=f"Scenario {sid}",  # type: ignore[arg-type]
            automation=automation,
            manual_effort_seconds=effort,
            dependencies=tuple(Dependency(scenario=d) for d in deps),
        )

    return RuleBase(
        scenarios={
            "create-table": sc("create-table", "database", 90, 600),
            "add-page": sc("add-page", "ui", 50, 300, ("create-table",)),
            "create-service": sc("create-service", "service", 0, None),
        }
    )


def load_known_history(store: Any) -> None:
    from continuous.dsl.model import RuleBase, Scenario
    from continuous.store.repository import EXECUTIONS as EXEC_TABLE
    from continuous.store.repository import STEPS as STEP_TABLE

    old = Scenario(
        id="old-thing",
        object_type="infra",  # type: ignore[arg-type]
        summary="gone",
        automation=10,
    )
    store.sync_registry(RuleBase(scenarios={"old-thing": old}))
    store.sync_registry(rule_base())  # archives old-thing
    with store.engine.begin() as conn:
        for name, sid, kind, status, started, seconds, artifacts in EXECUTIONS:
            conn.execute(
                insert(EXEC_TABLE).values(
                    id=IDS[name],
                    kind=kind,
                    scenario_id=sid,
                    status=status,
                    started_at=started,
                    completed_at=None if seconds is None else started + timedelta(seconds=seconds),
                    artifacts=artifacts,
                    parameters={},
                    checkpoints=[],
                )
            )
        offsets: dict[str, float] = {}
        for name, number, step, status, seconds, output in STEPS:
            started = dict((e[0], e[4]) for e in EXECUTIONS)[name] + timedelta(seconds=offsets.get(name, 0))
            offsets[name] = offsets.get(name, 0) + seconds
            conn.execute(
                insert(STEP_TABLE).values(
                    id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"step/{name}/{number}")),
                    execution_id=IDS[name],
                    step_number=number,
                    step_name=step,
                    status=status,
                    started_at=started,
                    completed_at=started + timedelta(seconds=seconds),
                    output=output,
                )
            )


@pytest.fixture
def loaded(store: Any) -> Any:
    load_known_history(store)
    flush_pg_statistics(store.engine)
    return store


def flush_pg_statistics(engine: Any) -> None:
    """PostgreSQL's row-change counters (the export's source stamp) count a session's writes only once it flushes
    them: at most once a second, or up to 10 s later when it goes idle. Make every pooled session of the loader
    flush now (before it reports itself idle, so before the call returns), as if the writes were long done; else
    the first export records a stamp that lags the rows it exported."""
    if engine.dialect.name != "postgresql":
        return
    import contextlib

    from sqlalchemy import text

    with contextlib.ExitStack() as stack:
        conns = [stack.enter_context(engine.connect()) for _ in range(max(1, engine.pool.checkedin()))]
        for conn in conns:
            conn.execute(text("SELECT pg_stat_force_next_flush()"))
            conn.commit()


@pytest.fixture
def exported(loaded: Any, tmp_path: Path) -> Path:
    from continuous.analytics.export import export

    out = tmp_path / "export"
    export(engine=loaded.engine, out=out)
    return out

"""`analytics query` runs one read-only statement over the export and refuses everything else, clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
from continuous.analytics import duck
from continuous.analytics import queries as q
from continuous.common.errors import UserError

from .conftest import load_known_history


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite export for the whole module: these tests only read it (and check that they cannot write)."""
    from continuous.analytics.export import export
    from continuous.store import open_store

    tmp = tmp_path_factory.mktemp("readonly")
    store = open_store(f"sqlite:///{tmp / 'store.db'}", auto_upgrade=True)
    try:
        load_known_history(store)
        export(engine=store.engine, out=tmp / "export")
    finally:
        store.close()
    return tmp / "export"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM sys_scenario_executions",
        "WITH t AS (SELECT 1 AS a) SELECT a FROM t",
        "FROM sys_scenarios SELECT scenario_id",
        "DESCRIBE sys_scenario_executions",
        "SHOW TABLES",
        "SUMMARIZE sys_scenarios",
        "EXPLAIN SELECT * FROM sys_scenarios",
        "select count(*) from sys_scenario_executions;",
    ],
)
def test_read_only_statements_run(exported: Path, sql: str) -> None:
    result = q.run_query(duck.connect(exported), sql)
    assert result.columns and result.rows


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("INSERT INTO sys_scenarios (scenario_id) VALUES ('x')", "INSERT"),
        ("UPDATE sys_scenarios SET name = 'x'", "UPDATE"),
        ("DELETE FROM sys_scenarios", "DELETE"),
        ("CREATE TABLE evil (a INT)", "CREATE"),
        ("DROP VIEW sys_scenarios", "DROP"),
        ("COPY sys_scenarios TO '/tmp/leak.csv'", "COPY"),
        ("ATTACH '/tmp/other.db' AS other", "ATTACH"),
        ("DETACH other", "DETACH"),
        ("PRAGMA database_list", "PRAGMA"),
        ("SET enable_external_access = true", "SET"),
        ("INSTALL sqlite", "LOAD"),
        ("LOAD sqlite", "LOAD"),
        ("EXPORT DATABASE '/tmp/dump'", "EXPORT"),
        ("CALL pragma_version()", "CALL"),
        ("VACUUM", "VACUUM"),
    ],
)
def test_writes_and_side_effects_are_refused(exported: Path, sql: str, kind: str) -> None:
    con = duck.connect(exported)
    with pytest.raises(UserError, match=f"only read-only queries are allowed, not {kind}"):
        q.run_query(con, sql)
    assert q.run_query(con, "SELECT count(*) FROM sys_scenarios").rows == [(4,)]  # nothing changed
    assert not Path("/tmp/leak.csv").exists()


def test_other_refusals(exported: Path) -> None:
    con = duck.connect(exported)
    with pytest.raises(UserError, match="expected exactly one statement, got 2"):
        q.run_query(con, "SELECT 1; DROP VIEW sys_scenarios")
    with pytest.raises(UserError, match="only EXPLAIN of a SELECT"):
        q.run_query(con, "EXPLAIN ANALYZE COPY sys_scenarios TO '/tmp/leak2.csv'")
    with pytest.raises(UserError, match="empty query"):
        q.run_query(con, "  ;")
    with pytest.raises(UserError, match="cannot parse the query"):
        q.run_query(con, "SELEC 1")
    with pytest.raises(UserError, match="query refused") as exc:
        q.run_query(con, "SELECT * FROM read_csv('/etc/passwd')")
    assert "exported tables" in (exc.value.hint or "")


def test_unknown_table_lists_the_available_ones(exported: Path) -> None:
    with pytest.raises(
        UserError, match="query failed: Catalog Error: Table with name executions does not exist"
    ) as exc:
        q.run_query(duck.connect(exported), "SELECT * FROM executions")
    hint = exc.value.hint or ""
    assert hint.startswith("available tables: ")
    for name in (
        "sys_scenario_executions",
        "sys_scenario_step_executions",
        "sys_scenarios",
        "sys_scenario_impact_view",
        "dev_tasks",
    ):
        assert name in hint

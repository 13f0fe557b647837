"""Analytics commands refresh a stale export themselves, incrementally, and only when the store changed
(issue 12 §4): no query needs a manual `analytics export` first."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from continuous.cli.main import app
from typer.testing import CliRunner

from .conftest import EXECUTIONS as DATA
from .conftest import load_known_history

runner = CliRunner()


@pytest.fixture
def repo(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from continuous.store import open_store

    monkeypatch.delenv("CONTINUOUS_DATABASE_URL", raising=False)
    monkeypatch.chdir(git_repo)
    store = open_store(repo=git_repo)
    try:
        load_known_history(store)
    finally:
        store.close()
    return git_repo


def _count(*extra: str) -> int:
    result = runner.invoke(
        app, ["analytics", "query", "--json", *extra, "SELECT count(*) AS n FROM sys_scenario_executions"]
    )
    assert result.exit_code == 0, result.output
    return int(json.loads(result.output)["rows"][0]["n"])


def _manifest(repo: Path) -> dict[str, object]:
    return dict(json.loads((repo / ".git/continuous/analytics/manifest.json").read_text()))


def _add_execution(repo: Path) -> None:
    from continuous.store import open_store
    from continuous.store.repository import EXECUTIONS
    from sqlalchemy import insert

    with open_store(repo=repo) as store, store.engine.begin() as conn:
        conn.execute(
            insert(EXECUTIONS).values(
                id=str(uuid.uuid4()),
                kind="scenario",
                scenario_id="create-table",
                status="success",
                started_at=datetime(2026, 1, 20, tzinfo=UTC),
                completed_at=datetime(2026, 1, 20, 0, 1, tzinfo=UTC),
                parameters={},
                checkpoints=[],
            )
        )


def test_queries_export_on_first_use_and_after_every_change_only(repo: Path) -> None:
    assert _count() == len(DATA)  # no `analytics export` was ever run
    first = _manifest(repo)
    assert _count() == len(DATA)
    assert _manifest(repo)["exports"] == first["exports"]  # unchanged store: no export at all
    _add_execution(repo)
    assert _count() == len(DATA) + 1
    after = _manifest(repo)
    assert after["exports"] == int(first["exports"]) + 1  # type: ignore[call-overload]
    tables = after["tables"]
    assert isinstance(tables, dict)
    parts = tables["sys_scenario_executions"]["parts"]
    assert len(parts) == 2  # incremental: the new row went into a new part, the old part was kept


def test_an_explicit_export_directory_is_read_as_it_is(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "snapshot"
    assert runner.invoke(app, ["analytics", "export", "--out", str(out)]).exit_code == 0
    _add_execution(repo)
    assert _count("--dir", str(out)) == len(DATA)
    assert _count() == len(DATA) + 1


def test_without_a_database_the_message_says_so(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTINUOUS_DATABASE_URL", raising=False)
    monkeypatch.chdir(git_repo)
    result = runner.invoke(app, ["analytics", "trends"])
    assert result.exit_code == 2
    assert "no tracking database yet" in result.output and "Traceback" not in result.output


@pytest.mark.postgres
def test_a_postgresql_store_is_refreshed_too(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, fresh_pg_schema: str
) -> None:
    from continuous.store import open_store

    monkeypatch.setenv("CONTINUOUS_DATABASE_URL", fresh_pg_schema)
    monkeypatch.chdir(git_repo)
    with open_store(fresh_pg_schema, auto_upgrade=True) as store:
        load_known_history(store)
    assert _count() == len(DATA)
    exports = _manifest(git_repo)["exports"]
    assert _count() == len(DATA) and _manifest(git_repo)["exports"] == exports
    _add_execution(git_repo)
    assert _count() == len(DATA) + 1

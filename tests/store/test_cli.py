"""`continuous db ...`, `registry sync`, `executions list`: through typer's CliRunner and as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from continuous.cli import db_commands
from continuous.store import migrate, open_store
from typer.testing import CliRunner

SECRET = "s3cr3t-Pw"


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """continuous (test app with the store commands only)"""

    db_commands.register(app)
    return app


def _invoke(app: typer.Typer, url: str, *args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    env = {"CONTINUOUS_DATABASE_URL": url} if url else {}
    result = runner.invoke(app, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_db_lifecycle(app: typer.Typer, db_url: str) -> None:
    code, out, _ = _invoke(app, db_url, "db", "current", "--json")
    assert code == 0 and json.loads(out)["revision"] is None
    code, out, _ = _invoke(app, db_url, "db", "upgrade", "--json")
    assert code == 0 and json.loads(out)["after"] == migrate.head()
    code, out, _ = _invoke(app, db_url, "db", "upgrade")
    assert code == 0 and "already at" in out
    code, out, _ = _invoke(app, db_url, "db", "current")
    assert code == 0 and "up to date" in out

    store = open_store(db_url)
    for status in ("success", "failed"):
        store.finish_execution(store.start_execution("create-table", {"n": 1}, worktree="/w"), status)
    store.close()

    code, out, _ = _invoke(app, db_url, "db", "info", "--json")
    info = json.loads(out)
    assert code == 0 and info["revision"] == migrate.head() and info["source"] == "environment"
    assert info["counts"]["sys_scenario_executions"] == 2 and info["counts"]["sys_scenarios"] == 1
    code, out, _ = _invoke(app, db_url, "db", "info")
    assert code == 0 and "sys_scenario_executions       2" in out

    code, out, _ = _invoke(app, db_url, "executions", "list", "--json")
    assert code == 0 and [e["status"] for e in json.loads(out)] == ["failed", "success"]
    code, out, _ = _invoke(app, db_url, "executions", "list", "--status", "success", "--json")
    assert [e["scenario_id"] for e in json.loads(out)] == ["create-table"]
    code, out, _ = _invoke(app, db_url, "executions", "list", "--limit", "1")
    assert code == 0 and len(out.strip().splitlines()) == 2 and "failed" in out
    code, _, err = _invoke(app, db_url, "executions", "list", "--status", "great")
    assert code == 2 and "unknown status" in err

    code, out, _ = _invoke(app, db_url, "db", "downgrade", "base", "--json")
    assert code == 0 and json.loads(out)["after"] is None
    code, _, err = _invoke(app, db_url, "db", "upgrade", "nope")
    assert code == 2 and "nope" in err


@pytest.mark.postgres
def test_postgres_not_upgraded_says_what_to_run(app: typer.Typer, fresh_pg_schema: str) -> None:
    code, _, err = _invoke(app, fresh_pg_schema, "executions", "list")
    assert code == 2 and "continuous db upgrade" in err


def test_registry_sync_on_default_database(app: typer.Typer, git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from continuous.dsl.loader import load_rule_base

    monkeypatch.delenv("CONTINUOUS_DATABASE_URL", raising=False)
    monkeypatch.chdir(git_repo)
    expected = sorted(load_rule_base().scenarios)
    code, out, _ = _invoke(app, "", "registry", "sync", "--json")
    assert code == 0, out
    first = json.loads(out)
    assert first["added"] == expected and first["unchanged"] == [] and first["archived"] == []
    assert first["url"].endswith(".git/continuous/continuous.db")
    code, out, _ = _invoke(app, "", "registry", "sync", "--json")
    assert json.loads(out)["unchanged"] == expected and json.loads(out)["added"] == []
    code, out, _ = _invoke(app, "", "registry", "sync")
    assert code == 0 and f"0 added, 0 changed, {len(expected)} unchanged, 0 archived" in out
    code, out, _ = _invoke(app, "", "db", "info")
    assert "selected:  default" in out and "sys_scenarios" in out


DRIVER = """
import sys, typer
from continuous.cli import db_commands
app = typer.Typer()
@app.callback()
def _root() -> None: ...
db_commands.register(app)
app(args=sys.argv[1:], prog_name="continuous")
"""


def test_subprocess_unreachable_database_one_masked_line(tmp_path: Path) -> None:
    env_url = f"postgresql+psycopg://root:{SECRET}@127.0.0.1:1/db"
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, "executions", "list"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "CONTINUOUS_DATABASE_URL": env_url, "HOME": str(tmp_path)},
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 1
    assert SECRET not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: cannot connect to database at postgresql+psycopg://root:***@127.0.0.1:1/db"
    )

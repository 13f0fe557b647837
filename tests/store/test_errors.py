"""Every way of failing to reach a database: one line naming the URL, exit code 1, never the password."""

from __future__ import annotations

from pathlib import Path

import pytest
from continuous.common.errors import RunFailed
from continuous.store import migrate, open_store
from continuous.store.db import scrub
from sqlalchemy import text

SECRET = "s3cr3t-Pw"


def _check(exc: RunFailed, shown_url: str) -> None:
    message = exc.render()
    assert exc.exit_code == 1
    assert SECRET not in message and SECRET.lower() not in message.lower()
    assert "\n" not in message
    assert shown_url in message, message


BAD = [
    pytest.param(
        f"postgresql+psycopg://root:{SECRET}@127.0.0.1:1/continuous_test",
        "postgresql+psycopg://root:***@127.0.0.1:1/continuous_test",
        id="refused",
    ),
    pytest.param(
        f"postgresql+psycopg://root:{SECRET}@no-such-host.invalid/db",
        "postgresql+psycopg://root:***@no-such-host.invalid/db",
        id="bad-host",
    ),
    pytest.param(
        f"postgresql+psycopg://root:{SECRET}@/db?host=/nonexistent-socket-dir",
        "postgresql+psycopg://root:***@/db",
        id="bad-socket",
    ),
    pytest.param(f"nosuchdb://root:{SECRET}@host/db", "nosuchdb://root:***@host/db", id="unknown-dialect"),
    pytest.param(f"root:{SECRET}@host/db", "***@host/db", id="not-a-url"),
    pytest.param(
        "sqlite:////nonexistent-dir-xyz/store.db",
        "sqlite:////nonexistent-dir-xyz/store.db",
        id="sqlite-missing-dir",
    ),
]


@pytest.mark.parametrize(("url", "shown"), BAD)
def test_unreachable_or_wrong_url(url: str, shown: str) -> None:
    with pytest.raises(RunFailed) as info:
        open_store(url)
    _check(info.value, shown)


@pytest.mark.parametrize(("url", "shown"), BAD)
def test_migration_commands_mask_too(url: str, shown: str) -> None:
    for call in (lambda: migrate.upgrade(url), lambda: migrate.current(url)):
        with pytest.raises(RunFailed) as info:
            call()
        _check(info.value, shown)


def test_sqlite_path_that_is_a_directory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}"
    with pytest.raises(RunFailed) as info:
        open_store(url)
    _check(info.value, url)


@pytest.mark.postgres
def test_bad_password_on_postgres(pg_url: str) -> None:
    # TCP to the local server uses password authentication; the role has no such password
    url = f"postgresql+psycopg://root:{SECRET}@127.0.0.1:5432/continuous_test"
    with pytest.raises(RunFailed) as info:
        open_store(url)
    _check(info.value, "postgresql+psycopg://root:***@127.0.0.1:5432/continuous_test")
    assert "password authentication failed" in info.value.message


@pytest.mark.postgres
def test_failure_mid_operation_is_masked(fresh_pg_schema: str) -> None:
    # peer authentication over the socket ignores the password, so this URL works and carries a secret
    url = fresh_pg_schema.replace("postgresql+psycopg://", f"postgresql+psycopg://root:{SECRET}@")
    migrate.upgrade(url)
    store = open_store(url)
    try:
        schema = fresh_pg_schema.rsplit("%3D", 1)[1]
        with store.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        with pytest.raises(RunFailed) as info:
            store.list_executions()
        _check(info.value, "postgresql+psycopg://root:***@")
        assert "sys_scenario_executions" in info.value.message
        with pytest.raises(RunFailed) as info:
            store.start_execution("x", {})
        _check(info.value, "postgresql+psycopg://root:***@")
    finally:
        store.close()


def test_scrub_hides_a_password_echoed_by_a_driver() -> None:
    url = f"postgresql+psycopg://bob:{SECRET}@db.example.com/prod"
    echoed = (
        f"invalid dsn: host=db.example.com user=bob password={SECRET} dbname=prod; "
        f"also postgresql://bob:{SECRET}@db.example.com/prod and s3cr3t%2DPw"
    )
    out = scrub(echoed, url)
    assert SECRET not in out
    assert "password=***" in out and "bob:***@db.example.com" in out

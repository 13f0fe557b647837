"""Schema lifecycle on both backends: upgrade from empty, downgrade to base, models agree with migrations."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from continuous.common.errors import UserError
from continuous.store import migrate, open_store
from continuous.store.models import TRACKING_TABLES, VIEWS, Base
from sqlalchemy import create_engine, inspect

from ..conftest import git


def _tables_and_views(url: str) -> tuple[set[str], set[str]]:
    engine = create_engine(url)
    try:
        insp = inspect(engine)
        return set(insp.get_table_names()), set(insp.get_view_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_then_downgrade_to_base(db_url: str) -> None:
    assert migrate.current(db_url) is None
    result = migrate.upgrade(db_url)
    assert (result.before, result.after) == (None, migrate.head())
    tables, views = _tables_and_views(db_url)
    assert set(TRACKING_TABLES) <= tables
    assert set(VIEWS) <= views
    assert migrate.current(db_url) == migrate.head()

    again = migrate.upgrade(db_url)
    assert again.before == again.after == migrate.head()

    down = migrate.downgrade(db_url, "base")
    assert (down.before, down.after) == (migrate.head(), None)
    tables, views = _tables_and_views(db_url)
    assert tables <= {"alembic_version"}
    assert views == set()

    migrate.upgrade(db_url, "0001_initial")
    assert migrate.current(db_url) == "0001_initial"
    tables, views = _tables_and_views(db_url)
    later = {"sys_execution_events"}  # 0005_execution_events
    assert set(TRACKING_TABLES) - later <= tables and set(VIEWS) <= views
    assert not later & tables


def _tracking_diffs(db_url: str, metadata: object) -> list[object]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(ctx, metadata)
    finally:
        engine.dispose()
    return [d for d in diffs if any(f"'{t}'" in repr(d) for t in TRACKING_TABLES)]


def test_models_match_the_migrations(db_url: str) -> None:
    """Autogenerate finds nothing to do for the tracking tables: models.py and 0001_initial agree."""
    from sqlalchemy import Column, Integer, MetaData

    migrate.upgrade(db_url)
    assert _tracking_diffs(db_url, Base.metadata) == []
    # the comparison does see a difference when there is one
    altered = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(altered)
    altered.tables["dev_tasks"].append_column(Column("priority", Integer()))
    assert len(_tracking_diffs(db_url, altered)) == 1


def test_unknown_revision_is_a_user_error(db_url: str) -> None:
    with pytest.raises(UserError) as info:
        migrate.upgrade(db_url, "9999_nope")
    assert "9999_nope" in info.value.message
    assert "0001_initial" in (info.value.hint or "")


@pytest.mark.postgres
def test_postgres_at_older_schema_asks_for_db_upgrade(fresh_pg_schema: str) -> None:
    with pytest.raises(UserError) as info:
        open_store(fresh_pg_schema)
    assert "empty" in info.value.message
    assert "continuous db upgrade" in (info.value.hint or "")

    migrate.upgrade(fresh_pg_schema, "0001_initial")
    if migrate.head() != "0001_initial":
        with pytest.raises(UserError) as info:
            open_store(fresh_pg_schema)
        assert "0001_initial" in info.value.message
    migrate.upgrade(fresh_pg_schema)
    open_store(fresh_pg_schema).close()


def test_sqlite_without_auto_upgrade_refuses(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(UserError) as info:
        open_store(url, auto_upgrade=False)
    assert "continuous db upgrade" in (info.value.hint or "")
    store = open_store(url)  # SQLite: created and migrated on first use
    assert store.revision() == migrate.head()
    store.close()


def test_newer_schema_than_known_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    open_store(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_future'")
    engine.dispose()
    with pytest.raises(UserError) as info:
        open_store(url)
    assert "newer" in info.value.message


def test_default_database_lives_in_git_common_dir_shared_by_worktrees(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONTINUOUS_DATABASE_URL", raising=False)
    store = open_store(repo=git_repo)
    expected = git_repo / ".git" / "continuous" / "continuous.db"
    assert store.url_masked == f"sqlite:///{expected.resolve()}"
    assert store.source == "default"
    assert expected.exists()
    eid = store.start_execution("some-scenario", {}, worktree=str(git_repo))
    store.close()

    other = tmp_path / "other-worktree"
    git(git_repo, "worktree", "add", "-q", str(other), "-b", "feature")
    store2 = open_store(repo=other)
    assert store2.url_masked == f"sqlite:///{expected.resolve()}"
    assert store2.get_execution(eid).id == eid
    store2.close()


def test_environment_and_config_select_another_database(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from continuous.store.url import resolve_url

    cfg_url = f"sqlite:///{tmp_path / 'from-config.db'}"
    (git_repo / ".continuous.toml").write_text(f'database_url = "{cfg_url}"\n')
    monkeypatch.delenv("CONTINUOUS_DATABASE_URL", raising=False)
    assert resolve_url(None, repo=git_repo).url == cfg_url
    assert resolve_url(None, repo=git_repo).source == "config"
    env_url = f"sqlite:///{tmp_path / 'from-env.db'}"
    monkeypatch.setenv("CONTINUOUS_DATABASE_URL", env_url)
    resolved = resolve_url(None, repo=git_repo)
    assert (resolved.url, resolved.source) == (env_url, "environment")
    store = open_store(repo=git_repo)
    assert store.url_masked == env_url
    store.close()
    assert (tmp_path / "from-env.db").exists()


def test_store_package_and_commands_import_light() -> None:
    import sys

    code = (
        "import sys, continuous.store, continuous.store.url, continuous.cli.db_commands; "
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'psycopg') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    out = proc.stdout.strip()
    assert out == "[]"

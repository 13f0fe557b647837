"""Operations tables: store/ops_models.py and migration 0002_operations agree; the queue's lease rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from continuous.store import migrate, open_store
from continuous.store.models import Base
from continuous.store.ops_models import OPS_TABLES, OpsDB


def _diffs(url: str) -> list[object]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from continuous.store.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()
    return [d for d in diffs if any(f"'{t}'" in repr(d) for t in OPS_TABLES)]


def test_models_match_migration_0002_and_downgrade_removes_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    migrate.upgrade(url)
    assert migrate.current(url) == "0002_operations" or migrate.head() != "0002_operations"
    assert _diffs(url) == []
    migrate.downgrade(url, "0001_initial")
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        assert not set(OPS_TABLES) & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_models_match_migration_0002_on_postgres(pg_url: str) -> None:
    import uuid

    import psycopg

    admin = pg_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"ops_models_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        url = pg_url.replace("/continuous_test", f"/{name}")
        migrate.upgrade(url)
        assert _diffs(url) == []
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_lease_rules(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'q.db'}") as store:
        db = OpsDB(store.engine)
        job = db.enqueue("echo", {"message": "x"}, dedup_key="k1")
        assert job is not None
        assert db.enqueue("echo", {}, dedup_key="k1") is None  # one job per key (schedule slots)
        claimed = db.claim("w1", 0.2)
        assert claimed is not None and claimed.attempts == 1
        assert db.claim("w2", 10) is None  # leased
        import time

        time.sleep(0.3)
        again = db.claim("w2", 10)  # w1's lease expired
        assert again is not None and again.id == job.id and again.attempts == 2
        assert db.complete(claimed, "w1") is False  # w1 lost its lease: it cannot complete the job
        assert db.complete(again, "w2", {"ok": 1}) is True
        assert db.complete(again, "w2") is False  # and nobody completes it twice
        assert db.completions() == [(job.id, "w2", 2)]
        failing = db.enqueue("echo", {}, max_attempts=1)
        assert failing is not None
        taken = db.claim("w3", 10)
        assert taken is not None and taken.id == failing.id
        assert db.fail(taken, "w3", "boom") == "failed"
        assert db.count_jobs() == {"done": 1, "failed": 1}

"""Alembic environment: runs on the connection that `continuous.store.migrate` passes in `config.attributes`.

Run by hand (`alembic -c ...`) it builds its own engine from `sqlalchemy.url` or CONTINUOUS_DATABASE_URL.
"""

from __future__ import annotations

import os

from alembic import context
from continuous.store.models import Base
from sqlalchemy.engine import Connection

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from continuous.store.db import make_engine

    url = config.get_main_option("sqlalchemy.url") or os.environ.get("CONTINUOUS_DATABASE_URL", "")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("CONTINUOUS_DATABASE_URL", "")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

"""Schema migrations, driven programmatically (no alembic.ini): upgrade, downgrade, current, head.

Every upgrade runs in one transaction that first takes the database's write lock (BEGIN IMMEDIATE on SQLite,
an advisory transaction lock on PostgreSQL), so several processes opening a fresh database at once migrate it
exactly once: the others wait, then find it already at head.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from continuous.common.errors import RunFailed, UserError, mask_url
from continuous.store.db import IMMEDIATE, guard, make_engine
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import Connection

ADVISORY_LOCK_KEY = 0x636F6E74  # "cont"
VERSION_TABLE = "alembic_version"


def _config(connection: Connection | None = None) -> Any:
    from alembic.config import Config
    from continuous.migrations import MIGRATIONS_DIR

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def _script() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


_REV = re.compile(r"^revision(?:\s*:[^=\n]+)?\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision(?:\s*:[^=\n]+)?\s*=\s*(None|['\"]([^'\"]+)['\"])\s*$", re.MULTILINE)


@lru_cache(maxsize=1)
def _fast_graph() -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(revisions oldest first, heads) read from the migration files' text, without importing Alembic.

    Opening a store happens in every command and every worker process; loading Alembic's script directory
    costs far more than the query itself, so the common "already at head" case is decided from the file text.
    Anything unusual (a merge revision, an unparsable file) returns None and the caller asks Alembic.
    """
    from continuous.migrations import MIGRATIONS_DIR

    parent: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        if path.name.startswith("_"):
            continue
        source = path.read_text(encoding="utf-8")
        rev, down = _REV.search(source), _DOWN.search(source)
        if rev is None or down is None:
            return None
        parent[rev.group(1)] = down.group(2)
    children = {p for p in parent.values() if p is not None}
    heads = tuple(r for r in parent if r not in children)
    if len(heads) != 1 or any(p is not None and p not in parent for p in parent.values()):
        return None
    order: list[str] = []
    current: str | None = heads[0]
    while current is not None:
        order.append(current)
        current = parent[current]
    if len(order) != len(parent):
        return None
    return tuple(reversed(order)), heads


def head() -> str:
    fast = _fast_graph()
    if fast is not None:
        return fast[1][0]
    heads = _script().get_heads()
    if len(heads) != 1:
        names = ", ".join(heads)
        raise RunFailed(f"the migration history has {len(heads)} heads ({names}); it must have one")
    return str(heads[0])


def known_revisions() -> list[str]:
    """All revisions, oldest first."""
    fast = _fast_graph()
    if fast is not None:
        return list(fast[0])
    return [str(s.revision) for s in reversed(list(_script().walk_revisions()))]


def current_revision_on(conn: Connection) -> str | None:
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    rows = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
    return str(rows[0][0]) if rows else None


@dataclass(frozen=True)
class MigrationResult:
    before: str | None
    after: str | None


def _migrate(engine: Engine, url: str, fn: Any, target: str) -> MigrationResult:
    from alembic.util import CommandError

    with guard(url, "migration failed"), engine.connect() as conn:
        conn = conn.execution_options(**{IMMEDIATE: True})
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")
                before = current_revision_on(conn)
                fn(_config(conn), target)
                after = current_revision_on(conn)
        except CommandError as exc:
            raise UserError(
                f"cannot migrate {mask_url(url)} to {target!r}: {exc}",
                hint="known revisions: " + ", ".join(["base", *known_revisions(), "head"]),
            ) from None
    return MigrationResult(before, after)


def upgrade_engine(engine: Engine, url: str, revision: str = "head") -> MigrationResult:
    from alembic import command

    return _migrate(engine, url, command.upgrade, revision)


def downgrade_engine(engine: Engine, url: str, revision: str) -> MigrationResult:
    from alembic import command

    return _migrate(engine, url, command.downgrade, revision)


def current_engine(engine: Engine, url: str) -> str | None:
    with guard(url, "cannot read the schema revision"), engine.connect() as conn:
        return current_revision_on(conn)


def upgrade(url: str, revision: str = "head") -> MigrationResult:
    engine = make_engine(url)
    try:
        return upgrade_engine(engine, url, revision)
    finally:
        engine.dispose()


def downgrade(url: str, revision: str) -> MigrationResult:
    engine = make_engine(url)
    try:
        return downgrade_engine(engine, url, revision)
    finally:
        engine.dispose()


def current(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return current_engine(engine, url)
    finally:
        engine.dispose()


def ensure_schema(engine: Engine, url: str, *, auto_upgrade: bool) -> str:
    """Bring the database to head (auto_upgrade) or refuse with the command that would; returns the revision."""
    target = head()
    rev = current_engine(engine, url)
    if rev == target:
        return rev
    if rev is not None and rev not in known_revisions():
        raise UserError(
            f"the database at {mask_url(url)} is at schema revision {rev}, newer than this continuous knows",
            hint="upgrade continuous on this machine (the database was migrated by a newer version)",
        )
    if auto_upgrade:
        result = upgrade_engine(engine, url, target)
        return result.after or target
    where = "empty" if rev is None else f"at schema revision {rev}"
    raise UserError(
        f"the database at {mask_url(url)} is {where}; this continuous needs revision {target}",
        hint="run `continuous db upgrade`",
    )

"""Engines tuned for many concurrent writers, and the one place database errors become plain, masked messages.

SQLite: WAL (readers never block the writer), a long busy timeout, foreign keys on, and every write
transaction starts with BEGIN IMMEDIATE. A deferred transaction that reads and then writes cannot wait for the
write lock (SQLite returns "database is locked" at once to avoid a deadlock); taking the lock up front makes
writers queue on the busy timeout instead, so concurrent processes never see that error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from continuous.common.errors import ContinuousError, RunFailed, mask_url
from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import StaticPool

BUSY_TIMEOUT_MS = 60_000
BUSY_TIMEOUT_ENV = "CONTINUOUS_DB_BUSY_TIMEOUT_MS"
CONNECT_TIMEOUT_S = 10
IMMEDIATE = "continuous_immediate"


def busy_timeout_ms() -> int:
    """How long a SQLite writer waits for another writer's lock (CONTINUOUS_DB_BUSY_TIMEOUT_MS, default 60 s)."""
    import os

    raw = os.environ.get(BUSY_TIMEOUT_ENV, "")
    try:
        return max(0, int(raw)) if raw else BUSY_TIMEOUT_MS
    except ValueError:
        raise RunFailed(f"{BUSY_TIMEOUT_ENV}={raw!r} is not a number of milliseconds") from None


def password_of(url: str) -> str | None:
    try:
        return make_url(url).password
    except Exception:
        match = re.search(r"://[^:/@\s]*:([^@\s]*)@", url)
        return match.group(1) if match else None


def scrub(text: str, url: str) -> str:
    """`text` with the URL's password hidden wherever it appears (drivers sometimes echo the DSN)."""
    out = mask_url(text)
    secret = password_of(url)
    if secret and len(secret) >= 3:  # shorter ones would garble the message; the URL itself is masked anyway
        out = out.replace(secret, "***")
        from urllib.parse import quote, unquote

        for variant in {quote(secret, safe=""), unquote(secret)}:
            if variant:
                out = out.replace(variant, "***")
    out = re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", out, flags=re.IGNORECASE)
    return out


def one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("(Background")]
    return " ".join(lines)[:400] or type(exc).__name__


def safe_url(url: str) -> str:
    """The URL for messages: password masked, and an unparsable URL never shown with its credentials."""
    try:
        make_url(url)
    except Exception:
        if "@" in url:
            return "***@" + url.rsplit("@", 1)[1]
    return mask_url(url)


def db_error(exc: BaseException, url: str, doing: str = "database error") -> RunFailed:
    message = scrub(one_line(exc), url)
    if isinstance(exc, sa_exc.ArgumentError) and not isinstance(exc, sa_exc.NoSuchModuleError) and "@" in url:
        message = "not a database URL (expected dialect+driver://user:password@host/database)"
    return RunFailed(f"{doing} at {safe_url(url)}: {message}")


@contextmanager
def guard(url: str, doing: str = "database error") -> Iterator[None]:
    """Turn any driver or SQLAlchemy failure into a RunFailed naming the masked URL."""
    try:
        yield
    except ContinuousError:
        raise
    except (sa_exc.SQLAlchemyError, OSError, ValueError, ImportError) as exc:
        raise db_error(exc, url, doing) from None


def make_engine(url: str) -> Engine:
    with guard(url, "cannot open database"):
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"future": True}
        if backend == "sqlite":
            database = parsed.database or ""
            memory = database in ("", ":memory:") or database.startswith("file::memory:")
            if not memory:
                parent = Path(database).expanduser().parent
                if not parent.is_dir():
                    raise RunFailed(f"cannot open database at {mask_url(url)}: directory {parent} does not exist")
            busy = busy_timeout_ms()
            kwargs["connect_args"] = {"timeout": busy / 1000, "check_same_thread": False}
            if memory:
                kwargs["poolclass"] = StaticPool
            engine = create_engine(parsed, **kwargs)
            _tune_sqlite(engine, memory, busy)
            return engine
        if backend == "postgresql":
            kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
            kwargs["pool_size"] = 2
            kwargs["max_overflow"] = 4
            # a connection the server or the network dropped is replaced at checkout, not failed on use
            kwargs["pool_pre_ping"] = True
        return create_engine(parsed, **kwargs)


def _tune_sqlite(engine: Engine, memory: bool, busy: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see module docstring)
        cur = dbapi_conn.cursor()
        if not memory:
            _wal(cur, busy)
        cur.execute(f"PRAGMA busy_timeout = {int(busy)}")
        if not memory:
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _wal(cur: Any, busy: int) -> None:
    """Switch the database to WAL (a no-op once it is). The switch needs the database to itself: waiting for it
    on the busy handler holds a read lock that keeps the other process from committing (two servers creating one
    database deadlock until a timeout). So each attempt fails at once while another process writes, holds nothing
    while it sleeps, and is retried for as long as the busy timeout."""
    import sqlite3
    import time

    deadline = time.monotonic() + busy / 1000
    while True:
        try:
            cur.execute("PRAGMA busy_timeout = 0")
            mode = str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower()
            if mode == "wal" or str(cur.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower() == "wal":
                return
            failure: Exception = sqlite3.OperationalError("database is locked")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            failure = exc
        if time.monotonic() >= deadline:
            raise failure
        time.sleep(0.02)


def check_reachable(engine: Engine, url: str) -> None:
    with guard(url, "cannot connect to database"), engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")

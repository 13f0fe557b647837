"""Incremental, streamed export of the tracking store to Parquet.

Analytics never queries the shared database: it reads columnar copies, so a dashboard over millions of
executions costs the writers nothing. The export goes through SQLAlchemy (DuckDB's sqlite/postgres scanners
download an extension at run time, which fails offline), reflects the tables instead of importing the store's
models (so a schema migration needs no change here), and streams rows in batches into a staging DuckDB (which
spills to disk past a small memory limit) that writes each part with COPY ... (FORMAT parquet), so memory stays
bounded whatever the table size. DuckDB is the only columnar library: numpy object arrays carry the batches
into it, with no pyarrow or pandas.

Layout of an export directory:

    manifest.json               watermarks, part lists, column types (replaced atomically, written last)
    <table>/part-<N>.parquet    rows of one export run; readers use the manifest's list, never a glob

A table is exported incrementally when it has a primary key and a time column (`updated_at`, else
`started_at`, else `created_at`, ...): only rows at or after the last watermark minus a grace window are read,
rows already exported unchanged are dropped (each row of the grace window and every still-open row —
`completed_at`/`closed_at` NULL — is remembered by a content hash), and a row that changed gets a new version
whose `_export` sequence is higher; readers keep the newest version per key. Other tables (e.g. the port
registry, whose rows are deleted) are exported as a whole snapshot, rewritten only when their content hash
changes. Every file is written to a temporary name and renamed, and the manifest is replaced last, so an
interrupted export leaves the previous one intact.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from continuous.analytics.paths import default_export_dir
from continuous.common.errors import RunFailed, UserError, mask_url

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
EXPORT_COLUMN = "_export"
EXECUTIONS = "sys_scenario_executions"
STEPS = "sys_scenario_step_executions"
# derived at export time (see _files_changed_deriver); public in the DuckDB views
FILES_CHANGED_COLUMN = "_files_changed"
SKIP_TABLES = frozenset({"alembic_version"})
# small tables whose rows are deleted or updated in place without a usable watermark: exported whole
SNAPSHOT_TABLES = frozenset({"sys_port_registry", "sys_scenarios", "sys_archived_items"})
WATERMARK_CANDIDATES = ("updated_at", "started_at", "created_at", "enqueued_at", "checked_at")
OPEN_MARKERS = ("completed_at", "closed_at", "finished_at")
GRACE = dt.timedelta(minutes=10)
BATCH_ROWS = 100_000
PART_ROWS = 2_000_000
OPEN_ID_CHUNK = 500
STAGE_PREFIX = ".stage-"  # spill folders of the staging DuckDB (see _Staging); leftovers are cleaned
STAGE_MEMORY = "256MB"


@dataclass
class TableReport:
    table: str
    mode: str
    rows_written: int = 0
    files_written: list[str] = field(default_factory=list)
    total_rows: int = 0


@dataclass
class ExportReport:
    out_dir: Path
    url_masked: str
    tables: list[TableReport]
    seconds: float

    @property
    def rows_written(self) -> int:
        return sum(t.rows_written for t in self.tables)

    @property
    def files_written(self) -> int:
        return sum(len(t.files_written) for t in self.tables)

    def to_json(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "database": self.url_masked,
            "seconds": round(self.seconds, 3),
            "rows_written": self.rows_written,
            "files_written": self.files_written,
            "tables": [
                {
                    "table": t.table,
                    "mode": t.mode,
                    "rows_written": t.rows_written,
                    "total_rows": t.total_rows,
                    "files_written": t.files_written,
                }
                for t in self.tables
            ],
        }


# ---------------------------------------------------------------- locating the database and the export


def open_engine(url: str | None = None, *, repo: Path | None = None) -> tuple[sa.Engine, str, Any]:
    """An engine on the tracking store, its masked URL, and the store object to close.

    Goes through `continuous.store.open_store`, which knows the URL resolution and connection settings and
    upgrades the default SQLite database; a default database that does not exist yet is not created here,
    since there would be nothing to export.
    """
    from continuous.store import open_store
    from continuous.store.url import resolve_url

    resolved = resolve_url(url, repo=repo)
    if resolved.is_default and not Path(resolved.url.removeprefix("sqlite:///")).exists():
        raise UserError(
            "no tracking database yet: nothing has been executed in this repository",
            hint="run a scenario first (continuous run ...), then `continuous analytics export`",
        )
    store = open_store(resolved.url, repo=repo)
    return store.engine, store.url_masked, store


# ---------------------------------------------------------------- types

# One fixed column type per SQL type, so every part of a table has the same schema whatever its rows hold. The
# names are those the manifest has always recorded (Arrow's, from the first exporter); `duck._DUCK_TYPES` maps
# them to DuckDB's for empty tables, and an unchanged name keeps an existing export incremental.
STRING, INT64, DOUBLE, BOOL, TIMESTAMP, DATE, BINARY = (
    "string",
    "int64",
    "double",
    "bool",
    "timestamp[us]",
    "date32[day]",
    "binary",
)


def column_kind(col_type: sa.types.TypeEngine[Any]) -> str:
    if isinstance(col_type, sa.types.ARRAY | sa.types.JSON):
        return STRING  # JSON text; DuckDB's built-in json functions read it
    if isinstance(col_type, sa.types.Boolean):
        return BOOL
    if isinstance(col_type, sa.types.Integer):
        return INT64
    if isinstance(col_type, sa.types.Float | sa.types.Numeric):
        return DOUBLE
    if isinstance(col_type, sa.types.DateTime):
        return TIMESTAMP
    if isinstance(col_type, sa.types.Date):
        return DATE
    if isinstance(col_type, sa.types.LargeBinary):
        return BINARY
    return STRING


def _select_expr(col: sa.Column[Any], dialect: str) -> sa.ColumnElement[Any]:
    """What to SELECT for a column so the driver, not per-row Python processing, does the work."""
    t = col.type
    if isinstance(t, sa.types.ARRAY):
        return sa.cast(sa.func.array_to_json(col), sa.Text).label(col.name)
    if isinstance(t, sa.types.JSON):
        return sa.cast(col, sa.Text).label(col.name)
    if isinstance(t, sa.types.Uuid) and dialect == "postgresql":
        return sa.cast(col, sa.Text).label(col.name)
    if isinstance(t, sa.types.DateTime) and dialect == "sqlite":
        return sa.cast(col, sa.Text).label(col.name)  # parsed column-wise by DuckDB (_convert)
    if isinstance(t, sa.types.Numeric) and not isinstance(t, sa.types.Float):
        return sa.cast(col, sa.Float).label(col.name)
    return col


def _convert(name: str, kind: str) -> str:
    """SQL turning a column as the driver returned it into its fixed type. Timestamps become naive UTC (DuckDB's
    time-zone-aware functions are 10-30x slower): SQLite's text (naive means UTC, an offset is honoured), aware
    datetimes (PostgreSQL timestamptz) and naive ones alike go through TIMESTAMPTZ in a UTC session."""
    col = _quote(name)
    if kind == TIMESTAMP:
        return f"make_timestamp(epoch_us(CAST({col} AS TIMESTAMPTZ))) AS {col}"
    return f"CAST({col} AS {_DUCK_TYPE[kind]}) AS {col}"


_DUCK_TYPE = {
    STRING: "VARCHAR",
    INT64: "BIGINT",
    DOUBLE: "DOUBLE",
    BOOL: "BOOLEAN",
    TIMESTAMP: "TIMESTAMP",
    DATE: "DATE",
    BINARY: "BLOB",
}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(v: Any) -> str:
    if isinstance(v, dict | list):
        return json.dumps(v, sort_keys=True, default=str)
    if isinstance(v, bytes):
        return v.hex()
    return str(v)


def _column_array(values: Sequence[Any], kind: str) -> Any:
    """One column of a batch as a numpy object array, which DuckDB scans without pandas or pyarrow. Text columns
    that hold anything but strings (SQLite does not enforce types) are made text here, JSON-encoded like the rest."""
    import numpy as np

    if kind == STRING and not set(map(type, values)) <= {str, type(None)}:
        values = [v if v is None or isinstance(v, str) else _text(v) for v in values]
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


# ---------------------------------------------------------------- manifest


def load_manifest(out_dir: Path) -> dict[str, Any]:
    path = out_dir / MANIFEST
    if not path.exists():
        return {"version": MANIFEST_VERSION, "exports": 0, "tables": {}}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(
            f"{path}: unreadable export manifest ({exc})",
            hint="delete the export directory and run `continuous analytics export` again",
        ) from None
    if data.get("version") != MANIFEST_VERSION:
        raise UserError(
            f"{path}: export manifest version {data.get('version')} is not supported",
            hint="delete the export directory and run `continuous analytics export` again",
        )
    return dict(data)


def source_stamp(url: str, engine: sa.Engine | None = None) -> str | None:
    """A cheap fingerprint of the store's content, recorded by every export: while it is unchanged, the export
    is current and queries skip the refresh. SQLite: size and mtime of the database file and its write-ahead
    log (any commit changes one of them). PostgreSQL: the row-change counters of the store's tables (the
    statistics reach them at commit, within a second for a long-lived writer). Otherwise None: always stale."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
        parts = []
        for p in (path, path.with_name(path.name + "-wal")):
            try:
                info = p.stat()
            except OSError:
                parts.append("-")
                continue
            parts.append(f"{info.st_size}:{info.st_mtime_ns}")
        return "sqlite:" + ",".join(parts)
    if engine is None or engine.dialect.name != "postgresql":
        return None
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.text(
                    "SELECT coalesce(sum(n_tup_ins), 0), coalesce(sum(n_tup_upd), 0), coalesce(sum(n_tup_del), 0), "
                    "count(*) FROM pg_stat_user_tables WHERE schemaname = current_schema()"
                )
            ).one()
    except sa.exc.SQLAlchemyError:
        return None
    return "postgresql:" + ",".join(str(v) for v in row)


def refresh_if_stale(repo: Path | None = None, url: str | None = None) -> ExportReport | None:
    """Export incrementally into the default export directory when the store changed since the last export;
    None when the export is current. A repository without any tracking database is a UserError."""
    from continuous.store.url import resolve_url

    resolved = resolve_url(url, repo=repo)
    out_dir = default_export_dir(repo)
    manifest = load_manifest(out_dir)
    if manifest.get("tables") and manifest.get("database") == mask_url(resolved.url):
        if resolved.url.startswith("sqlite:///"):
            stamp = source_stamp(resolved.url)
        else:
            from continuous.store.db import make_engine

            engine = make_engine(resolved.url)
            try:
                stamp = source_stamp(resolved.url, engine)
            finally:
                engine.dispose()
        if stamp is not None and manifest.get("source_stamp") == stamp:
            return None
    return export(url, repo=repo)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _clean_orphans(out_dir: Path, manifest: dict[str, Any]) -> None:
    """Leftovers of an interrupted export: temp files, staging spill folders and parts the manifest never
    adopted."""
    known = {p for t in manifest["tables"].values() for p in t.get("parts", [])}
    for stage in out_dir.glob(STAGE_PREFIX + "*"):
        shutil.rmtree(stage, ignore_errors=True)
    for path in out_dir.glob("*/*.parquet*"):
        rel = f"{path.parent.name}/{path.name}"
        if rel not in known:
            path.unlink(missing_ok=True)


# ---------------------------------------------------------------- exporting one table


class _Staging:
    """The in-memory DuckDB in which an export process types, compares and gathers the batches of every table
    into parts (one per process: opening one costs tens of milliseconds). It spills to a folder of the export
    directory beyond a small memory limit, so memory stays bounded whatever the size."""

    def __init__(self, out_dir: Path) -> None:
        import duckdb

        self.spill = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=out_dir))
        self.db = duckdb.connect(
            ":memory:",
            config={
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                "memory_limit": STAGE_MEMORY,
                "temp_directory": str(self.spill),
            },
        )
        self.db.execute("SET TimeZone = 'UTC'")
        self.counter = 0

    def name(self, kind: str) -> str:
        self.counter += 1
        return f"{kind}_{self.counter}"

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.db.close()
        shutil.rmtree(self.spill, ignore_errors=True)


class _Batch:
    """A batch of rows staged as a typed DuckDB table (`_i` numbers its rows in the order read)."""

    def __init__(self, stage: _Stage, rows: Sequence[Sequence[Any]]) -> None:
        import duckdb
        import numpy as np

        self.stage = stage
        self.name = stage.staging.name("batch")
        stage.tables.append(self.name)
        raw: dict[str, Any] = {"_i": np.arange(len(rows), dtype=np.int64)}
        for name, kind, col in zip(stage.names, stage.kinds, zip(*rows, strict=True), strict=True):
            raw[name] = _column_array(col, kind)
        cur = stage.cursor
        view = stage.staging.name("raw")
        cur.register(view, raw)
        try:
            cols = ", ".join(_convert(n, k) for n, k in zip(stage.names, stage.kinds, strict=True))
            cur.execute(f"CREATE TABLE {self.name} AS SELECT _i, {cols} FROM {view}")
        except duckdb.Error as exc:  # a value its column's type cannot hold (SQLite does not enforce types)
            raise RunFailed(
                f"cannot export table {stage.table}: {str(exc).splitlines()[0]}",
                hint="fix or delete the row in the tracking database; the previous export is intact",
            ) from None
        finally:
            cur.unregister(view)
        self.num_rows = len(rows)

    def rows(self, where: str = "true", params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """(_i, values...) of the rows matching `where`, with the fixed types' Python values."""
        cols = ", ".join(_quote(n) for n in self.stage.names)
        sql = f"SELECT _i, {cols} FROM {self.name} WHERE {where} ORDER BY _i"
        return self.stage.cursor.execute(sql, params or []).fetchall()

    def drop_rows(self, indexes: list[int]) -> None:
        import numpy as np

        if not indexes:
            return
        cur = self.stage.cursor
        cur.register("dropped", {"i": np.array(indexes, dtype=np.int64)})
        try:
            cur.execute(f"DELETE FROM {self.name} WHERE _i IN (SELECT i FROM dropped)")
        finally:
            cur.unregister("dropped")
        self.num_rows -= len(indexes)


class _Stage:
    """Writes a table's batches into table/part-N.parquet files (temp name first), splitting every PART_ROWS
    rows: DuckDB gathers the rows and writes each part with COPY ... (FORMAT parquet).

    Gathering and writing run on a background thread (DuckDB releases the GIL) while the next batch is fetched
    and typed; the queue is bounded, so memory stays at a few batches.
    """

    def __init__(
        self,
        staging: _Staging,
        out_dir: Path,
        table: str,
        names: list[str],
        kinds: list[str],
        first_part: int,
        seq: int,
        derive_files_changed: bool,
    ) -> None:
        from continuous.analytics.duck import FILES_CHANGED

        self.dir = out_dir / table
        self.table = table
        self.names = names
        self.kinds = kinds
        self.next_part = first_part
        self.seq = seq
        self.staging = staging
        self.cursor = staging.db.cursor()
        self.part = staging.name("part")
        self.tables: list[str] = [self.part]  # dropped when the table is done, whatever happened
        derived = (
            [f"{FILES_CHANGED.format(a=_quote('artifacts'))} AS {FILES_CHANGED_COLUMN}"] if derive_files_changed else []
        )
        self.select = ", ".join(
            [*(_quote(n) for n in names), *derived, f"CAST({int(seq)} AS BIGINT) AS {EXPORT_COLUMN}"]
        )
        self.part_open = False
        self.rows_in_part = 0
        self.pending: list[tuple[Path, Path]] = []
        self.rows = 0
        self.queue: queue.Queue[_Batch | None] = queue.Queue(maxsize=3)
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def batch(self, rows: Sequence[Sequence[Any]]) -> _Batch:
        return _Batch(self, rows)

    def write(self, batch: _Batch) -> None:
        if self.error is not None:
            raise self.error
        if batch.num_rows == 0:
            self.cursor.execute(f"DROP TABLE {batch.name}")
            return
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name=f"export-{self.table}", daemon=True)
            self.thread.start()
        self.rows += batch.num_rows
        self.queue.put(batch)

    def _run(self) -> None:
        cur = self.staging.db.cursor()
        try:
            while True:
                batch = self.queue.get()
                if batch is None:
                    return
                if self.error is not None:
                    continue  # drain so the producer never blocks
                try:
                    if self.part_open and self.rows_in_part >= PART_ROWS:
                        self._copy(cur)
                    if not self.part_open:
                        cur.execute(
                            f"CREATE OR REPLACE TABLE {self.part} AS SELECT {self.select} FROM {batch.name} "
                            "WITH NO DATA"
                        )
                        self.part_open = True
                        self.rows_in_part = 0
                    cur.execute(f"INSERT INTO {self.part} SELECT {self.select} FROM {batch.name}")
                    cur.execute(f"DROP TABLE {batch.name}")
                    self.rows_in_part += batch.num_rows
                except BaseException as exc:
                    self.error = exc
        finally:
            cur.close()

    def _copy(self, cur: Any) -> None:
        """Writes the gathered rows as the next part (to its temp name)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        final = self.dir / f"part-{self.next_part}.parquet"
        self.next_part += 1
        tmp = final.with_name(final.name + ".tmp")
        self.pending.append((tmp, final))
        cur.execute(
            f"COPY {self.part} TO '{str(tmp).replace(chr(39), chr(39) * 2)}' "
            "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)"
        )
        cur.execute(f"DROP TABLE {self.part}")
        self.part_open = False

    def _finish(self) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.thread = None

    def commit(self) -> list[str]:
        """Writes the last part and renames the finished temp files into place; the manifest adopts them
        afterwards."""
        try:
            self._finish()
            if self.error is not None:
                raise self.error
            if self.part_open:
                self._copy(self.cursor)
            names = []
            for tmp, final in self.pending:
                os.replace(tmp, final)
                names.append(f"{self.table}/{final.name}")
            return names
        finally:
            self.close()

    def abort(self) -> None:
        try:
            self._finish()
        finally:
            for tmp, _ in self.pending:
                tmp.unlink(missing_ok=True)
            self.pending = []
            self.rows = 0
            self.error = None
            self.part_open = False
            self.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            for name in self.tables:
                self.cursor.execute(f"DROP TABLE IF EXISTS {name}")
            self.cursor.close()


def _row_hash(values: list[Any]) -> str:
    return hashlib.blake2b(repr(values).encode(), digest_size=12).hexdigest()


def _key_text(values: list[Any]) -> str:
    return values[0] if len(values) == 1 and isinstance(values[0], str) else json.dumps(values, default=str)


def _table_columns(table: sa.Table) -> list[list[str]]:
    return [[c.name, column_kind(c.type)] for c in table.columns]


def _stream(conn: sa.Connection, stmt: sa.Select[Any], stage: _Stage) -> Iterator[_Batch]:
    """Batches of the statement's rows, read with a server-side cursor where the driver has one.

    On SQLite (whose cursors always stream) rows come straight from the DBAPI cursor: the select expressions
    already ask for plain values, so SQLAlchemy's per-row processing would only cost time. Elsewhere
    SQLAlchemy's streaming result (a named cursor on PostgreSQL) is read in partitions.
    """
    if conn.dialect.name == "sqlite":
        result = conn.execute(stmt)
        cursor = result.cursor

        def chunks() -> Iterator[Sequence[Any]]:
            while rows := cursor.fetchmany(BATCH_ROWS):
                yield rows
    else:
        result = conn.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(stmt)

        def chunks() -> Iterator[Sequence[Any]]:
            yield from result.partitions(BATCH_ROWS)

    try:
        for rows in chunks():
            if rows:
                yield stage.batch(rows)
    finally:
        result.close()


def _export_table(
    conn: sa.Connection,
    table: sa.Table,
    out_dir: Path,
    state: dict[str, Any] | None,
    seq: int,
    dialect: str,
    staging: _Staging,
) -> tuple[TableReport, dict[str, Any], list[str]]:
    """Returns the report, the table's new manifest entry and the files it made obsolete."""
    cols = list(table.columns)
    names = [c.name for c in cols]
    kinds = [column_kind(c.type) for c in cols]
    derive = table.name == EXECUTIONS and "artifacts" in names
    extra = [[FILES_CHANGED_COLUMN, DOUBLE]] if derive else []
    pk = [c.name for c in table.primary_key.columns]
    wm_col = next((c for c in WATERMARK_CANDIDATES if c in names), None)
    incremental = bool(pk) and wm_col is not None and table.name not in SNAPSHOT_TABLES
    mode = "incremental" if incremental else "snapshot"
    column_spec = _table_columns(table) + extra
    first_part = int(state["next_part"]) if state else 0  # part names are never reused
    if state is not None and (state.get("columns") != column_spec or state.get("mode") != mode):
        state = None  # schema changed (a migration ran): export the table afresh
    exprs = [_select_expr(c, dialect) for c in cols]
    stage = _Stage(staging, out_dir, table.name, names, kinds, first_part, seq, derive)
    report = TableReport(table.name, mode)
    try:
        if not incremental:
            entry, obsolete = _snapshot(conn, table, exprs, names, state, stage)
        else:
            assert wm_col is not None
            entry, obsolete = _incremental(conn, table, exprs, names, pk, wm_col, state, stage)
        files = stage.commit()
    except BaseException:
        stage.abort()
        raise
    entry.update({"mode": mode, "columns": column_spec, "primary_key": pk, "next_part": stage.next_part})
    entry["parts"] = [p for p in entry.get("parts", []) if p not in obsolete] + files
    report.rows_written = stage.rows
    report.files_written = files
    report.total_rows = int(entry.get("rows", 0))
    return report, entry, obsolete


def _snapshot(
    conn: sa.Connection,
    table: sa.Table,
    exprs: list[Any],
    names: list[str],
    state: dict[str, Any] | None,
    stage: _Stage,
) -> tuple[dict[str, Any], list[str]]:
    order = list(table.primary_key.columns) or [exprs[0]]
    stmt = sa.select(*exprs).order_by(*order)
    digest = hashlib.blake2b(digest_size=16)
    rows = 0
    for batch in _stream(conn, stmt, stage):  # written as read (bounded memory), dropped if unchanged
        digest.update(repr([dict(zip(names, r[1:], strict=True)) for r in batch.rows()]).encode())
        rows += batch.num_rows
        stage.write(batch)
    content = digest.hexdigest()
    if state is not None and state.get("hash") == content:
        stage.abort()
        return dict(state), []
    obsolete = list(state.get("parts", [])) if state else []
    return {"hash": content, "rows": rows, "parts": [], "dedup": False}, obsolete


def _incremental(
    conn: sa.Connection,
    table: sa.Table,
    exprs: list[Any],
    names: list[str],
    pk: list[str],
    wm_col: str,
    state: dict[str, Any] | None,
    stage: _Stage,
) -> tuple[dict[str, Any], list[str]]:
    wm = table.c[wm_col]
    open_col = next((c for c in OPEN_MARKERS if c in names), None)
    remembered: dict[str, str] = dict(state.get("remembered", {})) if state else {}
    old_open: dict[str, str] = dict(state.get("open", {})) if state else {}
    known = {**remembered, **old_open}
    old_wm = dt.datetime.fromisoformat(state["watermark"]) if state and state.get("watermark") else None
    pk_idx = [names.index(k) for k in pk]
    wm_idx = names.index(wm_col)
    open_idx = names.index(open_col) if open_col else None
    naive = conn.dialect.name == "sqlite" or not getattr(wm.type, "timezone", True)
    wm_sql = _quote(wm_col)

    def bind(ts: dt.datetime) -> dt.datetime:  # watermarks are naive UTC, like the exported columns
        return ts if naive else ts.replace(tzinfo=dt.UTC)

    statements: list[sa.Select[Any]] = []
    if old_wm is None:
        statements.append(sa.select(*exprs))
    else:
        lower = old_wm - GRACE
        statements.append(sa.select(*exprs).where(sa.or_(wm >= bind(lower), wm.is_(None))))
        if len(pk) == 1:
            key_col = table.c[pk[0]]
            older_open = sorted(old_open)
            for i in range(0, len(older_open), OPEN_ID_CHUNK):
                chunk = older_open[i : i + OPEN_ID_CHUNK]
                statements.append(sa.select(*exprs).where(sa.cast(key_col, sa.Text).in_(chunk), wm < bind(lower)))
    running_max = old_wm
    window: dict[str, tuple[str, dt.datetime | None, bool]] = {}  # key -> hash, watermark value, open
    changed_existing = False
    written = 0
    for stmt in statements:
        for batch in _stream(conn, stmt, stage):
            (batch_max,) = stage.cursor.execute(f"SELECT max({wm_sql}) FROM {batch.name}").fetchall()[0]
            if batch_max is not None and (running_max is None or batch_max > running_max):
                running_max = batch_max
            # rows that need a look one by one: possibly known, still open, or in the grace window
            if running_max is None:
                where, params = "true", []
            else:
                conds, params = [f"{wm_sql} >= ?", f"{wm_sql} IS NULL"], [running_max - GRACE]
                if old_wm is not None:
                    conds.append(f"{wm_sql} <= ?")
                    params.append(old_wm)
                where = " OR ".join(conds)
            if open_col is not None:
                where = f"({where}) OR {_quote(open_col)} IS NULL"
            dropped = []
            for row in batch.rows(where, params):
                values = list(row[1:])
                key = _key_text([values[j] for j in pk_idx])
                h = _row_hash(values)
                if known.get(key) == h:
                    dropped.append(row[0])
                elif key in known:
                    changed_existing = True
                window[key] = (h, values[wm_idx], open_idx is not None and values[open_idx] is None)
            batch.drop_rows(dropped)
            if running_max is not None and len(window) > 4 * BATCH_ROWS:
                prune = running_max - GRACE
                window = {k: v for k, v in window.items() if v[2] or v[1] is None or v[1] >= prune}
            written += batch.num_rows
            stage.write(batch)
    floor = running_max - GRACE if running_max is not None else None
    new_remembered = {
        k: h for k, (h, w, is_open) in window.items() if not is_open and (floor is None or w is None or w >= floor)
    }
    new_open = {k: h for k, (h, _w, is_open) in window.items() if is_open}
    entry: dict[str, Any] = {
        "watermark_column": wm_col,
        "watermark": running_max.isoformat() if running_max is not None else None,
        "remembered": new_remembered,
        "open": new_open,
        "rows": int(state.get("rows", 0) if state else 0) + written,
        "parts": list(state.get("parts", [])) if state else [],
        "dedup": bool(state.get("dedup")) if state else False,
    }
    if changed_existing or (wm_col == "updated_at" and state is not None and written):
        entry["dedup"] = True
    return entry, []


# ---------------------------------------------------------------- the whole export


def _export_table_in_process(
    url: str, name: str, out_dir: Path, state: dict[str, Any] | None, seq: int
) -> tuple[TableReport, dict[str, Any], list[str]]:
    """One table's export in a worker process (its own engine): the biggest table runs beside the others."""
    engine = sa.create_engine(url)
    staging = _Staging(out_dir)
    try:
        table = sa.Table(name, sa.MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            return _export_table(conn, table, out_dir, state, seq, engine.dialect.name, staging)
    finally:
        staging.close()
        engine.dispose()


def export(
    url: str | None = None,
    *,
    repo: Path | None = None,
    out: Path | None = None,
    engine: sa.Engine | None = None,
    parallel: bool = True,
) -> ExportReport:
    """Exports every table of the store into `out` (default: beside the default SQLite database).

    With an engine of its own (not passed in) and `parallel`, the step executions — by far the biggest table —
    are exported by a worker process while this one does the rest; a failure in either leaves the previous
    export intact all the same (the manifest is only replaced once every table succeeded).
    """
    import fcntl

    started = time.perf_counter()
    store = None
    worker_url: str | None = None
    if engine is None:
        engine, masked, store = open_engine(url, repo=repo)
        if parallel:
            worker_url = engine.url.render_as_string(hide_password=False)
    else:
        masked = mask_url(engine.url.render_as_string(hide_password=False))
    try:
        out_dir = Path(out) if out is not None else default_export_dir(repo)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"{out_dir}: cannot create the export directory ({exc.strerror})") from None
        with open(out_dir / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            manifest = load_manifest(out_dir)
            _clean_orphans(out_dir, manifest)
            metadata = sa.MetaData()
            try:
                metadata.reflect(bind=engine, views=False)
            except sa.exc.SQLAlchemyError as exc:
                raise RunFailed(
                    f"cannot read the tracking database {masked}: {mask_url(str(exc).splitlines()[0])}"
                ) from None
            stamp = source_stamp(engine.url.render_as_string(hide_password=False), engine)  # before any read
            tables = [t for name, t in sorted(metadata.tables.items()) if name not in SKIP_TABLES]
            if not any(t.name == "sys_scenario_executions" for t in tables):
                raise UserError(
                    f"{masked} is not a continuous tracking database (no sys_scenario_executions)",
                    hint="run `continuous db upgrade` or point CONTINUOUS_DATABASE_URL at the store",
                )
            seq = int(manifest.get("exports", 0)) + 1
            now = dt.datetime.now(dt.UTC)
            reports: list[TableReport] = []
            new_tables: dict[str, Any] = {}
            obsolete_all: list[str] = []
            results: dict[str, tuple[TableReport, dict[str, Any], list[str]]] = {}
            offloaded = STEPS if worker_url and any(t.name == STEPS for t in tables) else None
            with contextlib.ExitStack() as stack:
                future = None
                if offloaded and worker_url:
                    import multiprocessing
                    from concurrent.futures import ProcessPoolExecutor

                    pool = stack.enter_context(
                        ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
                    )
                    future = pool.submit(
                        _export_table_in_process, worker_url, offloaded, out_dir, manifest["tables"].get(offloaded), seq
                    )
                staging = _Staging(out_dir)  # after _clean_orphans, which removes stale staging folders
                stack.callback(staging.close)
                with engine.connect() as conn:
                    for table in tables:
                        if table.name != offloaded:
                            results[table.name] = _export_table(
                                conn,
                                table,
                                out_dir,
                                manifest["tables"].get(table.name),
                                seq,
                                engine.dialect.name,
                                staging,
                            )
                if future is not None and offloaded:
                    results[offloaded] = future.result()
            for table in tables:
                report, entry, obsolete = results[table.name]
                reports.append(report)
                new_tables[table.name] = entry
                obsolete_all.extend(obsolete)
            for name, entry in manifest["tables"].items():
                if name not in new_tables:
                    obsolete_all.extend(entry.get("parts", []))
            wrote = any(r.files_written for r in reports) or obsolete_all
            if wrote or not (out_dir / MANIFEST).exists() or manifest.get("source_stamp") != stamp:
                fresh = wrote or not (out_dir / MANIFEST).exists()
                manifest = {
                    "version": MANIFEST_VERSION,
                    "exports": seq if fresh else manifest.get("exports", seq),
                    "database": masked,
                    "exported_at": now.isoformat(),
                    "tables": new_tables,
                    "source_stamp": stamp,
                }
                _write_atomic(out_dir / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
            for rel in obsolete_all:
                (out_dir / rel).unlink(missing_ok=True)
    finally:
        if store is not None:
            store.close()
    return ExportReport(out_dir, masked, reports, time.perf_counter() - started)

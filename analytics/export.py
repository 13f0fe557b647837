"""Incremental, streamed export of the tracking store to Parquet.

Analytics never queries the shared database: it reads columnar copies, so a dashboard over millions of
executions costs the writers nothing. The export goes through SQLAlchemy (DuckDB's sqlite/postgres scanners
download an extension at run time, which fails offline), reflects the tables instead of importing the store's
models (so a schema migration needs no change here), and streams rows in batches straight into Parquet row
groups, so memory stays bounded whatever the table size.

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
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from continuous.analytics.paths import default_export_dir
from continuous.common.errors import RunFailed, UserError, mask_url

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
EXPORT_COLUMN = "_export"
# timestamps are exported as naive UTC: DuckDB's time-zone-aware (ICU) functions are 10-30x slower
UTC_TIMESTAMP = pa.timestamp("us")
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
                {"table": t.table, "mode": t.mode, "rows_written": t.rows_written, "total_rows": t.total_rows,
                 "files_written": t.files_written}
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


def arrow_type(col_type: sa.types.TypeEngine[Any]) -> pa.DataType:
    """One fixed Arrow type per SQL type: every part of a table has the same schema whatever its rows hold."""
    if isinstance(col_type, sa.types.ARRAY | sa.types.JSON):
        return pa.string()  # JSON text; DuckDB's built-in json functions read it
    if isinstance(col_type, sa.types.Boolean):
        return pa.bool_()
    if isinstance(col_type, sa.types.Integer):
        return pa.int64()
    if isinstance(col_type, sa.types.Float | sa.types.Numeric):
        return pa.float64()
    if isinstance(col_type, sa.types.DateTime):
        return UTC_TIMESTAMP
    if isinstance(col_type, sa.types.Date):
        return pa.date32()
    if isinstance(col_type, sa.types.LargeBinary):
        return pa.binary()
    return pa.string()


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
        return sa.cast(col, sa.Text).label(col.name)  # parsed column-wise by Arrow below
    if isinstance(t, sa.types.Numeric) and not isinstance(t, sa.types.Float):
        return sa.cast(col, sa.Float).label(col.name)
    return col


def _to_arrow(values: tuple[Any, ...] | list[Any], typ: pa.DataType) -> pa.Array:
    if pa.types.is_timestamp(typ):
        if any(isinstance(v, str) for v in values):
            return _parse_timestamps(pa.array(values, pa.string()))
        # aware datetimes (PostgreSQL timestamptz) -> their UTC wall time
        return pa.array(values, pa.timestamp("us", tz="UTC")).cast(typ)
    if pa.types.is_boolean(typ):
        return pa.array([None if v is None else bool(v) for v in values], typ)
    try:
        return pa.array(values, typ)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        if not pa.types.is_string(typ):
            raise
        return pa.array([v if v is None or isinstance(v, str) else _text(v) for v in values], typ)


def _text(v: Any) -> str:
    if isinstance(v, dict | list):
        return json.dumps(v, sort_keys=True, default=str)
    if isinstance(v, bytes):
        return v.hex()
    return str(v)


def _parse_timestamps(arr: pa.Array) -> pa.Array:
    """SQLite stores timestamps as text; naive ones are UTC (the store writes UTC)."""
    utc = pa.timestamp("us", tz="UTC")
    try:
        return arr.cast(UTC_TIMESTAMP)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    try:
        return arr.cast(utc).cast(UTC_TIMESTAMP)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    out: list[dt.datetime | None] = []
    for v in arr.to_pylist():
        if v is None:
            out.append(None)
            continue
        d = dt.datetime.fromisoformat(v)
        out.append(d if d.tzinfo is None else d.astimezone(dt.UTC).replace(tzinfo=None))
    return pa.array(out, UTC_TIMESTAMP)


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
        raise UserError(f"{path}: export manifest version {data.get('version')} is not supported",
                        hint="delete the export directory and run `continuous analytics export` again")
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
            row = conn.execute(sa.text(
                "SELECT coalesce(sum(n_tup_ins), 0), coalesce(sum(n_tup_upd), 0), coalesce(sum(n_tup_del), 0), "
                "count(*) FROM pg_stat_user_tables WHERE schemaname = current_schema()"
            )).one()
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
    """Leftovers of an interrupted export: temp files and parts the manifest never adopted."""
    known = {p for t in manifest["tables"].values() for p in t.get("parts", [])}
    for path in out_dir.glob("*/*.parquet*"):
        rel = f"{path.parent.name}/{path.name}"
        if rel not in known:
            path.unlink(missing_ok=True)


# ---------------------------------------------------------------- exporting one table


class _PartWriter:
    """Writes batches into table/part-N.parquet files (temp name first), splitting every PART_ROWS rows.

    Parquet encoding runs on a background thread (pyarrow releases the GIL) while the next batch is fetched;
    the queue is bounded, so memory stays at a few batches.
    """

    def __init__(self, out_dir: Path, table: str, schema: pa.Schema, first_part: int) -> None:
        self.dir = out_dir / table
        self.table = table
        self.schema = schema
        self.next_part = first_part
        self.writer: pq.ParquetWriter | None = None
        self.rows_in_part = 0
        self.pending: list[tuple[Path, Path]] = []
        self.rows = 0
        self.queue: queue.Queue[pa.RecordBatch | None] = queue.Queue(maxsize=3)
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        if self.error is not None:
            raise self.error
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name=f"export-{self.table}", daemon=True)
            self.thread.start()
        self.rows += batch.num_rows
        self.queue.put(batch)

    def _run(self) -> None:
        while True:
            batch = self.queue.get()
            if batch is None:
                return
            if self.error is not None:
                continue  # drain so the producer never blocks
            try:
                if self.writer is None or self.rows_in_part >= PART_ROWS:
                    self._roll()
                assert self.writer is not None
                self.writer.write_batch(batch)
                self.rows_in_part += batch.num_rows
            except BaseException as exc:
                self.error = exc

    def _roll(self) -> None:
        self._close_current()
        self.dir.mkdir(parents=True, exist_ok=True)
        final = self.dir / f"part-{self.next_part}.parquet"
        self.next_part += 1
        tmp = final.with_name(final.name + ".tmp")
        self.pending.append((tmp, final))
        self.writer = pq.ParquetWriter(tmp, self.schema, compression="zstd", compression_level=1)
        self.rows_in_part = 0

    def _close_current(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def _finish(self) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.thread = None
        self._close_current()

    def commit(self) -> list[str]:
        """Renames the finished temp files into place; the manifest adopts them afterwards."""
        self._finish()
        if self.error is not None:
            raise self.error
        names = []
        for tmp, final in self.pending:
            os.replace(tmp, final)
            names.append(f"{self.table}/{final.name}")
        return names

    def abort(self) -> None:
        try:
            self._finish()
        finally:
            for tmp, _ in self.pending:
                tmp.unlink(missing_ok=True)
            self.pending = []
            self.rows = 0
            self.error = None


def _files_changed_deriver() -> Any:
    """Number of files each execution changed, computed once at export with the very expression of the
    store's impact view (`continuous.analytics.duck.FILES_CHANGED`): queries never re-parse the JSON."""
    import duckdb
    from continuous.analytics.duck import FILES_CHANGED

    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                             "autoload_known_extensions": False})
    sql = f"SELECT {FILES_CHANGED.format(a='artifacts')} AS n FROM artifacts_batch"

    def derive(batch: pa.RecordBatch) -> pa.Array:
        con.register("artifacts_batch", pa.Table.from_batches([batch.select(["artifacts"])]))
        try:
            result = con.sql(sql).to_arrow_table()
        finally:
            con.unregister("artifacts_batch")
        return result.column("n").combine_chunks().cast(pa.float64())

    return derive


def _row_hash(values: list[Any]) -> str:
    return hashlib.blake2b(repr(values).encode(), digest_size=12).hexdigest()


def _key_text(values: list[Any]) -> str:
    return values[0] if len(values) == 1 and isinstance(values[0], str) else json.dumps(values, default=str)


def _table_columns(table: sa.Table) -> list[list[str]]:
    return [[c.name, str(arrow_type(c.type))] for c in table.columns]


def _stream(conn: sa.Connection, stmt: sa.Select[Any], names: list[str],
            types: list[pa.DataType]) -> Iterator[pa.RecordBatch]:
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
            if not rows:
                continue
            columns = list(zip(*rows, strict=True))
            arrays = [_to_arrow(col, typ) for col, typ in zip(columns, types, strict=True)]
            yield pa.RecordBatch.from_arrays(arrays, names=names)
    finally:
        result.close()


def _export_table(conn: sa.Connection, table: sa.Table, out_dir: Path, state: dict[str, Any] | None,
                  seq: int, dialect: str) -> tuple[TableReport, dict[str, Any], list[str]]:
    """Returns the report, the table's new manifest entry and the files it made obsolete."""
    cols = list(table.columns)
    names = [c.name for c in cols]
    types = [arrow_type(c.type) for c in cols]
    derive = _files_changed_deriver() if table.name == EXECUTIONS and "artifacts" in names else None
    extra = [pa.field(FILES_CHANGED_COLUMN, pa.float64())] if derive else []
    schema = pa.schema([pa.field(n, t) for n, t in zip(names, types, strict=True)]
                       + extra + [pa.field(EXPORT_COLUMN, pa.int64())])
    pk = [c.name for c in table.primary_key.columns]
    wm_col = next((c for c in WATERMARK_CANDIDATES if c in names), None)
    incremental = bool(pk) and wm_col is not None and table.name not in SNAPSHOT_TABLES
    mode = "incremental" if incremental else "snapshot"
    column_spec = _table_columns(table) + [[f.name, str(f.type)] for f in extra]
    first_part = int(state["next_part"]) if state else 0  # part names are never reused
    if state is not None and (state.get("columns") != column_spec or state.get("mode") != mode):
        state = None  # schema changed (a migration ran): export the table afresh
    exprs = [_select_expr(c, dialect) for c in cols]
    writer = _PartWriter(out_dir, table.name, schema, first_part)
    report = TableReport(table.name, mode)
    seq_array_cache: dict[int, pa.Array] = {}

    def with_seq(batch: pa.RecordBatch) -> pa.RecordBatch:
        n = batch.num_rows
        if n not in seq_array_cache:
            seq_array_cache[n] = pa.array([seq] * n, pa.int64())
        derived = [derive(batch)] if derive else []
        return pa.RecordBatch.from_arrays([*batch.columns, *derived, seq_array_cache[n]], schema=schema)

    try:
        if not incremental:
            entry, obsolete = _snapshot(conn, table, exprs, names, types, state, writer, with_seq)
        else:
            assert wm_col is not None
            entry, obsolete = _incremental(conn, table, exprs, names, types, pk, wm_col, state, writer,
                                           with_seq)
        files = writer.commit()
    except BaseException:
        writer.abort()
        raise
    entry.update({"mode": mode, "columns": column_spec, "primary_key": pk, "next_part": writer.next_part})
    entry["parts"] = [p for p in entry.get("parts", []) if p not in obsolete] + files
    report.rows_written = writer.rows
    report.files_written = files
    report.total_rows = int(entry.get("rows", 0))
    return report, entry, obsolete


def _snapshot(conn: sa.Connection, table: sa.Table, exprs: list[Any], names: list[str],
              types: list[pa.DataType], state: dict[str, Any] | None, writer: _PartWriter,
              with_seq: Any) -> tuple[dict[str, Any], list[str]]:
    order = list(table.primary_key.columns) or [exprs[0]]
    stmt = sa.select(*exprs).order_by(*order)
    digest = hashlib.blake2b(digest_size=16)
    rows = 0
    for batch in _stream(conn, stmt, names, types):  # written as read (bounded memory), dropped if unchanged
        digest.update(repr(batch.to_pylist()).encode())
        writer.write(with_seq(batch))
        rows += batch.num_rows
    content = digest.hexdigest()
    if state is not None and state.get("hash") == content:
        writer.abort()
        return dict(state), []
    obsolete = list(state.get("parts", [])) if state else []
    return {"hash": content, "rows": rows, "parts": [], "dedup": False}, obsolete


def _incremental(conn: sa.Connection, table: sa.Table, exprs: list[Any], names: list[str],
                 types: list[pa.DataType], pk: list[str], wm_col: str, state: dict[str, Any] | None,
                 writer: _PartWriter, with_seq: Any) -> tuple[dict[str, Any], list[str]]:
    import pyarrow.compute as pc

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
                chunk = older_open[i:i + OPEN_ID_CHUNK]
                statements.append(sa.select(*exprs).where(sa.cast(key_col, sa.Text).in_(chunk),
                                                          wm < bind(lower)))
    running_max = old_wm
    window: dict[str, tuple[str, dt.datetime | None, bool]] = {}  # key -> hash, watermark value, open
    changed_existing = False
    written = 0
    for stmt in statements:
        for batch in _stream(conn, stmt, names, types):
            wm_arr = batch.column(wm_idx)
            batch_max = pc.max(wm_arr).as_py()
            if batch_max is not None and (running_max is None or batch_max > running_max):
                running_max = batch_max
            # rows that need a look one by one: possibly known, still open, or in the grace window
            if running_max is None:
                need = pa.array([True] * batch.num_rows)
            else:
                need = pc.greater_equal(wm_arr, pa.scalar(running_max - GRACE, wm_arr.type))
                if old_wm is not None:
                    need = pc.or_(need, pc.less_equal(wm_arr, pa.scalar(old_wm, wm_arr.type)))
                need = pc.fill_null(need, True)
            if open_idx is not None:
                need = pc.or_(need, pc.is_null(batch.column(open_idx)))
            idx = pc.indices_nonzero(need).to_pylist()
            if idx:
                keep = [True] * batch.num_rows
                sub = batch.take(pa.array(idx, pa.int64())).to_pylist()
                for i, row in zip(idx, sub, strict=True):
                    values = [row[n] for n in names]
                    key = _key_text([values[j] for j in pk_idx])
                    h = _row_hash(values)
                    if known.get(key) == h:
                        keep[i] = False
                    elif key in known:
                        changed_existing = True
                    window[key] = (h, values[wm_idx], open_idx is not None and values[open_idx] is None)
                if not all(keep):
                    batch = batch.filter(pa.array(keep))
                if running_max is not None and len(window) > 4 * BATCH_ROWS:
                    prune = running_max - GRACE
                    window = {k: v for k, v in window.items() if v[2] or v[1] is None or v[1] >= prune}
            if batch.num_rows:
                writer.write(with_seq(batch))
                written += batch.num_rows
    floor = running_max - GRACE if running_max is not None else None
    new_remembered = {k: h for k, (h, w, is_open) in window.items()
                      if not is_open and (floor is None or w is None or w >= floor)}
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


def _export_table_in_process(url: str, name: str, out_dir: Path, state: dict[str, Any] | None,
                             seq: int) -> tuple[TableReport, dict[str, Any], list[str]]:
    """One table's export in a worker process (its own engine): the biggest table runs beside the others."""
    engine = sa.create_engine(url)
    try:
        table = sa.Table(name, sa.MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            return _export_table(conn, table, out_dir, state, seq, engine.dialect.name)
    finally:
        engine.dispose()


def export(url: str | None = None, *, repo: Path | None = None, out: Path | None = None,
           engine: sa.Engine | None = None, parallel: bool = True) -> ExportReport:
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
                raise RunFailed(f"cannot read the tracking database {masked}: "
                                f"{mask_url(str(exc).splitlines()[0])}") from None
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

                    pool = stack.enter_context(ProcessPoolExecutor(
                        max_workers=1, mp_context=multiprocessing.get_context("spawn")))
                    future = pool.submit(_export_table_in_process, worker_url, offloaded, out_dir,
                                         manifest["tables"].get(offloaded), seq)
                with engine.connect() as conn:
                    for table in tables:
                        if table.name != offloaded:
                            results[table.name] = _export_table(conn, table, out_dir,
                                                                manifest["tables"].get(table.name), seq,
                                                                engine.dialect.name)
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
                manifest = {"version": MANIFEST_VERSION, "exports": seq if fresh else manifest.get("exports", seq),
                            "database": masked, "exported_at": now.isoformat(), "tables": new_tables,
                            "source_stamp": stamp}
                _write_atomic(out_dir / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
            for rel in obsolete_all:
                (out_dir / rel).unlink(missing_ok=True)
    finally:
        if store is not None:
            store.close()
    return ExportReport(out_dir, masked, reports, time.perf_counter() - started)

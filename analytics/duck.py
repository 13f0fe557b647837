"""A DuckDB connection over an export directory: one view per exported table, named like the store's table.

The connection is in-memory and sandboxed: extensions are never installed or auto-loaded (no network), and
after the views are created the only files DuckDB may touch are those under the export directory, with the
configuration locked, so even a query that slipped past `analytics query`'s statement check cannot read the
rest of the machine. The store's two views are recreated in DuckDB under the same names, with the same
definitions as migration 0001 (see `IMPACT_VIEW` and `HEALTH_VIEW`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
from continuous.common.errors import UserError

MANIFEST = "manifest.json"
EXPORT_COLUMN = "_export"

_DUCK_TYPES = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "double": "DOUBLE",
    "bool": "BOOLEAN",
    "timestamp[us, tz=UTC]": "TIMESTAMPTZ",
    "timestamp[us]": "TIMESTAMP",
    "date32[day]": "DATE",
    "binary": "BLOB",
}

# number of files an execution changed, exactly as the store's sys_scenario_impact_view computes it; the
# export evaluates it once per execution into the derived column _files_changed
FILES_CHANGED = """(CASE
  WHEN json_type({a}, '$.files_changed') IN ('UBIGINT', 'BIGINT', 'DOUBLE')
    THEN CAST(json_extract({a}, '$.files_changed') AS DOUBLE)
  WHEN json_type({a}, '$.files') = 'ARRAY' THEN json_array_length({a}, '$.files')
  WHEN json_type({a}, '$.files') = 'OBJECT' THEN
      COALESCE(CASE WHEN json_type({a}, '$.files.created') = 'ARRAY'
                    THEN json_array_length({a}, '$.files.created') END, 0)
    + COALESCE(CASE WHEN json_type({a}, '$.files.modified') = 'ARRAY'
                    THEN json_array_length({a}, '$.files.modified') END, 0)
    + COALESCE(CASE WHEN json_type({a}, '$.files.deleted') = 'ARRAY'
                    THEN json_array_length({a}, '$.files.deleted') END, 0)
  WHEN {a} IS NOT NULL THEN 0
END)"""

IMPACT_VIEW = """
CREATE VIEW sys_scenario_impact_view AS
SELECT
    s.scenario_id,
    s.name,
    s.object_type,
    COALESCE(json_array_length(s.dependencies), 0) AS direct_dependencies,
    COUNT(e.id) AS total_executions,
    AVG(date_diff('microsecond', e.started_at, e.completed_at) / 1e6) AS avg_duration_seconds,
    AVG(e._files_changed) AS avg_files_changed
FROM sys_scenarios s
LEFT JOIN sys_scenario_executions e ON e.scenario_id = s.scenario_id AND e.kind = 'scenario'
WHERE s.archived_at IS NULL
GROUP BY s.scenario_id, s.name, s.object_type, s.dependencies
"""

HEALTH_VIEW = """
CREATE VIEW sys_scenario_health_view AS
SELECT
    object_type,
    COUNT(*) AS total_scenarios,
    AVG(automation_level * 1.0) AS avg_automation,
    SUM(CASE WHEN automation_level >= 80 THEN 1 ELSE 0 END) AS highly_automated,
    SUM(CASE WHEN automation_level = 0 THEN 1 ELSE 0 END) AS manual_only
FROM sys_scenarios
WHERE archived_at IS NULL
GROUP BY object_type
"""


def no_export_error(export_dir: Path) -> UserError:
    return UserError(
        f"no analytics export in {export_dir}",
        hint="run `continuous analytics export` first (it copies the tracking database to Parquet)",
    )


def read_manifest(export_dir: Path) -> dict[str, Any]:
    path = export_dir / MANIFEST
    if not path.exists():
        raise no_export_error(export_dir)
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(
            f"{path}: unreadable export manifest ({exc})",
            hint="delete the directory and run `continuous analytics export` again",
        ) from None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def table_view_sql(export_dir: Path, name: str, entry: dict[str, Any]) -> str:
    parts = [str(export_dir / p) for p in entry.get("parts", [])]
    if not parts:
        cols = ", ".join(
            f"CAST(NULL AS {_DUCK_TYPES.get(t, 'VARCHAR')}) AS {_quote(c)}" for c, t in entry.get("columns", [])
        )
        return f"CREATE VIEW {_quote(name)} AS SELECT {cols} WHERE false"
    files = "[" + ", ".join(_literal(p) for p in parts) + "]"
    source = f"read_parquet({files}, union_by_name = true)"
    pk = entry.get("primary_key") or []
    if entry.get("dedup") and pk:
        keys = ", ".join(_quote(k) for k in pk)
        return (
            f"CREATE VIEW {_quote(name)} AS SELECT * EXCLUDE ({EXPORT_COLUMN}) FROM {source} "
            f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {EXPORT_COLUMN} DESC) = 1"
        )
    return f"CREATE VIEW {_quote(name)} AS SELECT * EXCLUDE ({EXPORT_COLUMN}) FROM {source}"


def connect(export_dir: Path, *, sandbox: bool = True) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the export's tables (and the store's two views) registered by name."""
    manifest = read_manifest(export_dir)
    tables: dict[str, Any] = manifest.get("tables", {})
    if "sys_scenario_executions" not in tables:
        raise no_export_error(export_dir)
    con = duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        },
    )
    con.execute("SET TimeZone = 'UTC'")
    for name, entry in sorted(tables.items()):
        con.execute(table_view_sql(export_dir, name, entry))
    if "sys_scenarios" in tables:
        con.execute(IMPACT_VIEW)
        con.execute(HEALTH_VIEW)
    if sandbox:
        con.execute(f"SET allowed_directories = [{_literal(str(export_dir.resolve()) + '/')}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    return con


def available_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    sql = "SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY view_name"
    rows = con.execute(sql).fetchall()
    return [r[0] for r in rows]

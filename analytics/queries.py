"""The analytics questions, each one DuckDB query over the exported tables.

Conventions shared by every query (and stated in docs/analytics.md, "Queries"):
- an *execution* is a `kind = 'scenario'` row (a `run` row only wraps a plan), filtered by its `started_at`;
- *finished* = success, failed, rolled_back or interrupted; success rate = successes / finished;
- durations are `completed_at - started_at` of finished executions, in seconds;
- files changed are counted exactly as the store's `sys_scenario_impact_view` counts them (the export derives
  `_files_changed` once per execution with the view's own expression);
- automation level over time = the mean declared `automation_level` of the scenarios executed, per execution;
- a rollback is an event (`sys_execution_events`), not an outcome: a successful execution rolled back later stays
  a success with its own duration, and is counted again under `rolled_back`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
from continuous.analytics.duck import available_tables
from continuous.common.errors import UserError
from continuous.common.status import FAILED, FINISHED

PERIODS = ("day", "week", "month")
# step names the engine gives to precondition and validation checks (configuration errors caught)
CONFIG_CHECK_STEP = r"(?i)^\s*(precondition|validat|check)"
CHECKS = "ops_standard_checks"  # one row per standard per `continuous check`


@dataclass(frozen=True)
class Filters:
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    object_type: str | None = None
    scenario: str | None = None

    def describe(self) -> str:
        parts = []
        if self.since:
            parts.append(f"since {self.since.isoformat()}")
        if self.until:
            parts.append(f"until {self.until.isoformat()}")
        if self.object_type:
            parts.append(f"object type {self.object_type}")
        if self.scenario:
            parts.append(f"scenario {self.scenario}")
        return ", ".join(parts)


@dataclass
class QueryResult:
    title: str
    columns: list[str]
    rows: list[tuple[Any, ...]]
    notes: list[str] = field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        return [{c: _plain(v) for c, v in zip(self.columns, row, strict=True)} for row in self.rows]

    def pairs(self) -> dict[str, Any]:
        """A two-column (name, value) result as a mapping."""
        return {str(row[0]): _plain(row[1]) for row in self.rows}

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "columns": self.columns, "rows": self.records(), "notes": self.notes}


def _plain(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return (v if v.tzinfo else v.replace(tzinfo=dt.UTC)).isoformat()  # exported times are UTC
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return round(v, 4)
    if hasattr(v, "is_finite"):  # Decimal
        return float(v)
    return v


_RELATIVE = re.compile(r"^(\d+)\s*([hdwm])$")


def parse_when(text: str | None, *, option: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """`2026-01-31`, `2026-01-31T12:00`, or relative `12h`, `7d`, `4w`, `3m` (months of 30 days) ago; UTC."""
    if text is None or text == "":
        return None
    now = now or dt.datetime.now(dt.UTC)
    m = _RELATIVE.match(text.strip().lower())
    if m:
        n, unit = int(m.group(1)), m.group(2)
        delta = {
            "h": dt.timedelta(hours=n),
            "d": dt.timedelta(days=n),
            "w": dt.timedelta(weeks=n),
            "m": dt.timedelta(days=30 * n),
        }[unit]
        return now - delta
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"{option} {text!r}: not a date",
            hint="use an ISO date (2026-01-31, 2026-01-31T12:00) or an age such as 7d, 4w, 12h, 3m",
        ) from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# ---------------------------------------------------------------- the execution relation


def utc_naive(d: dt.datetime) -> dt.datetime:
    """Exported timestamps are naive UTC; parameters are bound the same way."""
    return d.astimezone(dt.UTC).replace(tzinfo=None) if d.tzinfo else d


def _exec_where(f: Filters, alias: str = "e") -> tuple[str, list[Any]]:
    clauses = [f"{alias}.kind = 'scenario'"]
    params: list[Any] = []
    if f.since:
        clauses.append(f"{alias}.started_at >= ?")
        params.append(utc_naive(f.since))
    if f.until:
        clauses.append(f"{alias}.started_at < ?")
        params.append(utc_naive(f.until))
    if f.scenario:
        clauses.append(f"{alias}.scenario_id = ?")
        params.append(f.scenario)
    if f.object_type:
        clauses.append("COALESCE(s.object_type, 'unknown') = ?")
        params.append(f.object_type)
    return " AND ".join(clauses), params


def _ex_cte(f: Filters, *, files: bool = False, events: bool = False) -> tuple[str, list[Any]]:
    where, params = _exec_where(f)
    finished = ", ".join(f"'{s}'" for s in FINISHED)
    files_col = ", e._files_changed AS files_changed" if files else ""
    rolled_col = (
        ", e.id IN (SELECT execution_id FROM sys_execution_events WHERE kind = 'rollback') AS rolled_back"
        if events
        else ", false AS rolled_back"
    )
    sql = f"""ex AS (
  SELECT e.id, e.scenario_id, e.status, e.started_at, e.completed_at, e.error_details,
         COALESCE(s.object_type, 'unknown') AS object_type, s.automation_level, s.manual_effort_seconds,
         CASE WHEN e.status IN ({finished}) AND e.completed_at IS NOT NULL
              THEN date_diff('microsecond', e.started_at, e.completed_at) / 1e6 END AS duration_s
         {files_col}{rolled_col}
  FROM sys_scenario_executions e
  LEFT JOIN sys_scenarios s ON s.scenario_id = e.scenario_id
  WHERE {where}
)"""
    return sql, params


Rows = list[tuple[Any, ...]]


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], Rows]:
    cur = con.execute(sql, list(params))
    columns = [d[0] for d in cur.description or []]
    return columns, [tuple(r) for r in cur.fetchall()]


def _require_executions(con: duckdb.DuckDBPyConnection, f: Filters) -> int:
    cte, params = _ex_cte(f)
    n = int(con.execute(f"WITH {cte} SELECT count(*) FROM ex", params).fetchone()[0])  # type: ignore[index]
    if n == 0:
        found = con.execute("SELECT count(*) FROM sys_scenario_executions WHERE kind = 'scenario'").fetchone()
        total = int(found[0]) if found else 0
        if total == 0:
            raise UserError(
                "no scenario executions in the analytics export",
                hint="run scenarios (continuous run ...), then `continuous analytics export`",
            )
        raise UserError(
            f"no executions match ({f.describe()}); the export holds {total}",
            hint="widen --since/--until or check --scenario/--object-type",
        )
    return n


# ---------------------------------------------------------------- trends


def trends(con: duckdb.DuckDBPyConnection, f: Filters, *, by: str = "week") -> QueryResult:
    if by not in PERIODS:
        raise UserError(f"--by {by!r}: expected one of {', '.join(PERIODS)}")
    _require_executions(con, f)
    cte, params = _ex_cte(f, files=True, events=_has_events(con))
    failed = ", ".join(f"'{s}'" for s in FAILED)
    sql = f"""WITH {cte}
SELECT CAST(date_trunc('{by}', started_at) AS DATE) AS period,
       count(*) AS executions,
       count(*) FILTER (WHERE status = 'success') AS successes,
       count(*) FILTER (WHERE status IN ({failed})) AS failures,
       count(*) FILTER (WHERE status = 'success' AND rolled_back) AS rolled_back,
       count(*) FILTER (WHERE status = 'success')
         / NULLIF(count(*) FILTER (WHERE duration_s IS NOT NULL), 0) AS success_rate,
       quantile_cont(duration_s, 0.5) AS median_seconds,
       quantile_cont(duration_s, 0.9) AS p90_seconds,
       CAST(COALESCE(sum(files_changed), 0) AS BIGINT) AS files_changed,
       avg(automation_level) AS automation_level
FROM ex GROUP BY 1 ORDER BY 1"""
    cols, rows = _fetch(con, sql, params)
    return QueryResult(f"Trends per {by}", cols, rows)


# ---------------------------------------------------------------- impact and health


def impact(con: duckdb.DuckDBPyConnection, f: Filters) -> QueryResult:
    """The store's sys_scenario_impact_view, computed in DuckDB, over the executions in the time range."""
    clauses = ["s.archived_at IS NULL"]
    params: list[Any] = []
    join = ["e.scenario_id = s.scenario_id", "e.kind = 'scenario'"]
    if f.since:
        join.append("e.started_at >= ?")
        params.append(utc_naive(f.since))
    if f.until:
        join.append("e.started_at < ?")
        params.append(utc_naive(f.until))
    if f.scenario:
        clauses.append("s.scenario_id = ?")
        params.append(f.scenario)
    if f.object_type:
        clauses.append("s.object_type = ?")
        params.append(f.object_type)
    sql = f"""
SELECT s.scenario_id, s.name, s.object_type,
       COALESCE(json_array_length(s.dependencies), 0) AS direct_dependencies,
       COUNT(e.id) AS total_executions,
       AVG(date_diff('microsecond', e.started_at, e.completed_at) / 1e6) AS avg_duration_seconds,
       AVG(e._files_changed) AS avg_files_changed
FROM sys_scenarios s
LEFT JOIN sys_scenario_executions e ON {" AND ".join(join)}
WHERE {" AND ".join(clauses)}
GROUP BY s.scenario_id, s.name, s.object_type, s.dependencies
ORDER BY total_executions DESC, s.scenario_id"""
    cols, rows = _fetch(con, sql, params)
    if not rows:
        raise _no_scenarios(f)
    return QueryResult("Scenario impact", cols, rows)


def health(con: duckdb.DuckDBPyConnection, f: Filters) -> QueryResult:
    """The store's sys_scenario_health_view, plus the executions and success rate of each object type."""
    clauses = ["archived_at IS NULL"]
    params: list[Any] = []
    if f.scenario:
        clauses.append("scenario_id = ?")
        params.append(f.scenario)
    if f.object_type:
        clauses.append("object_type = ?")
        params.append(f.object_type)
    cte, ex_params = _ex_cte(f)
    sql = f"""WITH {cte},
h AS (
  SELECT object_type, COUNT(*) AS total_scenarios, AVG(automation_level * 1.0) AS avg_automation,
         SUM(CASE WHEN automation_level >= 80 THEN 1 ELSE 0 END) AS highly_automated,
         SUM(CASE WHEN automation_level = 0 THEN 1 ELSE 0 END) AS manual_only
  FROM sys_scenarios WHERE {" AND ".join(clauses)} GROUP BY object_type
),
x AS (
  SELECT object_type, count(*) AS executions,
         count(*) FILTER (WHERE status = 'success') / NULLIF(count(duration_s), 0) AS success_rate
  FROM ex GROUP BY object_type
)
SELECT h.*, COALESCE(x.executions, 0) AS executions, x.success_rate
FROM h LEFT JOIN x USING (object_type) ORDER BY h.object_type"""
    cols, rows = _fetch(con, sql, [*ex_params, *params])
    if not rows:
        raise _no_scenarios(f)
    notes = ["scenario counts describe the current rule base; --since/--until only filter the executions"]
    return QueryResult("Scenario health by object type", cols, rows, notes)


def _no_scenarios(f: Filters) -> UserError:
    if f.scenario or f.object_type:
        return UserError(
            f"no scenarios match ({f.describe()})",
            hint="check --scenario / --object-type against `continuous scenarios list`",
        )
    return UserError(
        "no scenarios in the analytics export",
        hint="run `continuous registry sync`, then `continuous analytics export`",
    )


# ---------------------------------------------------------------- failures and slow spots

# A failure message reduced to its shape, so the same error from different runs groups together.
_NORMALISE_SQL = r"""trim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
    {m},
    '[0-9a-fA-F]{{8}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{12}}', '<uuid>', 'g'),
    '(~|\.{{1,2}})?(/[A-Za-z0-9_.@+-]+)+/?|([A-Za-z0-9_.@+-]+/)+[A-Za-z0-9_.@+-]*', '<path>', 'g'),
    '\b(0x[0-9a-fA-F]+|[0-9a-fA-F]{{7,}})\b', '<hex>', 'g'),
    '[0-9]+(\.[0-9]+)?', '<n>', 'g'),
    '\s+', ' ', 'g'))"""

# the line of a (possibly multi-line) output that says what went wrong: the first that looks like an error,
# else the last non-empty one
_HEADLINE_SQL = r"""(CASE WHEN {m} IS NULL THEN '' ELSE COALESCE(
    list_filter(string_split({m}, chr(10)),
        lambda x: regexp_matches(x, '(?i)(error|fail|exception|denied|not found|refused|invalid)'))[1],
    list_filter(string_split({m}, chr(10)), lambda x: trim(x) <> '')[-1], '') END)"""


def normalise_sql(expr: str) -> str:
    headline = _HEADLINE_SQL.format(m=expr)
    return f"left({_NORMALISE_SQL.format(m=headline)}, 200)"


def failures(con: duckdb.DuckDBPyConnection, f: Filters, *, limit: int = 20) -> QueryResult:
    _require_executions(con, f)
    cte, params = _ex_cte(f)
    msg = "COALESCE(NULLIF(trim(st.output), ''), ex.error_details, '')"
    sql = f"""WITH {cte},
fs AS (
  SELECT ex.scenario_id, st.step_name, {normalise_sql(msg)} AS error, st.started_at, ex.id AS execution_id
  FROM sys_scenario_step_executions st JOIN ex ON ex.id = st.execution_id
  WHERE st.status = 'failed'
)
SELECT scenario_id, step_name, error, count(*) AS failures, count(DISTINCT execution_id) AS executions,
       max(started_at) AS last_seen
FROM fs GROUP BY 1, 2, 3 ORDER BY failures DESC, scenario_id, step_name, error LIMIT ?"""
    cols, rows = _fetch(con, sql, [*params, limit])
    notes = [] if rows else ["no failed steps in this range"]
    return QueryResult("Top failures (scenario, step, normalised error)", cols, rows, notes)


def slowest(con: duckdb.DuckDBPyConnection, f: Filters, *, limit: int = 10) -> list[QueryResult]:
    _require_executions(con, f)
    cte, params = _ex_cte(f)
    sql_s = f"""WITH {cte}
SELECT scenario_id, count(duration_s) AS executions, quantile_cont(duration_s, 0.5) AS median_seconds,
       quantile_cont(duration_s, 0.9) AS p90_seconds, max(duration_s) AS max_seconds
FROM ex WHERE duration_s IS NOT NULL GROUP BY 1 ORDER BY p90_seconds DESC, scenario_id LIMIT ?"""
    sql_t = f"""WITH {cte},
sd AS (
  SELECT ex.scenario_id, st.step_name,
         date_diff('microsecond', st.started_at, st.completed_at) / 1e6 AS seconds
  FROM sys_scenario_step_executions st JOIN ex ON ex.id = st.execution_id
  WHERE st.completed_at IS NOT NULL AND st.status <> 'skipped'
)
SELECT scenario_id, step_name, count(*) AS executions, quantile_cont(seconds, 0.5) AS median_seconds,
       quantile_cont(seconds, 0.9) AS p90_seconds, max(seconds) AS max_seconds
FROM sd GROUP BY 1, 2 ORDER BY p90_seconds DESC, scenario_id, step_name LIMIT ?"""
    c1, r1 = _fetch(con, sql_s, [*params, limit])
    c2, r2 = _fetch(con, sql_t, [*params, limit])
    return [QueryResult("Slowest scenarios (by p90)", c1, r1), QueryResult("Slowest steps (by p90)", c2, r2)]


# ---------------------------------------------------------------- the spec's success metrics


def metrics(con: duckdb.DuckDBPyConnection, f: Filters) -> QueryResult:
    _require_executions(con, f)
    cte, params = _ex_cte(f)
    failed = ", ".join(f"'{s}'" for s in FAILED)
    unfiltered = f == Filters()
    # step rows belong to scenario executions only, so without filters no join is needed
    steps_from = (
        "sys_scenario_step_executions st"
        if unfiltered
        else "sys_scenario_step_executions st SEMI JOIN ex ON ex.id = st.execution_id"
    )
    saved = "status = 'success' AND manual_effort_seconds IS NOT NULL AND duration_s IS NOT NULL"
    row = con.execute(
        f"""WITH {cte},
a AS (
  SELECT count(*) AS executions,
         count(*) FILTER (WHERE status = 'success') AS successes,
         count(*) FILTER (WHERE status IN ({failed})) AS failures,
         avg(manual_effort_seconds - duration_s) FILTER (WHERE {saved}) AS time_saved_per_execution_s,
         sum(manual_effort_seconds - duration_s) FILTER (WHERE {saved}) AS time_saved_total_s,
         count(*) FILTER (WHERE status = 'success' AND manual_effort_seconds IS NOT NULL)
           AS executions_with_manual_effort,
         avg(automation_level) AS automation_percentage
  FROM ex
),
s AS (
  SELECT count(*) FILTER (WHERE st.status = 'success') AS manual_steps_avoided,
         count(*) FILTER (WHERE st.status = 'failed' AND regexp_matches(st.step_name, '{CONFIG_CHECK_STEP}'))
           AS configuration_errors_caught
  FROM {steps_from}
),
weeks AS (
  SELECT date_trunc('week', started_at) AS week, count(*) AS n, avg(automation_level) AS automation
  FROM ex GROUP BY 1
),
w AS (
  SELECT avg(n) AS scenarios_per_week, count(*) AS weeks,
         arg_max(automation, week) - arg_min(automation, week) AS automation_growth_points,
         min(week) AS first_week, max(week) AS last_week
  FROM weeks
)
SELECT a.executions, a.successes, a.failures, a.time_saved_per_execution_s, a.time_saved_total_s,
       a.executions_with_manual_effort, s.manual_steps_avoided, s.configuration_errors_caught,
       w.scenarios_per_week, w.weeks, a.automation_percentage, w.automation_growth_points, w.first_week,
       w.last_week
FROM a, s, w
""",
        params,
    ).fetchone()
    assert row is not None
    names = [
        "executions",
        "successes",
        "failures",
        "time_saved_per_execution_s",
        "time_saved_total_s",
        "executions_with_manual_effort",
        "manual_steps_avoided",
        "configuration_errors_caught",
        "scenarios_per_week",
        "weeks",
        "automation_percentage",
        "automation_growth_points",
        "first_week",
        "last_week",
    ]
    values = dict(zip(names, row, strict=True))
    values["rolled_back"] = _rolled_back_successes(con, f)
    notes: list[str] = []
    if values["executions_with_manual_effort"] == 0:
        notes.append("time saved: not available — no executed scenario declares manual_effort_seconds")
    compliance, note = _standards_compliance(con, f)
    values["standards_compliance_rate"] = compliance
    notes.append(note)
    rows = [(k, v) for k, v in values.items()]
    return QueryResult("Success metrics", ["metric", "value"], rows, notes)


def _has_events(con: duckdb.DuckDBPyConnection) -> bool:
    """Exports made before the store recorded events have no events table."""
    return "sys_execution_events" in available_tables(con)


def _rolled_back_successes(con: duckdb.DuckDBPyConnection, f: Filters) -> int:
    """Successful executions that were rolled back later (a rollback event; the success still counts)."""
    cte, params = _ex_cte(f, events=_has_events(con))
    row = con.execute(
        f"WITH {cte} SELECT count(*) FILTER (WHERE status = 'success' AND rolled_back) FROM ex", params
    ).fetchone()
    return int(row[0]) if row else 0


def _standards_compliance(con: duckdb.DuckDBPyConnection, f: Filters | None = None) -> tuple[float | None, str]:
    """The share of standard checks that passed (`continuous check` records one row per standard), over the
    checks in the --since/--until window."""
    if CHECKS not in available_tables(con):
        return None, "standards compliance rate: not available yet (no `continuous check` results in the export)"
    where, params = [], []
    if f is not None and f.since is not None:
        where.append("checked_at >= ?")
        params.append(utc_naive(f.since))
    if f is not None and f.until is not None:
        where.append("checked_at < ?")
        params.append(utc_naive(f.until))
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    row = con.execute(
        f"""SELECT count(*) FILTER (WHERE status = 'pass'), count(*), count(DISTINCT check_id)
            FROM {CHECKS} {clause}""",
        params,
    ).fetchone()
    assert row is not None
    passed, total, checks = row
    if not total:
        if where:
            return None, "standards compliance rate: no `continuous check` results in this period"
        return None, "standards compliance rate: not available yet (no `continuous check` results in the export)"
    return passed / total, f"standards compliance: {passed} of {total} standard checks passed ({checks} check runs)"


# ---------------------------------------------------------------- ad-hoc read-only SQL

_ALLOWED = {"SELECT", "EXPLAIN"}


def run_query(con: duckdb.DuckDBPyConnection, sql: str, *, limit: int | None = None) -> QueryResult:
    """One read-only statement (SELECT/WITH/FROM/DESCRIBE/SHOW/SUMMARIZE/EXPLAIN) over the exported tables."""
    text = sql.strip().rstrip(";").strip()
    if not text:
        raise UserError(
            "empty query", hint='e.g. continuous analytics query "SELECT count(*) FROM sys_scenario_executions"'
        )
    try:
        statements = duckdb.extract_statements(text)
    except duckdb.Error as exc:
        raise UserError(f"cannot parse the query: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise UserError(f"expected exactly one statement, got {len(statements)}", hint="run one SELECT at a time")
    st = statements[0]
    kind = st.type.name
    if kind not in _ALLOWED:
        raise UserError(
            f"only read-only queries are allowed, not {kind}",
            hint="use SELECT, WITH, FROM, DESCRIBE, SHOW, SUMMARIZE or EXPLAIN; the export is read-only",
        )
    if kind == "EXPLAIN":
        inner = re.sub(r"(?is)^\s*explain\s+(analy[sz]e\s+)?", "", text)
        inner_types = [s.type.name for s in duckdb.extract_statements(inner)] if inner else []
        if inner_types != ["SELECT"]:
            raise UserError("only EXPLAIN of a SELECT is allowed")
    try:
        cur = con.execute(text)
        columns = [d[0] for d in cur.description or []]
        rows = cur.fetchmany(limit) if limit else cur.fetchall()
    except duckdb.CatalogException as exc:
        message = _first_line(exc)
        hint = "available tables: " + ", ".join(available_tables(con))
        raise UserError(f"query failed: {message}", hint=hint) from None
    except duckdb.PermissionException as exc:
        raise UserError(
            f"query refused: {_first_line(exc)}", hint="queries may only read the exported tables"
        ) from None
    except duckdb.Error as exc:
        raise UserError(f"query failed: {_first_line(exc)}") from None
    return QueryResult("Query", columns, [tuple(r) for r in rows])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

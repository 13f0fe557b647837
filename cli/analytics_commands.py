"""`continuous analytics ...`: export the tracking store to Parquet and ask DuckDB about it.

Only typer and the standard library at module level; DuckDB, SQLAlchemy and matplotlib load inside the
commands that need them. DuckDB is in the default install; matplotlib (the charts) is the `charts` extra.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from continuous.cli.output import command, console, print_json
from continuous.common.humanize import duration
from continuous.common.humanize import value as _cell

analytics_app = typer.Typer(
    help="Trends, impact, health, failures and success metrics over the execution history (DuckDB over a "
    "Parquet export of the tracking database).",
    no_args_is_help=True,
)

JSON_OPT = typer.Option(False, "--json", help="Print the result as JSON.")
DIR_OPT = typer.Option(
    None,
    "--dir",
    help="Export directory to read (default: <git-common-dir>/continuous/analytics, where `analytics export` writes).",
)
SINCE_OPT = typer.Option(None, "--since", help="Only executions started at or after: 2026-01-31, 7d, 4w.")
UNTIL_OPT = typer.Option(None, "--until", help="Only executions started before this date or age.")
TYPE_OPT = typer.Option(None, "--object-type", help="Only scenarios of this object type (database, ui, ...).")
SCENARIO_OPT = typer.Option(None, "--scenario", help="Only this scenario id.")
REFRESH_OPT = typer.Option(
    False,
    "--refresh",
    help="Run `analytics export` first, even when the export is current "
    "(the default export is refreshed by itself when stale).",
)


def register(app: typer.Typer) -> None:
    app.add_typer(analytics_app, name="analytics")


EXTRA_MODULES = {"duckdb": "duckdb"}  # default dependencies: a missing one means a broken install
CHART_MODULES = {"matplotlib": "matplotlib"}  # the `charts` extra


def _missing(modules: dict[str, str]) -> list[str]:
    import importlib.util

    return [pkg for pkg, module in modules.items() if importlib.util.find_spec(module) is None]


@analytics_app.callback()
@command
def _needs_duckdb() -> None:
    """Say so before any command when DuckDB is missing (a broken or partial install), rather than a traceback."""
    from continuous.common.errors import UserError

    missing = _missing(EXTRA_MODULES)
    if missing:
        raise UserError(
            f"the analytics commands need {', '.join(missing)}, which is missing from this environment",
            hint="reinstall continuous (pip install --force-reinstall continuous), or install it: pip install "
            f"{' '.join(missing)}",
        )


def _needs_charts(what: str) -> None:
    """Charts are the `charts` extra; say so before any work is done."""
    from continuous.common.errors import UserError

    missing = _missing(CHART_MODULES)
    if missing:
        raise UserError(
            f"{what} needs {', '.join(missing)}, which the default install leaves out",
            hint="install the charts extra: pip install 'continuous[charts]' (into a pipx install: pipx inject "
            f"continuous {' '.join(missing)}; uv tool: uv tool install --with {' '.join(missing)} continuous)",
        )


def _out(text: str) -> None:
    sys.stdout.write(text.rstrip("\n") + "\n")


def _export_dir(directory: Path | None) -> Path:
    if directory is not None:
        return directory
    from continuous.analytics.paths import default_export_dir

    return default_export_dir(Path.cwd())


def _connect(directory: Path | None, refresh: bool) -> Any:
    """DuckDB over the export. The default export is brought up to date first when the store changed since
    (incrementally; nothing is done while it is current); an export directory given with --dir is read as it
    is, unless --refresh asks for an export into it."""
    from continuous.analytics import duck

    path = _export_dir(directory)
    if refresh:
        from continuous.analytics.export import export

        export(repo=Path.cwd(), out=path)
    elif directory is None:
        from continuous.analytics.export import refresh_if_stale

        refresh_if_stale(repo=Path.cwd())
    return duck.connect(path)


def _filters(since: str | None, until: str | None, object_type: str | None, scenario: str | None) -> Any:
    from continuous.analytics.queries import Filters, parse_when
    from continuous.common.errors import UserError

    start, end = parse_when(since, option="--since"), parse_when(until, option="--until")
    f = Filters(start, end, object_type, scenario)
    if f.since and f.until and f.since >= f.until:
        raise UserError("--since must be before --until")
    return f


def _show(result: Any) -> None:
    from rich.table import Table

    table = Table(title=result.title, title_justify="left")
    for c in result.columns:
        numeric = any(isinstance(r[result.columns.index(c)], int | float) for r in result.rows[:20])
        width = max((len(_cell(r[result.columns.index(c)], c)) for r in result.rows[:50]), default=1)
        table.add_column(
            c.removesuffix("_seconds").replace("_", " "),
            justify="right" if numeric else "left",
            overflow="fold",
            min_width=width if width <= 16 else None,
        )  # short values never wrap
    for row in result.rows:
        table.add_row(*(_cell(v, c) for v, c in zip(row, result.columns, strict=True)))
    out = console()
    out.print(table)
    from rich.text import Text

    for note in result.notes:
        out.print(Text(note, style="dim"))


def _emit(results: list[Any], as_json: bool) -> None:
    if as_json:
        data = [r.to_json() for r in results]
        print_json(data[0] if len(data) == 1 else data)
        return
    for r in results:
        _show(r)


@analytics_app.command("export", help="Copy the tracking database to Parquet (incremental; only new rows).")
@command
def export_cmd(
    out: Path | None = typer.Option(
        None, "--out", help="Export directory (default: <git-common-dir>/continuous/analytics)."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    from continuous.analytics.export import export

    report = export(repo=Path.cwd(), out=out)
    if as_json:
        print_json(report.to_json())
        return
    changed = [t for t in report.tables if t.files_written]
    if not changed:
        _out(f"{report.out_dir}: up to date with {report.url_masked} (nothing new to export)")
        return
    _out(
        f"{report.out_dir}: exported {report.rows_written:,} rows into {report.files_written} files from "
        f"{report.url_masked} in {duration(report.seconds)}"
    )
    for t in changed:
        _out(f"  {t.table}: +{t.rows_written:,} rows ({t.mode}, {t.total_rows:,} in the export)")


@analytics_app.command(
    "trends", help="Executions, success rate, durations, files changed and automation level per day, week or month."
)
@command
def trends_cmd(
    by: str = typer.Option("week", "--by", help="day, week or month."),
    chart: Path | None = typer.Option(None, "--chart", help="Also draw the trends into this PNG file."),
    since: str | None = SINCE_OPT,
    until: str | None = UNTIL_OPT,
    object_type: str | None = TYPE_OPT,
    scenario: str | None = SCENARIO_OPT,
    directory: Path | None = DIR_OPT,
    refresh: bool = REFRESH_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    from continuous.analytics import queries

    if chart is not None:
        _needs_charts("--chart")
    con = _connect(directory, refresh)
    result = queries.trends(con, _filters(since, until, object_type, scenario), by=by)
    if chart is not None:
        from continuous.analytics.report import trends_png

        trends_png(result, chart, by=by)
        result.notes.append(f"chart written to {chart}")
    _emit([result], as_json)


@analytics_app.command(
    "impact",
    help="Per scenario: dependencies, executions, average duration and files "
    "changed (the store's sys_scenario_impact_view).",
)
@command
def impact_cmd(
    since: str | None = SINCE_OPT,
    until: str | None = UNTIL_OPT,
    object_type: str | None = TYPE_OPT,
    scenario: str | None = SCENARIO_OPT,
    directory: Path | None = DIR_OPT,
    refresh: bool = REFRESH_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    from continuous.analytics import queries

    con = _connect(directory, refresh)
    _emit([queries.impact(con, _filters(since, until, object_type, scenario))], as_json)


@analytics_app.command(
    "health",
    help="Per object type: scenarios, automation, executions and success rate (the store's sys_scenario_health_view).",
)
@command
def health_cmd(
    since: str | None = SINCE_OPT,
    until: str | None = UNTIL_OPT,
    object_type: str | None = TYPE_OPT,
    scenario: str | None = SCENARIO_OPT,
    directory: Path | None = DIR_OPT,
    refresh: bool = REFRESH_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    from continuous.analytics import queries

    con = _connect(directory, refresh)
    _emit([queries.health(con, _filters(since, until, object_type, scenario))], as_json)


@analytics_app.command("failures", help="Failing steps grouped by scenario, step and normalised error.")
@command
def failures_cmd(
    limit: int = typer.Option(20, "--limit", min=1, help="Show at most this many groups."),
    since: str | None = SINCE_OPT,
    until: str | None = UNTIL_OPT,
    object_type: str | None = TYPE_OPT,
    scenario: str | None = SCENARIO_OPT,
    directory: Path | None = DIR_OPT,
    refresh: bool = REFRESH_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    from continuous.analytics import queries

    con = _connect(directory, refresh)
    _emit([queries.failures(con, _filters(since, until, object_type, scenario), limit=limit)], as_json)


@analytics_app.command("slowest", help="The slowest scenarios and steps (median, p90, max seconds).")
@command
def slowest_cmd(
    limit: int = typer.Option(10, "--limit", min=1, help="Rows per table."),
    since: str | None = SINCE_OPT,
    until: str | None = UNTIL_OPT,
    object_type: str | None = TYPE_OPT,
    scenario: str | None = SCENARIO_OPT,
    directory: Path | None = DIR_OPT,
    refresh: bool = REFRESH_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    from continuous.analytics import queries

    con = _connect(directory, refresh)
    results = queries.slowest(con, _filters(since, until, object_type, scenario), limit=limit)
    if as_json:
        print_json({"scenarios": results[0].to_json(), "steps": results[1].to_json()})
        return
    _emit(results, False)


@analytics_app.command(
    "metrics",
    help="The success metrics: time saved, manual steps avoided, configuration "
    "errors caught, scenarios per week, automation and its growth.",
)
@command
def metrics_cmd(
    since: str | None = SINCE_OPT,
    until: str | None = UNTIL_OPT,
    object_type: str | None = TYPE_OPT,
    scenario: str | None = SCENARIO_OPT,
    directory: Path | None = DIR_OPT,
    refresh: bool = REFRESH_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    from continuous.analytics import queries

    con = _connect(directory, refresh)
    result = queries.metrics(con, _filters(since, until, object_type, scenario))
    if as_json:
        print_json({"metrics": result.pairs(), "notes": result.notes})
        return
    _emit([result], False)


@analytics_app.command(
    "query",
    help="Run one read-only SQL statement over the exported tables (DuckDB SQL; "
    "tables are named like the store's, e.g. sys_scenario_executions).",
)
@command
def query_cmd(
    sql: str = typer.Argument(..., help='e.g. "SELECT status, count(*) FROM sys_scenario_executions GROUP BY 1"'),
    limit: int = typer.Option(1000, "--limit", min=1, help="Return at most this many rows."),
    directory: Path | None = DIR_OPT,
    refresh: bool = REFRESH_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    from continuous.analytics import queries

    con = _connect(directory, refresh)
    _emit([queries.run_query(con, sql, limit=limit)], as_json)


@analytics_app.command("report", help="Write one standalone HTML page with trend charts and top failures.")
@command
def report_cmd(
    out: Path = typer.Option(Path("report.html"), "--out", help="HTML file to write."),
    by: str = typer.Option("week", "--by", help="day, week or month."),
    since: str | None = SINCE_OPT,
    until: str | None = UNTIL_OPT,
    object_type: str | None = TYPE_OPT,
    scenario: str | None = SCENARIO_OPT,
    directory: Path | None = DIR_OPT,
    refresh: bool = REFRESH_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    _needs_charts("`continuous analytics report` (its charts)")
    from continuous.analytics.report import build_report

    con = _connect(directory, refresh)
    path = build_report(con, _filters(since, until, object_type, scenario), out, by=by)
    if as_json:
        print_json({"report": str(path), "bytes": path.stat().st_size})
    else:
        _out(f"report written to {path} ({path.stat().st_size:,} bytes)")

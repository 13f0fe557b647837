"""Duration and risk estimates for the engine's dry-run, from the execution history when there is one.

Import-light on purpose (the engine imports this on every dry-run): DuckDB and the store load only inside
`estimate`. The analytics export is read when present (one filtered Parquet scan, milliseconds even at
millions of executions); otherwise the store's `scenario_stats`; otherwise the scenario's declared `estimate`
from the DSL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from continuous.common.humanize import duration

MIN_HISTORY = 3  # fewer finished executions than this are not a history yet


@dataclass(frozen=True)
class Estimate:
    seconds: float | None
    risk: Literal["low", "medium", "high", "unknown"]
    reasons: list[str] = field(default_factory=list)
    source: Literal["history", "dsl"] = "history"
    executions: int = 0
    failure_rate: float | None = None
    p90_seconds: float | None = None


def _risk(
    executions: int, failures: int, median: float | None, p90: float | None
) -> tuple[Literal["low", "medium", "high"], list[str], float]:
    rate = failures / executions if executions else 0.0
    reasons = [f"{failures} of {executions} finished executions failed ({100 * rate:.0f}%)"]
    level: Literal["low", "medium", "high"] = "low"
    if rate >= 0.2:
        level = "high"
    elif rate >= 0.05:
        level = "medium"
    if median and p90 and p90 > 4 * median:
        reasons.append(f"durations vary widely (p90 {duration(p90)} vs median {duration(median)})")
        if level == "low":
            level = "medium"
    return level, reasons, rate


def _from_export(scenario_id: str, export_dir: Path) -> Estimate | None:
    import json

    manifest_path = export_dir / "manifest.json"
    if not manifest_path.exists():
        return None
    entry = json.loads(manifest_path.read_text()).get("tables", {}).get("sys_scenario_executions", {})
    parts = [str(export_dir / p) for p in entry.get("parts", [])]
    if not parts:
        return None
    try:
        import duckdb
    except ImportError:  # a partial install without DuckDB: the store has the history too
        return None

    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        row = con.execute(
            """
            WITH e AS (
              SELECT status, date_diff('microsecond', started_at, completed_at) / 1e6 AS s
              FROM read_parquet(?) WHERE scenario_id = ? AND kind = 'scenario' AND completed_at IS NOT NULL
                AND status IN ('success', 'failed', 'rolled_back', 'interrupted')
            )
            SELECT count(*), count(*) FILTER (WHERE status <> 'success'),
                   quantile_cont(s, 0.5) FILTER (WHERE status = 'success'),
                   quantile_cont(s, 0.9) FILTER (WHERE status = 'success'),
                   quantile_cont(s, 0.5), quantile_cont(s, 0.9)
            FROM e""",
            [parts, scenario_id],
        ).fetchone()
    finally:
        con.close()
    if row is None or int(row[0]) < MIN_HISTORY:
        return None
    n, failures = int(row[0]), int(row[1])
    median = row[2] if row[2] is not None else row[4]
    p90 = row[3] if row[3] is not None else row[5]
    level, reasons, rate = _risk(n, failures, median, p90)
    reasons.insert(0, f"median of {n} past executions (analytics export)")
    return Estimate(float(median), level, reasons, "history", n, rate, None if p90 is None else float(p90))


def _from_store(scenario_id: str, store: Any) -> Estimate | None:
    stats = store.scenario_stats(scenario_id)
    if stats.executions < MIN_HISTORY or stats.median_seconds is None:
        return None
    level, reasons, rate = _risk(stats.executions, stats.failures, stats.median_seconds, stats.p90_seconds)
    reasons.insert(0, f"median of {stats.executions} past executions (tracking store)")
    return Estimate(float(stats.median_seconds), level, reasons, "history", stats.executions, rate, stats.p90_seconds)


def _open_existing_store(repo: Path | None) -> Any:
    from continuous.store import open_store
    from continuous.store.url import resolve_url

    resolved = resolve_url(None, repo=repo)
    if resolved.is_default and not Path(resolved.url.removeprefix("sqlite:///")).exists():
        return None
    return open_store(resolved.url, repo=repo)


def estimate(
    scenario_id: str,
    *,
    repo: Path | None = None,
    export_dir: Path | None = None,
    store: Any = None,
    scenario: Any = None,
) -> Estimate | None:
    """How long `scenario_id` should take and how risky it is; None when nothing is known.

    `scenario` (the DSL model) supplies the declared estimate when there is no history.
    """
    from continuous.common.errors import ContinuousError

    try:
        if export_dir is None:
            from continuous.analytics.paths import default_export_dir

            export_dir = default_export_dir(repo)
        found = _from_export(scenario_id, export_dir)
        if found is not None:
            return found
    except ContinuousError:
        pass
    opened = None
    try:
        if store is None:
            store = opened = _open_existing_store(repo)
        if store is not None:
            found = _from_store(scenario_id, store)
            if found is not None:
                return found
    except ContinuousError:
        pass
    finally:
        if opened is not None:
            opened.close()
    declared = getattr(scenario, "estimate_seconds", None)
    if declared is not None:
        return Estimate(float(declared), "unknown", ["declared in the scenario (no execution history yet)"], "dsl")
    return None

"""Charts for people: a standalone HTML report and a PNG of the trends.

Charts are drawn with matplotlib's Agg/SVG backends (no display, no network) and embedded inline, so the HTML
file is one self-contained page that opens anywhere, offline, with no script and no external asset.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from pathlib import Path
from typing import Any

import duckdb
from continuous.analytics import queries as q
from continuous.common.errors import UserError
from continuous.common.humanize import value

COLORS = {"ok": "#2e7d32", "bad": "#c62828", "line": "#1565c0", "p90": "#ef6c00", "auto": "#6a1b9a"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _series(trend: q.QueryResult) -> dict[str, list[Any]]:
    cols = {c: [row[i] for row in trend.rows] for i, c in enumerate(trend.columns)}
    return cols


def _fig_executions(ax: Any, s: dict[str, list[Any]], by: str) -> None:
    periods = s["period"]
    ok = [int(v) for v in s["successes"]]
    bad = [int(v) for v in s["failures"]]
    other = [int(e) - o - b for e, o, b in zip(s["executions"], ok, bad, strict=True)]
    width = {"day": 0.8, "week": 5.5, "month": 24}[by]
    ax.bar(periods, ok, width=width, color=COLORS["ok"], label="success")
    ax.bar(periods, bad, width=width, bottom=ok, color=COLORS["bad"], label="failed / rolled back")
    if any(other):
        ax.bar(
            periods,
            other,
            width=width,
            bottom=[a + b for a, b in zip(ok, bad, strict=True)],
            color="#9e9e9e",
            label="running / skipped",
        )
    ax.set_title(f"Executions per {by}")
    top = max((int(v) for v in s["executions"]), default=0)
    ax.set_ylim(0, max(1, top) * 1.3)  # headroom for the legend
    ax.legend(loc="upper left", fontsize=8, ncol=3)


def _fig_success(ax: Any, s: dict[str, list[Any]], by: str) -> None:
    rates = [None if r is None else 100 * float(r) for r in s["success_rate"]]
    ax.plot(s["period"], rates, color=COLORS["ok"], marker="o", markersize=3)
    ax.set_ylim(0, 100)
    ax.set_ylabel("%")
    ax.set_title(f"Success rate per {by}")


def _fig_duration(ax: Any, s: dict[str, list[Any]], by: str) -> None:
    ax.plot(s["period"], s["median_seconds"], color=COLORS["line"], marker="o", markersize=3, label="median")
    ax.plot(s["period"], s["p90_seconds"], color=COLORS["p90"], marker="o", markersize=3, label="p90")
    ax.set_ylabel("seconds")
    ax.set_title(f"Duration per {by}")
    ax.legend(loc="upper left", fontsize=8)


def _fig_automation(ax: Any, s: dict[str, list[Any]], by: str) -> None:
    ax.fill_between(s["period"], [float(v or 0) for v in s["automation_level"]], color=COLORS["auto"], alpha=0.35)
    ax.plot(s["period"], s["automation_level"], color=COLORS["auto"], marker="o", markersize=3)
    ax.set_ylim(0, 100)
    ax.set_ylabel("%")
    ax.set_title(f"Automation level per {by}")


CHARTS = (_fig_executions, _fig_success, _fig_duration, _fig_automation)


def _style(ax: Any) -> None:
    ax.grid(True, alpha=0.3)
    for label in ax.get_xticklabels():
        label.set_rotation(30)
        label.set_ha("right")
        label.set_fontsize(8)


def trends_png(trend: q.QueryResult, path: Path, *, by: str) -> Path:
    """The four trend charts in one 2x2 PNG."""
    plt = _pyplot()
    s = _series(trend)
    fig, axes = plt.subplots(2, 2, figsize=(12, 7.5), dpi=100)
    for draw, ax in zip(CHARTS, axes.flat, strict=True):
        draw(ax, s, by)
        _style(ax)
    fig.tight_layout()
    try:
        fig.savefig(path, format="png")
    except OSError as exc:
        raise UserError(f"{path}: cannot write the chart ({exc.strerror})") from None
    finally:
        plt.close(fig)
    return path


def _svg(draw: Any, s: dict[str, list[Any]], by: str) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=100)
    draw(ax, s, by)
    _style(ax)
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    text = buf.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>", "", text[text.index("<svg") :], flags=re.S)
    return text


def _table(result: q.QueryResult) -> str:
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in result.columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(value(v, c))}</td>" for v, c in zip(row, result.columns, strict=True))
        + "</tr>"
        for row in result.rows
    )
    if not result.rows:
        body = f'<tr><td colspan="{len(result.columns)}">none</td></tr>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 24px; color: #212121;
       background: #fafafa; }
h1 { margin-bottom: 4px; } .sub { color: #616161; margin-top: 0; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 16px 0; }
.card { background: #fff; border: 1px solid #e0e0e0; border-radius: 8px; padding: 10px 16px;
        min-width: 150px; }
.card .v { font-size: 24px; font-weight: 600; } .card .k { color: #616161; font-size: 12px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 12px; }
.chart { background: #fff; border: 1px solid #e0e0e0; border-radius: 8px; padding: 6px; }
.chart svg { width: 100%; height: auto; }
table { border-collapse: collapse; background: #fff; width: 100%; font-size: 13px; margin-bottom: 16px; }
th, td { border: 1px solid #e0e0e0; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eceff1; }
"""


def build_report(
    con: duckdb.DuckDBPyConnection, f: q.Filters, out: Path, *, by: str = "week", source: str = ""
) -> Path:
    trend = q.trends(con, f, by=by)
    s = _series(trend)
    metrics = dict(q.metrics(con, f).rows)
    top = q.failures(con, f, limit=15)
    slow = q.slowest(con, f, limit=10)[0]
    rate = metrics["successes"] / max(1, metrics["successes"] + metrics["failures"])
    cards = [
        ("executions", f"{metrics['executions']:,}"),
        ("success rate", f"{100 * rate:.1f}%"),
        ("scenarios per week", value(metrics["scenarios_per_week"], "")),
        (
            "automation",
            value(metrics["automation_percentage"], "") + "%" if metrics["automation_percentage"] is not None else "–",
        ),
        ("time saved", _hours(metrics["time_saved_total_s"])),
        ("config errors caught", f"{metrics['configuration_errors_caught']:,}"),
    ]
    cards_html = "".join(
        f'<div class="card"><div class="v">{html.escape(v)}</div><div class="k">{html.escape(k)}</div></div>'
        for k, v in cards
    )
    charts_html = "".join(f'<div class="chart">{_svg(draw, s, by)}</div>' for draw in CHARTS)
    scope = f.describe() or "all executions"
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>continuous — scenario analytics</title>
<style>{CSS}</style></head>
<body>
<h1>Scenario analytics</h1>
<p class="sub">{html.escape(scope)} · per {by} · generated {generated}{html.escape(source)}</p>
<div class="cards">{cards_html}</div>
<div class="charts">{charts_html}</div>
<h2>Top failures</h2>
{_table(top)}
<h2>Slowest scenarios</h2>
{_table(slow)}
</body></html>
"""
    tmp = out.with_name(out.name + ".tmp")
    try:
        tmp.write_text(page)
        tmp.replace(out)
    except OSError as exc:
        raise UserError(f"{out}: cannot write the report ({exc.strerror})") from None
    return out


def _hours(seconds: Any) -> str:
    if seconds is None:
        return "–"
    return f"{float(seconds) / 3600:,.0f} h"

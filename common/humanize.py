"""Durations and table values written for people, one way everywhere: the CLI, the dry-run and run reports, the
living docs and the analytics report say the same thing about the same number.

Standard library only: the CLI imports this to print `--help`-cheap output.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def duration(seconds: float | None, *, missing: str = "unknown") -> str:
    """0.42s, 12s, 2m, 2m05s, 1h, 1h03m: exact below a second, then whole seconds, and a part that is zero is
    left out (`estimate 2m` reads as written in the DSL). Above an hour the seconds no longer matter."""
    if seconds is None:
        return missing
    if seconds < 1:
        return f"{seconds:.2f}s"
    whole = int(seconds + 0.5)  # half up, not to even: 2.5 s is 3s
    if whole < 60:
        return f"{whole}s"
    minutes, sec = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m" + (f"{sec:02d}s" if sec else "")
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h" + (f"{minutes:02d}m" if minutes else "")


def value(v: Any, column: str = "", *, missing: str = "–") -> str:
    """One cell of a query result: rates (a column named `*_rate`) as percentages, floats to two decimals below
    100 and one with thousands separators above, integers with separators, times to the minute, `*_seconds`
    columns as durations."""
    if v is None:
        return missing
    if column.endswith("_seconds") and isinstance(v, int | float) and not isinstance(v, bool):
        return duration(float(v))
    if isinstance(v, float):
        if column.endswith("_rate"):
            return f"{100 * v:.1f}%"
        return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.2f}"
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)

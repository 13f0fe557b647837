"""The one duration and value format of the CLI, the reports, the living docs and analytics."""

from __future__ import annotations

import datetime as dt

import pytest
from continuous.common.humanize import duration, value


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0.00s"),
        (0.421, "0.42s"),
        (1, "1s"),
        (2.5, "3s"),
        (59.4, "59s"),
        (59.6, "1m"),
        (60, "1m"),
        (125, "2m05s"),
        (3599, "59m59s"),
        (3600, "1h"),
        (3600 + 3 * 60 + 20, "1h03m"),
        (2 * 3600, "2h"),
        (30 * 3600 + 60, "30h01m"),
    ],
)
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_duration_missing_is_the_callers_word() -> None:
    assert duration(None) == "unknown"
    assert duration(None, missing="—") == "—"


def test_value() -> None:
    assert value(None) == "–"
    assert value(0.125, "failure_rate") == "12.5%"
    assert value(3.14159) == "3.14"
    assert value(1234.56) == "1,234.6"
    assert value(1234567) == "1,234,567"
    assert value(True) == "True"
    assert value(dt.datetime(2026, 1, 31, 9, 5, 59)) == "2026-01-31 09:05"
    assert value("create-table") == "create-table"

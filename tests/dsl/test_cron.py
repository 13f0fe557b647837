"""Cron expressions of `schedule` blocks are checked by croniter (what the worker schedules with), per field."""

from __future__ import annotations

import pytest
from continuous.common.errors import DslError
from continuous.dsl.parser import _cron_problem, parse_text


@pytest.mark.parametrize("expr", ["0 3 * * *", "*/15 * * * *", "0 3 * jan,jul mon-fri", "0 0 1-15/2 * 7", "30 2 L * *"])
def test_what_croniter_accepts_is_valid(expr: str) -> None:
    assert _cron_problem(expr) is None
    (schedule,) = parse_text(f'schedule s {{ cron "{expr}" docs }}')
    assert schedule.cron == expr


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ("0 3 * *", "expected 5 fields, got 4"),
        ("@daily", "expected 5 fields, got 1"),
        ("0 3 * * * 2030", "expected 5 fields, got 6"),
        ("61 * * * *", "minute: 61 is outside 0-59"),
        ("0 25 * * mon", "hour: 25 is outside 0-23"),
        ("0 3 32 * *", "day of month: 32 is outside 1-31"),
        ("0 3 * 13 *", "month: 13 is outside 1-12"),
        ("0 3 * * 8", "day of week: 8 is outside 0-7"),
        ("1-99 * * * *", "minute: 1-99 is outside 0-59"),
        ("*/0 * * * *", "minute: the step of '*/0' must be a number above 0"),
        ("0 3 * * sunday", "day of week: 'sunday' is not a number, name, range, list, step or *"),
    ],
)
def test_a_bad_expression_names_the_field(expr: str, problem: str) -> None:
    assert _cron_problem(expr) == problem
    with pytest.raises(DslError) as info:
        parse_text(f'schedule s {{ cron "{expr}" docs }}', "s.scn")
    assert f"invalid cron expression {expr!r}: {problem}" in str(info.value)

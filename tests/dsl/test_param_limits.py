"""Limits and ranges of parameter values, checked before anything runs (issue 12 §3): whole numbers have a range
(declared with `range LOW to HIGH`, else a 32-bit one), `port` parameters are 1–65535 (or the repository's
`port_range`), names have length limits, and Unicode control characters are refused in single-line text."""

from __future__ import annotations

from pathlib import Path

import pytest
from continuous.common.errors import UserError
from continuous.dsl.params import bind_params
from continuous.dsl.parser import parse_text
from continuous.dsl.validate import check_files

LIB = """
scenario nums {
  object infra
  summary "numbers"
  param count: int default 3
  param level: int range 1 to 10 default 5
  param port: port
  param web: port range 5000 to 5999 default 5180
  param text: string default ""
}
"""


@pytest.fixture
def nums():
    (scenario,) = parse_text(LIB, "nums.scn")
    return scenario


@pytest.mark.parametrize(
    ("named", "words"),
    [
        ({"count": "9" * 40}, ["count", "whole number between"]),
        ({"count": str(2**31)}, ["count", "between"]),
        ({"count": "-" + "1" * 5000}, ["count"]),
        ({"level": "11"}, ["level", "between 1 and 10"]),
        ({"level": "0"}, ["level", "between 1 and 10"]),
        ({"port": "70000"}, ["port", "between 1 and 65535"]),
        ({"port": "0"}, ["port", "between 1 and 65535"]),
        ({"port": "1" * 40}, ["port"]),
        ({"web": "3000"}, ["web", "between 5000 and 5999"]),
        ({"text": "a\u2028b"}, ["text", "U+2028"]),
        ({"text": "a\u2029b"}, ["text", "U+2029"]),
        ({"text": "a\x85b"}, ["text", "U+0085"]),
        ({"text": "a\x7fb"}, ["text", "U+007F"]),
        ({"text": "a\u202eb"}, ["text", "U+202E"]),
        ({"text": "a\tb"}, ["text", "U+0009"]),
    ],
)
def test_out_of_range_and_control_characters_are_refused(nums, named: dict[str, str], words: list[str]) -> None:
    with pytest.raises(UserError) as info:
        bind_params(nums, named=named)
    message = info.value.render()
    for word in words:
        assert word in message, message
    assert len(message) < 300


def test_values_in_range_are_accepted(nums) -> None:
    params = bind_params(nums, named={"count": "-5", "level": "10", "port": "65535", "web": "5999"})
    assert params == {"count": -5, "level": 10, "port": 65535, "web": 5999, "text": ""}


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("param n: int range 10 to 1", "empty"),
        ("param n: string range 1 to 10", "only whole numbers and ports"),
        ("param n: int range 1 to 10 default 11", "between 1 and 10"),
        ("param n: port range 0 to 10", "between 1 and 65535"),
        ("param n: port default 70000", "between 1 and 65535"),
        ("param n: int range 1 to 2 range 1 to 3", "twice"),
    ],
)
def test_bad_ranges_are_dsl_diagnostics(tmp_path: Path, text: str, word: str) -> None:
    path = tmp_path / "r.scn"
    path.write_text(f'scenario r {{\n  object infra\n  summary "x"\n  {text}\n}}\n')
    _, diagnostics = check_files([path])
    assert diagnostics and any(word in d.message for d in diagnostics), [d.message for d in diagnostics]


def test_the_formatter_keeps_a_range() -> None:
    from continuous.dsl.format import format_text

    out = format_text(LIB)
    assert "param level: int range 1 to 10 default 5" in out
    assert format_text(out) == out

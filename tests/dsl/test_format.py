"""The formatter: canonical, idempotent, meaning-preserving, and it keeps every comment."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from continuous.common.errors import DslError
from continuous.dsl.format import format_text
from continuous.dsl.loader import BUILTIN_LIBRARY, library_files
from continuous.dsl.model import _strip_locations
from continuous.dsl.parser import parse_text_lenient

HERE = Path(__file__).resolve().parent
FORMAT_FIXTURES = sorted((HERE / "fixtures" / "format").glob("*.scn"))
BUILTIN = library_files(BUILTIN_LIBRARY)
# Every error fixture that is syntactically valid also round-trips (their problems are semantic).
ERROR_FIXTURES = sorted((HERE / "fixtures" / "errors").glob("*.scn"))


def meaning(text: str) -> list[Any]:
    out = []
    items, _, ok = parse_text_lenient(text, "x.scn")
    assert ok
    for item in items:
        data = item.model_dump(mode="json")
        _strip_locations(data)
        out.append(data)
    return out


def comments(text: str) -> list[str]:
    from continuous.dsl._lalr_driver import _TOKENS

    found = []
    for skipped, _ in _TOKENS.findall(text):
        found.extend(re.findall(r"#[^\n]*", skipped))
    return [c.rstrip() for c in found]


def test_builtin_library_is_there() -> None:
    assert BUILTIN, "the built-in library has no .scn files"


@pytest.mark.parametrize("path", BUILTIN + FORMAT_FIXTURES, ids=lambda p: p.name)
def test_round_trip_and_idempotence(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    formatted = format_text(text, str(path))
    assert meaning(formatted) == meaning(text)
    assert format_text(formatted) == formatted
    assert comments(formatted) == comments(text) or sorted(comments(formatted)) == sorted(comments(text))


@pytest.mark.parametrize("path", ERROR_FIXTURES, ids=lambda p: p.name)
def test_error_fixtures_that_parse_round_trip(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    try:
        formatted = format_text(text)
    except DslError:
        return  # a syntax error fixture
    assert format_text(formatted) == formatted
    from continuous.dsl.parser import parse_text_lenient

    before, _, _ = parse_text_lenient(text)
    after, _, _ = parse_text_lenient(formatted)
    strip = [_dump(i) for i in before], [_dump(i) for i in after]
    assert strip[0] == strip[1]


def _dump(item: Any) -> Any:
    data = item.model_dump(mode="json")
    _strip_locations(data)
    return data


@pytest.mark.parametrize("path", FORMAT_FIXTURES, ids=lambda p: p.name)
def test_format_goldens(path: Path) -> None:
    expected = path.with_suffix(".expected")
    actual = format_text(path.read_text(encoding="utf-8"))
    if os.environ.get("CONTINUOUS_UPDATE_GOLDENS") == "1":
        expected.write_text(actual, encoding="utf-8")
    assert actual == expected.read_text(encoding="utf-8")


def test_layout_rules() -> None:
    text = 'scenario   a{object ui summary "x" param n :int default 3 step "s" run [ "a" ,"b" ] }'
    assert format_text(text) == (
        'scenario a {\n  object ui\n  summary "x"\n  param n: int default 3\n  step "s" run ["a", "b"]\n}\n'
    )


def test_comments_trail_or_lead() -> None:
    text = 'scenario a { # head\n object ui # why\n # lead\n summary "x" }\n'
    assert format_text(text) == ('scenario a {  # head\n  object ui  # why\n  # lead\n  summary "x"\n}\n')


def test_blank_lines_collapse_to_one_and_blocks_are_separated() -> None:
    text = (
        'import "x.scn"\nimport "y.scn"\nscenario a {\n object ui\n\n\n\n summary "x"\n}\n'
        'rule r { when a() then task "t" }'
    )
    assert format_text(text) == (
        'import "x.scn"\nimport "y.scn"\n\nscenario a {\n  object ui\n\n  summary "x"\n}\n\n'
        'rule r {\n  when a()\n  then task "t"\n}\n'
    )


def test_long_lists_wrap_after_commas() -> None:
    examples = ", ".join(f'"example number {i} is fairly long"' for i in range(6))
    formatted = format_text(f'scenario a {{ object ui summary "x" examples {examples} }}')
    lines = formatted.splitlines()
    assert lines[3].startswith('  examples "example number 0')
    assert lines[4].startswith('    "example number')
    assert max(len(line) for line in lines) <= 110


def test_triple_quoted_strings_are_kept_verbatim() -> None:
    text = 'scenario a { object ui summary "x" description """\n      odd   spacing\n  kept\n""" }'
    assert '"""\n      odd   spacing\n  kept\n"""' in format_text(text)


def test_syntax_errors_raise_dsl_error() -> None:
    with pytest.raises(DslError) as info:
        format_text("scenario a {", "broken.scn")
    assert info.value.diagnostics[0].file == "broken.scn"


def test_empty_file() -> None:
    assert format_text("") == ""
    assert format_text("# only a comment\n") == "# only a comment\n"


def test_windows_line_endings_become_unix() -> None:
    text = 'scenario a {\r\n  object ui # c\r\n  summary "x"\r\n}\r\n'
    assert format_text(text) == 'scenario a {\n  object ui  # c\n  summary "x"\n}\n'

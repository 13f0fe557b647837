"""The one SQL statement splitter, in both tempers: the schema reader's (never stops) and the sql step's (refuses)."""

from __future__ import annotations

import re

import pytest
from continuous.common.sqlsplit import SqlSplitError, split_statements


def split(text: str, strict: bool) -> list[tuple[str, int]]:
    return [(" ".join(s.split()), line) for s, line in split_statements(text, strict=strict)]


def test_semicolons_inside_quotes_comments_and_bodies_do_not_split() -> None:
    text = (
        "create table a (note text default 'x;y');\n"
        "-- a comment; with a semicolon\n"
        "create function f() returns void as $body$ begin; perform 1; end $body$ language plpgsql;\n"
        '/* block;\n comment */ select "odd;name" from a;'
    )
    assert split(text, strict=True) == [
        ("create table a (note text default 'x;y')", 1),
        ("create function f() returns void as $body$ begin; perform 1; end $body$ language plpgsql", 3),
        ('select "odd;name" from a', 5),
    ]
    assert split(text, strict=False) == split(text, strict=True)


def test_string_literals_keep_their_whitespace() -> None:
    [(stmt, _)] = list(split_statements("insert into t values ('a\n  b');", strict=True))
    assert stmt == "insert into t values ('a\n  b')"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("select 'open", "unterminated ' quote"),
        ("select 1; /* open", "unterminated /* comment"),
        ("do $x$ begin", "unterminated dollar quote $x$"),
        ("select (1;", "unbalanced '('"),
        ("select 1);", "unbalanced ')'"),
    ],
)
def test_strict_refuses_what_it_cannot_split(text: str, message: str) -> None:
    with pytest.raises(SqlSplitError, match=re.escape(message)):
        list(split_statements(text, strict=True))


def test_tolerant_reads_on_past_what_strict_refuses() -> None:
    assert split("select 1); select 2;", strict=False) == [("select 1)", 1), ("select 2", 1)]
    assert split("select 1;\nselect 'open; select 3", strict=False) == [("select 1", 1), ("select 'open; select 3", 2)]

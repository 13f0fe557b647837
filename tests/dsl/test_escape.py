"""The escaping filters, each checked by a real parser of its language: whatever the value, the parsed result is
the value itself and nothing else (issue 12 §3). TypeScript/JSX contexts are checked with TypeScript's own parser in
tests/scenarios/test_hostile_templates.py."""

from __future__ import annotations

import html.parser
import json
import sqlite3
import subprocess
import tomllib

import pytest
import yaml
from continuous.dsl.templating import render_string
from hypothesis import given, settings
from hypothesis import strategies as st

NASTY = [
    "plain",
    "",
    'it\'s "quoted" `ticked`',
    "*/ alert(1); /*",
    "</title><script>alert(1)</script>",
    "{injected} ${x} $(rm -rf ~) `id` ; ls | cat & wait",
    "-- '; DROP TABLE users; --",
    "back\\slash \\n \\u0041 \\' \\\"",
    "é ü 漢字 🙂",
    "line\nbreak\r\n\u2028\u2029 tab\t",
    '", "injected": "1',
    "<!-- --> --!> ]]>",
    "select",
    "Mixed Case",
]
# Text users can type (any printable character), plus the hostile list.
TEXT = st.one_of(st.sampled_from(NASTY), st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
SETTINGS = settings(max_examples=150, deadline=None)


def r(expr: str, value: str) -> str:
    return render_string("{{ v | " + expr + " }}", {"v": value})


@SETTINGS
@given(TEXT)
def test_json_string_is_json_toml_and_yaml(value: str) -> None:
    literal = r("json_string", value)
    assert json.loads(literal) == value
    assert tomllib.loads(f"k = {literal}\n") == {"k": value}
    assert yaml.safe_load(f"k: {literal}\n") == {"k": value}
    assert json.loads(f'{{"a": {literal}, "b": 1}}') == {"a": value, "b": 1}


@SETTINGS
@given(TEXT)
def test_js_string_is_a_json_compatible_literal(value: str) -> None:
    literal = r("js_string", value)
    assert json.loads(literal) == value
    assert "<" not in literal and ">" not in literal and "\u2028" not in literal


class _Collect(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_endtag(self, tag: str) -> None:
        self.tags.append("/" + tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@SETTINGS
@given(TEXT)
def test_html_text_and_attributes(value: str) -> None:
    doc = f"<title>{r('html', value)}</title><a title=\"{r('html', value)}\" x='{r('html', value)}'>t</a>"
    parser = _Collect()
    parser.feed(doc)
    parser.close()
    assert parser.tags == ["title", "/title", "a", "/a"]
    assert parser.attrs == [("title", value), ("x", value)]
    if "\r" not in value and "\x00" not in value:  # (HTML parsers normalise both)
        assert "".join(parser.text[:-1]) == value


@SETTINGS
@given(TEXT)
def test_jsx_text_holds_no_markup_or_braces(value: str) -> None:
    text = r("jsx_text", value)
    assert not set(text) & set("<>{}\"'")


def test_sql_literal_and_ident_on_sqlite() -> None:
    db = sqlite3.connect(":memory:")
    for value in [v for v in NASTY if "\x00" not in v and v]:
        assert db.execute(f"select {r('sql_literal', value)}").fetchone() == (value,)
        ident = r("sql_ident", value)
        db.execute(f"create table {ident} ({r('sql_ident', 'order')} text)")
        db.execute(f"insert into {ident} values ({r('sql_literal', value)})")
        assert db.execute(f"select * from {ident}").fetchall() == [(value,)]
        db.execute(f"drop table {ident}")
    assert r("sql_ident", "user_prefs") == "user_prefs"  # plain names stay bare (generated code is unchanged)
    assert r("sql_ident", "order") == '"order"'


@pytest.mark.postgres
def test_sql_literal_and_ident_on_postgresql(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        for value in [v for v in NASTY if v]:
            row = conn.execute(f"select {r('sql_literal', value)}".encode()).fetchone()  # type: ignore[call-overload]
            assert row == (value,)
            ident = r("sql_ident", value)
            conn.execute(f"create temporary table {ident} (x text)".encode())  # type: ignore[call-overload]
            conn.execute(f"drop table {ident}".encode())  # type: ignore[call-overload]
        conn.rollback()


def test_sql_ident_refuses_what_postgresql_would_cut() -> None:
    from continuous.common.errors import UserError

    with pytest.raises(UserError, match="63"):
        r("sql_ident", "a" * 64)


def test_shell_word_is_one_word_for_bash() -> None:
    for value in [v for v in NASTY if "\x00" not in v]:
        script = f"printf '%s\\0' {r('shell_word', value)}"
        out = subprocess.run(["bash", "-c", script], capture_output=True, check=True).stdout
        assert out.decode() == value + "\0", value


@SETTINGS
@given(TEXT)
def test_comment_stays_one_comment(value: str) -> None:
    text = r("comment", value)
    assert "*/" not in text and "-->" not in text and "--!>" not in text and "<!--" not in text
    assert not any(ch in text for ch in "\n\r\u2028\u2029\x85")
    # a Python `#` comment and an SQL `--` comment hold it on one line
    db = sqlite3.connect(":memory:")
    assert db.execute(f"select 1 -- {text}\n, 2").fetchone() == (1, 2)
    assert db.execute(f"select 1 /* {text} */ , 2").fetchone() == (1, 2)


@SETTINGS
@given(TEXT)
def test_md_text_is_one_line_without_markup(value: str) -> None:
    text = r("md_text", value)
    assert "\n" not in text
    for special in "<>`|[]*_":
        assert all(text[i - 1] == "\\" for i, ch in enumerate(text) if ch == special)

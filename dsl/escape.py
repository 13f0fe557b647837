"""Template filters that make a value safe in the language of the file it lands in.

A parameter validated by a pattern (an identifier) needs nothing more than its language's spelling; free text (a
description, a title, a reason, an example) can hold anything a user types, and must never end a comment, close a
string, open a tag or become code. Each filter below is exact for one context, so a template says where a value
goes, and the output means the same text the user gave:

- `comment`: inside any comment (`//`, `/* */`, `#`, `--`, `<!-- -->`): one line, `*/` and `-->` broken.
- `js_string`: a complete JS/TS string literal, quotes included (`<`, `>`, `&` as \\u escapes for <script>).
- `json_string`: a complete JSON string, which is also a TOML basic string and a YAML double-quoted scalar.
- `html`: HTML text or a quoted attribute value; also a JSX attribute string (it decodes the same entities).
- `jsx_text`: text between JSX tags: `html` plus `{` and `}` as entities.
- `sql_literal`: a complete SQL string literal, quotes included.
- `sql_ident`: an SQL identifier, double-quoted only when it must be (not a plain name, or a reserved word).
- `shell_word`: one word of a POSIX shell command line.
- `md_text`: inline Markdown (a list item, a table cell): one line, formatting characters escaped.
- `one_line`: any single-line context: line breaks and control characters become spaces.
"""

from __future__ import annotations

import json
import re
import shlex
from functools import lru_cache
from pathlib import Path
from typing import Any

from continuous.common.errors import UserError

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators (line terminators in JavaScript).
_BREAKS = re.compile("[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!~])")
_PLAIN_IDENT = re.compile(r"[a-z_][a-z0-9_]*")
MAX_IDENT_BYTES = 63  # PostgreSQL silently truncates longer identifiers


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def one_line(value: Any) -> str:
    """Line breaks, tabs and other control characters become spaces."""
    return _BREAKS.sub(" ", _text(value))


def comment(value: Any) -> str:
    """Text for inside a comment of any of the generated languages: one line, and no sequence that ends a
    block comment (`*/`) or an HTML comment (`-->`, `--!>`), or opens one (`<!--`)."""
    text = one_line(value).replace("*/", "*\\/")
    return text.replace("<!--", "<!- -").replace("--!>", "- -!>").replace("-->", "- ->")


def js_string(value: Any) -> str:
    """A double-quoted JavaScript/TypeScript string literal, also safe inside an HTML <script> element."""
    text = json.dumps(_text(value), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return _BREAKS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def json_string(value: Any) -> str:
    """A double-quoted string that is valid JSON, a TOML basic string and a YAML double-quoted scalar."""
    text = json.dumps(_text(value), ensure_ascii=False)
    return _BREAKS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def html(value: Any) -> str:
    """HTML text or a double- or single-quoted attribute value (also a JSX attribute string, which decodes
    the same entities)."""
    import markupsafe

    return str(markupsafe.escape(_text(value)))


def jsx_text(value: Any) -> str:
    """Text between JSX tags: HTML entities for the markup characters and for `{` `}` (an expression)."""
    return html(value).replace("{", "&#123;").replace("}", "&#125;")


def sql_literal(value: Any) -> str:
    """A single-quoted SQL string literal (standard_conforming_strings: a backslash is just a backslash)."""
    text = _text(value)
    if "\x00" in text:
        raise UserError("an SQL string cannot hold a NUL byte")
    return "'" + text.replace("'", "''") + "'"


@lru_cache(maxsize=1)
def sql_reserved() -> frozenset[str]:
    path = Path(__file__).resolve().parent / "data" / "sql_reserved.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


def sql_ident(value: Any) -> str:
    """An SQL identifier: bare when it is a plain lowercase name that is not a reserved word, else quoted."""
    text = _text(value)
    if not text or "\x00" in text:
        raise UserError(f"{text!r} cannot be an SQL identifier")
    if len(text.encode()) > MAX_IDENT_BYTES:
        raise UserError(
            f"SQL identifier {text[:40]!r}... is longer than {MAX_IDENT_BYTES} bytes (PostgreSQL would cut it)"
        )
    if _PLAIN_IDENT.fullmatch(text) and text not in sql_reserved():
        return text
    return '"' + text.replace('"', '""') + '"'


def shell_word(value: Any) -> str:
    """One word of a POSIX shell command line (quoted only when it needs to be)."""
    return shlex.quote(_text(value))


def md_text(value: Any) -> str:
    """Inline Markdown: one line, with the characters that start formatting, links, HTML or table cells
    backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(value))


ESCAPE_FILTERS = {
    "comment": comment,
    "js_string": js_string,
    "json_string": json_string,
    "html": html,
    "jsx_text": jsx_text,
    "sql_literal": sql_literal,
    "sql_ident": sql_ident,
    "shell_word": shell_word,
    "md_text": md_text,
    "one_line": one_line,
}

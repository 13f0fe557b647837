"""Where one SQL statement ends and the next begins: at a `;` outside quotes, dollar quotes, comments and parentheses.

Two readers need this with different tempers. The schema reader replays years of hand-written migrations and must
never stop on one it does not understand (`strict=False`: an unterminated quote or comment ends the file). An sql step
is about to run a migration against a database and must refuse one it cannot split (`strict=True`: `SqlSplitError`
names what is unbalanced).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_DOLLAR_TAG = re.compile(r"\$[A-Za-z_]*\$")


class SqlSplitError(ValueError):
    """The text cannot be split into statements: a quote, comment or parenthesis is left open."""


def split_statements(text: str, *, strict: bool) -> Iterator[tuple[str, int]]:
    """(statement text, line it starts on) for each statement, comments replaced by a space and the text otherwise
    as written (string literals are run, so their whitespace is kept)."""
    buf: list[str] = []
    i, n = 0, len(text)
    depth = 0
    line = 1
    start_line: int | None = None

    def skip_to(end: int, what: str) -> int:
        if end == -1:
            if strict:
                raise SqlSplitError(f"unterminated {what}")
            return n
        return end

    while i < n:
        c = text[i]
        if c == "-" and text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j == -1 else j
            buf.append(" ")
            continue
        if c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            end = skip_to(j, "/* comment") + (2 if j != -1 else 0)
            line += text.count("\n", i, end)
            i = end
            buf.append(" ")
            continue
        if c == "\n":
            line += 1
        if start_line is None and not c.isspace():
            start_line = line
        if c in "'\"":
            j = i + 1
            while True:
                j = text.find(c, j)
                if j == -1 or not text.startswith(c * 2, j):
                    break
                j += 2
            end = skip_to(j, f"{c} quote") + (1 if j != -1 else 0)
            line += text.count("\n", i, end)
            buf.append(text[i:end])
            i = end
            continue
        if c == "$":
            tag = _DOLLAR_TAG.match(text, i, min(n, i + 64))
            if tag:
                close = text.find(tag.group(0), tag.end())
                end = skip_to(close, f"dollar quote {tag.group(0)}") + (len(tag.group(0)) if close != -1 else 0)
                line += text.count("\n", i, end)
                buf.append(text[i:end])
                i = end
                continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                if strict:
                    raise SqlSplitError("unbalanced ')'")
                depth = 0
        if c == ";" and depth == 0:
            stmt = "".join(buf)
            if stmt.strip():
                yield stmt, start_line or line
            buf.clear()
            start_line = None
        else:
            buf.append(c)
        i += 1
    if depth != 0 and strict:
        raise SqlSplitError("unbalanced '('")
    stmt = "".join(buf)
    if stmt.strip():
        yield stmt, start_line or line

"""`continuous fmt`: one canonical layout for DSL files, keeping every comment.

The layout is derived from tokens and the parse tree only (never from the original spacing), so formatting is
idempotent: one statement per line, two-space indentation inside blocks, single spaces between words, none
inside brackets, one blank line between top-level blocks, and at most one blank line kept between statements.
Long lists (examples, aliases, tags, provides) wrap after a comma with a four-space continuation. Strings,
including triple-quoted ones, are copied byte for byte, so the parsed rule base is unchanged. Comments stay on
their line when they trail a statement; otherwise they are attached, on lines of their own, above the next statement.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

from continuous.common.errors import DslError

MAX_WIDTH = 110
INDENT = "  "
_BLOCKS = ("scenario", "discover", "standard", "schedule")
_WRAPPED = ("examples_stmt", "aliases_stmt", "tags_stmt", "provides_stmt")
_NO_SPACE_BEFORE = frozenset({",", ")", "]", ":", "("})
_NO_SPACE_AFTER = frozenset({"(", "["})


@dataclass
class _Comment:
    start: int
    end: int
    text: str
    used: bool = False


@dataclass
class _Unit:
    """One statement (or top-level item) to print: its span in the source and its rendered lines."""

    start: int
    end: int
    lines: list[str]
    kind: str = ""
    leading: list[tuple[bool, str]] = field(default_factory=list)  # (blank line before, comment)
    trailing: str | None = None
    blank_before: bool = False


class _Source:
    def __init__(self, text: str) -> None:
        from continuous.dsl._lalr_driver import _TOKENS

        self.text = text
        self.starts: list[int] = []
        self.tokens: list[str] = []
        self.comments: list[_Comment] = []
        for match in _TOKENS.finditer(text):
            skipped_start = match.start(1)
            skipped = match.group(1)
            if "#" in skipped:
                offset = 0
                for line in skipped.split("\n"):
                    hash_at = line.find("#")
                    if hash_at >= 0:
                        start = skipped_start + offset + hash_at
                        self.comments.append(
                            _Comment(start, skipped_start + offset + len(line), line[hash_at:].rstrip())
                        )
                    offset += len(line) + 1
            if match.group(2):
                self.starts.append(match.start(2))
                self.tokens.append(match.group(2))

    def tokens_in(self, start: int, end: int) -> list[str]:
        lo = bisect_left(self.starts, start)
        hi = bisect_left(self.starts, end)
        return self.tokens[lo:hi]

    def token_at_or_after(self, pos: int, value: str, end: int) -> int:
        i = bisect_left(self.starts, pos)
        while i < len(self.tokens) and self.starts[i] < end:
            if self.tokens[i] == value:
                return self.starts[i]
            i += 1
        return end

    def comments_in(self, start: int, end: int) -> list[_Comment]:
        return [c for c in self.comments if start <= c.start < end and not c.used]

    def blank_between(self, a: int, b: int) -> bool:
        return self.text.count("\n", a, b) >= 2


def join(tokens: list[str]) -> str:
    out: list[str] = []
    prev = ""
    for tok in tokens:
        if out and tok not in _NO_SPACE_BEFORE and prev not in _NO_SPACE_AFTER:
            out.append(" ")
        out.append(tok)
        prev = tok
    return "".join(out)


def _wrap(tokens: list[str], indent: str) -> list[str]:
    """Greedy fill after top-level commas; continuation lines get two more levels of indentation."""
    pieces: list[list[str]] = [[]]
    depth = 0
    for tok in tokens:
        pieces[-1].append(tok)
        depth += tok in ("(", "[") or -(tok in (")", "]"))
        if tok == "," and depth == 0:
            pieces.append([])
    texts = [join(p) for p in pieces if p]
    lines = [texts[0]]
    for piece in texts[1:]:
        if len(indent) + len(lines[-1]) + 1 + len(piece) <= MAX_WIDTH or "\n" in lines[-1]:
            lines[-1] += " " + piece
        else:
            lines.append(INDENT + piece)
    return lines


def format_text(text: str, filename: str = "<string>") -> str:
    """The canonical layout of one DSL file; raises DslError when the text does not parse."""
    from continuous.dsl.parser import _lark, _syntax_diagnostic
    from lark.exceptions import UnexpectedInput

    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        raise DslError([_syntax_diagnostic(exc, text, filename)]) from None
    src = _Source(text)
    units = [_item_unit(src, item) for item in tree.children]
    out: list[str] = []
    _emit(src, units, 0, len(text), "", out, top=True)
    result = "\n".join(out).rstrip("\n") + "\n"
    return result if result.strip() else ""


def _emit(src: _Source, units: list[_Unit], start: int, end: int, indent: str, out: list[str], *, top: bool) -> None:
    """Print units with their comments: trailing ones stay on the line, the others go above the next unit."""
    prev_end = start
    last_kind: str | None = None
    for unit in units:
        leading = src.comments_in(prev_end, unit.start)
        inner = src.comments_in(unit.start, unit.end)
        for c in (*leading, *inner):
            c.used = True
        group_start = leading[0].start if leading else unit.start
        if last_kind is not None and (
            src.blank_between(prev_end, group_start) or (top and _separated(last_kind, unit.kind))
        ):
            out.append("")
        for i, c in enumerate(leading):
            if i and src.blank_between(leading[i - 1].end, c.start):
                out.append("")
            out.append(indent + c.text)
        if leading and src.blank_between(leading[-1].end, unit.start):
            out.append("")
        out.extend(indent + c.text for c in inner)
        out.extend(indent + line for line in unit.lines)
        prev_end = unit.end
        last_kind = unit.kind
        after = src.comments_in(unit.end, end)
        if after and "\n" not in src.text[unit.end : after[0].start]:
            out[-1] += "  " + after[0].text
            after[0].used = True
            prev_end = after[0].end
    for c in src.comments_in(prev_end, end):
        if out and src.blank_between(prev_end, c.start) and last_kind is not None:
            out.append("")
        out.append(indent + c.text)
        c.used = True
        prev_end = c.end


def _separated(previous: str, kind: str) -> bool:
    """Top-level blocks are separated by one blank line; runs of imports and aliases stay together."""
    one_liners = ("import_stmt", "alias_stmt")
    return not (previous in one_liners and kind in one_liners)


def _span(node: Any) -> tuple[int, int]:
    return node.meta.start_pos, node.meta.end_pos


def _item_unit(src: _Source, item: Any) -> _Unit:
    start, end = _span(item)
    kind = item.data
    if kind in _BLOCKS or kind == "rule":
        return _Unit(start, end, _block_lines(src, item), kind)
    return _Unit(start, end, [join(src.tokens_in(start, end))], kind)


def _block_lines(src: _Source, node: Any) -> list[str]:
    start, end = _span(node)
    brace = src.token_at_or_after(start, "{", end)
    header = join(src.tokens_in(start, brace)) + " {"
    same_line = src.comments_in(brace, end)
    if same_line and "\n" not in src.text[brace : same_line[0].start]:
        header += "  " + same_line[0].text
        same_line[0].used = True
    close = end - 1
    if node.data == "rule":
        units = _rule_units(src, node, brace)
    else:
        units = []
        for child in node.children:
            if hasattr(child, "meta") and not getattr(child.meta, "empty", True):
                s, e = _span(child)
                tokens = src.tokens_in(s, e)
                lines = _wrap(tokens, INDENT) if child.data in _WRAPPED else [join(tokens)]
                units.append(_Unit(s, e, lines, child.data))
    body: list[str] = []
    _emit(src, units, brace + 1, close, INDENT, body, top=False)
    if not body and "#" not in header:
        return [header + "}"]
    return [header, *body, "}"]


def _rule_units(src: _Source, node: Any, brace: int) -> list[_Unit]:
    _, end = _span(node)
    when = src.token_at_or_after(brace, "when", end)
    conj = next(c for c in node.children if getattr(c, "data", None) == "conjunction")
    then = src.token_at_or_after(conj.meta.end_pos, "then", end)
    last = max(c.meta.end_pos for c in node.children if hasattr(c, "meta") and not c.meta.empty)
    return [
        _Unit(when, conj.meta.end_pos, [join(src.tokens_in(when, conj.meta.end_pos))], "when"),
        _Unit(then, last, [join(src.tokens_in(then, last))], "then"),
    ]

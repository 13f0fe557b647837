"""A lean LALR(1) driver over lark's own parse table for `grammar.lark`.

Lark's runtime spends most of its time building Token objects, a parse tree and position metadata that the
rule base then throws away; a 2,000-scenario library took several seconds that way. This driver reuses lark's
table (so `grammar.lark` stays the single source of truth), scans with one compiled regex and the same
contextual keyword rules as lark's contextual lexer, and calls the parser's builder callbacks directly on
reduce — no tree.

It only has to be right on input the grammar accepts: on any syntax error it raises `Miss` and the caller
re-parses with lark itself, which produces the detailed error (and the tree path is also the reference in the tests).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from lark import Token

if TYPE_CHECKING:
    from lark import Lark


class Miss(Exception):
    """The fast driver cannot parse this text; lark decides what is wrong."""


class Meta:
    """Position of the first token of a reduced rule (what the builder's `meta` argument needs)."""

    __slots__ = ("column", "line")

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column


class _Splice(list[Any]):
    """Children of an inlined helper rule (`_name` or lark's `__anon_star_N`), spliced into the parent."""


_NEWLINE = re.compile("\n")
_new_str = str.__new__
_new_meta = object.__new__
_DURATION = re.compile(r"\d+(ms|s|m|h|d)(\d+(ms|s|m|h))*")
_PUNCT = {
    "{": "LBRACE",
    "}": "RBRACE",
    "(": "LPAR",
    ")": "RPAR",
    ",": "COMMA",
    ":": "COLON",
    "=": "EQUAL",
    "[": "LSQB",
    "]": "RSQB",
}


@dataclass(frozen=True)
class _RuleInfo:
    size: int
    origin: str
    callback: str | None  # None: inlined helper rule, its children are spliced into the parent
    expand1: bool
    include: tuple[tuple[int, bool], ...]  # (index, splice) of the children that survive filtering

    @property
    def mode(self) -> int:
        """0: every child is kept as is; 1: some are dropped, none spliced; 2: some are spliced."""
        if any(splice for _, splice in self.include):
            return 2
        return 0 if [i for i, _ in self.include] == list(range(self.size)) else 1


@dataclass(frozen=True)
class Tables:
    actions: dict[int, dict[str, tuple[bool, Any]]]  # state -> terminal -> (shift?, next state | _RuleInfo)
    gotos: dict[int, dict[str, int]]
    start: int
    end: int
    keywords: dict[str, str]  # word -> keyword terminal name
    anchors: frozenset[str]


def build_tables(lark: Lark) -> Tables:
    from lark.parsers.lalr_analysis import Shift

    parse_table = lark.parser.parser.parser.parse_table
    infos: dict[int, _RuleInfo] = {}

    def info(rule: Any) -> _RuleInfo:
        key = id(rule)
        if key not in infos:
            include = tuple(
                (i, (not sym.is_term) and sym.name.startswith("_"))
                for i, sym in enumerate(rule.expansion)
                if rule.options.keep_all_tokens or not (sym.is_term and sym.filter_out)
            )
            name = rule.origin.name
            inline = name.startswith("_") and not rule.alias
            callback = None if inline else (rule.alias or rule.options.template_source or name)
            infos[key] = _RuleInfo(
                len(rule.expansion), name, callback, bool(rule.options.expand1 and not rule.alias), include
            )
        return infos[key]

    actions: dict[int, dict[str, tuple[bool, Any]]] = {}
    gotos: dict[int, dict[str, int]] = {}
    for state, row in parse_table.states.items():
        acts: dict[str, tuple[bool, Any]] = {}
        goto: dict[str, int] = {}
        for symbol, (action, arg) in row.items():
            if symbol.isupper() or symbol == "$END":
                acts[symbol] = (True, arg) if action is Shift else (False, info(arg))
            else:
                goto[symbol] = arg
        actions[state] = acts
        gotos[state] = goto
    keywords = {}
    anchors: set[str] = set()
    for term in lark.terminals:
        if term.pattern.type == "str" and re.fullmatch(r"[A-Za-z_]+", term.pattern.value):
            keywords[term.pattern.value] = term.name
    anchor = next((t for t in lark.terminals if t.name == "ANCHOR"), None)
    if anchor is not None:
        anchors = {w for w in ("before", "after") if re.fullmatch(anchor.pattern.to_regexp(), w)}
    return Tables(
        actions,
        gotos,
        parse_table.start_states["start"],
        parse_table.end_states["start"],
        keywords,
        frozenset(anchors),
    )


@lru_cache(maxsize=1)
def tables() -> Tables:
    from continuous.dsl.parser import _lark

    return build_tables(_lark())


def _word_maps(t: Tables) -> dict[int, tuple[dict[str, str], str]]:
    """Per parser state: keyword → terminal for the keywords it accepts, and what any other word becomes."""
    out = {}
    for state, acts in t.actions.items():
        words = {w: kw for w, kw in t.keywords.items() if kw in acts}
        if "ANCHOR" in acts:
            words.update({w: "ANCHOR" for w in t.anchors if w not in words})
        out[state] = (words, "IDENT")
    return out


@lru_cache(maxsize=1)
def _prepared() -> tuple[Tables, dict[int, tuple[dict[str, str], str]]]:
    """The tables with each reduce action replaced by its compiled rule tuple (one lookup less a reduce)."""
    t = tables()
    compiled = _compiled_rules()
    actions = {
        state: {term: (shift, arg if shift else compiled[id(arg)]) for term, (shift, arg) in row.items()}
        for state, row in t.actions.items()
    }
    fast = Tables(actions, t.gotos, t.start, t.end, t.keywords, t.anchors)
    return fast, _word_maps(t)


# One token per match, after optional whitespace and comments: (skipped, token). The alternatives are the
# terminals of grammar.lark (tests/dsl/test_lalr_driver.py checks that they cut every lexeme as lark does): words,
# strings, a template before the braces it starts with, punctuation, variables, and one alternative for INT,
# SIGNED_INT and DURATION that `parse` tells apart; `.` catches anything else (a syntax error), and the empty match
# ends the text.
_TOKENS = re.compile(
    r"((?:[ \t\f\r\n]+|#[^\n]*)*)"
    r'([A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*|"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*"'
    r"|\{\{[^}\n]*\}\}|[{}(),:=\[\]]|\?[A-Za-z_][A-Za-z0-9_]*|-?\d+[A-Za-z_\d]*|.|$)",
    re.DOTALL,
)
_FIRST: dict[str, str] = {ch: "WORD" for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"}
_FIRST.update({ch: "NUM" for ch in "0123456789-"})
_FIRST.update({ch: "PUNCT" for ch in "{}(),:=[]"})
_FIRST.update({'"': "STRING", "?": "VAR"})


@lru_cache(maxsize=8)
def _callbacks(cls: Any) -> dict[str, Callable[..., Any]]:
    """Plain functions (self, meta, children) of a builder class, unwrapped from lark's v_args decorator."""
    import inspect

    t = tables()
    names = {info.callback for row in t.actions.values() for shift, info in row.values() if not shift and info.callback}
    out: dict[str, Callable[..., Any]] = {}
    for name in names:
        attr = inspect.getattr_static(cls, name, None)
        if attr is None or not callable(getattr(attr, "base_func", attr)):
            out[name] = _late_bound(name)
        else:
            out[name] = getattr(attr, "base_func", attr)
    return out


def _late_bound(name: str) -> Callable[..., Any]:
    def call(builder: Any, meta: Meta, children: list[Any]) -> Any:
        return getattr(builder, name)(meta, children)

    return call


@lru_cache(maxsize=1)
def _compiled_rules() -> dict[int, tuple[int, str, str | None, bool, int, tuple[int, ...], Any]]:
    t = tables()
    out = {}
    for row in t.actions.values():
        for shift, info in row.values():
            if not shift and id(info) not in out:
                unit = info.size == 1 and info.expand1 and info.include == ((0, False),)
                # `__x_star: __x_star [sep] item`: append the item to the list already on the stack.
                append = (
                    info.callback is None
                    and info.size >= 2
                    and len(info.include) == 2
                    and info.include[0] == (0, True)
                    and not info.include[1][1]
                )
                out[id(info)] = (
                    info.size,
                    info.origin,
                    info.callback,
                    info.expand1,
                    3 if unit else 4 if append else info.mode,
                    tuple(i for i, _ in info.include),
                    info.include,
                )
    return out


def parse(text: str, builder: Any) -> Any:
    """Parse `text`, calling the builder's callback (meta, children) on every reduce; Miss on any error."""
    t, word_maps = _prepared()
    actions_of, gotos = t.actions, t.gotos
    end_state = t.end
    callbacks = _callbacks(builder.__class__)
    state_stack = [t.start]
    value_stack: list[Any] = []
    pos_stack: list[tuple[int, int] | None] = []
    state = t.start
    pos = 0
    line = 1
    line_start = 0
    first_char, punct, token_cls, new_str = _FIRST, _PUNCT, Token, _new_str
    new_meta, meta_cls, splice_cls, duration = _new_meta, Meta, _Splice, _DURATION
    for skipped, value in _TOKENS.findall(text):
        if skipped:
            newline = skipped.rfind("\n")
            if newline >= 0:
                line += skipped.count("\n")
                line_start = pos + newline + 1
            pos += len(skipped)
        if not value:
            if pos < len(text):
                raise Miss
            kind = "$END"
        else:
            kind = first_char.get(value[0], "BAD")
            if kind == "PUNCT" and len(value) > 1:
                kind = "TEMPLATE"
            elif (kind == "STRING" or kind == "VAR") and len(value) == 1:
                kind = "BAD"
        if kind == "WORD":
            words, other = word_maps[state]
            ttype = words.get(value, other)
            keep = ttype is other or ttype == "ANCHOR"
        elif kind == "PUNCT":
            ttype = punct[value]
            keep = False
        elif kind == "STRING" or kind == "VAR" or kind == "$END":
            ttype = kind
            keep = kind != "$END"
        elif kind == "NUM":
            keep = True
            if value.isdigit():
                ttype = "INT" if "INT" in actions_of[state] else "SIGNED_INT"
            elif value[0] == "-" and value[1:].isdigit():
                ttype = "SIGNED_INT"
            elif duration.fullmatch(value):
                ttype = "DURATION"
            else:
                raise Miss
        elif kind == "TEMPLATE" and "TEMPLATE" in actions_of[state]:
            ttype = "TEMPLATE"
            keep = True
        else:
            raise Miss
        column = pos - line_start + 1
        here = (line, column)
        if keep:
            # What Token(ttype, value, pos, line, column) builds, without its two Python-level calls (the
            # end_* slots stay unset: nothing reads them from these tokens).
            token: Any = new_str(token_cls, value)
            token.type = ttype
            token.value = value
            token.start_pos = pos
            token.line = line
            token.column = column
        else:
            token = value
        actions = actions_of[state]
        while True:
            act = actions.get(ttype)
            if act is None:
                raise Miss
            if act[0]:
                state = act[1]
                state_stack.append(state)
                value_stack.append(token)
                pos_stack.append(here)
                break
            size, origin, callback, expand1, mode, keep_idx, include = act[1]
            if mode == 3:
                del state_stack[-1]
                state = gotos[state_stack[-1]][origin]
                state_stack.append(state)
            elif mode == 4:
                value_stack[-size].append(value_stack[keep_idx[1] - size])
                del value_stack[1 - size :], pos_stack[1 - size :], state_stack[-size:]
                state = gotos[state_stack[-1]][origin]
                state_stack.append(state)
            else:
                if size:
                    values = value_stack[-size:]
                    first = pos_stack[-size]
                    if first is None:
                        first = next((p for p in pos_stack[-size:] if p is not None), None)
                    del value_stack[-size:], pos_stack[-size:], state_stack[-size:]
                else:
                    values = []
                    first = None
                if mode == 0:
                    children: list[Any] = values
                elif mode == 1:
                    children = [values[i] for i in keep_idx]
                else:
                    children = []
                    for i, splice in include:
                        if splice:
                            if children:
                                children.extend(values[i])
                            else:
                                children = values[i]
                        else:
                            children.append(values[i])
                if callback is None:
                    result: Any = children if type(children) is splice_cls else splice_cls(children)
                elif expand1 and len(children) == 1:
                    result = children[0]
                else:
                    if type(children) is splice_cls:
                        children = list(children)
                    meta = new_meta(meta_cls)
                    meta.line, meta.column = first or (1, 1)
                    result = callbacks[callback](builder, meta, children)
                state = gotos[state_stack[-1]][origin]
                state_stack.append(state)
                value_stack.append(result)
                pos_stack.append(first)
            if state == end_state and ttype == "$END":
                return value_stack[-1]
            actions = actions_of[state]
        if kind == "STRING":
            newline = value.rfind("\n")
            if newline >= 0:
                line += value.count("\n")
                line_start = pos + newline + 1
        pos += len(value)
    raise Miss  # pragma: no cover - $END always ends the loop above

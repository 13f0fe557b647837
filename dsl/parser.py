"""DSL text → pydantic models, with errors a person can act on.

The grammar lives in `grammar.lark` at the package root. Syntax errors become one `Diagnostic` with the source
line, a caret, what was expected in words, and a label for common mistakes; the builder then collects every
semantic problem it can see locally (unknown object type, bad parameter type, ...) instead of stopping at the
first. Valid text goes through `_lalr_driver` (lark's table, no tree); lark's own parser words syntax errors.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from continuous.common.errors import Diagnostic, DslError
from continuous.dsl import model as m
from continuous.dsl.suggest import closest
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

GRAMMAR_PATH = Path(__file__).resolve().parent.parent / "grammar.lark"

DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}

_TERMINAL_WORDS = {
    "IDENT": "a name",
    "STRING": 'a quoted string ("...")',
    "INT": "a whole number",
    "SIGNED_INT": "a whole number",
    "DURATION": "a duration such as 30s, 5m or 1h30m",
    "VAR": "a variable such as ?name",
    "TEMPLATE": "a template such as {{ name }}",
    "ANCHOR": "'before' or 'after'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "COLON": "':'",
    "EQUAL": "'='",
    "$END": "the end of the file",
}

# Labelled examples of common mistakes (as lark's own grammar loader does): when a syntax error happens at the
# same parser state as one of these snippets, the label is shown as the hint.
_COMMON_MISTAKES: dict[str, list[str]] = {
    'a step runs an argument list, not a shell string: run ["pnpm", "install"]': [
        'scenario a { step "x" run "pnpm install" }',
    ],
    "parameters are written `param NAME: TYPE`, e.g. param name: snake required": [
        "scenario a { param name snake }",
        "scenario a { param name = snake }",
    ],
    'every step needs a name in quotes: step "write file" render ...': [
        'scenario a { step render "x" to "y" }',
        'scenario a { step run ["x"] }',
    ],
    "strings use double quotes": [
        "scenario a { summary 'x' }",
    ],
    "a rule reads `rule ID { when PATTERN then ACTION }`": [
        "rule r { then run x }",
        "rule r when a() then run x",
    ],
    'lists of strings are separated by commas: examples "a", "b"': [
        'scenario a { examples "x" "y" }',
    ],
}


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = GRAMMAR_PATH.read_text(encoding="utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        cache=_grammar_cache(grammar),
    )


def _grammar_cache(grammar: str) -> str | bool:
    """A per-user cache of lark's analysed grammar (lark checks its hash), so startup skips the analysis.

    Never a shared temporary directory: the cache is a pickle."""
    import hashlib
    import os

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "continuous"
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    if not os.access(base, os.W_OK):
        return False
    digest = hashlib.sha256(grammar.encode("utf-8")).hexdigest()[:16]
    return str(base / f"grammar-{digest}.lark")


def parse_text(text: str, filename: str = "<string>") -> list[Any]:
    """One DSL file as top-level items (Scenario, Rule, Discover, Standard, Schedule, Import, Alias)."""
    items, diagnostics, _ = parse_text_lenient(text, filename)
    if diagnostics:
        raise DslError(diagnostics)
    return items


def parse_text_lenient(text: str, filename: str = "<string>") -> tuple[list[Any], list[Diagnostic], bool]:
    """(items, diagnostics, syntax ok): after a semantic problem the items are still built, so that static
    validation can report the rest of what is wrong in the same run."""
    import gc

    from continuous.dsl import _lalr_driver

    # Parsing allocates many small objects that all stay alive: cyclic GC passes over them are pure overhead.
    gc_enabled = gc.isenabled()
    gc.disable()
    builder = _Builder(filename, text)
    try:
        try:
            items: list[Any] = _lalr_driver.parse(text, builder)
        except _lalr_driver.Miss:
            items = parse_tree(text, filename, builder := _Builder(filename, text))
    except BadEscape as exc:
        return [], [_escape_diagnostic(exc, text, filename)], False
    except DslError as exc:
        return [], exc.diagnostics, False
    finally:
        if gc_enabled:
            gc.enable()
    return items, builder.diagnostics, True


def _escape_diagnostic(exc: BadEscape, text: str, filename: str) -> Diagnostic:
    line = getattr(exc.token, "line", None) or 1
    column = getattr(exc.token, "column", None) or 1
    reason = exc.reason.rsplit(": ", 1)[-1]
    return Diagnostic(
        filename,
        line,
        column,
        f"invalid escape sequence in string: {reason}",
        _source_line(text, line),
        "write a backslash as \\\\ inside strings",
        min(len(exc.token), 80),
    )


def parse_tree(text: str, filename: str, builder: _Builder) -> list[Any]:
    """The reference path through lark's own parser and tree; it also words every syntax error."""
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        raise DslError([_syntax_diagnostic(exc, text, filename)]) from None
    _refuse_glued_keywords(text, filename)
    try:
        items: list[Any] = builder.transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, DslError | BadEscape):
            raise exc.orig_exc from None
        raise
    return items


def _refuse_glued_keywords(text: str, filename: str) -> None:
    """Lark's contextual lexer reads `thenrun` as `then run` where no name may stand; a keyword must end a word.

    Only reached when the fast driver (which reads whole words) gave up, so the extra pass is rare."""
    from lark import Token as LarkToken

    interactive = _lark().parse_interactive(text)
    for token in interactive.iter_parse():
        if not isinstance(token, LarkToken) or token.type in ("IDENT", "VAR", "STRING", "TEMPLATE"):
            continue
        value = str(token)
        end = token.end_pos
        if value.isalpha() and end is not None and end < len(text) and (text[end].isalnum() or text[end] == "_"):
            word = re.match(r"[A-Za-z0-9_]*", text[token.start_pos :]).group(0)  # type: ignore[union-attr]
            raise DslError(
                [
                    Diagnostic(
                        filename,
                        token.line or 1,
                        token.column or 1,
                        f"unexpected {word!r}; expected {value!r} followed by a space",
                        _source_line(text, token.line or 1),
                        f"write '{value} {word[len(value) :]}'",
                        len(word),
                    )
                ]
            )


def parse_file(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DslError([Diagnostic(str(path), 1, 1, f"file is not UTF-8 text ({exc.reason})")]) from None
    except OSError as exc:
        problem = f"cannot read the file: {exc.strerror or exc}"
        raise DslError([Diagnostic(str(path), 1, 1, problem)]) from None
    return parse_text(text, str(path))


# ---------------------------------------------------------------- syntax errors


def _source_line(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _expected_words(expected: set[str]) -> str:
    words = sorted(
        {_TERMINAL_WORDS.get(t, _keyword(t)) for t in expected if not t.startswith("__")},
        key=lambda w: (not (len(w) == 3 and w[0] == w[2] == "'"), w),
    )
    if not words:
        return ""
    if len(words) > 8:
        return "expected one of: " + ", ".join(words[:8]) + ", ..."
    return "expected " + (words[0] if len(words) == 1 else "one of: " + ", ".join(words))


def _keyword(terminal: str) -> str:
    pattern = _lark().get_terminal(terminal).pattern if terminal in _terminal_names() else None
    if pattern is not None and pattern.type == "str":
        return f"'{pattern.value}'"
    return terminal.lower()


@lru_cache(maxsize=1)
def _terminal_names() -> frozenset[str]:
    return frozenset(t.name for t in _lark().terminals)


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "end of file"
    words = _TERMINAL_WORDS.get(token.type)
    value = str(token)
    if token.type.startswith("__") or (token.type in _TERMINAL_WORDS and token.type not in ("IDENT", "STRING")):
        return f"'{value}'"
    if words and token.type in ("IDENT", "STRING"):
        shown = value if token.type == "STRING" else repr(value)
        return f"{'name' if token.type == 'IDENT' else 'string'} {shown}"
    return f"'{value}'"


def _syntax_diagnostic(exc: UnexpectedInput, text: str, filename: str) -> Diagnostic:
    line = getattr(exc, "line", None) or 1
    column = getattr(exc, "column", None) or 1
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
    hint = _label_for(exc)
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END" and "RBRACE" in exc.expected:
        hint = _unclosed_hint(text) or hint
    if isinstance(exc, UnexpectedCharacters):
        at = exc.pos_in_stream or 0
        char = text[at] if at < len(text) else ""
        message = f"unexpected character {char!r}"
        if char == "'":
            hint = hint or "strings use double quotes"
        expected = _expected_words(set(exc.allowed or ()))
        if expected:
            message += f"; {expected}"
        width = 1
    elif isinstance(exc, UnexpectedToken):
        message = f"unexpected {_describe_token(exc.token)}"
        expected = _expected_words(set(exc.expected))
        if expected:
            message += f"; {expected}"
        width = max(len(str(exc.token)), 1) if exc.token.type != "$END" else 1
        if exc.token.type == "IDENT":
            known = _keywords_in(set(exc.expected))
            guess = closest(str(exc.token), known)
            if guess and not hint:
                hint = f"did you mean '{guess}'?"
    else:
        message = "unexpected end of file"
        expected = _expected_words(set(getattr(exc, "expected", ()) or ()))
        if expected:
            message += f"; {expected}"
        width = 1
    return Diagnostic(filename, line, column, message, _source_line(text, line), hint, width)


def _keywords_in(expected: set[str]) -> list[str]:
    out = []
    for name in expected:
        if name in _terminal_names():
            pattern = _lark().get_terminal(name).pattern
            if pattern.type == "str":
                out.append(pattern.value)
    return out


def _state_key(exc: UnexpectedInput) -> tuple[int | None, str | None]:
    state = getattr(exc, "state", None)
    position = getattr(state, "position", state)
    token = getattr(exc, "token", None)
    return (position if isinstance(position, int) else None, getattr(token, "type", None))


@lru_cache(maxsize=1)
def _mistake_keys() -> list[tuple[tuple[int | None, str | None], str]]:
    keys = []
    for label, examples in _COMMON_MISTAKES.items():
        for example in examples:
            try:
                _lark().parse(example)
            except UnexpectedInput as exc:
                keys.append((_state_key(exc), label))
    return keys


def _label_for(exc: UnexpectedInput) -> str | None:
    """The label of a known mistake made at the same parser state with the same kind of token."""
    state, token_type = _state_key(exc)
    if state is None:
        return None
    exact = [label for key, label in _mistake_keys() if key == (state, token_type)]
    return exact[0] if exact else None


def _unclosed_hint(text: str) -> str | None:
    """Where the innermost block that is still open at the end of the file starts."""
    from continuous.dsl._lalr_driver import _TOKENS

    opened: list[int] = []
    pos = 0
    for skipped, token in _TOKENS.findall(text):
        pos += len(skipped)
        if token == "{":
            opened.append(pos)
        elif token == "}" and opened:
            opened.pop()
        pos += len(token)
    if not opened:
        return None
    start = opened[-1]
    line = text.count("\n", 0, start) + 1
    header = text[text.rfind("\n", 0, start) + 1 : start].strip()
    return f"the block opened at line {line} ({header} {{) is never closed; add '}}' at its end"


# ---------------------------------------------------------------- tree → models


class Import(m.Model):
    path: str
    loc: m.Location


class Alias(m.Model):
    alias: str
    target: str
    loc: m.Location


class BadEscape(Exception):
    """A string literal with an escape sequence Python cannot decode (e.g. `\\N` or a truncated `\\x4`)."""

    def __init__(self, token: str, reason: str) -> None:
        super().__init__(reason)
        self.token = token
        self.reason = reason


def unescape(token: str) -> str:
    if token.startswith('"""'):
        body = token[3:-3]
        if body.startswith("\n"):
            body = body[1:]
        if "\\" not in body:
            return _dedent(body)
        try:
            return _dedent(body.encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8"))
        except UnicodeError as exc:
            raise BadEscape(token, str(getattr(exc, "reason", exc))) from None
    if "\\" not in token:
        return token[1:-1]
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ast.literal_eval(token)
    except (SyntaxError, ValueError) as exc:
        reason = str(exc.msg if isinstance(exc, SyntaxError) else exc).removeprefix("(unicode error) ")
        raise BadEscape(token, reason) from None
    assert isinstance(value, str)
    return value


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text)


def parse_duration(text: str) -> int:
    total = 0.0
    for number, unit in re.findall(r"(\d+)(ms|s|m|h|d)", text):
        total += int(number) * DURATION_UNITS[unit]
    return round(total)


_KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_SNAKE = re.compile(r"^[a-z_][a-z0-9_]*$")


@v_args(meta=True)
class _Builder(Transformer[Token, Any]):
    """Builds models; collects located diagnostics instead of raising at the first semantic problem."""

    def __init__(self, filename: str, text: str) -> None:
        super().__init__()
        self.filename = filename
        self.text = text
        self.diagnostics: list[Diagnostic] = []

    # -- helpers
    def _loc(self, meta: Any) -> m.Location:
        line, column = getattr(meta, "line", 1), getattr(meta, "column", 1)
        return _new_location({"file": self.filename, "line": line, "column": column})

    def _tloc(self, token: Token) -> m.Location:
        return _new_location({"file": self.filename, "line": token.line or 1, "column": token.column or 1})

    def error(self, token_or_meta: Any, message: str, hint: str | None = None, width: int | None = None) -> None:
        line = getattr(token_or_meta, "line", 1) or 1
        column = getattr(token_or_meta, "column", 1) or 1
        if width is None:
            width = len(str(token_or_meta)) if isinstance(token_or_meta, Token) else 1
        self.diagnostics.append(
            Diagnostic(self.filename, line, column, message, _source_line(self.text, line), hint, width)
        )

    # -- top level
    def start(self, meta: Any, items: list[Any]) -> list[Any]:
        return items

    def import_stmt(self, meta: Any, c: list[Token]) -> Import:
        return Import(path=unescape(c[0]), loc=self._loc(meta))

    def alias_stmt(self, meta: Any, c: list[Token]) -> Alias:
        for tok in c:
            self._check_kebab(tok, "scenario id")
        return Alias(alias=str(c[0]), target=str(c[1]), loc=self._loc(meta))

    def _check_kebab(self, tok: Token, what: str) -> None:
        if not _KEBAB.match(str(tok)):
            suggestion = str(tok).lower().replace("_", "-")
            self.error(tok, f"{what} {str(tok)!r} must be kebab-case", f"write {suggestion!r}")

    # -- scenario
    def scenario(self, meta: Any, c: list[Any]) -> m.Scenario:
        ident: Token = c[0]
        self._check_kebab(ident, "scenario id")
        data: dict[str, Any] = {
            "params": [],
            "dependencies": [],
            "unless": [],
            "preconditions": [],
            "steps": [],
            "provides": [],
            "validations": [],
            "rollback": [],
            "rollback_finally": [],
            "examples": [],
            "aliases": [],
            "tags": [],
        }
        seen_single: dict[str, Any] = {}
        for item in c[1:]:
            kind, value, where = ("steps", item, item.loc) if isinstance(item, _STEP_TYPES) else item
            if kind in data and isinstance(data[kind], list):
                if isinstance(value, list):
                    data[kind].extend(value)
                else:
                    data[kind].append(value)
            else:
                if kind in seen_single:
                    self.error(where, f"'{_STMT_KEYWORD.get(kind, kind)}' is given twice in scenario {ident}")
                seen_single[kind] = value
                data[kind] = value
        if "object_type" not in data:
            self.error(ident, f"scenario {ident} has no 'object' line", "add e.g. `object service`")
            data["object_type"] = "infra"
        if "summary" not in data:
            self.error(ident, f"scenario {ident} has no 'summary' line", 'add e.g. `summary "What it does"`')
            data["summary"] = ""
        self._check_params(ident, data["params"])
        seen_steps: set[str] = set()
        for step in data["steps"]:
            if step.name in seen_steps:
                self.error(step.loc, f"step name {step.name!r} is used twice in scenario {ident}", None)
            seen_steps.add(step.name)
        for key in (
            "params",
            "dependencies",
            "unless",
            "preconditions",
            "steps",
            "provides",
            "validations",
            "rollback",
            "rollback_finally",
            "examples",
            "aliases",
            "tags",
        ):
            data[key] = tuple(data[key])
        return _new_scenario({"id": str(ident), "source": self.filename, "loc": self._tloc(ident), **data})

    def _check_params(self, ident: Token, params: list[m.Param]) -> None:
        names: set[str] = set()
        positions: dict[int, str] = {}
        for p in params:
            if p.name in names:
                self.error(p.loc, f"parameter {p.name!r} is declared twice in scenario {ident}")
            names.add(p.name)
            if p.position is not None:
                if p.position in positions:
                    self.error(
                        p.loc, f"parameters {positions[p.position]!r} and {p.name!r} share position {p.position}"
                    )
                positions[p.position] = p.name
        if positions:
            expected = list(range(1, len(positions) + 1))
            if sorted(positions) != expected:
                self.error(
                    ident,
                    f"positions in scenario {ident} must be 1..{len(positions)} without gaps, got {sorted(positions)}",
                )

    def object_stmt(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        value = str(c[0])
        if value not in m.OBJECT_TYPES:
            guess = closest(value, m.OBJECT_TYPES)
            self.error(
                c[0],
                f"unknown object type {value!r}; expected one of: {', '.join(m.OBJECT_TYPES)}",
                f"did you mean '{guess}'?" if guess else None,
            )
            value = "infra"
        return ("object_type", value, c[0])

    def summary_stmt(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        return ("summary", unescape(c[0]), meta)

    def description_stmt(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        return ("description", unescape(c[0]), meta)

    def string_list(self, meta: Any, c: list[Token]) -> list[str]:
        return [unescape(t) for t in c]

    def examples_stmt(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        return ("examples", c[0], meta)

    def aliases_stmt(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        return ("aliases", c[0], meta)

    def tags_stmt(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        return ("tags", c[0], meta)

    def automation_stmt(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        value = int(c[0])
        if not 0 <= value <= 100:
            self.error(c[0], f"automation level must be between 0 and 100, got {value}")
            value = max(0, min(100, value))
        return ("automation", value, c[0])

    def estimate_stmt(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        return ("estimate_seconds", parse_duration(c[0]), c[0])

    def manual_stmt(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        return ("manual_effort_seconds", parse_duration(c[0]), c[0])

    # -- params
    def simple_type(self, meta: Any, c: list[Token]) -> tuple[str, tuple[str, ...], Token]:
        name = str(c[0])
        if name not in m.PARAM_TYPES or name == "enum":
            guess = closest(name, [t for t in m.PARAM_TYPES if t != "enum"])
            self.error(
                c[0],
                f"unknown parameter type {name!r}; expected one of: string, snake, kebab, path, "
                "int, port, bool, enum(a, b)",
                f"did you mean '{guess}'?" if guess else None,
            )
            name = "string"
        return (name, (), c[0])

    def enum_type(self, meta: Any, c: list[Token]) -> tuple[str, tuple[str, ...], Token]:
        return ("enum", tuple(str(t) for t in c), c[0])

    def opt_required(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        return ("required", True, meta)

    def opt_default(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        value = c[0]
        if isinstance(value, m.Var):
            self.error(meta, "a default must be a value, not a variable")
            return ("default", None, meta)
        return ("default", value.value, meta)

    def opt_pattern(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        pattern = unescape(c[0])
        try:
            re.compile(pattern)
        except re.error as exc:
            self.error(c[0], f"invalid regular expression: {exc}")
        return ("pattern", pattern, c[0])

    def opt_position(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        value = int(c[0])
        if value < 1:
            self.error(c[0], "positions start at 1")
        return ("position", value, c[0])

    def opt_range(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        low, high = int(c[0]), int(c[1])
        if low > high:
            self.error(c[0], f"range {low} to {high} is empty; write the lower bound first")
            low, high = high, low
        return ("range", (low, high), c[0])

    def opt_doc(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        return ("doc", unescape(c[0]), c[0])

    def opt_example(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        values = []
        for value in c:
            if isinstance(value, m.Var):
                self.error(meta, "an example must be a value, not a variable")
                continue
            values.append(value.value)
        return ("examples", tuple(values), meta)

    def param_stmt(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        name_tok: Token = c[0]
        ptype, choices, _type_tok = c[1]
        if not _SNAKE.match(str(name_tok)):
            self.error(
                name_tok,
                f"parameter name {str(name_tok)!r} must be snake_case",
                f"write {str(name_tok).lower().replace('-', '_')!r}",
            )
        opts: dict[str, Any] = {}
        for key, value, where in c[2:]:
            if key in opts:
                self.error(where, f"'{key}' is given twice for parameter {name_tok}")
            opts[key] = value
        if opts.get("required") and "default" in opts:
            self.error(
                name_tok, f"parameter {name_tok} is both required and has a default", "drop `required` or the default"
            )
        if "range" in opts and ptype not in m.NUMBER_TYPES:
            self.error(
                name_tok,
                f"parameter {name_tok} has a range, but only whole numbers and ports take one",
                "declare it as `int` or `port`, or drop the range",
            )
            del opts["range"]
        elif (
            ptype == "port"
            and "range" in opts
            and not (m.PORT_BOUNDS[0] <= opts["range"][0] and opts["range"][1] <= m.PORT_BOUNDS[1])
        ):
            self.error(name_tok, f"the range of port {name_tok} must lie between 1 and 65535")
            del opts["range"]
        loc = self._tloc(name_tok)
        param = _new_param({"name": str(name_tok), "type": ptype, "choices": choices, "loc": loc, **opts})
        if param.default is not None and not (param.pattern is not None and _bad_regex(param.pattern)):
            from continuous.dsl.params import check_value

            problem = check_value(param, param.default)
            if problem:
                self.error(name_tok, f"default of parameter {name_tok} is wrong: {problem}", _default_hint(param))
        for example in param.examples:
            from continuous.dsl.params import check_value

            problem = check_value(param, example)
            if problem:
                self.error(
                    name_tok,
                    f"example of parameter {name_tok} is wrong: {problem}",
                    "an example must be a value the parameter accepts",
                )
        return ("params", param, name_tok)

    # -- dependencies and conditions
    def binding(self, meta: Any, c: list[Any]) -> tuple[str, m.Term]:
        return (str(c[0]), c[1])

    def call_args(self, meta: Any, c: list[Any]) -> dict[str, m.Term]:
        out: dict[str, m.Term] = {}
        for name, term in c:
            if name in out:
                self.error(meta, f"argument {name!r} is given twice")
            out[name] = term
        return out

    def unless_clause(self, meta: Any, c: list[Any]) -> tuple[m.FactPattern, ...]:
        return tuple(c[0])

    def requires_stmt(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        ident: Token = c[0]
        bindings: dict[str, m.Term] = {}
        unless: tuple[m.FactPattern, ...] = ()
        for part in c[1:]:
            if isinstance(part, dict):
                bindings = part
            else:
                unless = part
        dep = m.Dependency(scenario=str(ident), bindings=bindings, unless=unless, loc=self._tloc(ident))
        return ("dependencies", dep, ident)

    def unless_stmt(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        return ("unless", list(c[0]), meta)

    def cond_fact(self, meta: Any, c: list[Any]) -> m.Precondition:
        return m.Precondition(kind="fact", pattern=c[0], loc=self._loc(meta))

    def cond_no_fact(self, meta: Any, c: list[Any]) -> m.Precondition:
        return m.Precondition(kind="no_fact", pattern=c[0], loc=self._loc(meta))

    def cond_exists(self, meta: Any, c: list[Token]) -> m.Precondition:
        return m.Precondition(kind="exists", path=unescape(c[0]), loc=self._loc(meta))

    def cond_missing(self, meta: Any, c: list[Token]) -> m.Precondition:
        return m.Precondition(kind="missing", path=unescape(c[0]), loc=self._loc(meta))

    def cond_clean(self, meta: Any, c: list[Token]) -> m.Precondition:
        return m.Precondition(kind="clean", loc=self._loc(meta))

    def cond_expr(self, meta: Any, c: list[Token]) -> m.Precondition:
        return m.Precondition(kind="expr", path=unescape(c[0]), loc=self._loc(meta))

    def precondition_stmt(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        return ("preconditions", c[0], meta)

    # -- steps
    def step(self, meta: Any, c: list[Any]) -> Any:
        name = unescape(c[0])
        kind, fields = c[-1]
        loc = self._loc(meta)
        if len(c) == 3:
            fields = {**fields, "when": tuple(c[1])}
        return _STEP_BUILDERS[kind]({"name": name, "loc": loc, **fields})

    def step_guard(self, meta: Any, c: list[Any]) -> list[m.Precondition]:
        for cond in c:
            if cond.kind == "clean":
                self.error(cond.loc or meta, "a step cannot depend on `clean`; use it as a precondition")
        return list(c)

    def command_step(self, meta: Any, c: list[Token]) -> tuple[str, dict[str, Any]]:
        fields = {"command": unescape(c[0]), "file": unescape(c[1]), "runs": unescape(c[2])}
        if len(c) > 3:
            fields["help"] = unescape(c[3])
        return ("command", fields)

    def _values(self, meta: Any, args: dict[str, m.Term]) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, term in args.items():
            if isinstance(term, m.Var):
                self.error(meta, f'{key}: a variable cannot be used here; use a template such as "{{{{ name }}}}"')
                continue
            out[key] = str(term.value).lower() if isinstance(term.value, bool) else str(term.value)
        return out

    def entry_step(self, meta: Any, c: list[Any]) -> tuple[str, dict[str, Any]]:
        return ("entry", {"values": self._values(meta, c[0]), "array": unescape(c[1]), "file": unescape(c[2])})

    def row_step(self, meta: Any, c: list[Any]) -> tuple[str, dict[str, Any]]:
        return ("row", {"values": self._values(meta, c[0]), "file": unescape(c[1])})

    def route_step(self, meta: Any, c: list[Token]) -> tuple[str, dict[str, Any]]:
        return ("route", {"path": unescape(c[0]), "component": unescape(c[1]), "file": unescape(c[2])})

    def import_step(self, meta: Any, c: list[Token]) -> tuple[str, dict[str, Any]]:
        return ("import", {"names": unescape(c[0]), "module": unescape(c[1]), "file": unescape(c[2])})

    def endpoint_step(self, meta: Any, c: list[Token]) -> tuple[str, dict[str, Any]]:
        return ("endpoint", {"method": unescape(c[0]), "path": unescape(c[1]), "file": unescape(c[2])})

    def forward_step(self, meta: Any, c: list[Token]) -> tuple[str, dict[str, Any]]:
        return ("forward", {"port": unescape(c[0]), "env": unescape(c[1]), "file": unescape(c[2])})

    def move_step(self, meta: Any, c: list[Token]) -> tuple[str, dict[str, Any]]:
        return ("move", {"source": unescape(c[0]), "to": unescape(c[1])})

    def render_step(self, meta: Any, c: list[Token]) -> tuple[str, dict[str, Any]]:
        return ("render", {"template": unescape(c[0]), "to": unescape(c[1])})

    def edit_step(self, meta: Any, c: list[Any]) -> tuple[str, dict[str, Any]]:
        fmt = str(c[0])
        if fmt not in ("json", "yaml"):
            self.error(c[0], f"can only edit json or yaml files, not {fmt!r}")
            fmt = "json"
        op, key, value = c[2]
        return ("edit", {"format": fmt, "file": unescape(c[1]), "op": op, "key": key, "value": value})

    def edit_set(self, meta: Any, c: list[Any]) -> tuple[str, str, Any]:
        return ("set", unescape(c[0]), self._plain_value(meta, c[1]))

    def edit_append(self, meta: Any, c: list[Any]) -> tuple[str, str, Any]:
        return ("append", unescape(c[0]), self._plain_value(meta, c[1]))

    def edit_delete(self, meta: Any, c: list[Any]) -> tuple[str, str, Any]:
        return ("delete", unescape(c[0]), None)

    def _plain_value(self, meta: Any, term: Any) -> Any:
        if isinstance(term, m.Var):
            self.error(meta, 'a variable cannot be used here; use a template such as "{{ name }}"')
            return None
        return term.value

    def argv(self, meta: Any, c: list[Token]) -> tuple[str, ...]:
        return tuple(unescape(t) for t in c)

    def run_cwd(self, meta: Any, c: list[Token]) -> tuple[str, Any]:
        return ("cwd", unescape(c[0]))

    def run_timeout(self, meta: Any, c: list[Token]) -> tuple[str, Any]:
        return ("timeout_seconds", parse_duration(c[0]))

    def run_changes(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return ("changes", c[0])

    def run_step(self, meta: Any, c: list[Any]) -> tuple[str, dict[str, Any]]:
        return ("run", {"argv": c[0], **dict(c[1:])})

    def sql_step(self, meta: Any, c: list[Token]) -> tuple[str, dict[str, Any]]:
        action = str(c[0])
        if action not in ("apply", "test", "types"):
            self.error(
                c[0],
                f"an sql step can 'apply' or 'test' a migration or merge the migrations into 'types', not {action!r}",
            )
            action = "test"
        return ("sql", {"action": action, "file": unescape(c[1])})

    def doc_step(self, meta: Any, c: list[Token]) -> tuple[str, dict[str, Any]]:
        return ("doc", {"file": unescape(c[0]), "text": unescape(c[1])})

    def insert_step(self, meta: Any, c: list[Token]) -> tuple[str, dict[str, Any]]:
        return (
            "insert",
            {"text": unescape(c[0]), "file": unescape(c[1]), "where": str(c[2]), "anchor": unescape(c[3])},
        )

    def rollback_stmt(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        return ("rollback", c[0], meta)

    def rollback_finally_stmt(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        return ("rollback_finally", c[0], meta)

    def provides_stmt(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        for pattern in c:
            for name, term in pattern.fields.items():
                if isinstance(term, m.Var):
                    self.error(
                        pattern.loc,
                        f"provides {pattern.type}: field {name!r} must be a value, not a variable",
                        'use a template such as "{{ name }}"',
                    )
        return ("provides", list(c), meta)

    # -- validations
    def v_file_exists(self, meta: Any, c: list[Token]) -> m.FileExists:
        return m.FileExists(glob=unescape(c[0]), loc=self._loc(meta))

    def v_file_contains(self, meta: Any, c: list[Token]) -> m.FileContains:
        return m.FileContains(glob=unescape(c[0]), text=unescape(c[1]), loc=self._loc(meta))

    def v_file_lacks(self, meta: Any, c: list[Token]) -> m.FileContains:
        return m.FileContains(glob=unescape(c[0]), text=unescape(c[1]), negated=True, loc=self._loc(meta))

    def v_run(self, meta: Any, c: list[Any]) -> m.CommandSucceeds:
        options = dict(c[1:])
        if "changes" in options:
            self.error(meta, "a validation command must not change files; 'changes' belongs to a run step")
            del options["changes"]
        return m.CommandSucceeds(argv=c[0], loc=self._loc(meta), **options)

    def v_fact(self, meta: Any, c: list[Any]) -> m.FactHolds:
        return m.FactHolds(pattern=c[0], loc=self._loc(meta))

    def validate_stmt(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        if len(c) == 2:
            return ("validations", c[1].model_copy(update={"when": tuple(c[0])}), meta)
        return ("validations", c[0], meta)

    # -- facts
    def field(self, meta: Any, c: list[Any]) -> tuple[Token, m.Term]:
        return (c[0], c[1])

    def fact_pattern(self, meta: Any, c: list[Any]) -> m.FactPattern:
        ident: Token = c[0]
        fields: dict[str, m.Term] = {}
        for name_tok, term in c[1:]:
            if str(name_tok) in fields:
                self.error(name_tok, f"field {str(name_tok)!r} is given twice in {ident}(...)")
            fields[str(name_tok)] = term
        if not _SNAKE.match(str(ident)):
            self.error(
                ident, f"fact type {str(ident)!r} must be snake_case", f"write {str(ident).lower().replace('-', '_')!r}"
            )
        return _new_pattern({"type": str(ident), "fields": fields, "loc": self._tloc(ident)})

    def var_term(self, meta: Any, c: list[Token]) -> m.Var:
        return m.Var(var=str(c[0])[1:])

    def string_value(self, meta: Any, c: list[Token]) -> m.Value:
        return _shared_value(unescape(c[0]))

    def template_value(self, meta: Any, c: list[Token]) -> m.Value:
        return _shared_value(str(c[0]))

    def int_value(self, meta: Any, c: list[Token]) -> m.Value:
        return m.Value(value=int(c[0]))

    def true_value(self, meta: Any, c: list[Token]) -> m.Value:
        return m.Value(value=True)

    def false_value(self, meta: Any, c: list[Token]) -> m.Value:
        return m.Value(value=False)

    def pos_literal(self, meta: Any, c: list[Any]) -> m.FactPattern:
        pattern: m.FactPattern = c[0]
        return pattern

    def neg_literal(self, meta: Any, c: list[Any]) -> m.FactPattern:
        pattern: m.FactPattern = c[0]
        return pattern.model_copy(update={"negated": True})

    def conjunction(self, meta: Any, c: list[Any]) -> list[m.FactPattern]:
        return list(c)

    # -- rules
    def salience_opt(self, meta: Any, c: list[Token]) -> tuple[str, int]:
        return ("salience", int(c[0]))

    def act_run(self, meta: Any, c: list[Any]) -> m.RunAction:
        bindings = c[1] if len(c) > 1 else {}
        return m.RunAction(scenario=str(c[0]), bindings=bindings, loc=self._tloc(c[0]))

    def act_assert(self, meta: Any, c: list[Any]) -> m.AssertAction:
        return m.AssertAction(pattern=c[0], loc=self._loc(meta))

    def act_retract(self, meta: Any, c: list[Any]) -> m.RetractAction:
        return m.RetractAction(pattern=c[0], loc=self._loc(meta))

    def act_task(self, meta: Any, c: list[Token]) -> m.TaskAction:
        return m.TaskAction(title=unescape(c[0]), loc=self._loc(meta))

    def rule(self, meta: Any, c: list[Any]) -> m.Rule:
        ident: Token = c[0]
        self._check_kebab(ident, "rule id")
        salience = 0
        rest = c[1:]
        while rest and isinstance(rest[0], tuple):
            salience = rest[0][1]
            rest = rest[1:]
        conditions: list[m.FactPattern] = rest[0]
        actions = rest[1:]
        if all(p.negated for p in conditions):
            self.error(ident, f"rule {ident} needs at least one positive pattern in 'when'")
        bound: set[str] = set()
        for p in conditions:
            if not p.negated:
                bound.update(t.var for t in p.fields.values() if isinstance(t, m.Var))
        for p in conditions:
            if p.negated:
                self._check_bound(p.fields.values(), bound, p.loc, "a negated pattern")
        for a in actions:
            terms = (
                a.bindings.values()
                if isinstance(a, m.RunAction)
                else (a.pattern.fields.values() if isinstance(a, m.AssertAction | m.RetractAction) else ())
            )
            self._check_bound(terms, bound, a.loc, "an action")
        return m.Rule(
            id=str(ident),
            salience=salience,
            conditions=tuple(conditions),
            actions=tuple(actions),
            source=self.filename,
            loc=self._tloc(ident),
        )

    def _check_bound(self, terms: Any, bound: set[str], loc: Any, where: str) -> None:
        for t in terms:
            if isinstance(t, m.Var) and t.var not in bound:
                guess = closest(t.var, sorted(bound))
                self.error(
                    self._find(loc, "?" + t.var),
                    f"variable ?{t.var} in {where} is not bound by any positive pattern",
                    f"did you mean ?{guess}?" if guess else "bind it in a pattern of `when` that is not negated",
                    width=len(t.var) + 1,
                )

    def _find(self, loc: Any, needle: str) -> Any:
        """The position of `needle` at or after `loc` (within a few lines), else `loc` itself."""
        lines = self.text.splitlines()
        line = getattr(loc, "line", 1) or 1
        for number in range(line, min(line + 10, len(lines) + 1)):
            start = (getattr(loc, "column", 1) or 1) - 1 if number == line else 0
            hit = re.search(re.escape(needle) + r"(?![A-Za-z0-9_])", lines[number - 1][start:])
            if hit:
                return m.Location(file=self.filename, line=number, column=start + hit.start() + 1)
        return loc

    # -- discovery
    def d_glob(self, meta: Any, c: list[Token]) -> tuple[str, str, Token]:
        return ("globs", unescape(c[0]), c[0])

    def d_exclude(self, meta: Any, c: list[Token]) -> tuple[str, str, Token]:
        return ("excludes", unescape(c[0]), c[0])

    def d_regex(self, meta: Any, c: list[Token]) -> tuple[str, str, Token]:
        pattern = unescape(c[0])
        try:
            re.compile(pattern)
        except re.error as exc:
            self.error(c[0], f"invalid regular expression: {exc}")
        return ("regex", pattern, c[0])

    def d_json(self, meta: Any, c: list[Token]) -> tuple[str, str, Token]:
        return ("json_path", unescape(c[0]), c[0])

    def d_parse(self, meta: Any, c: list[Token]) -> tuple[str, str, Token]:
        from continuous.dsl.readers import READERS

        name = unescape(c[0])
        if name not in READERS:
            guess = closest(name, sorted(READERS))
            self.error(
                c[0],
                f"unknown reader {name!r}; known readers: {', '.join(sorted(READERS))}",
                f"did you mean '{guess}'?" if guess else None,
            )
        return ("parser", name, c[0])

    def d_where(self, meta: Any, c: list[Token]) -> tuple[str, str, Token]:
        expression = unescape(c[0])
        from continuous.dsl.templating import environment
        from jinja2 import TemplateSyntaxError

        try:
            environment().compile_expression(expression)
        except TemplateSyntaxError as exc:
            self.error(
                c[0],
                f"invalid where expression: {exc.message}",
                "write a Jinja expression such as \"schema == 'public'\" (no {{ }})",
            )
        return ("where", expression, c[0])

    def d_field(self, meta: Any, c: list[Token]) -> tuple[str, tuple[str, str], Token]:
        return ("fields", (str(c[0]), unescape(c[1])), c[0])

    def discover(self, meta: Any, c: list[Any]) -> m.Discover:
        ident: Token = c[0]
        data: dict[str, Any] = {"globs": [], "excludes": [], "fields": {}}
        for key, value, tok in c[1:]:
            if key in ("globs", "excludes"):
                data[key].append(value)
            elif key == "fields":
                data["fields"][value[0]] = value[1]
            else:
                if key in data:
                    self.error(tok, f"'{key.split('_')[0]}' is given twice in discover {ident}")
                data[key] = value
        if not data["globs"]:
            self.error(ident, f"discover {ident} has no 'glob' line", 'add e.g. `glob "apps/*/package.json"`')
        if sum(1 for k in ("regex", "json_path", "parser") if data.get(k)) > 1:
            self.error(ident, f"discover {ident} may use only one of 'regex', 'json' and 'parse'")
        data["globs"] = tuple(data["globs"])
        data["excludes"] = tuple(data["excludes"])
        return m.Discover(fact_type=str(ident), source=self.filename, loc=self._tloc(ident), **data)

    # -- standards
    def std_severity(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        value = str(c[0])
        if value not in ("error", "warning", "info"):
            self.error(c[0], f"severity must be error, warning or info, not {value!r}")
            value = "error"
        return ("severity", value, c[0])

    def std_message(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        return ("message", unescape(c[0]), c[0])

    def std_summary(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        return ("summary", unescape(c[0]), c[0])

    def std_when(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        return ("when", tuple(c[0]), meta)

    def std_files(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        return ("files", unescape(c[0]), c[0])

    def std_matching(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        pattern = unescape(c[0])
        try:
            re.compile(pattern)
        except re.error as exc:
            self.error(c[0], f"invalid regular expression: {exc}")
        return ("matching", pattern, c[0])

    def std_exclude(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        return ("excludes", unescape(c[0]), c[0])

    def std_lacking(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        return ("lacking", self.std_matching(meta, c)[1], c[0])

    def std_named(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        return ("named", self.std_matching(meta, c)[1], c[0])

    def std_unique(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        return ("unique", (str(c[0]), str(c[1])), c[0])

    def std_newer(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        return ("newer", (unescape(c[0]), unescape(c[1])), c[0])

    def std_fix(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        bindings = c[1] if len(c) > 1 else {}
        return ("fix", m.RunAction(scenario=str(c[0]), bindings=bindings, loc=self._tloc(c[0])), c[0])

    def standard(self, meta: Any, c: list[Any]) -> m.Standard:
        ident: Token = c[0]
        self._check_kebab(ident, "standard id")
        data: dict[str, Any] = {}
        excludes: list[str] = []
        for key, value, tok in c[1:]:
            if key == "excludes":
                excludes.append(value)
                continue
            if key in data:
                self.error(tok, f"'{key}' is given twice in standard {ident}")
            data[key] = value
        if excludes:
            data["excludes"] = tuple(excludes)
        if not any(data.get(k) for k in ("when", "files", "unique", "newer")):
            self.error(ident, f"standard {ident} needs a 'when' condition, a 'files' glob, 'unique' or 'newer'")
        for k in ("matching", "lacking", "named", "excludes"):
            if data.get(k) and not data.get("files"):
                self.error(ident, f"standard {ident} has '{k.rstrip('s')}' without 'files'")
        return m.Standard(id=str(ident), source=self.filename, loc=self._tloc(ident), **data)

    # -- schedules
    def sch_cron(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        expr = unescape(c[0])
        problem = _cron_problem(expr)
        if problem:
            self.error(
                c[0],
                f"invalid cron expression {expr!r}: {problem}",
                'cron has five fields: minute hour day-of-month month day-of-week, e.g. "0 3 * * 1"',
            )
        return ("cron", expr, c[0])

    def sch_run(self, meta: Any, c: list[Any]) -> tuple[str, Any, Any]:
        bindings = c[1] if len(c) > 1 else {}
        return ("run", m.RunAction(scenario=str(c[0]), bindings=bindings, loc=self._tloc(c[0])), c[0])

    def sch_check(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        if c:
            return ("check", unescape(c[0]), c[0])
        return ("check_all", True, meta)

    def sch_docs(self, meta: Any, c: list[Token]) -> tuple[str, Any, Any]:
        return ("docs", True, meta)

    def schedule(self, meta: Any, c: list[Any]) -> m.Schedule:
        ident: Token = c[0]
        self._check_kebab(ident, "schedule id")
        data: dict[str, Any] = {}
        for key, value, tok in c[1:]:
            if key in data:
                self.error(tok, f"'{key}' is given twice in schedule {ident}")
            data[key] = value
        if "cron" not in data:
            self.error(ident, f"schedule {ident} has no 'cron' line", 'add e.g. `cron "0 3 * * *"`')
            data["cron"] = "* * * * *"
        if sum(1 for k in ("run", "check", "check_all", "docs") if data.get(k)) != 1:
            self.error(ident, f"schedule {ident} needs exactly one of 'run', 'check' or 'docs'")
        return m.Schedule(id=str(ident), source=self.filename, loc=self._tloc(ident), **data)


_VALUES: dict[str, m.Value] = {}


def _bad_regex(pattern: str) -> bool:
    """An invalid regular expression is reported where it is written; nothing checks values against it."""
    try:
        re.compile(pattern)
    except re.error:
        return True
    return False


def _shared_value(text: str) -> m.Value:
    """Values are frozen, so the many identical ones (`"{{ name }}"`) can share one instance."""
    value = _VALUES.get(text)
    if value is None:
        if len(_VALUES) > 20000:
            _VALUES.clear()
        value = _VALUES[text] = m.Value(value=text)
    return value


def _default_hint(param: m.Param) -> str | None:
    if param.type in m.NUMBER_TYPES:
        low, high = param.bounds()
        return f"write a whole number{param.range_text()} without quotes, e.g. default {max(low, min(3, high))}"
    if param.type == "bool":
        return "write default true or default false"
    if param.type == "enum":
        guess = closest(str(param.default), param.choices)
        return f"did you mean {guess!r}?" if guess else f"choose one of: {', '.join(param.choices)}"
    if param.type in ("snake", "kebab") and isinstance(param.default, str):
        sep = "_" if param.type == "snake" else "-"
        fixed = sep.join(w for w in re.split(r"[^a-z0-9]+", param.default.lower()) if w)
        return f"write {fixed!r}" if fixed else None
    if param.pattern:
        return f"the default must match the pattern {param.pattern}"
    return None


_STMT_KEYWORD = {
    "object_type": "object",
    "estimate_seconds": "estimate",
    "manual_effort_seconds": "manual",
}

_STEP_TYPES = (
    m.RenderStep,
    m.EditStep,
    m.RunStep,
    m.SqlStep,
    m.DocStep,
    m.InsertStep,
    m.CommandStep,
    m.EntryStep,
    m.RowStep,
    m.RouteStep,
    m.ImportStep,
    m.MoveStep,
    m.EndpointStep,
    m.ForwardStep,
)
# Models are built by calling their validators directly: the same validation as `Model(**data)` with one
# Python frame less per model (a large library has tens of thousands of them).
_STEP_BUILDERS: dict[str, Any] = {
    cls.model_fields["kind"].default: cls.__pydantic_validator__.validate_python for cls in _STEP_TYPES
}
_new_location = m.Location.__pydantic_validator__.validate_python
_new_pattern = m.FactPattern.__pydantic_validator__.validate_python
_new_param = m.Param.__pydantic_validator__.validate_python
_new_scenario = m.Scenario.__pydantic_validator__.validate_python


_CRON_FIELDS = [("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7)]


def _cron_problem(expr: str) -> str | None:
    """What is wrong with a five-field cron expression, by croniter (the library the worker schedules with),
    named by field."""
    from croniter import croniter

    parts = expr.split()
    if len(parts) != 5:
        return f"expected 5 fields, got {len(parts)}"
    for i, (name, low, high) in enumerate(_CRON_FIELDS):
        alone = " ".join(part if j == i else "*" for j, part in enumerate(parts))
        try:
            croniter(alone)
        except (ValueError, KeyError) as exc:  # croniter's errors are ValueErrors; a bad name can be a KeyError
            if "out of range" in str(exc) or "out of bands" in str(exc):
                return f"{name}: {parts[i]} is outside {low}-{high}"
            if "step" in str(exc):
                return f"{name}: the step of {parts[i]!r} must be a number above 0"
            return f"{name}: {parts[i]!r} is not a number, name, range, list, step or *"
    try:
        croniter(expr)
    except (ValueError, KeyError) as exc:
        return str(exc)
    return None

"""A shell script read like a shell reads it: tokens (quotes, `$(...)`, here-documents, comments) and the compound
commands (`case`, `if/elif/else`, functions) with their line spans, for `shellwrap` to find a wrapper's dispatch."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HELP_WORDS = frozenset({"help", "--help", "-h", "-help", "--h", "?", "-?"})
_COMMAND_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_:.-]*\Z")
_KEYWORDS_END = frozenset({"fi", "else", "elif", "then", "esac", "done", "do", "}"})


class ShellFormError(ValueError):
    """The wrapper dispatches in a form this module does not know; the message says what it expected."""


# ---------------------------------------------------------------- tokens


@dataclass
class Tok:
    kind: str  # word | op | nl
    text: str
    line: int  # 0-based line of the token's first character
    end_line: int = 0


@dataclass
class Lexed:
    tokens: list[Tok]
    heredoc_lines: set[int]  # 0-based lines inside here-document bodies
    heredoc_quoted: dict[int, bool]  # body line -> delimiter was quoted (no expansion)


_OPS = (";;&", ";;", ";&", "&&", "||", "<<-", "<<<", "<<", ">>", ">&", "<&", "&>", ";", "|", "&", "(", ")", "<", ">")


def lex(text: str) -> Lexed:
    toks: list[Tok] = []
    heredoc: set[int] = set()
    quoted_doc: dict[int, bool] = {}
    pending: list[tuple[str, bool, bool]] = []
    i, n, line = 0, len(text), 0
    while i < n:
        c = text[i]
        if c == "\n":
            toks.append(Tok("nl", "\n", line, line))
            i += 1
            line += 1
            for delim, dash, quoted in pending:
                while i < n:
                    j = text.find("\n", i)
                    end = n if j == -1 else j
                    body = text[i:end]
                    i = end + 1 if j != -1 else n
                    if (body.lstrip("\t") if dash else body) == delim:
                        line += 1
                        break
                    heredoc.add(line)
                    quoted_doc[line] = quoted
                    line += 1
            pending = []
            continue
        if c in " \t\r":
            i += 1
            continue
        if c == "\\" and text.startswith("\n", i + 1):
            i += 2
            line += 1
            continue
        if c == "#":
            j = text.find("\n", i)
            i = n if j == -1 else j
            continue
        op = next((o for o in _OPS if text.startswith(o, i)), None)
        if op is not None:
            toks.append(Tok("op", op, line, line))
            i += len(op)
            if op in ("<<", "<<-"):
                while i < n and text[i] in " \t":
                    i += 1
                start = i
                i, line2 = _scan_word(text, i, line)
                raw = text[start:i]
                delim = re.sub(r"[\"'\\]", "", raw)
                pending.append((delim, op == "<<-", raw != delim))
                line = line2
            continue
        start, first = i, line
        i, line = _scan_word(text, i, line)
        if text.startswith("(", i) and text[start:i].endswith("="):
            i, line = _scan_balanced(text, i + 1, line, "(", ")")
        toks.append(Tok("word", text[start:i], first, line))
    return Lexed(toks, heredoc, quoted_doc)


def _skip_nested(text: str, i: int, line: int) -> tuple[int, int] | None:
    """A quoted string or a substitution that starts at `i` (`'...'`, `"..."`, a backquote, `$(...)`,
    `${...}`): where it ends and the line there; None when none starts at `i`."""
    c = text[i]
    if c == "'":
        j = text.find("'", i + 1)
        j = len(text) - 1 if j == -1 else j
        return j + 1, line + text.count("\n", i, j)
    if c == '"':
        return _scan_double(text, i + 1, line)
    if c == "`":
        return _scan_backtick(text, i + 1, line)
    if c == "$" and text.startswith("(", i + 1):
        return _scan_balanced(text, i + 2, line, "(", ")")
    if c == "$" and text.startswith("{", i + 1):
        return _scan_balanced(text, i + 2, line, "{", "}")
    return None


def _scan_word(text: str, i: int, line: int) -> tuple[int, int]:
    n = len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n;&|()<>":
            break
        if c == "\\":
            if text.startswith("\n", i + 1):
                line += 1
            i += 2
            continue
        if (nested := _skip_nested(text, i, line)) is not None:
            i, line = nested
            continue
        i += 1
    return i, line


def _scan_double(text: str, i: int, line: int) -> tuple[int, int]:
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            if text.startswith("\n", i + 1):
                line += 1
            i += 2
            continue
        if c == '"':
            return i + 1, line
        if c == "\n":
            line += 1
        elif c != "'" and (nested := _skip_nested(text, i, line)) is not None:
            i, line = nested
            continue
        i += 1
    return n, line


def _scan_backtick(text: str, i: int, line: int) -> tuple[int, int]:
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "\n":
            line += 1
        if c == "`":
            return i + 1, line
        i += 1
    return n, line


def _scan_balanced(text: str, i: int, line: int, open_: str, close: str) -> tuple[int, int]:
    n, depth = len(text), 1
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "\n":
            line += 1
        elif (nested := _skip_nested(text, i, line)) is not None:
            i, line = nested
            continue
        elif c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i + 1, line
        i += 1
    return n, line


# ---------------------------------------------------------------- compound commands


@dataclass
class Where:
    in_loop: bool = False
    function: str | None = None
    depth: int = 0  # compound commands around this one (function bodies not counted)
    parent: int = 0  # id of the enclosing list, so sibling `if` blocks can be grouped
    path: tuple[int, ...] = ()  # ids of the enclosing lists, outermost first


@dataclass
class Simple:
    words: list[str]
    line: int
    where: Where


@dataclass
class Arm:
    patterns: list[str]  # raw words, quotes kept
    line: int  # label line
    body_line: int | None  # first body token line
    end_line: int | None  # line of `;;`
    body_indent: str | None = None


@dataclass
class Case:
    subject: str
    line: int
    end_line: int
    arms: list[Arm]
    where: Where


@dataclass
class Branch:
    kind: str  # if | elif | else
    line: int
    condition: list[str]
    body_line: int | None = None


@dataclass
class If:
    branches: list[Branch]
    line: int
    end_line: int
    where: Where


@dataclass
class Function:
    name: str
    line: int
    end_line: int
    body: list[Simple]


@dataclass
class Script:
    text: str
    lines: list[str]
    lexed: Lexed
    simples: list[Simple] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    ifs: list[If] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)


class _Parser:
    def __init__(self, text: str) -> None:
        self.lexed = lex(text)
        self.toks = self.lexed.tokens
        self.i = 0
        self.script = Script(text, text.splitlines(keepends=True), self.lexed)
        self.lists = 0
        self._fn_simples: list[Simple] | None = None

    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def next(self) -> Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def skip_nl(self) -> None:
        while (t := self.peek()) is not None and (t.kind == "nl" or (t.kind == "op" and t.text == ";")):
            self.i += 1

    def parse(self) -> Script:
        self.statements(Where(), stop=frozenset())
        return self.script

    def statements(self, where: Where, stop: frozenset[str], case_arm: bool = False) -> Tok | None:
        """Parse commands until a keyword in `stop` (returned, not consumed) or `;;`/`)` in a case arm."""
        self.lists += 1
        where = Where(where.in_loop, where.function, where.depth, self.lists, (*where.path, self.lists))
        while True:
            self.skip_nl()
            t = self.peek()
            if t is None:
                return None
            if t.kind == "word" and t.text in stop:
                return t
            if case_arm and t.kind == "op" and t.text in (";;", ";&", ";;&"):
                return t
            if case_arm and t.kind == "word" and t.text == "esac":
                return t
            if t.kind == "op" and t.text in ("&&", "||", "|", "&"):
                self.i += 1
                continue
            if t.kind == "op" and t.text == ")":
                if case_arm:
                    return t
                self.i += 1
                continue
            self.command(where)

    def command(self, where: Where) -> None:
        t = self.next()
        inner = Where(where.in_loop, where.function, where.depth + 1, where.parent, where.path)
        if t.kind == "word" and t.text == "if":
            self.if_clause(t, where, inner)
            return
        if t.kind == "word" and t.text == "case":
            self.case_clause(t, where)
            return
        if t.kind == "word" and t.text in ("while", "until", "for", "select"):
            loop = Where(True, where.function, where.depth + 1, where.parent, where.path)
            if t.text in ("for", "select"):
                while (p := self.peek()) is not None and not (p.kind == "word" and p.text == "do"):
                    self.i += 1
            else:
                self.statements(loop, frozenset({"do"}))
            if (p := self.peek()) is not None and p.text == "do":
                self.i += 1
            self.statements(loop, frozenset({"done"}))
            if (p := self.peek()) is not None and p.text == "done":
                self.i += 1
            return
        if t.kind == "word" and t.text == "{":
            self.statements(inner, frozenset({"}"}))
            if (p := self.peek()) is not None and p.text == "}":
                self.i += 1
            return
        if t.kind == "op" and t.text == "(":
            self.statements(inner, frozenset(), case_arm=True)
            if (p := self.peek()) is not None and p.text == ")":
                self.i += 1
            return
        if t.kind == "word" and t.text == "function":
            name = self.next()
            if (p := self.peek()) is not None and p.text == "(":
                self.i += 2
            self.function(name.text, t.line, where)
            return
        if (
            t.kind == "word"
            and self.i + 1 < len(self.toks)
            and self.toks[self.i].text == "("
            and self.toks[self.i + 1].text == ")"
        ):
            self.i += 2
            self.function(t.text, t.line, where)
            return
        if t.kind == "word" and t.text in _KEYWORDS_END:
            return
        words = [t.text] if t.kind == "word" else []
        while (p := self.peek()) is not None:
            if p.kind == "nl" or (p.kind == "op" and p.text in (";", ";;", ";&", ";;&", "&&", "||", "|", "&", ")")):
                break
            self.i += 1
            if p.kind == "word":
                words.append(p.text)
            elif p.text == "(":
                words.append("(")
        if words:
            simple = Simple(words, t.line, where)
            self.script.simples.append(simple)
            if self._fn_simples is not None:
                self._fn_simples.append(simple)

    def function(self, name: str, line: int, where: Where) -> None:
        self.skip_nl()
        outer = self._fn_simples
        body: list[Simple] = []
        self._fn_simples = body
        fn_where = Where(where.in_loop, name, where.depth, where.parent, where.path)
        t = self.peek()
        end_line = line
        if t is not None and t.text == "{":
            self.i += 1
            self.statements(fn_where, frozenset({"}"}))
            if (p := self.peek()) is not None:
                end_line = p.line
                self.i += 1
        elif t is not None:
            self.command(fn_where)
            end_line = self.toks[self.i - 1].end_line
        self._fn_simples = outer
        if outer is not None:
            outer.extend(body)
        self.script.functions.append(Function(name, line, end_line, body))

    def if_clause(self, t: Tok, where: Where, inner: Where) -> None:
        node = If([], t.line, t.line, where)
        kind, line = "if", t.line
        while True:
            start = self.i
            self.statements(inner, frozenset({"then"}))
            cond = [tok.text for tok in self.toks[start : self.i] if tok.kind != "nl"]
            branch = Branch(kind, line, cond)
            node.branches.append(branch)
            if (p := self.peek()) is not None and p.text == "then":
                self.i += 1
            self.skip_nl()
            branch.body_line = p.line if (p := self.peek()) is not None else None
            end = self.statements(inner, frozenset({"elif", "else", "fi"}))
            if end is None:
                break
            self.i += 1
            if end.text == "elif":
                kind, line = "elif", end.line
                continue
            if end.text == "else":
                self.skip_nl()
                els = Branch("else", end.line, [], (p.line if (p := self.peek()) is not None else None))
                node.branches.append(els)
                end = self.statements(inner, frozenset({"fi"}))
                if end is not None:
                    self.i += 1
                    node.end_line = end.line
                break
            node.end_line = end.line
            break
        self.script.ifs.append(node)

    def case_clause(self, t: Tok, where: Where) -> None:
        subject = self.next().text if self.peek() is not None else ""
        if (p := self.peek()) is not None and p.text == "in":
            self.i += 1
        node = Case(subject, t.line, t.line, [], where)
        inner = Where(where.in_loop, where.function, where.depth + 1, where.parent, where.path)
        while True:
            self.skip_nl()
            p = self.peek()
            if p is None:
                break
            if p.kind == "word" and p.text == "esac":
                node.end_line = p.line
                self.i += 1
                break
            if p.kind == "op" and p.text == "(":
                self.i += 1
            patterns: list[str] = []
            label_line = self.peek().line if self.peek() is not None else t.line  # type: ignore[union-attr]
            while (q := self.peek()) is not None and not (q.kind == "op" and q.text == ")"):
                self.i += 1
                if q.kind == "word":
                    patterns.append(q.text)
                if q.kind == "nl":
                    break
            if (q := self.peek()) is not None and q.text == ")":
                self.i += 1
            arm = Arm(patterns, label_line, None, None)
            self.skip_nl()
            q = self.peek()
            ends = q is None or (q.kind == "op" and q.text in (";;", ";&", ";;&")) or q.text == "esac"
            if q is not None and not ends:
                arm.body_line = q.line
            end = self.statements(inner, frozenset(), case_arm=True)
            if end is not None and end.kind == "op" and end.text in (";;", ";&", ";;&"):
                arm.end_line = end.line
                self.i += 1
            elif end is not None and end.kind == "op" and end.text == ")":
                self.i += 1
            node.arms.append(arm)
        self.script.cases.append(node)


def parse_script(text: str) -> Script:
    return _Parser(text).parse()


# ---------------------------------------------------------------- dispatch


def unquote(word: str) -> str:
    out, i = [], 0
    while i < len(word):
        c = word[i]
        if c in "'\"":
            j = word.find(c, i + 1)
            j = len(word) if j == -1 else j
            out.append(word[i + 1 : j])
            i = j + 1
            continue
        if c == "\\" and i + 1 < len(word):
            out.append(word[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)

"""The command dispatch of a shell CLI wrapper, read from its structure, and edits that follow it.

Real wrappers dispatch in many ways: a `case` on `$1` or on a variable set from it (`COMMAND="$1"; shift`,
`local command=${1:-help}` inside a `main "$@"`), with quoted or bare labels and alternatives (`"a"|"b")`); a run of
separate `if [ "$1" = "name" ]; then ... exit $?; fi` blocks; an `if/elif/else` chain; help text in a function of
`echo` lines or in a here-document, with the commands in columns under headings. Anchoring on one string fits one
of them. This module tokenises the script like a shell does (quotes, `$(...)`, here-documents, comments), builds the
compound commands with their line spans, finds the dispatch and the help listing, and writes a new command the way
its neighbours are written: label quoting, indentation, `shift` only when the command word is still in `"$@"`, the
wrapper's own `track_command` calling convention and TypeScript runner, a help line in the listing's columns.

Discovery (`parse "shell.commands"`) and the `command` step both read wrappers through `dispatches`, so the
commands a scenario sees are the ones its edits understand.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from continuous.engine.shparse import _COMMAND_WORD, HELP_WORDS, Case, If, Script, Simple, Where, unquote
from continuous.engine.shparse import ShellFormError as ShellFormError
from continuous.engine.shparse import parse_script as parse_script

_ARG1 = re.compile(r"^\$(?:1|\{1(?::?-[^}]*)?\})$")
_VAR = re.compile(r"^\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})$")


@dataclass
class Dispatch:
    """One way the wrapper maps a command word to what it runs."""

    form: str  # case | ifs | elif
    subject: str  # as written: "$1", $COMMAND, "$COMMAND"
    shifted: bool  # the command word is no longer in "$@" where the dispatch runs
    commands: list[tuple[str, int]]  # (name, 0-based line)
    case: Case | None = None
    blocks: list[If] = field(default_factory=list)
    test: tuple[str, str] = ("[", "=")  # bracket and operator of the wrapper's tests


def _subject_var(subject: str) -> str | None:
    raw = unquote(subject)
    if _ARG1.match(raw):
        return ""
    m = _VAR.match(raw)
    return (m.group(1) or m.group(2)) if m else None


def _command_labels(patterns: list[str]) -> list[str]:
    out = []
    for p in patterns:
        name = unquote(p)
        if name in HELP_WORDS or not _COMMAND_WORD.match(name):
            continue
        out.append(name)
    return out


def _first_arg_vars(script: Script) -> dict[str, Simple]:
    """Variables assigned from the first argument: COMMAND="$1", local command=${1:-help}, CMD=$1."""
    out: dict[str, Simple] = {}
    for s in script.simples:
        words = s.words[1:] if s.words[0] in ("local", "export", "readonly", "declare") else s.words
        for w in words:
            m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", w, re.S)
            if m and _ARG1.match(unquote(m.group(2))):
                out.setdefault(m.group(1), s)
    return out


def _called_with_all_args(script: Script, function: str) -> bool:
    return any(
        s.words[0] == function and '"$@"' in s.words[1:] and s.where.function is None and s.where.depth == 0
        for s in script.simples
    )


def _shifted_before(script: Script, line: int, where: Where, since: int) -> bool:
    return any(
        s.words[0] == "shift"
        and since <= s.line < line
        and s.where.function == where.function
        and s.where.parent in where.path
        for s in script.simples
    )


def _usable(script: Script, where: Where) -> bool:
    if where.in_loop:
        return False
    return where.function is None or _called_with_all_args(script, where.function)


def _tests_in(condition: list[str], subject_ok: dict[str, bool]) -> tuple[list[str], tuple[str, str], str] | None:
    """Names a condition compares the command with, the test style, and the subject as written."""
    names: list[str] = []
    style = ("[", "=")
    subject = ""
    words = [w for w in condition if w not in ("!",)]
    for k, w in enumerate(words):
        if w not in ("=", "==") or k == 0 or k + 1 >= len(words):
            continue
        left, right = words[k - 1], words[k + 1]
        var = _subject_var(left)
        if var is None or (var and var not in subject_ok):
            continue
        name = unquote(right)
        opener = next((x for x in reversed(words[:k]) if x in ("[", "[[", "test")), "[")
        style = (opener, w)
        subject = left
        if name in HELP_WORDS or not name:
            names.append("")
            continue
        if _COMMAND_WORD.match(name):
            names.append(name)
    return (names, style, subject) if names else None


def dispatches(script: Script) -> list[Dispatch]:
    """Every usable dispatch of the script (not option parsing in loops, not a function's own arguments)."""
    assigned = _first_arg_vars(script)
    found: list[Dispatch] = []
    for case in script.cases:
        var = _subject_var(case.subject)
        if var is None or (var and var not in assigned):
            continue
        if not _usable(script, case.where):
            continue
        commands = [(name, arm.line) for arm in case.arms for name in _command_labels(arm.patterns)]
        if not commands:
            continue
        if var:
            source = assigned[var]
            shifted = _shifted_before(script, case.line, case.where, source.line)
        else:
            shifted = False
        found.append(Dispatch("case", case.subject, shifted, commands, case=case))
    subject_ok = {v: True for v in assigned}
    groups: dict[int, list[tuple[If, list[str], tuple[str, str], str]]] = {}
    for node in script.ifs:
        if not _usable(script, node.where):
            continue
        tested = _tests_in(node.branches[0].condition, subject_ok)
        if tested is None:
            continue
        names, style, subject = tested
        elifs = [(b, _tests_in(b.condition, subject_ok)) for b in node.branches[1:] if b.kind == "elif"]
        if any(t is not None for _, t in elifs) or any(b.kind == "else" for b in node.branches):
            commands = [(n, node.line) for n in names if n]
            for b, t in elifs:
                if t is not None:
                    commands.extend((n, b.line) for n in t[0] if n)
            var = _subject_var(subject) or ""
            shifted = bool(var) and _shifted_before(
                script, node.line, node.where, assigned[var].line if var in assigned else 0
            )
            if commands:
                found.append(Dispatch("elif", subject, shifted, commands, blocks=[node], test=style))
            continue
        groups.setdefault(node.where.parent, []).append((node, names, style, subject))
    for members in groups.values():
        commands = [(n, node.line) for node, names, _, _ in members for n in names if n]
        if not commands:
            continue
        node, _, style, subject = members[-1]
        var = _subject_var(subject) or ""
        shifted = bool(var) and _shifted_before(
            script, members[0][0].line, node.where, assigned[var].line if var in assigned else 0
        )
        found.append(Dispatch("ifs", subject, shifted, commands, blocks=[m[0] for m in members], test=style))
    return found


def main_dispatch(script: Script) -> Dispatch | None:
    """The dispatch with the most commands (a `case` wins a tie)."""
    found = dispatches(script)
    if not found:
        return None
    return max(found, key=lambda d: (len(d.commands), d.form == "case"))


def commands_of(text: str) -> list[tuple[str, int]]:
    """Every command the wrapper dispatches (name, 1-based line), for discovery."""
    script = parse_script(text)
    seen: dict[str, int] = {}
    for d in dispatches(script):
        for name, line in d.commands:
            seen.setdefault(name, line + 1)
    return sorted(seen.items(), key=lambda x: x[1])


EXPECTED = (
    'a `case` on the command argument (`case "$1" in` or on a variable set from it, such as '
    '`COMMAND="$1"`) with one arm per command, or `if [ "$1" = "name" ]` / `elif` tests of it'
)


# ---------------------------------------------------------------- learning the wrapper's conventions


def _indent(line: str) -> str:
    m = re.match(r"[ \t]*", line)
    return m.group(0) if m else ""


def dir_variable(script: Script) -> str | None:
    """The variable holding the wrapper's own folder (SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd))."""
    for s in script.simples:
        for w in s.words:
            m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", w, re.S)
            value = m.group(2) if m else ""
            if m and "dirname" in value and ("BASH_SOURCE" in value or "$0" in value) and ".." not in value:
                return m.group(1)
    return None


_RUNNER = re.compile(
    r"((?:npx\s+)?(?:tsx|ts-node)(?:\s+--[a-z][a-z-]*)*)\s+\\?\"?\$\{?(?P<var>[A-Za-z_][A-Za-z0-9_]*)\}?/[^\s\"']+\.ts\b"
)


def ts_runner(script: Script, default: str = "npx tsx") -> str:
    """The TypeScript runner the wrapper uses most (`npx ts-node`, `ts-node --transpile-only`, `npx tsx`)."""
    counts = Counter(re.sub(r"\s+", " ", m.group(1)) for m in _RUNNER.finditer(script.text))
    return counts.most_common(1)[0][0] if counts else default


def track_convention(script: Script) -> str:
    """How the wrapper's track_command runs a command: string (eval), argv ("$@"), record (only logs), none."""
    fn = next((f for f in script.functions if f.name == "track_command"), None)
    if fn is None:
        calls = [s for s in script.simples if s.words[0] == "track_command"]
        if not calls:
            return "none"
        spaced = sum(1 for s in calls if len(s.words) == 3 and " " in unquote(s.words[2]))
        return "string" if spaced * 2 >= len(calls) else "record"
    words = [w for s in fn.body for w in s.words]
    if "eval" in words:
        return "string"
    if any(s.words[0] in ('"$@"', "$@") for s in fn.body):
        return "argv"
    return "record"


# ---------------------------------------------------------------- the edit


@dataclass
class NewCommand:
    name: str
    runs: str  # path relative to the wrapper's folder, then fixed arguments: "cli.ts sync" or "commands/x.ts"
    help: str = ""


def _sh_double(text: str, *, expand: bool = False) -> str:
    """`text` for a double-quoted shell string; with `expand`, `$VAR` still expands where the string is used."""
    return re.sub(r'([\\"`])' if expand else r'([\\"$`])', r"\\\1", text)


def _run_lines(script: Script, cmd: NewCommand, shift: bool) -> list[str]:
    parts = cmd.runs.split()
    if not parts:
        raise ShellFormError("the command to run is empty")
    target, args = parts[0], parts[1:]
    var = dir_variable(script)
    ref = f"${var}/{target}" if var else f'$(dirname "$0")/{target}'
    if target.endswith(".ts"):
        program = f'{ts_runner(script)} "{ref}"'
    elif target.endswith((".js", ".cjs", ".mjs")):
        program = f'node "{ref}"'
    else:
        program = f'"{ref}"'
    fixed = "".join(f" {a}" for a in args)
    out = ["shift"] if shift else []
    convention = track_convention(script)
    if convention == "string":
        out.append(f'track_command "{cmd.name}" "{_sh_double(program + fixed, expand=True)} $*"')
    elif convention == "argv":
        out.append(f'track_command "{cmd.name}" {program}{fixed} "$@"')
    elif convention == "record":
        out.append(f'track_command "{cmd.name}"')
        out.append(f'{program}{fixed} "$@"')
    else:
        out.append(f'{program}{fixed} "$@"')
    return out


def _is_blank(line: str) -> bool:
    return not line.strip()


def _case_edit(script: Script, d: Dispatch, cmd: NewCommand) -> tuple[int, list[str]]:
    case = d.case
    assert case is not None
    lines = script.lines
    command_arms = [a for a in case.arms if _command_labels(a.patterns)]
    default = next((k for k, a in enumerate(case.arms) if any(unquote(p) == "*" for p in a.patterns)), None)
    before_default = [a for a in command_arms if default is None or case.arms.index(a) < default]
    model = (before_default or command_arms)[-1]
    label_indent = _indent(lines[model.line])
    body_indent = _indent(lines[model.body_line]) if model.body_line is not None else label_indent + "  "
    if model.body_line == model.line:
        body_indent = label_indent + "  "
    end_indent = body_indent
    if model.end_line is not None and model.end_line != model.line:
        stripped = lines[model.end_line].strip()
        if stripped.startswith(";;"):
            end_indent = _indent(lines[model.end_line])
    labels = [p for a in command_arms for p in a.patterns if _command_labels([p])]
    quoted = sum(1 for p in labels if p.startswith('"')) * 2 > len(labels)
    label = f'"{cmd.name}"' if quoted else cmd.name
    body = [f"{label_indent}{label})"]
    body += [f"{body_indent}{ln}" for ln in _run_lines(script, cmd, shift=not d.shifted)]
    body.append(f"{end_indent};;")
    if before_default and model.end_line is not None:
        at = model.end_line + 1
        separated = at < len(lines) and _is_blank(lines[at])
        return at, ([""] if separated else []) + body
    first = case.arms[default if default is not None else 0]
    return first.line, body


def _test(d: Dispatch, name: str) -> str:
    opener, op = d.test
    closer = "]]" if opener == "[[" else "]"
    subject = d.subject if d.subject.startswith('"') else f'"{d.subject}"'
    if opener == "test":
        return f'test {subject} {op} "{name}"'
    return f'{opener} {subject} {op} "{name}" {closer}'


def _ifs_edit(script: Script, d: Dispatch, cmd: NewCommand) -> tuple[int, list[str]]:
    lines = script.lines
    named = {line for _, line in d.commands}
    last = max((b for b in d.blocks if b.line in named), key=lambda b: b.end_line)
    outer = _indent(lines[last.line])
    first = last.branches[0]
    inner = _indent(lines[first.body_line]) if first.body_line is not None else outer + "  "
    if not inner or len(inner) <= len(outer):
        inner = outer + "  "
    body = [f"{outer}if {_test(d, cmd.name)}; then"]
    body += [f"{inner}{ln}" for ln in _run_lines(script, cmd, shift=not d.shifted)]
    body += [f"{inner}exit $?", f"{outer}fi"]
    at = last.end_line + 1
    separated = len(d.blocks) > 1 and any(
        b.end_line + 1 < len(lines) and _is_blank(lines[b.end_line + 1]) for b in d.blocks
    )
    return at, ([""] if separated else []) + body


def _elif_edit(script: Script, d: Dispatch, cmd: NewCommand) -> tuple[int, list[str]]:
    lines = script.lines
    node = d.blocks[0]
    outer = _indent(lines[node.line])
    first = node.branches[0]
    inner = _indent(lines[first.body_line]) if first.body_line is not None else outer + "  "
    if len(inner) <= len(outer):
        inner = outer + "  "
    body = [f"{outer}elif {_test(d, cmd.name)}; then"]
    body += [f"{inner}{ln}" for ln in _run_lines(script, cmd, shift=not d.shifted)]
    tail = next((b for b in node.branches if b.kind == "else"), None)
    at = tail.line if tail is not None else node.end_line
    while at > node.line and lines[at - 1].lstrip().startswith("#"):
        at -= 1
    return at, body


# ---------------------------------------------------------------- help listing


_ENTRY = re.compile(
    r"^(?P<lead>[ \t]*(?:[*•+-][ \t]+)?)(?P<name>[A-Za-z][\w:.-]*)(?P<args>(?:[ \t][\[<-][^ \t]*)*)"
    r"(?P<gap>[ \t]{2,}|[ \t]+-[ \t]+)\S"
)
_HEADING = re.compile(r"commands\s*:\s*$", re.I)
_ECHO = re.compile(r"^(?P<pre>[ \t]*echo(?:[ \t]+-[neE]+)*[ \t]+)(?P<q>[\"'])(?P<body>.*)(?P=q)(?P<post>[ \t]*)$")


@dataclass
class HelpLine:
    index: int
    kind: str  # echo | heredoc
    content: str
    pre: str = ""
    quote: str = ""
    post: str = ""
    expands: bool = True


def help_lines(script: Script) -> list[HelpLine]:
    out: list[HelpLine] = []
    for k, raw in enumerate(script.lines):
        line = raw.rstrip("\n")
        if k in script.lexed.heredoc_lines:
            out.append(HelpLine(k, "heredoc", line, expands=not script.lexed.heredoc_quoted.get(k, False)))
            continue
        m = _ECHO.match(line)
        if m:
            body = m.group("body")
            if m.group("q") == '"':
                body = re.sub(r'\\([\\"$`])', r"\1", body)
            out.append(HelpLine(k, "echo", body, m.group("pre"), m.group("q"), m.group("post")))
    return out


def _help_edit(script: Script, known: set[str], cmd: NewCommand) -> tuple[int, str] | None:
    lines = help_lines(script)
    entries = []
    for hl in lines:
        m = _ENTRY.match(hl.content)
        if m and m.group("name") in known:
            entries.append((hl, m))
    if entries:
        plain = [e for e in entries if not re.search(r"[*•+-]", e[1].group("lead"))]
        hl, m = (plain or entries)[-1]
        last_hl = entries[-1][0]
        lead = re.sub(r"[*•+-]", " ", m.group("lead"))
        column = len(m.group("lead")) + len(m.group("name")) + len(m.group("args")) + len(m.group("gap"))
        gap = m.group("gap") if "-" in m.group("gap") else " " * max(2, column - len(lead) - len(cmd.name))
        content = f"{lead}{cmd.name}{gap}{cmd.help or cmd.name}"
        return last_hl.index + 1, _help_text(hl, content)
    heading = next((hl for hl in lines if _HEADING.search(hl.content.strip())), None)
    if heading is None:
        return None
    return heading.index + 1, _help_text(heading, f"  {cmd.name:<20}{cmd.help or cmd.name}")


def _help_text(model: HelpLine, content: str) -> str:
    if model.kind == "heredoc":
        return re.sub(r"([\\$`])", r"\\\1", content) if model.expands else content
    if model.quote == "'":
        body = content.replace("'", "'\\''")
    else:
        body = _sh_double(content)
    return f"{model.pre}{model.quote}{body}{model.quote}{model.post}"


def add_command(text: str, cmd: NewCommand, where: str = "the wrapper") -> str | None:
    """`text` with `cmd` dispatched and listed in the help; None when it is dispatched already."""
    if not _COMMAND_WORD.match(cmd.name):
        raise ShellFormError(f"{cmd.name!r} is not a command name")
    script = parse_script(text)
    d = main_dispatch(script)
    if d is None:
        raise ShellFormError(f"{where}: no command dispatch found; expected {EXPECTED}")
    known = {name for found in dispatches(script) for name, _ in found.commands}
    if cmd.name in known:
        return None
    if d.form == "case":
        at, body = _case_edit(script, d, cmd)
    elif d.form == "ifs":
        at, body = _ifs_edit(script, d, cmd)
    else:
        at, body = _elif_edit(script, d, cmd)
    inserts: list[tuple[int, list[str]]] = [(at, body)]
    listed = _help_edit(script, known, cmd)
    if listed is not None:
        inserts.append((listed[0], [listed[1]]))
    lines = list(script.lines)
    for at, new in sorted(inserts, key=lambda x: x[0], reverse=True):
        block = [ln + "\n" for ln in new]
        if at >= len(lines) and lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
            block[-1] = block[-1][:-1]
        lines[at:at] = block
    return "".join(lines)

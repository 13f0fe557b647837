"""Read facts about a repository from the DSL's `discover` declarations.

Discovery runs before every plan and after every scenario (to validate `fact` checks), so it must stay fast on
a big monorepo: the file list is taken once (git's index plus untracked files, or one `os.walk` outside git) and shared
by every declaration, globs are compiled to regular expressions once, and field templates are compiled once per
declaration instead of once per fact.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from continuous.common.errors import UserError
from continuous.dsl.model import Discover, RuleBase, Scalar
from continuous.dsl.templating import SIMPLE_VARIABLE
from continuous.engine import git
from continuous.engine.facts import Fact

SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "__pycache__", ".cache", "dist", ".turbo"})
_MAX_FILE_BYTES = 4 * 1024 * 1024


@lru_cache(maxsize=4096)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob (`*`, `?`, `[..]`, `**` for any number of directories) as a compiled full-match regex."""
    out: list[str] = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                at_start = i == 0 or pattern[i - 1] == "/"
                i += 2
                if at_start and i < n and pattern[i] == "/":
                    out.append("(?:[^/]+/)*")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i + 1)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def layout_glob(pattern: str, owner: str) -> str:
    """A glob as it applies in this repository: globs may name the configured folders
    (`{{ conventions.apps_dir }}/*/package.json`, see common/config.py)."""
    if "{{" not in pattern:
        return pattern
    from continuous.dsl.templating import render_string

    return render_string(pattern, {}, where=f"glob of {owner}")


def glob_match(pattern: str, path: str) -> bool:
    return glob_regex(pattern).match(path) is not None


def list_files(worktree: Path) -> list[str]:
    """Every non-ignored file of the worktree as a POSIX relative path (tracked and untracked)."""
    proc = git.run(worktree, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--deduplicate")
    if proc.returncode == 0:
        files = [p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p]
        return [p for p in files if not _skipped(p)]
    out: list[str] = []
    root = str(worktree)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        rel = os.path.relpath(dirpath, root)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        out.extend(prefix + f for f in filenames)
    return out


def _skipped(path: str) -> bool:
    return any(part in SKIP_DIRS for part in path.split("/")[:-1])


def _literal_prefix(glob: str) -> str:
    """The directory part of a glob before its first wildcard, to skip most files with one startswith."""
    cut = len(glob)
    for ch in "*?[":
        k = glob.find(ch)
        if k != -1:
            cut = min(cut, k)
    head = glob[:cut]
    return head[: head.rfind("/") + 1] if "/" in head else ""


class _Compiled:
    def __init__(self, decl: Discover) -> None:
        self.decl = decl
        globs = [layout_glob(g, decl.fact_type) for g in decl.globs]
        self.globs = [(_literal_prefix(g), glob_regex(g)) for g in globs]
        self.excludes = [glob_regex(layout_glob(g, decl.fact_type)) for g in decl.excludes]
        self.regex = re.compile(decl.regex, re.MULTILINE) if decl.regex else None
        self.fields = {name: _compile_field(t) for name, t in decl.fields.items()}
        self.where = _compile_where(decl) if decl.where else None
        # readers that need all their files at once (engine.extractors); others read file by file
        self.whole = decl.parser is not None and decl.parser in _whole_readers()
        # A glob that names its file (`apps/*/.env.example`) reads it even when git ignores it.
        self.named = [
            rx for g, (_, rx) in zip(globs, self.globs, strict=True) if not re.search(r"[*?[]", g.split("/")[-1])
        ]

    def matches(self, path: str) -> bool:
        if not any(path.startswith(prefix) and rx.match(path) for prefix, rx in self.globs):
            return False
        return not any(rx.match(path) or _dir_excluded(rx, path) for rx in self.excludes)


def _whole_readers() -> frozenset[str]:
    from continuous.engine.extractors import EXTRACTORS

    return frozenset(EXTRACTORS)


def _compile_where(decl: Discover) -> Any:
    from continuous.dsl.templating import environment
    from jinja2 import TemplateError

    try:
        return environment().compile_expression(decl.where or "", undefined_to_none=False)
    except TemplateError as exc:
        raise UserError(f"discover {decl.fact_type}: invalid where expression: {exc}", hint=_where(decl)) from None


def _kept(comp: _Compiled, context: Mapping[str, Any]) -> bool:
    if comp.where is None:
        return True
    from jinja2 import TemplateError

    try:
        return bool(comp.where(**context))
    except TemplateError as exc:
        raise UserError(
            f"discover {comp.decl.fact_type}: cannot evaluate where: {exc}", hint=_where(comp.decl)
        ) from None
    except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
        raise UserError(
            f"discover {comp.decl.fact_type}: cannot evaluate where: {exc}", hint=_where(comp.decl)
        ) from None


def _dir_excluded(rx: re.Pattern[str], path: str) -> bool:
    # An exclude naming a directory ("apps/.archived_apps") excludes everything below it.
    parts = path.split("/")
    return any(rx.match("/".join(parts[:k])) for k in range(1, len(parts)))


_FAST = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)(?:\[(-?\d+)\])?((?:\s*\|\s*[a-z_]+)*)\s*\}\}$")


class _Fast:
    """`{{ var }}`, `{{ var[i] }}`, `{{ var | f | g }}` without Jinja: most discovery fields are like that."""

    def __init__(self, var: str, index: int | None, filters: list[Any]) -> None:
        self.var = var
        self.index = index
        self.filters = filters

    def render(self, context: Mapping[str, Any]) -> Any:
        value = context[self.var]
        if self.index is not None:
            value = value[self.index]
        for f in self.filters:
            value = f(value)
        return value


def _compile_field(template: str) -> Any:
    simple = SIMPLE_VARIABLE.match(template)
    if simple:
        return simple.group(1)
    if "{{" not in template and "{%" not in template:
        return ("const", template)
    fast = _FAST.match(template)
    if fast:
        from continuous.dsl.templating import FILTERS

        table: dict[str, Any] = {**FILTERS, "lower": str.lower, "upper": str.upper, "trim": str.strip}
        names = [n.strip() for n in fast.group(3).split("|") if n.strip()]
        if all(n in table for n in names):
            index = int(fast.group(2)) if fast.group(2) is not None else None
            return _Fast(fast.group(1), index, [table[n] for n in names])
    from continuous.dsl.templating import environment

    return environment().from_string(template)


def _render_field(compiled: Any, context: Mapping[str, Any], decl: Discover, name: str) -> Scalar:
    if isinstance(compiled, str):
        if compiled not in context:
            raise UserError(
                f"discover {decl.fact_type}: field {name} uses unknown variable {compiled!r}",
                hint=_where(decl),
            )
        return _scalar(context[compiled])
    if isinstance(compiled, tuple):
        return str(compiled[1])
    if isinstance(compiled, _Fast):
        try:
            return _scalar(compiled.render(context))
        except KeyError:
            raise UserError(
                f"discover {decl.fact_type}: field {name} uses unknown variable {compiled.var!r}",
                hint=_where(decl),
            ) from None
        except (IndexError, TypeError, AttributeError) as exc:
            raise UserError(
                f"discover {decl.fact_type}: cannot render field {name}: {exc}", hint=_where(decl)
            ) from None
    from jinja2 import TemplateError

    try:
        return str(compiled.render(**context))
    except TemplateError as exc:
        raise UserError(f"discover {decl.fact_type}: cannot render field {name}: {exc}", hint=_where(decl)) from None


def _where(decl: Discover) -> str | None:
    return f"declared at {decl.loc.file}:{decl.loc.line}" if decl.loc else None


def _scalar(value: Any) -> Scalar:
    if value is None:
        return ""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else str(value)
    return json.dumps(value, sort_keys=True)


def path_context(path: str) -> dict[str, Any]:
    parts = path.split("/")
    name = parts[-1]
    dot = name.rfind(".")
    stem = name[:dot] if dot > 0 else name
    from continuous.common.config import active_conventions

    return {
        "path": path,
        "dir": "/".join(parts[:-1]),
        "stem": stem,
        "name": name,
        "parts": parts,
        "conventions": active_conventions().as_dict(),
    }


def discover(rule_base: RuleBase, worktree: Path, *, files: list[str] | None = None) -> list[Fact]:
    """All facts the `discover` declarations find in `worktree`, de-duplicated, in a stable order, under the
    worktree's conventions (those active, else its own)."""
    from continuous.common.config import conventions_of

    with conventions_of(Path(worktree)):
        return _discover(rule_base, Path(worktree), files=files)


def _discover(rule_base: RuleBase, worktree: Path, *, files: list[str] | None = None) -> list[Fact]:
    if not rule_base.discovers:
        return []
    compiled = [_Compiled(d) for d in rule_base.discovers]
    by_head: dict[str, list[_Compiled]] = {}
    anywhere: list[_Compiled] = []
    for comp in compiled:
        heads = {prefix.split("/", 1)[0] if prefix else "" for prefix, _ in comp.globs}
        if "" in heads:
            anywhere.append(comp)
        else:
            for head in heads:
                by_head.setdefault(head, []).append(comp)
    all_files = list_files(worktree) if files is None else files
    facts: dict[tuple[Any, ...], Fact] = {}
    texts: dict[str, str | None] = {}
    parsed: dict[int, list[str]] = {}
    for path in all_files:
        slash = path.find("/")
        candidates = by_head.get(path[:slash] if slash != -1 else path, ())
        base: dict[str, Any] | None = None
        for comp in (*candidates, *anywhere) if anywhere else candidates:
            if not comp.matches(path):
                continue
            if comp.whole:
                parsed.setdefault(id(comp), []).append(path)
                continue
            if base is None:
                base = path_context(path)
            for fact in _facts_from_file(comp, worktree, path, texts, base):
                facts.setdefault(fact.key(), fact)
    if files is None:
        listed = set(all_files)
        for path in ignored_files(worktree, [c for c in compiled if c.named]):
            if path in listed:
                continue
            for comp in compiled:
                if any(rx.match(path) for rx in comp.named) and comp.matches(path):
                    if comp.whole:
                        parsed.setdefault(id(comp), []).append(path)
                        continue
                    for fact in _facts_from_file(comp, worktree, path, texts, path_context(path)):
                        facts.setdefault(fact.key(), fact)
    for comp in compiled:
        if id(comp) in parsed:
            for fact in _facts_from_parser(comp, worktree, parsed[id(comp)], texts):
                facts.setdefault(fact.key(), fact)
    return list(facts.values())


def ignored_files(worktree: Path, compiled: list[_Compiled]) -> list[str]:
    """Files git ignores that a declaration names literally (`.env.example`); ignored folders are not entered."""
    if not compiled:
        return []
    proc = git.run(
        worktree, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory", "--no-empty-directory"
    )
    if proc.returncode != 0:
        return []
    out = []
    for path in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if path and not path.endswith("/") and not _skipped(path):
            out.append(path)
    return out


def _facts_from_parser(
    comp: _Compiled, worktree: Path, paths: list[str], texts: dict[str, str | None]
) -> Iterator[Fact]:
    from continuous.engine.extractors import EXTRACTORS

    decl = comp.decl
    assert decl.parser is not None
    extractor = EXTRACTORS.get(decl.parser)
    if extractor is None:
        raise UserError(f"discover {decl.fact_type}: unknown parser {decl.parser!r}", hint=_where(decl))
    inputs = []
    for path in sorted(paths):
        text = _read(worktree, path, texts)
        if text is not None:
            inputs.append((path, text))
    for path, line, record in extractor(inputs):
        context = {**path_context(path), **record}
        if not _kept(comp, context):
            continue
        fields = _fields(comp, context) if comp.fields else {k: _scalar(v) for k, v in record.items()}
        yield _fact(decl.fact_type, fields=fields, source=f"{path}:{line}")


def _read(worktree: Path, path: str, cache: dict[str, str | None]) -> str | None:
    if path not in cache:
        full = worktree / path
        try:
            if full.stat().st_size > _MAX_FILE_BYTES:
                cache[path] = None
            else:
                cache[path] = full.read_text(encoding="utf-8", errors="replace")
        except OSError:
            cache[path] = None
    return cache[path]


def _read_rows(reader: str, text: str) -> list[dict[str, Any]]:
    """Rows of a built-in structural reader (`parse "NAME"`), each with its 1-based line."""
    if reader == "shell.commands":
        from continuous.engine.shellwrap import commands_of

        return [{"command": name, "line": line} for name, line in commands_of(text)]
    raise UserError(f"unknown reader {reader!r}")  # pragma: no cover - the parser refuses it first


def _facts_from_file(
    comp: _Compiled, worktree: Path, path: str, texts: dict[str, str | None], base: dict[str, Any]
) -> Iterator[Fact]:
    decl = comp.decl
    if decl.parser is not None:
        source_text = _read(worktree, path, texts)
        if source_text is None:
            return
        for row in _read_rows(decl.parser, source_text):
            row_context = {**base, **row}
            if not _kept(comp, row_context):
                continue
            row_fields: dict[str, Scalar] = (
                _fields(comp, row_context) if comp.fields else {k: _scalar(v) for k, v in row.items() if k != "line"}
            )
            yield _fact(decl.fact_type, fields=row_fields, source=f"{path}:{row['line']}")
        return
    if comp.regex is not None:
        text = _read(worktree, path, texts)
        if text is None:
            return
        line = 1
        last = 0
        for match in comp.regex.finditer(text):
            line += text.count("\n", last, match.start())
            last = match.start()
            groups = {k: (v if v is not None else "") for k, v in match.groupdict().items()}
            context = {**base, **groups}
            if comp.where is not None and not _kept(comp, context):
                continue
            fields: dict[str, Scalar] = _fields(comp, context) if comp.fields else dict(groups)
            yield _fact(decl.fact_type, fields=fields, source=f"{path}:{line}")
        return
    if decl.json_path is not None:
        text = _read(worktree, path, texts)
        if text is None:
            return
        try:
            data = json.loads(text)
        except ValueError:
            return
        for keys, value in _select(data, [k for k in decl.json_path.split(".") if k]):
            key = keys[-1] if keys else ""
            context = {**base, "key": key, "keys": keys, "value": value}
            if isinstance(value, dict):
                context.update({k: v for k, v in value.items() if isinstance(k, str) and k.isidentifier()})
            if comp.where is not None and not _kept(comp, context):
                continue
            if comp.fields:
                fields = _fields(comp, context)
            else:
                fields = {"key": key}
                if not isinstance(value, dict | list):
                    fields["value"] = _scalar(value)
            yield _fact(decl.fact_type, fields=fields, source=f"{path}:{_json_line(text, key)}")
        return
    if comp.where is not None and not _kept(comp, base):
        return
    fields = _fields(comp, base) if comp.fields else {"path": path, "name": base["stem"]}
    yield _fact(decl.fact_type, fields=fields, source=f"{path}:1")


def _fact(type: str, fields: dict[str, Scalar], source: str) -> Fact:
    # Fields are scalars by construction, so pydantic validation (a third of discovery's time) is skipped.
    return Fact.model_construct(type=type, fields=fields, source=source)


def _fields(comp: _Compiled, context: Mapping[str, Any]) -> dict[str, Scalar]:
    return {name: _render_field(c, context, comp.decl, name) for name, c in comp.fields.items()}


def _select(data: Any, keys: list[str], trail: tuple[str, ...] = ()) -> Iterable[tuple[list[str], Any]]:
    if not keys:
        yield list(trail), data
        return
    head, rest = keys[0], keys[1:]
    if head == "*":
        if isinstance(data, dict):
            for k, v in data.items():
                if isinstance(k, str) and k.startswith("//"):
                    continue  # npm's comment convention: `"// Group": "..."` is not an entry
                yield from _select(v, rest, (*trail, str(k)))
        elif isinstance(data, list):
            for i, v in enumerate(data):
                yield from _select(v, rest, (*trail, str(i)))
        return
    if isinstance(data, dict) and head in data:
        yield from _select(data[head], rest, trail)
    elif isinstance(data, list) and head.isdigit() and int(head) < len(data):
        yield from _select(data[int(head)], rest, trail)


def _json_line(text: str, key: str) -> int:
    if not key:
        return 1
    k = text.find(json.dumps(key))
    return text.count("\n", 0, k) + 1 if k >= 0 else 1

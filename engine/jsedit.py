"""Structural edits of JavaScript/TypeScript source that follow the file's own conventions.

- `add_entry`: a new object in an array literal (a registry such as `const SERVERS = [...]`) with the keys of its
  neighbours, in their order and layout, so code that reads the array (`spawn(s.command, s.args, {cwd: s.cwd})`)
  finds every field it expects.
- `add_import`: an import after the file's last import statement (multi-line imports included), once.
- `add_route`: a react-router `<Route>` beside the app's other page routes (the level holding most of them, relative
  paths where they are relative), before a catch-all `path="*"`, wrapped in the element (`<ProtectedRoute ...>`)
  the wrapped siblings use, written in the layout of the last such sibling.
- `move_module`: a module's text with its relative import specifiers rewritten for a new folder.

The scanner understands strings, template literals, comments and brackets; it does not need to understand the
whole language, only to find the spans these edits touch.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


class JsEditError(ValueError):
    """The file does not have the structure the edit needs; the message says what was expected."""


# ---------------------------------------------------------------- scanning


def skip_string(text: str, i: int) -> int:
    """Index after the string or template literal starting at `i`."""
    quote = text[i]
    j = i + 1
    n = len(text)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if quote == "`" and text.startswith("${", j):
            j = match_bracket(text, j + 1)
            continue
        if c == quote:
            return j + 1
        if c == "\n" and quote != "`":
            return j
        j += 1
    return n


def skip_comment(text: str, i: int) -> int:
    if text.startswith("//", i):
        j = text.find("\n", i)
        return len(text) if j == -1 else j
    j = text.find("*/", i + 2)
    return len(text) if j == -1 else j + 2


def match_bracket(text: str, i: int) -> int:
    """Index after the bracket that closes the one at `i` (`(`, `[` or `{`)."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = [pairs[text[i]]]
    j = i + 1
    n = len(text)
    while j < n:
        c = text[j]
        if c in "'\"`":
            j = skip_string(text, j)
            continue
        if text.startswith("//", j) or text.startswith("/*", j):
            j = skip_comment(text, j)
            continue
        if c in pairs:
            stack.append(pairs[c])
        elif c in ")]}":
            if not stack or stack[-1] != c:
                raise JsEditError(f"unbalanced {c!r} at offset {j}")
            stack.pop()
            if not stack:
                return j + 1
        j += 1
    raise JsEditError(f"unclosed {text[i]!r} at offset {i}")


def split_top(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the comma-separated items between `start` and `end`, trimmed of whitespace and comments."""
    items: list[tuple[int, int]] = []
    j = start
    item_start: int | None = None
    last_end = start
    while j < end:
        c = text[j]
        if c in " \t\r\n":
            j += 1
            continue
        if text.startswith("//", j) or text.startswith("/*", j):
            j = skip_comment(text, j)
            continue
        if c == ",":
            if item_start is not None:
                items.append((item_start, last_end))
            item_start = None
            j += 1
            continue
        if item_start is None:
            item_start = j
        if c in "'\"`":
            j = skip_string(text, j)
        elif c in "([{":
            j = match_bracket(text, j)
        else:
            j += 1
        last_end = j
    if item_start is not None:
        items.append((item_start, last_end))
    return items


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _indent_at(text: str, pos: int) -> str:
    start = _line_start(text, pos)
    m = re.match(r"[ \t]*", text[start:])
    return m.group(0) if m else ""


# ---------------------------------------------------------------- array entries


@dataclass
class Prop:
    key: str
    key_start: int
    value_start: int
    value_end: int


@dataclass
class ObjectLiteral:
    start: int
    end: int
    props: list[Prop] = field(default_factory=list)

    def get(self, key: str) -> Prop | None:
        return next((p for p in self.props if p.key == key), None)


def parse_object(text: str, start: int) -> ObjectLiteral:
    end = match_bracket(text, start)
    obj = ObjectLiteral(start, end)
    for s, e in split_top(text, start + 1, end - 1):
        m = re.match(r"""(?:(['"])(.*?)\1|([A-Za-z_$][\w$]*))\s*:\s*""", text[s:e], re.S)
        if not m:
            continue
        key = m.group(2) if m.group(1) else m.group(3)
        obj.props.append(Prop(key, s, s + m.end(), e))
    return obj


def find_array(text: str, name: str) -> int:
    """Offset of the `[` that starts the array literal assigned to `name` (`const NAME = [`, `NAME: [`)."""
    pattern = re.compile(
        r"(?:\b(?:const|let|var)\s+" + re.escape(name) + r"\b[^=;\n]*=|\b" + re.escape(name) + r"\s*[:=])\s*\["
    )
    m = pattern.search(text)
    if not m:
        raise JsEditError(f"no array named {name} (expected `const {name} = [` or `{name}: [`)")
    return m.end() - 1


def _quote_char(text: str, objects: list[ObjectLiteral]) -> str:
    counts: Counter[str] = Counter()
    for obj in objects:
        for p in obj.props:
            c = text[p.value_start]
            if c in "'\"`":
                counts[c] += 1
    return counts.most_common(1)[0][0] if counts else "'"


def js_literal(value: Any, quote: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(js_literal(v, quote) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        parts = [
            f"{_key(k) if _IDENT.fullmatch(k) else js_literal(k, quote)}: {js_literal(v, quote)}"
            for k, v in value.items()
        ]
        return "{ " + ", ".join(parts) + " }"
    text = str(value)
    if quote == "'":
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"
    return json.dumps(text, ensure_ascii=False)


def _given_value(raw: str, model_value: str | None) -> Any:
    stripped = raw.strip()
    if stripped[:1] in "[{":
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    if model_value is not None:
        mv = model_value.strip()
        if re.fullmatch(r"-?\d+(?:\.\d+)?", mv) and re.fullmatch(r"-?\d+", stripped):
            return int(stripped)
        if mv.startswith("[") and not stripped.startswith("["):
            return [raw]
        if mv in ("true", "false") and stripped in ("true", "false"):
            return stripped == "true"
    return raw


def _plain(text: str) -> str:
    return re.sub(r"""[\[\]{}'"`\s]""", "", text)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def add_entry(text: str, array: str, values: dict[str, str]) -> str | None:
    """`text` with a new entry in `array`, shaped like its neighbours; None if an equal entry is there already."""
    open_at = find_array(text, array)
    close = match_bracket(text, open_at)
    spans = split_top(text, open_at + 1, close - 1)
    objects = [parse_object(text, s) for s, _ in spans if text[s] == "{"]
    if not objects:
        raise JsEditError(f"array {array} has no object entries to take the shape of")
    quote = _quote_char(text, objects)

    def score(obj: ObjectLiteral) -> tuple[int, int]:
        # the neighbour whose paths (a script's location) are closest decides what is copied (cwd, command)
        shared = [k for k in values if obj.get(k) is not None]
        closeness = 0
        for k in shared:
            p = obj.get(k)
            assert p is not None
            if "/" in values[k]:
                closeness += _common_prefix(_plain(values[k]), _plain(text[p.value_start : p.value_end]))
        return closeness, len(shared)

    best = max(range(len(objects)), key=lambda k: (*score(objects[k]), k))
    model = objects[best]
    keys = [p.key for p in model.props]
    for other in objects:
        for k, p in enumerate(other.props):
            if p.key in values and p.key not in keys:
                before = other.props[k - 1].key if k else None
                at = keys.index(before) + 1 if before in keys else len(keys) - 1
                keys.insert(max(at, 0), p.key)
    rendered: list[tuple[str, str]] = []
    for key in keys:
        mp = model.get(key)
        model_text = text[mp.value_start : mp.value_end] if mp else None
        if key in values:
            rendered.append((key, js_literal(_given_value(values[key], model_text), quote)))
        elif model_text is not None:
            rendered.append((key, model_text))
    for obj in objects:
        same = all(
            (prop := obj.get(k)) is not None and _plain(text[prop.value_start : prop.value_end]) == _plain(v)
            for k, v in rendered
            if k in values
        )
        if same:
            return None
    entry = _layout_like(text, model, rendered)
    last_start, last_end = spans[-1]
    after_last = last_end
    while after_last < close - 1 and text[after_last] in " \t":
        after_last += 1
    trailing_comma = text.startswith(",", after_last)
    if len(spans) > 1:
        gap = text[spans[-2][1] : spans[-1][0]]
        sep = gap[gap.index(",") + 1 :] if "," in gap else "\n" + _indent_at(text, last_start)
    else:
        sep = "\n" + _indent_at(text, last_start) if "\n" in text[open_at:last_start] else " "
    if trailing_comma:
        insert_at = after_last + 1
        new = sep + entry + ","
    else:
        insert_at = last_end
        new = "," + sep + entry
    return text[:insert_at] + new + text[insert_at:]


def _layout_like(text: str, model: ObjectLiteral, props: list[tuple[str, str]]) -> str:
    body = text[model.start + 1 : model.end - 1]
    if "\n" not in body:
        first = model.props[0] if model.props else None
        pad = " " if first is not None and text[model.start + 1] == " " else ""
        sep = _kv_sep(text, model)
        return "{" + pad + ", ".join(f"{_key(k)}{sep}{v}" for k, v in props) + pad + "}"
    indent = _indent_at(text, model.props[0].key_start) if model.props else "  "
    closing = _indent_at(text, model.end - 1)
    last = model.props[-1] if model.props else None
    trailing = last is not None and text[last.value_end : model.end - 1].strip().startswith(",")
    sep = _kv_sep(text, model)
    lines = [f"{indent}{_key(k)}{sep}{v}" for k, v in props]
    return "{\n" + ",\n".join(lines) + ("," if trailing else "") + "\n" + closing + "}"


def _kv_sep(text: str, model: ObjectLiteral) -> str:
    if not model.props:
        return ": "
    p = model.props[0]
    m = re.match(r"""(?:(['"]).*?\1|[A-Za-z_$][\w$]*)(\s*:\s*)""", text[p.key_start : p.value_start], re.S)
    return m.group(2) if m else ": "


_IDENT = re.compile(r"[A-Za-z_$][\w$]*")


def _key(key: str) -> str:
    return key if _IDENT.fullmatch(key) else json.dumps(key)


# ---------------------------------------------------------------- imports

_IMPORT_START = re.compile(r"^[ \t]*import\b(?!\s*\()", re.M)


def _statement_end(text: str, start: int) -> int:
    """End of the import statement starting at `start` (after its `;` or line end)."""
    j = start
    n = len(text)
    while j < n:
        c = text[j]
        if c in "'\"`":
            j = skip_string(text, j)
            if text.startswith(";", j):
                return j + 1
            rest = text[j : text.find("\n", j) if "\n" in text[j:] else n]
            if not rest.strip():
                return j
            continue
        if c == "{":
            j = match_bracket(text, j)
            continue
        if c == ";":
            return j + 1
        j += 1
    return n


def add_import(text: str, names: str, module: str) -> str | None:
    """`import NAMES from 'MODULE';` after the last import (quote and semicolon style of that import)."""
    existing = re.search(r"""\bfrom\s+(['"])""" + re.escape(module) + r"""\1""", text)
    if existing is not None:
        return None
    return insert_import(text, names, module)


def insert_import(text: str, names: str, module: str) -> str:
    """The import line after the file's last import statement, even when the module is imported already."""
    last_end = None
    quote = "'"
    semicolon = True
    for m in _IMPORT_START.finditer(text):
        if _inside_code_block(text, m.start()):
            continue
        end = _statement_end(text, m.start())
        stmt = text[m.start() : end]
        q = re.search(r"""['"]""", stmt)
        if q:
            quote = q.group(0)
        semicolon = stmt.rstrip().endswith(";")
        last_end = end
    line = f"import {names} from {quote}{module}{quote}{';' if semicolon else ''}"
    if last_end is None:
        return line + "\n" + text
    nl = text.find("\n", last_end)
    at = len(text) if nl == -1 else nl + 1
    prefix = "" if text[:at].endswith("\n") or not text[:at] else "\n"
    return text[:at] + prefix + line + "\n" + text[at:]


def _inside_code_block(text: str, pos: int) -> bool:
    """True inside a string or comment that spans lines (a template literal holding `import` text)."""
    j = 0
    while j < pos:
        c = text[j]
        if c in "'\"`":
            k = skip_string(text, j)
            if k > pos:
                return True
            j = k
            continue
        if text.startswith("//", j) or text.startswith("/*", j):
            k = skip_comment(text, j)
            if k > pos:
                return True
            j = k
            continue
        j += 1
    return False


# ---------------------------------------------------------------- moving a module

_SPECIFIERS = re.compile(
    r"""(\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+|\bjest\.mock\s*\(\s*|\bvi\.mock\s*\(\s*)(['"])(\.{1,2}/[^'"]*|\.{1,2})\2"""
)


def move_module(text: str, source: str, target: str) -> str:
    """The module's text for its new path: every relative specifier still names the same file."""
    old_dir = posixpath.dirname(source)
    new_dir = posixpath.dirname(target)
    if old_dir == new_dir:
        return text

    def fix(m: re.Match[str]) -> str:
        spec = m.group(3)
        resolved = posixpath.normpath(posixpath.join(old_dir, spec))
        rel = posixpath.relpath(resolved, new_dir or ".")
        if not rel.startswith("."):
            rel = "./" + rel
        if spec.endswith("/") and not rel.endswith("/"):
            rel += "/"
        return f"{m.group(1)}{m.group(2)}{rel}{m.group(2)}"

    return _SPECIFIERS.sub(fix, text)


# ---------------------------------------------------------------- routes, endpoints, forwarding (`jsroutes`)


def add_route(text: str, path: str, component: str) -> str | None:
    from continuous.engine.jsroutes import add_route as add

    return add(text, path, component)


def add_endpoint(text: str, method: str, path: str) -> str | None:
    from continuous.engine.jsroutes import add_endpoint as add

    return add(text, method, path)


def add_forward(text: str, port: str, env: str) -> str | None:
    from continuous.engine.jsroutes import add_forward as add

    return add(text, port, env)

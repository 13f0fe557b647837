"""Edit JSON text in place, so that every byte outside the change stays as it was.

A repository's package.json is written by people: blank lines separate groups of scripts, `"// Group"` keys title
them, some objects sit on one line. Re-serialising the document after a change would throw all of that away, so an
edit here parses the text into spans and splices only the member it adds, replaces or removes. A new member takes
the layout of its neighbours (indentation, `": "` separator, one line or many) and lands next to like entries: after
the last key with the same `prefix:` (`server:*` after the other `server:*` scripts) or after the key that is the
prefix itself (`lint:all` after `lint`), else after the entry whose
value shares the longest leading command with it, else at the end of the object.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_WS = re.compile(r"[ \t\r\n]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\.)*"')


class JsonEditError(ValueError):
    """The text is not JSON, or the edit does not fit the document (a key path runs through a non-object)."""


@dataclass
class Node:
    kind: str  # object | array | scalar
    start: int
    end: int
    members: list[Member] = field(default_factory=list)
    items: list[Node] = field(default_factory=list)

    def value(self, text: str) -> Any:
        return json.loads(text[self.start : self.end])


@dataclass
class Member:
    key: str
    key_start: int
    value: Node


def parse(text: str) -> Node:
    """The span tree of a JSON document (JsonEditError with the offset when it is not JSON)."""
    node, pos = _value(text, _skip(text, 0))
    pos = _skip(text, pos)
    if pos != len(text):
        raise JsonEditError(f"unexpected text at offset {pos}")
    return node


def _skip(text: str, pos: int) -> int:
    m = _WS.match(text, pos)
    return m.end() if m else pos


def _value(text: str, pos: int) -> tuple[Node, int]:
    if pos >= len(text):
        raise JsonEditError("unexpected end of the document")
    c = text[pos]
    if c == "{":
        node = Node("object", pos, pos)
        pos = _skip(text, pos + 1)
        if text.startswith("}", pos):
            node.end = pos + 1
            return node, node.end
        while True:
            m = _STRING.match(text, pos)
            if not m:
                raise JsonEditError(f"expected a key at offset {pos}")
            key = json.loads(m.group(0))
            pos = _skip(text, m.end())
            if not text.startswith(":", pos):
                raise JsonEditError(f"expected ':' at offset {pos}")
            value, pos = _value(text, _skip(text, pos + 1))
            node.members.append(Member(key, m.start(), value))
            pos = _skip(text, pos)
            if text.startswith(",", pos):
                pos = _skip(text, pos + 1)
                continue
            if text.startswith("}", pos):
                node.end = pos + 1
                return node, node.end
            raise JsonEditError(f"expected ',' or '}}' at offset {pos}")
    if c == "[":
        node = Node("array", pos, pos)
        pos = _skip(text, pos + 1)
        if text.startswith("]", pos):
            node.end = pos + 1
            return node, node.end
        while True:
            item, pos = _value(text, pos)
            node.items.append(item)
            pos = _skip(text, pos)
            if text.startswith(",", pos):
                pos = _skip(text, pos + 1)
                continue
            if text.startswith("]", pos):
                node.end = pos + 1
                return node, node.end
            raise JsonEditError(f"expected ',' or ']' at offset {pos}")
    m = _STRING.match(text, pos) if c == '"' else _NUMBER.match(text, pos)
    if m:
        return Node("scalar", pos, m.end()), m.end()
    for word in ("true", "false", "null"):
        if text.startswith(word, pos):
            return Node("scalar", pos, pos + len(word)), pos + len(word)
    raise JsonEditError(f"unexpected character {c!r} at offset {pos}")


# ---------------------------------------------------------------- layout


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _indent_of(text: str, pos: int) -> str:
    start = _line_start(text, pos)
    m = re.match(r"[ \t]*", text[start:pos])
    return m.group(0) if m else ""


def _multiline(text: str, node: Node, children: list[int]) -> bool:
    if not children:
        return False
    return "\n" in text[node.start : children[0]]


def _unit(text: str) -> str:
    found = re.search(r"\n([ \t]+)\S", text)
    if found:
        ws = found.group(1)
        return "\t" if "\t" in ws else " " * min(len(ws), 8)
    return "  "


def _child_indent(text: str, node: Node, children: list[int]) -> str:
    if children and _multiline(text, node, children):
        return _indent_of(text, children[-1])
    return _indent_of(text, node.start) + _unit(text)


def render(value: Any, indent: str, unit: str) -> str:
    """A JSON value for a position whose line starts with `indent`: nested lines indented like the file."""
    if isinstance(value, dict | list) and value:
        width: int | str = "\t" if unit == "\t" else len(unit)
        dumped = json.dumps(value, indent=width, ensure_ascii=False)
        return dumped.replace("\n", "\n" + indent)
    return json.dumps(value, ensure_ascii=False)


# ---------------------------------------------------------------- placement next to like entries


def _prefix(key: str) -> str:
    return key[: key.rfind(":") + 1] if ":" in key else ""


def _tokens(value: str) -> list[str]:
    return re.findall(r"[^\s/]+", value)


def _common(a: list[str], b: list[str]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def is_comment_key(key: str) -> bool:
    return key.startswith("//")


def placement(members: list[tuple[str, Any]], key: str, value: Any) -> int:
    """Index of the member the new one goes after (-1: first); like entries first, else the end."""
    if not members:
        return -1
    prefix = _prefix(key)
    if prefix:
        same = [i for i, (k, _) in enumerate(members) if _prefix(k) == prefix and not is_comment_key(k)]
        if same:
            return same[-1]
        base = [i for i, (k, _) in enumerate(members) if k == prefix[:-1]]
        if base:
            return base[-1]
    keyed = [(_common(list(key), list(k)), i) for i, (k, _) in enumerate(members) if not is_comment_key(k)]
    if isinstance(value, str):
        # entries whose command starts the same way (two words at least): a key sharing a real prefix with the
        # new one among them, else the end of the largest run of them (a group), not a stray one elsewhere
        mine = _tokens(value)
        scored = {
            i: _common(mine, _tokens(v))
            for i, (k, v) in enumerate(members)
            if not is_comment_key(k) and isinstance(v, str)
        }
        best = max(scored.values(), default=0)
        if best >= 2:
            tops = sorted(i for i, sc in scored.items() if sc == best)
            close = [(ks, i) for ks, i in keyed if i in tops and ks >= 3]
            if close:
                return max(close)[1]
            runs: list[list[int]] = []
            for i in tops:
                if runs and i == runs[-1][-1] + 1:
                    runs[-1].append(i)
                else:
                    runs.append([i])
            return max(runs, key=lambda r: (len(r), r[-1]))[-1]
    close = [(ks, i) for ks, i in keyed if ks >= 3]
    if close:
        return max(close)[1]
    return len(members) - 1


# ---------------------------------------------------------------- edits


def _splice(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


def _insert_member(text: str, obj: Node, key: str, value: Any, after: int | None = None) -> str:
    unit = _unit(text)
    starts = [mb.key_start for mb in obj.members]
    multi = _multiline(text, obj, starts) or not obj.members
    indent = _child_indent(text, obj, starts)
    if after is None:
        after = placement([(mb.key, _safe_value(text, mb.value)) for mb in obj.members], key, value)
    sep = ": "
    if obj.members:
        ref = obj.members[max(after, 0)]
        k_end = _STRING.match(text, ref.key_start)
        if k_end:
            sep = text[k_end.end() : ref.value.start] or ": "
    body = json.dumps(key, ensure_ascii=False) + sep + render(value, indent if multi else "", unit)
    if not obj.members:
        outer = _indent_of(text, obj.start)
        return _splice(text, obj.start, obj.end, "{\n" + indent + body + "\n" + outer + "}")
    if after < 0:
        first = obj.members[0]
        if multi:
            return _splice(text, first.key_start, first.key_start, body + ",\n" + indent)
        return _splice(text, first.key_start, first.key_start, body + ", ")
    prev = obj.members[after]
    pos = _skip(text, prev.value.end)
    if text.startswith(",", pos):
        lead = "\n" + indent if multi else " "
        return _splice(text, pos + 1, pos + 1, lead + body + ",")
    lead = ",\n" + indent if multi else ", "
    return _splice(text, prev.value.end, prev.value.end, lead + body)


def _safe_value(text: str, node: Node) -> Any:
    if node.kind == "scalar":
        return node.value(text)
    return None


def _append_item(text: str, arr: Node, value: Any) -> str:
    unit = _unit(text)
    starts = [it.start for it in arr.items]
    multi = _multiline(text, arr, starts)
    indent = _child_indent(text, arr, starts)
    body = render(value, indent if multi else "", unit)
    if not arr.items:
        return _splice(text, arr.start, arr.end, "[" + body + "]")
    last = arr.items[-1]
    lead = ",\n" + indent if multi else ", "
    return _splice(text, last.end, last.end, lead + body)


def _remove_member(text: str, obj: Node, index: int) -> str:
    mb = obj.members[index]
    starts = [m.key_start for m in obj.members]
    if _multiline(text, obj, starts):
        line_start = _line_start(text, mb.key_start)
        alone_before = text[line_start : mb.key_start].strip() == ""
        after = _skip_inline(text, mb.value.end)
        has_comma = text.startswith(",", after)
        end = _skip_inline(text, after + 1) if has_comma else after
        if alone_before and (end >= len(text) or text[end] == "\n"):
            cut_end = end + 1 if end < len(text) else end
            out = _splice(text, line_start, cut_end, "")
            if not has_comma and index > 0:
                prev = obj.members[index - 1]
                comma = _skip(out, prev.value.end)
                if out.startswith(",", comma):
                    out = _splice(out, comma, comma + 1, "")
            return out
    if index + 1 < len(obj.members):
        return _splice(text, mb.key_start, obj.members[index + 1].key_start, "")
    if index > 0:
        return _splice(text, obj.members[index - 1].value.end, mb.value.end, "")
    return _splice(text, obj.start + 1, obj.end - 1, "")


def _at_line(text: str, message: str) -> str:
    m = re.search(r"offset (\d+)", message)
    if not m:
        return message
    pos = int(m.group(1))
    line = text.count("\n", 0, pos) + 1
    col = pos - _line_start(text, pos) + 1
    return message.replace(m.group(0), f"line {line}, column {col}")


def _skip_inline(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r":
        pos += 1
    return pos


def edit(text: str, keys: list[str], op: str, value: Any = None) -> str | None:
    """`text` with one edit applied, or None when the document already says so (idempotent)."""
    if not text.strip():
        text = "{}\n"
    try:
        root = parse(text)
    except JsonEditError as exc:
        raise JsonEditError(f"not valid JSON: {_at_line(text, str(exc))}") from None
    node = root
    for i, key in enumerate(keys[:-1]):
        if node.kind == "array" and key.isdigit() and int(key) < len(node.items):
            node = node.items[int(key)]
            continue
        if node.kind != "object":
            raise JsonEditError(f"{'.'.join(keys[:i]) or 'the document'} is not an object")
        member = next((mb for mb in node.members if mb.key == key), None)
        if member is None:
            if op == "delete":
                return None
            nested: Any = [value] if op == "append" else value
            for k in reversed(keys[i + 1 :]):
                nested = {k: nested}
            return _insert_member(text, node, key, nested)
        node = member.value
    last = keys[-1]
    if node.kind == "array" and last.isdigit():
        idx = int(last)
        if op == "delete":
            if idx >= len(node.items):
                return None
            return _remove_item(text, node, idx)
        if idx >= len(node.items):
            raise JsonEditError(f"index {idx} is past the end of the list")
        item = node.items[idx]
        if op == "set":
            if item.value(text) == value:
                return None
            return _splice(text, item.start, item.end, render(value, _indent_of(text, item.start), _unit(text)))
        node, last = item, ""
    if op == "append" and not last:
        if node.kind != "array":
            raise JsonEditError(f"{'.'.join(keys)} is not a list, cannot append")
        if value in node.value(text):
            return None
        return _append_item(text, node, value)
    if node.kind != "object":
        raise JsonEditError(f"{'.'.join(keys[:-1]) or 'the document'} is not an object")
    index = next((i for i, mb in enumerate(node.members) if mb.key == last), None)
    if op == "delete":
        return None if index is None else _remove_member(text, node, index)
    if op == "set":
        if index is None:
            return _insert_member(text, node, last, value)
        target = node.members[index].value
        if target.value(text) == value:
            return None
        indent = _indent_of(text, node.members[index].key_start)
        return _splice(text, target.start, target.end, render(value, indent, _unit(text)))
    if index is None:
        return _insert_member(text, node, last, [value])
    target = node.members[index].value
    if target.kind != "array":
        raise JsonEditError(f"{'.'.join(keys)} is not a list, cannot append")
    if value in target.value(text):
        return None
    return _append_item(text, target, value)


def _remove_item(text: str, arr: Node, index: int) -> str:
    item = arr.items[index]
    if index + 1 < len(arr.items):
        return _splice(text, item.start, arr.items[index + 1].start, "")
    if index > 0:
        return _splice(text, arr.items[index - 1].end, item.end, "")
    return _splice(text, arr.start + 1, arr.end - 1, "")

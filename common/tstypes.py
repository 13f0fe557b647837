"""The generated `Database` type (supabase/types.ts): read its structure, and merge new objects into it in place.

`supabase gen types typescript` writes the live database as one nested object type:
`Database.<schema>.{Tables,Views,Functions,Enums,CompositeTypes}.<name>`, tables with `Row`, `Insert`, `Update`
and `Relationships`. That file is the repository's record of the live database, so it is never rebuilt from the
migrations (which describe only part of it): a new table, view or enum from the migrations is inserted in its
alphabetical place, a new column into its table's Row/Insert/Update, and every other byte stays as it was.

The reader is a small scanner for TypeScript object types (strings, comments, nested braces, brackets and
parentheses, multi-line unions); it knows nothing about the rest of TypeScript.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

from continuous.common.sqlschema import Column, Enum, Schema, Table, View

_KEY = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[A-Za-z_$][\w$]*|\[[^\]]*\])\??\s*:')
SECTIONS = ("Tables", "Views", "Functions", "Enums", "CompositeTypes")


@dataclass
class Node:
    """One `key: value` member of an object type; `children` when the value is itself `{ ... }`."""

    key: str
    start: int  # start of the member's first line
    end: int  # after the member (and its line break)
    value_start: int
    value_end: int
    children: list[Node] | None = None
    open_brace: int = -1  # index of `{` when the value is an object
    close_brace: int = -1  # index of its `}`

    def child(self, key: str) -> Node | None:
        for c in self.children or ():
            if c.key == key:
                return c
        return None


@dataclass
class DatabaseTypes:
    text: str
    root: Node | None  # the `Database` type's object
    schemas: dict[str, Node] = field(default_factory=dict)
    constants: Node | None = None  # `export const Constants = { ... }` when present
    _newlines: list[int] | None = None

    def section(self, name: str, schema: str = "public") -> Node | None:
        node = self.schemas.get(schema)
        return node.child(name) if node else None

    def names(self, section: str, schema: str = "public") -> list[str]:
        node = self.section(section, schema)
        return [c.key for c in node.children or () if not c.key.startswith("[")] if node else []

    def line_of(self, index: int) -> int:
        if self._newlines is None:
            self._newlines = [i for i, c in enumerate(self.text) if c == "\n"]
        return bisect_left(self._newlines, index) + 1

    def columns(self, table: str, schema: str = "public") -> dict[str, str]:
        """Column name -> TypeScript type text of a table's (or view's) Row."""
        for section in ("Tables", "Views"):
            node = self.section(section, schema)
            entry = node.child(table) if node else None
            row = entry.child("Row") if entry else None
            if row is not None:
                return {c.key: self.text[c.value_start : c.value_end].strip() for c in row.children or ()}
        return {}


# ---------------------------------------------------------------- scanning


def _skip(text: str, i: int) -> int:
    """Index of the first character at or after i that is not whitespace or a comment."""
    n = len(text)
    while i < n:
        if text[i].isspace():
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j == -1 else j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j == -1 else j + 2
        else:
            break
    return i


def _match_close(text: str, i: int) -> int:
    """Index of the bracket closing the one at i (strings and comments skipped); len(text) if unbalanced."""
    pairs = {"{": "}", "[": "]", "(": ")", "<": ">"}
    stack = [pairs[text[i]]]
    j = i + 1
    n = len(text)
    while j < n and stack:
        c = text[j]
        if c in "\"'`":
            j = _string_end(text, j)
            continue
        if text.startswith("//", j) or text.startswith("/*", j):
            j = _skip(text, j)
            continue
        if c in "{[(":
            stack.append(pairs[c])
        elif c == "<" and stack[-1] == ">":
            stack.append(">")
        elif c == stack[-1] and (c in "}])" or text[j - 1] != "="):
            stack.pop()
            if not stack:
                return j
        j += 1
    return n


def _string_end(text: str, i: int) -> int:
    quote = text[i]
    j = i + 1
    n = len(text)
    while j < n:
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == quote:
            return j + 1
        j += 1
    return n


def _value_end(text: str, i: int, stop: int) -> int:
    """End of a type expression starting at i: at depth 0, a `;`, `,`, the parent's `}`, or a line break not
    followed by a continuation (`|`, `&`, `.`, `[`, `?`, `:`, `=>`, `extends`)."""
    j = i
    while j < stop:
        c = text[j]
        if c in "\"'`":
            j = _string_end(text, j)
            continue
        if c in "{[(":
            j = _match_close(text, j) + 1
            continue
        if c == "<":
            j = _match_close(text, j) + 1
            continue
        if c in ";,}":
            return j
        if c == "\n":
            k = _skip(text, j)
            if k >= stop or not re.match(r"\||&|\.|\[|\?|:|=>|extends\b", text[k : k + 7]):
                return j
            j = k
            continue
        j += 1
    return stop


def parse_object(text: str, open_brace: int) -> tuple[list[Node], int]:
    """Members of the object type whose `{` is at open_brace; returns them and the index of its `}`."""
    close = _match_close(text, open_brace)
    nodes: list[Node] = []
    i = open_brace + 1
    while True:
        i = _skip(text, i)
        if i >= close:
            break
        m = _KEY.match(text, i)
        if not m:
            j = _value_end(text, i, close)
            i = j + 1 if j < close and text[j] in ";," else max(j, i + 1)
            continue
        key = m.group(1)
        if key.startswith('"'):
            key = json.loads(key)
        value_start = _skip(text, m.end())
        node_children = None
        ob = cb = -1
        if value_start < close and text[value_start] == "{":
            ob = value_start
            node_children, cb = parse_object(text, value_start)
            value_end = _value_end(text, cb + 1, close)
        else:
            value_end = _value_end(text, value_start, close)
        end = value_end
        if end < close and text[end] in ";,":
            end += 1
        line_end = text.find("\n", end)
        if line_end != -1 and not text[end:line_end].strip():
            end = line_end + 1
        start = text.rfind("\n", 0, i) + 1
        if text[start:i].strip():
            start = i
        nodes.append(Node(key, start, end, value_start, value_end, node_children, ob, cb))
        i = end if end > i else i + 1
    return nodes, close


def read_types(text: str) -> DatabaseTypes:
    """The Database type of a types.ts text (an empty structure when there is none)."""
    m = re.search(r"export\s+(?:type\s+Database\s*=|interface\s+Database)\s*\{", text)
    if not m:
        return DatabaseTypes(text=text, root=None)
    open_brace = m.end() - 1
    children, close = parse_object(text, open_brace)
    root = Node("Database", m.start(), close + 1, open_brace, close + 1, children, open_brace, close)
    out = DatabaseTypes(text=text, root=root)
    for child in children:
        if child.children is not None:
            out.schemas[child.key] = child
    c = re.search(r"export\s+const\s+Constants\s*=\s*\{", text)
    if c:
        members, cclose = parse_object(text, c.end() - 1)
        out.constants = Node("Constants", c.start(), cclose + 1, c.end() - 1, cclose + 1, members, c.end() - 1, cclose)
    return out


# ---------------------------------------------------------------- rendering


def quote_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_$][\w$]*", name) else json.dumps(name)


def _col_type(col: Column) -> str:
    return f"{col.ts_type} | null" if col.nullable else col.ts_type


def _column_order(columns: dict[str, Column]) -> list[Column]:
    return sorted(columns.values(), key=lambda c: _locale_key(c.name))


def _locale_key(name: str) -> list[tuple[int, str]]:
    # The generators sort with a locale collation: punctuation before digits before letters, case folded first.
    out = []
    for ch in name:
        if ch.isalpha():
            out.append((2, ch.lower()))
        elif ch.isdigit():
            out.append((1, ch))
        else:
            out.append((0, ch))
    return out


def render_table(table: Table, pad: str, unit: str) -> list[str]:
    cols = _column_order(table.columns)
    p1, p2 = pad + unit, pad + unit * 2
    lines = [f"{pad}{quote_key(table.name)}: {{", f"{p1}Row: {{"]
    lines += [f"{p2}{quote_key(c.name)}: {_col_type(c)}" for c in cols]
    lines += [f"{p1}}}", f"{p1}Insert: {{"]
    lines += [f"{p2}{quote_key(c.name)}{'?' if c.nullable or c.has_default else ''}: {_col_type(c)}" for c in cols]
    lines += [f"{p1}}}", f"{p1}Update: {{"]
    lines += [f"{p2}{quote_key(c.name)}?: {_col_type(c)}" for c in cols]
    lines.append(f"{p1}}}")
    lines += _relationships(table, p1, unit)
    lines.append(f"{pad}}}")
    return lines


def _relationships(table: Table, pad: str, unit: str) -> list[str]:
    if not table.relationships:
        return [f"{pad}Relationships: []"]
    p1, p2 = pad + unit, pad + unit * 2
    lines = [f"{pad}Relationships: ["]
    for r in table.relationships:
        lines += [
            f"{p1}{{",
            f'{p2}foreignKeyName: "{table.name}_{"_".join(r.columns)}_fkey"',
            f"{p2}columns: [{', '.join(json.dumps(c) for c in r.columns)}]",
            f"{p2}isOneToOne: false",
            f'{p2}referencedRelation: "{r.table}"',
            f"{p2}referencedColumns: [{', '.join(json.dumps(c) for c in r.referenced)}]",
            f"{p1}}},",
        ]
    lines.append(f"{pad}]")
    return lines


def render_view(view: View, pad: str, unit: str) -> list[str]:
    p1, p2 = pad + unit, pad + unit * 2
    lines = [f"{pad}{quote_key(view.name)}: {{", f"{p1}Row: {{"]
    lines += [f"{p2}{quote_key(c.name)}: {_col_type(c)}" for c in view.columns.values()]
    lines += [f"{p1}}}", f"{p1}Relationships: []", f"{pad}}}"]
    return lines


def render_enum(enum: Enum, pad: str) -> list[str]:
    return [f"{pad}{quote_key(enum.name)}: {' | '.join(json.dumps(v) for v in enum.values)}"]


# ---------------------------------------------------------------- merging


@dataclass
class Merge:
    """What a merge did, for the step's output and the dry-run."""

    text: str
    added: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # asked for, but the migrations do not define it


def _indent_unit(text: str) -> str:
    m = re.search(r"\n( +|\t)\S", text)
    if m and m.group(1).startswith("\t"):
        return "\t"
    return "  " if not m else " " * min(len(m.group(1)), 4)


def _line_indent(text: str, index: int) -> str:
    start = text.rfind("\n", 0, index) + 1
    m = re.match(r"[ \t]*", text[start:])
    return m.group(0) if m else ""


class _Edits:
    """Insertions at offsets of the original text, applied at once (so earlier offsets stay valid)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.inserts: list[tuple[int, int, str]] = []  # (offset, order, text)
        self.replacements: list[tuple[int, int, str]] = []

    def insert(self, offset: int, text: str) -> None:
        self.inserts.append((offset, len(self.inserts), text))

    def replace(self, start: int, end: int, text: str) -> None:
        self.replacements.append((start, end, text))

    def apply(self) -> str:
        out = self.text
        ops: list[tuple[int, int, int, str]] = [(o, o, k, t) for o, k, t in self.inserts]
        ops += [(s, e, -1, t) for s, e, t in self.replacements]
        for start, end, _, text in sorted(ops, key=lambda op: (op[0], op[2]), reverse=True):
            out = out[:start] + text + out[end:]
        return out


def _insert_member(edits: _Edits, text: str, parent: Node, name: str, lines: list[str]) -> None:
    """Insert rendered member lines into parent's object in alphabetical place (or replace `[_ in never]`)."""
    members = [c for c in parent.children or () if not c.key.startswith("[")]
    placeholder = [c for c in parent.children or () if c.key.startswith("[")]
    block = "\n".join(lines) + "\n"
    if placeholder and not members:
        edits.replace(placeholder[0].start, placeholder[0].end, block)
        return
    for member in members:
        if _locale_key(member.key) > _locale_key(name):
            edits.insert(member.start, block)
            return
    close_line = text.rfind("\n", 0, parent.close_brace) + 1
    if text[close_line : parent.close_brace].strip():  # `{ a: x }` on one line: no line to insert before
        edits.insert(parent.close_brace, "\n" + block + _line_indent(text, parent.start))
        return
    edits.insert(close_line, block)


def _member_pad(text: str, parent: Node, unit: str) -> str:
    members = parent.children or []
    if members:
        return _line_indent(text, members[0].start)
    return _line_indent(text, parent.start) + unit


def merge_types(
    text: str,
    schema: Schema,
    *,
    tables: list[str] | None = None,
    columns: list[tuple[str, str]] | None = None,
    pending: set[str] | None = None,
) -> Merge:
    """Merge objects of `schema` (read from the migrations) into the types.ts `text`.

    With `tables`, only those tables or views (and enums their columns use) are merged: a missing one is added
    whole, an existing table gets the columns it lacks. With `columns` (table, column), those columns are added
    or their type lines replaced. With neither, every table, view and enum the file lacks is added. Nothing is
    ever removed, and bytes outside the inserted lines do not change. `pending` names the migrations newer than
    what the file shows (None: all): only what they create or add is merged, as an older object the file lacks
    was renamed or dropped in the live database.
    """

    def new(source: str) -> bool:
        return pending is None or source in pending

    db = read_types(text)
    if db.root is None or "public" not in db.schemas:
        raise ValueError("no `export type Database = { public: { ... } }` in the file")
    unit = _indent_unit(text)
    edits = _Edits(text)
    result = Merge(text=text)
    public = {t.name: t for t in schema.tables.values() if t.schema == "public"}
    views = {v.name: v for v in schema.views.values() if v.schema == "public"}
    existing_tables = set(db.names("Tables"))
    existing_views = set(db.names("Views"))
    existing_enums = set(db.names("Enums"))
    wanted_tables: list[str]
    wanted_views: list[str]
    if tables is None and columns is None:
        wanted_tables = sorted(
            n
            for n, t in public.items()
            if (n not in existing_tables and t.created and new(t.source))
            or (n in existing_tables and any(new(c.source) for c in t.columns.values()))
        )
        wanted_views = sorted(n for n, v in views.items() if n not in existing_views and new(v.source))
        wanted_enums = sorted(n for n, e in schema.enums.items() if n not in existing_enums and new(e.source))
    else:
        wanted_tables, wanted_views, wanted_enums = [], [], []
        for name in tables or []:
            if name in public and (name in existing_tables or new(public[name].source)):
                wanted_tables.append(name)
            elif name in views and (name in existing_views or new(views[name].source)):
                wanted_views.append(name)
            elif name in existing_tables or name in existing_views:
                continue
            elif name in public or name in views:
                source = public[name].source if name in public else views[name].source
                result.missing.append(
                    f"{name} (created by {source}, which is older than what the file shows: "
                    "renamed or dropped in the live database since)"
                )
            else:
                result.missing.append(name)
        for table_name, _ in columns or []:
            if table_name in public and table_name not in wanted_tables:
                wanted_tables.append(table_name)
        for name in wanted_tables:
            for col in public[name].columns.values():
                enum = re.match(r'Database\["public"\]\["Enums"\]\["(\w+)"\]', col.ts_type)
                if enum and enum.group(1) not in existing_enums and enum.group(1) not in wanted_enums:
                    wanted_enums.append(enum.group(1))
    section_tables = db.section("Tables")
    section_views = db.section("Views")
    section_enums = db.section("Enums")
    for name in wanted_tables:
        table = public[name]
        if name not in existing_tables and table.created and section_tables is not None:
            pad = _member_pad(text, section_tables, unit)
            _insert_member(edits, text, section_tables, name, render_table(table, pad, unit))
            result.added.append(f"table {name}")
        elif name in existing_tables and section_tables is not None:
            entry = section_tables.child(name)
            assert entry is not None
            only = {c for t, c in columns or [] if t == name} or None
            result.added += _merge_columns(edits, text, entry, table, unit, only, new)
    for name in wanted_views:
        if name not in existing_views and section_views is not None:
            pad = _member_pad(text, section_views, unit)
            _insert_member(edits, text, section_views, name, render_view(views[name], pad, unit))
            result.added.append(f"view {name}")
    for name in wanted_enums:
        if name in schema.enums and section_enums is not None:
            pad = _member_pad(text, section_enums, unit)
            _insert_member(edits, text, section_enums, name, render_enum(schema.enums[name], pad))
            result.added.append(f"enum {name}")
            constants = db.constants.child("public") if db.constants else None
            const_enums = constants.child("Enums") if constants else None
            if const_enums is not None:
                cpad = _member_pad(text, const_enums, unit)
                values = ", ".join(json.dumps(v) for v in schema.enums[name].values)
                _insert_member(edits, text, const_enums, name, [f"{cpad}{quote_key(name)}: [{values}],"])
    result.text = edits.apply()
    return result


def _merge_columns(
    edits: _Edits, text: str, entry: Node, table: Table, unit: str, only: set[str] | None, new: Any
) -> list[str]:
    added: list[str] = []
    row = entry.child("Row")
    if row is None:
        return added
    have = {c.key for c in row.children or ()}
    for col in _column_order(table.columns):
        if only is not None and col.name not in only:
            continue
        if only is None and not new(col.source):
            continue
        forms = {
            "Row": f"{quote_key(col.name)}: {_col_type(col)}",
            "Insert": f"{quote_key(col.name)}{'?' if col.nullable or col.has_default else ''}: {_col_type(col)}",
            "Update": f"{quote_key(col.name)}?: {_col_type(col)}",
        }
        for part, line in forms.items():
            node = entry.child(part)
            if node is None or node.children is None:
                continue
            pad = _member_pad(text, node, unit)
            current = node.child(col.name)
            if current is not None:
                if only is not None and text[current.start : current.end].strip() != line:
                    edits.replace(current.start, current.end, f"{pad}{line}\n")
                    if part == "Row":
                        added.append(f"column {table.name}.{col.name} (type)")
                continue
            _insert_member(edits, text, node, col.name, [f"{pad}{line}"])
        if col.name not in have:
            added.append(f"column {table.name}.{col.name}")
    return added

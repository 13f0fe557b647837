"""The structural readers a `discover` declaration can name with `parse` (their record fields: dsl.readers.READERS).

A parser gets every file its declaration matched, as (path, text), and yields records (path, line, fields): one
fact each. Unlike a regex, it sees all the files at once, so it can follow a rename across migrations.

`database.*`: the database of a Supabase-style repository, from its generated `Database` type (a `.ts` file) and
its SQL migrations (`.sql` files, replayed in the order their names sort, undated names first). The generated type
is read first: it is the record of the live database. A migration's object is a fact too when the migration is
*pending*, that is newer than the newest migration whose objects the type already shows; an older object the type
lacks was renamed or dropped outside the migrations and is not a fact. Without a generated type every object the
migrations leave behind is a fact; an object a later migration renamed or dropped never is.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from continuous.common.sqlschema import Schema, read_migrations
from continuous.common.tstypes import DatabaseTypes, read_types
from continuous.dsl.readers import READERS

Record = tuple[str, int, dict[str, Any]]
Extractor = Callable[[list[tuple[str, str]]], Iterator[Record]]


def migration_order(path: str) -> tuple[int, str]:
    """Dated migrations in name order; a name with no date (`[timestamp]_x.sql`) cannot be placed, so first."""
    name = path.rsplit("/", 1)[-1]
    return (1 if re.match(r"\d", name) else 0, name)


@dataclass
class DatabaseView:
    """The generated type and the replayed migrations of one repository, and which migrations are pending."""

    types: DatabaseTypes | None
    types_path: str
    schema: Schema
    order: dict[str, int]
    covered: int  # index of the newest migration the generated type reflects (-1: none)

    def pending(self, source: str) -> bool:
        return self.order.get(source, -1) > self.covered


def read_database(files: list[tuple[str, str]]) -> DatabaseView:
    """Both sources read once per discovery: nine declarations share one reading (a small cache on the texts)."""
    return _read_database(tuple(files))


@lru_cache(maxsize=4)
def _read_database(files: tuple[tuple[str, str], ...]) -> DatabaseView:
    ts_files = [(p, t) for p, t in files if p.endswith((".ts", ".tsx"))]
    sql_files = sorted(((p, t) for p, t in files if p.endswith(".sql")), key=lambda f: migration_order(f[0]))
    types = None
    types_path = ""
    for path, text in ts_files:
        candidate = read_types(text)
        if candidate.root is not None:
            types, types_path = candidate, path
            break
    schema = read_migrations(sql_files)
    order = {p: i for i, (p, _) in enumerate(sql_files)}
    covered = -1  # without a generated type every migration counts
    if types is not None:
        known = set(types.names("Tables")) | set(types.names("Views"))
        for table in schema.tables.values():
            if table.created and table.schema == "public" and table.name in known:
                covered = max(covered, order.get(table.source, -1))
        for view in schema.views.values():
            if view.schema == "public" and view.name in known:
                covered = max(covered, order.get(view.source, -1))
    return DatabaseView(types, types_path, schema, order, covered)


def _types_entries(db: DatabaseView, section: str) -> Iterator[tuple[str, str, int]]:
    """(schema, name, line) of the generated type's entries in one section."""
    if db.types is None:
        return
    for schema_name, node in db.types.schemas.items():
        part = node.child(section)
        for entry in part.children or () if part else ():
            if not entry.key.startswith("["):
                yield schema_name, entry.key, db.types.line_of(entry.start)


def _gone(db: DatabaseView, schema: str, name: str) -> bool:
    """A generated-type object that a pending migration renamed or dropped."""
    key = f"{schema}.{name}"
    return any(db.pending(source) for source in db.schema.gone.get(key, ()))


def _tables(files: list[tuple[str, str]]) -> Iterator[Record]:
    db = read_database(files)
    seen: set[tuple[str, str]] = set()
    for schema, name, line in _types_entries(db, "Tables"):
        if not _gone(db, schema, name):
            seen.add((schema, name))
            made = db.schema.tables.get(f"{schema}.{name}")
            if made is not None and made.created:  # located where a migration created it
                yield (
                    made.source,
                    made.line,
                    {"name": name, "schema": schema, "origin": "types", "migration": made.source},
                )
            else:
                yield db.types_path, line, {"name": name, "schema": schema, "origin": "types", "migration": ""}
    for table in db.schema.live_tables():
        if (table.schema, table.name) not in seen and db.pending(table.source):
            yield (
                table.source,
                table.line,
                {"name": table.name, "schema": table.schema, "origin": "migrations", "migration": table.source},
            )


def _views(files: list[tuple[str, str]]) -> Iterator[Record]:
    db = read_database(files)
    seen: set[tuple[str, str]] = set()
    for schema, name, line in _types_entries(db, "Views"):
        if not _gone(db, schema, name):
            seen.add((schema, name))
            yield db.types_path, line, {"name": name, "schema": schema, "origin": "types"}
    for view in db.schema.views.values():
        if (view.schema, view.name) not in seen and db.pending(view.source):
            yield view.source, view.line, {"name": view.name, "schema": view.schema, "origin": "migrations"}


def _functions(files: list[tuple[str, str]]) -> Iterator[Record]:
    db = read_database(files)
    seen: set[tuple[str, str]] = set()
    for schema, name, line in _types_entries(db, "Functions"):
        seen.add((schema, name))
        yield db.types_path, line, {"name": name, "schema": schema, "origin": "types"}
    for fn in db.schema.functions.values():
        if (fn.schema, fn.name) not in seen:
            yield fn.source, fn.line, {"name": fn.name, "schema": fn.schema, "origin": "migrations"}


def _enums(files: list[tuple[str, str]]) -> Iterator[Record]:
    db = read_database(files)
    seen: set[str] = set()
    if db.types is not None:
        for schema_name, node in db.types.schemas.items():
            part = node.child("Enums")
            for entry in part.children or () if part else ():
                if entry.key.startswith("["):
                    continue
                values = re.findall(r'"((?:[^"\\]|\\.)*)"', db.types.text[entry.value_start : entry.value_end])
                seen.add(entry.key)
                yield (
                    db.types_path,
                    db.types.line_of(entry.start),
                    {"name": entry.key, "schema": schema_name, "values": ",".join(values), "origin": "types"},
                )
    for enum in db.schema.enums.values():
        if enum.name not in seen:
            yield (
                enum.source,
                enum.line,
                {"name": enum.name, "schema": "public", "values": ",".join(enum.values), "origin": "migrations"},
            )


def _columns(files: list[tuple[str, str]]) -> Iterator[Record]:
    db = read_database(files)
    seen: set[tuple[str, str, str]] = set()
    if db.types is not None:
        for schema_name, node in db.types.schemas.items():
            for section in ("Tables", "Views"):
                part = node.child(section)
                for entry in part.children or () if part else ():
                    row = entry.child("Row")
                    if row is None or _gone(db, schema_name, entry.key):
                        continue
                    for member in row.children or ():
                        seen.add((schema_name, entry.key, member.key))
                        yield (
                            db.types_path,
                            db.types.line_of(member.start),
                            {
                                "table": entry.key,
                                "schema": schema_name,
                                "name": member.key,
                                "type": db.types.text[member.value_start : member.value_end].strip(),
                                "origin": "types",
                            },
                        )
    typed = {(s, n) for s, n, _ in _types_entries(db, "Tables")} | {(s, n) for s, n, _ in _types_entries(db, "Views")}
    for table in db.schema.tables.values():
        in_types = (table.schema, table.name) in typed
        if not in_types and not (table.created and db.pending(table.source)):
            continue
        for col in table.columns.values():
            if (table.schema, table.name, col.name) in seen:
                continue
            if in_types and not db.pending(col.source):
                continue
            yield (
                col.source or table.source,
                col.line or table.line,
                {
                    "table": table.name,
                    "schema": table.schema,
                    "name": col.name,
                    "type": col.pg_type,
                    "origin": "migrations",
                },
            )


def _keys(files: list[tuple[str, str]]) -> Iterator[Record]:
    db = read_database(files)
    for table in db.schema.tables.values():
        for i, key in enumerate(table.unique):
            yield (
                table.source,
                table.line,
                {
                    "table": table.name,
                    "schema": table.schema,
                    "columns": ",".join(key),
                    "primary": i == 0 and table.has_primary,
                },
            )


_OWNER = (
    re.compile(r'"?(\w+)"?\s*(?:::\s*\w+\s*)?=\s*\(?\s*(?:select\s+)?auth\.uid\(\)', re.IGNORECASE),
    re.compile(r'auth\.uid\(\)\s*\)?\s*(?:::\s*\w+\s*)?=\s*"?(\w+)"?', re.IGNORECASE),
)
_COMMANDS = ("SELECT", "INSERT", "UPDATE", "DELETE")


def owner_column(*expressions: str, columns: set[str] | None = None) -> str:
    """The column a policy compares with the signed-in user (`user_id = auth.uid()`), or "".

    When the table's columns are known, the name must be one of them (not a column of a subquery's table)."""
    for expression in expressions:
        for rx in _OWNER:
            for m in rx.finditer(expression):
                name = m.group(1)
                if name.lower() in ("select", "auth", "uuid", "text"):
                    continue
                if columns is None or name in columns:
                    return name
    return ""


def _table_columns(db: DatabaseView, key: str) -> set[str] | None:
    schema, name = key.split(".", 1)
    found: set[str] = set()
    table = db.schema.tables.get(key)
    if table is not None:
        found.update(table.columns)
    if db.types is not None:
        found.update(db.types.columns(name, schema))
    return found or None


def _policies(files: list[tuple[str, str]]) -> Iterator[Record]:
    db = read_database(files)
    for (key, _), p in db.schema.policies.items():
        yield (
            p.source,
            p.line,
            {
                "table": p.table,
                "schema": key.split(".", 1)[0],
                "name": p.name,
                "command": p.command,
                "roles": p.roles,
                "using": p.using,
                "check": p.check,
                "owner_column": owner_column(p.using, p.check, columns=_table_columns(db, key)),
            },
        )


def _access(files: list[tuple[str, str]]) -> Iterator[Record]:
    """Per table, the kinds of access its policies grant for every command they need (see the module doc).

    Kinds: `owner` (each command limited to rows whose owner column is the signed-in user), `authenticated_read`,
    `authenticated_write`, `public_read` (open to everyone), `service_role` (every command for the service role).
    """
    db = read_database(files)
    by_table: dict[str, list[Any]] = {}
    for (key, _), p in db.schema.policies.items():
        by_table.setdefault(key, []).append(p)
    for key, policies in by_table.items():
        covered: dict[str, set[str]] = {}
        owner = ""
        last = policies[-1]
        columns = _table_columns(db, key)
        for p in policies:
            commands = _COMMANDS if p.command == "ALL" else (p.command,)
            roles = set(p.roles.split(","))
            signed_in = bool(roles & {"authenticated", "public"})
            column = owner_column(p.using, p.check, columns=columns)
            is_open = p.using.strip().lower() in ("", "true") and p.check.strip().lower() in ("", "true")
            kinds = []
            if column and signed_in:
                kinds.append("owner")
                owner = owner or column
            if is_open and signed_in:
                kinds += ["authenticated_read", "authenticated_write"]
            if is_open and roles & {"anon", "public"}:
                kinds.append("public_read")
            if "service_role" in roles:
                kinds.append("service_role")
            for kind in kinds:
                covered.setdefault(kind, set()).update(commands)
        needs = {
            "owner": set(_COMMANDS),
            "authenticated_write": set(_COMMANDS),
            "service_role": set(_COMMANDS),
            "authenticated_read": {"SELECT"},
            "public_read": {"SELECT"},
        }
        for kind, required in needs.items():
            if required <= covered.get(kind, set()):
                schema, table = key.split(".", 1)
                yield (
                    last.source,
                    last.line,
                    {
                        "table": table,
                        "schema": schema,
                        "access": kind,
                        "owner_column": owner if kind == "owner" else "",
                    },
                )


def _rls(files: list[tuple[str, str]]) -> Iterator[Record]:
    db = read_database(files)
    for key, (source, line) in db.schema.rls.items():
        schema, table = key.split(".", 1)
        yield source, line, {"table": table, "schema": schema}


def _rows(files: list[tuple[str, str]]) -> Iterator[Record]:
    db = read_database(files)
    for row in db.schema.rows:
        yield row.source, row.line, {"table": row.table, "schema": row.schema, "values": dict(row.values)}


def _history(files: list[tuple[str, str]]) -> Iterator[Record]:
    """Every table the migrations leave behind, whatever the generated type shows: a name the migration history
    already creates cannot be created again without breaking a replay of the migrations (`supabase db reset`)."""
    db = read_database(files)
    for table in db.schema.live_tables():
        required = [c.name for c in table.columns.values() if not c.nullable and not c.has_default]
        yield (
            table.source,
            table.line,
            {
                "name": table.name,
                "schema": table.schema,
                "migration": table.source,
                "columns": ",".join(table.columns),
                "required": ",".join(required),
            },
        )


def _renames(files: list[tuple[str, str]]) -> Iterator[Record]:
    """Old names of the tables the migrations renamed (a chain of renames ends at the newest name): people and
    old code still say the old name for a while."""
    db = read_database(files)
    for legacy, current in sorted(db.schema.renamed.items()):
        schema, old = legacy.split(".", 1)
        new = current.split(".", 1)[1]
        sources = db.schema.gone.get(legacy) or [""]
        yield sources[-1], 1, {"old": old, "new": new, "schema": schema}


MARKDOWN_WORDS = Path(__file__).resolve().parent / "data" / "markdown.toml"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@lru_cache(maxsize=1)
def _rename_words() -> tuple[frozenset[str], frozenset[str]]:
    data = tomllib.loads(MARKDOWN_WORDS.read_text(encoding="utf-8"))["renames"]
    return frozenset(data["old"]), frozenset(data["new"])


def _header_role(cell: str) -> str | None:
    old_words, new_words = _rename_words()
    words = {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in re.findall(r"[a-z]+", cell.lower())}
    is_old, is_new = bool(words & old_words), bool(words & new_words)
    return "old" if is_old and not is_new else "new" if is_new and not is_old else None


def _markdown_renames(files: list[tuple[str, str]]) -> Iterator[Record]:
    """Rows of the documents' tables of renames, as (old, new): the only record of renames made outside the
    migrations (in the live database, say), which instruction files for agents and people keep."""
    from continuous.engine import mdtable

    for path, text in files:
        lines = text.splitlines()
        for table in mdtable.tables(lines):
            roles = [_header_role(c) for c in table.columns]
            if roles.count("old") != 1 or roles.count("new") != 1:
                continue
            old_at, new_at = roles.index("old"), roles.index("new")
            for row in table.rows:
                cells = [c.strip().strip("`").strip() for c in mdtable.row_cells(lines[row])]
                if max(old_at, new_at) >= len(cells):
                    continue
                old, new = cells[old_at], cells[new_at]
                if _IDENTIFIER.fullmatch(old) and _IDENTIFIER.fullmatch(new) and old != new:
                    yield path, row + 1, {"old": old, "new": new}


EXTRACTORS: dict[str, Extractor] = {
    "database.tables": _tables,
    "database.history": _history,
    "database.views": _views,
    "database.functions": _functions,
    "database.enums": _enums,
    "database.columns": _columns,
    "database.keys": _keys,
    "database.policies": _policies,
    "database.access": _access,
    "database.rls": _rls,
    "database.rows": _rows,
    "database.renames": _renames,
    "markdown.renames": _markdown_renames,
}

assert set(EXTRACTORS) <= set(READERS), "every engine extractor is declared in dsl.readers.READERS"

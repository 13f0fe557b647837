"""Replaying migrations statement by statement into a `Schema` (see `sqlschema`): tables created, altered, renamed
and dropped, views, enums, functions, policies and inserted rows. Unknown statements are skipped."""

from __future__ import annotations

import re
from collections.abc import Iterable

from continuous.common.sqlschema import (
    Column,
    Enum,
    Function,
    Policy,
    Relationship,
    Row,
    Schema,
    Statement,
    Table,
    View,
    _columns_list,
    _key,
    _rx,
    bare_name,
    parse_column,
    schema_of,
    split_top,
    statements,
    ts_type,
    unquote,
)

# ---------------------------------------------------------------- replay


_CREATE_TYPE_ENUM = _rx(r"^create type (NAME) as enum \((.*)\)$")
_ALTER_TYPE_ADD = _rx(r"^alter type (NAME) add value (?:if not exists )?'((?:[^']|'')*)'")
_CREATE_TABLE = _rx(
    r"^create (?:(?:global |local )?(temporary |temp )|unlogged )?table (?:if not exists )?(NAME) ?\((.*)\)"
)
_CREATE_TABLE_AS = _rx(r"^create (?:unlogged )?table (?:if not exists )?(NAME) as ")
_ALTER_TABLE = _rx(r"^alter table (?:if exists )?(?:only )?(NAME) (.*)$")
_DROP_TABLE = _rx(r"^drop table (?:if exists )?(.*?)(?: cascade| restrict)?$")
_CREATE_VIEW = _rx(
    r"^create (?:or replace )?(?:materialized )?view (?:if not exists )?(NAME)"
    r"(?: \(([^)]*)\))?(?: with \([^)]*\))? as (.*)$"
)
_ALTER_VIEW_RENAME = _rx(r"^alter (?:materialized )?view (?:if exists )?(NAME) rename to (NAME)$")
_DROP_VIEW = _rx(r"^drop (?:materialized )?view (?:if exists )?(.*?)(?: cascade| restrict)?$")
_CREATE_FUNCTION = _rx(r"^create (?:or replace )?function (NAME) ?\(")
_RETURNS = re.compile(r"\)\s*returns\s+(setof\s+[\w.\"]+|table\b|[\w.\"]+(?:\[\])?)", re.IGNORECASE)
_ADD_UNIQUE = re.compile(r"^add (?:constraint \S+ )?unique(?: nulls (?:not )?distinct)? ?\(([^)]*)\)", re.I)
_FOREIGN_KEY = _rx(r"^(?:constraint \S+ )?foreign key \(([^)]*)\) references (NAME)\s*\(([^)]*)\)")
_DROP_FUNCTION = _rx(r"^drop function (?:if exists )?(NAME)")
_CREATE_POLICY = _rx(r"^create policy (\"[^\"]+\"|\w+) on (NAME)(.*)$")
_DROP_POLICY = _rx(r"^drop policy (?:if exists )?(\"[^\"]+\"|\w+) on (NAME)")
_ALTER_POLICY_RENAME = _rx(r"^alter policy (\"[^\"]+\"|\w+) on (NAME) rename to (\"[^\"]+\"|\w+)")
_INSERT = _rx(r"^insert into (NAME) ?\(([^)]*)\) ?values ?(.*)$")
_UNIQUE_INDEX = _rx(
    r"^create unique index (?:concurrently )?(?:if not exists )?(?:NAME )?on (?:only )?(NAME)"
    r"(?: using \w+)? ?\(([^)]*)\)"
)


# The statement's verb and object: `create or replace materialized view` -> ("create", "view").
_KIND = re.compile(
    r"^(create|alter|drop|insert)\s+(?:or\s+replace\s+)?(?:(?:global|local)\s+)?"
    r"(?:materialized\s+|unlogged\s+|temp\s+|temporary\s+|unique\s+)?(\w+)",
    re.IGNORECASE,
)


def replay(files: Iterable[tuple[str, str]]) -> Schema:
    """Replay migrations, given as (path, text) in the order they apply, into a Schema."""
    schema = Schema()
    for path, text in files:
        for stmt in statements(text, path):
            try:
                _apply(schema, stmt)
            except (IndexError, ValueError):  # pragma: no cover - a statement too odd to read is skipped
                continue
    return schema


def _apply(schema: Schema, stmt: Statement) -> None:
    s = stmt.text
    kind = _KIND.match(s)
    if not kind:
        return
    head = f"{kind.group(1)} {kind.group(2)}".lower()
    if head == "create type":
        m = _CREATE_TYPE_ENUM.match(s)
        if m:
            values = [v.replace("''", "'") for v in re.findall(r"'((?:[^']|'')*)'", m.group(2))]
            schema.enums[bare_name(m.group(1))] = Enum(bare_name(m.group(1)), values, stmt.source, stmt.line)
    elif head == "alter type":
        m = _ALTER_TYPE_ADD.match(s)
        if m and bare_name(m.group(1)) in schema.enums:
            schema.enums[bare_name(m.group(1))].values.append(m.group(2).replace("''", "'"))
    elif head == "create table":
        m = _CREATE_TABLE.match(s)
        if m:
            if not m.group(1):  # temporary tables do not outlive the migration
                again = re.match(r"(?i)^create (?:unlogged )?table (?!if not exists)", s) is not None
                _create_table(schema, m.group(2), m.group(3), stmt, replace=again)
        else:
            m = _CREATE_TABLE_AS.match(s)
            if m:
                key = _key(m.group(1))
                if key not in schema.tables or not schema.tables[key].created:
                    schema.tables[key] = Table(
                        bare_name(m.group(1)), schema_of(m.group(1)), source=stmt.source, line=stmt.line
                    )
    elif head == "alter table":
        m = _ALTER_TABLE.match(s)
        if m:
            _alter_table(schema, m.group(1), m.group(2), stmt)
    elif head == "drop table":
        m = _DROP_TABLE.match(s)
        if m:
            for name in split_top(m.group(1)):
                key = _key(name.strip())
                schema.gone.setdefault(key, []).append(stmt.source)
                schema.tables.pop(key, None)
                schema.rls.pop(key, None)
                for pk in [k for k in schema.policies if k[0] == key]:
                    del schema.policies[pk]
    elif head == "create view":
        m = _CREATE_VIEW.match(s)
        if m:
            name = bare_name(m.group(1))
            columns = view_columns(m.group(3), m.group(2), schema)
            schema.views[_key(m.group(1))] = View(name, schema_of(m.group(1)), columns, stmt.source, stmt.line)
    elif head == "alter view":
        m = _ALTER_VIEW_RENAME.match(s)
        if m and _key(m.group(1)) in schema.views:
            view = schema.views.pop(_key(m.group(1)))
            view.name = bare_name(m.group(2))
            schema.views[f"{view.schema}.{view.name}"] = view
    elif head == "drop view":
        m = _DROP_VIEW.match(s)
        if m:
            for name in split_top(m.group(1)):
                schema.views.pop(_key(name.strip()), None)
    elif head == "create function":
        m = _CREATE_FUNCTION.match(s)
        if m:
            returns = _RETURNS.search(s)
            schema.functions[_key(m.group(1))] = Function(
                bare_name(m.group(1)),
                schema_of(m.group(1)),
                unquote(returns.group(1)).lower() if returns else "",
                stmt.source,
                stmt.line,
            )
    elif head == "drop function":
        m = _DROP_FUNCTION.match(s)
        if m:
            schema.functions.pop(_key(m.group(1)), None)
    elif head == "create policy":
        m = _CREATE_POLICY.match(s)
        if m:
            _create_policy(schema, unquote(m.group(1)), m.group(2), m.group(3), stmt)
    elif head == "drop policy":
        m = _DROP_POLICY.match(s)
        if m:
            schema.policies.pop((_key(m.group(2)), unquote(m.group(1))), None)
    elif head == "alter policy":
        m = _ALTER_POLICY_RENAME.match(s)
        if m:
            policy = schema.policies.pop((_key(m.group(2)), unquote(m.group(1))), None)
            if policy:
                policy.name = unquote(m.group(3))
                schema.policies[(_key(m.group(2)), policy.name)] = policy
    elif head == "insert into":
        m = _INSERT.match(s)
        if m:
            _insert(schema, m.group(1), m.group(2), m.group(3), stmt)
    elif head == "create index":
        m = _UNIQUE_INDEX.match(s)
        if m and _key(m.group(1)) in schema.tables:
            cols = _columns_list(m.group(2))
            if all(re.fullmatch(r"\w+", c) for c in cols):
                schema.tables[_key(m.group(1))].unique.append(cols)


def _create_table(schema: Schema, raw_name: str, body: str, stmt: Statement, *, replace: bool = False) -> None:
    """`IF NOT EXISTS` keeps an existing table; a plain CREATE TABLE of an existing name (which PostgreSQL would
    refuse) means the table was gone by then, so the later definition wins."""
    key = _key(raw_name)
    existing = schema.tables.get(key)
    if existing is not None and existing.created and not replace:
        return
    table = Table(bare_name(raw_name), schema_of(raw_name), source=stmt.source, line=stmt.line)
    enums = schema.enums.keys()
    pk: tuple[str, ...] | None = None
    for item in split_top(body):
        lower = item.lower()
        pk_match = re.match(r"^(?:constraint \S+ )?primary key \(([^)]*)\)", lower)
        if pk_match:
            pk = _columns_list(pk_match.group(1))
            for key_column in pk:
                if key_column in table.columns:
                    table.columns[key_column].nullable = False
            continue
        fk = _FOREIGN_KEY.match(lower)
        if fk:
            table.relationships.append(
                Relationship(list(_columns_list(fk.group(1))), bare_name(fk.group(2)), list(_columns_list(fk.group(3))))
            )
            continue
        unique = re.match(r"^(?:constraint \S+ )?unique(?: nulls (?:not )?distinct)? ?\(([^)]*)\)", lower)
        if unique:
            table.unique.append(_columns_list(unique.group(1)))
            continue
        if re.match(r"^(constraint|unique|check|exclude|like)\b", lower):
            continue
        col = parse_column(item, enums)
        if col is None:
            continue
        col.source, col.line = stmt.source, stmt.line
        table.columns[col.name] = col
        if col.references:
            table.relationships.append(Relationship([col.name], col.references[0], [col.references[1]]))
        col_rest = lower.split(None, 1)[1] if " " in lower else ""
        if re.search(r"primary\s+key", col_rest):
            pk = (col.name.lower(),)
        elif re.search(r"\bunique\b", col_rest):
            table.unique.append((col.name.lower(),))
    if pk:
        table.unique.insert(0, pk)
        table.has_primary = True
    schema.tables[key] = table
    schema.renamed.pop(key, None)  # a legacy name created again is a new table


def _alter_table(schema: Schema, raw_name: str, rest: str, stmt: Statement) -> None:
    key = _key(raw_name)
    table = schema.tables.get(key)
    rename = re.match(r'^rename to ("?\w+"?)$', rest, re.IGNORECASE)
    if rename:
        schema.gone.setdefault(key, []).append(stmt.source)
        if table is None:
            return
        new_key = f"{table.schema}.{bare_name(rename.group(1))}"
        del schema.tables[key]
        table.name = bare_name(rename.group(1))
        schema.tables[new_key] = table
        schema.renamed[key] = new_key
        for legacy, current in list(schema.renamed.items()):
            if current == key:
                schema.renamed[legacy] = new_key
        if key in schema.rls:
            schema.rls[new_key] = schema.rls.pop(key)
        for pk in [k for k in schema.policies if k[0] == key]:
            policy = schema.policies.pop(pk)
            policy.table = table.name
            schema.policies[(new_key, pk[1])] = policy
        return
    set_schema = re.match(r"^set schema (\"?\w+\"?)$", rest, re.IGNORECASE)
    if set_schema:
        if table is None:
            return
        del schema.tables[key]
        table.schema = bare_name(set_schema.group(1))
        schema.tables[f"{table.schema}.{table.name}"] = table
        schema.rls.pop(key, None)
        return
    if table is None:
        table = Table(bare_name(raw_name), schema_of(raw_name), source=stmt.source, line=stmt.line, created=False)
        schema.tables[key] = table
    enums = schema.enums.keys()
    for action in split_top(rest):
        a = None
        if re.match(r"^enable row level security$", action, re.IGNORECASE):
            schema.rls[key] = (stmt.source, stmt.line)
        elif re.match(r"^disable row level security$", action, re.IGNORECASE):
            schema.rls.pop(key, None)
        elif a := _ADD_UNIQUE.match(action):
            table.unique.append(_columns_list(a.group(1)))
        elif a := re.match(r"^add (?:constraint \S+ )?primary key ?\(([^)]*)\)", action, re.I):
            table.unique.insert(0, _columns_list(a.group(1)))
            table.has_primary = True
        elif (a := re.match(r"^add (?:column )?(?:if not exists )?([\s\S]+)$", action, re.I)) and not re.match(
            r"^add (constraint|primary|unique|check|foreign|exclude)", action, re.I
        ):
            col = parse_column(a.group(1), enums)
            if col:
                col.source, col.line = stmt.source, stmt.line
                table.columns[col.name] = col
                if col.references:
                    table.relationships.append(Relationship([col.name], col.references[0], [col.references[1]]))
        elif (a := re.match(r'^drop (?:column )?(?:if exists )?("?\w+"?)', action, re.I)) and not re.match(
            r"^drop (constraint|default|not null)", action, re.I
        ):
            name = unquote(a.group(1))
            table.columns.pop(name, None)
            table.relationships = [r for r in table.relationships if name not in r.columns]
        elif (a := re.match(r'^rename (?:column )?("?\w+"?) to ("?\w+"?)$', action, re.I)) and not re.match(
            r"^rename constraint", action, re.I
        ):
            col = table.columns.pop(unquote(a.group(1)), None)
            if col:
                col.name = unquote(a.group(2))
                table.columns[col.name] = col
        elif a := re.match(r'^alter (?:column )?("?\w+"?) (set|drop) not null$', action, re.I):
            col = table.columns.get(unquote(a.group(1)))
            if col:
                col.nullable = a.group(2).lower() == "drop"
        elif a := re.match(r'^alter (?:column )?("?\w+"?) (?:set data )?type ([^,]+?)(?: using .*)?$', action, re.I):
            col = table.columns.get(unquote(a.group(1)))
            if col:
                col.pg_type = a.group(2)
                col.ts_type = ts_type(a.group(2), enums)
        elif a := re.match(r'^alter (?:column )?("?\w+"?) set default', action, re.I):
            col = table.columns.get(unquote(a.group(1)))
            if col:
                col.has_default = True


def _create_policy(schema: Schema, name: str, raw_table: str, rest: str, stmt: Statement) -> None:
    clauses = re.split(r"\s(?:using|with check)\s?\(", rest, maxsplit=1, flags=re.IGNORECASE)[0]
    command = re.search(r"\bfor (all|select|insert|update|delete)\b", clauses, re.IGNORECASE)
    roles = re.search(r"\bto ((?:\"?\w+\"?)(?: ?, ?\"?\w+\"?)*)", clauses, re.IGNORECASE)
    using = re.search(r"\busing ?\((.*?)\)(?: with check|$)", rest, re.IGNORECASE)
    check = re.search(r"\bwith check ?\((.*)\)$", rest, re.IGNORECASE)
    key = _key(raw_table)
    schema.policies[(key, name)] = Policy(
        table=bare_name(raw_table),
        name=name,
        command=(command.group(1) if command else "all").upper(),
        roles=",".join(unquote(r.strip()).lower() for r in roles.group(1).split(",")) if roles else "public",
        using=using.group(1).strip() if using else "",
        check=check.group(1).strip() if check else "",
        source=stmt.source,
        line=stmt.line,
    )


def _insert(schema: Schema, raw_table: str, columns: str, rest: str, stmt: Statement) -> None:
    names = [unquote(c.strip()).lower() for c in columns.split(",")]
    rest = re.split(r"\s(?:on conflict|returning)\b", rest, maxsplit=1, flags=re.IGNORECASE)[0]
    for group in split_top(rest):
        group = group.strip()
        if not (group.startswith("(") and group.endswith(")")):
            continue
        values = split_top(group[1:-1])
        if len(values) != len(names):
            continue
        row = {n: _literal(v) for n, v in zip(names, values, strict=True)}
        schema.rows.append(Row(bare_name(raw_table), schema_of(raw_table), row, stmt.source, stmt.line))


def _literal(value: str) -> str:
    v = value.strip()
    if len(v) >= 2 and v[0] == "'" and v[-1] == "'":
        return v[1:-1].replace("''", "'")
    return v


def view_columns(query: str, explicit: str | None, schema: Schema) -> dict[str, Column]:
    """Column names and types of `select a, t.b, count(*) as n from x ...`; a column of a known table keeps its type."""
    sel = _rx(r"^\(?\s*select (?:distinct )?([\s\S]*?) from (NAME)").match(query)
    columns: dict[str, Column] = {}
    if not sel:
        return columns
    source = schema.tables.get(_key(sel.group(2)))
    names = [unquote(c.strip()) for c in explicit.split(",")] if explicit else None
    for index, expr in enumerate(split_top(sel.group(1))):
        alias = re.search(r'\s+as\s+("?\w+"?)$', expr, re.IGNORECASE)
        bare = re.sub(r'\s+as\s+"?\w+"?$', "", expr, flags=re.IGNORECASE).strip()
        if bare == "*" and source:
            for col in source.columns.values():
                columns[col.name] = Column(col.name, col.pg_type, col.ts_type, True, col.has_default)
            continue
        ref = re.match(r'^(?:"?\w+"?\.)?("?\w+"?)$', bare)
        if names is not None and index < len(names):
            name = names[index]
        elif alias:
            name = unquote(alias.group(1))
        elif ref:
            name = unquote(ref.group(1))
        else:
            name = f"column_{index + 1}"
        typ = "unknown"
        known = source.columns.get(unquote(ref.group(1))) if ref and source else None
        cast = re.search(r"::\s*(\w+(?: \w+)?)$", bare)
        minmax = re.match(r"^(max|min)\((?:\w+\.)?(\w+)\)$", bare, re.IGNORECASE)
        if known:
            typ = known.ts_type
        elif re.match(r"^count\(", bare, re.IGNORECASE) or re.match(r"^(sum|avg)\(", bare, re.IGNORECASE):
            typ = "number"
        elif cast:
            typ = ts_type(cast.group(1), ())
        elif minmax and source:
            inner = source.columns.get(minmax.group(2))
            typ = inner.ts_type if inner else "unknown"
        columns[name] = Column(name, "", typ, True, False)
    return columns

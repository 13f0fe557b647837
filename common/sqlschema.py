"""The database schema that a folder of SQL migrations describes, read statement by statement.

Real migrations are not a clean history: tables are created twice (`IF NOT EXISTS`), renamed, dropped, altered
by migrations written against a live database whose tables no migration created. This reader replays them in file
order into a `Schema` (tables with their columns and unique keys, views, enums, functions, policies, inserted rows),
so discovery can tell a live name from a legacy one, create-table can follow the registry table's real shape, and
the type merger can render a table the way `supabase gen types` would. It never raises on SQL it does not
understand: an unknown statement is skipped, an unbalanced quote ends the file.

The column and type reading follows the offline generator of the example monorepo
(the example monorepo's scripts/cli-pipeline/database/generate-types.mjs) so both render a table the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from continuous.common.sqlsplit import split_statements

_NAME = r'(?:"[^"]+"|[A-Za-z_][\w$]*)(?:\.(?:"[^"]+"|[A-Za-z_][\w$]*))?'
_CONSTRAINT_WORDS = frozenset(
    ["not", "null", "default", "primary", "references", "unique", "check", "constraint", "generated", "collate"]
)
_STRING_TYPES = re.compile(
    r"^(uuid|text|varchar|character varying|character|char|citext|date|time|timetz|timestamp|timestamptz|"
    r"timestamp with time zone|timestamp without time zone|time with time zone|time without time zone|interval|"
    r"inet|cidr|macaddr|bytea|tsvector|name)$"
)
_NUMBER_TYPES = re.compile(
    r"^(smallint|integer|int|int2|int4|int8|bigint|serial|smallserial|bigserial|real|float4|float8|"
    r"double precision|numeric|decimal|money)$"
)


@dataclass
class Column:
    name: str
    pg_type: str
    ts_type: str
    nullable: bool
    has_default: bool
    references: tuple[str, str] | None = None  # (table, column)
    source: str = ""
    line: int = 0


@dataclass
class Relationship:
    columns: list[str]
    table: str
    referenced: list[str]


@dataclass
class Table:
    name: str
    schema: str
    columns: dict[str, Column] = field(default_factory=dict)
    relationships: list[Relationship] = field(default_factory=list)
    unique: list[tuple[str, ...]] = field(default_factory=list)  # primary key first, then unique keys
    has_primary: bool = False
    source: str = ""
    line: int = 1
    created: bool = True  # False: only altered by the migrations (a table they never create)


@dataclass
class View:
    name: str
    schema: str
    columns: dict[str, Column]
    source: str = ""
    line: int = 1


@dataclass
class Policy:
    table: str
    name: str
    command: str  # ALL, SELECT, INSERT, UPDATE, DELETE
    roles: str  # comma-separated, as written (public when omitted)
    using: str
    check: str
    source: str = ""
    line: int = 1


@dataclass
class Function:
    name: str
    schema: str
    returns: str
    source: str = ""
    line: int = 1


@dataclass
class Row:
    table: str
    schema: str
    values: dict[str, str]
    source: str = ""
    line: int = 1


@dataclass
class Enum:
    name: str
    values: list[str]
    source: str = ""
    line: int = 1


@dataclass
class Schema:
    tables: dict[str, Table] = field(default_factory=dict)  # key: schema.name
    views: dict[str, View] = field(default_factory=dict)
    enums: dict[str, Enum] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    policies: dict[tuple[str, str], Policy] = field(default_factory=dict)  # (table key, policy name)
    rls: dict[str, tuple[str, int]] = field(default_factory=dict)  # table key -> where enabled
    rows: list[Row] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)  # legacy table key -> current key
    gone: dict[str, list[str]] = field(default_factory=dict)  # table key -> migrations that renamed or dropped it

    def table(self, name: str, schema: str = "public") -> Table | None:
        return self.tables.get(f"{schema}.{name}")

    def live_tables(self) -> list[Table]:
        """Tables the migrations create and that no later migration renamed or dropped."""
        return [t for t in self.tables.values() if t.created]


# ---------------------------------------------------------------- statements


@dataclass
class Statement:
    text: str  # comments removed, whitespace collapsed
    source: str
    line: int


def statements(text: str, source: str = "") -> Iterator[Statement]:
    """Statements of an SQL file (comments removed; quotes, dollar quotes and parentheses respected), read
    tolerantly: an unbalanced quote or comment ends the file rather than the replay."""
    for raw, line in split_statements(text, strict=False):
        yield Statement(re.sub(r"\s+", " ", raw).strip(), source, line)


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside parentheses and quotes."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    quote: str | None = None
    for ch in text:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def unquote(name: str) -> str:
    return name.replace('"', "")


def bare_name(name: str) -> str:
    return unquote(name).split(".")[-1].lower()


def schema_of(name: str) -> str:
    plain = unquote(name)
    return plain.split(".")[0].lower() if "." in plain else "public"


def _key(name: str) -> str:
    return f"{schema_of(name)}.{bare_name(name)}"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern.replace("NAME", _NAME), re.IGNORECASE)


# ---------------------------------------------------------------- types and columns


def ts_type(pg_type: str, enums: Iterable[str]) -> str:
    t = pg_type.lower().strip()
    array = False
    if t.endswith("[]"):
        array = True
        t = t[:-2].strip()
    t = re.sub(r"\(.*\)$", "", t).strip()
    if _STRING_TYPES.match(t):
        out = "string"
    elif _NUMBER_TYPES.match(t):
        out = "number"
    elif t in ("bool", "boolean"):
        out = "boolean"
    elif t in ("json", "jsonb"):
        out = "Json"
    elif bare_name(t) in set(enums):
        out = f'Database["public"]["Enums"]["{bare_name(t)}"]'
    else:
        out = "unknown"
    return f"{out}[]" if array else out


_COLUMN = re.compile(r'^("[^"]+"|[A-Za-z_][A-Za-z0-9_]*)\s+([\s\S]+)$')
_REFERENCES = _rx(r"references\s+(NAME)\s*(?:\(\s*\"?(\w+)\"?\s*\))?")


def parse_column(definition: str, enums: Iterable[str]) -> Column | None:
    m = _COLUMN.match(definition.strip())
    if not m:
        return None
    name = unquote(m.group(1))
    words = m.group(2).split()
    type_words: list[str] = []
    for w in words:
        if w.lower() in _CONSTRAINT_WORDS:
            break
        type_words.append(w)
    rest_raw = " ".join(words[len(type_words) :])
    rest = rest_raw.lower()
    pg_type = " ".join(type_words)
    is_pk = re.search(r"primary\s+key", rest) is not None
    serial = re.search(r"serial$", pg_type.strip(), re.IGNORECASE) is not None
    identity = re.search(r"generated\s+(?:always|by\s+default)\s+as\s+identity", rest) is not None or serial
    refs = _REFERENCES.search(rest_raw)
    references = None
    if refs and schema_of(refs.group(1)) == "public":
        references = (bare_name(refs.group(1)), refs.group(2) or "id")
    return Column(
        name=name,
        pg_type=pg_type,
        ts_type=ts_type(pg_type, enums),
        nullable=not (re.search(r"not\s+null", rest) is not None or is_pk or identity),
        has_default=re.search(r"\bdefault\b", rest) is not None or "generated" in rest or serial,
        references=references,
    )


def _columns_list(text: str) -> tuple[str, ...]:
    return tuple(unquote(c.strip()).lower() for c in text.split(",") if c.strip())


def read_migrations(files: Iterable[tuple[str, str]]) -> Schema:
    """Replay migrations, given as (path, text) in the order they apply, into a Schema (`sqlreplay`)."""
    from continuous.common.sqlreplay import replay

    return replay(files)

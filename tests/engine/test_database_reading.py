"""Reading a Supabase-style database from its migrations and its generated types, and merging into the types.

The real monorepo exercises these on its 99 migrations (tests/realrepo); here each behaviour has a small case.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from continuous.common.sqlschema import read_migrations, statements
from continuous.common.tstypes import merge_types, read_types
from continuous.dsl.loader import build_rule_base
from continuous.dsl.readers import READERS
from continuous.engine.discovery import discover
from continuous.engine.extractors import EXTRACTORS, migration_order, owner_column, read_database

from ..conftest import git

TYPES = """export type Json = string | number | boolean | null

export type Database = {
  public: {
    Tables: {
      doc_files: {
        Row: {
          id: string
          title: string | null
        }
        Insert: {
          id?: string
          title?: string | null
        }
        Update: {
          id?: string
          title?: string | null
        }
        Relationships: []
      }
      live_only: {
        Row: {
          id: string
        }
        Insert: {
          id?: string
        }
        Update: {
          id?: string
        }
        Relationships: []
      }
    }
    Views: {
      [_ in never]: never
    }
    Functions: {
      add_allowed_email: {
        Args: { p_email: string; p_name?: string }
        Returns: string
      }
    }
    Enums: {
      doc_status: "draft" | "published"
    }
    CompositeTypes: {
      [_ in never]: never
    }
  }
}
"""

OLD = """-- an old migration; a view for the docs (a comment, not a view)
CREATE TABLE doc_files (id uuid PRIMARY KEY, title text);
CREATE TABLE IF NOT EXISTS legacy_notes (id uuid PRIMARY KEY);
CREATE TABLE media_sessions (id uuid PRIMARY KEY, user_id uuid);
ALTER TABLE media_sessions RENAME TO learn_media_sessions;
CREATE TABLE sys_table_definitions (
  id uuid DEFAULT gen_random_uuid() PRIMARY KEY,
  table_schema text NOT NULL DEFAULT 'public',
  table_name text NOT NULL,
  description text,
  UNIQUE(table_schema, table_name)
);
INSERT INTO sys_table_definitions (table_schema, table_name, description) VALUES
  ('public', 'doc_files', 'Docs; with a semicolon'),
  ('public', 'learn_media_sessions', 'Sessions');
CREATE POLICY "Users can view own" ON learn_media_sessions FOR SELECT USING (auth.uid() = user_id);
CREATE POLICY "Users can insert own" ON learn_media_sessions FOR INSERT WITH CHECK (auth.uid() = user_id);
CREATE POLICY "Users can update own" ON learn_media_sessions FOR UPDATE USING (user_id = auth.uid());
CREATE POLICY "Users can delete own" ON learn_media_sessions FOR DELETE USING (auth.uid() = user_id);
"""

NEW = """CREATE TABLE doc_notes (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), body text NOT NULL,
  doc_file_id uuid REFERENCES doc_files(id));
ALTER TABLE doc_files ADD COLUMN IF NOT EXISTS reading_minutes integer;
CREATE TYPE note_kind AS ENUM ('todo', 'done');
"""


def files(*extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [
        ("supabase/types.ts", TYPES),
        ("supabase/migrations/20250101000000_old.sql", OLD),
        ("supabase/migrations/[timestamp]_draft.sql", "CREATE TABLE presentations (id uuid);"),
        *extra,
    ]


def records(section: str, inputs: list[tuple[str, str]]) -> list[dict[str, object]]:
    return [r for _, _, r in EXTRACTORS[section](inputs)]


def test_every_database_reader_the_dsl_names_is_implemented() -> None:
    assert {n for n in READERS if n.startswith(("database.", "markdown."))} == set(EXTRACTORS)
    for name, extractor in EXTRACTORS.items():
        for _, _, record in extractor(files(("supabase/migrations/20250601000000_new.sql", NEW))):
            assert set(record) == set(READERS[name]), name


def test_statements_skip_comments_and_keep_quoted_semicolons() -> None:
    found = list(
        statements(
            "-- create view for x;\n/* drop table y; */\nINSERT INTO t (a) VALUES ('x;y');\n"
            "CREATE FUNCTION f() RETURNS int AS $$ select 1; $$ LANGUAGE sql;"
        )
    )
    assert [s.text.split()[0] for s in found] == ["INSERT", "CREATE"]
    assert found[0].line == 3 and "'x;y'" in found[0].text


def test_live_tables_come_from_types_first_and_legacy_names_never() -> None:
    tables = {r["name"]: r for r in records("database.tables", files())}
    assert set(tables) == {"doc_files", "live_only"}  # legacy_notes predates types.ts and is not in it
    pending = files(("supabase/migrations/20250601000000_new.sql", NEW))
    tables = {r["name"]: r for r in records("database.tables", pending)}
    assert set(tables) == {"doc_files", "live_only", "doc_notes"} and tables["doc_notes"]["origin"] == "migrations"
    without_types = [f for f in pending if not f[0].endswith(".ts")]
    names = {r["name"] for r in records("database.tables", without_types)}
    assert "learn_media_sessions" in names and "media_sessions" not in names and "presentations" in names
    assert migration_order("supabase/migrations/[timestamp]_draft.sql") < migration_order("x/20240101_a.sql")


def test_views_functions_enums_columns_keys_rows() -> None:
    inputs = files(("supabase/migrations/20250601000000_new.sql", NEW))
    assert records("database.views", inputs) == []  # "a view for the docs" is a comment
    assert [r["name"] for r in records("database.functions", inputs)] == ["add_allowed_email"]
    assert {r["name"]: r["values"] for r in records("database.enums", inputs)} == {
        "doc_status": "draft,published",
        "note_kind": "todo,done",
    }
    columns = {(r["table"], r["name"]) for r in records("database.columns", inputs)}
    assert {("doc_files", "title"), ("doc_files", "reading_minutes"), ("doc_notes", "body")} <= columns
    keys = {(r["table"], r["columns"], r["primary"]) for r in records("database.keys", inputs)}
    assert ("sys_table_definitions", "table_schema,table_name", False) in keys
    assert ("sys_table_definitions", "id", True) in keys
    rows = [r["values"] for r in records("database.rows", inputs)]
    assert [r["table_name"] for r in rows] == ["doc_files", "learn_media_sessions"]  # every row, not the first
    assert rows[0]["description"] == "Docs; with a semicolon"


def test_per_command_owner_policies_amount_to_owner_access() -> None:
    access = records("database.access", files())
    assert {"table": "learn_media_sessions", "schema": "public", "access": "owner", "owner_column": "user_id"} in access
    policies = records("database.policies", files())
    assert {p["command"] for p in policies} == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert owner_column("task_id IN (SELECT id FROM tasks WHERE created_by = auth.uid())", columns={"task_id"}) == ""
    assert owner_column("(select auth.uid()) = owner_id") == "owner_id"


def only_insertions(before: str, after: str) -> list[str]:
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        assert op in ("equal", "insert"), (op, a[i1:i2], b[j1:j2])
        if op == "insert":
            out += b[j1:j2]
    return out


def test_merge_adds_what_pending_migrations_add_and_keeps_every_other_byte() -> None:
    inputs = files(("supabase/migrations/20250601000000_new.sql", NEW))
    db = read_database(inputs)
    pending = {p for p in db.order if db.pending(p)}
    merged = merge_types(TYPES, db.schema, pending=pending)
    inserted = only_insertions(TYPES, merged.text)
    assert "      doc_notes: {\n" in inserted and '      note_kind: "todo" | "done"\n' in inserted
    assert "          reading_minutes: number | null\n" in inserted
    assert not any("legacy_notes" in line or "presentations" in line for line in inserted)
    assert sorted(merged.added) == ["column doc_files.reading_minutes", "enum note_kind", "table doc_notes"]
    after = read_types(merged.text)
    assert after.names("Tables") == ["doc_files", "doc_notes", "live_only"]
    assert after.columns("doc_notes") == {"body": "string", "doc_file_id": "string | null", "id": "string"}
    assert 'referencedRelation: "doc_files"' in merged.text
    again = merge_types(merged.text, db.schema, pending=pending)
    assert again.text == merged.text and again.added == []


def test_merge_of_one_table_and_refusal_of_a_legacy_one() -> None:
    inputs = files(("supabase/migrations/20250601000000_new.sql", NEW))
    db = read_database(inputs)
    pending = {p for p in db.order if db.pending(p)}
    one = merge_types(TYPES, db.schema, tables=["doc_notes"], pending=pending)
    assert one.added == ["table doc_notes"]
    legacy = merge_types(TYPES, db.schema, tables=["legacy_notes"], pending=pending)
    assert legacy.missing and "renamed or dropped" in legacy.missing[0] and legacy.text == TYPES
    with pytest.raises(ValueError, match="no `export type Database"):
        merge_types("export const x = 1\n", db.schema)


def test_replayed_renames_and_drops() -> None:
    schema = read_migrations(
        [
            ("a.sql", "CREATE TABLE a (id int); CREATE TABLE b (id int, x text);"),
            ("b.sql", "ALTER TABLE a RENAME TO a2; DROP TABLE IF EXISTS b CASCADE; ALTER TABLE a2 ADD COLUMN y text;"),
            ("c.sql", "ALTER TABLE a2 RENAME COLUMN y TO z; ALTER TABLE a2 SET SCHEMA archived;"),
        ]
    )
    assert [(t.schema, t.name, list(t.columns)) for t in schema.live_tables()] == [("archived", "a2", ["id", "z"])]
    assert schema.gone["public.a"] == ["b.sql"] and schema.gone["public.b"] == ["b.sql"]


def test_discover_parse_where_and_ignored_named_files(git_repo: Path) -> None:
    (git_repo / "supabase/migrations").mkdir(parents=True)
    (git_repo / "supabase/migrations/20250101000000_old.sql").write_text(OLD)
    (git_repo / ".gitignore").write_text(".env*\n")
    (git_repo / ".env.example").write_text("API_TOKEN=secret-value\nexport VITE_URL=http://x\n")
    (git_repo / "package.json").write_text('{"scripts": {"// Group": "a comment", "dev": "vite"}}\n')
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "files")
    rule_base = build_rule_base([Path(__file__).resolve().parents[2] / "scenarios" / "discover.scn"])
    found = discover(rule_base, git_repo)
    of = lambda t: {tuple(sorted(f.fields.items())) for f in found if f.type == t}  # noqa: E731
    assert of("table_registered") == {(("name", "doc_files"),), (("name", "learn_media_sessions"),)}
    assert (("name", "API_TOKEN"),) in of("env_var") and (("name", "URL"),) in of("env_var")
    assert all("secret-value" not in str(f.fields) for f in found)
    assert {dict(f)["name"] for f in of("script")} == {"dev"}
    assert (("name", "learn_media_sessions"),) in of("table") and (("name", "media_sessions"),) not in of("table")

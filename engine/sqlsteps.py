"""SQL steps: migrations checked and tried against a scratch database, applied to the target database (or left
pending without one), and `sql types`: the TypeScript types merged from what the migrations add."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from typing import Any, cast

from continuous.common.errors import UserError
from continuous.common.sqlsplit import split_statements
from continuous.dsl import model as m
from continuous.engine.stepcore import FileChange, StepContext, StepError, VirtualFS, one_change

# ---------------------------------------------------------------- SQL


_SQL_START = frozenset(
    [
        "create",
        "alter",
        "drop",
        "insert",
        "update",
        "delete",
        "select",
        "with",
        "grant",
        "revoke",
        "comment",
        "begin",
        "commit",
        "rollback",
        "do",
        "set",
        "truncate",
        "reset",
        "analyze",
        "vacuum",
        "refresh",
        "notify",
        "lock",
        "savepoint",
        "release",
        "explain",
        "copy",
        "call",
        "values",
        "declare",
        "security",
    ]
)


def split_sql(text: str) -> list[str]:
    """Split SQL into statements, honouring quotes, dollar quotes and comments (ValueError if unbalanced)."""
    return [stmt.strip() for stmt, _ in split_statements(text, strict=True)]


def check_sql(text: str, rel: str) -> list[str]:
    try:
        statements = split_sql(text)
    except ValueError as exc:
        raise StepError(f"{rel}: not valid SQL: {exc}") from None
    if not statements:
        raise StepError(f"{rel}: contains no SQL statement")
    for stmt in statements:
        word = stmt.split(None, 1)[0].lower()
        if word not in _SQL_START:
            raise StepError(f"{rel}: statement does not start with an SQL keyword: {stmt[:60]!r}")
    return statements


# Minimal Supabase stand-ins, so a migration written for Supabase applies to a plain PostgreSQL: its three API
# roles and `auth.uid()`. Created only where missing (a local Supabase has the real ones), inside the test's
# transaction, so they vanish with it.
SUPABASE_STANDINS = """
DO $standins$ DECLARE r text; BEGIN
  FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
  CREATE SCHEMA IF NOT EXISTS auth;
  IF to_regprocedure('auth.uid()') IS NULL THEN
    CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS
      $uid$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $uid$;
  END IF;
END $standins$;
"""

# Everything a down migration could take away: relations, columns, functions, triggers, policies, types,
# schemas and constraints, outside PostgreSQL's own schemas.
_CATALOG = """
SELECT 'relation ' || n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
    AND n.nspname NOT LIKE 'pg_temp%'
UNION ALL
SELECT 'column ' || n.nspname || '.' || c.relname || '.' || a.attname FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT 'function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT 'trigger ' || t.tgname || ' on ' || c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  WHERE NOT t.tgisinternal
UNION ALL
SELECT 'policy ' || p.polname || ' on ' || c.relname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
UNION ALL
SELECT 'type ' || n.nspname || '.' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE t.typtype IN ('e', 'd') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT 'schema ' || nspname FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg_%'
UNION ALL
SELECT 'constraint ' || conname || ' on ' || c.relname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
UNION ALL
SELECT 'row security on ' || n.nspname || '.' || c.relname FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relrowsecurity
"""


def target_database_url() -> str | None:
    return os.environ.get("CONTINUOUS_TARGET_DATABASE_URL") or None


def scratch_database_url(root: Path) -> str | None:
    """The scratch PostgreSQL for `sql test` (CONTINUOUS_TEST_DATABASE_URL, else `test_database_url`).

    Refused when it is the tracking database or the target (live) database: a test must never touch either."""
    from continuous.common.config import load_config
    from continuous.common.errors import mask_url

    config = load_config(root)
    url = config.test_database_url
    if not url:
        return None
    if config.database_url and _plain_url(config.database_url) == _plain_url(url):
        raise UserError(
            f"the scratch database {mask_url(url)} is also the tracking database",
            hint="point test_database_url (or CONTINUOUS_TEST_DATABASE_URL) at a database used for nothing else",
        )
    target = target_database_url()
    if target and _plain_url(target) == _plain_url(url):
        raise UserError(
            f"the scratch database {mask_url(url)} is the target database (CONTINUOUS_TARGET_DATABASE_URL)",
            hint="a migration test never runs on a live database; create a scratch database for it",
        )
    if not url.startswith(("postgresql:", "postgresql+psycopg:", "postgres:")):
        raise UserError(
            f"the scratch database {mask_url(url)} is not PostgreSQL",
            hint="test_database_url takes a postgresql:// URL (migrations are tested with the Supabase stand-ins)",
        )
    return url


def _plain_url(url: str) -> str:
    return re.sub(r"^postgresql\+psycopg://", "postgresql://", url.strip()).rstrip("/")


def down_migration(rel: str) -> str:
    """The sibling down migration of `x.sql`: `x_down.sql`."""
    return rel[: -len(".sql")] + "_down.sql" if rel.endswith(".sql") else rel + "_down"


def describe_sql(step: m.SqlStep, ctx: StepContext) -> str:
    rel = ctx.path(step.file, "file")
    if step.action == "types":
        return f"merge what the migrations add (tables, views, enums, columns) into {rel}"
    if step.action == "test":
        if scratch_database_url(ctx.root) is None:
            return f"sql test {rel}: parse only; not applied: no scratch database"
        return f"sql test {rel} and its down migration on the scratch database (rolled back)"
    return f"sql {step.action} {rel}"


def sql_step(step: m.SqlStep, ctx: StepContext) -> tuple[str, bool]:
    """Run an sql step; returns (output, pending): without a target database `apply` stays pending."""
    rel = ctx.path(step.file, "file")
    full = ctx.root / rel
    if not full.is_file():
        raise StepError(f"step {step.name!r}: SQL file {rel} does not exist")
    text = full.read_text(encoding="utf-8")
    statements = check_sql(text, rel)
    from continuous.common.errors import mask_url

    if step.action == "test":
        url = scratch_database_url(ctx.root)
        down_rel = down_migration(rel)
        down_path = ctx.root / down_rel
        down_text = down_path.read_text(encoding="utf-8") if down_path.is_file() else None
        down_statements = check_sql(down_text, down_rel) if down_text is not None else []
        parsed = f"{rel}: {len(statements)} statement(s)" + (
            f", {down_rel}: {len(down_statements)} statement(s)" if down_text is not None else ""
        )
        if url is None:
            return (
                f"{parsed} parse; not applied: no scratch database (set test_database_url in .continuous.toml "
                "or CONTINUOUS_TEST_DATABASE_URL to a scratch PostgreSQL)",
                False,
            )
        dropped = _outermost(try_migration(url, text, rel, down_text, down_rel))
        if dropped:
            shown = ", ".join(dropped[:8]) + (f" and {len(dropped) - 8} more" if len(dropped) > 8 else "")
            raise StepError(
                f"{down_rel} drops what existed before {rel} ran: {shown}",
                hint="a down migration may only undo what its up migration created",
            )
        return (
            f"{parsed} applied on the scratch database {mask_url(url)} and rolled back"
            + ("; the down migration dropped nothing that existed before" if down_text is not None else ""),
            False,
        )
    url = target_database_url()
    if url is None:
        return (
            f"PENDING: {rel} was NOT applied: no target database is configured. Set "
            "CONTINUOUS_TARGET_DATABASE_URL and apply it; it is recorded as a pending migration",
            True,
        )
    _execute_sql(url, text, statements, commit=True, rel=rel)
    return (f"{rel}: {len(statements)} statement(s) applied to {mask_url(url)}", False)


def _outermost(objects: list[str]) -> list[str]:
    """Catalog entries without those that belong to a listed relation (its columns, constraints, policies...)."""
    relations = {o.split(" ", 1)[1] for o in objects if o.startswith("relation ")}
    names = {r.split(".", 1)[-1] for r in relations}
    out = []
    for o in objects:
        kind, _, rest = o.partition(" ")
        if kind == "column" and rest.rsplit(".", 1)[0] in relations:
            continue
        if " on " in rest and rest.rsplit(" on ", 1)[1].split(".")[-1] in names and kind != "relation":
            continue
        out.append(o)
    return sorted(out, key=lambda o: (not o.startswith("relation "), o))


def try_migration(url: str, up: str, rel: str, down: str | None, down_rel: str) -> list[str]:
    """Apply `up` then `down` on the scratch database in one transaction that is rolled back.

    Returns what existed before `up` and is gone after `down` (empty when the pair is a clean round trip)."""
    import psycopg
    from continuous.common.errors import mask_url

    try:
        conn = psycopg.connect(_plain_url(url), connect_timeout=10)
    except psycopg.Error as exc:
        raise StepError(f"cannot connect to the scratch database {mask_url(url)}: {str(exc).strip()}") from None
    try:
        db = cast(Any, conn)
        db.execute(SUPABASE_STANDINS.encode())
        before = {r[0] for r in db.execute(_CATALOG.encode()).fetchall()}
        try:
            db.execute(up.encode())  # bytes: sent as-is, no placeholder parsing
        except psycopg.Error as exc:
            raise StepError(f"{rel}: rejected by the scratch database: {str(exc).strip()}") from None
        if down is None:
            return []
        try:
            db.execute(down.encode())
        except psycopg.Error as exc:
            raise StepError(f"{down_rel}: rejected by the scratch database: {str(exc).strip()}") from None
        after = {r[0] for r in db.execute(_CATALOG.encode()).fetchall()}
        return sorted(before - after)
    finally:
        conn.rollback()
        conn.close()


def _execute_sql(url: str, text: str, statements: list[str], *, commit: bool, rel: str) -> None:
    if url.startswith("sqlite"):
        import sqlite3

        path = url.split("///", 1)[-1] if "///" in url else ":memory:"
        lite = sqlite3.connect(path, isolation_level=None)
        try:
            lite.execute("BEGIN")
            for stmt in statements:
                lite.execute(stmt)
            lite.execute("COMMIT" if commit else "ROLLBACK")
        except sqlite3.Error as exc:
            lite.execute("ROLLBACK")
            raise StepError(f"{rel}: rejected by the database: {exc}") from None
        finally:
            lite.close()
        return
    if not url.startswith("postgres"):
        raise UserError(
            f"CONTINUOUS_TARGET_DATABASE_URL: unsupported database {url.split(':', 1)[0]!r}",
            hint="use a postgresql:// or sqlite:/// URL",
        )
    import psycopg

    try:
        with psycopg.connect(_plain_url(url), connect_timeout=10) as pg:
            try:
                cast(Any, pg).execute(text.encode())  # bytes: sent as-is, no placeholder parsing
            except psycopg.Error as exc:
                pg.rollback()
                raise StepError(f"{rel}: rejected by the database: {str(exc).strip()}") from None
            if commit:
                pg.commit()
            else:
                pg.rollback()
    except psycopg.OperationalError as exc:
        from continuous.common.errors import mask_url

        raise StepError(f"cannot connect to the target database {mask_url(url)}: {exc}") from None


# ---------------------------------------------------------------- generated types


def types_changes(step: m.SqlStep, ctx: StepContext, fs: VirtualFS) -> list[FileChange]:
    """`sql types FILE`: merge what the migrations add into the generated Database type, leaving other bytes.

    The file is the repository's record of the live database, so it is never rebuilt from the migrations: new
    tables, views and enums are inserted in their alphabetical place, new columns into their table. With a
    `table` (and `column`) parameter only that object is merged."""
    from continuous.common.tstypes import merge_types
    from continuous.engine.extractors import read_database

    rel = ctx.path(step.file, "file")
    folder = str(PurePosixPath(rel).parent / "migrations")
    names = [p for p in fs.list(folder) if p.endswith(".sql") and not p.endswith("_down.sql")]
    files = []
    for path in names:
        text = fs.read_text(path)
        if text is not None:
            files.append((path, text))
    before = fs.read_text(rel)
    if before is None:
        raise StepError(
            f"step {step.name!r}: {rel} does not exist",
            hint="this merges into the generated types the repository keeps; generate the file first",
        )
    db = read_database([(rel, before), *files])
    schema = db.schema
    table = str(ctx.params.get("table") or "")
    column = str(ctx.params.get("column") or "")
    try:
        merged = merge_types(
            before,
            schema,
            tables=[table] if table else None,
            columns=[(table, column)] if table and column else None,
            pending={path for path in db.order if db.pending(path)},
        )
    except ValueError as exc:
        raise StepError(f"step {step.name!r}: cannot merge into {rel}: {exc}") from None
    if merged.missing:
        raise StepError(
            f"step {step.name!r}: {rel} has no {', '.join(merged.missing)}, and no pending migration in {folder} "
            "creates it",
            hint="write the migration first (create-table, create-view), or name a table the database has",
        )
    return one_change(rel, fs.read(rel), merged.text.encode())

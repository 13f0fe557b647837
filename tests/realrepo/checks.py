"""Checks the real-repository tier applies to what a scenario wrote: each uses the repository's own tools.

- TypeScript: `tsc --noEmit` with the owning package's own tsconfig (the fixture's installed compiler). Only new
  diagnostics count: the snapshot has errors of its own, which a scenario must not add to.
- SQL: the migration and its down migration on a scratch PostgreSQL whose schema mirrors supabase/types.ts, inside
  one transaction that is rolled back; nothing that existed before may be gone afterwards.
- Shell: `bash -n`. JSON: it parses.
"""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# ---------------------------------------------------------------- node_modules


def importer_dirs(installed: Path) -> list[str]:
    """Folders of the installed copy that have their own node_modules (the root, apps/*, packages/*)."""
    out = []
    for path in sorted(installed.rglob("node_modules")):
        rel = path.relative_to(installed)
        if "node_modules" not in rel.parts[:-1]:
            out.append(str(rel.parent))
    return out


def link_node_modules(root: Path, installed: Path) -> None:
    """Give a copy the installed dependencies by symbolic links (no copying: a copy costs nothing extra).

    pnpm's links inside node_modules are relative, so they resolve inside the installed copy."""
    for rel in importer_dirs(installed):
        target = root / rel
        if target.is_dir() and not (target / "node_modules").exists():
            (target / "node_modules").symlink_to(installed / rel / "node_modules")
    exclude = root / ".git" / "info" / "exclude"
    if exclude.parent.is_dir():
        text = exclude.read_text() if exclude.exists() else ""
        if "node_modules" not in text.split("\n"):
            exclude.write_text(text + ("" if text.endswith("\n") or not text else "\n") + "node_modules\n")


# ---------------------------------------------------------------- TypeScript


def tsconfig_for(root: Path, rel: str) -> Path:
    """The nearest tsconfig.json at or above the file's folder (the repository root's at worst)."""
    folder = (root / rel).parent
    while True:
        if (folder / "tsconfig.json").is_file():
            return folder / "tsconfig.json"
        if folder == root or root not in folder.parents:
            return root / "tsconfig.json"
        folder = folder.parent


def _projects(config: Path) -> list[Path]:
    """A solution tsconfig (`files: []` + references) stands for its referenced projects."""
    try:
        data = json.loads(_strip_json_comments(config.read_text()))
    except ValueError:
        return [config]
    refs = data.get("references") or []
    if refs and data.get("files") == []:
        out = []
        for ref in refs:
            target = config.parent / ref["path"]
            out.append(target if target.suffix == ".json" else target / "tsconfig.json")
        return out
    return [config]


def _strip_json_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'("(?:[^"\\]|\\.)*")|//[^\n]*', lambda m: m.group(1) or "", text)
    return re.sub(r",(\s*[}\]])", r"\1", text)


def tsc_binary(root: Path, folder: Path) -> Path:
    for base in [folder, *folder.parents]:
        candidate = base / "node_modules" / ".bin" / "tsc"
        if candidate.exists():
            return candidate
        if base == root:
            break
    raise FileNotFoundError(f"no TypeScript compiler installed for {folder} (run make realrepo-deps)")


Diagnostic = tuple[str, str, str]  # (file relative to the repository, code, message)


def run_tsc(root: Path, project: Path, files: list[str] | None = None) -> list[Diagnostic]:
    """Diagnostics of `tsc --noEmit -p project` (or of `files` under the project's options), keyed without lines."""
    args: list[str]
    cleanup: Path | None = None
    if files is None:
        args = ["-p", str(project)]
    else:
        cleanup = project.parent / f".tsconfig.realrepo-check-{uuid.uuid4().hex[:8]}.json"
        cleanup.write_text(json.dumps({"extends": f"./{project.name}", "include": [], "files": files}))
        args = ["-p", str(cleanup)]
    try:
        proc = subprocess.run(
            [str(tsc_binary(root, project.parent)), "--noEmit", "--pretty", "false", *args],
            cwd=project.parent,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    finally:
        if cleanup is not None:
            cleanup.unlink(missing_ok=True)
    out: list[Diagnostic] = []
    here = str(root.resolve()) + "/"
    for line in proc.stdout.replace(here, "").replace(str(root) + "/", "").splitlines():
        m = re.match(r"^(.+?)\(\d+,\d+\): error (TS\d+): (.*)$", line)
        if m:
            file = os.path.normpath(project.parent / m.group(1))
            out.append((os.path.relpath(file, root), m.group(2), m.group(3)))
        elif line.startswith("error TS"):
            out.append(("", line.split(":", 1)[0][6:], line.split(":", 1)[-1].strip()))
    return out


_BASELINES: dict[tuple[str, str], list[Diagnostic]] = {}


def new_type_errors(root: Path, pristine: Path, changed: Iterable[str]) -> list[str]:
    """tsc diagnostics that the changed TypeScript files add to their packages (and to packages importing them)."""
    changed = [c for c in changed if c.endswith((".ts", ".tsx")) and (root / c).exists()]
    if not changed:
        return []
    problems: list[str] = []
    root_config = root / "tsconfig.json"
    packages: dict[Path, None] = {}
    loose: list[str] = []
    for rel in changed:
        config = tsconfig_for(root, rel)
        if config == root_config:
            loose.append(rel)
        else:
            packages[config] = None
        for importer in _importing_packages(root, rel):
            packages[importer] = None
    for config in packages:
        for project in _projects(config):
            if not project.is_file():
                continue
            rel_project = str(project.relative_to(root))
            key = (str(pristine), rel_project)
            if key not in _BASELINES:
                # a package the change created has no baseline: every diagnostic in it is new
                exists = (pristine / rel_project).is_file()
                _BASELINES[key] = run_tsc(pristine, pristine / rel_project) if exists else []
            problems += _added(_BASELINES[key], run_tsc(root, project), rel_project)
    if loose and root_config.is_file():
        after = run_tsc(root, root_config, files=loose)
        existing = [r for r in loose if (pristine / r).exists()]
        before = run_tsc(pristine, pristine / "tsconfig.json", files=existing) if existing else []
        problems += [p for p in _added(before, after, "tsconfig.json") if p.split(":", 1)[0] in loose]
    return problems


def _added(before: list[Diagnostic], after: list[Diagnostic], project: str) -> list[str]:
    extra = collections.Counter(after) - collections.Counter(before)
    return [
        f"{file}: {code} {message} [{project}]" for (file, code, message), n in sorted(extra.items()) for _ in range(n)
    ]


def _importing_packages(root: Path, rel: str) -> list[Path]:
    """tsconfigs of the packages whose own files import `rel` by a relative path (e.g. supabase/types.ts)."""
    stem = re.sub(r"\.(ts|tsx)$", "", rel)
    if stem.endswith("/index"):
        stem = stem[: -len("/index")]
    found: dict[Path, None] = {}
    for file in _ts_files(root):
        if not (root / file).is_file():
            continue  # moved or deleted by the change
        text = (root / file).read_text(errors="replace")
        if Path(stem).name not in text:
            continue
        for spec in re.findall(r"""(?:from|import)\s*\(?\s*['"](\.{1,2}/[^'"]+)['"]""", text):
            target = os.path.normpath(os.path.join(os.path.dirname(file), spec))
            if re.sub(r"\.(ts|tsx|js)$", "", target) in (stem, stem + "/index"):
                config = tsconfig_for(root, file)
                if config != root / "tsconfig.json":
                    found[config] = None
                break
    return list(found)


def _ts_files(root: Path) -> Iterator[str]:
    proc = subprocess.run(["git", "ls-files", "*.ts", "*.tsx"], cwd=root, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if "/.archived" not in "/" + line and "/.archive" not in "/" + line:
            yield line


# ---------------------------------------------------------------- PostgreSQL


_TS_TO_PG = {"string": "text", "number": "numeric", "boolean": "boolean", "Json": "jsonb"}


def _pg_type(table: str, column: str, ts: str, known: dict[tuple[str, str], str], enums: set[str]) -> str:
    if (table, column) in known:
        return known[(table, column)]
    ts = ts.replace(" | null", "").strip()
    array = ts.endswith("[]")
    ts = ts.removesuffix("[]")
    enum = re.match(r'Database\["public"\]\["Enums"\]\["(\w+)"\]', ts)
    if enum and enum.group(1) in enums:
        base = f'"{enum.group(1)}"'
    elif ts == "string" and (column == "id" or column.endswith("_id")):
        base = "uuid"
    else:
        base = _TS_TO_PG.get(ts, "text")
    return base + ("[]" if array else "")


def scratch_schema_sql(repo: Path) -> str:
    """DDL for a scratch database shaped like the repository's live one: supabase/types.ts gives the tables,
    views, columns and enums; the migrations give column types and unique keys where they know them."""
    from continuous.common.sqlschema import read_migrations
    from continuous.common.tstypes import read_types
    from continuous.engine.extractors import migration_order

    types = read_types((repo / "supabase/types.ts").read_text())
    migrations = sorted(
        (p for p in (repo / "supabase/migrations").glob("*.sql") if not p.name.endswith("_down.sql")),
        key=lambda p: migration_order(p.name),
    )
    schema = read_migrations((p.name, p.read_text(errors="replace")) for p in migrations)
    known = {
        (t.name, c.name): c.pg_type
        for t in schema.tables.values()
        if t.schema == "public"
        for c in t.columns.values()
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9 _()\[\],]*", c.pg_type or "") and "serial" not in c.pg_type.lower()
    }
    enums = set(types.names("Enums"))
    out = []
    enum_node = types.section("Enums")
    for entry in enum_node.children or () if enum_node else ():
        values = re.findall(r'"((?:[^"\\]|\\.)*)"', types.text[entry.value_start : entry.value_end])
        literal = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
        out.append(f'CREATE TYPE "{entry.key}" AS ENUM ({literal});')
    for section in ("Tables", "Views"):
        for name in types.names(section):
            columns = types.columns(name)
            defs = []
            for col, ts in columns.items():
                typ = _pg_type(name, col, ts, known, enums)
                extra = " PRIMARY KEY DEFAULT gen_random_uuid()" if col == "id" and typ == "uuid" else ""
                extra = " PRIMARY KEY" if col == "id" and not extra else extra
                defs.append(f'"{col}" {typ}{extra}')
            table = schema.tables.get(f"public.{name}")
            for key in table.unique if table else []:
                if key != ("id",) and all(k in columns for k in key):
                    defs.append("UNIQUE (" + ", ".join(f'"{k}"' for k in key) + ")")
            if section == "Tables":
                out.append(f'CREATE TABLE "{name}" ({", ".join(defs) or "id uuid"});')
            else:
                select = ", ".join(f'NULL::{_pg_type(name, c, ts, known, enums)} AS "{c}"' for c, ts in columns.items())
                out.append(f'CREATE VIEW "{name}" AS SELECT {select or "1 AS one"};')
    return "\n".join(out)


def plain_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def scratch_database(server_url: str, repo: Path) -> Iterator[str]:
    """A new database on the test server, shaped like the repository's live database (see scratch_schema_sql)."""
    import psycopg
    from continuous.engine.steps import SUPABASE_STANDINS

    name = f"continuous_realrepo_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = plain_url(server_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    url = re.sub(r"(postgresql(?:\+psycopg)?://[^/?]*/)[^?]*", lambda m: m.group(1) + name, server_url, count=1)
    try:
        with psycopg.connect(plain_url(url)) as conn:
            conn.execute(SUPABASE_STANDINS.encode())
            conn.execute(scratch_schema_sql(repo).encode())
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


_OBJECTS = """
SELECT 'relation ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'i', 'S')
UNION ALL SELECT 'column ' || c.relname || '.' || a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL SELECT 'policy ' || p.polname || ' on ' || c.relname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
UNION ALL SELECT 'trigger ' || t.tgname FROM pg_trigger t WHERE NOT t.tgisinternal
UNION ALL SELECT 'constraint ' || conname FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
  WHERE n.nspname = 'public'
UNION ALL SELECT 'function ' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname = 'public'
"""


def sql_round_trip(url: str, up: str, down: str, *, prelude: str = "") -> tuple[str | None, list[str], list[str]]:
    """Apply up, then down, in a transaction that is rolled back (after `prelude`: migrations that come first).

    Returns (error, gone, left): the first failure, objects that existed before and are gone after the down
    migration, and objects the pair left behind (besides functions, which a migration may share)."""
    import psycopg

    with psycopg.connect(plain_url(url)) as conn:
        db: Any = conn
        try:
            if prelude.strip():
                try:
                    db.execute(prelude.encode())
                except psycopg.Error as exc:
                    return f"an earlier migration of the same run is rejected: {str(exc).strip()}", [], []
            before = {r[0] for r in db.execute(_OBJECTS.encode()).fetchall()}
            try:
                db.execute(up.encode())
            except psycopg.Error as exc:
                return f"up migration rejected: {str(exc).strip()}", [], []
            try:
                db.execute(down.encode())
            except psycopg.Error as exc:
                return f"down migration rejected: {str(exc).strip()}", [], []
            after = {r[0] for r in db.execute(_OBJECTS.encode()).fetchall()}
        finally:
            conn.rollback()
    left = sorted(o for o in after - before if not o.startswith("function "))
    return None, sorted(before - after), left


# ---------------------------------------------------------------- shell and JSON


def bash_syntax(path: Path) -> str | None:
    proc = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
    return None if proc.returncode == 0 else proc.stderr.strip()


def json_error(path: Path) -> str | None:
    try:
        json.loads(path.read_text())
    except ValueError as exc:
        return str(exc)
    return None

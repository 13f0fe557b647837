"""Fixtures for the executor tests: a real git repository laid out like the target monorepo, a small scenario
library (tests/engine/data/lib) and a per-test SQLite tracking database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import EXE, cli, git, init_repo, snapshot

LIB = Path(__file__).resolve().parent / "data" / "lib"


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/tracking.db"
    monkeypatch.setenv("CONTINUOUS_DATABASE_URL", url)
    monkeypatch.delenv("CONTINUOUS_TARGET_DATABASE_URL", raising=False)
    monkeypatch.delenv("CONTINUOUS_FAULT", raising=False)
    monkeypatch.delenv("CONTINUOUS_FAULT_TRACE", raising=False)
    monkeypatch.setenv("CONTINUOUS_NOW", "2026-03-01T12:00:00+00:00")
    return url


@pytest.fixture
def repo(tmp_path: Path, db_url: str) -> Iterator[Path]:
    """A committed monorepo-like worktree whose .continuous.toml loads only the test library."""
    root = tmp_path / "repo"
    root.mkdir()
    write(root, ".continuous.toml", f'scenario_paths = ["{LIB}"]\ninclude_builtin = false\n')
    write(root, "README.md", "# monorepo\n")
    write(
        root,
        "package.json",
        '{\n  "name": "mono",\n  "scripts": {\n    "dev": "turbo run dev",\n    "old": "sh scripts/old.sh"\n  }\n}\n',
    )
    write(root, "scripts/old.sh", "echo old\n")
    write(
        root,
        "supabase/migrations/20240101000000_create_sys_table_definitions.sql",
        "CREATE TABLE IF NOT EXISTS sys_table_definitions (id uuid primary key);\n",
    )
    write(root, "apps/dhg-hub/package.json", '{"name": "dhg-hub", "version": "0.0.1"}\n')
    write(root, "apps/dhg-hub/src/App.tsx", "export default function App() { return null }\n")
    write(root, "packages/shared/package.json", '{\n  "name": "@dhg/shared",\n  "exports": {}\n}\n')
    write(
        root,
        "packages/shared/services/index.ts",
        "// SERVICES\nexport * from './auth-service/auth-service';\n",
    )
    write(root, "packages/shared/services/auth-service/auth-service.ts", "export class AuthService {}\n")
    write(root, "config/services.yaml", "services:\n- auth\n")
    write(root, "config/ports.json", '{\n  "audio": {"port": 3001},\n  "html": {"port": 3002}\n}\n')
    (root / "node_modules" / "x").mkdir(parents=True)
    (root / "node_modules" / "x" / "package.json").write_text('{"name": "ignored"}')
    write(root, ".gitignore", "node_modules/\n")
    yield init_repo(root)


class Helpers:
    exe = EXE
    git = staticmethod(git)
    snapshot = staticmethod(snapshot)
    write = staticmethod(write)
    cli = staticmethod(cli)


@pytest.fixture
def h() -> type[Helpers]:
    return Helpers


@pytest.fixture
def example(tmp_path: Path, db_url: str) -> Iterator[Path]:
    """A fresh `continuous init --example` repository with a user's uncommitted edit and an untracked file,
    which every recovery must leave exactly as they were."""
    from continuous.common.example_repo import create_example

    root = create_example(tmp_path / "example").path
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    with open(root / "CLAUDE.md", "a", encoding="utf-8") as fh:
        fh.write("\nThe user's unsaved edit.\n")
    (root / "notes.txt").write_text("untracked notes\n")
    yield root


@pytest.fixture
def pg_schema_url(pg_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new schema, migrated to head (dropped afterwards)."""
    import uuid
    from urllib.parse import quote

    import psycopg

    schema = "eng_" + uuid.uuid4().hex[:10]
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in pg_url else "?"
    url = f"{pg_url}{sep}options={quote(f'-csearch_path={schema}', safe='')}"
    try:
        from continuous.store import open_store

        open_store(url, auto_upgrade=True).close()
        yield url
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

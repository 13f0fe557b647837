"""Shared fixtures. Tests mirror the package layout (tests/dsl, tests/engine, ...).

PostgreSQL: tests marked `postgres` use CONTINUOUS_TEST_POSTGRES_URL (default: the local cluster that
`.ci/postgres.sh` starts). If it is unreachable they skip, except under CONTINUOUS_REQUIRE_POSTGRES=1 (set by
.ci/run), where they fail.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgresql+psycopg:///continuous_test?host=/var/run/postgresql"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("COLUMNS", "120")


# Supabase's roles and auth.uid(), so that generated migrations with RLS policies apply to a plain PostgreSQL.
SUPABASE_STUB = """
DO $$ DECLARE r text; BEGIN
  FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
END $$;
CREATE SCHEMA IF NOT EXISTS auth;
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$;
"""


def migrations_in(root: Path) -> list[Path]:
    """A repository's up migrations in the order they apply (down migrations excluded)."""
    return sorted(p for p in (root / "supabase/migrations").glob("*.sql") if not p.name.endswith("_down.sql"))


def postgres_url() -> str:
    return os.environ.get("CONTINUOUS_TEST_POSTGRES_URL", DEFAULT_PG_URL)


def require_postgres() -> str:
    """The PostgreSQL URL, or skip (fail under CONTINUOUS_REQUIRE_POSTGRES=1) when the server is unreachable."""
    url = postgres_url()
    try:
        import psycopg

        plain = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, connect_timeout=5) as conn:
            conn.execute("select 1")
    except Exception as exc:
        message = f"PostgreSQL not reachable at {url}: {exc}"
        if os.environ.get("CONTINUOUS_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture
def pg_url() -> str:
    return require_postgres()


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def git_repo(tmp_path: Path) -> Iterator[Path]:
    """An empty git repository with one commit and a configured identity."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    (repo / "README.md").write_text("# test repo\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    yield repo

"""Shared fixtures and helpers. Tests mirror the package layout (tests/dsl, tests/engine, ...); a part's own
conftest.py imports the helpers from here (`from ..conftest import git, init_repo`).

PostgreSQL: tests marked `postgres` use CONTINUOUS_TEST_POSTGRES_URL (default: the local cluster that
`.ci/postgres.sh` starts). If it is unreachable they skip, except under CONTINUOUS_REQUIRE_POSTGRES=1 (set by
.ci/run), where they fail.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
EXE = str(Path(sys.executable).parent / "continuous")  # the installed program, beside this interpreter
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
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


def schema_url(pg_url: str, schema: str) -> str:
    """The URL of one schema of that database (its search_path)."""
    sep = "&" if "?" in pg_url else "?"
    return f"{pg_url}{sep}options={quote(f'-csearch_path={schema}', safe='')}"


@pytest.fixture
def fresh_pg_schema(pg_url: str) -> Iterator[str]:
    """A URL whose search_path is a new, empty schema, dropped afterwards."""
    import psycopg

    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema_url(pg_url, schema)
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no tables) on each backend. tests/engine overrides it with one SQLite file."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("fresh_pg_schema"))


@pytest.fixture
def store(db_url: str) -> Iterator[object]:
    """The tracking store on `db_url`, migrated to head."""
    from continuous.store import open_store

    s = open_store(db_url, auto_upgrade=True)
    try:
        yield s
    finally:
        s.close()


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def init_repo(root: Path, message: str = "initial") -> Path:
    """Make `root` (created if missing, its files kept) a git repository on `main` with a configured identity and
    everything in it committed once."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    return root


def commit_all(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


def snapshot(root: Path, *, skip: tuple[str, ...] = (".git",)) -> dict[str, tuple[bytes, int]]:
    """Every file under root, except the folders named in `skip`: content and mode (a symlink: its target), and
    empty folders, for byte-for-byte comparisons."""
    out: dict[str, tuple[bytes, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for name in filenames:
            full = Path(dirpath) / name
            if full.is_symlink():
                out[str(full.relative_to(root))] = (os.readlink(full).encode(), 0)
                continue
            out[str(full.relative_to(root))] = (full.read_bytes(), stat.S_IMODE(full.stat().st_mode))
        if not filenames and not dirnames and Path(dirpath) != root:
            out[str(Path(dirpath).relative_to(root)) + "/"] = (b"", 0)
    return out


# The scenarios the specification names (its "built-in library" section); the library holds at least these.
SPEC_SCENARIOS = frozenset(
    {
        "create-service",
        "refactor-service",
        "deprecate-service",
        "test-service",
        "create-cli-pipeline",
        "add-cli-command",
        "migrate-cli-script",
        "consolidate-pipelines",
        "create-table",
        "modify-schema",
        "create-view",
        "add-rls-policy",
        "create-app",
        "add-page",
        "add-shared-component",
        "integrate-service",
        "create-proxy-server",
        "add-proxy-endpoint",
        "consolidate-proxies",
        "add-pnpm-script",
        "update-dependencies",
        "configure-environment",
        "setup-monitoring",
        "add-tests",
        "generate-types",
    }
)


def cli(
    cwd: Path, *args: str, env: dict[str, str] | None = None, check: bool = False, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """The real `continuous` program in a subprocess, run inside `cwd`, with the test's environment plus `env`."""
    proc = subprocess.run(
        [EXE, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"continuous {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def git_repo(tmp_path: Path) -> Iterator[Path]:
    """A git repository with one commit (a README) and a configured identity."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "README.md").write_text("# test repo\n")
    yield init_repo(repo)


@pytest.fixture(autouse=True)
def _default_conventions() -> Iterator[None]:
    """Each test starts with no conventions active, so discovery and the standards read each repository's own
    (its .continuous.toml, else detected): loading a repository's config makes its `[conventions]` the active
    ones for the process (common/config.py), which must not leak into the next test."""
    from continuous.common.config import using_conventions

    with using_conventions(None):
        yield

"""Conventions are configuration: a repository laid out unlike the monorepo works end to end after `continuous init`.

The repository is generated here: apps `acme-*` in web/, shared services in libs/core, migrations in db/migrations,
the types in db/types.ts, pipelines in tools/pipelines, jest as the test runner. The example monorepo's own files
(services, adapter, migrations, types) are moved into that layout with their imports fixed, so the generated code
type-checks with the real tsc.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from continuous.common.config import load_config

from .conftest import EXAMPLE, tsc_path

CLI = [str(Path(sys.executable).with_name("continuous"))]
MOVES = {
    "packages/shared/services": "libs/core",
    "supabase/migrations": "db/migrations",
    "supabase/types.ts": "db/types.ts",
    "packages/shared/adapters": "packages/shared/adapters",
    "packages/shared/package.json": "packages/shared/package.json",
}
APP = {
    "package.json": json.dumps({
        "name": "{name}", "private": True, "version": "0.1.0", "type": "module",
        "scripts": {"dev": "vite", "test": "jest"},
        "dependencies": {"react": "^18.3.1", "react-dom": "^18.3.1", "react-router-dom": "^6.26.0"},
        "devDependencies": {"jest": "^29.7.0", "@types/jest": "^29.5.12", "vite": "^5.4.0"},
    }, indent=2),
    "index.html": "<!doctype html><div id=\"root\"></div>\n",
    "vite.config.ts": "export default { server: { port: {port} } };\n",
    "src/App.tsx": (
        "import { Route, Routes } from 'react-router-dom';\n\nexport default function App() {\n  return (\n"
        "    <Routes>\n      <Route path=\"/\" element={<main><h1>{name}</h1></main>} />\n    </Routes>\n  );\n}\n"
    ),
}


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def make_acme(root: Path) -> Path:
    """A repository of another layout, committed."""
    root.mkdir(parents=True)
    for src, dst in MOVES.items():
        source, target = EXAMPLE / src, root / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    # the moved files import the types from their new place
    for ts in (root / "libs").rglob("*.ts"):
        text = ts.read_text()
        rel = os.path.relpath(root / "db" / "types", ts.parent)
        ts.write_text(re.sub(r"'(\.\./)+supabase/types'", f"'{rel}'", text))
    shared = root / "packages/shared/package.json"  # the shared package tests with jest too
    shared_pkg = json.loads(shared.read_text())
    shared_pkg["scripts"]["test"] = "jest"
    shared_pkg.setdefault("devDependencies", {})["jest"] = "^29.7.0"
    shared.write_text(json.dumps(shared_pkg, indent=2) + "\n")
    adapter = root / "packages/shared/adapters/supabase-adapter.ts"
    adapter.write_text(adapter.read_text().replace("'../../../supabase/types'", "'../../../db/types'"))
    for name, port in (("acme-store", 5301), ("acme-admin", 5302)):
        for rel, text in APP.items():
            path = root / "web" / name / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text.replace("{name}", name).replace("{port}", str(port)))
    pipeline = root / "tools/pipelines/reports"
    pipeline.mkdir(parents=True)
    (pipeline / "reports-cli.sh").write_text(
        "#!/usr/bin/env bash\ntrack_command() { shift; \"$@\"; }\ncase \"$1\" in\n  help|--help|-h)\n"
        "    echo COMMANDS:\n    ;;\nesac\n"
    )
    (pipeline / "cli.ts").write_text("export {};\n")
    (root / "package.json").write_text(json.dumps({
        "name": "acme", "private": True, "scripts": {"typecheck": "tsc --noEmit -p ."},
        "devDependencies": {"typescript": "^5.4.0"},
    }, indent=2) + "\n")
    tsconfig = json.loads((EXAMPLE / "tsconfig.json").read_text())
    # jest's globals, as @types/jest declares them (the test machine's TypeScript tools carry vitest, not jest)
    (root / "types").mkdir()
    (root / "types/jest-globals.d.ts").write_text(
        "declare function describe(name: string, fn: () => void): void;\n"
        "declare function it(name: string, fn: () => void | Promise<void>): void;\n"
        "declare function expect(value: unknown): any;\n"
    )
    tsconfig["include"] = ["web/*/src", "libs/core", "packages/shared", "db/types.ts", "types"]
    tsconfig["exclude"] = ["**/node_modules", "**/dist"]
    (root / "tsconfig.json").write_text(json.dumps(tsconfig, indent=2) + "\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "acme")
    return root


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTINUOUS_NO_DAEMON": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run([*CLI, *args], cwd=root, capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CONTINUOUS_DATABASE_URL", f"sqlite:///{tmp_path}/tracking.db")
    monkeypatch.delenv("CONTINUOUS_TEST_DATABASE_URL", raising=False)
    return make_acme(tmp_path / "acme")


def test_init_detects_another_layout(acme: Path) -> None:
    proc = cli(acme, "init", "--json")
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)["conventions"]
    assert found == {
        "app_prefix": "acme-",
        "table_domains": [],  # three tables, no prefix two of them share: no rule
        "apps_dir": "web",
        "services_dir": "libs/core",
        "pipelines_dir": "tools/pipelines",
        "migrations_dir": "db/migrations",
        "types_file": "db/types.ts",
        "server_registry": "scripts/start-servers.js",  # none here: the default, and the comment says so
        "test_runner": "jest",
    }
    text = (acme / ".continuous.toml").read_text()
    written = tomllib.loads(text)["conventions"]
    assert written["apps_dir"] == "web"
    # every setting carries a comment right above it; one the repository shows nothing of is commented out, so
    # it keeps following the repository
    lines = text.splitlines()
    for key in found:
        k = next(i for i, line in enumerate(lines) if line.startswith((f"{key} = ", f"# {key} = ")))
        assert lines[k - 1].startswith("# ") and len(lines[k - 1]) > 20
    assert "not found in the repository: the default" in text
    assert "server_registry" not in written and '# server_registry = "scripts/start-servers.js"' in text
    assert set(written) == set(found) - {"server_registry"}
    assert load_config(acme).conventions.apps_dir == "web"
    assert load_config(acme).convention_sources["server_registry"][0] == "default"


def test_a_name_against_the_convention_is_refused_naming_the_setting(acme: Path) -> None:
    assert cli(acme, "init").returncode == 0
    proc = cli(acme, "run-scenario", "create-app", "storefront")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "conventions.app_prefix = 'acme-'" in proc.stderr and "[conventions] app_prefix" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (acme / "web" / "storefront").exists() and not (acme / "web" / "acme-storefront").exists()


def test_unknown_convention_key_is_a_clear_error(acme: Path) -> None:
    (acme / ".continuous.toml").write_text('[conventions]\napp_dir = "web"\n')
    proc = cli(acme, "check")
    assert proc.returncode == 2
    assert "unknown key in [conventions]: app_dir" in proc.stderr and "apps_dir" in proc.stderr


@pytest.mark.slow
def test_another_layout_works_end_to_end(acme: Path) -> None:
    assert cli(acme, "init").returncode == 0
    config = acme / ".continuous.toml"
    # the team's new domain, as a user edits the detected list
    config.write_text(config.read_text().replace('table_domains = []',
                                                 'table_domains = ["command", "doc", "shop", "sys"]'))
    _git(acme, "add", ".continuous.toml")
    _git(acme, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    runs = [
        ("create-table", "shop_orders", "--param", "columns=title:text,total:numeric"),
        ("create-service", "orders", "--param", "table=shop_orders"),
        ("create-app", "acme-shop", "--param", "port=5310"),
        ("add-page", "acme-shop", "Orders"),
        ("add-tests", "orders"),
    ]
    for sid, *args in runs:
        plan = cli(acme, "run-scenario", sid, *args, "--dry-run", "--no-diff", "--no-pager")
        assert plan.returncode == 0, f"{sid}: {plan.stdout}{plan.stderr}"
        for other in ("apps/", "supabase/", "packages/shared/services"):
            assert other not in plan.stdout, plan.stdout
        run = cli(acme, "run-scenario", sid, *args, "--yes")
        assert run.returncode == 0, f"{sid}: {run.stdout}{run.stderr}"
    files = set(_git(acme, "ls-files", "--others", "--cached", "--exclude-standard").split())
    migration = next(f for f in files if re.fullmatch(r"db/migrations/\d{14}_create_shop_orders\.sql", f))
    assert "CREATE TABLE shop_orders (" in (acme / migration).read_text()
    assert "shop_orders: {" in (acme / "db/types.ts").read_text()
    service = (acme / "libs/core/orders/orders.ts").read_text()
    assert "from '../../../db/types'" in service
    assert "web/acme-shop/src/pages/OrdersPage.tsx" in files
    assert "<OrdersPage />" in (acme / "web/acme-shop/src/App.tsx").read_text()
    app_pkg = json.loads((acme / "web/acme-shop/package.json").read_text())
    assert app_pkg["scripts"]["test"] == "jest" and "jest" in app_pkg["devDependencies"]
    assert "vitest" not in json.dumps(app_pkg)
    test = (acme / "libs/core/orders/orders.test.ts").read_text()
    assert "vitest" not in test and "describe(" in test
    assert '"dev:shop": "pnpm --filter acme-shop dev"' in (acme / "package.json").read_text()
    assert not any(f.startswith(("apps/", "supabase/")) for f in files), sorted(files)
    # the standards read the same settings: the repository passes, and an unprefixed table is caught
    check = cli(acme, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    tsc = tsc_path()
    if tsc is None:
        pytest.fail("TypeScript is not installed: run .ci/node-tools.sh (make test does)")
    (acme / "node_modules").symlink_to(tsc.parent.parent, target_is_directory=True)
    proc = subprocess.run([str(tsc), "--noEmit", "-p", str(acme)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr


def test_check_reads_the_table_domains(acme: Path) -> None:
    (acme / ".continuous.toml").write_text('[conventions]\ntable_domains = ["shop"]\nmigrations_dir = "db/migrations"\n'
                                           'types_file = "db/types.ts"\napps_dir = "web"\napp_prefix = "acme-"\n')
    proc = cli(acme, "check", "--json")
    assert proc.returncode != 0
    messages = " ".join(v.get("message", "") for v in json.loads(proc.stdout).get("violations", []))
    assert "table command_tracking has no domain prefix" in messages
    assert "conventions.table_domains" in messages

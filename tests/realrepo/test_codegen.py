"""Defect 6: generated code follows what the target package really uses.

On the snapshot: dhg-admin-code has no test runner and guards its admin pages with <ProtectedRoute requireAdmin>
before a catch-all route; packages/shared tests with jest and imports the test functions from @jest/globals;
classify-service.ts is a loose service with relative imports; filter-service's index exports FilterService (built
with a Supabase client), not the FilterServiceClient singleton next to it.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from .conftest import cli


def run(root: Path, *args: str) -> None:
    proc = cli(root, "run-scenario", *args, "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def changed(root: Path) -> list[str]:
    out = subprocess.run(["git", "status", "--porcelain", "-uall"], cwd=root, capture_output=True, text=True).stdout
    return sorted(line[3:] for line in out.splitlines())


def test_add_page_routes_like_the_other_admin_pages_and_writes_no_test_without_a_runner(real_repo: Path) -> None:
    proc = cli(real_repo, "run-scenario", "add-page", "dhg-admin-code", "EmailDigest", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    steps = {s["name"]: s["action"] for s in json.loads(proc.stdout)["steps"]}
    reason = "no test runner in apps/dhg-admin-code/package.json (add vitest or jest and a test script)"
    assert steps["write test for the package's runner"].startswith(f"skipped ({reason})")
    run(real_repo, "add-page", "dhg-admin-code", "EmailDigest")
    assert not list((real_repo / "apps/dhg-admin-code/src").rglob("*.test.tsx"))
    app = (real_repo / "apps/dhg-admin-code/src/App.tsx").read_text()
    route = (
        '        <Route \n          path="/email-digest" \n          element={\n'
        "            <ProtectedRoute requireAdmin>\n              <EmailDigestPage />\n"
        "            </ProtectedRoute>\n          } \n        />\n"
    )
    assert route in app
    assert app.index(route) < app.index('<Route path="*"')
    imports = [line for line in app.splitlines() if line.startswith("import ")]
    assert imports[-1] == "import { EmailDigestPage } from './pages/EmailDigestPage';"
    assert changed(real_repo) == [
        "apps/dhg-admin-code/src/App.tsx",
        "apps/dhg-admin-code/src/pages/EmailDigestPage.tsx",
        "docs/continuously-updated/apps-documentation.md",
    ]


def test_nested_relative_routes_stay_relative(real_repo: Path) -> None:
    run(real_repo, "add-page", "dhg-audio", "Playlists")
    app = (real_repo / "apps/dhg-audio/src/App.tsx").read_text()
    assert '          <Route path="playlists" element={<PlaylistsPage />} />\n        </Route>' in app


def test_tests_follow_the_runner_of_their_package(real_repo: Path) -> None:
    run(real_repo, "add-tests", "filter-service", "--param", "kind=service")
    jest = (real_repo / "packages/shared/services/filter-service/filter-service.test.ts").read_text()
    assert "import { describe, expect, it } from '@jest/globals';" in jest and "vitest" not in jest
    run(real_repo, "add-tests", "Experts", "--param", "kind=page", "--param", "app=dhg-hub-lovable")
    vitest = (real_repo / "apps/dhg-hub-lovable/src/pages/ExpertsPage.test.tsx").read_text()
    assert "from 'vitest';" in vitest and "MemoryRouter" in vitest  # the app depends on react-router-dom


def test_refactor_service_keeps_the_moved_files_relative_imports(real_repo: Path) -> None:
    old = (real_repo / "packages/shared/services/classify-service.ts").read_text()
    run(real_repo, "refactor-service", "classify-service")
    moved = real_repo / "packages/shared/services/classify-service/classify-service.ts"
    text = moved.read_text()
    specs = re.findall(r"""from\s+['"](\.{1,2}/[^'"]+)['"]""", text)
    assert specs and len(specs) == len(re.findall(r"""from\s+['"](\.{1,2}/[^'"]+)['"]""", old))
    for spec in specs:
        base = (moved.parent / spec).resolve()
        assert any(Path(f"{base}{ext}").is_file() for ext in (".ts", ".tsx", "/index.ts")), spec
    index = (real_repo / "packages/shared/services/classify-service/index.ts").read_text()
    assert index == "export * from './classify-service';\n"


def test_integrate_service_uses_what_the_service_really_exports(real_repo: Path) -> None:
    run(real_repo, "integrate-service", "dhg-admin-code", "filter-service")
    hook = (real_repo / "apps/dhg-admin-code/src/hooks/useFilterService.ts").read_text()
    assert "import { FilterService } from '@shared/services/filter-service';" in hook
    assert "FilterServiceClient" not in hook  # not exported by filter-service/index.ts
    assert "import { supabase } from '../lib/supabase';" in hook  # the app's own client
    assert "new FilterService(supabase)" in hook
    run(real_repo, "integrate-service", "dhg-hub", "claude-service")
    other = (real_repo / "apps/dhg-hub/src/hooks/useClaudeService.ts").read_text()
    # dhg-hub has no @shared alias in its tsconfig: a relative import; ClaudeService.getInstance() takes nothing
    assert "from '../../../../packages/shared/services/claude-service';" in other
    assert "ClaudeService.getInstance()" in other

"""`continuous conventions`: the conventions every command uses in a worktree, each with its source (file,
detected, default), read-only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from continuous.common.config import CONVENTION_DEFAULTS

EXE = str(Path(sys.executable).parent / "continuous")


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, "conventions", *args], cwd=root, capture_output=True, text=True, timeout=120)


def test_each_convention_says_where_it_came_from(git_repo: Path) -> None:
    for name in ("acme-web", "acme-admin"):
        (git_repo / "apps" / name).mkdir(parents=True)
        (git_repo / "apps" / name / "index.html").write_text("<html></html>\n")
        (git_repo / "apps" / name / "package.json").write_text(json.dumps({"name": name}))
    (git_repo / ".continuous.toml").write_text('[conventions]\ntest_runner = "jest"\n')
    before = sorted(p.name for p in git_repo.iterdir())
    proc = _run(git_repo, "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["conventions"]
    assert list(data) == list(CONVENTION_DEFAULTS)
    assert data["test_runner"] == {"value": "jest", "source": "file", "evidence": "[conventions] of .continuous.toml"}
    assert data["app_prefix"]["value"] == "acme-" and data["app_prefix"]["source"] == "detected"
    assert "acme-admin" in data["app_prefix"]["evidence"]
    assert data["table_domains"] == {"value": [], "source": "default", "evidence": "nothing in the repository says"}
    assert sorted(p.name for p in git_repo.iterdir()) == before  # read-only

    text = _run(git_repo)
    assert text.returncode == 0, text.stderr
    lines = [line.strip() for line in text.stdout.splitlines()]
    assert any(line.startswith("app_prefix = acme-  detected (") for line in lines), text.stdout
    assert any(line.startswith("table_domains = []  default (") for line in lines), text.stdout


def test_outside_a_repository_it_says_so(tmp_path: Path) -> None:
    proc = _run(tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr

"""Template names resolve inside the scenario's template folder, and `validate` says so (issue 12 §3).

`render "../../../../etc/passwd"`, absolute names, symbolic links out of `templates/` and
`{% include '/etc/passwd' %}` are each a located diagnostic for `validate`, and an exit-2 refusal (before any
change, and before anything is printed) for a run or a dry-run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from continuous.dsl.validate import check_files

EXE = str(Path(sys.executable).parent / "continuous")
SECRET_FILE_LINE = "root:"  # the first line of /etc/passwd


def scenario(template: str) -> str:
    return f'scenario leak {{\n  object infra\n  summary "x"\n  step "write" render "{template}" to "out.txt"\n}}\n'


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    folder = tmp_path / "lib"
    (folder / "templates" / "parts").mkdir(parents=True)
    (folder / "templates" / "ok.j2").write_text("ok {% include 'parts/part.j2' %}\n")
    (folder / "templates" / "parts" / "part.j2").write_text("part\n")
    (folder / "templates" / "evil.j2").symlink_to("/etc/passwd")
    (folder / "templates" / "inc.j2").write_text("{% include '/etc/passwd' %}\n")
    (folder / "templates" / "up.j2").write_text("{% include '../../../../../../etc/passwd' %}\n")
    (folder / "templates" / "dyn.j2").write_text("{% set n = '/etc/passwd' %}{% include n %}\n")
    (folder / "templates" / "imp.j2").write_text("{% import '/etc/passwd' as x %}\n")
    (folder / "templates" / "linkdir").symlink_to("/etc")
    return folder


BAD = [
    ("../../../../etc/passwd", "leaves the templates/ folder"),
    ("/etc/passwd", "absolute"),
    ("evil.j2", "outside"),
    ("linkdir/passwd", "outside"),
    ("inc.j2", "absolute"),
    ("up.j2", ".."),
    ("imp.j2", "absolute"),
    ("", "empty"),
    (".", "."),
    ("parts", "not a file"),
]


@pytest.mark.parametrize(("template", "word"), [*BAD, ("dyn.j2", "quoted template name")])
def test_validate_refuses_templates_outside_the_template_folder(lib: Path, template: str, word: str) -> None:
    path = lib / "leak.scn"
    path.write_text(scenario(template))
    _, diagnostics = check_files([path])
    assert diagnostics, f"validate accepted {template!r}"
    text = "\n".join(d.render() for d in diagnostics)
    assert word in text, text


def test_a_template_may_include_its_siblings(lib: Path) -> None:
    path = lib / "leak.scn"
    path.write_text(scenario("ok.j2"))
    _, diagnostics = check_files([path])
    assert diagnostics == []


@pytest.fixture
def repo_with(lib: Path, git_repo: Path) -> Path:
    (git_repo / ".continuous.toml").write_text(f'scenario_paths = ["{lib}"]\ninclude_builtin = false\n')
    subprocess.run(["git", "add", "-A"], cwd=git_repo, check=True)
    subprocess.run(["git", "commit", "-qm", "config"], cwd=git_repo, check=True)
    return git_repo


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTINUOUS_DATABASE_URL": f"sqlite:///{root.parent}/t.db"}
    return subprocess.run([EXE, *args], cwd=root, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("template", "word"), [b for b in BAD if b[0] not in ("", ".", "parts")] + [("dyn.j2", "absolute")]
)
def test_runs_and_dry_runs_refuse_them(repo_with: Path, lib: Path, template: str, word: str) -> None:
    (lib / "leak.scn").write_text(scenario(template))
    for args in (("--dry-run",), ("--yes",)):
        proc = _run(repo_with, "run-scenario", "leak", *args)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert SECRET_FILE_LINE not in proc.stdout + proc.stderr
        assert word in proc.stderr and "internal error" not in proc.stderr, proc.stderr
        assert not (repo_with / "out.txt").exists()


def test_a_run_renders_included_siblings(repo_with: Path, lib: Path) -> None:
    (lib / "leak.scn").write_text(scenario("ok.j2"))
    proc = _run(repo_with, "run-scenario", "leak", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (repo_with / "out.txt").read_text() == "ok part\n"

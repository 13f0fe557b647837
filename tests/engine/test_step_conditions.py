"""Step and validation conditions (`when`), `rollback finally`, and a dry-run that names a missing program: a
scenario adapts to the repository it runs in and says why it skipped something, and a rollback that reinstalls
works on the restored files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from continuous.common.errors import UserError
from continuous.engine.executor import Executor, Request

LIB = """
discover marker {
  glob "markers/*.txt"
  field name = "{{ stem }}"
}

scenario adapt {
  object infra
  summary "Writes what the repository has"
  param name: kebab required position 1
  step "with marker" when marker(name: "{{ name }}") render "note.txt.j2" to "out/{{ name }}-marked.txt"
  step "without marker" when not marker(name: "{{ name }}") render "note.txt.j2" to "out/{{ name }}-plain.txt"
  step "explained"
    when if "{{ 'true' if name.startswith('a') else 'names must start with a (got ' ~ name ~ ')' }}"
    render "note.txt.j2" to "out/{{ name }}-a.txt"
  provides adapted(name: "{{ name }}")
  validate when marker(name: "{{ name }}") file "out/{{ name }}-marked.txt" exists
  validate when not marker(name: "{{ name }}") file "out/{{ name }}-plain.txt" exists
}

scenario swap-lock {
  object infra
  summary "Changes a lockfile by a command and fails validation"
  param seen: string required position 1
  step "install" run ["cp", "lock.new", "lock.txt"]
  rollback step "before restore" run ["cp", "lock.txt", "{{ seen }}/before.txt"]
  rollback finally step "after restore" run ["cp", "lock.txt", "{{ seen }}/after.txt"]
  validate file "lock.txt" contains "never there"
}

scenario copy-lock {
  object infra
  summary "Changes a lockfile by a command that says so"
  step "install" run ["cp", "lock.new", "lock.txt"] changes ["lock.txt", "{{ 'made' }}.txt"]
}

scenario archive-folder {
  object infra
  summary "Moves a folder into a git-ignored archive"
  param path: path required position 1
  param to: path required position 2
  step "move" move "{{ path }}" to "{{ to }}"
}

scenario archive-by-command {
  object infra
  summary "Moves a folder into a git-ignored archive with a command, then fails"
  param fail: string default "no" position 1
  step "make archive" run ["mkdir", "-p", ".archived/old"]
  step "move" run ["mv", "--", "tools", ".archived/old/tools"]
  step "log" run ["cp", "lock.txt", ".archived/log.txt"]
  validate file "lock.txt" lacks "{{ 'original' if fail == 'yes' else 'never there' }}"
}

scenario needs-tool {
  object infra
  summary "Runs a program that is not installed"
  step "tool" run ["continuous-no-such-program-xyz", "--version"]
}
"""


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CONTINUOUS_DATABASE_URL", f"sqlite:///{tmp_path}/tracking.db")
    monkeypatch.setenv("CONTINUOUS_NOW", "2026-03-01T12:00:00+00:00")
    lib = tmp_path / "lib"
    (lib / "templates").mkdir(parents=True)
    (lib / "lib.scn").write_text(LIB)
    (lib / "templates/note.txt.j2").write_text("{{ name }}\n")
    root = tmp_path / "repo"
    (root / "markers").mkdir(parents=True)
    (root / "markers/here.txt").write_text("x\n")
    (root / "lock.txt").write_text("original\n")
    (root / "lock.new").write_text("updated\n")
    (root / "tools/nested").mkdir(parents=True)
    (root / "tools/run.sh").write_text("#!/bin/sh\necho run\n")
    (root / "tools/run.sh").chmod(0o755)
    (root / "tools/nested/lib.ts").write_text("import { x } from '../../lib/x';\nexport const y = x;\n")
    (root / ".gitignore").write_text(".archived/\n")
    (root / ".continuous.toml").write_text(f'scenario_paths = ["{lib}"]\ninclude_builtin = false\n')
    _git(root, "init", "-q", "-b", "main")
    _git(root, "-c", "user.email=d@e.f", "-c", "user.name=D", "add", "-A")
    _git(root, "-c", "user.email=d@e.f", "-c", "user.name=D", "commit", "-qm", "init")
    return root


def test_steps_run_only_where_their_condition_holds_and_the_dry_run_says_why(repo: Path) -> None:
    ex = Executor(repo)
    report = ex.dry_run(ex.build_plan([Request("adapt", ("here",))]))
    actions = {s.name: s.action for s in report.steps}
    assert actions["with marker"].startswith("render")
    assert actions["without marker"].startswith("skipped (not marker(name: 'here'))")
    assert actions["explained"].startswith("skipped (names must start with a (got here))")
    assert [f.path for f in report.files] == ["out/here-marked.txt"]
    result = ex.run(ex.build_plan([Request("adapt", ("here",))]))
    assert result.ok, result.error
    assert (repo / "out/here-marked.txt").exists() and not (repo / "out/here-plain.txt").exists()
    other = Executor(repo).run(Executor(repo).build_plan([Request("adapt", ("another",))]))
    assert other.ok, other.error  # the other validation applies: the plain file is there
    assert (repo / "out/another-plain.txt").exists() and (repo / "out/another-a.txt").exists()
    assert not (repo / "out/another-marked.txt").exists()


def test_rollback_finally_runs_after_the_files_are_restored(repo: Path, tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    seen.mkdir()
    ex = Executor(repo)
    result = ex.run(ex.build_plan([Request("swap-lock", (str(seen),))]))
    assert not result.ok and "never there" in (result.error or "")
    assert (seen / "before.txt").read_text() == "updated\n"  # the ordinary rollback step sees the run's change
    assert (seen / "after.txt").read_text() == "original\n"  # `rollback finally` sees the restored file
    assert (repo / "lock.txt").read_text() == "original\n"


def test_a_missing_program_is_a_problem_of_the_dry_run_and_stops_the_run_before_any_change(repo: Path) -> None:
    ex = Executor(repo)
    report = ex.dry_run(ex.build_plan([Request("needs-tool", ())]))
    assert report.problems == [
        "needs-tool › tool: program 'continuous-no-such-program-xyz' is not on PATH; install it (or put it on "
        "PATH) before running this scenario"
    ]
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout
    with pytest.raises(UserError, match="would fail before changing anything"):
        ex.run(ex.build_plan([Request("needs-tool", ())]))
    after = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout
    assert after == status


def test_a_command_that_names_its_files_has_them_in_the_dry_run(repo: Path) -> None:
    ex = Executor(repo)
    report = ex.dry_run(ex.build_plan([Request("copy-lock", ())]))
    files = {f.path: (f.change, f.sha256) for f in report.files}
    assert files == {"lock.txt": ("modified", None), "made.txt": ("created", None)}
    assert [s.files for s in report.steps] == [["lock.txt", "made.txt"]]


def test_a_folder_moves_file_by_file_into_an_ignored_archive_and_rolls_back_exactly(repo: Path) -> None:
    from tests.conftest import snapshot

    before = snapshot(repo)
    ex = Executor(repo)
    plan = ex.build_plan([Request("archive-folder", ("tools", ".archived/tools"))])
    report = ex.dry_run(plan)
    assert sorted(f.path for f in report.files) == [
        ".archived/tools/nested/lib.ts",
        ".archived/tools/run.sh",
        "tools/nested/lib.ts",
        "tools/run.sh",
    ]
    result = ex.run(plan)
    assert result.ok, result.error
    assert not (repo / "tools").exists()  # the emptied folders go, as with mv
    assert (repo / ".archived/tools/run.sh").stat().st_mode & 0o777 == 0o755
    # relative imports still reach the same module from the new folder
    assert "'../../../lib/x'" in (repo / ".archived/tools/nested/lib.ts").read_text()
    Executor(repo).rollback(result.execution_id)
    assert snapshot(repo) == before


@pytest.mark.parametrize("fail", ["no", "yes"])
def test_what_a_command_creates_in_ignored_folders_is_removed_by_rollback(repo: Path, fail: str) -> None:
    from tests.conftest import snapshot

    before = snapshot(repo)
    ex = Executor(repo)
    result = ex.run(ex.build_plan([Request("archive-by-command", (fail,))]))
    if fail == "no":
        assert result.ok, result.error
        assert (repo / ".archived/old/tools/nested/lib.ts").is_file() and (repo / ".archived/log.txt").is_file()
        Executor(repo).rollback(result.execution_id)
    else:
        assert not result.ok
    assert snapshot(repo) == before

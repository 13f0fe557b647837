"""Hostile input is refused before anything runs: exit 2, one clear line, nothing written (issue 12, section 3).

Every test drives the real `continuous` program (or the executor) on a real git repository, with a small scenario
library written by the test next to the executor tests' library.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from continuous.store import open_store

LIB = Path(__file__).resolve().parent / "data" / "lib"

HOSTILE_LIB = r"""
scenario say {
  object infra
  summary "Writes a note and echoes text"
  param name: snake required position 1
  param description: string default "plain"
  step "note" doc "docs/{{ name }}.md" append "{{ description }}"
  step "echo" run ["python3", "-c", "print('[/x] [bold]done[/bold] [/]')"]
}

scenario fail-loud {
  object infra
  summary "A command fails with markup-looking output"
  param name: snake required position 1
  step "note" doc "docs/{{ name }}.md" append "started"
  step "fail" run ["python3", "-c", "import sys; print('[/x] closing tag [red]'); sys.exit(3)"]
}

scenario move-file {
  object infra
  summary "Moves a file with a command (the paths are only parameters)"
  param path: path required position 1
  param to: path required position 2
  step "move" run ["mv", "--", "{{ path }}", "{{ to }}"]
}

scenario serve-app {
  object ui
  summary "An app on its own port"
  param name: kebab required position 1
  param port: port range 5000 to 5999 default 5180
  step "config" doc "apps/{{ name }}/port.txt" append "{{ port }} {{ port - 1000 }}"
}

scenario watch-port {
  object infra
  summary "Names an existing server's port (no range: never allocated)"
  param port: port required position 1
  step "note" doc "docs/watch.md" append "{{ port }}"
}

scenario peek {
  object infra
  summary "A validation that looks outside the worktree"
  param target: string default "../../../../etc/passwd"
  step "note" doc "docs/peek.md" append "x"
  validate file "{{ target }}" contains "root"
}

scenario peek-run {
  object infra
  summary "A validation command run outside the worktree"
  step "note" doc "docs/peek.md" append "x"
  validate run ["ls"] in "../.."
}

scenario nul-path {
  object infra
  summary "Renders a NUL byte into a path"
  step "write" doc "docs/a{{ '\\x00' }}b.md" append "x"
}
"""


@pytest.fixture
def hrepo(repo: Path, tmp_path: Path, h) -> Iterator[Path]:
    """The executor tests' repository with the hostile-input library added."""
    lib = tmp_path / "hlib"
    h.write(lib, "hostile.scn", HOSTILE_LIB)
    h.write(repo, ".continuous.toml", f'scenario_paths = ["{LIB}", "{lib}"]\ninclude_builtin = false\n')
    h.git(repo, "commit", "-qam", "hostile library")
    yield repo


def _running_rows(db_url: str) -> list[str]:
    with open_store(db_url) as store:
        return [r.id for r in store.list_executions(limit=100) if r.status == "running"]


# ---------------------------------------------------------------- rich markup


def test_markup_in_a_parameter_is_printed_as_text(hrepo: Path, db_url: str, h) -> None:
    proc = h.cli(hrepo, "run-scenario", "say", "notes", "--param", "description=[/x] [bold]b[/bold]", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "internal error" not in proc.stderr
    assert "[/x]" in proc.stdout  # printed literally, never interpreted
    assert (hrepo / "docs/notes.md").read_text() == "[/x] [bold]b[/bold]\n"
    assert _running_rows(db_url) == []


def test_markup_in_a_failing_commands_output_rolls_back_cleanly(hrepo: Path, db_url: str, h) -> None:
    before = h.snapshot(hrepo)
    proc = h.cli(hrepo, "run-scenario", "fail-loud", "notes", "--yes")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "internal error" not in proc.stderr
    assert "[/x] closing tag [red]" in proc.stdout + proc.stderr
    assert h.snapshot(hrepo) == before
    assert _running_rows(db_url) == []


def test_a_failing_progress_display_never_breaks_a_run(hrepo: Path, db_url: str) -> None:
    from continuous.engine.executor import Executor, Request
    from continuous.engine.run import events as ev

    class Display(ev.RunObserver):
        def item_started(self, event: ev.ItemStarted) -> None:
            raise ValueError("display broke on an item")

        def step_done(self, event: ev.StepDone) -> None:
            raise ValueError("display broke on a step")

        def rolling_back(self, event: ev.RollingBack) -> None:
            raise ValueError("display broke on the rollback")

        def finished(self, event: ev.Finished) -> None:
            raise ValueError("display broke on the result")

    ex = Executor(hrepo, observer=Display())
    try:
        result = ex.run(ex.build_plan([Request("fail-loud", ("notes",))]))
    finally:
        ex.close()
    assert not result.ok and "exited with 3" in (result.error or "")
    assert not (hrepo / "docs/notes.md").exists()
    assert _running_rows(db_url) == []


def test_console_tables_and_notes_print_markup_as_text() -> None:
    from continuous.cli.output import console
    from rich.table import Table

    out = console()
    table = Table(title="[/title]")
    table.add_column("[/col]")
    table.add_row("[/x] [bold]cell")
    with out.capture() as captured:
        out.print(table)
        out.print("[/note]")
    text = captured.get()
    assert "[/title]" in text and "[/col]" in text and "[/x] [bold]cell" in text and "[/note]" in text


# ---------------------------------------------------------------- paths


@pytest.fixture
def gitlink(hrepo: Path, h) -> Path:
    """A committed symbolic link inside the repository that points at .git."""
    (hrepo / "gitlink").symlink_to(".git")
    h.git(hrepo, "add", "gitlink")
    h.git(hrepo, "commit", "-qm", "a link to .git")
    return hrepo


def _refused(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr.strip()
    assert err.startswith("error: ") and "internal error" not in err and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


@pytest.mark.parametrize(
    "args",
    [
        ("move-file", "README.md", "gitlink/hooks/post-checkout"),
        ("write-anywhere", "gitlink/hooks/post-checkout"),
        ("write-anywhere", "gitlink/config"),
        ("move-file", "README.md", "sub/.git/config"),
        ("write-anywhere", "sub/.git/config"),
        ("write-anywhere", "sub/.GIT/hooks/x"),
    ],
)
def test_git_directory_is_refused_however_it_is_reached(gitlink: Path, h, args: tuple[str, ...]) -> None:
    before = h.snapshot(gitlink)
    hooks = sorted(p.name for p in (gitlink / ".git/hooks").iterdir())
    _refused(h.cli(gitlink, "run-scenario", *args, "--yes"), ".git")
    assert h.snapshot(gitlink) == before
    assert sorted(p.name for p in (gitlink / ".git/hooks").iterdir()) == hooks
    assert not (gitlink / ".git/hooks/post-checkout").exists()


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (("write-anywhere", "docs/x.md\n"), "control character"),
        (("write-anywhere", "docs/x\rmd"), "control character"),
        (("move-file", "README.md", "docs/moved.md\n"), "control character"),
        (("named-thing", "abc\n"), "control character"),
        (("create-service", "user-prefs\n"), "control character"),
        (("write-anywhere", "docs/a\u2028b.md"), "control character"),
        (("write-anywhere", "docs/" + "x" * 300 + ".md"), "too long"),
        (("named-thing", "a" * 300), "longer than"),
    ],
)
def test_control_characters_newlines_and_long_names_are_refused(
    hrepo: Path, h, args: tuple[str, ...], word: str
) -> None:
    before = h.snapshot(hrepo)
    _refused(h.cli(hrepo, "run-scenario", *args, "--yes"), word)
    assert h.snapshot(hrepo) == before


def test_a_nul_byte_in_a_rendered_path_is_refused(hrepo: Path, h) -> None:
    before = h.snapshot(hrepo)
    _refused(h.cli(hrepo, "run-scenario", "nul-path", "--yes"), "control character")
    _refused(h.cli(hrepo, "run-scenario", "nul-path", "--dry-run"), "control character")
    assert h.snapshot(hrepo) == before


def test_safe_path_resolves_before_checking(tmp_path: Path) -> None:
    from continuous.common.errors import UserError
    from continuous.engine.steps import safe_path

    (tmp_path / ".git").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "gitlink").symlink_to(".git")
    (tmp_path / "docs/up").symlink_to("..")
    assert safe_path(tmp_path, "docs/x.md") == "docs/x.md"
    for raw in (
        "gitlink/config",
        "docs/up/.git/config",
        "docs/up/gitlink/x",
        "a/.git",
        ".git",
        "a\x00b",
        "docs/x\n",
        "docs/up",
    ):
        with pytest.raises(UserError):
            safe_path(tmp_path, raw)


def test_identifier_patterns_do_not_accept_a_trailing_newline() -> None:
    from continuous.dsl.params import KEBAB, SNAKE

    assert SNAKE.fullmatch("abc") and not SNAKE.fullmatch("abc\n")
    assert KEBAB.fullmatch("a-b") and not KEBAB.fullmatch("a-b\n")


# ---------------------------------------------------------------- ports


def test_port_parameters_have_a_range(hrepo: Path, h) -> None:
    before = h.snapshot(hrepo)
    _refused(h.cli(hrepo, "run-scenario", "serve-app", "a", "--param", "port=70000", "--yes"), "between 5000 and 5999")
    _refused(h.cli(hrepo, "run-scenario", "serve-app", "a", "--param", "port=" + "9" * 40, "--yes"), "between")
    _refused(h.cli(hrepo, "run-scenario", "slow-step", "--param", "seconds=" + "9" * 40, "--yes"), "between")
    assert h.snapshot(hrepo) == before


def test_ports_left_out_come_from_the_registry(hrepo: Path, h) -> None:
    for name in ("a", "b"):
        proc = h.cli(hrepo, "run-scenario", "serve-app", name, "--yes")
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (hrepo / "apps/a/port.txt").read_text() == "5180 4180\n"
    assert (hrepo / "apps/b/port.txt").read_text() == "5181 4181\n"
    proc = h.cli(hrepo, "run-scenario", "serve-app", "c", "--param", "port=5500", "--yes")
    assert proc.returncode == 0 and (hrepo / "apps/c/port.txt").read_text() == "5500 4500\n"


def test_the_repository_port_range_is_enforced(hrepo: Path, h) -> None:
    config = (hrepo / ".continuous.toml").read_text()
    (hrepo / ".continuous.toml").write_text(config + "port_range = [5100, 5199]\n")
    h.git(hrepo, "commit", "-qam", "port range")
    _refused(h.cli(hrepo, "run-scenario", "serve-app", "a", "--param", "port=5500", "--yes"), "port_range 5100-5199")
    _refused(h.cli(hrepo, "run-scenario", "watch-port", "3500", "--yes"), "port_range 5100-5199")
    _refused(h.cli(hrepo, "run-scenario", "watch-port", "70000", "--yes"), "between 1 and 65535")
    proc = h.cli(hrepo, "run-scenario", "serve-app", "a", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (hrepo / ".continuous.toml").write_text(config + "port_range = [3000, 3999]\n")
    h.git(hrepo, "commit", "-qam", "port range")
    _refused(h.cli(hrepo, "run-scenario", "serve-app", "b", "--yes"), "excludes")


def test_a_saved_plan_allocates_its_proposed_port_at_run_time(hrepo: Path, h, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    proc = h.cli(hrepo, "run-scenario", "serve-app", "a", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    saved = json.loads(proc.stdout)["plan"]
    assert saved["items"][0]["allocated"] == ["port"] and saved["items"][0]["params"]["port"] == 5180
    out.write_text(json.dumps(saved))
    assert h.cli(hrepo, "run-scenario", "serve-app", "b", "--yes").returncode == 0  # takes 5180 meanwhile
    h.git(hrepo, "add", "-A")
    h.git(hrepo, "commit", "-qm", "b")
    saved["head"] = h.git(hrepo, "rev-parse", "HEAD")
    out.write_text(json.dumps(saved))
    proc = h.cli(hrepo, "run-plan", str(out), "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (hrepo / "apps/a/port.txt").read_text() == "5181 4181\n"


# ---------------------------------------------------------------- saved plans


def _saved_plan(root: Path, h, *args: str) -> dict[str, object]:
    proc = h.cli(root, "run-scenario", *args, "--dry-run", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    plan: dict[str, object] = json.loads(proc.stdout)["plan"]
    return plan


def test_a_saved_plan_missing_a_dependency_is_refused(hrepo: Path, h, tmp_path: Path) -> None:
    plan = _saved_plan(hrepo, h, "create-service", "user-prefs")
    items = plan["items"]
    assert isinstance(items, list) and [i["scenario"] for i in items] == ["create-table", "create-service"]
    before = h.snapshot(hrepo)
    for broken in ([items[1]], [items[1], items[0]]):
        path = tmp_path / "plan.json"
        path.write_text(json.dumps({**plan, "items": broken}))
        err = _refused(h.cli(hrepo, "run-plan", str(path), "--yes"), "create-table")
        assert "before" in err
        _refused(h.cli(hrepo, "run-plan", str(path), "--dry-run"), "create-table")
    assert h.snapshot(hrepo) == before


def test_a_saved_plan_already_applied_is_refused(hrepo: Path, h, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(_saved_plan(hrepo, h, "create-table", "things")))
    proc = h.cli(hrepo, "run-plan", str(path), "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    after_first = h.snapshot(hrepo)
    err = _refused(h.cli(hrepo, "run-plan", str(path), "--yes"), "already")
    assert "table(name=things)" in err
    assert h.snapshot(hrepo) == after_first
    migrations = sorted(p.name for p in (hrepo / "supabase/migrations").iterdir())
    assert sum("create_things" in m for m in migrations) == 1


def test_a_saved_plan_of_a_scenario_without_unless_is_not_applied_twice(hrepo: Path, h, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(_saved_plan(hrepo, h, "say", "notes", "--param", "description=once")))
    assert h.cli(hrepo, "run-plan", str(path), "--yes").returncode == 0
    _refused(h.cli(hrepo, "run-plan", str(path), "--yes"), "already applied")


@pytest.mark.parametrize(
    ("case", "word"),
    [
        ("directory", "not a regular file"),
        ("/dev/zero", "not a regular file"),
        ("deep", "nested too deeply"),
        ("huge", "too large"),
        ("binary", "UTF-8"),
    ],
)
def test_hostile_plan_files_are_refused(hrepo: Path, h, tmp_path: Path, case: str, word: str) -> None:
    target = tmp_path / "plan.json"
    if case == "directory":
        target = tmp_path
    elif case == "/dev/zero":
        target = Path("/dev/zero")
    elif case == "deep":
        target.write_text("[" * 200_000)
    elif case == "huge":
        target.write_text('{"version": 1, "pad": "' + "x" * (5 << 20) + '"}')
    else:
        target.write_bytes(b"\xff\xfe{}")
    _refused(h.cli(hrepo, "run-plan", str(target), "--yes", timeout=60), word)


def test_a_fifo_plan_file_does_not_block(hrepo: Path, h, tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "plan.fifo"
    os.mkfifo(fifo)
    _refused(h.cli(hrepo, "run-plan", str(fifo), "--yes", timeout=60), "not a regular file")


# ---------------------------------------------------------------- staleness covers templates


@pytest.fixture
def own_lib_repo(repo: Path, tmp_path: Path, h) -> Path:
    """The executor tests' repository with its own copy of the library, so a test may edit a template."""
    import shutil

    lib = tmp_path / "lib-copy"
    shutil.copytree(LIB, lib)
    h.write(repo, ".continuous.toml", f'scenario_paths = ["{lib}"]\ninclude_builtin = false\n')
    h.git(repo, "commit", "-qam", "own library")
    return repo


def test_the_rule_base_hash_covers_templates(own_lib_repo: Path, tmp_path: Path) -> None:
    from continuous.engine.worktree import load_repo_rule_base

    before = load_repo_rule_base(own_lib_repo)
    template = tmp_path / "lib-copy/templates/service.ts.j2"
    full, dsl_only = before.content_hash(), before.content_hash(templates=False)
    template.write_text(template.read_text() + "// edited\n")
    after = load_repo_rule_base(own_lib_repo)
    assert after.content_hash() != full
    assert after.content_hash(templates=False) == dsl_only  # the planner's index is about the DSL alone


def test_editing_a_template_after_plan_out_is_refused_by_run_plan(own_lib_repo: Path, h, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(_saved_plan(own_lib_repo, h, "create-service", "user-prefs")))
    template = tmp_path / "lib-copy/templates/service.ts.j2"
    template.write_text(template.read_text() + "// edited after planning\n")
    before = h.snapshot(own_lib_repo)
    _refused(h.cli(own_lib_repo, "run-plan", str(path), "--yes"), "changed")
    assert h.snapshot(own_lib_repo) == before


def test_editing_a_template_after_a_crash_is_refused_by_resume(own_lib_repo: Path, h, tmp_path: Path) -> None:
    import signal

    proc = h.cli(
        own_lib_repo,
        "run-scenario",
        "create-service",
        "kill-me",
        "--yes",
        "--json",
        env={"CONTINUOUS_FAULT": "step.done@2"},
    )
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout, proc.stderr)
    execution_id = json.loads((own_lib_repo / ".git/continuous/run.lock").read_text())["execution_id"]
    template = tmp_path / "lib-copy/templates/service.ts.j2"
    template.write_text(template.read_text() + "// edited after the crash\n")
    _refused(h.cli(own_lib_repo, "resume", execution_id), "changed")


# ---------------------------------------------------------------- validations are checked before any change


@pytest.mark.parametrize(
    "args",
    [
        ("peek",),
        ("peek", "--param", "target=/etc/passwd"),
        ("peek", "--param", "target=gitlink/config"),
        ("peek", "--param", "target=docs/*/../../../x"),
        ("peek-run",),
    ],
)
def test_validation_paths_are_checked_before_any_change(gitlink: Path, h, args: tuple[str, ...]) -> None:
    before = h.snapshot(gitlink)
    _refused(h.cli(gitlink, "run-scenario", *args, "--yes"))
    _refused(h.cli(gitlink, "run-scenario", *args, "--dry-run"))
    assert h.snapshot(gitlink) == before


def test_validate_reports_constant_paths_outside_the_worktree(tmp_path: Path) -> None:
    from continuous.dsl.validate import check_files

    path = tmp_path / "v.scn"
    path.write_text(
        'scenario v {\n  object infra\n  summary "x"\n  step "a" doc "docs/x.md" append "x"\n'
        '  step "b" doc "/etc/motd" append "x"\n'
        '  validate file "../../../../etc/passwd" exists\n  validate file ".git/config" contains "x"\n'
        '  validate run ["ls"] in "../.."\n}\n'
    )
    _, diagnostics = check_files([path])
    text = "\n".join(d.render() for d in diagnostics)
    assert "/etc/motd" in text and "../../../../etc/passwd" in text and ".git/config" in text and "../.." in text

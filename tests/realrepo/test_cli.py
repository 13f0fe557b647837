"""Defect 5: CLI scenarios fit the snapshot's real wrappers.

The snapshot's 30 wrappers dispatch in every form a shell allows: `case "$1"`, `case "$COMMAND"` after `shift`, a
`case` inside `main "$@"`, runs of `if [ "$1" = ... ]` blocks (google_sync: 91 commands), `elif` chains; help in
echo lines or here-documents under headings. add-cli-command must wire a command into each, the way its
neighbours are wired, and discovery must see the commands it dispatches.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from continuous.engine.shellwrap import NewCommand, add_command, commands_of

from .conftest import cli, fixture_path


def wrappers() -> list[str]:
    root = fixture_path() / "scripts/cli-pipeline"
    found = sorted(p.relative_to(root).as_posix() for p in root.glob("*/*-cli.sh"))
    found += sorted(p.name for p in root.glob("*-cli.sh"))
    return found or ["(fixture missing)"]


def commands(root: Path, pipeline: str) -> set[str]:
    proc = cli(root, "facts", "--type", "command", "--json")
    assert proc.returncode == 0, proc.stderr
    return {f["fields"]["name"] for f in json.loads(proc.stdout) if f["fields"]["pipeline"] == pipeline}


def changed(root: Path) -> list[str]:
    out = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
    return sorted(line[3:] for line in out.splitlines())


def bash_ok(root: Path, rel: str) -> None:
    proc = subprocess.run(["bash", "-n", rel], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("wrapper", wrappers())
def test_every_wrapper_with_a_dispatch_takes_a_new_command_and_stays_valid(
    pristine_repo: Path, tmp_path: Path, wrapper: str
) -> None:
    text = (pristine_repo / "scripts/cli-pipeline" / wrapper).read_text()
    before = [name for name, _ in commands_of(text)]
    if not before:
        pytest.skip(f"{wrapper} dispatches no command (a test helper); add-cli-command refuses it, see below")
    out = add_command(text, NewCommand("export-csv", "commands/export-csv.ts", "Export rows as CSV"), wrapper)
    assert out is not None
    (tmp_path / "w.sh").write_text(out)
    bash_ok(tmp_path, "w.sh")
    assert {name for name, _ in commands_of(out)} == {*before, "export-csv"}
    # nothing of the wrapper is lost: the edit only inserts lines
    old_lines = text.splitlines()
    new_lines = out.splitlines()
    it = iter(new_lines)
    assert all(any(line == other for other in it) for line in old_lines)


@pytest.mark.parametrize(
    ("pipeline", "wrapper", "script"),
    [
        ("gmail", "gmail-cli.sh", "scripts/cli-pipeline/gmail/export-csv.ts"),
        ("database", "database-cli.sh", "scripts/cli-pipeline/database/commands/export-csv.ts"),
        ("media-processing", "media-processing-cli.sh", "scripts/cli-pipeline/media-processing/commands/export-csv.ts"),
        ("google_sync", "google-sync-cli.sh", "scripts/cli-pipeline/google_sync/export-csv.ts"),
    ],
)
def test_add_cli_command_on_the_pipelines_it_used_to_refuse(
    real_repo: Path, pipeline: str, wrapper: str, script: str
) -> None:
    known = commands(real_repo, pipeline)
    assert known and "export-csv" not in known
    proc = cli(
        real_repo, "run-scenario", "add-cli-command", pipeline, "export-csv", "-p", "description=Export", "--yes"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wrapper_path = f"scripts/cli-pipeline/{pipeline}/{wrapper}"
    bash_ok(real_repo, wrapper_path)
    assert commands(real_repo, pipeline) == known | {"export-csv"}
    assert (real_repo / script).is_file()
    expected = {wrapper_path, script}
    if pipeline == "database":  # a commander program: the command is registered in cli.ts and run through it
        expected.add("scripts/cli-pipeline/database/cli.ts")
        cli_ts = (real_repo / "scripts/cli-pipeline/database/cli.ts").read_text()
        assert "import exportCsvCommand from './commands/export-csv';" in cli_ts
        assert cli_ts.index("program.addCommand(exportCsvCommand);") < cli_ts.index("program.parse(")
        assert '"$SCRIPT_DIR/cli.ts\\" export-csv' in (real_repo / wrapper_path).read_text()
    assert changed(real_repo) == sorted(expected)
    help_lines = [ln for ln in (real_repo / wrapper_path).read_text().splitlines() if "export-csv " in ln]
    assert any("Export" in ln for ln in help_lines), "the help listing names the new command"


def test_google_sync_commands_are_seen_and_a_form_nobody_dispatches_is_named_before_anything_runs(
    real_repo: Path,
) -> None:
    assert len(commands(real_repo, "google_sync")) >= 80
    proc = cli(real_repo, "run-scenario", "add-cli-command", "git", "x-y", "-p", "wrapper=test-git-cli.sh", "--yes")
    assert proc.returncode == 2
    assert "scripts/cli-pipeline/git/test-git-cli.sh: no command dispatch found; expected a `case`" in proc.stderr
    assert changed(real_repo) == []


def test_migrate_cli_script_moves_the_script_and_keeps_its_imports(real_repo: Path) -> None:
    source = real_repo / "scripts/root/generate-types.ts"
    original = source.read_text()
    proc = cli(
        real_repo,
        "run-scenario",
        "migrate-cli-script",
        "scripts/root/generate-types.ts",
        "database",
        "generate-types",
        "--yes",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    moved = real_repo / "scripts/cli-pipeline/database/commands/generate-types.ts"
    assert not source.exists() and moved.is_file()
    assert "generate-types" in commands(real_repo, "database")
    bash_ok(real_repo, "scripts/cli-pipeline/database/database-cli.sh")
    # every relative import of the script still names an existing module
    for spec in re.findall(r"""from\s+['"](\.{1,2}/[^'"]+)['"]""", moved.read_text()):
        base = (moved.parent / spec).resolve()
        assert (
            any(base.with_name(base.name + ext).exists() for ext in ("", ".ts", ".tsx", ".js"))
            or (base / "index.ts").exists()
        ), spec
    assert len(moved.read_text().splitlines()) == len(original.splitlines())


def test_consolidate_pipelines_forwards_from_the_target_wrapper_and_points_the_root_script(real_repo: Path) -> None:
    proc = cli(real_repo, "run-scenario", "consolidate-pipelines", "documentation", "document", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = real_repo / "scripts/cli-pipeline/document/doc-cli.sh"
    bash_ok(real_repo, "scripts/cli-pipeline/document/doc-cli.sh")
    assert "$SCRIPT_DIR/../documentation/documentation-cli.sh" in doc.read_text()
    assert '  echo "  documentation              Commands of the former documentation pipeline"' in doc.read_text()
    assert "documentation" in commands(real_repo, "document")
    scripts = json.loads((real_repo / "package.json").read_text())["scripts"]
    # no root script ran the documentation wrapper, so one now reaches it through the document wrapper
    assert scripts["documentation"] == "./scripts/cli-pipeline/document/doc-cli.sh documentation"

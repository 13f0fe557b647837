"""Output as people read it: dry-runs in colour through a pager on a terminal only, --no-diff everywhere, tables
that fit the terminal without cutting words, human durations."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from continuous.cli.paging import pager_command
from continuous.common.config import load_config
from continuous.dsl.loader import load_config_rule_base, load_rule_base

DRY = ("run-scenario", "create-table", "user_prefs", "--dry-run")


def test_a_dry_run_on_a_terminal_is_coloured_and_paged(example_repo: Path, terminal, clean, recording_pager) -> None:
    command, log = recording_pager
    t = terminal(example_repo, *DRY, env=clean(CONTINUOUS_PAGER=command))
    t.expect(r"Estimated time:")
    assert t.finish() == 0
    paged = log.read_bytes().decode()
    assert "[pager]" in t.text and "Dry run on main" in paged and "Diffs:" in paged
    assert re.search(r"\x1b\[[0-9;]*m", paged), "no colour reached the pager"
    assert re.search(r"\x1b\[[0-9;]*32m\+CREATE TABLE", paged), "added diff lines are not green"


def test_piped_output_has_no_pager_and_no_colour(example_repo: Path, piped, clean, recording_pager) -> None:
    command, log = recording_pager
    proc = piped(example_repo, *DRY, env=clean(CONTINUOUS_PAGER=command))
    assert proc.returncode == 0 and "Dry run on main" in proc.stdout
    assert "\x1b[" not in proc.stdout and not log.exists()


@pytest.mark.parametrize("how", ["--json", "--no-pager", "CONTINUOUS_PAGER=off"])
def test_the_pager_can_be_turned_off(example_repo: Path, terminal, clean, recording_pager, how: str) -> None:
    command, log = recording_pager
    env = clean(CONTINUOUS_PAGER="off" if how.startswith("CONTINUOUS_PAGER") else command)
    args = [*DRY, how] if how.startswith("--") else list(DRY)
    t = terminal(example_repo, *args, env=env)
    assert t.finish() == 0
    assert not log.exists() and "[pager]" not in t.text
    if how == "--json":
        assert json.loads(t.text)["files"] and "\x1b[3" not in t.raw.decode()
    else:
        assert "Dry run on main" in t.text and "\x1b[" in t.raw.decode()  # still in colour


def test_pager_command_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTINUOUS_PAGER", raising=False)
    monkeypatch.delenv("PAGER", raising=False)
    expected = ["less", "-FRX"] if shutil.which("less") else None
    assert pager_command() == expected
    monkeypatch.setenv("PAGER", f"{sys.executable} -u")
    assert pager_command() == [sys.executable, "-u"]
    monkeypatch.setenv("CONTINUOUS_PAGER", "cat")
    assert pager_command() is None
    monkeypatch.setenv("CONTINUOUS_PAGER", "no-such-pager-program")
    assert pager_command() is None


def _saved_plan(repo: Path) -> Path:
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    plan = {
        "version": 1,
        "request": "a bookmarks service",
        "head": head,
        "rule_base_hash": load_config_rule_base(load_config(repo)).content_hash(),
        "items": [{"scenario": "create-service", "params": {"name": "bookmarks"}}],
    }
    path = repo.parent / "plan.json"
    path.write_text(json.dumps(plan))
    return path


def test_no_diff_on_run_scenario_and_run_plan(example_repo: Path, piped) -> None:
    plan = _saved_plan(example_repo)
    for args in (DRY, ("run-plan", str(plan), "--dry-run")):
        full = piped(example_repo, *args)
        bare = piped(example_repo, *args, "--no-diff")
        assert full.returncode == bare.returncode == 0, (full.stderr, bare.stderr)
        assert "Diffs:" in full.stdout and "\n+" in full.stdout
        assert "Diffs:" not in bare.stdout and "Files (" in bare.stdout


@pytest.mark.slow
def test_no_diff_on_plan(example_repo: Path, piped, clean) -> None:
    env = clean(CONTINUOUS_NO_DAEMON="1")
    full = piped(example_repo, "plan", "a table for email bookmarks", "--dry-run", env=env, timeout=600)
    bare = piped(example_repo, "plan", "a table for email bookmarks", "--dry-run", "--no-diff", env=env, timeout=600)
    assert full.returncode == bare.returncode == 0, (full.stderr, bare.stderr)
    assert "Diffs:" in full.stdout and "Diffs:" not in bare.stdout and "Files (" in bare.stdout


def _summaries_intact(text: str) -> None:
    """Every summary's words appear whole and in order, whatever the wrapping."""
    flat = " ".join(text.split())
    for s in load_rule_base().scenarios.values():
        assert " ".join(s.summary.split()) in flat, s.summary


def test_tables_fit_the_terminal_without_cutting_words(tmp_path: Path, terminal, piped, clean) -> None:
    t = terminal(tmp_path, "scenarios", "list", cols=72)
    assert t.finish() == 0
    lines = t.text.splitlines()
    assert lines[0].split() == ["ID", "OBJECT", "AUTO", "EST", "SUMMARY"]
    assert max(len(line) for line in lines) <= 72
    assert any(line.startswith(" ") for line in lines[1:-1]), "nothing wrapped at 72 columns"
    _summaries_intact(t.text)

    narrow = piped(tmp_path, "scenarios", "list", env=clean(COLUMNS="64"))
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 64
    _summaries_intact(narrow.stdout)
    wide = piped(tmp_path, "scenarios", "list")  # a pipe without COLUMNS: one line per row, for grep
    rows = wide.stdout.splitlines()
    assert len(rows) == len(load_rule_base().scenarios) + 2


def test_durations_are_human_readable(example_repo: Path, piped) -> None:
    run = piped(example_repo, "run-scenario", "create-service", "bookmarks", "--yes")
    assert run.returncode == 0, run.stderr
    assert re.search(r"✓ 1/\d+ .* (\d+\.\d\ds|\d+s|\d+m(\d\ds)?) checkpoint", run.stdout), run.stdout
    listed = piped(example_repo, "executions", "list")
    header, *rows = listed.stdout.splitlines()
    assert header.split()[:6] == ["ID", "KIND", "SCENARIO", "STATUS", "STARTED", "(UTC)"] and "TOOK" in header
    assert rows and all(re.search(r"\s(\d+\.\d\ds|\d+s|\d+m(\d\ds)?|\d+h(\d\dm)?|-)\s", r) for r in rows), rows

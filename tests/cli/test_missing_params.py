"""Missing parameters: asked for on a terminal (a real pseudo-terminal), listed with how to pass them otherwise
(exit 2). run-scenario and run-plan behave alike; the answer is checked against the parameter's type."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from continuous.common.config import load_config
from continuous.dsl.loader import load_config_rule_base

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CONTINUOUS_UPDATE_GOLDEN") == "1"


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text)
    assert text == path.read_text()


def test_without_a_terminal_the_missing_parameters_are_listed(example_repo: Path, piped) -> None:
    proc = piped(example_repo, "run-scenario", "create-table", "--dry-run")
    assert proc.returncode == 2 and proc.stdout == ""
    _golden("missing-create-table.txt", proc.stderr)
    again = piped(example_repo, "run-scenario", "create-table", "--dry-run", "--param", "name=user_prefs")
    assert again.returncode == 0, again.stderr
    assert "create-table name=user_prefs" in again.stdout


def test_json_never_prompts_even_on_a_terminal(example_repo: Path, terminal) -> None:
    t = terminal(example_repo, "run-scenario", "create-table", "--dry-run", "--json")
    t.expect(r"missing 1 required parameter")
    assert t.finish() == 2
    assert "create-table name (" not in t.text


def test_no_prompt_variable_lists_them_on_a_terminal(example_repo: Path, terminal, clean) -> None:
    t = terminal(example_repo, "run-scenario", "create-table", "--dry-run", env=clean(CONTINUOUS_NO_PROMPT="1"))
    t.expect(r"missing 1 required parameter")
    assert t.finish() == 2


def test_on_a_terminal_each_missing_parameter_is_asked_until_valid(example_repo: Path, terminal, clean) -> None:
    t = terminal(example_repo, "run-scenario", "create-table", "--dry-run", env=clean(CONTINUOUS_PAGER="off"))
    t.expect(r"create-table needs 1 more parameter")
    t.expect(r"create-table name \(snake_case name; matching \S+; e\.g\. user_preferences, email_bookmarks\):")
    t.send("User Prefs")
    t.expect(r"not a snake_case identifier")
    t.expect(r"try 'user_prefs'")
    t.send("user_prefs")
    t.expect(r"Estimated time:")
    assert t.finish() == 0
    assert "create-table name=user_prefs" in t.text


def test_ctrl_c_at_a_prompt_stops_with_130(example_repo: Path, terminal) -> None:
    t = terminal(example_repo, "run-scenario", "create-table", "--dry-run")
    t.expect(r"create-table name \(")
    t.wait_reading()
    os.write(t.master, b"\x03")
    assert t.finish() == 130
    assert "interrupted" in t.text


def _saved_plan(repo: Path, items: list[dict[str, object]]) -> Path:
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    plan = {
        "version": 1,
        "request": "by hand",
        "head": head,
        "rule_base_hash": load_config_rule_base(load_config(repo)).content_hash(),
        "items": items,
    }
    path = repo.parent / "plan.json"
    path.write_text(json.dumps(plan))
    return path


def test_run_plan_lists_asks_and_takes_param(example_repo: Path, piped, terminal, clean) -> None:
    plan = _saved_plan(example_repo, [{"scenario": "create-service", "params": {}}])
    proc = piped(example_repo, "run-plan", str(plan), "--dry-run")
    assert proc.returncode == 2
    assert "missing 1 required parameter:\n  name: kebab-case name" in proc.stderr
    assert f"continuous run-plan {plan} --dry-run --param name=" in proc.stderr

    given = piped(example_repo, "run-plan", str(plan), "--dry-run", "--no-diff", "--param", "name=bookmarks")
    assert given.returncode == 0, given.stderr
    assert "create-service name=bookmarks" in given.stdout
    scoped = piped(example_repo, "run-plan", str(plan), "--dry-run", "-p", "create-service.name=bookmarks")
    assert scoped.returncode == 0, scoped.stderr
    wrong = piped(example_repo, "run-plan", str(plan), "--dry-run", "-p", "create-table.name=x", "-p", "name=b")
    assert wrong.returncode == 2 and "--param create-table.name: no item of the plan misses" in wrong.stderr

    t = terminal(example_repo, "run-plan", str(plan), "--dry-run", "--no-pager")
    t.expect(r"create-service name \(kebab-case name")
    t.send("bookmarks")
    t.expect(r"Estimated time:")
    assert t.finish() == 0
    assert json.loads(plan.read_text())["items"][0]["params"] == {}  # the file is never rewritten

"""Scenarios are learned from the `examples` their DSL declares: every built-in has enough of them, in the words
developers use, none taken from an evaluation set; `scenarios show` prints them, `validate` warns about a
scenario without them, and a custom scenario becomes suggestible by writing them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from continuous.cli.main import app
from continuous.dsl.loader import load_rule_base
from typer.testing import CliRunner

from .conftest import make_repo

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]


def test_every_built_in_scenario_has_ten_distinct_examples() -> None:
    rb = load_rule_base([], include_builtin=True)
    for sid, sc in rb.scenarios.items():
        assert len(sc.examples) >= 10, sid
        assert len({e.lower() for e in sc.examples}) == len(sc.examples), sid


def test_no_example_is_an_evaluation_request() -> None:
    rb = load_rule_base([], include_builtin=True)
    examples = {" ".join(e.lower().split()) for sc in rb.scenarios.values() for e in sc.examples}
    requests = [
        json.loads(line)["request"]
        for path in (
            REPO / "tests" / "planner" / "eval" / "requests.jsonl",
            REPO / "bench" / "data" / "planner" / "tune.jsonl",
        )
        if path.exists()
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    assert requests
    assert [r for r in requests if " ".join(r.lower().split()) in examples] == []


def test_scenarios_show_prints_the_examples() -> None:
    result = runner.invoke(app, ["scenarios", "show", "archive-table"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "examples:" in result.stdout and "archive the old command_history table" in result.stdout


CUSTOM = """
scenario add-feature-flag {
  object infra
  summary "Add a feature flag"
  param name: kebab required position 1
  provides flag(name: "{{ name }}")
}
"""

WITH_EXAMPLES = CUSTOM.replace(
    'summary "Add a feature flag"',
    'summary "Add a feature flag"\n  examples "add a feature flag for the new editor",\n'
    '    "put checkout v2 behind a flag",\n'
    '    "new toggle to roll out dark mode gradually", "gate the beta dashboard behind a feature flag",\n'
    '    "feature flag for the experimental search", "let us switch the redesign on per team"',
)


def test_validate_warns_about_a_scenario_without_examples(tmp_path: Path) -> None:
    path = tmp_path / "flags.scn"
    path.write_text(CUSTOM)
    result = runner.invoke(app, ["validate", "--no-builtin", str(path)], catch_exceptions=False)
    assert result.exit_code == 0
    assert "warning:" in result.stderr and "add-feature-flag has no examples" in result.stderr
    data = json.loads(runner.invoke(app, ["validate", "--no-builtin", str(path), "--json"]).stdout)
    assert data["ok"] and data["warnings"][0]["line"] == 2
    path.write_text(WITH_EXAMPLES)
    result = runner.invoke(app, ["validate", "--no-builtin", str(path)], catch_exceptions=False)
    assert result.exit_code == 0 and "warning" not in result.stderr


@pytest.mark.slow
def test_a_custom_scenario_becomes_suggestible_by_writing_examples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built-in library plus one custom scenario: the index is retrained with it (only its own texts encoded)."""
    flags = tmp_path / "flags.scn"
    flags.write_text(WITH_EXAMPLES)
    repo = make_repo(tmp_path / "repo")
    (repo / ".continuous.toml").write_text(f'scenario_paths = ["{flags}"]\n')
    monkeypatch.chdir(repo)
    result = runner.invoke(app, ["suggest", "put the new onboarding flow behind a feature flag", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["matches"][0]["scenario"] == "add-feature-flag"
    assert [p["scenario"] for p in data["plan"]] == ["add-feature-flag"]

"""Rules that emptied a plan whose scenario the model had right, or put another scenario first: a head object known
only from the last segment of a scoped package's name vetoes nothing; something added to an object the request
names as its place moves the odds of making that object to adding a part of it; something moved or extracted into
an object the request makes raises the odds of making it; moving an object makes none of its kind; and a request
planned from its clauses ranks what its clauses plan, not what its first verb alone would; a script asked for
is a command of the cli."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from continuous.cli.main import app
from continuous.planner import language, rules
from continuous.planner.phrases import analyse
from continuous.planner.rules import _moved_into, _moved_itself, _veto_all
from continuous.planner.suggest import load_context, suggest
from typer.testing import CliRunner

from .conftest import scenario_words_of

runner = CliRunner()

MADE = frozenset({"page", "component", "shared", "environment", "table", "schema", "endpoint", "dependencies"})


@pytest.fixture
def example(example_monorepo: Path) -> Path:
    return example_monorepo


def test_the_last_segment_of_a_scoped_package_is_a_name() -> None:
    assert _veto_all("chore(deps): bump @acme-ui/dialog to 2.0.1", whole=False, made=MADE) is None
    # the same word as the head object still vetoes
    found = _veto_all("add a dialog to the orders page", whole=False, made=MADE)
    assert found is not None and found[1] == "ui_element"


def test_what_something_is_moved_into_is_made() -> None:
    assert _moved_into(analyse("LOG_LEVEL moved to env")) == "environment"
    assert _moved_into(analyse("refactor: extracted the retry delay to an env var")) == "environment"
    assert _moved_into(analyse("move the billing logic into a dedicated service")) == "service"
    # a repository object that exists is reworked, not made; an object moved into another of its kind makes none
    assert _moved_into(analyse("move the billing logic into the payments service")) is None
    assert _moved_into(analyse("move the billing page into a new page")) is None
    assert _moved_into(analyse("move the price list tests to the http folder")) is None
    assert _moved_into(analyse("add the retry delay to an env var")) is None


def test_moving_an_object_makes_none_of_its_kind() -> None:
    words = scenario_words_of("add-tests", "migrate-cli-script", "add-pnpm-script", "add-page")
    assert _moved_itself(analyse("chore: move the invoice tests to the e2e folder"), words) == [0]
    assert _moved_itself(analyse("migrated the billing page tests to vitest"), words) == [0]
    # moving scripts into a cli pipeline migrates them; it adds no script
    assert _moved_itself(analyse("move the deploy scripts into the cli"), words) == [2]
    # the result of a conversion, and a move the request does not make, are left alone
    assert _moved_itself(analyse("convert the landing markup to a new page"), words) == []
    assert _moved_itself(analyse("add e2e tests for the invoice page"), words) == []


def test_through_the_planner_in_the_example_monorepo(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTINUOUS_DATABASE_URL", raising=False)
    monkeypatch.chdir(example)
    cases: dict[str, str | None] = {
        # the whole text reads "fix": every scenario that adds something is vetoed, the second clause plans one
        "Fix the logout crash and add a list-profiles command": "add-cli-command",
        "chore(deps): bump @acme-ui/dialog to 2.0.1": "update-dependencies",
        "move the billing logic into a dedicated service": "create-service",
        "chore: move the invoice tests to the e2e folder": None,
    }
    batch = example / "requests.txt"
    batch.write_text("\n".join(cases) + "\n")
    result = runner.invoke(app, ["suggest", "--batch", str(batch), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    for line, (text, expected) in zip(result.stdout.splitlines(), cases.items(), strict=True):
        data = json.loads(line)
        if expected is None:
            assert data["plan"] == [] and data["skipped"] == [], (text, data["plan"])
            continue
        assert data["matches"][0]["scenario"] == expected, (text, data["matches"][:2])
        assert expected in [p["scenario"] for p in data["plan"] if p["role"] == "requested"], (text, data["plan"])


def test_the_moved_into_boost_is_what_plans_the_new_object(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = load_context(example)
    text = "move the billing logic into a dedicated service"
    with_boost = suggest(text, ctx).matches[0]
    monkeypatch.setitem(language.lang().boost, "moved_into", 1.0)
    without = {m.scenario: m.score for m in suggest(text, ctx, top=30).matches}
    assert with_boost.scenario == "create-service"
    assert with_boost.score > without["create-service"] * 1.5


def test_something_added_to_a_named_model_is_a_part_of_it(example: Path) -> None:
    """ "the account model" is where the timezone goes: the odds of making a table move to adding a column to it
    (`_placed_only` vetoes making the place)."""
    ctx = load_context(example)
    result = suggest("feat: add a timezone property to the account model", ctx, explain=True)
    assert result.explain is not None
    moved = [v for v in result.explain.vetoed if v.scenario == "create-table"]
    assert moved and moved[0].why.endswith("modify-schema"), result.explain.vetoed
    assert result.matches[0].scenario == "modify-schema"
    # making the model is never what is asked; where the request plans (its in-scope probability sits at the
    # gate's margin), a table the repository lacks is still made as a dependency of the column, and said so
    assert "create-table" not in [p.scenario for p in result.plan if p.role == "requested"]
    if result.plan:
        assert any(p.scenario == "modify-schema" and p.role == "requested" for p in result.plan)


def test_a_script_asked_for_is_a_command_of_the_cli(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A script asked for by what it does is a command (`[head_kin]`): add-cli-command keeps its odds instead of
    the head_mismatch penalty a head of another kind gets."""
    ctx = load_context(example)
    text = "add a script to export the invoices to csv"
    kin = {m.scenario: m.score for m in suggest(text, ctx, top=30).matches}
    monkeypatch.setitem(language.lang().head_kin, "script", frozenset())
    without = {m.scenario: m.score for m in suggest(text, ctx, top=30).matches}

    def odds(p: float) -> float:
        return p / (1.0 - p)

    # head_mismatch multiplies the odds by 0.25: without it they are about 4 times higher
    assert odds(kin["add-cli-command"]) > 3 * odds(without["add-cli-command"])
    # the penalty still applies to the kinds a script is not
    assert kin.get("create-table", 0.0) == pytest.approx(without.get("create-table", 0.0))


def test_a_scenario_acting_on_the_asked_kind_keeps_its_odds(example: Path) -> None:
    """migrate-cli-script acts on a cli and on scripts: a request whose head is a script ("centralise the loose
    deploy scripts in the cli") asks for what it acts on, so head_mismatch leaves it, while a scenario of
    another kind (making a cli pipeline) is still penalised."""
    ctx = load_context(example)
    ids = ctx.index.scenario_ids
    probs = np.full((1, len(ids)), 0.5, dtype=np.float32)
    rules.boost(["centralise the loose deploy scripts in the cli"], probs, ctx.index, ctx.repo, head_kinds(ctx))
    assert probs[0, ids.index("migrate-cli-script")] == pytest.approx(0.5)
    assert probs[0, ids.index("add-pnpm-script")] == pytest.approx(0.5)
    assert probs[0, ids.index("create-cli-pipeline")] == pytest.approx(0.2)


def head_kinds(ctx: Any) -> list[str | None]:
    from continuous.planner.ranking import _head_kind

    return [_head_kind(ctx, sid) for sid in ctx.index.scenario_ids]

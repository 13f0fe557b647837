"""Suggestions on a small fixture rule base: matching, decomposition into a plan, ordering through the
engine's resolver, existing objects, no-match and cycles."""

from __future__ import annotations

from pathlib import Path

import pytest
from continuous.common.errors import UserError
from continuous.planner.suggest import load_context
from continuous.planner.suggest import suggest as suggest_model
from continuous.planner.suggest import suggest_many as suggest_many_models

from .conftest import FIXTURES, make_repo


def suggest(text: str, ctx: object, **kw: object) -> dict:
    return suggest_model(text, ctx, **kw).to_json()  # type: ignore[arg-type]


def suggest_many(texts: list[str], ctx: object) -> list[dict]:
    return [r.to_json() for r in suggest_many_models(texts, ctx)]  # type: ignore[arg-type]


def plan_of(result: dict) -> list[tuple[str, dict, str]]:
    return [(p["scenario"], p["params"], p["role"]) for p in result["plan"]]


def test_result_has_the_contract_shape(mini_repo: Path) -> None:
    result = suggest("crete a tabel for bookmarks", load_context(mini_repo), top=3)
    assert set(result) == {"request", "matches", "plan", "unmatched", "skipped", "not_found", "error"}
    assert result["error"] is None and result["skipped"] == []
    assert result["request"] == "crete a tabel for bookmarks"
    assert result["matches"][0]["scenario"] == "create-table"
    assert len(result["matches"]) == 3
    scores = [m["score"] for m in result["matches"]]
    assert scores == sorted(scores, reverse=True)
    assert result["plan"][0] == {
        "scenario": "create-table",
        "params": {"name": "bookmarks"},
        "role": "requested",
        "reason": result["plan"][0]["reason"],
        "after": [],
        "guessed": ["name"],
    }
    assert "crete a tabel for bookmarks" in result["plan"][0]["reason"]


def test_dependencies_come_first_with_consistent_names(mini_repo: Path) -> None:
    result = suggest("a service to manage user preferences", load_context(mini_repo))
    plan = plan_of(result)
    assert plan[0] == ("create-table", {"name": "user_preferences"}, "dependency")
    assert ("create-service", {"name": "user-preferences"}, "requested") in plan
    assert "required by create-service" in result["plan"][0]["reason"]


def test_two_intents_are_both_planned_in_stack_order(mini_repo: Path) -> None:
    result = suggest(
        "show bookmarks on a new page in dhg-hub and keep them in a database table", load_context(mini_repo)
    )
    ids = [p["scenario"] for p in result["plan"]]
    assert ids.index("create-table") < ids.index("add-page")
    page = next(p for p in result["plan"] if p["scenario"] == "add-page")
    assert page["params"]["app"] == "dhg-hub"
    assert result["unmatched"] == []


def test_what_already_exists_is_left_out_with_a_reason(mini_repo: Path) -> None:
    result = suggest("a service called orders", load_context(mini_repo))
    assert [p["scenario"] for p in result["plan"]] == ["create-service"]
    assert result["skipped"][0]["scenario"] == "create-table"
    assert "table(name=orders) already holds" in result["skipped"][0]["reason"]


def test_missing_parameters_are_listed_not_invented(mini_repo: Path) -> None:
    result = suggest("add a page for invoices", load_context(mini_repo))
    page = result["plan"][0]
    assert page["scenario"] == "add-page"
    assert "app" not in page["params"]
    assert page["missing"] == ["app"]


def test_no_match_gives_an_empty_plan(mini_repo: Path) -> None:
    ctx = load_context(mini_repo)
    for text in ("what's the weather tomorrow", "recommend a good pizza place"):
        result = suggest(text, ctx)
        assert result["plan"] == []
        assert result["unmatched"] == [text]
        assert result["matches"]  # still ranked, for the curious


def test_unmatched_part_of_a_request_is_reported(mini_repo: Path) -> None:
    result = suggest("create a table for invoices and then book a flight to lisbon", load_context(mini_repo))
    assert [p["scenario"] for p in result["plan"]] == ["create-table", "generate-types"]
    assert result["unmatched"] == ["book a flight to lisbon"]


def test_empty_request_is_bad_input(mini_repo: Path) -> None:
    with pytest.raises(UserError, match="empty"):
        suggest("   ", load_context(mini_repo))


def test_batch_keeps_order(mini_repo: Path) -> None:
    texts = ["a table for tags", "what's the weather", "add a settings page to dhg-hub", "a table for tags"]
    results = suggest_many(texts, load_context(mini_repo))
    assert [r["request"] for r in results] == texts
    assert [bool(r["plan"]) for r in results] == [True, False, True, True]
    assert results[0] == results[3]


def test_a_cycle_is_a_clear_error_naming_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "cyc", FIXTURES / "cycle")
    with pytest.raises(UserError, match=r"dependency cycle: (alpha|beta|gamma) -> .* -> \1"):
        suggest("make an alpha thing", load_context(repo))


def test_outside_a_repository_the_builtin_facts_are_empty(tmp_path: Path) -> None:
    from continuous.dsl.loader import load_rule_base

    rb = load_rule_base([FIXTURES / "mini.scn"], include_builtin=False)
    ctx = load_context(tmp_path, use_repo=False, rule_base=rb)
    assert ctx.facts == [] and ctx.worktree is None
    assert suggest("a new table for orders", ctx)["plan"][0]["params"] == {"name": "orders"}


# ---------------------------------------------------------------- honest output


def test_what_the_request_itself_asks_for_and_already_holds_is_said(mini_repo: Path) -> None:
    result = suggest_model("a table for orders", load_context(mini_repo))
    assert result.plan == []
    assert [(s.scenario, s.requested) for s in result.skipped] == [("create-table", True)]
    assert result.requested == ["create-table"]  # not a no-match: the intent is kept
    from continuous.cli.planner_commands import render

    assert "already holds" in render(result.to_json())


def test_params_fill_what_the_request_left_open(mini_repo: Path) -> None:
    ctx = load_context(mini_repo)
    result = suggest_model("add a page for invoices", ctx, params={"app": "dhg-hub"})
    (page,) = result.plan
    assert page.params["app"] == "dhg-hub" and page.missing == ()
    assert page.sources["app"].source == "given with --param" and not page.sources["app"].guessed
    assert suggest_model("add a page for invoices", ctx, params={"add-page.app": "dhg-hub"}).plan[0].missing == ()
    with pytest.raises(UserError, match="no scenario of the plan takes a parameter 'colour'"):
        suggest_model("add a page for invoices", ctx, params={"colour": "red"})


def test_a_name_that_matches_nothing_is_reported_with_candidates(mini_repo: Path) -> None:
    result = suggest_model("add a settings page to the hubb app", load_context(mini_repo))
    (page,) = result.plan
    assert page.params["app"] == "hubb"
    assert [(n.kind, n.name) for n in result.not_found] == [("app", "hubb")]
    assert [c.value for c in page.candidates["app"]] == ["dhg-hub"]


def test_every_batch_line_has_a_result_or_an_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "cyc", FIXTURES / "cycle")
    texts = ["make an alpha thing", "", "what is the weather"]
    results = suggest_many_models(texts, load_context(repo), record_errors=True)
    assert [r.request for r in results] == ["make an alpha thing", "", "what is the weather"]
    assert results[0].error is not None and "dependency cycle" in results[0].error.message
    assert results[0].error.hint and results[0].plan == []
    assert results[1].error is not None and results[1].error.message == "the request is empty"
    assert results[2].error is None and results[2].plan == []


def test_a_value_a_dependency_rejects_is_left_missing_not_an_error(tmp_path: Path) -> None:
    """A kebab-case app name bound to a snake_case parameter of a dependency: the value is dropped and asked
    for, the batch line is a plan, not a silent empty result."""
    dsl = tmp_path / "lib.scn"
    dsl.write_text(
        (FIXTURES / "mini.scn").read_text()
        + """
scenario add-widget {
  object ui
  summary "A widget in an app, with its own table"
  examples "add a widget to an app", "new widget for the dashboard app", "a widget on the hub"
  param app: kebab required
  requires create-table(name: "{{ app }}") unless table(name: "{{ app }}")
  provides widget(app: "{{ app }}")
}
"""
    )
    repo = make_repo(tmp_path / "w", dsl)
    (result,) = suggest_many_models(["add a widget to the dhg-hub app"], load_context(repo), record_errors=True)
    assert result.error is None
    widget = next(p for p in result.plan if p.scenario == "add-widget")
    assert "app" in widget.missing

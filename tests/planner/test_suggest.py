"""Suggestions on a small fixture rule base: matching, decomposition into a plan, ordering through the
engine's resolver, existing objects, no-match and cycles."""

from __future__ import annotations

from pathlib import Path

import pytest
from continuous.common.errors import UserError
from continuous.planner.suggest import load_context, suggest, suggest_many

from .conftest import FIXTURES, make_repo


def plan_of(result: dict) -> list[tuple[str, dict, str]]:
    return [(p["scenario"], p["params"], p["role"]) for p in result["plan"]]


def test_result_has_the_contract_shape(mini_repo: Path) -> None:
    result = suggest("crete a tabel for bookmarks", load_context(mini_repo), top=3)
    assert set(result) == {"request", "matches", "plan", "unmatched"}
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

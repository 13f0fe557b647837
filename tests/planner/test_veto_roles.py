"""Vetoes that fire only where a word plays the role the veto is about, and words read by their real lemma."""

from __future__ import annotations

from continuous.planner import language
from continuous.planner.phrases import analyse
from continuous.planner.rules import _moved_between, _spared, _veto_all

from .conftest import scenario_words_of

MADE = frozenset({"page", "component", "shared", "environment", "table", "endpoint", "proxy", "path", "archive"})


def test_an_irregular_verb_has_no_regular_past() -> None:
    assert language.find("seed", "verbs") == []  # no form of "see"
    assert [c for c, _s, _e in language.find("seeing", "verbs")] == ["show"]
    assert [c for c, _s, _e in language.find("hooked", "verbs")] == ["integrate"]
    assert analyse("chore: sow seed data").verb != "show"


def test_a_ui_element_among_other_kinds_is_something_else() -> None:
    found = _veto_all("add stripe secret key placeholder to .env.sample", whole=False, made=MADE)
    assert found is None
    # on a screen it still is a part of that screen
    found = _veto_all("add a tooltip to the billing page", whole=False, made=MADE)
    assert found is not None and found[1] == "ui_element"


def test_a_ui_element_asked_for_alone_is_made_as_a_component() -> None:
    words = scenario_words_of("add-shared-component", "add-page", "create-table")
    a = analyse("create drawer")
    assert _spared(a, "ui_element", words) == {0}
    assert _spared(analyse("add a drawer to the orders page"), "ui_element", words) == set()


def test_what_is_archived_is_the_archive_scenarios_object() -> None:
    words = scenario_words_of("archive-path", "add-page", "restore-archived")
    assert _spared(analyse("archive the onboarding guides"), "docs", words) == {0}
    assert _spared(analyse("move stale guides into the archive folder"), "docs", words) == {0}
    assert _spared(analyse("move stale guides into the wiki"), "docs", words) == set()


def test_a_method_verb_inside_an_endpoints_name_is_its_purpose() -> None:
    assert analyse("feat(orders): delete invoice endpoint").verb == "create"
    assert analyse("Warehouse Fetch Endpoint").verb == "create"
    assert analyse("a delete shipment endpoint").verb == "create"
    # the request's own action
    assert analyse("delete the invoice endpoint").verb == "remove"
    assert analyse("delete invoice endpoint").verb == "remove"
    assert analyse("feat: remove invoice endpoint").verb == "remove"
    assert analyse("fix: delete invoice endpoint").verb == "remove"


def test_moving_one_existing_object_into_another_makes_none() -> None:
    words = scenario_words_of("add-page", "add-shared-component")
    assert _moved_between(analyse("move the billing page into the account page"), words) == [0]
    assert _moved_between(analyse("move the billing page into a new page"), words) == []
    assert _moved_between(analyse("move the billing widget into the account page"), words) == []

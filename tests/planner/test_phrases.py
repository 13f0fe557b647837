"""Phrase roles: the head object of a request, what modifies it, where it goes, what it is about and what a
trailing clause says it does — so a noun in a trailing clause never outweighs the head, and a name in a place is
a parent, not the thing to make."""

from __future__ import annotations

import pytest
from continuous.planner.phrases import analyse
from continuous.planner.rules import reasons_to_veto_all


def roles(text: str) -> list[tuple[str, str, str | None]]:
    return [(p.role, p.text, p.head) for p in analyse(text).phrases]


def test_head_modifiers_and_a_trailing_clause() -> None:
    a = analyse("add a sync pipeline command to list labels")
    assert a.verb == "create"
    assert roles(a.text) == [("head", "a sync pipeline command", "command"), ("trailing", "list labels", None)]
    assert a.head is not None and a.head.modifier_text().strip() == "a sync pipeline"
    weights = a.object_weights()
    assert weights["command"] == 1.0 and weights["pipeline"] == 0.6


def test_places_and_subjects() -> None:
    assert roles("add a settings page to the hub") == [("head", "a settings page", "page"), ("place", "the hub", None)]
    assert roles("a table for bookmarks") == [("head", "a table", "table"), ("subject", "bookmarks", None)]
    assert roles("store a due date on dev tasks")[1:] == [("place", "dev tasks", None)]
    # the subject of "needs" is where the new thing goes
    assert roles("the doc_files table needs a language column") == [
        ("place", "the doc_files table", "table"),
        ("head", "a language column", "schema"),
    ]

    # an infinitive is bare: "to" before a participle opens a place, not what something is for
    assert roles("add tokens column to incoming webhooks table")[1] == ("place", "incoming webhooks table", "table")
    assert roles("add a flag to existing users")[1] == ("place", "existing users", None)
    assert roles("add a script to update labels")[1][0] == "trailing"
    # a past participle and its preposition after the object say what it is made of; before a part noun they
    # name the part
    assert roles("Add Tabs component based on Radix") == [
        ("head", "Tabs component", "component"),
        ("trailing", "based on Radix", None),
    ]
    assert roles("add a deleted by column to invoices")[0] == ("head", "a deleted by column", "schema")


def test_the_head_noun_of_a_compound_is_its_last_word() -> None:
    assert analyse("add column resizing to tables").head.head is None  # type: ignore[union-attr]
    assert analyse("add a gmail sync pipeline command").head.head == "command"  # type: ignore[union-attr]
    assert analyse("an about page for the hub").head.head == "page"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "verb"),
    [
        ("feat(hub): add a settings page", "create"),
        ("chore(deps): bump vite from 5.1.0 to 5.4.2", "update"),
        ("please archive the old experts app", "archive"),
        ("an analytics app", "create"),  # a bare noun phrase asks for the object
        ("restore the archived experts app", "restore"),
    ],
)
def test_the_main_verb(text: str, verb: str) -> None:
    assert analyse(text).verb == verb


def test_commit_prefixes_are_a_hint_and_a_place() -> None:
    a = analyse("feat(hub): add a settings page")
    assert (a.commit_type, a.commit_scope) == ("feat", "hub")
    assert analyse('Revert "add bookmarks table"').commit_type == "revert"


@pytest.mark.parametrize(
    "text",
    [
        "add an index on documents.created_at",
        "write a guide on creating a new pipeline",
        "add a search box to the customers table",
        "add column resizing to tables",
        'Revert "add bookmarks table"',
        "chore(helm): bump the chart version",
        "does the cli pipeline support dry runs?",
        "rename the table user_settings to user_preferences",
    ],
)
def test_what_no_scenario_makes_is_vetoed(text: str) -> None:
    assert reasons_to_veto_all(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "add a table for search filters",
        "add a page listing bookmarks",
        "create a shared button component",
        "add a feature flag for the editor",
    ],
)
def test_what_a_scenario_makes_is_not(text: str) -> None:
    assert reasons_to_veto_all(text, made=frozenset({"feature"})) is None

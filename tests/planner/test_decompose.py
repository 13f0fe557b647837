"""Splitting a request into intents: on connectives, but never into pieces that are not intents."""

from __future__ import annotations

import pytest
from continuous.planner.decompose import split


def texts(request: str) -> list[str]:
    return [c.text for c in split(request)]


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        (
            "a table for bookmarks plus a service to manage them",
            ["a table for bookmarks", "a service to manage them"],
        ),
        ("an analytics app with a usage page", ["an analytics app", "a usage page"]),
        (
            "store it, expose it through an API and show it in the hub",
            ["store it", "expose it through an API", "show it in the hub"],
        ),
        (
            "first create the orders table, then generate types and finally add tests",
            ["first create the orders table", "generate types", "add tests"],
        ),
        ("add a page; also a shared button component", ["add a page", "a shared button component"]),
    ],
)
def test_splits_into_intents(request_text: str, expected: list[str]) -> None:
    assert texts(request_text) == expected


@pytest.mark.parametrize(
    "request_text",
    [
        "list and delete bookmarks",
        "a table with columns name and email",
        "user preferences and settings",
        "admin dashboard for managing user preferences",
        "what's the weather tomorrow",
        'create a table called "reports and exports"',
        "add a GET /api/search-and-filter endpoint",
        "upgrade @radix-ui/{dialog,popover} packages",
    ],
)
def test_does_not_invent_intents(request_text: str) -> None:
    assert texts(request_text) == [request_text]


def test_sequencing_words_are_remembered() -> None:
    clauses = split("create the invoices table and then generate the types")
    assert [c.sequenced for c in clauses] == [False, True]
    assert [c.sequenced for c in split("a table plus a service")] == [False, False]


def test_positions_point_into_the_request() -> None:
    request = "a table for tags plus a service for them"
    for clause in split(request):
        assert clause.text in request[clause.start : clause.end]


def test_empty() -> None:
    assert split("   ") == []

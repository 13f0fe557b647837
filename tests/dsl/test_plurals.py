"""Singular and plural forms come from inflection (a kept library), not suffix rules: `doc_statuses` gives
`DocStatus`, not `DocStatuse`."""

from __future__ import annotations

import pytest
from continuous.common.words import count, plural, singular
from continuous.dsl.templating import render_string


@pytest.mark.parametrize(
    ("many", "one"),
    [
        ("doc_statuses", "doc_status"),
        ("user_preferences", "user_preference"),
        ("categories", "category"),
        ("email_addresses", "email_address"),
        ("boxes", "box"),
        ("analyses", "analysis"),
        ("search_indices", "search_index"),
        ("people", "person"),
        ("DocStatuses", "DocStatus"),
        ("expert-quizzes", "expert-quiz"),
        ("media_files", "media_file"),
    ],
)
def test_singular_and_plural_of_identifiers(many: str, one: str) -> None:
    assert singular(many) == one
    assert plural(one) == many


@pytest.mark.parametrize("word", ["status", "news", "series", "ai_media", "user_settings", "learn_data", "x_1"])
def test_words_without_a_different_singular_are_kept(word: str) -> None:
    assert singular(word) == word


def test_template_filters() -> None:
    assert render_string("{{ t | singular | pascal }}", {"t": "doc_statuses"}, where="test") == "DocStatus"
    assert render_string("{{ t | plural }}", {"t": "doc_status"}, where="test") == "doc_statuses"


def test_count() -> None:
    assert count(1, "violation") == "1 violation"
    assert count(0, "violation") == "0 violations"
    assert count(2, "baseline entry") == "2 baseline entries"

"""English singular and plural forms of identifiers and nouns, from a kept library (inflection) rather than
suffix rules: `doc_statuses` → `doc_status`, `categories` → `category`, `analyses` → `analysis`.

Only the last word of an identifier changes (snake, kebab, camel and Pascal case alike), and its case is kept.
"""

from __future__ import annotations

import re

import inflection

# Words that software names use as mass nouns, whatever English grammar says (`media_files` is not `medium_file`,
# `ai_data` has no singular); inflection's own list covers the rest (news, series, equipment, ...).
UNCOUNTABLE = frozenset(
    {
        "data",
        "metadata",
        "media",
        "feedback",
        "software",
        "hardware",
        "firmware",
        "info",
        "staff",
        "auth",
        "config",
        "settings",
    }
)

_LAST_WORD = re.compile(r"(?:[A-Z]?[a-z]+|[A-Z]+|[a-z]+)$")


def _last_word(text: str, change: object) -> str:
    match = _LAST_WORD.search(text)
    if match is None:
        return text
    word = match.group(0)
    if word.lower() in UNCOUNTABLE:
        return text
    new = change(word.lower())  # type: ignore[operator]
    if word.isupper() and len(word) > 1:
        new = new.upper()
    elif word[0].isupper():
        new = new[:1].upper() + new[1:]
    return text[: match.start()] + new


def singular(text: str) -> str:
    """The singular of the last word: table names to row type names (`doc_statuses` → `doc_status`)."""
    return _last_word(str(text), inflection.singularize)


def plural(text: str) -> str:
    """The plural of the last word (`doc_status` → `doc_statuses`, `category` → `categories`)."""
    return _last_word(str(text), inflection.pluralize)


def count(n: int, noun: str) -> str:
    """`1 violation`, `3 violations`, `2 baseline entries`."""
    return f"{n} {noun if n == 1 else plural(noun)}"

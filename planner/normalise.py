"""One reading of the commit-style noise around a request, for everything that reads a request's words.

Real requests arrive as commit subjects and pull-request titles: "feat(hub)!: ✨ add a settings page (#412)",
"NV 3673 add modal", 'Revert "feat: new settings page"', "Merge pull request #12 from acme/feat/add-invoices".
The prefix, the ticket and the pull-request number say nothing about which scenario is meant, yet an embedding of
the raw text carries them, and the off-topic requests are real commit subjects while most scenario examples are
not: a model that sees them learns "a commit prefix means no match". So the intent model (training and queries
alike: `features.model_text`), the TF-IDF channels and the phrase reader (`phrases.analyse`) all read the request
through `normalise`, and what the noise says is kept as typed fields: the commit type is a feature and a prior
(`[commit_odds]`), the scope a place. The patterns are data (`data/noise.toml`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from continuous.planner import language

DATA = Path(__file__).resolve().parent / "data" / "noise.toml"


@dataclass(frozen=True)
class Normalised:
    """A request without its noise. `start`/`end` delimit the request proper in the raw text, which is what the
    phrase reader reads; `text` is what the intent model reads: that span, after the words of a tag that says
    what the change is ("[Unit Test] User service" → "Unit Test User service"), or, for a merged branch, the
    words of its name (`derived`)."""

    raw: str
    text: str
    start: int
    end: int
    type: str | None = None  # conventional-commit type, lower case ("feat", "fix", "revert")
    scope: str | None = None  # "hub" of "feat(hub): ..."
    breaking: bool = False  # "feat!: ..."
    removed: tuple[tuple[str, str], ...] = ()  # (what, the text taken away), in reading order
    derived: bool = False

    def notes(self) -> tuple[str, ...]:
        return tuple(f"{what} {piece.strip()}" for what, piece in self.removed)


@dataclass(frozen=True)
class _Pattern:
    name: str
    regex: re.Pattern[str]
    type: str | None = None
    scope_only: bool = False
    then_verb: bool = False  # counts only before a verb


@dataclass(frozen=True)
class _Table:
    whole: tuple[_Pattern, ...]
    noise: tuple[_Pattern, ...]
    prefix: tuple[_Pattern, ...]
    trailing: tuple[_Pattern, ...]
    markers: frozenset[str]


@cache
def _table() -> _Table:
    raw: dict[str, Any] = tomllib.loads(DATA.read_text(encoding="utf-8"))

    def compile_all(key: str) -> tuple[_Pattern, ...]:
        return tuple(
            _Pattern(
                str(p["name"]),
                re.compile(p["pattern"], re.IGNORECASE | re.DOTALL),
                p.get("type"),
                bool(p.get("scope_only", False)),
                p.get("then") == "verb",
            )
            for p in raw.get(key, [])
        )

    markers = frozenset(str(w).lower() for w in raw.get("tags", {}).get("markers", []))
    return _Table(compile_all("whole"), compile_all("noise"), compile_all("prefix"), compile_all("trailing"), markers)


def _commit_type(word: str | None) -> str | None:
    low = (word or "").lower()
    return low if low and low in language.lang().commit_types else None


def _verbish(word: str) -> bool:
    low = word.lower()
    return (
        language.is_verb_word(low)
        or low in language.words("data_verbs")
        or low in language.words("run_verbs")
        or low in language.lang().method_verbs
        or (low.endswith("ing") and len(low) > 5)
    )


def _scope_only(scope: str) -> bool:
    """ "db: add notification tables" reads db as a place; "fix login: ..." or a lead ("migration:") is no scope."""
    return not any(_verbish(w) for w in scope.split()) and scope.lower() + ":" not in language.lang().leads


@lru_cache(maxsize=8192)
def normalise(text: str) -> Normalised:
    """The request without its commit-style noise, and what the noise said."""
    table = _table()
    for p in table.whole:
        m = p.regex.match(text)
        if m is None:
            continue
        groups = m.groupdict()
        if groups.get("body") is not None and groups["body"].strip():
            inner = normalise(groups["body"])
            offset = m.start("body")
            return Normalised(
                text,
                inner.text,
                offset + inner.start,
                offset + inner.end,
                p.type or inner.type,
                inner.scope,
                inner.breaking,
                ((p.name, text[:offset]), *inner.removed),
                inner.derived,
            )
        if groups.get("branch"):
            inner = normalise(groups["branch"])
            words = " ".join(re.split(r"[-_/]+", inner.text)).strip()
            if words:
                return Normalised(
                    text,
                    words,
                    m.start("branch"),
                    m.end("branch"),
                    inner.type,
                    inner.scope,
                    inner.breaking,
                    ((p.name, text[: m.start("branch")]),),
                    derived=True,
                )
    removed: list[tuple[str, str]] = []
    kind: str | None = None
    scope: str | None = None
    breaking = False
    pos = _skip(text, 0, table.noise, removed)
    for p in table.prefix:
        m = p.regex.match(text, pos)
        if m is None or m.end() == pos:
            continue
        groups = m.groupdict()
        if "type" in groups and _commit_type(groups["type"]) is None:
            continue
        if p.scope_only and not _scope_only(groups.get("scope") or ""):
            continue
        kind = _commit_type(groups.get("type"))
        scope = (groups.get("scope") or "").strip().lower() or None
        breaking = bool(groups.get("breaking"))
        removed.append((p.name, m.group(0)))
        pos = m.end()
        break
    start = _skip(text, pos, table.noise, removed)
    said: list[str] = []
    for what, piece in removed:
        tag = piece.strip(" []:")
        if what != "tag" or tag.lower() in table.markers:
            continue
        if _commit_type(tag) is not None:
            kind = kind or _commit_type(tag)  # "[Fix] broken links"
        else:
            said.append(tag)  # "[Unit Test] User service"
    end = len(text)
    moved = True
    while moved and end > start:
        moved = False
        for p in table.trailing:
            m = p.regex.search(text, start, end)
            if m is not None and m.start() > start and m.end() == end:
                removed.append((p.name, m.group(0)))
                end = m.start()
                moved = True
    body = text[start:end].strip()
    if not body:  # nothing but noise ("#123", "✨"): the text is what it is
        return Normalised(text, text.strip(), 0, len(text), kind, scope, breaking, tuple(removed))
    lead = len(text[start:end]) - len(text[start:end].lstrip())
    read = " ".join([*said, body])
    return Normalised(text, read, start + lead, start + lead + len(body), kind, scope, breaking, tuple(removed))


def _skip(text: str, pos: int, patterns: tuple[_Pattern, ...], removed: list[tuple[str, str]]) -> int:
    moved = True
    while moved:
        moved = False
        for p in patterns:
            m = p.regex.match(text, pos)
            if m is not None and m.end() > pos and (not p.then_verb or _verb_next(text, m.end())):
                removed.append((p.name, m.group(0)))
                pos = m.end()
                moved = True
                break
    return pos


def _verb_next(text: str, pos: int) -> bool:
    word = re.match(r"[A-Za-z][\w'-]*", text[pos:])
    return word is not None and language.is_verb_word(word.group(0))


def data_files() -> tuple[Path, ...]:
    """What the normaliser reads: an index trained on normalised texts is keyed by it."""
    return (DATA,)

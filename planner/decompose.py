"""Split one request into the intents it contains, without inventing any.

"a table for bookmarks plus a service to manage them" is two intents; "list and delete bookmarks" is one; "a table
with columns name and email" is one. Splitting is done on the connectives of language.toml (and, plus, then, also,
with, commas, semicolons), but a piece only becomes an intent of its own when it names an object or starts with an
action verb; otherwise it is glued back onto its neighbour. Quoted names and routes are protected first, so a
connective inside `"reports and exports"`, `/api/a-and-b` or a fixed phrase ("drag and drop") never splits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from continuous.planner import language as lexicon


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], list[str], re.Pattern[str], re.Pattern[str]]:
    """The connectives of language.toml (strongest first, each "hard", "soft" or "with") as one alternation, the
    request openers ("please", "can you") and the connectives that may lead a piece."""
    connectives = lexicon.lang().connectives
    split = re.compile("|".join(f"({p})" for p, _ in connectives), re.IGNORECASE)
    kinds = [k for _, k in connectives]
    lead = re.compile(r"^(?:" + lexicon.alternation(lexicon.lang().leads) + r"[\s,]*)+", re.IGNORECASE)
    leading = re.compile(r"^(?:" + lexicon.alternation(lexicon.words("leading_connectives")) + r")\s+", re.IGNORECASE)
    return split, kinds, lead, leading


@dataclass(frozen=True)
class Clause:
    text: str
    start: int
    end: int
    sequenced: bool = False  # joined to the previous clause by "then"/"after that": keep the user's order


def protected(text: str) -> str:
    """The text with what no connective may split (quoted strings, routes, fixed phrases) blanked out, at the
    same length."""
    return _mask(text)


def _mask(text: str) -> str:
    """The text with quoted strings and routes replaced by same-length filler, so connectives inside them
    vanish."""
    out = lexicon.pattern("protect").sub(lambda m: "x" * len(m.group(0)), text)
    return _fixed().sub(lambda m: "x" * len(m.group(0)), out)


@lru_cache(maxsize=1)
def _fixed() -> re.Pattern[str]:
    """The fixed phrases of slots.toml ("drag and drop"): one name, whatever connective it holds."""
    from continuous.planner.slots.text import slot_words

    return re.compile(lexicon.alternation(slot_words("fixed_phrases")), re.IGNORECASE)


def _is_intent(piece: str, kind: str) -> bool:
    """Whether a piece of text can stand alone as an intent (it names an object, or acts on one)."""
    body = _patterns()[2].sub("", piece.strip())
    if not body:
        return False
    found_objects = [(c, s, e) for c, s, e in lexicon.find(body, "objects")]
    words = re.findall(r"[\w'.-]+", body.lower())
    if kind == "with":
        # "a table with columns ..." and "an app with dark mode" stay one intent
        heads = [body[s:e].lower() for _, s, e in found_objects]
        if not heads or all(h in lexicon.words("part_nouns") for h in heads):
            return False
        first = words[0] if words else ""
        return first in {"a", "an", "the", "its", "some"} or bool(lexicon.find(words[0], "verbs"))
    if found_objects:
        return True
    found_verbs = lexicon.find(body, "verbs")
    # a verb with something after it ("expose it through the gateway") is an action; a bare verb is not
    return bool(found_verbs) and found_verbs[0][1] == 0 and len(words) >= 2


def _joins_objects(previous: str, piece: str) -> bool:
    words = re.findall(r"[\w'-]+", _patterns()[2].sub("", piece.strip()).lower())
    if not words or lexicon.find(words[0], "verbs"):
        return False
    return bool(lexicon.words("multi_object_verbs") & set(lexicon.verbs(previous)))


def _coordinate(previous: str, piece: str) -> bool:
    """ "indexes for foreign keys and frequently queried columns": a bare noun phrase (no verb, no determiner)
    after a clause that ends in a prepositional phrase continues that phrase."""
    words = re.findall(r"[\w'-]+", piece.strip().lower())
    if not words or words[0] in lexicon.words("determiners"):
        return False
    from continuous.planner.phrases import analyse

    phrases = analyse(previous).phrases
    if not phrases:
        return False
    # "tables for tracking and managing CLI pipelines": a second gerund continues the purpose clause
    if phrases[-1].role == "trailing" and words[0].endswith("ing"):
        return True
    if lexicon.find(words[0], "verbs") and (len(words) > 1 or words[0].endswith("ing")):
        # a bare verb ("... for the versions tab and route") is a noun of the list; a gerund ("with
        # monitoring") is an activity of its own
        return False
    last = phrases[-1]
    # "move a_table, b_table and c_table back": a list of names shares its verb
    if last.role == "head" and lexicon.pattern("identifier").match(piece.strip()):
        return True
    return (last.role in ("place", "subject") and last.prep is not None) or last.role == "trailing"


def split(text: str, fix: Callable[[str], str] | None = None) -> list[Clause]:
    """The intents of a request, in the order written. `fix` corrects typos before a piece is judged ("crete a
    tabel" must still count as an intent); the clauses keep the user's words."""

    def is_intent(piece: str, kind: str) -> bool:
        return _is_intent(fix(piece) if fix else piece, kind)

    text = text.strip()
    if not text:
        return []
    masked = _mask(text)
    pieces: list[tuple[int, int, str]] = []  # start, end, kind of the connective before it
    pos = 0
    kind_before = "start"
    split_re, kinds, _lead, leading = _patterns()
    for m in split_re.finditer(masked):
        if m.start() == 0:
            continue
        kind = next(kinds[i] for i, g in enumerate(m.groups()) if g is not None)
        pieces.append((pos, m.start(), kind_before))
        pos = m.end()
        kind_before = kind
    pieces.append((pos, len(text), kind_before))
    clauses: list[Clause] = []
    for start, end, kind in pieces:
        piece = text[start:end]
        if not piece.strip():
            continue
        if (
            clauses
            and kind != "hard"
            and (
                not is_intent(piece, kind)
                or _joins_objects(clauses[-1].text, piece)
                or _coordinate(clauses[-1].text, piece)
            )
        ):
            prev = clauses[-1]
            clauses[-1] = Clause(text[prev.start : end], prev.start, end, prev.sequenced)
            continue
        if clauses and kind == "hard" and len(piece.split()) < 2:
            prev = clauses[-1]
            clauses[-1] = Clause(text[prev.start : end], prev.start, end, prev.sequenced)
            continue
        clauses.append(Clause(piece, start, end, sequenced=kind == "hard"))
    # a first piece that is no intent ("ok so", "for the hub") belongs to the next one
    if len(clauses) > 1 and not is_intent(clauses[0].text, "soft"):
        first, second = clauses[0], clauses[1]
        clauses[:2] = [Clause(text[first.start : second.end], first.start, second.end, second.sequenced)]
    return [Clause(leading.sub("", c.text.strip(" ,.;")), c.start, c.end, c.sequenced) for c in clauses]

"""The planner's vocabulary, read from `planner/data/language.toml`.

Scenario ids are verb-object phrases (`create-table`, `add-proxy-endpoint`); people say "new db table", "an API
route", "bump the packages". The data file maps those words onto the canonical words of the ids and lists the
small words that glue a request together; this module only compiles and looks them up. Changing what the planner
understands is an edit of the data file, not of this code.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "language.toml"


@dataclass(frozen=True)
class Language:
    verbs: dict[str, tuple[str, ...]]
    objects: dict[str, tuple[str, ...]]
    polarity: dict[str, str]  # canonical verb -> constructive | destructive | restorative
    verb_implies: dict[str, str]
    # a pattern of the request that implies what it acts on: (pattern name, verbs it needs, kind)
    pattern_implies: tuple[tuple[str, frozenset[str], str], ...]
    words: dict[str, frozenset[str]]
    leads: tuple[str, ...]
    trailing_markers: tuple[str, ...]
    naming_words: tuple[str, ...]
    http_methods: tuple[str, ...]
    method_verbs: dict[str, str]
    commit_types: dict[str, str]
    commit_scopes: dict[str, str]
    enum_words: dict[str, tuple[str, ...]]
    vetoes: tuple[tuple[str, str], ...]  # (request polarity, scenario polarity)
    veto_all: dict[str, frozenset[str]]
    commit_odds: dict[str, float]  # commit type → odds multiplier for constructive scenarios
    boost: dict[str, float]  # "head" objects, "commit" types, "question" words that veto everything
    # kinds a request's head may stand for without the head_mismatch penalty: a "script" asked for is a command
    head_kin: dict[str, frozenset[str]]
    # kinds of object that a request naming them only as the place of something unnamed does not ask for
    place_only_veto: frozenset[str]
    place_only_verbs: frozenset[str]  # verbs besides create whose implied object a place rules out ("display")
    ui_place_veto: tuple[frozenset[str], frozenset[str]]  # (database heads, screen places)
    ui_place_words: frozenset[str]  # last words of a place that make it a screen's ("the document list")
    ui_place_preps: frozenset[str]  # prepositions of a place or a subject that put a table into a screen
    place_only_taking: frozenset[str]  # verb polarities that take something out of a place, not the place
    # verbs that change an object that exists: a request with one of them makes no object of its head's kind
    change_verbs: frozenset[str]
    recreated: frozenset[str]  # kinds changed by creating them again (a view)
    changed_parts: frozenset[str]  # words of a part that a change verb renames or retypes ("the rank column")
    needs_word: frozenset[str]  # scenario verbs planned only when the request says them
    needs_object: frozenset[str]  # scenario verbs planned only when the request names one of their objects
    move_verbs: frozenset[str]  # verbs that move an object: moving one into another of its kind makes none
    use_verbs: frozenset[str]  # verbs that use an object: using one makes none of its kind
    use_spares: frozenset[str]  # verbs of scenarios a use leaves: configuring or wiring up what is used
    tidy_verbs: frozenset[str]  # verbs that tidy an object: tidying one adds or sets none
    modifier_only: frozenset[str]  # scenario objects that a modifier of another kind's head does not ask for
    # kinds of object no scenario makes (the `head` vetoes): something added to one of them makes nothing
    into_veto: frozenset[str]
    moved_into_veto: frozenset[str]  # kinds that something moved into makes no scenario's object ("a file")
    # what a head veto's object is: "among" the kinds it lives with, "alone" the kind it is made as
    head_roles: dict[str, dict[str, Any]]
    connectives: tuple[tuple[str, str], ...]
    patterns: dict[str, re.Pattern[str]]

    def word_set(self, name: str) -> frozenset[str]:
        return self.words[name]


def _load(path: Path) -> Language:
    raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    words = raw["words"]
    polarity = {verb: group for group, verbs in raw["polarity"].items() for verb in verbs}
    listed = {k: frozenset(str(w).lower() for w in v) for k, v in words.items() if isinstance(v, list)}
    veto_tables: list[dict[str, Any]] = raw.get("veto", [])

    def veto_words(key: str) -> frozenset[str]:
        """The words every `[[veto]]` table lists under `key`."""
        return frozenset(w for v in veto_tables for w in v.get(key, ()))

    return Language(
        verbs={k: tuple(v) for k, v in raw["verbs"].items()},
        objects={k: tuple(v) for k, v in raw["objects"].items()},
        polarity=polarity,
        verb_implies=dict(raw["verb_implies"]),
        pattern_implies=tuple(
            (name, frozenset(v.get("verbs", ())), str(v["kind"])) for name, v in raw.get("pattern_implies", {}).items()
        ),
        words=listed,
        leads=tuple(sorted(words["leads"], key=len, reverse=True)),
        trailing_markers=tuple(sorted(words["trailing_markers"], key=len, reverse=True)),
        naming_words=tuple(sorted(words["naming_words"], key=len, reverse=True)),
        http_methods=tuple(words["http_methods"]),
        method_verbs=dict(words["method_verbs"]),
        commit_types=dict(raw["commit_types"]),
        commit_scopes=dict(raw["commit_scopes"]),
        enum_words={k: tuple(v) for k, v in raw.get("enum_words", {}).items()},
        vetoes=tuple((v["request"], v["scenario"]) for v in veto_tables if "request" in v),
        boost={k: float(v) for k, v in raw.get("boost", {}).items()},
        head_kin={k: frozenset(v) for k, v in raw.get("head_kin", {}).items()},
        commit_odds={k: float(v) for k, v in raw.get("commit_odds", {}).items()},
        place_only_veto=veto_words("place_only"),
        place_only_verbs=veto_words("place_only_verbs"),
        ui_place_veto=(
            veto_words("ui_place_heads"),
            veto_words("ui_places"),
        ),
        ui_place_words=veto_words("ui_place_words"),
        ui_place_preps=veto_words("ui_place_preps"),
        place_only_taking=veto_words("place_only_taking"),
        change_verbs=veto_words("change"),
        recreated=veto_words("recreated"),
        changed_parts=veto_words("changed_parts"),
        needs_word=veto_words("needs_word"),
        needs_object=veto_words("needs_object"),
        move_verbs=veto_words("move_between"),
        use_verbs=veto_words("use"),
        use_spares=veto_words("use_spares"),
        tidy_verbs=veto_words("tidy"),
        modifier_only=veto_words("modifier_only"),
        into_veto=veto_words("into"),
        moved_into_veto=veto_words("moved_into"),
        head_roles={k: dict(v) for k, v in raw.get("head_roles", {}).items()},
        veto_all={
            key: frozenset(w for v in veto_tables if v.get("scenario") == "*" for w in v.get(key, ()))
            for key in ("head", "commit", "question", "scope", "verb")
        },
        connectives=tuple((c["pattern"], c["kind"]) for c in raw["connectives"]),
        patterns={k: re.compile(v) for k, v in raw["patterns"].items()},
    )


@cache
def lang() -> Language:
    return _load(DATA)


def words(name: str) -> frozenset[str]:
    """A word list of the data file ("stopwords", "pronouns", "not_names", ...)."""
    return lang().words[name]


def pattern(name: str) -> re.Pattern[str]:
    return lang().patterns[name]


def alternation(phrases: tuple[str, ...] | frozenset[str] | list[str]) -> str:
    """A regex alternation of phrases, longest first, whole words only."""
    ordered = sorted(set(phrases), key=len, reverse=True)
    return r"(?<![\w'-])(?:" + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in ordered) + r")(?![\w-])"


# a token: a word, an identifier (sub-command, dhg-hub, snake_case, lint:all), a dotted name (.env.example,
# types.ts)
_TOKEN = re.compile(r"\.?[\w@'-]+(?:[.:][\w@'-]+)*")
_FORMS: dict[str, tuple[dict[tuple[str, ...], tuple[str, ...]], int]] = {}


def _forms(key: str) -> tuple[dict[tuple[str, ...], tuple[str, ...]], int]:
    """Every surface form of the "verbs" or "objects" table as a tuple of tokens, with its canonical words,
    and the longest form's length. Looking a text up is a dictionary probe per token span: a rule base's whole
    vocabulary in one regular expression would cost a fifth of a second to compile in every process."""
    if key not in _FORMS:
        table = lang().verbs if key == "verbs" else lang().objects
        forms: dict[tuple[str, ...], list[str]] = {}
        for canon, surface in table.items():
            for form in surface:
                tokens = tuple(m.group(0) for m in _TOKEN.finditer(form.lower()))
                if tokens:
                    forms.setdefault(tokens, []).append(canon)
        if key == "verbs":
            # "introducing", "added", "bumps": inflections of a verb's first word mean the verb, unless the table
            # lists that word itself
            for tokens, canons in list(forms.items()):
                for inflected in _inflections(tokens[0]):
                    variant = (inflected, *tokens[1:])
                    if variant not in forms:
                        forms[variant] = list(canons)
        longest = max((len(t) for t in forms), default=1)
        _FORMS[key] = ({t: tuple(dict.fromkeys(c)) for t, c in forms.items()}, longest)
    return _FORMS[key]


def _inflections(word: str) -> list[str]:
    if len(word) < 3 or not word.isalpha():
        return []
    stem = word[:-1] if word.endswith("e") else word
    # "seeing", "freeing": a doubled e stays before -ing
    out = [word + "s", word + "es", (word if word.endswith("ee") else stem) + "ing"]
    if word not in words("irregular_verbs"):
        # an irregular verb has no regular past: "seed" is no form of "see"
        out.append(stem + "ed")
    if word.endswith("y") and len(word) > 3:
        out += [word[:-1] + "ies", word[:-1] + "ied"]
    if len(word) <= 4 and word[-1] not in "aeiouwy" and word[-2] in "aeiou":
        out += [word + word[-1] + "ing"]
        if word not in words("irregular_verbs"):
            out.append(word + word[-1] + "ed")  # "add" is fine, "bump" too; "set" → "setting"
    return out


def find(text: str, table: str) -> list[tuple[str, int, int]]:
    """(canonical, start, end) for every phrase of the "verbs" or "objects" table in `text`, left to right,
    the longest phrase at each position; a phrase that belongs to several canonical words yields each."""
    return list(_find(text.lower(), table))


@lru_cache(maxsize=16384)
def _find(low: str, table: str) -> tuple[tuple[str, int, int], ...]:
    forms, longest = _forms(table)
    tokens = [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(low)]
    out: list[tuple[str, int, int]] = []
    i = 0
    while i < len(tokens):
        for n in range(min(longest, len(tokens) - i), 0, -1):
            canons = forms.get(tuple(t for t, _s, _e in tokens[i : i + n]))
            if canons:
                start, end = tokens[i][1], tokens[i + n - 1][2]
                out.extend((c, start, end) for c in canons)
                i += n
                break
        else:
            token, start, end = tokens[i]
            tail = re.split(r"[-_]", token)[-1] if table == "objects" and re.search(r"\w[-_]\w", token) else ""
            # an identifier that ends in a kind names one: feedback-service, audit_table
            out.extend((c, start, end) for c in forms.get((tail,), ()))
            i += 1
    return tuple(out)


def is_object_word(word: str) -> bool:
    return bool(_find(word.lower(), "objects"))


def is_verb_word(word: str, *, inflected: bool = True) -> bool:
    """Whether a word is one of the verbs; `inflected=False` counts only the forms the data file lists (in a name,
    "saved searches" and "reading lists" keep their words)."""
    if inflected:
        return bool(_find(word.lower(), "verbs"))
    return word.lower() in _base_verbs()


@cache
def _base_verbs() -> frozenset[str]:
    return frozenset(f for forms in lang().verbs.values() for f in forms)


def verbs(text: str) -> list[str]:
    return [c for c, _, _ in find(text, "verbs")]


def objects(text: str) -> list[str]:
    return [c for c, _, _ in find(text, "objects")]


def vocabulary() -> set[str]:
    """Every single-word surface form of the verbs and objects."""
    table = lang()
    return {f for t in (table.verbs, table.objects) for forms in t.values() for f in forms if " " not in f}


def expand(text: str) -> str:
    """The text plus the canonical words of the verbs and objects it mentions (for lexical scoring)."""
    extra = [*verbs(text), *objects(text)]
    return text if not extra else text + " " + " ".join(dict.fromkeys(extra))


def canonical_words(scenario_id: str, aliases: tuple[str, ...] = ()) -> tuple[set[str], set[str]]:
    """(verbs, objects) of a scenario, read from its id: `add-proxy-endpoint` → ({create}, {proxy, endpoint}).
    Id words the vocabulary does not know stay as they are; aliases add only verbs (their objects repeat the
    id's)."""
    vs: set[str] = set()
    os_: set[str] = set()
    stop = words("stopwords")
    parts = re.split(r"[-_\s]+", scenario_id.lower())
    for i, part in enumerate(parts):
        vfound = [c for c, _, _ in find(part, "verbs")]
        if i == 0 and vfound:
            vs.update(vfound)
            continue
        ofound = [c for c, _, _ in find(part, "objects")]
        os_.update(ofound or ([part] if part not in stop else []))
    for alias in aliases:
        first = alias.lower().split()
        if first:
            vs.update(c for c, _, _ in find(first[0], "verbs"))
    return vs, os_


def polarity(verb: str | None) -> str | None:
    return lang().polarity.get(verb) if verb else None


def kind_of_scenario(scenario_id: str, aliases: tuple[str, ...] = ()) -> str | None:
    """The head object of a scenario, from its id: the last object word (`add-proxy-endpoint` → endpoint)."""
    parts = re.split(r"[-_\s]+", scenario_id.lower())
    found = [c for p in parts[1:] for c, _, _ in find(p, "objects")]
    return found[-1] if found else None

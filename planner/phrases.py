"""The roles of the phrases of one intent: what is asked for, where it goes, and what is only said about it.

"add a gmail sync pipeline command to list labels" has the main verb add, the head phrase "a gmail sync pipeline
command" whose head object is a command (gmail, sync and pipeline modify it) and a trailing clause "to list
labels" that says what the command does. "store a due date on dev tasks" asks for "a due date" (no object word:
a column, the scenario decides) and places it "on dev tasks". Slot filling and the intent model read these roles,
so a noun in a trailing clause never outweighs the head object, and a name in a place is a parent, not the thing
to create.

A shallow reading, not a grammar: the vocabulary of language.toml tags verbs, objects, prepositions and clause
markers, and the phrase boundaries follow from them. Conventional-commit prefixes ("feat(hub): ...") are read
as a hint of the action and a place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from continuous.planner import language
from continuous.planner.language import alternation, words
from continuous.planner.normalise import normalise

Role = Literal["head", "place", "subject", "trailing", "lead"]
_TOKEN = re.compile(r"[A-Za-z0-9@][\w@./:'-]*[\w]|[A-Za-z0-9]")


@dataclass(frozen=True)
class Phrase:
    role: Role
    start: int
    end: int
    text: str
    prep: str | None = None  # the word that opened it ("to", "in", "for", "so that")
    objects: tuple[tuple[str, int, int], ...] = ()  # canonical objects inside, absolute spans
    head: str | None = None  # canonical object of the phrase's last object noun
    head_start: int = -1
    new: bool = False  # the phrase says its object is new ("a new cli pipeline")

    def words(self) -> list[str]:
        return [w.lower() for w in _TOKEN.findall(self.text)]

    def modifier_text(self) -> str:
        """The words before the head noun ("gmail sync pipeline" of "a gmail sync pipeline command")."""
        if self.head_start < 0:
            return self.text
        return self.text[: self.head_start - self.start]

    def noun_text(self) -> str:
        """The head noun ("pipeline command" of "a gmail sync pipeline command"); empty without one."""
        if self.head is None or self.head_start < 0:
            return ""
        return self.text[self.head_start - self.start :]


@dataclass(frozen=True)
class Analysis:
    text: str
    body_start: int  # where the request proper starts (after a commit prefix and "please", "can you")
    verb: str | None  # canonical main verb
    verb_span: tuple[int, int] | None
    phrases: tuple[Phrase, ...]
    commit_type: str | None = None
    commit_scope: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def head(self) -> Phrase | None:
        return next((p for p in self.phrases if p.role == "head"), None)

    def of_role(self, role: Role) -> list[Phrase]:
        return [p for p in self.phrases if p.role == role]

    def role_at(self, start: int, end: int) -> Phrase | None:
        return next((p for p in self.phrases if p.start <= start and end <= p.end), None)

    def says_new(self) -> bool:
        return any(p.new for p in self.phrases)

    def object_weights(self) -> dict[str, float]:
        """Each canonical object with the weight of its strongest role: head 1, modifier of the head 0.6,
        subject 0.5, place 0.4, trailing clause 0.2."""
        out: dict[str, float] = {}
        for p in self.phrases:
            for canon, start, _end in p.objects:
                if p.role == "head":
                    w = 1.0 if start >= p.head_start else 0.6
                else:
                    w = {"subject": 0.5, "place": 0.4, "trailing": 0.2, "lead": 0.3}[p.role]
                out[canon] = max(out.get(canon, 0.0), w)
        implied = language.lang().verb_implies.get(self.verb or "")
        if implied and not any(w >= 0.6 for w in out.values()) and implied not in out:
            # "show them in the hub" asks for a page; "store a due date on dev tasks" names its table as a place
            out[implied] = 0.8
        if self.commit_scope:
            scope_kind = language.lang().commit_scopes.get(self.commit_scope.lower())
            if scope_kind:
                out[scope_kind] = max(out.get(scope_kind, 0.0), 0.5)
        return out


@lru_cache(maxsize=1)
def _regexes() -> dict[str, re.Pattern[str]]:
    lx = language.lang()
    places = sorted(set(words("container_prepositions")) - set(words("subject_prepositions")))
    return {
        "lead": re.compile(r"^(?:" + alternation(lx.leads) + r"[\s,]*)+", re.IGNORECASE),
        "trailing": re.compile(alternation(lx.trailing_markers), re.IGNORECASE),
        "prep": re.compile(alternation(places + sorted(words("subject_prepositions"))), re.IGNORECASE),
        "lack": re.compile(alternation(sorted(words("lack_verbs"))), re.IGNORECASE),
    }


def _is_verbish(word: str, *, third_person: bool = False) -> bool:
    """Whether a word reads as a verb; with `third_person`, after "that"/"which", "uploads" does too."""
    low = word.lower()
    reading = verb_forms(low) if third_person else _verb_reading(low)
    return (
        language.is_verb_word(low)
        or low in words("data_verbs")
        or low in words("run_verbs")
        or (low.endswith("ing") and len(low) > 5)
        or (low not in words("stopwords") and any(f in _method_verbs() for f in reading))
    )


@lru_cache(maxsize=1)
def _kind_nouns() -> frozenset[str]:
    """Single words that are an object noun as a whole ("page", "tables")."""
    return frozenset(f for forms in language.lang().objects.values() for f in forms if " " not in f)


def _method_verbs() -> dict[str, str]:
    """language.toml's verbs of HTTP methods: what the index is trained on reads no other data file."""
    return language.lang().method_verbs


def _verb_reading(word: str) -> list[str]:
    """The bare verbs a word can only be a form of: "fetches", "updating", "deleted" — not "posts" or "lists",
    which read as plural nouns."""
    forms = verb_forms(word)
    if word.endswith("s") and not re.search(r"(?:ch|sh|x|z|ss)es$", word):
        forms = [f for f in forms if f == word or not word.startswith(f) or len(word) - len(f) > 1]
        forms = [f for f in forms if f != word[:-1]]
    return forms


def verb_forms(word: str) -> list[str]:
    """The word and the bare verbs it may inflect ("updating" → update, "fetches" → fetch, "getting" → get)."""
    out = [word]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            stem = word[: -len(suffix)]
            out += [stem, stem + "e"]
            if len(stem) > 2 and stem[-1] == stem[-2]:
                out.append(stem[:-1])
    if word.endswith("es") and len(word) > 4:
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        out.append(word[:-1])
    return out


@lru_cache(maxsize=8192)
def analyse(text: str) -> Analysis:
    # the commit prefix, gitmoji, ticket ids and tags before the request, and what they say (normalise.py)
    noise = normalise(text)
    notes: list[str] = list(noise.notes())
    commit_type, commit_scope, pos = noise.type, noise.scope, noise.start
    lead = _regexes()["lead"].match(text, pos)
    phrases: list[Phrase] = []
    if lead and lead.end() > pos:
        phrases.append(Phrase("lead", pos, lead.end(), text[pos : lead.end()]))
        pos = lead.end()
    body_start = pos
    # the main verb: the first verb word of the body, if the body starts with it (imperative) or a "lacks" verb
    verb: str | None = None
    verb_span: tuple[int, int] | None = None
    found_verbs = [v for v in language.find(text[pos:], "verbs")]
    first_word = re.match(r"\s*([\w'-]+)", text[pos:])
    if found_verbs and first_word and found_verbs[0][1] == first_word.start(1):
        canon, s, e = found_verbs[0]
        verb, verb_span = canon, (pos + s, pos + e)
    lack = _regexes()["lack"].search(text, pos)
    place_first: tuple[int, int] | None = None
    if verb is None and lack is not None and lack.start() > pos:
        # "the doc_files table needs a language column": what lacks is the place
        place_first = (pos, lack.start())
        verb, verb_span = "create", (lack.start(), lack.end())
        notes.append("lacks-verb: the subject is the place")
    if verb is None and found_verbs:
        canon, s, e = found_verbs[0]
        # a verb later in the text leads only when nothing before it is an object ("please also archive ...")
        if not language.find(text[pos : pos + s], "objects"):
            verb, verb_span = canon, (pos + s, pos + e)
    if commit_type and verb is None:
        hinted = language.lang().commit_types.get(commit_type) or None
        verb = hinted
    start = verb_span[1] if verb_span and verb_span[0] >= pos else pos
    if place_first is None and verb_span is not None and text[pos : verb_span[0]].strip():
        # "the formatter-service has grown too big, please split it up": what comes before the verb is what
        # the request is about
        phrases.append(_phrase("subject", text, pos, verb_span[0], prep=None))
    if place_first is not None:
        phrases.append(_phrase("place", text, *place_first, prep=None))
        start = verb_span[1] if verb_span else start
    phrases.extend(_split(text, start, noise.end))
    if verb_span is not None and text[verb_span[0] : verb_span[1]].lower() in words("result_verbs"):
        phrases = _result_first(phrases)
    if verb is not None and _names_purpose(text, verb_span, body_start, phrases, commit_type):
        # "feat(api): delete topic endpoint", "a delete topic endpoint", "Admin List Endpoint": the method verb
        # says what the new endpoint does, not what the request does to one
        verb = language.lang().commit_types.get(commit_type or "") or "create"
        notes.append("method verb: names what the object does")
    if verb is None:
        head = next((p for p in phrases if p.role == "head"), None)
        if head is not None and head.head is not None:
            # "an analytics app", "admin dashboard for managing user preferences": a bare noun phrase asks for it
            verb = "create"
            notes.append("no verb: a noun phrase asks for the object")
    return Analysis(text, body_start, verb, verb_span, tuple(phrases), commit_type, commit_scope, tuple(notes))


def _names_purpose(
    text: str, span: tuple[int, int] | None, body_start: int, phrases: list[Phrase], commit_type: str | None
) -> bool:
    """Whether the main verb is an HTTP method verb inside the name of the object asked for: the head phrase right
    after it is a bare noun phrase (no determiner) whose head is a kind named by its method (`method_named`), and
    either the verb does not start the request ("a delete topic endpoint", "Admin List Endpoint") or it is an
    HTTP method's own name in a commit that adds ("feat(api): delete topic endpoint"). "Delete the topic
    endpoint", "remove topic endpoint" and "fix: delete topic endpoint" still take one away."""
    if span is None:
        return False
    word = text[span[0] : span[1]].lower()
    if word not in _method_verbs():
        return False
    head = next((p for p in phrases if p.role == "head"), None)
    if head is None or head.head not in words("method_named") or head.start < span[1]:
        return False
    between = text[span[1] : head.start]
    first = re.findall(r"[\w'-]+", head.text)[:1]
    if between.strip() or not first or first[0].lower() in words("determiners"):
        return False
    if text[body_start : span[0]].strip():
        return True
    adds = language.lang().commit_types.get(commit_type or "") == "create"
    return adds and word in {m.lower() for m in language.lang().http_methods}


def _result_first(phrases: list[Phrase]) -> list[Phrase]:
    """ "extract X into a reusable component": the component becomes the head, X what it is made from."""
    target = next((p for p in phrases if p.role == "place" and p.prep in ("into", "to") and p.head), None)
    head = next((p for p in phrases if p.role == "head"), None)
    if target is None or head is None:
        return phrases
    out = []
    for p in phrases:
        if p is head:
            out.append(Phrase("subject", p.start, p.end, p.text, p.prep, p.objects, p.head, p.head_start, p.new))
        elif p is target:
            out.append(Phrase("head", p.start, p.end, p.text, p.prep, p.objects, p.head, p.head_start, p.new))
        else:
            out.append(p)
    return out


def _split(text: str, start: int, end: int) -> list[Phrase]:
    """Phrases of text[start:end]: the head noun phrase, then prepositional phrases, then trailing clauses."""
    out: list[Phrase] = []
    trailing_at = _trailing_start(text, start, end)
    main_end = trailing_at if trailing_at is not None else end
    cuts: list[tuple[int, int, str]] = []
    masked = language.pattern("protect").sub(lambda m: "x" * len(m.group(0)), text)
    for m in _regexes()["prep"].finditer(masked, start, main_end):
        cuts.append((m.start(), m.end(), m.group(0).lower()))
    # prepositions inside a quoted name or an identifier do not cut
    pieces: list[tuple[int, int, str | None]] = []
    cursor, prep = start, None
    determiners = words("determiners")
    for c_start, c_end, word in cuts:
        if c_start < cursor or _inside_token(text, c_start):
            continue
        before = re.findall(r"[\w'-]+", text[cursor:c_start])
        if before and before[-1].lower() in determiners:
            continue  # "an about page": a noun, not a preposition
        after = re.findall(r"[\w'-]+", text[c_end:main_end])
        if _participle_name(before, word, after):
            continue  # "a recorded at column", "created at and updated at columns": a column's name
        if not before and len(after) == 1 and word not in words("phrase_stops") and after[0].lower() in _kind_nouns():
            continue  # "adds about page": a preposition right after the verb before a bare kind is a noun
        pieces.append((cursor, c_start, prep))
        cursor, prep = c_end, word
    pieces.append((cursor, main_end, prep))
    subject_preps = words("subject_prepositions")
    for i, (a, b, p) in enumerate(pieces):
        if not text[a:b].strip():
            continue
        if i == 0 and p is None:
            role: Role = "head"
        elif p in subject_preps:
            role = "subject"
        else:
            role = "place"
        out.append(_phrase(role, text, a, b, prep=p))
    if not any(p.role == "head" for p in out) and out and out[0].role == "subject":
        # "for managing user preferences" alone: the subject is what is talked about
        pass
    if trailing_at is not None:
        marker = _regexes()["trailing"].match(text, trailing_at)
        prep = marker.group(0).lower() if marker else None
        body = marker.end() if marker else trailing_at
        out.append(_phrase("trailing", text, body, end, prep=prep))
    return out


def _slot_words(name: str) -> frozenset[str]:
    """Words of slots.toml that phrase boundaries follow (imported late: the slot filler reads phrases)."""
    from continuous.planner.slots.text import slot_words

    return slot_words(name)


def _participle_name(before: list[str], prep: str, after: list[str]) -> bool:
    """A past participle and a preposition before a part noun or another such name are one name
    ("recorded at column", "deleted by and"), as columns are called (slots.toml participle_prepositions)."""
    if not before or not after or prep not in _slot_words("participle_prepositions"):
        return False
    last = before[-1].lower()
    if not (last.endswith("ed") and len(last) > 4):
        return False
    nxt = after[0].lower()
    return nxt in ("and", "or") or nxt in words("part_nouns") or nxt.rstrip("s") in words("part_nouns")


def _inside_token(text: str, pos: int) -> bool:
    return pos > 0 and (text[pos - 1] in "-_./:'\"`" or text[pos - 1].isalnum())


def _trailing_start(raw: str, start: int, end: int) -> int | None:
    """Where a clause that says what for or why begins: "to list labels", "that runs eslint", "so that ...",
    "for managing X" (a preposition followed by a verb). Quoted text and parentheses never start one."""
    text = language.pattern("protect").sub(lambda m: "x" * len(m.group(0)), raw)
    for m in _regexes()["trailing"].finditer(text, start, end):
        if m.start() == start or _inside_token(text, m.start()):
            continue
        marker = m.group(0).lower()
        nxt = re.match(r"\s*([\w'-]+)", text[m.end() : end])
        following = nxt.group(1) if nxt else ""
        if marker in ("to", "that", "which", "who", "where", "when", "once", "after", "before", "while"):
            after = re.findall(r"[\w'-]+", text[m.end() : end])[:4]
            # "to Link table", "to the tasks table", "to test pipeline" are places; "to manage api keys" (an
            # object word inside a longer name) says what for
            named = following[:1].isupper() or (
                len(after) > 1
                and language.is_object_word(after[1])
                and (len(after) == 2 or after[2].lower() in words("phrase_stops"))
            )
            # an infinitive is bare: "to incoming webhooks", "to archived documents" are places
            participle = re.fullmatch(r"[a-z]{3,}(?:ing|ed)", following) is not None and not language.is_verb_word(
                following, inflected=False
            )
            if marker in ("to",) and (not _is_verbish(following) or named or participle):
                continue  # "to the hub", "to Link table" are places
            determiner_next = len(after) > 1 and after[1].lower() in words("determiners")
            if marker in ("that", "which", "who") and not (
                _is_verbish(following, third_person=True)
                or determiner_next  # "that wraps the pricing logic"
                or following.lower() in ("can", "will", "should", "lets", "is", "are")
            ):
                continue  # "that table" is a noun phrase
            if marker in ("where", "when", "once", "after", "before", "while") and not following:
                continue
        return m.start()
    for m in re.finditer(r"\bfor\s+([\w'-]+ing)\b", text[start:end], re.IGNORECASE):
        if m.group(1).lower() in words("data_verbs") or language.is_verb_word(m.group(1)):
            return start + m.start()
    # "a page listing bookmarks", "a script that runs eslint", "make pnpm lint:all run eslint": a participle or a
    # verb of running right after a noun
    tokens = list(re.finditer(r"[\w:'-]+", text[start:end]))
    runs = words("run_verbs")
    stops = words("phrase_stops")
    for i in range(1, len(tokens)):
        prev, tok = tokens[i - 1], tokens[i]
        word = tok.group(0).lower()
        following = tokens[i + 1].group(0).lower() if i + 1 < len(tokens) else ""
        # "a Tabs component based on Radix", "a page built with the chart kit": a past participle and its
        # preposition after an object noun say what it is made of, not what it is called
        if (
            word.endswith("ed")
            and len(word) > 4
            and following in _slot_words("participle_clause_prepositions")
            and language.is_object_word(prev.group(0).lower())
        ):
            return start + tok.start()
        if not (word in runs or (word.endswith("ing") and len(word) > 5)):
            continue
        if not following or following in stops:
            continue  # "column resizing to tables": a noun, not a clause
        before = prev.group(0).lower()
        qualifier = {c for c, _s, _e in language.find(before, "objects")} <= words("kind_qualifiers")
        if (
            (language.is_object_word(before) and not qualifier)
            or ":" in before
            or (word in runs and re.search(r"[-_:]", before))
        ):
            return start + tok.start()
    return None


_NAMING = re.compile(
    r"\b(?:called|named|titled)\s+\S+|`[^`]*`|\"[^\"]*\"|'[^']*'|\b[a-z][a-z0-9]*(?:[_:-][a-z0-9]+)+\b|\(.*?\)",
    re.IGNORECASE,
)


def _skippable(word: str) -> bool:
    low = word.lower()
    return low in words("stopwords") or low in words("not_names") or low in words("pronouns") or low.isupper()


def _phrase(role: Role, text: str, a: int, b: int, *, prep: str | None) -> Phrase:
    raw = text[a:b]
    a += len(raw) - len(raw.lstrip(" ,;:"))
    b -= len(raw) - len(raw.rstrip(" ,;:.!?"))
    chunk = text[a:b]
    objs = tuple((c, a + s, a + e) for c, s, e in language.find(chunk, "objects"))
    head = None
    head_start = -1
    if role == "head":
        # "tasks page (with activity) and multi-user fixes": the head noun is the first conjunct's
        first = re.split(r"\s+and\s+|\s*,\s*", language.pattern("protect").sub(lambda m: "x" * len(m.group(0)), chunk))[
            0
        ]
        in_first = tuple(o for o in objs if o[2] <= a + len(first))
        if in_first:  # "disabledAt and lastConversionAt columns" keeps its head at the end
            objs, b = in_first, a + len(first)
    if objs and role != "trailing":
        # the head noun of a compound is its last word: "pipeline command" is a command, "column resizing" is
        # no column (a name given after "called" or an identifier does not count)
        last_end = max(e for _, _, e in objs)
        tail = [o for o in objs if o[2] == last_end]
        rest = _NAMING.sub(" ", text[last_end:b])
        content = [w for w in re.findall(r"[A-Za-z][\w'-]*", rest) if not _skippable(w)]
        if not content:
            head, head_start = tail[0][0], tail[0][1]
    new_words = words("new_markers")
    new = any(w.lower() in new_words for w in re.findall(r"[\w'-]+", chunk))
    return Phrase(role, a, b, chunk, prep, objs, head, head_start, new)

"""Names of new objects, parts of objects (a column) and the data a page manages.

A new object's name comes from what the request spells out (`called X`, a quoted name, an identifier in the
phrase asked for), else from the words of that phrase ("a usage page" → usage; "store email messages" →
email_messages), from what the object is for ("a command to list labels" → list-labels), or from the request's
subject ("for managing user preferences"). Names of existing objects of other kinds are places, never names.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from continuous.dsl.model import Param
from continuous.planner import language
from continuous.planner.grounding import Mention, Repo, pascal, to_snake
from continuous.planner.language import words
from continuous.planner.phrases import Analysis, Phrase, analyse
from continuous.planner.slots import Intent
from continuous.planner.slots.text import (
    called,
    colon_identifiers,
    env_var,
    identifiers,
    name_words,
    not_name,
    quoted,
    route,
    slot_words,
)

_WORD = re.compile(r"[A-Za-z][\w'-]*")
_RUNS_OWN = re.compile(r"^(?:pnpm|npm|yarn)(?:\s+run)?\s+(?=[a-z])", re.IGNORECASE)


def _masked(
    text: str, start: int, mentions: list[Mention], keep_kind: str | None, places: frozenset[str] | None = None
) -> str:
    """The text with names of existing objects of other kinds blanked: they are places, not names. With
    `places` (the kinds the scenario puts its object in: a page's app, a command's pipeline), only a name of
    such a kind, or one the request calls by its kind ("the gmail pipeline"), is a place: any other word that
    happens to name something elsewhere ("typecheck", a command of some pipeline) is still a word of the name."""
    out = list(text)
    # a word that names an object of the kind asked for as well ("login" a page and a command) is that object
    own = [(m.start, m.end) for m in mentions if m.kind == keep_kind]
    for m in mentions:
        if m.kind == keep_kind or any(s < m.end and m.start < e for s, e in own):
            continue
        if places is not None and m.kind not in places and not m.next_to_kind:
            continue
        a, b = m.start - start, m.end - start
        if 0 <= a < len(out):
            out[a : min(b, len(out))] = " " * (min(b, len(out)) - a)
    return "".join(out)


def _in(phrase: Phrase | None, spans: list[tuple[str, int, int]]) -> list[str]:
    if phrase is None:
        return []
    return [v for v, s, e in spans if phrase.start <= s and e <= phrase.end + 1]


def name(p: Param, intent: Intent) -> None:
    a = intent.analysis
    head = a.head
    clause = intent.clause
    kind = intent.head_kind
    other_kinds = [m for m in intent.mentions if m.kind != kind]
    taken = {str(v).lower() for v in intent.out.params.values()}
    # "Add modal", "a confirm dialog": an object asked for alone that is made as this kind (`alone` of
    # language.toml [head_roles]) is this object, and its noun is a word of the name
    alone = (
        head is not None
        and head.head is not None
        and language.lang().head_roles.get(head.head, {}).get("alone") == kind
        and not any(_same_kind(c, intent) for c, _s, _e in head.objects)
    )
    in_head = head is not None and kind is not None and (head.head is None or _same_kind(head.head, intent) or alone)
    # 0. an environment variable is named in capitals ("VITE_" is the scope, not the name)
    if p.pattern and p.pattern.startswith("[A-Z]"):
        var = env_var(clause)
        if var and intent.put(p, var.removeprefix("VITE_"), "variable name in the request"):
            return
    # 1. given outright, in the phrase asked for (or anywhere when the clause gives one name); a script's
    # colon name ("lint:all", "`pnpm check:types`") first
    if p.type == "string" and not called(clause):
        for value, _s, _e in colon_identifiers(clause):
            if value not in taken and intent.put(p, value, "name given in the request"):
                return
    given = called(clause)
    ok = [v for v, s, e in given if _phrase_kind_ok(a.role_at(s, e), intent)]
    for value in ok + [v for v, _s, _e in quoted(clause)]:
        # "`pnpm clean`" names the script clean
        value = _RUNS_OWN.sub("", value) if kind == "script" else value
        if value.lower() not in taken and intent.put(p, value, "name given in the request"):
            return
    # 2. an identifier in the phrase asked for that names nothing else
    others = {m.name.lower() for m in other_kinds}
    before_head = None
    if head is not None and head.head_start >= 0:
        # identifiers before the noun, or right after it ("a table dev_notes"); not in what follows
        stop = re.match(r"\s*\S*\s*\S*", clause[head.head_start :])
        before_head = Phrase(head.role, head.start, head.head_start + (stop.end() if stop else 0), head.text)
    scope = before_head or head
    # "orgs and stripe_info tables": of several names listed before a plural noun, only the first is this one
    listed = None
    if head is not None and head.head is not None and head.noun_text() and plural_noun(head.noun_text()):
        modifier = head.modifier_text()
        first = first_of_names(modifier, plural=True)
        listed = first if first.strip() != modifier.strip() else None
    for value in _in(scope, identifiers(clause)) + [v for v, _s, _e in identifiers(clause) if head is None]:
        if value.lower() in others or value.lower() in taken or value.lower() in intent.used:
            continue
        if listed is not None and value not in listed:
            continue
        if value.lower() in slot_words("sort_words"):
            continue  # "into a re-usable service" says what sort of service, not which
        if p.type == "snake" and _compound_among_words(value, head):
            continue  # "an application sign-in-experience table": the words before the noun name it
        if intent.put(p, value, "name given in the request"):
            return
    # 2b. an environment variable named by words: "add sentry dsn to env vars", "launch darkly sdk key env var"
    if _env_like(p) and head is not None and _env_words(p, intent, head):
        return
    # 3. what the object is for, for kinds named by purpose
    if kind in intent.conventions.params.named_by_purpose:
        for ph in a.of_role("trailing"):
            purpose = _purpose(ph)
            if purpose and intent.put(p, purpose, f"what the {kind} does ({purpose!r})", guessed=True):
                return
    # 4. the words before the noun asked for ("a usage page"); a script named after a lifecycle hook of the
    # package manager is that hook, the other words say what it runs ("a prisma postinstall script")
    if head is not None and head.head is not None and in_head and kind == "script":
        hooks = slot_words("lifecycle_scripts")
        ws = re.findall(r"[A-Za-z][\w:-]*", head.modifier_text())
        ordinary = intent.repo.ordinary
        # right before the noun ("a husky prepare script"), or a word no dictionary knows ("prepatch changesets
        # script"); an English word that starts a longer name is part of it ("a prepare release script")
        hook = next(
            (
                w
                for i, w in enumerate(ws)
                if w.lower() in hooks and (i == len(ws) - 1 or ordinary is None or not ordinary(w.lower()))
            ),
            None,
        )
        if hook and intent.put(p, hook.lower(), f"the lifecycle hook {hook!r} before the {kind}", guessed=True):
            return
    if head is not None and head.head is not None and in_head and _head_words(p, intent, head, kind):
        return
    if head is not None and head.head is not None and not in_head:
        # "a stub pricing page UI": the head noun is another kind's, but the phrase names this kind's object
        # before it; the words before that noun name it
        own = [
            (c, a_, b_)
            for c, a_, b_ in head.objects
            if _same_kind(c, intent) and b_ < head.head_start and not clause[b_ : head.head_start].strip()
        ]
        if own:
            c, a_, b_ = own[-1]
            inner = Phrase(head.role, head.start, b_, clause[head.start : b_], head.prep, head.objects, c, a_)
            if _head_words(p, intent, inner, kind):
                return
        elif not any(_same_kind(c, intent) for ph in a.phrases for c, _s, _e in ph.objects) and kind != "app":
            # "a store url backfill script" planned as a command: the request calls the object by the noun of a
            # neighbouring kind, and the words before that noun still name it; a verb alone says what sort ("a fix
            # script for bug storage count")
            said = name_words(head.modifier_text())
            if not all(language.is_verb_word(w, inflected=False) for w in said) and _head_words(p, intent, head, kind):
                return
    # 5. what the phrase is about: "a table for bookmarks", "a service to manage invoices"
    for ph in [*a.of_role("subject"), *a.of_role("trailing")]:
        phrase = _without_own_kind(data_phrase(ph.text), intent)
        if (
            phrase
            and phrase not in others
            and intent.put(p, phrase, f"the subject of this part ({phrase!r})", guessed=True)
        ):
            return
    # 6. a phrase asked for without an object word is itself the name ("store email messages")
    if head is not None and head.head is None and _head_words(p, intent, head, kind):
        return
    subject = intent.subject
    if _env_like(p) and subject and all(w in slot_words("env_kind_words") for w in subject.lower().split()):
        return  # "add an env example": no variable is named
    if subject and subject.lower() not in others and kind not in ("app",):
        intent.put(p, subject, f"derived from the subject {subject!r}", guessed=True)


def _compound_among_words(value: str, before_head: Phrase | None) -> bool:
    """A hyphenated English compound ("sign-in-experience") with other words of the name before the noun of an
    object named in snake_case (a table): no name of such an object is written so, it is one word of the name."""
    if before_head is None or before_head.head is None or "-" not in value or "_" in value or value.lower() != value:
        return False
    said = re.findall(r"[A-Za-z][\w'-]*", before_head.modifier_text())
    others = [
        w
        for w in said
        if w != value
        and not not_name(w)
        and w.lower() not in words("new_markers")
        and w.lower() not in slot_words("sort_words")
    ]
    return bool(others) and value in said


def place_kinds(intent: Intent) -> frozenset[str]:
    """The kinds of object the scenario puts its own object in or next to: the kinds its references name (a
    page's app, a command's pipeline, a column's table)."""
    from continuous.planner.slots import kind_of
    from continuous.planner.slots.refs import target_kinds

    out: set[str] = set()
    for q in intent.scenario.params:
        if kind_of(q, intent) == "reference":
            out.update(k for k in target_kinds(q, intent) if k != intent.head_kind)
    return frozenset(out)


def _env_like(p: Param) -> bool:
    """A parameter whose pattern takes SCREAMING_SNAKE names only: an environment variable's."""
    return bool(p.pattern) and "_" in (p.pattern or "") and "a-z" not in (p.pattern or "")


def _head_words(p: Param, intent: Intent, head: Phrase, kind: str | None) -> bool:
    text = head.modifier_text() if head.head else head.text
    # "add session management as a standalone Sessions page": what follows "as" is the object made
    made_as = re.split(r"\b(?:" + "|".join(sorted(slot_words("made_as"))) + r")\s+", text, flags=re.IGNORECASE)
    if head.head and len(made_as) > 1 and made_as[-1].strip():
        text = made_as[-1]
    text = _without_making(text, lambda w: any(_same_kind(c, intent) for c, _s, _e in language.find(w, "objects")))
    # "a load more component": a phrase of a screen's wording is one word of the name, "more" and all
    for idiom in slot_words("ui_idioms"):
        text = re.sub(rf"(?i)\b{re.escape(idiom)}\b", lambda m: m.group(0).replace(" ", "-"), text)
    # "Integration and InstalledIntegration models", "invoices and payments tables": names joined by "and" are
    # several objects, the first is this one ("drag and drop" is one name)
    noun = head.noun_text()
    text = first_of_names(text, plural=bool(noun) and plural_noun(noun))
    places = place_kinds(intent)
    # a word for another kind of object before the noun is part of the name ("a Webhook model", "an api keys
    # table", "a service status page"), unless it is a kind this object goes in, next to the name of one ("a
    # gmail pipeline command"); "a service account page" is about service accounts, in no service
    kinds = intent.conventions.kinds
    named_places = {m.kind for m in intent.mentions if m.kind in places and head.start <= m.start < head.end}
    keep = frozenset(
        k
        for k in (*kinds.object_kinds, *kinds.head_order, *kinds.parents)
        if k != kind and (k not in places or (k not in named_places and k not in kinds.parents))
    )
    masked = _masked(text, head.start, intent.mentions, kind, places)
    # words of the object's own kind too: below they are dropped unless between two words of the name
    words_ = name_words(masked, keep_aspects=True, keep_kinds=keep | {kind} if kind else keep)
    # "an env variable", "the env example": a word of the object's own kind, or one that only says it is a
    # variable, names nothing
    env_like = _env_like(p)

    def own_kind(w: str) -> bool:
        return any(_same_kind(c, intent) for c, _s, _e in language.find(w.lower(), "objects"))

    def plain(w: str) -> bool:
        return not own_kind(w) and w.lower() not in slot_words("sort_words")

    # ... except between two words of the name: "a platform entity creation limits table"
    words_ = [
        w
        for i, w in enumerate(words_)
        if not (own_kind(w) and not (0 < i < len(words_) - 1 and plain(words_[i - 1]) and plain(words_[i + 1])))
        and not (env_like and w.lower() in slot_words("env_kind_words"))
    ]
    # "persistence logic", "a payload helper script": the words a noun of code or behaviour carries are the name,
    # whatever else they name
    carried = name_words(masked, keep_objects=True)
    if len(carried) > 1 and carried[-1].lower() in slot_words("carrier_nouns"):
        words_ = carried[:-1]
    while len(words_) > 1 and words_[-1].lower() in slot_words("carrier_nouns"):
        words_.pop()
    # a word of the same kind right before the noun is part of the name ("a date picker component")
    same = [
        text[s - head.start : e - head.start].lower()
        for c, s, e in head.objects
        if c == head.head and s < head.head_start
    ]
    if words_ and same and text.lower().rstrip().endswith(same[-1]):
        words_.append(same[-1])
    elif (
        not words_
        and len(same) == 1
        and [
            w
            for w in re.findall(r"[a-z][\w'-]*", text.lower())
            if w not in words("determiners") and w not in words("new_markers")
        ]
        == same
        and kind != "app"
        and same[-1] not in (kind, head.head)  # "table migration" names no table
        and same[-1] not in slot_words("sort_words")  # "a singleton service" is a sort of service
    ):
        words_ = [same[-1]]  # "a dashboard page": a word of the kind, alone before its noun, is the name
    # "a data table component" (the noun "table component"): a word of the noun that names another kind of
    # object is a word of the name (DataTable); where it lives ("a ui component") or its sort ("a shared
    # component") is not
    if head.noun_text():
        noun_words = re.findall(r"[A-Za-z][\w'-]*", head.noun_text())
        sorts_ = set(kinds.parents) | words("kind_qualifiers")
        for w in noun_words[:-1]:
            canons = {kinds.object_words.get(c, c) for c, _s, _e in language.find(w.lower(), "objects")}
            if canons and not any(_same_kind(c, intent) for c in canons) and not canons & sorts_:
                words_.append(w)
    own_noun = any(_same_kind(c, intent) for c, _s, _e in head.objects)
    if head.head is not None and not own_noun and language.lang().head_roles.get(head.head, {}).get("alone") == kind:
        # "a confirm dialog" is the ConfirmDialog component
        words_.extend(w for w in re.findall(r"[A-Za-z][\w'-]*", head.noun_text())[:2])
    views = words_ and all(w.lower() in slot_words("view_words") for w in words_)
    sorts = words_ and all(w.lower() in slot_words("sort_words") for w in words_)
    while not sorts and len(words_) > 1 and words_[0].lower() in slot_words("sort_words"):
        words_ = words_[1:]  # "a standalone drive app": the sort of app says nothing of which one
    if views or sorts:
        # "a details page for invoices": a view of the data the phrase is about; "a backend proxy for segment":
        # the sort of proxy says nothing of which one
        for ph in intent.analysis.of_role("subject"):
            data = data_phrase(re.split(r"[+,;&]|\s(?:and|with)\s", ph.text)[0])
            if data and len(data.split()) <= 2 and not all(w in words("audience") for w in data.split()):
                words_ = [*data.split(), *(words_ if views else [])]
                break
    return bool(
        words_
        and len(words_) <= (5 if p.type == "snake" else 4)
        and intent.put(p, " ".join(words_), f"the words before the {kind or 'object'}", guessed=True)
    )


_LIST = re.compile(r"\s*,\s*(?:and\s+|&\s*)?|\s+(?:and|&|\+)\s+|\s*&\s*")
_IDENT = re.compile(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)*|[a-z]+(?:[_A-Z][a-z0-9]*)+")


def first_of_names(text: str, *, plural: bool = False) -> str:
    """The first of several names listed before one noun: "invoices and payments tables" (a plural noun),
    "Product & ProductVariant" (each an identifier) → the first; "heartbeats and migrate" → heartbeats (a verb
    starts another clause). A singular noun's words stay whole ("a search and filter page"), as does a fixed
    phrase ("drag and drop")."""
    from continuous.planner.decompose import protected

    masked = protected(text)
    cuts = list(_LIST.finditer(masked))
    if not cuts:
        return text
    starts = [0, *(c.end() for c in cuts)]
    ends = [*(c.start() for c in cuts), len(text)]
    parts = [text[a:b].strip() for a, b in zip(starts, ends, strict=True)]
    parts = [p for p in parts if p]
    later_verb = any(
        language.is_verb_word(re.findall(r"[A-Za-z]+", p)[0], inflected=False)
        for p in parts[1:]
        if re.findall(r"[A-Za-z]+", p)
    )
    if len(parts) > 1 and (plural or later_verb or all(_IDENT.fullmatch(p) for p in parts)):
        return text[: cuts[0].start()]
    return text


def plural_noun(noun: str) -> bool:
    from continuous.planner.grounding import singular

    low = noun.strip().lower()
    return bool(low) and singular(low) != low


def _without_making(text: str, own: Callable[[str], bool] | None = None) -> str:
    """ "Profile page creation" → "Profile page": a noun of making after an object's noun is the act, not part
    of the name ("a creation date column" keeps it); a noun of a set of them is the set ("a Toast component
    system")."""
    ws = re.findall(r"[A-Za-z][\w'-]*", text)
    trailing = slot_words("making_nouns") | slot_words("collection_nouns")
    # after the noun of the object itself (`own`: of the kind asked for), not after any object word ("a
    # monitoring system table" is about a monitoring system)
    noun = ws[-2].lower() if len(ws) > 1 else ""
    if len(ws) > 1 and ws[-1].lower() in trailing and (own(noun) if own else language.is_object_word(noun)):
        return text[: text.rindex(ws[-1])]
    return text


def _env_words(p: Param, intent: Intent, head: Phrase) -> bool:
    kind_words = {f for f in language.lang().objects.get("environment", ()) if " " not in f}
    kind_words |= slot_words("env_kind_words")
    ws = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9]*", head.text) if not not_name(w)]
    tails = slot_words("env_name_tails")
    while ws and ws[-1].lower() in kind_words and not (len(ws) > 1 and ws[-1].lower() in tails):
        ws.pop()
    ws = [w for w in ws if w.lower() not in kind_words or w is not ws[0]]
    if not ws or len(ws) > 5 or any(language.is_verb_word(w, inflected=False) for w in ws):
        return False
    return intent.put(p, "_".join(ws).upper(), "the words the request names the variable by", guessed=True)


def _same_kind(canon: str, intent: Intent) -> bool:
    kind = intent.conventions.kinds.object_words.get(canon, canon)
    return kind == intent.head_kind or canon == intent.head_kind


def _without_own_kind(phrase: str | None, intent: Intent) -> str | None:
    """A phrase without a word at its start that only says it is of the kind asked for: "a migration for table
    window-events" makes the table window-events, not table_window_events."""
    if not phrase or intent.head_kind is None:
        return phrase
    conv = intent.conventions
    own = {*conv.kinds.words.get(intent.head_kind, ()), *conv.kind_suffixes.get(intent.head_kind, ())}
    ws = phrase.split()
    while len(ws) > 1 and ws[0] in own:
        ws = ws[1:]
    return " ".join(ws)


def _phrase_kind_ok(ph: Phrase | None, intent: Intent) -> bool:
    """A name given in a place phrase about another kind names that place ("to a pipeline named x")."""
    if ph is None or ph.role != "place" or ph.head is None:
        return True
    return _same_kind(ph.head, intent)


def _purpose(ph: Phrase) -> str | None:
    """ "to list labels" → "list labels": a verb and up to two words of its object."""
    ws = [w for w in _WORD.findall(ph.text)]
    if not ws:
        return None
    verb = ws[0].lower()
    if not (language.is_verb_word(verb) or verb in words("data_verbs") or verb.isalpha()):
        return None
    rest = [w.lower() for w in ws[1:] if not not_name(w)][:2]
    if not rest or len(verb) < 3 or verb in words("stopwords"):
        return None
    return " ".join([verb, *rest])


def part(p: Param, intent: Intent) -> None:
    """A part of another object (a column): labelled ("an archived_at column", "column archived_at"), a qualified
    name ("Program.partnerNetworkEnabledAt"), else the phrase asked for when it names no object of its own
    ("store a due date on dev tasks"); a column may well be called "app" or "status"."""
    if labelled(p, intent) or not p.required:
        return  # an optional part is only ever labelled ("the type of column due_date")
    qualified = re.search(r"\b([A-Za-z][A-Za-z0-9_]*)\.([a-z][A-Za-z0-9_]*)\b", intent.clause)
    is_file = qualified is not None and re.search(r"\.(ts|js|tsx|sql|md|json)\b", qualified.group(0))
    if qualified and not is_file and intent.put(p, qualified.group(2), "the field of a qualified name"):
        return
    head = intent.analysis.head
    if head is None:
        return
    for value, _s, _e in [*quoted(head.text), *identifiers(head.text)]:
        if intent.repo.lookup("table", value) is None and intent.put(p, value, "name given in the request"):
            return
    text = head.modifier_text() if head.head else head.text
    # "a recorded at column": a participle and its preposition are one name (recorded_at)
    preps = "|".join(sorted(slot_words("participle_prepositions")))
    text = re.sub(rf"\b([A-Za-z]{{3,}}ed)\s+({preps})\b", r"\1_\2", text, flags=re.IGNORECASE)
    schema_words = {f for f in language.lang().objects.get(head.head or "", ())} if head.head else set()
    # "disabledAt and lastConversionAt columns": the first of several
    first = re.split(r"\s+and\s+|,|/|\+", _masked(text, head.start, intent.mentions, None))[0]
    words_ = name_words(first, frozenset(schema_words) | slot_words("part_qualifiers"), keep_objects=True)
    # "a locale property", "a status attribute": the word after the name only says it is a part
    while len(words_) > 1 and words_[-1].lower() in slot_words("part_kind_words"):
        words_.pop()
    while len(words_) > 1 and words_[0].lower() in slot_words("part_kind_words"):
        words_.pop(0)  # "add field description to layout"
    if words_ and len(words_) <= 3:
        intent.put(p, " ".join(words_), f"the {p.name} the request asks for", guessed=True)
        return
    if head.head is not None and not words_:
        # "a column for storing the git branch": what the part holds names it
        owners = {to_snake(str(v)) for k, v in intent.out.params.items() if k != p.name}
        for ph in [*intent.analysis.of_role("subject"), *intent.analysis.of_role("trailing")]:
            phrase = data_phrase(ph.text, require_verb=True)
            if phrase is None and ph.role == "subject" and any(q.role == "place" for q in intent.analysis.phrases):
                # "a column for the stripe customer id to profiles": the place is the table, this what it holds
                phrase = data_phrase(ph.text)
                if phrase is not None and to_snake(phrase) in owners:
                    phrase = None
            if phrase and len(phrase.split()) <= 3 and intent.put(p, phrase, f"what the {p.name} holds", guessed=True):
                return


def labelled(p: Param, intent: Intent) -> bool:
    """A parameter the text labels with its own name: "an archived_at column", "column archived_at"."""
    label = re.escape(p.name.replace("_", " "))
    values = _choice_words(intent)
    before = rf"(?<![\w-])[\"'`]?([A-Za-z][\w-]*)[\"'`]?\s+{label}s?\b"
    for pat in (before, rf"\b{label}s?\s+(?:called\s+|named\s+)?[\"'`]?([A-Za-z][\w-]*)"):
        m = re.search(pat, intent.clause, re.IGNORECASE)
        ok = (
            m is not None
            and not not_name(m.group(1))
            and not language.is_verb_word(m.group(1), inflected=False)
            and m.group(1).lower() not in values  # "a jsonb column" says its type, not its name
            # "add X to the env example": a word that says it is a variable's file is no value of it
            and m.group(1).lower() not in slot_words("env_kind_words")
            and not (pat is before and _name_word_before(intent.clause[: m.start()], values))
        )
        value = m.group(1) if m is not None else ""
        if ok and m is not None and pat is before:
            # "a user is suspended column": a yes/no column's name starts with its "is"
            flag = re.search(r"\b([A-Za-z]+)\s+$", intent.clause[: m.start(1)])
            if flag and flag.group(1).lower() in slot_words("boolean_prefixes"):
                value = f"{flag.group(1).lower()}_{value}"
        if ok and m is not None and intent.put(p, value, f"the word next to {p.name!r}"):
            return True
    return False


def _name_word_before(text: str, values: frozenset[str]) -> bool:
    """Whether the word before a labelled name is a word of the name too ("a billing email column" is no
    "email" column): not a determiner, a marker of newness, a verb or a word that chooses a type."""
    m = re.search(r"([A-Za-z][\w'-]*)[\"'`]?\s*$", text)
    if m is None:
        return False
    w = m.group(1).lower()
    return not (
        not_name(w)
        or w in words("new_markers")
        or w in values
        or language.is_verb_word(w)
        or language.is_object_word(w)
        or w in slot_words("part_kind_words")
        or w in slot_words("part_qualifiers")
    )


def _choice_words(intent: Intent) -> frozenset[str]:
    """The words that choose a value of one of the scenario's enum parameters ("jsonb", "timestamp")."""
    from continuous.planner.slots.values import enum_words

    synonyms = enum_words()
    out: set[str] = set()
    for q in intent.scenario.params:
        for choice in q.choices:
            out.add(choice.lower())
            out.update(w.lower() for w in synonyms.get(choice.lower(), ()) if " " not in w and "_" not in w)
    return frozenset(out)


def entity(p: Param, intent: Intent) -> None:
    """The data a page manages, as a table name: an existing table the intent names, else the words after a verb
    of managing data ("for managing user preferences", "a page listing bookmarks"). Nothing when the request
    does not imply managing data ("an about page"): the page then stands alone."""
    repo = intent.repo
    for m in intent.mentions:
        if m.kind == "table":
            intent.put(p, m.name, f"existing table {m.name} named in the request")
            return
        if m.kind == "service" and repo.lookup("table", to_snake(m.name)):
            table = repo.lookup("table", to_snake(m.name))
            intent.put(p, table, f"existing table {table} named in the request")
            return
    places = {n.lower() for kind, names in repo.by_kind.items() if kind not in ("table", "service") for n in names}
    for ph in [*intent.analysis.of_role("trailing"), *intent.analysis.of_role("subject")]:
        # data the page manages is what a verb of managing names ("for managing X", "listing X"); "a page for
        # expired links" is only about them
        phrase = data_phrase(ph.text, require_verb=True, data_only=True)
        if not phrase or phrase in places or all(w in words("audience") for w in phrase.split()):
            continue
        existing = repo.lookup("table", phrase)
        if existing:
            intent.put(p, existing, f"existing table {existing} the request manages")
        else:
            intent.put(p, phrase, f"the data the request manages ({phrase!r})", guessed=True)
        return
    # "display the audit entries in the hub": the main verb manages data and what it acts on names no screen
    a = intent.analysis
    head = a.head
    verb = intent.clause[a.verb_span[0] : a.verb_span[1]].lower() if a.verb_span else ""
    if head is None or verb not in words("data_verbs") or (head.head is not None and _same_kind(head.head, intent)):
        return
    phrase = data_phrase(head.text)
    if phrase and phrase not in places and not all(w in words("audience") for w in phrase.split()):
        existing = repo.lookup("table", phrase)
        if existing:
            intent.put(p, existing, f"existing table {existing} the request manages")
        elif head.head is None:
            intent.put(p, phrase, f"the data the request {verb}s ({phrase!r})", guessed=True)


def data_phrase(text: str, *, require_verb: bool = False, data_only: bool = False) -> str | None:
    """Up to three name-like words after a verb of managing data: "managing user preferences" → user
    preferences, "admins can edit feature flags" → feature flags. An object noun right before a name word is
    part of the name ("api keys"); a possessor is not ("our team's bookmarks")."""
    tokens = _WORD.findall(text)
    verb_at = next(
        (
            k
            for k, t in enumerate(tokens[:5])
            # "for saved searches": a participle before a noun is part of the name
            if not (t.lower().endswith("ed") and k + 1 < len(tokens) and not not_name(tokens[k + 1]))
            and (
                t.lower() in words("data_verbs")
                or t.lower() in words("subject_verbs")
                or (language.is_verb_word(t) and not not_name(t))
                or (k == 0 and _method_verb(t))
            )
        ),
        None,
    )
    if verb_at is None and require_verb:
        return None
    if require_verb and verb_at is not None:
        before = [t for t in tokens[:verb_at] if not not_name(t) and t.lower() not in words("audience")]
        if before:
            return None  # "for promotions + edit sliders": the verb starts another clause
    if data_only and verb_at is not None and tokens[verb_at].lower() not in words("data_verbs"):
        return None  # "a settings page to configure the dash": configuring manages no data
    i = verb_at + 1 if verb_at is not None else 0
    while i < len(tokens) and not_name(tokens[i]) and tokens[i].lower() not in words("pronouns"):
        i += 1
    taken: list[str] = []
    stops = words("phrase_stops")
    for j in range(i, len(tokens)):
        raw = tokens[j]
        low = raw.lower().strip("'")
        if low.endswith("'s"):
            continue
        if low in stops or low in words("pronouns") or (taken and low in slot_words("quantifiers")):
            break  # "to store api usage per user": what is kept ends where "per" starts
        if language.is_object_word(low):
            nxt = tokens[j + 1].lower() if j + 1 < len(tokens) else ""
            if nxt and not language.is_object_word(nxt) and not not_name(nxt) and nxt not in stops:
                taken.append(low)
                continue
            break
        if not_name(low) or language.is_verb_word(low, inflected=False):
            if taken:
                break
            continue
        taken.append(low)
        if len(taken) == 3:
            break
    # "to handle the search logic": the data is what the logic is of
    carriers = slot_words("carrier_nouns")
    while len(taken) > 1 and taken[-1] in carriers:
        taken.pop()
    if taken and all(t in carriers for t in taken):
        # "UI config logic": the words a noun of code or behaviour carries are the name, whatever else they are
        at = next(k for k in range(i, len(tokens)) if tokens[k].lower() == taken[0])
        carried: list[str] = []
        for raw in reversed(tokens[:at]):
            if not_name(raw) or raw.lower() in words("pronouns") or len(carried) == 2:
                break
            carried.insert(0, raw.lower())
        if carried:
            return " ".join(carried)
    return " ".join(taken) or None


def _method_verb(word: str) -> bool:
    """A verb of what an endpoint does, in any inflection ("fetches", "uploading")."""
    from continuous.planner.slots.text import method_from_verb

    return word.lower() not in words("stopwords") and method_from_verb(word) is not None


def finish(intent: Intent) -> None:
    """A page that manages data is named after it unless the request named the page itself."""
    out = intent.out
    scenario = intent.scenario
    name_param = scenario.param("name")
    if "entity" not in out.params or name_param is None:
        return
    entity_value = str(out.params["entity"])
    base = entity_value
    domain, _, rest = entity_value.partition("_")
    if rest and domain in intent.conventions.table_domains and domain not in intent.request.lower().split():
        base = rest  # a table's domain the request does not say is not part of the page's name
    source = out.sources.get("name")
    places = {intent.clause[m.start : m.end].lower() for m in intent.mentions if m.kind != intent.head_kind}
    if (
        "name" in out.params
        and source is not None
        and (
            (source.guessed and not source.source.startswith("the words before"))
            or to_snake(str(out.params["name"])) in (entity_value, base)
            or str(out.params["name"]).lower() in places
        )
    ):
        del out.params["name"]
        del out.sources["name"]
    if "name" not in out.params:
        intent.put(name_param, pascal(base), f"the data the page manages ({entity_value})", guessed=True)


def _first_of_list(text: str) -> str:
    """The first of several names joined by commas or "and"; a fixed phrase ("drag and drop") is one."""
    from continuous.planner.decompose import protected

    cut = re.search(r"\s*,\s*|\s+and\s+", protected(text))
    return text[: cut.start()] if cut else text


def subject(request: str, repo: Repo, fix: Callable[[str], str] | None = None) -> str | None:
    """What a whole request is about, found once so every step of a plan talks about the same thing: a name
    given outright, else the data after "for"/"to manage"/"storing", else the words before the object asked
    for, else the last segment of a route."""
    existing = repo.all_names()
    # a commit prefix's scope ("fix(db-mongodb): ...") says where the change is, not what it is about
    body = request[analyse(request).body_start :]
    for value, _s, _e in [*called(body), *quoted(body)]:
        if value.lower() not in existing:
            return value
    for value, _s, _e in identifiers(body):
        if value.lower() not in existing and not repo.mentioned(value):
            return value
    from continuous.planner.decompose import split

    # what each intent is about or for ("crete a tabel for bookmarks and show them" is about bookmarks)
    clauses = split(request, fix=fix)
    analyses: list[Analysis] = [analyse(fix(c.text) if fix else c.text) for c in clauses] or [analyse(request)]
    for ph in [p for a_ in analyses for p in [*a_.of_role("trailing"), *a_.of_role("subject")]]:
        phrase = data_phrase(ph.text)
        if phrase and phrase not in existing and not all(w in words("audience") for w in phrase.split()):
            return phrase
    a: Analysis = analyse(request)
    head = a.head
    if head is not None:
        # "a usage page" is about usage; "store user preferences" (no object word) about user preferences
        text = _without_making(head.modifier_text() if head.head is not None else head.text)
        first = _first_of_list(_masked(text, head.start, repo.mentioned(request), None))
        ws = name_words(first)
        if ws and len(ws) <= 3:
            return " ".join(ws)
    r = route(request)
    if r:
        noise = words("route_noise")
        segs = [s for s in r.split("/") if s and s not in noise and not s.startswith((":", "{"))]
        if segs:
            return segs[-1]
    return None

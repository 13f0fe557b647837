"""References: parameters that name an object the repository holds (the app a page goes in, the pipeline of a
command, the table a column goes on, the service to deprecate).

An existing object the intent mentions wins, preferring the phrase role the parameter plays: a parent (app,
pipeline, proxy) is where something goes ("to the hub", "in the gmail pipeline"); the object a non-creating
scenario acts on is the head of the request ("deprecate the formatter service"). A name that matches nothing is a
new object only where the request says so ("to a new cli pipeline named housekeeping"); otherwise the parameter
stays missing, with the existing objects of similar name as candidates.
"""

from __future__ import annotations

import re

from continuous.dsl.model import Param
from continuous.planner import language
from continuous.planner.grounding import Mention, to_kebab, to_snake
from continuous.planner.phrases import Phrase
from continuous.planner.slots import Intent
from continuous.planner.slots.names import first_of_names, plural_noun
from continuous.planner.slots.text import (
    called,
    camel_identifiers,
    identifiers,
    name_words,
    not_name,
    quoted,
    slot_map,
    slot_table,
    slot_words,
)

_ROLE_ORDER = {
    "parent": ("place", "head", "subject", "trailing", "lead"),
    "object": ("head", "subject", "place", "lead", "trailing"),
}


def target_kinds(p: Param, intent: Intent) -> tuple[str, ...]:
    conv = intent.conventions
    if p.name in intent.dep_kinds and not (p.name in conv.params.names and intent.creates):
        return (intent.dep_kinds[p.name],)
    ref = conv.params.references.get(p.name.lower())
    if ref and ref != "@scenario":
        return (ref,)
    if p.name.lower() in conv.params.names:
        return (intent.head_kind,) if intent.head_kind else ()
    if intent.head_kind in conv.kinds.object_kinds:
        return (intent.head_kind,)
    # add-tests' target, setup-monitoring's target: whatever kind of object the request names
    return tuple(k for k in conv.kinds.object_kinds if k not in ("table", "command", "script", "package", "view"))


def _role(m: Mention, intent: Intent) -> str:
    phrase = intent.analysis.role_at(m.start, m.end)
    return phrase.role if phrase is not None else "lead"


def _ranked(mentions: list[Mention], kinds: tuple[str, ...], intent: Intent, order: tuple[str, ...]) -> list[Mention]:
    wanted = [m for m in mentions if m.kind in kinds]
    return sorted(
        wanted,
        key=lambda m: (order.index(_role(m, intent)) if _role(m, intent) in order else 9, -m.strength, m.start),
    )


def reference(p: Param, intent: Intent) -> None:
    kinds = target_kinds(p, intent)
    if not kinds:
        return
    name = p.name.lower()
    if name in ("source", "target") and intent.scenario.param("source") and intent.scenario.param("target"):
        _pair(p, kinds, intent)
        return
    if kinds == ("package",):
        _package(p, intent)
        return
    if name in ("proxy", "service") and intent.scenario.param("entity") is not None:
        _backing(p, name, intent)
        return
    # a reference to another kind of object than the scenario acts on is where it acts (a column's table, a
    # page's app); one of the same kind is what it acts on (the service to deprecate)
    parent = len(kinds) == 1 and kinds[0] != intent.head_kind
    order = _ROLE_ORDER["parent" if parent else "object"]
    taken = {str(v).lower() for k, v in intent.out.params.items()}
    # a commit's scope ("feat(dev-tasks): ...") says where only when the request itself does not (below)
    mentions = [m for m in intent.mentions if m.start >= intent.analysis.body_start]
    if parent and _names_part(intent, kinds[0]) and any(ph.role == "place" for ph in intent.analysis.phrases):
        # "add mime_type column to sources_google": the head names the part (a column called like the
        # sys_mime_types table), the place names what it is part of
        head = intent.analysis.head
        assert head is not None
        inside = {m.name for m in mentions if head.start <= m.start and m.end <= head.end}
        mentions = [m for m in mentions if m.name not in inside]
        taken |= {n.lower() for n in inside}
    for m in _ranked(mentions, kinds, intent, order):
        if m.name.lower() not in taken and intent.put(p, m.name, f"existing {m.kind} named in the request"):
            return
    if parent:
        body = _body_start(intent.request)
        request_mentions = [m for m in intent.request_mentions if m.start >= body]
        for m in _ranked(request_mentions, kinds, intent, order):
            if m.name.lower() not in taken and intent.put(p, m.name, f"existing {m.kind} named in the request"):
                return
    if not p.required:
        return  # an optional reference is only ever an object the repository holds, never a guess
    if parent and _qualified_owner(p, kinds[0], intent):
        return
    if parent and _owner_before_part(p, kinds[0], intent):
        return
    _named_but_unknown(p, kinds, intent, parent)
    if parent and p.name not in intent.out.params:
        _commit_scope(p, kinds[0], intent)


def _body_start(request: str) -> int:
    from continuous.planner.phrases import analyse

    return analyse(request).body_start


def _commit_scope(p: Param, kind: str, intent: Intent) -> bool:
    """ "feat(hub): add an about page": a commit's scope that is the name of an existing object of the kind
    the parameter needs is where the change goes (a scope that names nothing, "api" or "ui", says nothing)."""
    from continuous.planner.phrases import analyse

    scope = analyse(intent.request).commit_scope
    if not scope:
        return False
    found = intent.repo.lookup(kind, scope)
    return bool(found) and intent.put(p, found, f"existing {kind} named by the commit's scope ({scope!r})")


def _qualified_owner(p: Param, kind: str, intent: Intent) -> bool:
    """ "Add `Program.partnerNetworkEnabledAt` field": the model of a qualified field name is its table."""
    if kind != "table":
        return False
    m = re.search(r"(?<![\w./])([A-Z][A-Za-z0-9]*)\.([a-z][A-Za-z0-9_]*)\b", intent.clause)
    if m is None or re.search(r"\.(ts|js|tsx|jsx|sql|md|json|env)\b", m.group(0)):
        return False
    value = to_snake(m.group(1))
    existing = intent.repo.lookup(kind, value) or intent.repo.lookup(kind, value + "s")
    if existing:
        return intent.put(p, existing, f"existing {kind} of a qualified field name")
    if intent.put(p, value, f"the {kind} of a qualified field name (not found in the repository)", guessed=True):
        intent.out.not_found.append((kind, value))
        return True
    return False


def _owner_before_part(p: Param, kind: str, intent: Intent) -> bool:
    """ "add user logto_data column", "Add User `DateTime CreatedAt` column", "add user is suspended column": with
    no place in the request, a plain word before the name of the part given outright is what it is part of."""
    head = intent.analysis.head
    if head is None or head.head is None or any(ph.role == "place" for ph in intent.analysis.phrases):
        return False
    if not _names_part(intent, kind):
        return False
    modifier = head.modifier_text()
    flags = "|".join(sorted(slot_words("boolean_prefixes")))
    given = [s for _v, s, _e in [*quoted(modifier), *identifiers(modifier), *camel_identifiers(modifier)]]
    given += [m.start() for m in re.finditer(rf"\b(?:{flags})\s+[a-z]", modifier, re.IGNORECASE)]
    if not given:
        return False
    before = re.findall(r"[A-Za-z][\w'-]*", modifier[: min(given)])
    owner = [
        w
        for w in before
        if w.lower() not in language.words("determiners") and w.lower() not in language.words("new_markers")
    ]
    if not owner or len(owner) > 2 or owner != name_words(" ".join(owner)):
        return False
    if any(language.is_verb_word(w.lower(), inflected=False) or language.is_object_word(w.lower()) for w in owner):
        return False
    value = " ".join(owner)
    existing = intent.repo.lookup(kind, value) or _covering(intent, kind, value)
    if existing:
        return intent.put(p, existing, f"existing {kind} named before the part")
    if intent.put(p, value, f"the {kind} named before the part (not found in the repository)", guessed=True):
        intent.out.not_found.append((kind, str(intent.out.params[p.name])))
        return True
    return False


def _pair(p: Param, kinds: tuple[str, ...], intent: Intent) -> None:
    """source and target of a merge: the first and the second object of the kind the request names."""
    found: list[str] = []
    for m in sorted(intent.mentions, key=lambda m: m.start):
        if m.kind in kinds and m.name not in found:
            found.append(m.name)
    if len(found) < 2 and not intent.grounded:
        found += [v for v, _s, _e in identifiers(intent.clause) if v not in found]
    index = 0 if p.name.lower() == "source" else 1
    if len(found) > index:
        which = "first" if index == 0 else "second"
        intent.put(p, found[index], f"the {which} {kinds[0]} the request names")


def _package(p: Param, intent: Intent) -> None:
    """An npm package: one the workspace depends on, by any spelling ("react hot toast"), else the name the
    request gives a new one."""
    head = intent.analysis.head
    generic = slot_words("package_kind_words") | language.words("determiners")
    # a commit prefix ("chore(deps): nextjs upgrade to 14.2.30") names no package
    body = intent.clause[intent.analysis.body_start :]
    scope = head.text if head is not None else body
    if head is not None and all(w in generic for w in re.findall(r"[a-z]+", head.text.lower())):
        scope = body  # "Bump version of lodash to 4.17.21": the head says only that it is a version
    # "bump got from 10.7.0 to 11.8.5", "update dependency markdownlint-cli to ^0.33.0": a bot's line names the
    # package exactly as npm does (highlight.js, sqlite3)
    bot = re.search(
        r"\b(?:bump|bumps|bumped|update|updates|upgrade|upgrades)\s+(?:dependency\s+)?"
        r"(?P<pkg>@?[a-z0-9][\w.-]*(?:/[\w.-]+)?)\s+(?:from\s+\S+\s+)?to\s+v?\^?~?\d",
        intent.clause,
        re.IGNORECASE,
    )
    pkg = bot.group("pkg") if bot else ""
    # "next.js", "tailwind": a product's own spelling of the npm package it is published as
    spelt = slot_map("package_spellings")
    low_scope = scope.lower()
    for written, npm in sorted(spelt.items(), key=lambda kv: -len(kv[0])):
        hit = re.search(r"(?<![\w@/.-])" + re.escape(written) + r"(?![\w/-]|\.\w)", low_scope)
        if hit is None or intent.repo.lookup("package", written) is not None:
            continue
        # the whole name, not a word of a longer one ("the nextjs sentry sdk" is no next)
        after = re.match(r"\W*([a-z]+)?", low_scope[hit.end() :])
        nxt = after.group(1) if after else None
        # "nextjs upgrade to 14": a verb after the name ends it
        if (
            nxt
            and nxt not in generic
            and nxt not in ("in", "on", "for", "with", "v")
            and not language.is_verb_word(nxt)
        ):
            continue
        if intent.put(p, intent.repo.lookup("package", npm) or npm, f"the npm package {written!r} is published as"):
            return
    if (
        bot
        and pkg.lower() not in generic
        and pkg == pkg.lower()
        and intent.put(p, pkg, "package name given in the request")
    ):
        return
    # a scoped name as written ("@sentry/nextjs") is the package, whether or not the workspace has it yet
    m = re.search(r"(?<![\w/])(@[a-z0-9][\w.-]*/[a-z0-9][\w.-]*[a-z0-9])", scope, re.IGNORECASE)
    if m and intent.put(p, m.group(1).lower(), "package name given in the request"):
        return
    # several words of one package the workspace depends on ("Supabase JS client" → @supabase/supabase-js)
    found = _package_by_words(scope, intent)
    if found and intent.put(p, found, "package the workspace depends on"):
        return
    for m in intent.mentions:
        if m.kind == "package" and intent.put(p, m.name, "package the workspace depends on"):
            return
    # "Next.js" is the package next (unless the workspace has a package called that)
    for m in re.finditer(r"\b([A-Za-z][\w-]*)\.js\b", scope):
        whole = m.group(0).lower()
        name = intent.repo.lookup("package", whole) or m.group(1).lower()
        if intent.put(p, name, "package name given in the request"):
            return
    # a single plain word counts as a package name when the request is about packages
    words = re.findall(r"@?[\w./-]+", scope)
    for i in range(len(words)):
        for n in (3, 2, 1):
            chunk = " ".join(words[i : i + n])
            found = intent.repo.lookup("package", chunk) or intent.repo.lookup("package", to_kebab(chunk))
            if found and intent.put(p, found, "package the workspace depends on"):
                return
    for value, _s, _e in [*quoted(scope), *called(scope)]:
        if intent.put(p, value, "package name given in the request"):
            return
    m = re.search(r"(@[a-z0-9][\w.-]*/[a-z0-9][\w.-]*)", scope)
    if m and intent.put(p, m.group(1), "package name given in the request"):
        return
    # versions ("from 0.6.0 to 0.7.0") and the verb ("upgrade to next 15") are no part of the name, nor are
    # words that only say it is a package ("the openai sdk")
    # ("yahoo-finance2" keeps its digit: a digit inside a name starts no version)
    cleaned = re.sub(r"(?:@|\bv|\b(?:to|from)\s+v?|(?<![\w-]))\^?~?\d[\w.^~*-]*", " ", scope)
    # "prisma and next", "oas-normalize and use promise-based api": several packages, or another clause; the
    # first names the package
    cleaned = re.split(r"\s+(?:and|&|\+)\s+|,|;", cleaned)[0]
    # a hyphenated name is one name, whatever its words also are ("pg-gateway" is no gateway)
    plain = set(name_words(cleaned))
    words_left = [
        w
        for w in re.findall(r"[A-Za-z][\w'-]*", cleaned)
        if (w in plain or re.fullmatch(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)+", w)) and not language.is_verb_word(w.lower())
    ]
    while len(words_left) > 1 and words_left[-1].lower() in slot_words("package_kind_words"):
        words_left.pop()
    if words_left and len(words_left) <= 3 and words_left[0].lower() not in slot_words("package_kind_words"):
        intent.put(p, "-".join(words_left).lower(), "the words the request names the package by", guessed=True)


def _package_by_words(scope: str, intent: Intent) -> str | None:
    """The one workspace package whose name has two or more consecutive words of the request, the longest run
    first: "the Supabase JS client" names @supabase/supabase-js, not the supabase CLI."""
    kind_words = slot_words("package_kind_words")
    tokens = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9]*", scope)]
    # a workspace folder ("apps/dhg-hub") is no npm package
    names = [n for n in sorted(intent.repo.names("package")) if n.startswith("@") or "/" not in n]
    packages = [(n, set(re.findall(r"[a-z0-9]+", n.lower()))) for n in names]
    for n in (3, 2):
        for i in range(len(tokens) - n + 1):
            chunk = tokens[i : i + n]
            if all(w in kind_words for w in chunk[1:]) or chunk[0] in kind_words:
                continue
            hits = [name for name, ws in packages if set(chunk) <= ws]
            if len(hits) == 1:
                return hits[0]
    return None


def _named_but_unknown(p: Param, kinds: tuple[str, ...], intent: Intent, parent: bool) -> None:
    """A name the request gives that no existing object has: new where the request says so, else a missing
    parameter with the existing objects of similar name as candidates."""
    kind = kinds[0]
    if len(kinds) > 1:
        _any_kind(p, intent)
        return
    kind_words = set(intent.repo.kind_words(kind))
    if parent:
        # where something goes: a place or what it is for, or the head when it names the kind ("lock down the
        # doc_files table")
        # "add an access_code column to teams": after a head that names a part of another kind, a bare place
        # names the whole
        part_of = _names_part(intent, kind)
        # "Enable RLS on notifications": a thing that belongs to a table, and the bare place it is on
        head = intent.analysis.head
        belongs = head is not None and bool(set(head.words()) & slot_words("table_part_words"))
        preps = slot_words("table_part_prepositions")
        phrases = [
            ph
            for ph in intent.analysis.phrases
            if ph.role in ("place", "subject")
            and (
                _names_kind(ph, kind_words)
                or not intent.grounded
                or (part_of and ph.role in ("place", "subject") and _bare(ph, intent, kind))
                or (belongs and ph.role == "place" and ph.prep in preps and _bare(ph, intent, kind))
                # "an RLS policy for quiz set quizzes access": the words before the policy's own noun name the
                # table it is on
                or (
                    belongs
                    and ph.role == "subject"
                    and ph.head is not None
                    and intent.conventions.kinds.object_words.get(ph.head, ph.head) == intent.head_kind
                    and _names_data(ph.modifier_text(), intent)
                )
            )
        ] + [
            ph
            for ph in intent.analysis.of_role("head")
            if _names_kind(ph, kind_words)
            and ph.head == kind
            # "a stub pricing page UI" asks for a page: its "UI" is no app
            and not any(intent.conventions.kinds.object_words.get(c, c) == intent.head_kind for c, _a, _b in ph.objects)
        ]
        # "a column for the stripe customer id to profiles": where it goes names the whole before what it is for
        phrases.sort(key=lambda ph: ph.role != "place")
    else:
        part_of = _names_part(intent, kind)
        phrases = [
            ph
            for ph in intent.analysis.phrases
            if ph.role in ("head", "subject") or (part_of and ph.role == "place" and ph.head is None)
        ]
        if part_of:
            # the column's table is where it goes, not the column ("add an access_code column to teams")
            phrases = [ph for ph in phrases if ph.role != "head"] or phrases
    quantifiers = slot_words("quantifiers")
    for ph in phrases:
        if (ph.prep or "") in quantifiers or any(w in quantifiers for w in ph.words()):
            continue  # "for all user-data tables", "per table": no one object
        if parent and _a_sort_of_several(ph, intent, kind_words):
            return  # "enable RLS on missing tables", "secure backup tables": several, none named
        if parent and ph.role != "head" and _names_a_part(ph):
            continue  # "a migration for the password_setup_token column": that names the column, not its table
        given = _given_name(ph, intent, kind_words)
        if given is None:
            continue
        value, explicit = given
        existing = intent.repo.lookup(kind, value)
        if existing and intent.put(p, existing, f"existing {kind} named in the request"):
            return
        # a kind the repository holds nothing of cannot be checked: the name is taken as given
        if ph.new or not intent.grounded or not intent.repo.names(kind):
            if intent.put(p, value, f"the new {kind} the request names", guessed=not explicit):
                return
            continue
        # the one existing object whose name has every word the request used ("experts" → expert_profiles)
        close = _covering(intent, kind, value)
        if close is not None and intent.put(
            p, close, f"the existing {kind} whose name has the words of {value!r}", guessed=True
        ):
            return
        several = intent.repo.covering_all(kind, value) if len(value.split()) > 1 else []
        if len(several) > 1 and not ph.new:
            # "the user profiles table" with auth_user_profiles and filter_user_profiles: asked, never guessed
            intent.suggest(p, several[:5], f"existing {kind}s whose names have the words of {value!r}")
            return
        # "to the Payout table": taken as named, and said to be unknown (a scenario that requires it creates it)
        # "created_at timestamp for profiles": what a part is for is the object it is part of
        # "Deprecate wiithings": a head that is one word no dictionary knows is the name of what the verb acts on
        coined = (
            not parent
            and p.name in intent.conventions.params.names
            and ph.role == "head"
            and " " not in value
            and intent.repo.distinctive(value.lower())
        )
        named = explicit or ph.head is not None or ph.role == "place" or (part_of and ph.role == "subject") or coined
        if named and intent.put(
            p, value, f"the {kind} the request refers to (not found in the repository)", guessed=not explicit
        ):
            intent.out.not_found.append((kind, str(intent.out.params[p.name])))
            intent.suggest_also(p, intent.repo.candidates(kind, value), f"an existing {kind} with a similar name")
            return
        intent.suggest(p, intent.repo.candidates(kind, value), f"an existing {kind} with a similar name")
        return
    if kind == "app":
        _app_by_words(p, intent)


def _names_a_part(ph: Phrase) -> bool:
    """The phrase's noun is a part of an object ("the archived_at column", "a slug field")."""
    noun = re.findall(r"[a-z]+", ph.noun_text().lower())
    return bool(noun) and noun[-1] in language.words("part_nouns")


def _names_data(text: str, intent: Intent) -> bool:
    """Words that may name data: not who may use it ("admin access", "public access") nor words that choose a
    value of the scenario ("owner access")."""
    from continuous.planner.slots.names import _choice_words

    said = re.findall(r"[A-Za-z][\w'-]*", text)
    choices = _choice_words(intent)
    return bool(said) and not any(
        not_name(w) or w.lower() in language.words("audience") or w.lower() in choices for w in said
    )


def _a_sort_of_several(ph: Phrase, intent: Intent, kind_words: set[str]) -> bool:
    """The phrase calls several objects of the kind by what they are like, naming none: a plural noun of the kind
    after words that are never names ("missing tables", "the remaining legacy tables"; not "profile entities")."""
    noun = ph.noun_text()
    if ph.head is None or not noun or not plural_noun(noun) or noun.split()[-1].lower() not in kind_words:
        return False
    if called(ph.text) or quoted(ph.text) or identifiers(ph.text) or _names_other(ph, intent, ""):
        return False
    said = [
        w for w in re.findall(r"[A-Za-z][\w'-]*", ph.modifier_text()) if w.lower() not in language.words("determiners")
    ]
    return bool(said) and all(not_name(w) for w in said)


def _bare(ph: Phrase, intent: Intent, kind: str | None = None) -> bool:
    """A phrase whose noun is no kind of repository object ("on notifications": a word of a ui element is a
    plain name there); with `kind`, one that names no existing object of another kind either ("on Supabase")."""
    kinds = intent.conventions.kinds
    if kind is not None and _names_other(ph, intent, kind):
        return False
    return ph.head is None or kinds.object_words.get(ph.head, ph.head) not in kinds.object_kinds


def _names_other(ph: Phrase, intent: Intent, kind: str) -> bool:
    """The phrase names an existing object of another kind ("RLS policies on Supabase": a package, no table)."""
    return any(m.kind != kind and ph.start <= m.start and m.end <= ph.end + 1 for m in intent.mentions)


def _names_part(intent: Intent, kind: str) -> bool:
    """The head phrase asks for a part of an object of another kind ("an access_code column", language.toml
    part_nouns): a bare place then names the object it is part of."""
    head = intent.analysis.head
    if head is None:
        return False
    found = re.findall(r"[a-z]+", head.text.lower())
    if head.head is None:
        # "add field description to layout": a part noun before the name, the head ends in the name
        first = [w for w in found if w not in language.words("determiners")][:1]
        if bool(first) and first[0] in language.words("part_nouns") and len(found) > 1:
            return True
        # "added archived_at in IssueView": the head is the name of the part the scenario adds, alone
        from continuous.planner.slots import kind_of

        alone = [v for v, _s, _e in identifiers(head.text)]
        return (
            len(alone) == 1
            and alone[0] == head.text.strip("`'\" ")
            and any(kind_of(q, intent) == "part" for q in intent.scenario.params)
        )
    if intent.conventions.kinds.object_words.get(head.head, head.head) == kind:
        return False
    # "an access_code column", "the column archived_at", "a `slug` field", "created_at timestamp" (a kind of part)
    parts = language.words("part_nouns")
    return any(w in parts for w in found[-1:] + found[:2]) or bool(
        parts & set(language.lang().objects.get(head.head, ()))
    )


def _any_kind(p: Param, intent: Intent) -> None:
    """A target of any kind (what tests cover, what is monitored) that names nothing the repository holds: the
    file the request names ("a test spec for components/ui/tabs.vue" covers Tabs), else the words of the place
    or head phrase, as given."""
    source = re.search(r"(?<![\w.])(?:[\w.@-]+/)*([A-Za-z][\w-]*)\.(?:tsx|jsx|ts|js|vue|svelte)\b", intent.clause)
    if (
        source
        and source.group(1).lower() not in ("index", "main", "app")
        and intent.put(p, source.group(1), "the file the request names")
    ):
        return
    phrases = [
        *intent.analysis.of_role("place"),
        *intent.analysis.of_role("head"),
        *intent.analysis.of_role("subject"),
    ]

    def text_of(ph: Phrase) -> str:
        # "the link card": a word like card is part of the name; a kind like "service" is not
        return ph.modifier_text() if ph.head and ph.head not in language.lang().veto_all["head"] else ph.text

    # a name of code, wherever it stands, before plain words: "filter tests for DateTimeUtc" cover DateTimeUtc, not
    # filters; one word of a longer proper name ("GrowthBook Cloud") is not one
    for ph in phrases:
        text = text_of(ph)
        for value, _s, _e in camel_identifiers(text):
            longer = re.search(rf"(?<![\w-]){re.escape(value)}\s+[A-Z]", intent.clause)
            if longer is None and intent.put(p, value, "the name the request gives"):
                return
    # "error monitoring", "datadog monitoring": the sort of what the scenario does is not what it acts on
    _verbs, objects = language.canonical_words(intent.scenario.id, ())
    table = slot_table("target_sort_words")
    sorts = frozenset(w.lower() for o in objects for w in table.get(o, ()))
    for ph in phrases:
        text = text_of(ph)
        for value, _s, _e in [*called(text), *quoted(text), *identifiers(text)]:
            if intent.put(p, value, "the name the request gives"):
                return
        # "e2e tests for entity duplication": the sort of test is not what it covers
        words = name_words(text, slot_words("test_kind_words") | sorts, keep_aspects=True)
        if (
            words
            and len(words) <= 3
            and intent.put(p, " ".join(words), "the words the request names it by", guessed=True)
        ):
            return


def _covering(intent: Intent, kind: str, value: str) -> str | None:
    return intent.repo.covering(kind, value)


def target_kinds_of_phrase(ph: Phrase, intent: Intent) -> list[str]:
    kind = intent.conventions.kinds.object_words.get(ph.head or "", ph.head or "")
    return [kind] if kind in intent.conventions.kinds.object_kinds else list(intent.repo.by_kind)


def _names_kind(ph: Phrase, kind_words: set[str]) -> bool:
    return any(w in kind_words for w in ph.words()) or bool(identifiers(ph.text))


def _given_name(ph: Phrase, intent: Intent, kind_words: set[str]) -> tuple[str, bool] | None:
    for value, _s, _e in [*called(ph.text), *quoted(ph.text)]:
        return value, True
    for value, _s, e in identifiers(ph.text):
        if value.lower() not in intent.used:
            # "the time-tracking requests table": a hyphenated word starts a name its next words go on with
            rest = ph.text[e : ph.head_start - ph.start] if ph.head is not None and ph.head_start > ph.start else ""
            more = re.findall(r"[A-Za-z][\w'-]*", rest)
            if "-" in value and "_" not in value and more and more == name_words(rest) and len(more) <= 2:
                return f"{value} {' '.join(more)}", True
            return value, True
    # "to Product & ProductVariant", "on the invoices and payments tables": the first of several names
    noun = ph.noun_text()
    # "on notifications": a noun of no kind of repository object, alone, is the name itself
    alone = ph.head is not None and _bare(ph, intent) and not ph.modifier_text().strip()
    base = first_of_names(
        ph.modifier_text() if ph.head and not alone else ph.text, plural=bool(noun) and plural_noun(noun)
    )
    # "the admin app": any word may be part of an existing name, even one that names nothing on its own
    plain = [
        w
        for w in re.findall(r"[A-Za-z][\w-]*", base)
        if w.lower() not in language.words("determiners") and w.lower() not in kind_words
    ]
    if plain and len(plain) <= 3:
        joined = " ".join(plain)
        kinds = target_kinds_of_phrase(ph, intent)
        if any(intent.repo.lookup(k, joined) or _covering(intent, k, joined) for k in kinds):
            return joined, False
    text = base
    # "to posts instead of using the meta image": the name ends where the phrase goes on about something else
    text = re.split(r"\b(?:" + "|".join(sorted(language.words("phrase_stops"))) + r")\b", text, maxsplit=1)[0]
    # a word for another kind of object is part of the name ("to webhook deliveries", "the api keys table")
    kinds_ = intent.conventions.kinds
    targets = set(target_kinds_of_phrase(ph, intent))
    keep = frozenset(k for k in (*kinds_.object_kinds, *kinds_.head_order, *kinds_.parents) if k not in targets)
    words = name_words(text, exclude=frozenset(kind_words), keep_aspects=True, keep_kinds=keep)
    if words and len(words) <= 3:
        return " ".join(words), False
    if ph.head is not None:
        # "the migrations table", "an entities table": a word of the kind before the kind's own noun is its name
        rest = [w for w in re.findall(r"[A-Za-z][\w-]*", text) if not not_name(w)]
        if 0 < len(rest) <= 2:
            return " ".join(rest), False
    return None


def _app_by_words(p: Param, intent: Intent) -> None:
    """The existing app whose name has a word of the request ("an admin dashboard" → the admin apps): filled
    when one app fits, offered as candidates when several do."""
    conv = intent.conventions
    prefix = set(re.split(r"[-_]", conv.app_prefix.lower())) - {""}
    words = {w for w in re.findall(r"[a-z0-9]+", intent.request.lower()) if len(w) > 2}
    words |= {w[:-1] for w in words if w.endswith("s") and len(w) > 4}
    hits: dict[str, str] = {}
    for app in sorted(intent.repo.names("app")):
        parts = [x for x in re.split(r"[-_]", app.lower()) if x and x not in prefix]
        common = [x for x in parts if x in words]
        if common:
            hits[app] = common[0]
    if len(hits) == 1:
        app, word = next(iter(hits.items()))
        intent.put(p, app, f"the one existing app whose name has the word {word!r}", guessed=True)
    elif hits:
        intent.suggest(p, sorted(hits), "an existing app whose name has a word of the request")


def _backing(p: Param, kind: str, intent: Intent) -> None:
    """The service or proxy behind a page's data: one the request names, else (a proxy) the repository's only
    proxy with a route table; otherwise the scenario's own default (the entity's service, a new proxy)."""
    if "entity" not in intent.out.params:
        return
    for m in intent.mentions:
        usable = m.kind == kind and (kind != "proxy" or m.name in intent.repo.routable)
        if usable and intent.put(p, m.name, f"existing {kind} named in the request"):
            return
    if kind == "proxy" and len(intent.repo.routable) == 1:
        intent.put(p, next(iter(intent.repo.routable)), "the repository's only proxy with a route table")

"""Rules over the intent model's choice: they may veto a scenario, never choose one on their own.

The rules are data (`[[veto]]` in language.toml):
- a request whose main verb takes something away (remove, archive, deprecate) is never planned as a scenario
  that adds or changes something, and restoring is never archiving;
- a request whose head object is one no scenario makes (an index, a SQL function, a guide, styling) has no plan;
- a revert or style commit, and a question ("does the proxy support ...?"), have no plan.
A vetoed scenario's probability becomes 0, so the request falls to the next scenario or to no match; --explain
lists what was vetoed and why.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np
from continuous.planner import language
from continuous.planner.phrases import analyse

if TYPE_CHECKING:
    from continuous.planner.grounding import Repo
    from continuous.planner.index import Index


def reasons_to_veto_all(text: str, *, whole: bool = False, made: frozenset[str] = frozenset()) -> str | None:
    """Why no scenario can be meant, or None. For a `whole` request only what holds for every part of it
    counts (a revert, a question); the head object is judged per intent. `made`: the objects the rule base's
    scenario ids name (a custom add-feature-flag makes "feature" a thing a scenario makes)."""
    found = _veto_all(text, whole=whole, made=made, roles=False)
    return found[0] if found is not None else None


def _veto_all(text: str, *, whole: bool, made: frozenset[str], roles: bool = True) -> tuple[str, str | None] | None:
    """(why, the head object no scenario makes, if that is why) or None. Without `roles`, a head object vetoes
    whatever role it plays (what training leaves out of the off-topic requests: one the rules may veto)."""
    lx = language.lang()
    a = analyse(text)
    head = a.head.head if a.head is not None else None
    if not whole and a.verb is not None and a.verb in lx.veto_all["verb"]:
        return f"no scenario does what the verb {a.verb!r} asks", None
    if not whole and roles:
        # the role vetoes read the whole request; training keeps the off-topic requests they veto, so the model
        # learns from them as written
        why = _role_veto(text, a)
        if why is not None:
            return why, None
    if (
        not whole
        and head is not None
        and head in lx.veto_all["head"]
        and head not in made
        and not _named(text, a)
        and (not roles or _in_role(a, head, made))
    ):
        return f"the request asks for {head.replace('_', ' ')}, which no scenario makes", head
    if not whole and a.head is not None:
        # a phrase that runs past the head phrase ("an index on documents") still names what is asked for
        for canon, start, end in language.find(text, "objects"):
            inside = a.head.head_start <= start < a.head.end if a.head.head_start >= 0 else False
            if inside and end > a.head.end and canon in lx.veto_all["head"] and canon not in made:
                return f"the request asks for {canon.replace('_', ' ')}, which no scenario makes", canon
    if not whole and a.head is not None and head is None:
        # "add column resizing": what is asked for is a behaviour of an object (a gerund after an object word),
        # not the object
        found = list(re.finditer(r"[A-Za-z][\w'-]*", a.head.text))
        tokens = [m.group(0) for m in found]
        word = tokens[-1].lower() if tokens else ""
        last = a.head.start + found[-1].start() if found else -1
        # the word before it is an object, or ends one ("readiness health check retry")
        acted_on = len(tokens) > 1 and (
            language.is_object_word(tokens[-2])
            or any(e < last and not text[e:last].strip() for _c, _s, e in a.head.objects)
        )
        if acted_on and word.endswith("ing") and len(word) > 5 and not language.is_object_word(word):
            return f"the request asks for a behaviour ({word}), which no scenario makes", None
        if acted_on and word in language.words("attribute_nouns"):
            # "add page titles", "feat: increase page number limit": a property of the object, not the object
            return f"the request asks for a property ({word}) of {tokens[-2]}, which no scenario makes", None
    if a.commit_type is not None and a.commit_type in lx.veto_all["commit"]:
        return f"a {a.commit_type} commit changes nothing a scenario makes", None
    if a.commit_scope is not None and a.commit_scope.lower() in lx.veto_all["scope"]:
        return f"the commit's scope ({a.commit_scope}) is outside what the scenarios change", None
    first = re.match(r"\s*([a-z']+)", text.lower())
    if text.rstrip().endswith("?") and first and first.group(1) in lx.veto_all["question"]:
        return "a question asks for an answer, not a plan", None
    return None


def _head_word(text: str, a: Any) -> str:
    """The last word of the head object's own words ("column" of "variant column 'rank'", "version" of "app
    version"), lower case; "" when the head phrase names no object."""
    if a.head is None or a.head.head is None:
        return ""
    spans = [(s, e) for canon, s, e in a.head.objects if canon == a.head.head]
    if not spans:
        return ""
    s, e = spans[-1]
    found = re.findall(r"[A-Za-z.][\w.'-]*", text[s:e].lower())
    return found[-1] if found else ""


def _role_veto(text: str, a: Any) -> str | None:
    """Why the head object, in the role it plays here, is nothing a scenario makes (`[head_roles]`, the changed
    parts of `[[veto]]` and `annotation_nouns`), or None."""
    lx = language.lang()
    head = a.head
    idle = language.words("idle_verbs")
    said = _opens_with(text[a.body_start :], idle)
    if said is None and head is not None and re.match(r"[A-Za-z]+ing\b", head.text):
        # "allows turning off the rest proxy": a head phrase that opens with a gerund is itself the action
        said = _opens_with(head.text, idle)
    if said is not None:
        return f"no scenario does what the verb {said!r} asks"
    if head is None:
        return None
    word = _head_word(text, a)
    role = lx.head_roles.get(head.head or "", {})
    places = [ph for ph in a.phrases if ph.role in ("place", "subject") and re.search(r"[A-Za-z]", ph.text)]
    if word and word in role.get("bare", ()) and a.verb in role.get("verbs", ()) and _only_own(text, a, role):
        # "bump version to 0.24.3": the project's own version, no package named
        return f"the request bumps the project's own {word}, which changes no {head.head}"
    if word and word in role.get("needs_owner", ()) and not places and not _named_in(head.text):
        # "add new date field": a field of nothing the request names is a form's
        return f"the request asks for a {word} of nothing it names (a form's), which no scenario makes"
    if word and word in lx.changed_parts and a.verb in lx.change_verbs:
        # "change variant column 'rank' to 'variant_rank'": a rename or a new type of a part that exists
        return f"the request changes a {word} that exists, which no scenario does"
    if head.head is None and language.polarity(a.verb) == "constructive":
        tokens = re.findall(r"[A-Za-z][\w'-]*", head.text.lower())
        into = [ph for ph in a.phrases if ph.role == "place" and ph.prep in ("to", "in", "into", "on") and ph.objects]
        if tokens and tokens[-1] in language.words("annotation_nouns") and into:
            # "adds comments to .env.example": the file is annotated, nothing is added to it
            return f"the request adds {tokens[-1]} to {into[0].text}, which no scenario does"
    return None


def _opens_with(text: str, phrases: frozenset[str]) -> str | None:
    """The phrase of `phrases` the text opens with (the longest), or None."""
    low = text.lower().lstrip()
    for p in sorted(phrases, key=len, reverse=True):
        if low.startswith(p) and (len(low) == len(p) or not (low[len(p)].isalnum() or low[len(p)] in "_-")):
            return p
    return None


def _only_own(text: str, a: Any, role: dict[str, Any]) -> bool:
    """Whether the request, besides its verb, versions and the words of `role`'s `bare` and `own` lists, says
    nothing but small words: no package, no place that names one."""
    lx = language.lang()
    scope = (a.commit_scope or "").lower()
    if scope and lx.commit_scopes.get(scope) == "dependencies":
        return False
    body = text[a.body_start :]
    body = language.pattern("version").sub(" ", body)
    body = language.pattern("version_change").sub(" ", body)
    allowed = set(role.get("bare", ())) | set(role.get("own", ())) | language.words("stopwords")
    for token in re.findall(r"[A-Za-z][\w.@/'-]*", body.lower()):
        if token not in allowed and not language.is_verb_word(token):
            return False
    return True


def _named_in(text: str) -> bool:
    """Whether a phrase holds a name of its own: an identifier, a quoted or camel-case word, a dotted path."""
    if any(language.pattern(p).search(text) for p in ("identifier", "quoted", "env_var")):
        return True
    return bool(re.search(r"\b[a-z]+[A-Z]\w*|\b[A-Z][a-z]+[A-Z]\w*|\w\.\w", text))


def _in_role(a: Any, head: str, made: frozenset[str]) -> bool:
    """Whether the head object plays the role its veto is about (`[head_roles]`): a ui element lives in a
    screen, so a head phrase or a place that names another kind some scenario makes ("an api key placeholder in
    .env.example") says the word means something else."""
    among = language.lang().head_roles.get(head, {}).get("among")
    if not among:
        return True
    from continuous.planner.conventions import default as conventions

    conv = conventions()
    named = {
        conv.kinds.object_words.get(canon, canon)
        for ph in a.phrases
        if ph.role in ("head", "place")
        for canon, _s, _e in ph.objects
        if canon != head and canon in made
    }
    return not (named - set(among))


def _spared(a: Any, head: str, words: list[Any]) -> set[int]:
    """Scenarios a head veto leaves: those whose verb acts on any object when the request does that to it or
    moves it into that verb's object ("archive docs", "move old docs to the archive directory"), and, for a head
    that stands for another kind when asked for alone (`alone` of `[head_roles]`: "Add modal" is a component),
    the scenarios that make that kind."""
    lx = language.lang()
    out: set[int] = set()
    any_object = language.words("any_object_verbs")
    into = {
        canon
        for ph in a.phrases
        if ph.role == "place" and ph.prep in ("to", "into", "in")
        for canon, _s, _e in ph.objects
    }
    for verb in any_object:
        if a.verb == verb or verb in into:
            out |= {s for s, sw in enumerate(words) if verb in sw.verbs}
    alone = lx.head_roles.get(head, {}).get("alone")
    if alone and not any(ph.role == "place" for ph in a.phrases) and language.polarity(a.verb) == "constructive":
        out |= {s for s, sw in enumerate(words) if alone in sw.objects and sw.polarity == "constructive"}
    return out


def _named(text: str, a: Any) -> bool:
    """Whether the head object is known only from the end of a name ("bump nuxt-i18n", "the docs-service",
    "@faceless-ui/modal"): a name says what its object is about, not that the request asks for that kind of thing,
    so it vetoes nothing."""
    spans = [(s, e) for canon, s, e in a.head.objects if canon == a.head.head] if a.head is not None else []
    # the end of a name: "nuxt-i18n", or a package's last segment ("bump @faceless-ui/modal to 3.0.1")
    return bool(spans) and all(
        re.search(r"\w[-_]\w", text[s:e]) or (s > 0 and text[s - 1] in "/@-_." and not text[s - 2 : s - 1].isspace())
        for s, e in spans
    )


def _raise(p: float, odds: float) -> float:
    """p with its odds p / (1 - p) multiplied by `odds` (below 1 lowers it)."""
    if p <= 0.0 or p >= 1.0 or odds == 1.0:
        return p
    o = p / (1.0 - p) * odds
    return o / (1.0 + o)


def apply_commit_odds(texts: list[str], probs: np.ndarray, index: Index) -> None:
    """Multiply, in place, the odds of every scenario that makes or changes something by the prior of the
    text's conventional-commit type (`[commit_odds]`). Training applies it too, so the no-match threshold is
    chosen on what a query sees."""
    from continuous.planner.features import scenario_words

    table = language.lang().commit_odds
    if not table:
        return
    polarities = [sw.polarity for sw in scenario_words(index)]
    for r, text in enumerate(texts):
        odds = table.get(analyse(text).commit_type or "", 1.0)
        if odds != 1.0:
            for s, pol in enumerate(polarities):
                if pol == "constructive":
                    probs[r, s] = _raise(float(probs[r, s]), odds)


def boost(texts: list[str], probs: np.ndarray, index: Index, repo: Repo, head_kinds: list[str | None]) -> None:
    """Raise, in place, the odds of scenarios acting on the kind of object a text's head phrase names as an
    existing one, or that its verb implies when it names none."""
    lx = language.lang()
    grounded = lx.boost.get("grounded_head", 1.0)
    implied_odds = lx.boost.get("implied_object", 1.0)
    mismatch = lx.boost.get("head_mismatch", 1.0)
    moved_odds = lx.boost.get("moved_into", 1.0)
    from continuous.planner.conventions import default as conventions
    from continuous.planner.features import scenario_words

    conv = conventions()
    things = set(conv.kinds.head_order)
    makes = [sw.polarity == "constructive" and "create" in sw.verbs for sw in scenario_words(index)]
    acts_on = [{conv.kinds.object_words.get(o, o) for o in sw.objects} for sw in scenario_words(index)]

    apply_commit_odds(texts, probs, index)
    for r, text in enumerate(texts):
        a = analyse(text)
        head = a.head
        kinds: set[str] = set()
        if head is not None and grounded > 1.0:
            # the name must be the thing asked for, not a word before it ("a new vite app" is an app)
            tail = re.findall(r"[A-Za-z0-9@./_-]+", text[head.start : head.end])
            last = tail[-1].lower() if tail else ""
            kinds = {
                m.kind
                for m in repo.mentioned(text)
                if head.start <= m.start and m.end <= head.end and text[m.start : m.end].lower().endswith(last)
            }
        implied = lx.verb_implies.get(a.verb or "") if (head is None or head.head is None) else None
        if implied is None and (head is None or head.head is None):
            # "bump cookie from 0.6.0 to 0.7.0": the version says a package is updated
            implied = next(
                (
                    kind
                    for name, verbs, kind in lx.pattern_implies
                    if a.verb in verbs and language.pattern(name).search(text)
                ),
                None,
            )
        if implied is not None and any(
            p.head == implied and not p.new for p in a.phrases if p.role in ("place", "subject")
        ):
            # "store a due date on the tasks table": the table is where, not what ("in a new table" is both)
            implied = None
        asked = conv.kinds.object_words.get(head.head, head.head) if head is not None and head.head else None
        asked = asked if asked in things and asked in head_kinds else None
        into = _moved_into(a) if implied is None and moved_odds != 1.0 else None
        for s, kind in enumerate(head_kinds):
            if kind in kinds:
                probs[r, s] = _raise(float(probs[r, s]), grounded)
            elif implied is not None and kind == implied:
                probs[r, s] = _raise(float(probs[r, s]), implied_odds)
            elif into is not None and kind == into and makes[s]:
                probs[r, s] = _raise(float(probs[r, s]), moved_odds)
            if (
                asked is not None
                and kind in things
                and kind != asked
                and kind not in lx.head_kin.get(asked, ())
                and asked not in acts_on[s]
            ):
                probs[r, s] = _raise(float(probs[r, s]), mismatch)


def _moved_into(a: Any) -> str | None:
    """The kind of object a request moves or extracts something that is no such object into, which it makes
    ("GA_ID moved to env", "extracted the chunk size to an env var", "move the persistence logic into a dedicated
    service"), or None. A repository object must be new there ("into the billing service" reworks one that
    exists); moving one object into another of its kind makes none (`_moved_between`)."""
    lx = language.lang()
    head = a.head
    if a.verb not in lx.move_verbs | lx.tidy_verbs:
        return None
    # what is moved: the head, or the subject before the verb ("GA_ID moved to env") or before a head that is
    # the result ("extracted the retry delay to an env var")
    before = [ph for ph in a.phrases if ph.role == "subject" and ph.prep is None]
    if head is not None and head.prep in ("to", "into"):
        result: Any = head
        moved = next((ph for ph in before if ph.end <= head.start), None)
    else:
        moved = head if head is not None else next(iter(before), None)
        result = next((ph for ph in a.phrases if ph.role == "place" and ph.prep in ("to", "into")), None)
    if result is None or result.head is None or moved is None or moved.head is not None:
        return None
    from continuous.planner.conventions import default as conventions

    conv = conventions()
    kind = conv.kinds.object_words.get(result.head, result.head)
    if kind in conv.kinds.head_order and not (result.new or _indefinite(result.text)):
        return None
    return kind


def part_kinds(rule_base: Any, scenario_ids: list[str], conv: Any) -> list[str | None]:
    """For each scenario, the kind of object whose part it adds, from its parameters: a required part parameter
    (`column`) next to a reference to its owner (`table`) says modify-schema adds a part of a table."""
    out: list[str | None] = []
    for sid in scenario_ids:
        sc = rule_base.scenarios.get(sid)
        params = list(sc.params) if sc is not None else []
        has_part = any(p.name in conv.params.parts and p.required for p in params)
        owner = next((conv.params.references.get(p.name) for p in params if p.name in conv.params.references), None)
        out.append(owner if has_part and owner and not owner.startswith("@") else None)
    return out


def stored_on_existing(
    texts: list[str],
    probs: np.ndarray,
    index: Index,
    repo: Repo,
    head_kinds: list[str | None],
    parts: list[str | None],
) -> list[list[tuple[str, str]]]:
    """A request that keeps something with no object word of its own on an object the repository holds ("store a
    due date on dev tasks", "track the priority for the tasks table") asks for a part of that object, not a new
    one: the probability the model gives to making an object of that kind moves, in place, to the scenario that
    adds a part of it. So does something added to an object the request names as its place, known to the
    repository or not ("add locale property to the subscriber model"). For each text, the (scenario, why) it moved
    from."""
    from continuous.planner.conventions import default as conventions
    from continuous.planner.features import scenario_words

    lx = language.lang()
    conv = conventions()
    makes = [sw.polarity == "constructive" and "create" in sw.verbs for sw in scenario_words(index)]
    moved: list[list[tuple[str, str]]] = []
    for r, text in enumerate(texts):
        done: list[tuple[str, str]] = []
        a = analyse(text)
        head = a.head
        verb_ok = a.verb in lx.verb_implies or language.polarity(a.verb) == "constructive"
        if head is None or head.head is not None or not verb_ok or not re.search(r"[A-Za-z]", head.text):
            moved.append(done)
            continue
        mentions = repo.mentioned(text)
        if any(head.start <= m.start < head.end for m in mentions):
            moved.append(done)  # the thing kept is itself an object of the repository
            continue
        owners = {
            m.kind
            for ph in a.phrases
            if ph.role in ("place", "subject") and not ph.new and not _indefinite(ph.text)
            for m in mentions
            if ph.start <= m.start and m.end <= ph.end + 1
        }
        named: set[str] = set()
        if a.verb == "create":
            # "add locale property to the subscriber model": something added to an object the request names
            # as the place it goes is a part of it (`_placed_only` vetoes making the place), whether or not the
            # repository's facts show that object
            named = {
                kind
                for ph in a.phrases
                if ph.role == "place" and ph.head is not None
                if not ph.new and not _indefinite(ph.text)
                for kind in [conv.kinds.object_words.get(ph.head, ph.head)]
                if kind in lx.place_only_veto
            } - owners
            owners |= named
        for kind in owners:
            targets = [s for s, k in enumerate(parts) if k == kind]
            if len(targets) != 1:
                continue
            for s, k in enumerate(head_kinds):
                if k == kind and makes[s] and s != targets[0] and probs[r, s] > 0:
                    to = index.scenario_ids[targets[0]]
                    where = f"the {kind} it names" if kind in named else f"an existing {kind}"
                    done.append((index.scenario_ids[s], f"the request keeps something on {where}: {to}"))
                    probs[r, targets[0]] = min(1.0, float(probs[r, targets[0]] + probs[r, s]))
                    probs[r, s] = 0.0
        moved.append(done)
    return moved


def _quantified(a: Any) -> set[str]:
    """Kinds of object a place quantifies over ("for every table", "to all pages"): a change to each of them is
    not a new one."""
    out: set[str] = set()
    for ph in a.phrases:
        if ph.role in ("place", "subject") and ph.head is not None:
            first = re.findall(r"[a-z]+", ph.text.lower())[:1]
            if first and first[0] in ("every", "each", "all"):
                out.add(ph.head)
    return out


def _placed_only(a: Any, words: list[Any]) -> list[int]:
    """Scenarios that make an object the request names only as the place where something it does not name goes
    ("add otp to the downloads page" changes a page, it makes none). A head with a name of its own ("add
    due_date to the tasks table") is a part of the place, left to the model."""
    lx = language.lang()
    head = a.head
    shown = lx.verb_implies.get(a.verb or "") if a.verb in lx.place_only_verbs else None
    # a verb that takes something away from the place ("remove the debug log from the billing service")
    taking = language.polarity(a.verb) if language.polarity(a.verb) in lx.place_only_taking else None
    if a.verb != "create" and shown is None and taking is None:
        return []
    if head is None or head.head is not None or not lx.place_only_veto:
        return []
    if any(language.pattern(p).search(head.text) for p in ("identifier", "env_var", "quoted")):
        return []
    if re.search(r"\b[a-z]+[A-Z]\w*|\b[A-Z][a-z]+[A-Z]\w*", head.text):
        return []
    from continuous.planner.conventions import default as conventions

    conv = conventions()
    placed = {
        conv.kinds.object_words.get(ph.head, ph.head)
        for ph in a.phrases
        if ph.role == "place" and ph.head is not None and not (shown and (ph.new or _indefinite(ph.text)))
    } & lx.place_only_veto
    if shown is not None:
        # "display cost in the traces table" shows it in what exists; "show them in the hub" may need a page
        placed -= set(conv.kinds.parents)
        if placed:
            placed.add(shown)
    if not placed:
        return []
    out = []
    for s, sw in enumerate(words):
        kinds = {conv.kinds.object_words.get(o, o) for o in sw.objects}
        if sw.polarity == (taking or "constructive") and kinds & placed:
            out.append(s)
    return out


def _indefinite(text: str) -> bool:
    """ "on a dashboard page": a place that is new, not one that exists."""
    first = re.findall(r"[a-z]+", text.lower())[:1]
    return bool(first) and first[0] in ("a", "an")


def _stored_in_ui(a: Any, words: list[Any]) -> list[int]:
    """Database scenarios for a request that puts a table or a view into a screen ("add sessions view to
    dashboard", "add a table to the settings page"): that is a part of the screen, no database object."""
    lx = language.lang()
    heads, places = lx.ui_place_veto
    head = a.head
    if head is None or head.head not in heads:
        return []

    def screen(ph: Any) -> bool:
        tokens = re.findall(r"[a-z]+", ph.text.lower())
        return ph.head in places or bool(tokens and tokens[-1] in lx.ui_place_words and ph.head is None)

    if not any(
        (ph.role == "place" or (ph.role == "subject" and ph.prep in lx.ui_place_preps)) and screen(ph)
        for ph in a.phrases
    ):
        return []
    return [s for s, sw in enumerate(words) if sw.polarity == "constructive" and sw.objects & heads]


def _changed(a: Any, words: list[Any]) -> list[int]:
    """Scenarios that make an object of the kind a request changes ("Update house-keeping api endpoint",
    "Updated profile settings" where the repository has that page): changing an object makes none."""
    lx = language.lang()
    head = a.head
    if a.verb not in lx.change_verbs or head is None:
        return []
    word = head.head or (head.objects[-1][0] if head.objects else None)
    if word is None:
        return []
    from continuous.planner.conventions import default as conventions

    conv = conventions()
    kind = conv.kinds.object_words.get(word, word)
    if kind not in conv.kinds.head_order or kind in lx.recreated:
        return []
    return [
        s
        for s, sw in enumerate(words)
        if "create" in sw.verbs and kind in {conv.kinds.object_words.get(o, o) for o in sw.objects}
    ]


def _moved_between(a: Any, words: list[Any]) -> list[int]:
    """Scenarios that make an object of the kind a request moves from one existing object of that kind to another
    ("move the billing page into the account page", `[[veto]] move_between`): moving makes no new one. A place
    that is new ("to a new page") or indefinite may be made, so it vetoes nothing."""
    lx = language.lang()
    head = a.head
    if a.verb not in lx.move_verbs or head is None or head.head is None or head.new or _indefinite(head.text):
        return []
    from continuous.planner.conventions import default as conventions

    conv = conventions()
    kind = conv.kinds.object_words.get(head.head, head.head)
    places = [
        ph
        for ph in a.phrases
        if ph.role == "place"
        and ph.prep in ("to", "into", "onto", "under", "inside")
        and ph.head is not None
        and conv.kinds.object_words.get(ph.head, ph.head) == kind
    ]
    # a verb whose result comes after "to" reads the other way round: "converted the create-react-app to a vite
    # app" has the app it converts as the source (a subject with no preposition) and the result as the head
    sources = [
        ph
        for ph in a.phrases
        if ph.role == "subject"
        and ph.prep is None
        and ph.end <= head.start
        and ph.head is not None
        and conv.kinds.object_words.get(ph.head, ph.head) == kind
    ]
    if sources and not places and head.prep in ("to", "into"):
        places = [head]
    if not places or any(ph.new or _indefinite(ph.text) for ph in places):
        return []
    return [
        s
        for s, sw in enumerate(words)
        if "create" in sw.verbs and kind in {conv.kinds.object_words.get(o, o) for o in sw.objects}
    ]


def _moved_itself(a: Any, words: list[Any]) -> list[int]:
    """Scenarios that make an object of the kind a request moves ("Move the price list tests to the HTTP folder",
    "migrated the activity page tests to playwright"): moving an object makes none of its kind, wherever it goes.
    A head that is where something goes ("converted the app to a vite app") or a new one is `_moved_between`'s."""
    lx = language.lang()
    head = a.head
    if a.verb not in lx.move_verbs or head is None or head.head is None or head.prep in ("to", "into"):
        return []
    if head.new or _indefinite(head.text):
        return []
    from continuous.planner.conventions import default as conventions

    conv = conventions()
    kind = conv.kinds.object_words.get(head.head, head.head)
    return [
        s
        for s, sw in enumerate(words)
        if "create" in sw.verbs and kind in {conv.kinds.object_words.get(o, o) for o in sw.objects}
    ]


def _used_or_tidied(a: Any, words: list[Any]) -> list[tuple[int, str]]:
    """Scenarios a request that uses, improves or tidies the object it names does not ask for: using one ("Use
    the generated types") or improving one ("Improve the health checks") creates none of its kind, tidying one
    ("Clean up the env vars") adds or sets none. A result verb with a source ("extract the chunk size to an env
    var") and a new head make their object."""
    lx = language.lang()
    head = a.head
    if head is None or head.head is None:
        return []
    out: list[tuple[int, str]] = []
    if a.verb in lx.use_verbs:
        for s, sw in enumerate(words):
            if "create" in sw.verbs and head.head in sw.objects and not sw.verbs & lx.use_spares:
                out.append((s, f"the request uses {head.head.replace('_', ' ')} that exists, it makes none"))
    if _opens_with(a.text[a.body_start :], language.words("improve_verbs")) and head.head not in language.words(
        "improve_spares"
    ):
        # "Improve the health checks": what is made better exists
        for s, sw in enumerate(words):
            if "create" in sw.verbs and head.head in sw.objects:
                out.append((s, f"the request improves {head.head.replace('_', ' ')} that exists, it makes none"))
    if a.verb in lx.tidy_verbs and not head.new and not any(ph.role == "subject" for ph in a.phrases):
        for s, sw in enumerate(words):
            if sw.polarity == "constructive" and a.verb not in sw.verbs:
                out.append((s, f"the request tidies {head.head.replace('_', ' ')}, it adds or sets none"))
    return out


def _into_new(a: Any, words: list[Any]) -> list[int]:
    """Scenarios that rework an existing object of a kind (`tidy` verbs: refactor-service), for a request that
    moves or extracts something else into a new one ("Extract the cron job logic to its own service", "move the
    persistence logic into a dedicated service"): that makes the new object, it reworks none."""
    lx = language.lang()
    if a.verb not in lx.tidy_verbs | lx.move_verbs or a.head is None:
        return []
    head = a.head
    result = head if head.prep in ("to", "into") else None
    moved = next((ph for ph in a.phrases if ph.role == "subject" and ph.prep is None), None) if result else head
    if result is None:
        result = next((ph for ph in a.phrases if ph.role == "place" and ph.prep in ("to", "into")), None)
    if result is None or not result.new or result.head is None or moved is None:
        return []
    from continuous.planner.conventions import default as conventions

    conv = conventions()
    kind = conv.kinds.object_words.get(result.head, result.head)
    if moved.head is not None and conv.kinds.object_words.get(moved.head, moved.head) == kind:
        return []
    return [
        s
        for s, sw in enumerate(words)
        if sw.verbs & lx.tidy_verbs and kind in {conv.kinds.object_words.get(o, o) for o in sw.objects}
    ]


def _modifier_only(text: str, a: Any, words: list[Any]) -> list[int]:
    """Scenarios (of `modifier_only` objects) that a request names only in the words before a head of a kind of
    repository object ("add get environment tags endpoint" is an endpoint, "test scripts" are scripts). A head
    known only from the end of a package's name ("@nestjs/cli") says nothing."""
    lx = language.lang()
    head = a.head
    if head is None or head.head is None or not lx.modifier_only:
        return []
    from continuous.planner.conventions import default as conventions

    conv = conventions()
    kind = conv.kinds.object_words.get(head.head, head.head)
    if kind not in conv.kinds.head_order or _named(text, a):
        return []
    spans = [s for canon, s, _e in head.objects if canon == head.head]
    if not spans or (spans[-1] > 0 and text[spans[-1] - 1] in "/@-_."):
        return []
    mods = {canon for canon, s, _e in head.objects if s < spans[-1] and canon != head.head}
    return [
        s
        for s, sw in enumerate(words)
        if sw.polarity == "constructive"
        and sw.objects & mods & lx.modifier_only
        and not {conv.kinds.object_words.get(o, o) for o in sw.objects} & set(conv.kinds.head_order)
    ]


def _tool_for(a: Any, words: list[Any]) -> list[int]:
    """Scenarios that make the kind of object a tool the request asks for handles ("an env editor utility", "a
    table generator"): the tool is asked for, not its object."""
    head = a.head
    if head is None or head.head is not None or not head.objects:
        return []
    tokens = re.findall(r"[a-z]+", head.text.lower())
    if not tokens or tokens[-1] not in language.words("tool_nouns"):
        return []
    handled = {canon for canon, _s, _e in head.objects}
    return [s for s, sw in enumerate(words) if sw.polarity == "constructive" and sw.objects & handled]


def _for_purpose(a: Any, words: list[Any]) -> list[int]:
    """Scenarios that make only what a request names in the clause saying what its new object is for ("add a
    migration script to add novu providers to database", "a page to manage tables"): the object asked for is
    the head, the clause's objects are what it acts on. A scenario that makes the head's kind, or an object named
    outside that clause, stays."""
    head = a.head
    if a.verb != "create" or head is None or head.head is None:
        return []
    from continuous.planner.conventions import default as conventions

    conv = conventions()
    kind = conv.kinds.object_words.get(head.head, head.head)
    if kind not in conv.kinds.head_order:
        return []
    purpose = {
        conv.kinds.object_words.get(c, c)
        for ph in a.phrases
        if ph.role == "trailing" and ph.prep == "to"
        for c, _s, _e in ph.objects
    }
    named = {
        conv.kinds.object_words.get(c, c)
        for ph in a.phrases
        if not (ph.role == "trailing" and ph.prep == "to")
        for c, _s, _e in ph.objects
    }
    if not purpose - named:
        return []
    out = []
    for s, sw in enumerate(words):
        kinds = {conv.kinds.object_words.get(o, o) for o in sw.objects}
        if sw.polarity == "constructive" and kinds & purpose and not kinds & named:
            out.append(s)
    return out


def _into_unmade(a: Any) -> str | None:
    """The object no scenario makes that the request adds something to ("add new page to sitemap"), or None."""
    lx = language.lang()
    moving = a.verb in lx.move_verbs
    if (language.polarity(a.verb) != "constructive" and not moving) or not lx.into_veto:
        return None
    unmade = lx.into_veto | (lx.moved_into_veto if moving else frozenset())
    ignored = language.words("ignore_files")
    for ph in a.phrases:
        if ph.role != "place" or ph.prep not in ("to", "into", "in", "on"):
            continue
        # every object of the place: "to the .env.example and documentation" adds to the environment too
        kinds = {canon for canon, _s, _e in ph.objects}
        if kinds and kinds <= unmade:
            return ph.head or sorted(kinds)[0]
        tokens = re.findall(r"[\w.-]+", ph.text.lower())
        if tokens and tokens[-1] in ignored:
            # "add .env to .gitignore": the ignore list changes
            return tokens[-1]
    return None


def _unsaid(text: str, words: list[Any]) -> list[tuple[int, str]]:
    """Scenarios whose verb is one planned only when the request says it (`needs_word`), as a verb or an object
    ("archive", "back to public"), that this request does not say, and those whose verb is planned only when the
    request names one of their objects (`needs_object`) that name none: (scenario, what is not said)."""
    lx = language.lang()
    if not lx.needs_word and not lx.needs_object:
        return []
    named = {c for c, _s, _e in language.find(text, "objects")}
    said = {c for c, _s, _e in language.find(text, "verbs")} | named
    out = []
    for s, sw in enumerate(words):
        missing = sorted((sw.verbs & lx.needs_word) - said)
        if missing:
            out.append((s, missing[0]))
        elif sw.verbs & lx.needs_object and sw.objects and not sw.objects & named:
            out.append((s, " or ".join(sorted(sw.objects))))
    return out


def _parts_of_recreated(text: str, a: Any, words: list[Any]) -> list[int]:
    """Scenarios that add a part to a table, for a request that adds parts to an object changed by creating it
    again ("add new columns to the specs views"): no table gets a column."""
    lx = language.lang()
    head = a.head
    if head is None or head.head is None or _head_word(text, a) not in lx.changed_parts:
        return []
    if language.polarity(a.verb) != "constructive":
        return []
    from continuous.planner.conventions import default as conventions

    conv = conventions()
    into = [ph for ph in a.phrases if ph.role == "place" and ph.prep in ("to", "into", "in", "on") and ph.objects]
    kinds = {conv.kinds.object_words.get(c, c) for ph in into for c, _s, _e in ph.objects}
    if not kinds or not kinds <= lx.recreated:
        return []
    return [s for s, sw in enumerate(words) if head.head in sw.objects and sw.polarity == "constructive"]


def vetoed(texts: list[str], index: Index) -> np.ndarray:
    """(n, S) bool: the scenarios `apply` vetoes for each text. A veto reads the text, never the probabilities
    (they only choose which vetoes `apply` reports), so training reads them once for all its repeated splits:
    `probs[vetoed(texts, index)] = 0.0` is `apply(texts, probs, index)` without the reasons."""
    probs = np.ones((len(texts), len(index.scenario_ids)), dtype=np.float32)
    apply(texts, probs, index)
    return probs == 0.0


def apply(texts: list[str], probs: np.ndarray, index: Index) -> list[list[tuple[str, str]]]:
    """Veto in place; for each text, the (scenario, why) it vetoed."""
    from continuous.planner.features import scenario_words

    words = scenario_words(index)
    made = frozenset(o for sw in words for o in sw.objects)
    vetoes = language.lang().vetoes
    out: list[list[tuple[str, str]]] = []
    for r, text in enumerate(texts):
        done: list[tuple[str, str]] = []
        found = _veto_all(text, whole=False, made=made)
        a = analyse(text)
        if found is not None:
            everything, head = found
            spared = _spared(a, head, words) if head is not None else set()
            likely = [s for s in np.argsort(-probs[r], kind="stable") if probs[r, s] > 0 and s not in spared][:3]
            done = [(index.scenario_ids[s], everything) for s in likely]
            keep = probs[r, sorted(spared)].copy()
            probs[r, :] = 0.0
            probs[r, sorted(spared)] = keep
            if not spared:
                out.append(done)
                continue
        every = _quantified(a)
        for s, sw in enumerate(words):
            if every & set(sw.objects) and a.verb == "create" and sw.polarity == "constructive":
                if probs[r, s] > 0:
                    done.append((index.scenario_ids[s], "the request changes every one of them, it adds none"))
                probs[r, s] = 0.0
        moved = a.head.head if a.head is not None else ""
        hits = [
            *((s, "the request adds something to the object it names") for s in _placed_only(a, words)),
            *((s, "the request puts it into a screen, it is no database object") for s in _stored_in_ui(a, words)),
            *((s, f"the request's verb ({a.verb}) changes an object, it makes none") for s in _changed(a, words)),
            *(
                (s, f"the request moves one existing {moved} into another, it makes none")
                for s in _moved_between(a, words)
            ),
            *((s, f"the request moves {moved} that exists, it makes none") for s in _moved_itself(a, words)),
            *_used_or_tidied(a, words),
            *((s, "the request moves something into a new one, it reworks none") for s in _into_new(a, words)),
            *((s, f"the request asks for a {moved}, named before it") for s in _modifier_only(text, a, words)),
            *((s, "the request asks for a tool that handles it, not for it") for s in _tool_for(a, words)),
            *((s, f"the request asks for a {moved} to act on it, not for it") for s in _for_purpose(a, words)),
            *(
                (s, "the request adds parts to an object made again, not to a table")
                for s in _parts_of_recreated(text, a, words)
            ),
            *((s, f"the request does not say {verb}") for s, verb in _unsaid(text, words)),
        ]
        for s, why in hits:
            if probs[r, s] > 0:
                done.append((index.scenario_ids[s], why))
            probs[r, s] = 0.0
        unmade = _into_unmade(a)
        if unmade is not None:
            moving = a.verb in language.lang().move_verbs
            for s, sw in enumerate(words):
                if sw.polarity == "constructive" or (moving and a.verb in sw.verbs):
                    if probs[r, s] > 0:
                        why = f"the request adds to {unmade.replace('_', ' ')}, which no scenario makes"
                        done.append((index.scenario_ids[s], why))
                    probs[r, s] = 0.0
        qpol = language.polarity(a.verb)
        if qpol is not None:
            for s, sw in enumerate(words):
                if (qpol, sw.polarity) in vetoes:
                    if probs[r, s] > 0:
                        why = f"the request's verb ({a.verb}) is {qpol}, the scenario is {sw.polarity}"
                        done.append((index.scenario_ids[s], why))
                    probs[r, s] = 0.0
        out.append(done)
    return out

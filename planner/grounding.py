"""What the repository holds, by kind and by the words people use for it.

Built from the engine's discovered facts: a fact with a `name` field names an object of its type (`app(name:
dhg-hub)`), a field called like a kind names one of that kind (`command(pipeline: gmail)` names the pipeline
gmail), and fields such as `alias` or `display` add other names of the same object (a server registered as "Audio
Proxy Server"). Each object is then findable by the words of its name, by its name without the repository's
conventional prefix or kind suffix ("the hub" for dhg-hub, "the formatter service" for formatter-service) and,
for tables, without the domain prefix when that is unambiguous ("the tasks table" for dev_tasks).

Matching works on word sequences, not on one regular expression per name, so a repository with thousands of
objects costs one pass over the request. A plain word ("document", "presentations") names an object only next
to a word of its kind or as a whole noun phrase ("the hub"); an identifier (dhg-hub, dev_tasks) or a word no
dictionary knows ("gmail") names it anywhere.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from continuous.planner import language
from continuous.planner.conventions import Conventions
from continuous.planner.conventions import default as default_conventions

_SPLIT_CAMEL = re.compile(r"([a-z0-9])([A-Z])|([A-Z]+)([A-Z][a-z])")
_WORDS = re.compile(r"[A-Za-z0-9]+")


def _file_path(token: str) -> bool:
    return "/" in token and not token.startswith("/") and ":" not in token and "{" not in token


_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[._:/-][A-Za-z0-9]+)*|[@./][A-Za-z0-9][\w./@-]*")
ALIAS_FIELDS = ("alias", "aliases", "display", "display_name", "label", "title")


def words_of(text: str) -> list[str]:
    spaced = _SPLIT_CAMEL.sub(lambda m: f"{m.group(1) or m.group(3)} {m.group(2) or m.group(4)}", text)
    return [w.lower() for w in _WORDS.findall(spaced)]


def to_snake(text: str) -> str:
    return "_".join(words_of(text))


def to_kebab(text: str) -> str:
    return "-".join(words_of(text))


def pascal(text: str) -> str:
    return "".join(w.capitalize() for w in words_of(text))


def singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("ses") and not word.endswith("sses"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@dataclass(frozen=True)
class Entity:
    kind: str
    name: str
    aliases: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()

    def field(self, key: str) -> str | None:
        return next((v for k, v in self.fields if k == key), None)


@dataclass(frozen=True)
class Mention:
    """A span of the request that names an existing object. `strength`: 3 an identifier as written, 2 every
    word of the name, 1 a short form (without prefix, kind suffix or table domain)."""

    kind: str
    name: str
    start: int
    end: int
    strength: int
    next_to_kind: bool = False

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


@dataclass
class Repo:
    """The repository's objects: `by_kind` maps a kind to its names; `routable` holds proxies that have a route
    table (discovered endpoints), which add-proxy-endpoint can extend."""

    entities: list[Entity] = field(default_factory=list)
    conventions: Conventions = field(default_factory=default_conventions)
    ordinary: Callable[[str], bool] | None = None
    by_kind: dict[str, set[str]] = field(default_factory=dict)
    routable: set[str] = field(default_factory=set)
    _forms: dict[tuple[str, ...], list[tuple[Entity, int]]] = field(default_factory=dict, repr=False)
    _exact: dict[str, list[Entity]] = field(default_factory=dict, repr=False)
    _seen: dict[str, tuple[Mention, ...]] = field(default_factory=dict, repr=False)
    _short: dict[str, dict[str, list[str]]] = field(default_factory=dict, repr=False)
    _words: dict[str, list[tuple[str, frozenset[str]]]] = field(default_factory=dict, repr=False)
    _all: set[str] | None = field(default=None, repr=False)
    # short forms several objects share ("user profiles" of auth_user_profiles and filter_user_profiles)
    _shared: set[tuple[str, ...]] = field(default_factory=set, repr=False)
    _candidates: dict[tuple[str, str], list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for e in self.entities:
            self.by_kind.setdefault(e.kind, set()).add(e.name)
        self._index()

    # ------------------------------------------------------------ building

    @classmethod
    def from_facts(
        cls,
        facts: Iterable[object],
        conventions: Conventions | None = None,
        ordinary: Callable[[str], bool] | None = None,
    ) -> Repo:
        conv = conventions or default_conventions()
        kinds = set(conv.kinds.object_kinds)
        seen: dict[tuple[str, str], Entity] = {}
        routable: set[str] = set()
        facts = list(facts)
        other_names: list[tuple[str, str, tuple[str, ...]]] = []
        # a kind with facts of its own (table facts) is known from them only; the fields of other facts that
        # name one (an rls_policy's table) may name what a later migration renamed or dropped
        primary = {
            conv.kind(str(getattr(f, "type", "")))
            for f in facts
            if isinstance(getattr(f, "fields", None), Mapping) and "name" in f.fields  # type: ignore[attr-defined]
        } & kinds
        for fact in facts:
            fields = getattr(fact, "fields", {})
            if not isinstance(fields, Mapping):
                continue
            ftype = str(getattr(fact, "type", ""))
            if ftype == "endpoint" and isinstance(fields.get("proxy"), str):
                routable.add(str(fields["proxy"]))
            strings = {k: str(v) for k, v in fields.items() if isinstance(v, str | int) and str(v)}
            aliases = tuple(strings[k] for k in ALIAS_FIELDS if k in strings and _is_name(strings[k]))
            for key, value in strings.items():
                if key in ALIAS_FIELDS:
                    continue
                kind = conv.kind(ftype) if key == "name" else conv.kind(key)
                if kind not in kinds or ("/" in value and kind != "package"):
                    continue
                if key == "name":
                    _add(seen, kind, (value, *aliases), strings)
                elif kind not in primary:
                    _add(seen, kind, (value,), {})
                elif aliases and "name" not in strings:
                    other_names.append((kind, value, aliases))
        _add_other_names(seen, other_names)
        repo = cls(list(seen.values()), conv, ordinary)
        repo.routable = routable
        return repo

    def _index(self) -> None:
        conv = self.conventions
        prefix_words = tuple(words_of(conv.app_prefix))
        domains = set(conv.table_domains)
        tails: dict[tuple[str, ...], int] = {}
        short: list[tuple[Entity, tuple[str, ...]]] = []
        for e in self.entities:
            for name in (e.name, *e.aliases):
                self._exact.setdefault(name.lower(), []).append(e)
                for variant in (name.replace("-", "_"), name.replace("_", "-")):
                    self._exact.setdefault(variant.lower(), []).append(e)
                ws = tuple(words_of(name))
                if not ws:
                    continue
                self._add_form(ws, e, 2)
                stripped = list(ws)
                if e.kind == "app" and prefix_words and tuple(stripped[: len(prefix_words)]) == prefix_words:
                    stripped = stripped[len(prefix_words) :]
                suffixes = conv.kind_suffixes.get(e.kind, ())
                while len(stripped) > 1 and stripped[-1] in suffixes:
                    stripped = stripped[:-1]
                if e.kind == "table" and len(stripped) > 1 and stripped[0] in domains:
                    tail = tuple(stripped[1:])
                    tails[tail] = tails.get(tail, 0) + 1
                    short.append((e, tail))
                if tuple(stripped) != ws and stripped and len("".join(stripped)) > 2:
                    self._add_form(tuple(stripped), e, 1)
        # a tail is a short form only when no other table's name ends in it ("profiles" is no short form of
        # expert_profiles while auth_user_profiles exists)
        ends: dict[tuple[str, ...], int] = {}
        table_words = {tuple(words_of(e.name)) for e in self.entities if e.kind == "table"}
        for tail in tails:
            ends[tail] = sum(1 for ws in table_words if ws[-len(tail) :] == tail)
        for e, tail in short:
            if tails.get(tail) == 1 and ends.get(tail, 1) == 1:
                self._add_form(tail, e, 1)
            elif len(tail) > 1:
                self._shared.update({tail, (*tail[:-1], singular(tail[-1]))})

    def _add_form(self, ws: tuple[str, ...], e: Entity, strength: int) -> None:
        for variant in {ws, (*ws[:-1], singular(ws[-1]))}:
            bucket = self._forms.setdefault(variant, [])
            if not any(x is e for x, _ in bucket):
                bucket.append((e, strength))

    # ------------------------------------------------------------ queries

    def names(self, kind: str) -> set[str]:
        return self.by_kind.get(kind, set())

    def has(self, kind: str, name: str) -> bool:
        return self.lookup(kind, name) is not None

    def lookup(self, kind: str, text: str) -> str | None:
        """The existing object of `kind` that `text` names exactly (any spelling of its name or an alias)."""
        for e in self._exact.get(text.lower(), ()):
            if e.kind == kind:
                return e.name
        hits = {e.name for e, _ in self._forms.get(tuple(words_of(text)), ()) if e.kind == kind}
        if not hits:
            ws = tuple(words_of(text))
            if ws:
                hits = {e.name for e, _ in self._forms.get((*ws[:-1], singular(ws[-1])), ()) if e.kind == kind}
        return next(iter(hits)) if len(hits) == 1 else None

    def entity(self, kind: str, name: str) -> Entity | None:
        return next((e for e in self._exact.get(name.lower(), ()) if e.kind == kind), None)

    def candidates(self, kind: str, text: str, limit: int = 5) -> list[str]:
        """Existing objects of `kind` whose name shares a word with `text` or is spelt close to it."""
        key = (kind, text.lower())
        if key in self._candidates:
            return self._candidates[key][:limit]
        want = {singular(w) for w in words_of(text) if len(w) > 2}
        spelt = to_kebab(text)
        short = self._spellings(kind)
        scored: list[tuple[float, str]] = []
        matcher = difflib.SequenceMatcher(None)
        matcher.set_seq2(spelt)
        for n in sorted(self.names(kind)):
            common = len(want & {singular(w) for w in words_of(n)})
            ratio = 0.0
            for f in short.get(n, [n.lower()]):
                matcher.set_seq1(f)
                if matcher.real_quick_ratio() >= 0.75 and matcher.quick_ratio() >= 0.75:
                    ratio = max(ratio, matcher.ratio())
            if common or ratio >= 0.75:
                scored.append((common + ratio, n))
        scored.sort(key=lambda t: -t[0])
        self._candidates[key] = [n for _, n in scored]
        return [n for _, n in scored[:limit]]

    def all_names(self) -> set[str]:
        if self._all is None:
            self._all = {n.lower() for names in self.by_kind.values() for n in names}
        return self._all

    def covering(self, kind: str, text: str) -> str | None:
        """The one existing object of `kind` whose name has every word of `text` ("sources google" →
        google_sources, "the admin app" → dhg-admin-code). One word that is the head noun of a longer name is
        not that name: the name's other words make it a narrower kind of thing ("the segments table" of a
        repository with learn_media_topic_segments is a new table, "migrations" is no sys_table_migrations)."""
        hits = self.covering_all(kind, text)
        if len(hits) != 1:
            return None
        want = [singular(w) for w in words_of(text)]
        core = [singular(w) for w in self._core_words(kind, hits[0])]
        if len(want) == 1 and len(core) > 1 and core[-1] == want[0]:
            return None
        return hits[0]

    def _core_words(self, kind: str, name: str) -> list[str]:
        """The words of a name without the repository's prefix, table domain and kind suffixes."""
        ws = words_of(name)
        prefix = words_of(self.conventions.app_prefix)
        if kind == "app" and prefix and ws[: len(prefix)] == prefix:
            ws = ws[len(prefix) :]
        if kind == "table" and len(ws) > 1 and ws[0] in self.conventions.table_domains:
            ws = ws[1:]
        suffixes = self.conventions.kind_suffixes.get(kind, ())
        while len(ws) > 1 and ws[-1] in suffixes:
            ws = ws[:-1]
        return ws

    def covering_all(self, kind: str, text: str) -> list[str]:
        """Every existing object of `kind` whose name has every word of `text`, by name."""
        want = frozenset(singular(w) for w in words_of(text))
        if not want:
            return []
        words = self._words.get(kind)
        if words is None:
            words = self._words[kind] = [(n, frozenset(singular(w) for w in words_of(n))) for n in self.names(kind)]
        hits = sorted(n for n, ws in words if want <= ws)
        # the same words in another order ("sources_google" → google_sources) beat a longer name
        same = [n for n in hits if frozenset(singular(w) for w in words_of(n)) == want]
        return same if len(same) == 1 else hits

    def _spellings(self, kind: str) -> dict[str, list[str]]:
        """Each object of `kind` with every form of its name, kebab-cased (dhg-hub: dhg-hub, hub)."""
        cached = self._short.get(kind)
        if cached is None:
            cached = {}
            for form, hits in self._forms.items():
                for e, _strength in hits:
                    if e.kind == kind:
                        cached.setdefault(e.name, [e.name.lower()]).append("-".join(form))
            self._short[kind] = cached
        return cached

    def mentioned(self, text: str) -> list[Mention]:
        """Existing objects the text names, left to right, longest and strongest first where spans overlap."""
        low = text.lower()
        cached = self._seen.get(low)
        if cached is not None:
            return list(cached)
        found: list[Mention] = []
        tokens = [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]
        # identifiers as written
        for tok, start, end in tokens:
            for e in self._exact.get(tok.lower().rstrip(".,;:"), ()):
                if re.search(r"[-_.:]", tok) or self.distinctive(tok.lower()):
                    found.append(Mention(e.kind, e.name, start, end, 3, self._next_to_kind(e.kind, low, start, end)))
        # a file path ("components/ui/tabs.vue") names an object only by a whole segment spelt as its name
        # ("apps/dhg-hub/src"); its other words are folders and files, not words of a request (a route, "/api/x"
        # or "claims/:id", keeps its words)
        paths = [(a, b) for tok, a, b in tokens if _file_path(tok)]
        for tok, start, _end in tokens:
            if not _file_path(tok):
                continue
            for seg in re.finditer(r"[^/]+", tok):
                a, b = start + seg.start(), start + seg.end()
                for ent in self._exact.get(seg.group(0).lower(), ()):
                    if re.search(r"[-_.:]", seg.group(0)) or self.distinctive(seg.group(0).lower()):
                        found.append(Mention(ent.kind, ent.name, a, b, 3, self._next_to_kind(ent.kind, low, a, b)))
        # word sequences
        wtoks = [
            (m.group(0).lower(), m.start(), m.end())
            for m in _WORDS.finditer(text)
            if not any(a <= m.start() and m.end() <= b for a, b in paths)
        ]
        for i in range(len(wtoks)):
            for n in range(min(5, len(wtoks) - i), 0, -1):
                seq = tuple(w for w, _, _ in wtoks[i : i + n])
                hits = self._forms.get(seq)
                if not hits:
                    continue
                start, end = wtoks[i][1], wtoks[i + n - 1][2]
                for e, strength in hits:
                    near = self._next_to_kind(e.kind, low, start, end)
                    # a word of the vocabulary ("the database", "the api") names an object only next to its kind
                    # the noun-phrase reading ("the hub") is for short forms of longer names; a name that is
                    # itself an ordinary word ("presentations") needs its kind next to it
                    common = language.is_object_word(seq[0]) or language.is_verb_word(seq[0]) or strength > 1
                    if n == 1 and (seq[0] in language.words("stopwords") or seq[0] in language.words("phrase_stops")):
                        continue  # "for", "the": never a name, whatever a migration's parser made of them
                    phrase_ok = not common and self._noun_phrase(low, start, end)
                    if n == 1 and not (near or phrase_ok or self.distinctive(seq[0])):
                        continue
                    found.append(Mention(e.kind, e.name, start, end, strength + (n > 1), near))
        # a word sequence several objects share as a short form names none of them, nor does a shorter form
        # inside it ("the user profiles table" is no expert_profiles)
        shared = [
            (wtoks[i][1], wtoks[i + n - 1][2])
            for i in range(len(wtoks))
            for n in range(2, min(5, len(wtoks) - i) + 1)
            if tuple(w for w, _, _ in wtoks[i : i + n]) in self._shared
        ]
        found = [
            m
            for m in found
            if m.strength > 2 or not any(a <= m.start and m.end <= b and (m.end - m.start) < b - a for a, b in shared)
        ]
        found.sort(key=lambda m: (-(m.end - m.start), -m.strength, m.start))
        out: list[Mention] = []
        for m in found:
            clash = [o for o in out if o.start < m.end and m.start < o.end]
            # a span inside a longer one is part of that name; at the same span every kind stays
            if all(o.span == m.span for o in clash) and not any(o.kind == m.kind and o.name == m.name for o in clash):
                out.append(m)
        out.sort(key=lambda m: (m.start, -m.strength))
        self._seen[low] = tuple(out)
        return out

    def distinctive(self, word: str) -> bool:
        """A word no dictionary knows (gmail, supabase) names an object wherever it stands."""
        if len(word) < 3 or not word.isalpha():
            return False
        if word in language.words("stopwords") or word in language.words("not_names"):
            return False
        if language.is_object_word(word) or language.is_verb_word(word):
            return False
        return self.ordinary is not None and not self.ordinary(word)

    def kind_words(self, kind: str) -> list[str]:
        forms = [f for f in language.lang().objects.get(kind, ()) if " " not in f]
        extra = self.conventions.kinds.words.get(kind, ())
        return sorted({kind.replace("_", " "), *forms, *extra}, key=len, reverse=True)

    def _next_to_kind(self, kind: str, low: str, start: int, end: int) -> bool:
        """A word of the object's kind right after the name (one modifier may stand between: "the gmail sync
        pipeline"), or right before it ("pipeline gmail", "the table called dev_tasks")."""
        kinds = set(self.kind_words(kind))
        if kind == "app":
            kinds |= set(self.kind_words("page"))
        after = re.findall(r"[a-z0-9]+", low[end:])[:2]
        before = re.findall(r"[a-z0-9]+", low[:start])[-2:]
        if after and (after[0] in kinds or (len(after) > 1 and after[1] in kinds)):
            return True
        return bool(
            before
            and (before[-1] in kinds or (before[-1] in ("called", "named") and len(before) > 1 and before[0] in kinds))
        )

    @staticmethod
    def _noun_phrase(low: str, start: int, end: int) -> bool:
        """A plain word that is a whole noun phrase after a determiner ("the hub", "in the hub")."""
        before = re.findall(r"[a-z0-9']+", low[:start])[-1:]
        after = re.findall(r"[a-z0-9']+", low[end:])[:1]
        if not before or before[0] not in ("the", "our", "my", "your", "their"):
            return False
        if not after:
            return True
        nxt = after[0]
        return nxt in language.words("phrase_stops") or language.is_verb_word(nxt) or nxt in ("needs", "has", "is")


def _is_name(alias: str) -> bool:
    """An alias people can say: an import path alias ("@components", "@" of a tsconfig's paths) is where code
    is found, no name of the app ("add a stub pricing page" names no app through "@pages"); a scoped package
    ("@scope/pkg") is a name."""
    return bool(re.search(r"[A-Za-z0-9]", alias)) and (not alias.startswith("@") or "/" in alias.strip("/"))


def _add_other_names(seen: dict[tuple[str, str], Entity], other_names: list[tuple[str, str, tuple[str, ...]]]) -> None:
    """Other names of existing objects (`table_alias(table: expert_profiles, alias: experts)`: a table's name
    before a rename). A chain of renames leads an old name to the object that exists now; a name an existing
    object holds itself stays that object's."""
    step = {(kind, alias): target for kind, target, aliases in other_names for alias in aliases}
    for (kind, alias), target in step.items():
        if (kind, alias) in seen:
            continue
        hops = 0
        while (kind, target) not in seen and (kind, target) in step and hops < len(step):
            target, hops = step[(kind, target)], hops + 1
        entity = seen.get((kind, target))
        if entity is not None and alias not in entity.aliases:
            seen[(kind, target)] = Entity(kind, entity.name, (*entity.aliases, alias), entity.fields)


def _add(seen: dict[tuple[str, str], Entity], kind: str, names: tuple[str, ...], fields: Mapping[str, str]) -> None:
    """One entity per kind and name; a name with spaces ("Audio Proxy Server") is found by its kebab form."""
    primary = names[0]
    extra = list(names[1:])
    if " " in primary or "(" in primary:
        extra.append(primary)
        primary = to_kebab(re.sub(r"\(.*?\)", "", primary)) or to_kebab(primary)
    key = (kind, primary)
    old = seen.get(key)
    aliases = tuple(dict.fromkeys([*(old.aliases if old else ()), *(a for a in extra if a != primary)]))
    kept = tuple(sorted((k, v) for k, v in fields.items() if k not in ("name", *ALIAS_FIELDS)))
    seen[key] = Entity(kind, primary, aliases, kept or (old.fields if old else ()))

"""Fill scenario parameters from the words of a request.

Sources, most explicit first: `called X` / `named X`, quoted names, snake_case and kebab-case identifiers, routes
(`/api/preferences`), HTTP methods, port numbers, names of objects that already exist in the repository (from the
engine's discovered facts: "add a settings page to dhg-hub" → app=dhg-hub, "in the hub" → dhg-hub), the words in
front of an object noun ("a usage page" → usage), and the subject of the request ("for managing user
preferences"). The subject is found once per request and rendered per parameter type (table user_preferences,
service user-preferences), so every step of a plan talks about the same thing. A parameter with no source stays
missing — never invented.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from continuous.dsl.model import Param, Scalar, Scenario
from continuous.planner import lexicon

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_CALLED = re.compile(r"\b(?:called|named|name(?:d)?\s+it|titled|with\s+the\s+name|name:?)\s+"
                     r"(?:\"([^\"]+)\"|'([^']+)'|`([^`]+)`|“([^”]+)”|([\w][\w\-./]*))", re.IGNORECASE)
_QUOTED = re.compile(r"\"([^\"]+)\"|'([^'\s][^']*)'(?!\w)|`([^`]+)`|“([^”]+)”")
_ROUTE = re.compile(r"(?<![\w.])(/[A-Za-z0-9_\-/{}:.]+)")
_IDENT = re.compile(r"(?<![\w/.-])([a-z][a-z0-9]*(?:[_-][a-z0-9]+)+)(?![\w/-])")
_PORT = re.compile(r"\b(?:port|on|at)\s*:?\s*(\d{4,5})\b|(?<![\w/]):(\d{4,5})\b", re.IGNORECASE)
_METHOD = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE)\b")
_METHOD_LOWER = re.compile(r"\b(get|post|put|patch|delete)\s+(?:endpoint|route|request|handler|method|api)\b",
                           re.IGNORECASE)
_SUBJECT_TRIGGERS = re.compile(
    r"\b(?:for|of|about|to\s+(?:manage|store|track|hold|keep|list|edit|show|handle|serve|save)|"
    r"(?:managing|storing|tracking|holding|keeping|listing|editing|showing|handling|serving|saving)|"
    r"manage|store|track|persist|holds?|keeps?)\s+", re.IGNORECASE)
_PRONOUNS = frozenset({"it", "them", "they", "this", "that", "those", "these", "its", "their", "everything",
                       "stuff", "things", "something", "anything", "me", "us", "you", "all"})
_NOT_NAMES = lexicon.STOPWORDS | _PRONOUNS | frozenset({
    "managing", "storing", "tracking", "holding", "editing", "showing", "handling", "listing", "saving",
    "existing", "current", "our", "admin", "dashboard", "main", "proper", "dedicated", "separate", "old",
    "legacy", "whole", "entire", "each", "users'", "user's", "today", "tomorrow", "now", "later", "soon",
    "quickly", "asap", "properly", "there", "here", "where", "which", "what", "when", "who", "how"})
_WORD = re.compile(r"[A-Za-z][\w'-]*")


@dataclass
class Known:
    """Objects that already exist in the repository, by kind (the fact type): {"app": {"dhg-hub", ...}}."""

    by_kind: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def from_facts(cls, facts: Iterable[object]) -> Known:
        out: dict[str, set[str]] = {}
        for fact in facts:
            fields = getattr(fact, "fields", {})
            name = fields.get("name") if isinstance(fields, Mapping) else None
            if isinstance(name, str) and name:
                out.setdefault(str(getattr(fact, "type", "")), set()).add(name)
        return cls(out)

    def mentioned(self, text: str) -> list[tuple[str, str, int]]:
        """(kind, name, position) of existing objects the text names, in full or by a distinctive part."""
        low = text.lower()
        out: list[tuple[str, str, int]] = []
        seen: set[tuple[str, str]] = set()
        for kind, names in self.by_kind.items():
            for name in sorted(names, key=len, reverse=True):
                pos = _find_name(low, name.lower())
                if pos >= 0 and (kind, name) not in seen:
                    seen.add((kind, name))
                    out.append((kind, name, pos))
        out.sort(key=lambda t: t[2])
        return out


def _find_name(low: str, name: str) -> int:
    variants = {name, name.replace("-", " "), name.replace("_", " "), name.replace("-", "_"), name.replace("_", "-")}
    for v in variants:
        m = re.search(r"(?<![\w-])" + re.escape(v) + r"(?![\w-])", low)
        if m:
            return m.start()
    # a distinctive part: "the hub" for dhg-hub, "the audio app" for dhg-audio (not a lexicon or stop word)
    parts = [p for p in re.split(r"[-_]", name) if len(p) > 2]
    if len(parts) >= 2:
        tail = parts[-1]
        lead = {p for p in parts[:-1]}
        if tail not in lexicon.STOPWORDS and not lexicon.find(tail, "objects") and not lexicon.find(tail, "verbs") \
                and len(lead) >= 1:
            m = re.search(r"(?<![\w-])" + re.escape(tail) + r"(?![\w-])", low)
            if m:
                return m.start()
    return -1


def words_of(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Za-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text))]


def to_snake(text: str) -> str:
    return "_".join(words_of(text))


def to_kebab(text: str) -> str:
    return "-".join(words_of(text))


def explicit_name(text: str, exclude: set[str]) -> str | None:
    """A name the user spelt out: called X, a quoted name, or a snake/kebab identifier."""
    m = _CALLED.search(text)
    if m:
        value = next(g for g in m.groups() if g)
        if value.lower() not in _NOT_NAMES:
            return value.strip(".,;:")
    for m in _QUOTED.finditer(text):
        value = next(g for g in m.groups() if g)
        if value.strip() and not value.startswith("/") and len(value.split()) <= 4:
            return value.strip()
    for m in _IDENT.finditer(text):
        value = m.group(1)
        if value.lower() not in exclude and not _ROUTE.match(value):
            return value
    return None


def route(text: str) -> str | None:
    m = _ROUTE.search(text)
    return m.group(1).rstrip(".,;:") if m else None


def method(text: str) -> str | None:
    m = _METHOD.search(text)
    if m:
        return m.group(1)
    m = _METHOD_LOWER.search(text)
    return m.group(1).upper() if m else None


def port(text: str) -> int | None:
    m = _PORT.search(text)
    if not m:
        return None
    value = int(next(g for g in m.groups() if g))
    return value if 1 <= value <= 65535 else None


def _phrase_after(text: str, start: int) -> str | None:
    """Up to three name-like words from `start`, stopping at connectives, verbs and object nouns."""
    taken: list[str] = []
    for m in _WORD.finditer(text, start):
        w = m.group(0).lower().strip("'")
        if w in ("and", "or", "with", "in", "into", "to", "on", "from", "by", "then", "plus", "via", "through",
                 "using", "so", "that", "which", "where", "as", "at"):
            break
        if w in _NOT_NAMES and not taken:
            if w in _PRONOUNS:
                return None
            continue
        if lexicon.find(w, "objects") or lexicon.find(w, "verbs") or w in _NOT_NAMES:
            if taken:
                break
            continue
        taken.append(w)
        if len(taken) == 3:
            break
    return " ".join(taken) or None


def subject(text: str, exclude: set[str]) -> str | None:
    """What the request is about: "for managing user preferences" → user preferences."""
    name = explicit_name(text, exclude)
    if name:
        return name
    for m in _SUBJECT_TRIGGERS.finditer(text):
        phrase = _phrase_after(text, m.end())
        if phrase and phrase not in exclude:
            return phrase
    mods = modifiers(text, exclude)
    if mods:
        return mods
    r = route(text)
    if r:
        segs = [s for s in r.split("/") if s and s not in ("api", "v1", "v2") and not s.startswith((":", "{"))]
        if segs:
            return segs[-1]
    return None


def modifiers(text: str, exclude: set[str], head: str | None = None) -> str | None:
    """The words right before an object noun: "a usage page" → usage; "the orders table" → orders."""
    for canon, start, _end in lexicon.find(text, "objects"):
        if head is not None and canon != head:
            continue
        before = re.findall(r"[A-Za-z][\w'-]*", text[:start])
        taken: list[str] = []
        for w in reversed(before):
            lw = w.lower()
            if lw in _NOT_NAMES or lw in exclude or lexicon.find(lw, "verbs") or lexicon.find(lw, "objects") \
                    or re.fullmatch(r"[a-z]+ing", lw):
                break
            taken.insert(0, lw)
            if len(taken) == 2:
                break
        if taken:
            return " ".join(taken)
    return None


@dataclass
class Filled:
    params: dict[str, Scalar]
    missing: list[str]
    sources: dict[str, str]


def _convert(param: Param, value: str) -> Scalar | None:
    from continuous.dsl.params import check_value

    candidate: Scalar
    if param.type == "snake":
        candidate = to_snake(value)
    elif param.type == "kebab":
        candidate = to_kebab(value)
    elif param.type == "int":
        if not re.fullmatch(r"\d+", value):
            return None
        candidate = int(value)
    elif param.type == "enum":
        low = value.lower()
        candidate = next((c for c in param.choices if c.lower() == low), "")
    elif param.type == "bool":
        return None
    else:
        candidate = value
    return candidate if candidate != "" and check_value(param, candidate) is None else None


_CONTAINER_PREP = re.compile(r"\b(?:to|in|into|on|inside|within|under|for|of|from)\s+(?:the\s+)?"
                             r"([a-z][a-z0-9]*(?:[-_][a-z0-9]+)+)", re.IGNORECASE)


def fill(scenario: Scenario, clause: str, request: str, known: Known, subject_name: str | None) -> Filled:
    """Parameters of `scenario` for one intent (`clause`) of a request."""
    params: dict[str, Scalar] = {}
    sources: dict[str, str] = {}
    mentioned = known.mentioned(clause) or []
    mentioned_anywhere = known.mentioned(request)
    existing_names = {n.lower() for names in known.by_kind.values() for n in names}
    head = _head_object(scenario)

    def put(p: Param, raw: str | int | None, source: str) -> bool:
        if raw is None or p.name in params:
            return False
        value = _convert(p, str(raw))
        if value is None:
            return False
        params[p.name] = value
        sources[p.name] = source
        return True

    for p in scenario.params:
        n = p.name.lower()
        if p.type == "enum":
            choices = {c.lower(): c for c in p.choices}
            if set(choices) >= {m.lower() for m in HTTP_METHODS} or n == "method":
                put(p, method(clause), "HTTP method")
                continue
            for w in words_of(clause):
                if w in choices:
                    put(p, choices[w], f"the word {w!r}")
                    break
            continue
        if n == "method":
            put(p, method(clause), "HTTP method")
        elif n in ("path", "route", "url") or (p.type == "path" and "route" in p.doc.lower()):
            r = route(clause)
            if r is None and subject_name and head in ("endpoint", "proxy"):
                r = "/api/" + to_kebab(subject_name)
                put(p, r, f"derived from the subject {subject_name!r}")
            else:
                put(p, r, "route in the request")
        elif n == "port" or p.type == "int":
            put(p, port(clause), "port number")
        elif n in known.by_kind or n in ("app", "pipeline", "proxy", "service", "table", "domain"):
            _fill_container(p, n, clause, request, mentioned, mentioned_anywhere, known, head, subject_name, put)
        elif n in ("name", "title", "id") or n.endswith("_name"):
            _fill_name(p, clause, existing_names, head, subject_name, put)
        elif n in ("command", "cmd", "script", "run"):
            m = _QUOTED.search(clause)
            if m:
                put(p, next(g for g in m.groups() if g), "quoted command")
        elif p.type == "path":
            m = re.search(r"(?<![\w/])((?:[\w.-]+/)+[\w.-]+\.\w+)", clause)
            if m:
                put(p, m.group(1), "file path in the request")
        elif p.type == "bool":
            continue
    missing = [p.name for p in scenario.params if p.required and p.name not in params and p.default is None]
    return Filled(params, missing, sources)


def _head_object(scenario: Scenario) -> str | None:
    _, objs = lexicon.canonical_words(scenario.id, scenario.aliases)
    for preferred in ("table", "view", "page", "app", "component", "endpoint", "command", "pipeline", "script",
                      "service", "proxy"):
        if preferred in objs:
            return preferred
    return next(iter(sorted(objs)), None)


def _fill_container(p: Param, kind: str, clause: str, request: str, mentioned: list[tuple[str, str, int]],
                    anywhere: list[tuple[str, str, int]], known: Known, head: str | None,
                    subject_name: str | None, put: object) -> None:
    assert callable(put)
    for k, name, _ in mentioned:
        if k == kind and put(p, name, f"existing {kind} named in the request"):
            return
    m = _CONTAINER_PREP.search(clause)
    if m and put(p, m.group(1), f"the {kind} the request names"):
        return
    mods = modifiers(clause, set(), head=_kind_object(kind))
    if mods and kind not in (head or "") and put(p, mods, f"the words before {kind!r}"):
        return
    for k, name, _ in anywhere:
        if k == kind and put(p, name, f"existing {kind} named in the request"):
            return
    if kind in ("table", "service") and subject_name:
        put(p, subject_name, f"derived from the subject {subject_name!r}")


def _kind_object(kind: str) -> str:
    return {"pipeline": "pipeline", "domain": "pipeline"}.get(kind, kind)


def _fill_name(p: Param, clause: str, existing: set[str], head: str | None, subject_name: str | None,
               put: object) -> None:
    assert callable(put)
    name = explicit_name(clause, existing)
    if name and put(p, name, "name given in the request"):
        return
    mods = modifiers(clause, existing, head=head) if head else None
    if mods and put(p, mods, f"the words before the {head}"):
        return
    for m in _SUBJECT_TRIGGERS.finditer(clause):
        phrase = _phrase_after(clause, m.end())
        if phrase and phrase not in existing and put(p, phrase, f"the subject of this part ({phrase!r})"):
            return
    if subject_name:
        put(p, subject_name, f"derived from the subject {subject_name!r}")

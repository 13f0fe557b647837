"""Fill scenario parameters from the words of a request.

Sources, most explicit first: `called X` / `named X`, quoted names, snake_case and kebab-case identifiers,
routes
(`/api/preferences`), HTTP methods, port numbers, names of objects that already exist in the repository (from
the
engine's discovered facts: "add a settings page to dhg-hub" → app=dhg-hub, "in the hub" → dhg-hub), the words
in
front of an object noun ("a usage page" → usage), and the subject of the request ("for managing user
preferences"). The subject is found once per request and rendered per parameter type (table user_preferences,
service user-preferences), so every step of a plan talks about the same thing. A parameter with no source
stays
missing — never invented.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from continuous.dsl.model import Param, Scalar, Scenario
from continuous.planner import lexicon

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_CALLED = re.compile(
    r"\b(?:called|named|name(?:d)?\s+it|titled|with\s+the\s+name|name:?)\s+"
    r"(?:\"([^\"]+)\"|'([^']+)'|`([^`]+)`|“([^”]+)”|([\w@][\w\-./:@]*\w))",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"\"([^\"]+)\"|'([^'\s][^']*)'(?!\w)|`([^`]+)`|“([^”]+)”")
_ROUTE = re.compile(r"(?<![\w.])(/[A-Za-z0-9_\-/{}:.]+)")
_IDENT = re.compile(r"(?<![\w/.-])([a-z][a-z0-9]*(?:[_-][a-z0-9]+)+)(?![\w/-])")
_PORT = re.compile(r"\b(?:port|on|at)\s*:?\s*(\d{4,5})\b|(?<![\w/]):(\d{4,5})\b", re.IGNORECASE)
_METHOD = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE)\b")
_METHOD_LOWER = re.compile(
    r"\b(get|post|put|patch|delete)\s+(?:endpoint|route|request|handler|method|api)\b", re.IGNORECASE
)
_SUBJECT_TRIGGERS = re.compile(
    r"\b(?:for|of|about|to\s+(?:manage|store|track|hold|keep|list|edit|show|handle|serve|save)|"
    r"(?:managing|storing|tracking|holding|keeping|listing|editing|showing|handling|serving|saving)|"
    r"manage|store|track|persist|holds?|keeps?)\s+",
    re.IGNORECASE,
)
_PRONOUNS = frozenset(
    {
        "it",
        "them",
        "they",
        "this",
        "that",
        "those",
        "these",
        "its",
        "their",
        "everything",
        "stuff",
        "things",
        "something",
        "anything",
        "me",
        "us",
        "you",
        "all",
    }
)
_NOT_NAMES = (
    lexicon.STOPWORDS
    | _PRONOUNS
    | frozenset(
        {
            "other",
            "others",
            "same",
            "different",
            "several",
            "multiple",
            "many",
            "various",
            "managing",
            "storing",
            "tracking",
            "holding",
            "editing",
            "showing",
            "handling",
            "listing",
            "saving",
            "existing",
            "current",
            "our",
            "admin",
            "dashboard",
            "main",
            "proper",
            "dedicated",
            "separate",
            "old",
            "legacy",
            "whole",
            "entire",
            "each",
            "users'",
            "user's",
            "today",
            "tomorrow",
            "now",
            "later",
            "soon",
            "quickly",
            "asap",
            "properly",
            "there",
            "here",
            "where",
            "which",
            "what",
            "when",
            "who",
            "how",
        }
    )
)
_WORD = re.compile(r"[A-Za-z][\w'-]*")


OBJECT_KINDS = frozenset(
    {"app", "service", "table", "pipeline", "proxy", "view", "component", "page", "script"}
)
KIND_ALIASES = {"domain": "pipeline", "server": "proxy", "proxy_server": "proxy", "cli_pipeline": "pipeline"}


@dataclass
class Known:
    """Objects that already exist in the repository, by kind (the fact type): {"app": {"dhg-hub", ...}}."""

    by_kind: dict[str, set[str]] = field(default_factory=dict)
    # proxies with a route table (they have discovered endpoints): the ones add-proxy-endpoint can extend
    routable: set[str] = field(default_factory=set)
    _compiled: list[tuple[str, str, list[re.Pattern[str]]]] | None = field(
        default=None, repr=False, compare=False
    )
    _seen: dict[str, tuple[tuple[str, str, int, int], ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def from_facts(cls, facts: Iterable[object]) -> Known:
        """Names of objects in facts: a `name` field names an object of the fact's type (`app(name:
        dhg-hub)`), and
        a field called like a kind of object names one of that kind (`std_table_created(table:
        doc_files)`)."""
        out: dict[str, set[str]] = {}
        routable: set[str] = set()
        for fact in facts:
            fields = getattr(fact, "fields", {})
            if not isinstance(fields, Mapping):
                continue
            ftype = str(getattr(fact, "type", ""))
            if ftype == "endpoint" and isinstance(fields.get("proxy"), str):
                routable.add(str(fields["proxy"]))
            for key, value in fields.items():
                if not isinstance(value, str) or not value or "/" in value or " " in value:
                    continue
                kind = ftype if key == "name" else key
                kind = KIND_ALIASES.get(kind, kind)
                if key == "name" or kind in OBJECT_KINDS:
                    out.setdefault(kind, set()).add(value)
        return cls(out, routable)

    def mentioned(self, text: str) -> list[tuple[str, str, int, int]]:
        """(kind, name, start, end) of existing objects the text names, in the order written. Identifiers
        (dhg-hub, doc_files) count anywhere, a distinctive last part too ("the hub"); a plain word
        ("database", "Settings") only next to its kind ("the database pipeline", "the Settings page")."""
        low = text.lower()
        cached = self._seen.get(low)
        if cached is not None:
            return list(cached)
        out: list[tuple[str, str, int, int]] = []
        taken: list[tuple[int, int]] = []
        for kind, name, patterns in self._patterns():
            for pattern in patterns:
                m = pattern.search(low)
                if m is None:
                    continue
                span = (m.start("n"), m.end("n"))
                if not any(a < span[1] and span[0] < b for a, b in taken):
                    taken.append(span)
                    out.append((kind, name, span[0], span[1]))
                break
        out.sort(key=lambda t: t[2])
        self._seen[low] = tuple(out)
        return out

    def _patterns(self) -> list[tuple[str, str, list[re.Pattern[str]]]]:
        if self._compiled is None:
            items = sorted(
                ((k, n) for k, names in self.by_kind.items() for n in names), key=lambda kn: -len(kn[1])
            )
            self._compiled = [(k, n, _name_patterns(n.lower(), k)) for k, n in items]
        return self._compiled


# how people refer to a kind of object right next to its name: "the document cli", "the md-server proxy"
_KIND_EXTRA = {
    "pipeline": ("cli", "pipeline", "domain"),
    "proxy": ("server", "proxy"),
    "app": ("app", "application"),
    "service": ("service",),
    "table": ("table",),
    "command": ("command", "subcommand"),
}


def kind_words(kind: str) -> list[str]:
    return _kind_words(kind)


def _kind_words(kind: str) -> list[str]:
    forms = [f for f in lexicon.OBJECTS.get(kind, ()) if " " not in f]
    return sorted({kind.replace("_", " "), *forms, *_KIND_EXTRA.get(kind, ())}, key=len, reverse=True)


def _name_patterns(name: str, kind: str) -> list[re.Pattern[str]]:
    """How a name can appear in text, most specific first; the name itself is the group "n"."""
    if re.search(r"[-_]", name):
        variants = sorted({name, name.replace("-", "_"), name.replace("_", "-")}, key=len, reverse=True)
        out = [re.compile(r"(?<![\w-])(?P<n>" + re.escape(v) + r")(?![\w-])") for v in variants]
        parts = [p for p in re.split(r"[-_]", name) if p]
        tail = parts[-1]
        if (
            len(parts) >= 2
            and len(tail) > 2
            and tail not in lexicon.STOPWORDS
            and not lexicon.find(tail, "objects")
            and not lexicon.find(tail, "verbs")
        ):
            out.append(re.compile(r"(?<![\w-])(?P<n>" + re.escape(tail) + r")(?![\w-])"))
        return out
    kinds = "|".join(re.escape(k) for k in _kind_words(kind))
    return [
        re.compile(rf"(?<![\w-])(?P<n>{re.escape(name)})\s+(?:{kinds})\b"),
        re.compile(rf"\b(?:{kinds})\s+(?:called\s+|named\s+)?(?P<n>{re.escape(name)})(?![\w-])"),
    ]


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


# script names in the colon style of package.json scripts: lint:all, sync:drive-files, typecheck:apps
_COLON_IDENT = re.compile(
    r"(?<![\w/.:@-])([a-z][a-z0-9]*(?:[_-][a-z0-9]+)*(?::[a-z0-9]+(?:[_-][a-z0-9]+)*)+)(?![\w/:-])"
)
# what a script or command runs: "that runs turbo lint", "running `vitest run`", "to run eslint ."
_RUNS = re.compile(
    r"\b(?:(?:that|which|to|and)\s+)?(?:runs?|running|executes?|executing|calls?|calling|invokes?|invoking)"
    r"\s+(?:\"([^\"]+)\"|'([^']+)'|`([^`]+)`|“([^”]+)”|(?=[\w.@/-]))",
    re.IGNORECASE,
)
_COMMAND_TOKEN = re.compile(r"\S+")
# a package manager running one of the workspace's own scripts
_RUNS_SCRIPT = re.compile(r"(?:pnpm|npm|yarn)(?:\s+run)?\s+[a-z][\w:-]*", re.IGNORECASE)
# words that end a command given in plain words: "runs eslint everywhere", "runs vitest in every package"
_COMMAND_STOP = frozenset(
    re.findall(
        r"\S+",
        """and then so for from in inside across on over when whenever before after everywhere with without
        every each all via through using as at by to if once daily nightly weekly""",
    )
)


def command_phrase(text: str) -> tuple[str, int, int] | None:
    """The command line a request says something runs, and its span: a quoted command after a verb of running
    ("that runs `turbo lint`"), else the command-like words after it ("running playwright test") up to the first
    word that is no part of a command. Words that describe rather than spell a command ("to run the google
    sync", "to run tests") give nothing."""
    for m in _RUNS.finditer(text):
        quoted = next((g for g in m.groups() if g), None)
        if quoted is not None:
            return quoted.strip(), m.start(), m.end()
        taken: list[str] = []
        end = m.end()
        for t in _COMMAND_TOKEN.finditer(text, m.end()):
            raw = t.group(0)
            word = raw.rstrip(".,;:!?") if not re.fullmatch(r"[.]+", raw) else raw
            low = word.lower()
            if not word or low in _COMMAND_STOP:
                break
            taken.append(word)
            end = t.start() + len(word)
            if word != raw:
                break
        if not taken:
            continue
        phrase = " ".join(taken)
        if taken[0].lower() in _NOT_NAMES or not _beyond_lexicon(phrase):
            continue
        return phrase, m.start(), end
    return None


def _beyond_lexicon(phrase: str) -> bool:
    """Whether a phrase says more than the lexicon's own words ("unit tests" does not; "vitest run" does)."""
    low = phrase.lower()
    for table in ("objects", "verbs"):
        for _c, start, end in sorted(lexicon.find(low, table), key=lambda t: -t[1]):
            low = low[:start] + " " * (end - start) + low[end:]
    return any(w not in _NOT_NAMES for w in low.split())


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
        if w in (
            "and",
            "or",
            "with",
            "in",
            "into",
            "to",
            "on",
            "from",
            "by",
            "then",
            "plus",
            "via",
            "through",
            "using",
            "so",
            "that",
            "which",
            "where",
            "as",
            "at",
        ):
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
        segs = [
            s for s in r.split("/") if s and s not in ("api", "v1", "v2") and not s.startswith((":", "{"))
        ]
        if segs:
            return segs[-1]
    return None


def modifiers(text: str, exclude: set[str], head: str | None = None) -> str | None:
    """The words right before an object noun: "a usage page" → usage; "the orders table" → orders; "a date
    picker
    component" → date picker (a word of the same kind right before the noun is part of the name)."""
    found = lexicon.find(text, "objects")
    for k, (canon, start, end) in enumerate(found):
        if head is not None and canon != head:
            continue
        nxt = next(((c, s2, e2) for c, s2, e2 in found[k + 1 :] if s2 >= end), None)
        if nxt is not None and nxt[0] == canon and not text[end : nxt[1]].strip():
            continue  # "picker component": the noun is the second word
        before = re.findall(r"[A-Za-z][\w'-]*", text[:start])
        head_word = text[start:end].lower()
        own = (
            [head_word]
            if any(c == canon and s2 == start for c, s2, _ in found[: k + 1])
            and k > 0
            and found[k - 1][0] == canon
            and not text[found[k - 1][2] : start].strip()
            else []
        )
        taken: list[str] = []
        if own:
            prev = found[k - 1]
            taken = [text[prev[1] : prev[2]].lower()]
            before = re.findall(r"[A-Za-z][\w'-]*", text[: prev[1]])
        for w in reversed(before):
            lw = w.lower()
            if lw in _NOT_NAMES or lw in exclude or lexicon.find(lw, "verbs") or lexicon.find(lw, "objects"):
                break
            taken.insert(0, lw)
            if len(taken) == 3:
                break
        if taken and (not own or len(taken) > 1):
            return " ".join(taken)
    return None


@dataclass
class Filled:
    params: dict[str, Scalar]
    missing: list[str]
    sources: dict[str, str]


def pascal(text: str) -> str:
    return "".join(w.capitalize() for w in words_of(text))


_pascal = pascal


def _styles(value: str) -> list[str]:
    return [value, to_snake(value), to_kebab(value), _pascal(value), to_snake(value).upper(), value.lower()]


def _pattern_affixes(pattern: str | None) -> tuple[str, list[str]]:
    """A literal prefix the pattern demands (`dhg-[a-z]+` → "dhg-") and literal alternatives it offers as
    suffixes (`[a-z_]*(_summary|_status)` → ["_summary", "_status"]), so a derived name can follow the
    convention."""
    if not pattern:
        return "", []
    m = re.match(r"^([A-Za-z0-9_\-]+)(?=[\[(.\\])", pattern)
    prefix = m.group(1).replace("\\-", "-") if m else ""
    suffixes: list[str] = []
    for group in re.findall(r"\(((?:[A-Za-z0-9_\-]+\|)+[A-Za-z0-9_\-]+)\)", pattern):
        suffixes.extend(group.split("|"))
    return prefix, suffixes


def _convert(param: Param, value: str, *, derived: bool = False) -> Scalar | None:
    """`value` rendered as the parameter's type and naming style, or None if no rendering is valid."""
    from continuous.dsl.params import check_value

    if param.type in ("int", "port"):
        return int(value) if re.fullmatch(r"\d+", value) and check_value(param, int(value)) is None else None
    if param.type == "bool":
        return None
    if param.type == "enum":
        low = value.lower()
        choice = next((c for c in param.choices if c.lower() == low), None)
        return choice
    if param.type == "snake":
        candidates = [to_snake(value)]
    elif param.type == "kebab":
        candidates = [to_kebab(value)]
    elif param.type == "path":
        candidates = [value]
    else:
        candidates = _styles(value) if " " in value or param.pattern else [value]
    prefix, suffixes = _pattern_affixes(param.pattern)
    extra: list[str] = []
    for c in candidates:
        sep = "_" if "_" in c or param.type == "snake" else "-"
        if prefix and not c.startswith(prefix):
            extra.append(prefix + c)
        extra.extend(c + suf if suf[:1] in "_-" else c + sep + suf for suf in suffixes if not c.endswith(suf))
    for candidate in [*candidates, *extra]:
        if candidate and check_value(param, candidate) is None:
            return candidate
    return None


_CONTAINER_PREP = re.compile(
    r"\b(?:to|in|into|on|inside|within|under|for|of|from|through|via|behind)\s+(?:the\s+)?"
    r"([a-z][a-z0-9]*(?:[-_][a-z0-9]+)+)",
    re.IGNORECASE,
)
_CONTAINER_PARAMS = {"app", "pipeline", "proxy", "service", "table", "domain", "source", "view"}
_COMMAND_PARAMS = {"command", "cmd", "run"}
_TARGET_PARAMS = {"target", "package", "subject", "object"}


def fill(scenario: Scenario, clause: str, request: str, known: Known, subject_name: str | None) -> Filled:
    """Parameters of `scenario` for one intent (`clause`) of a request."""
    from continuous.planner import lexicon as lx

    params: dict[str, Scalar] = {}
    sources: dict[str, str] = {}
    mentioned = known.mentioned(clause)
    anywhere = known.mentioned(request)
    head = _head_object(scenario)
    # names of other kinds of objects are not names for this one (a page is not called dhg-hub); an existing
    # name
    # of the same kind is fine: the resolver leaves that item out, saying it already holds
    existing = {n.lower() for kind, names in known.by_kind.items() if kind != head for n in names}
    verbs, _ = lx.canonical_words(scenario.id, ())
    creates = not verbs or "create" in verbs
    used: set[str] = set()

    def put(p: Param, raw: str | int | None, source: str, *, derived: bool = False) -> bool:
        if raw is None or p.name in params:
            return False
        value = _convert(p, str(raw), derived=derived)
        if value is None:
            return False
        params[p.name] = value
        sources[p.name] = source
        used.add(str(raw).lower())
        return True

    # the command a script runs is no source of its name or of anything else
    command: tuple[str, int, int] | None = None
    runs_itself = False
    if any(p.name.lower() in _COMMAND_PARAMS for p in scenario.params):
        command = command_phrase(clause)
        if command is not None and _RUNS_SCRIPT.fullmatch(command[0]):
            # "I want to run `pnpm typecheck:apps`": that names the script; what it runs is not said
            command, runs_itself = None, True
        if command is not None:
            clause = clause[: command[1]] + " " * (command[2] - command[1]) + clause[command[2] :]

    pair = [p for p in scenario.params if p.name in ("source", "target")]
    if len(pair) == 2:
        names = [n for _, n, *_ in mentioned] or [m.group(1) for m in _IDENT.finditer(clause)]
        for p, name in zip(pair, names, strict=False):
            put(p, name, f"the {'first' if p.name == 'source' else 'second'} object the request names")

    entity_param = scenario.param("entity")
    if entity_param is not None:
        found = entity(clause, known)
        if found is not None:
            put(entity_param, found[0], found[1])

    for p in scenario.params:
        n = p.name.lower()
        if n in params:
            continue
        if n in _COMMAND_PARAMS:
            # a command line is spelt out ("that runs turbo lint", "`vitest run`"), never an existing object
            if command is not None:
                put(p, command[0], "the command the request says it runs")
            elif not runs_itself and (m := _QUOTED.search(clause)):
                quoted = next(g for g in m.groups() if g)
                if not _RUNS_SCRIPT.fullmatch(quoted.strip()):
                    put(p, quoted, "quoted command")
            continue
        if n in ("proxy", "service") and entity_param is not None:
            _fill_backing(p, n, mentioned, known, "entity" in params, put)
            continue
        if p.type == "enum":
            choices = {c.lower(): c for c in p.choices}
            if set(choices) >= {m.lower() for m in HTTP_METHODS} or n == "method":
                put(p, method(clause), "HTTP method")
                continue
            for w in words_of(clause):
                if w in choices and p.default != choices[w]:
                    put(p, choices[w], f"the word {w!r}")
                    break
            continue
        if n == "method":
            put(p, method(clause), "HTTP method")
        elif n in ("path", "route", "url") and p.type != "path":
            r = route(clause)
            if r is None and p.required and subject_name and head in ("endpoint", "proxy"):
                put(
                    p,
                    "/api/" + to_kebab(subject_name),
                    f"derived from the subject {subject_name!r}",
                    derived=True,
                )
            else:
                put(p, r, "route in the request")
        elif n == "port" or p.type in ("int", "port"):
            put(p, port(clause), "port number")
        elif n in _CONTAINER_PARAMS or n in known.by_kind:
            kind = KIND_ALIASES.get(n, n)
            if kind == "source":
                kind = "table"
            # what an endpoint is backed by is only ever named ("the bookmarks service"), never guessed
            loose = p.required or head not in ("endpoint", "proxy") or kind in ("app", "proxy")
            _fill_container(
                p, kind, clause, mentioned, anywhere, subject_name, put, creates and kind == head, loose=loose
            )
            if kind == "app" and n not in params:
                app = app_by_words(request, known)
                if app is not None:
                    put(p, app[0], f"the existing app whose name has the word {app[1]!r}")
        elif n in ("name", "title") or n.endswith("_name"):
            if not creates and head:
                for k, name, *_ in mentioned:
                    if k == head and put(p, name, f"existing {k} named in the request"):
                        break
                if n in params:
                    continue
                m = _CONTAINER_PREP.search(clause) or _IDENT.search(clause)
                if m and put(p, m.group(1), f"the {head} the request names"):
                    continue
            _fill_name(p, clause, existing | used, head, subject_name, put)
        elif n in _TARGET_PARAMS:
            for _k, name, *_ in mentioned:
                if put(p, name, "existing object named in the request"):
                    break
            if n not in params:
                _fill_name(p, clause, existing | used, head, subject_name, put)
        elif p.type == "path" or n == "script":
            m = re.search(r"(?<![\w/])((?:[\w.-]+/)*[\w.-]+\.(?:ts|js|mjs|sh|py|sql|tsx|json|md))\b", clause)
            if m:
                put(p, m.group(1), "file path in the request")
        elif p.type in ("snake", "kebab") or (p.type == "string" and p.pattern):
            _fill_labelled(p, clause, put)
    if "entity" in params and "name" in params and scenario.param("name") is not None:
        given = sources.get("name", "")
        places = {clause[a:b].lower() for k, _n, a, b in mentioned if k != head}
        if (
            not given.startswith(("name given", "the words before"))
            or to_snake(str(params["name"])) == params["entity"]
            or str(params["name"]).lower() in places
        ):
            del params["name"]
    if "entity" in params and "name" not in params and (name_param := scenario.param("name")) is not None:
        put(name_param, _pascal(str(params["entity"])), f"the data the page manages ({params['entity']})")
    missing = [p.name for p in scenario.params if p.required and p.name not in params and p.default is None]
    return Filled(params, missing, sources)


def _fill_labelled(p: Param, clause: str, put: object) -> None:
    """A parameter the text labels with its own name: "an archived_at column", "column archived_at"."""
    assert callable(put)
    label = re.escape(p.name.replace("_", " "))
    for pattern in (
        rf"(?<![\w-])([A-Za-z][\w-]*)\s+{label}s?\b",
        rf"\b{label}s?\s+(?:called\s+|named\s+)?"
        r"[\"'`]?([A-Za-z][\w-]*)",
    ):
        m = re.search(pattern, clause, re.IGNORECASE)
        if m and m.group(1).lower() not in _NOT_NAMES and put(p, m.group(1), f"the word next to {p.name!r}"):
            return


def _head_object(scenario: Scenario) -> str | None:
    _, objs = lexicon.canonical_words(scenario.id, scenario.aliases)
    for preferred in (
        "table",
        "view",
        "page",
        "app",
        "component",
        "endpoint",
        "command",
        "pipeline",
        "script",
        "service",
        "proxy",
    ):
        if preferred in objs:
            return preferred
    return next(iter(sorted(objs)), None)


def _fill_container(
    p: Param,
    kind: str,
    clause: str,
    mentioned: list[tuple[str, str, int, int]],
    anywhere: list[tuple[str, str, int, int]],
    subject_name: str | None,
    put: object,
    is_new: bool,
    *,
    loose: bool = True,
) -> None:
    assert callable(put)
    for k, name, *_ in mentioned:
        if k == kind and put(p, name, f"existing {kind} named in the request"):
            return
    m = _CONTAINER_PREP.search(clause) if loose else None
    if m and put(p, m.group(1), f"the {kind} the request names"):
        return
    kinds = "|".join(re.escape(k) for k in _kind_words(kind))
    # "to a new cli pipeline named housekeeping"
    m = re.search(
        rf"\b(?:{kinds})\s+(?:called|named|titled)\s+[\"'`“]?([a-z][a-z0-9]*(?:[-_][a-z0-9]+)*)",
        clause,
        re.IGNORECASE,
    )
    if m and m.group(1).lower() not in _NOT_NAMES and put(p, m.group(1), f"the {kind} the request names"):
        return
    m = re.search(rf"(?<![\w-])([a-z][a-z0-9]*(?:[-_][a-z0-9]+)*)\s+(?:{kinds})\b", clause, re.IGNORECASE)
    if (
        m
        and m.group(1).lower() not in _NOT_NAMES
        and not lexicon.find(m.group(1), "objects")
        and put(p, m.group(1), f"the words before {kind!r}")
    ):
        return
    for k, name, *_ in anywhere:
        if k == kind and put(p, name, f"existing {kind} named in the request"):
            return
    if kind in ("table", "service") and subject_name and loose:
        put(p, subject_name, f"derived from the subject {subject_name!r}", derived=True)


def _fill_name(
    p: Param, clause: str, existing: set[str], head: str | None, subject_name: str | None, put: object
) -> None:
    assert callable(put)
    if p.type == "string" and not _CALLED.search(clause):
        for m in _COLON_IDENT.finditer(clause):
            if _convert(p, m.group(1)) == m.group(1) and put(p, m.group(1), "name given in the request"):
                return
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
    if subject_name and subject_name.lower() not in existing:
        put(p, subject_name, f"derived from the subject {subject_name!r}", derived=True)


# Verbs of looking after data: the UI they ask for manages the thing that follows ("a screen where admins can
# edit feature flags", "admin dashboard for managing user preferences", "a page listing bookmarks").
_ENTITY_TRIGGERS = re.compile(
    r"\b(?:(?:to\s+)?(?:manage|edit|view|browse|list|update|maintain|administer|moderate|review|curate|"
    r"see|show|display)s?|managing|editing|viewing|browsing|listing|updating|maintaining|administering|"
    r"moderating|reviewing|curating|showing|displaying|for)\s+",
    re.IGNORECASE,
)
# who a page is for is not what it manages: "a page for admins"
_AUDIENCE = frozenset(
    re.findall(
        r"\w+",
        """admin admins administrators user users everyone everybody team teams staff customers people
        developers devs mobile desktop internal public later now testing debugging routing navigation real
        details detail data info""",
    )
)
_PAGE_STOP = frozenset(
    re.findall(
        r"\w+",
        "and or with in into to on from by then plus via through using so that which where as at for of "
        "without inside",
    )
)


def entity(clause: str, known: Known) -> tuple[str, str] | None:
    """The data a page, screen or dashboard manages, as a table name, and where it came from: an existing
    table the clause names, else the words after a verb of managing data ("managing user preferences", "to
    manage bookmarks", "edit feature flags") or after "for" ("a settings page for the existing
    user_preferences table"). None when the request does not imply managing data ("an about page"): the page
    then stands alone."""
    tables = {t.lower() for t in known.by_kind.get("table", ())}
    for kind, name, *_ in known.mentioned(clause):
        if kind == "table" or (kind == "service" and to_snake(name) in tables):
            table = name if kind == "table" else to_snake(name)
            return table, f"existing table {table} named in the request"
    # names of other kinds of objects are places, not data ("a page for dhg-hub"); a service is the data's
    others = {
        n.lower()
        for kind, names in known.by_kind.items()
        if kind not in ("table", "service", "types_generated", "tests", "service_table")
        for n in names
    }
    for m in _ENTITY_TRIGGERS.finditer(clause):
        phrase, after = _data_phrase(clause, m.end())
        if not phrase:
            continue
        words = phrase.split()
        if all(w in _AUDIENCE for w in words):
            continue
        if {phrase, to_kebab(phrase), to_snake(phrase)} & others:
            continue
        if after is not None and after != "table":
            continue  # "a landing page for the portal app": the words name another kind of object
        snake = to_snake(phrase)
        if not re.fullmatch(r"[a-z][a-z0-9_]*", snake):
            continue
        return snake, f"the data the request manages ({phrase!r})"
    return None


_DATA_VERBS = re.compile(
    r"(?:manag|edit|view|brows|list|updat|maintain|administer|moderat|review|curat|show|display)ing$"
)


def _is_name_word(w: str) -> bool:
    return not (
        w in _PAGE_STOP
        or w in _PRONOUNS
        or w in _NOT_NAMES
        or lexicon.find(w, "objects")
        or lexicon.find(w, "verbs")
        or _DATA_VERBS.match(w)
    )


def _data_phrase(text: str, start: int) -> tuple[str | None, str | None]:
    """Up to three name-like words from `start`, and the kind of the object noun right after them if any. An
    object noun right before a name word is part of the name ("api keys"), a possessor is not ("our team's
    bookmarks"), nor is a leading verb of managing ("for browsing saved searches")."""
    taken: list[str] = []
    words = [m.group(0) for m in _WORD.finditer(text, start)]
    for i, raw in enumerate(words):
        if raw.lower().endswith("'s"):
            continue
        w = raw.lower().strip("'")
        if w in _PAGE_STOP:
            break
        objs = lexicon.find(w, "objects")
        if objs:
            nxt = words[i + 1].lower().strip("'") if i + 1 < len(words) else ""
            if nxt and _is_name_word(nxt) and not nxt.endswith("'s"):
                taken.append(w)
                continue
            return (" ".join(taken) or None), (objs[0][0] if taken else None)
        if w in _PRONOUNS:
            return None, None
        if w in _NOT_NAMES or lexicon.find(w, "verbs") or _DATA_VERBS.match(w):
            if taken:
                break
            continue
        taken.append(w)
        if len(taken) == 3:
            break
    return (" ".join(taken) or None), None


def app_by_words(text: str, known: Known) -> tuple[str, str] | None:
    """The one existing app whose name contains a word of the request ("admin dashboard" → dhg-admin-code);
    None when no app or several apps match."""
    words = {w for w in words_of(text) if len(w) > 2 and w not in lexicon.STOPWORDS}
    words |= {w[:-1] for w in words if w.endswith("s") and len(w) > 4}
    hits: dict[str, str] = {}
    for app in known.by_kind.get("app", ()):
        parts = [x for x in re.split(r"[-_]", app.lower()) if x and x != "dhg"]
        common = [x for x in parts if x in words and not lexicon.find(x, "objects")]
        if common:
            hits[app] = common[0]
    if len(hits) == 1:
        return next(iter(hits.items()))
    return None


def _fill_backing(
    p: Param,
    kind: str,
    mentioned: list[tuple[str, str, int, int]],
    known: Known,
    has_entity: bool,
    put: object,
) -> None:
    """The service or proxy behind a page's data: one the request names, else (a proxy) the repository's only
    proxy with a route table; otherwise the scenario's own default (the entity's service, a new proxy with an
    allocated port)."""
    assert callable(put)
    if not has_entity:
        return
    for k, name, *_ in mentioned:
        usable = k == kind and (kind != "proxy" or name in known.routable)
        if usable and put(p, name, f"existing {kind} named in the request"):
            return
    if kind == "proxy" and len(known.routable) == 1:
        put(p, next(iter(known.routable)), "the repository's only proxy with a route table")

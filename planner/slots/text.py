"""Values spelt out in a request: names given outright, routes, methods, ports, file paths, command lines,
versions, and the rendering of a value into a parameter's type and naming style."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from continuous.dsl.model import Param, Scalar
from continuous.planner import language
from continuous.planner.grounding import pascal, to_kebab, to_snake, words_of
from continuous.planner.language import alternation, pattern, words
from continuous.planner.phrases import verb_forms


@lru_cache(maxsize=1)
def _slot_data() -> dict[str, Any]:
    import tomllib
    from pathlib import Path

    return tomllib.loads((Path(__file__).resolve().parent.parent / "data" / "slots.toml").read_text("utf-8"))


def slot_words(name: str) -> frozenset[str]:
    """A word list of planner/data/slots.toml."""
    return _slot_word_set(name)


@lru_cache(maxsize=32)
def _slot_word_set(name: str) -> frozenset[str]:
    return frozenset(str(w).lower() for w in _slot_data()["words"][name])


@lru_cache(maxsize=1)
def method_verbs() -> dict[str, str]:
    """Verb → HTTP method: language.toml's, then slots.toml's (its [method_verbs] and [action_verbs])."""
    data = _slot_data()
    return {
        **language.lang().method_verbs,
        **{k: str(v) for k, v in data.get("method_verbs", {}).items()},
        **{k: str(v) for k, v in data.get("action_verbs", {}).items()},
    }


def action_verb(word: str) -> bool:
    """A verb of an action on a resource (slots.toml [action_verbs]), in any inflection: part of a route's name."""
    actions = _slot_data().get("action_verbs", {})
    return any(form in actions for form in verb_forms(word.lower()))


def slot_table(name: str) -> dict[str, tuple[str, ...]]:
    """A table of word lists of planner/data/slots.toml (key → words)."""
    return {k: tuple(str(w) for w in v) for k, v in _slot_data().get(name, {}).items()}


@lru_cache(maxsize=8)
def slot_map(name: str) -> dict[str, str]:
    """A table of planner/data/slots.toml whose values are single words (key, lower case → value)."""
    return {str(k).lower(): str(v) for k, v in _slot_data().get(name, {}).items()}


def not_name(word: str) -> bool:
    w = word.lower().strip("'")
    return w in words("stopwords") or w in words("pronouns") or w in words("not_names") or w in slot_words("not_names")


@lru_cache(maxsize=1)
def _called() -> re.Pattern[str]:
    return re.compile(
        alternation(language.lang().naming_words)
        + r":?\s+(?:\"([^\"]+)\"|'([^']+)'|`([^`]+)`|“([^”]+)”|([\w@][\w\-./:@]*\w|\w))",
        re.IGNORECASE,
    )


def called(text: str) -> list[tuple[str, int, int]]:
    """Names given outright: `called X`, `named "X"` — (value, start, end) of each, in order."""
    out = []
    for m in _called().finditer(text):
        value = next(g for g in m.groups() if g)
        if not not_name(value):
            out.append((value.strip(".,;:"), m.start(), m.end()))
    return out


def quoted(text: str) -> list[tuple[str, int, int]]:
    out = []
    for m in pattern("quoted").finditer(text):
        value = next(g for g in m.groups() if g)
        if value.strip() and not value.startswith("/") and len(value.split()) <= 4:
            out.append((value.strip(), m.start(), m.end()))
    return out


def identifiers(text: str) -> list[tuple[str, int, int]]:
    """snake_case and kebab-case identifiers ("billing-service", "doc_notes"), not routes or paths."""
    return [(m.group("ident"), m.start(), m.end()) for m in pattern("identifier").finditer(text)]


_CAMEL = re.compile(r"(?<![\w./@-])(?:[a-z]+[A-Z]|[A-Z][a-z0-9]+[A-Z])[A-Za-z0-9]*(?![\w/@-])")


def camel_identifiers(text: str) -> list[tuple[str, int, int]]:
    """camelCase and PascalCase names of code ("DateTimeUtc", "grepCommand"): a capital inside a word says it is
    an identifier; a word capitalised only at its start ("Tests") is not one."""
    return [(m.group(0), m.start(), m.end()) for m in _CAMEL.finditer(text)]


def colon_identifiers(text: str) -> list[tuple[str, int, int]]:
    return [(m.group("ident"), m.start(), m.end()) for m in pattern("colon_identifier").finditer(text)]


def route(text: str) -> str | None:
    # "/api/threads/[id]/archive": a file-system router's parameter segment is the route's ":id"
    text = re.sub(r"(?<=/)\[(\w+)\](?=/|\s|$)", r":\1", text)
    m = pattern("route").search(text)
    return m.group("route").rstrip(".,;:") if m else None


def method(text: str) -> str | None:
    methods = language.lang().http_methods
    m = re.search(r"\b(" + "|".join(methods) + r")\b", text)
    if m:
        return m.group(1)
    m = re.search(
        r"\b(" + "|".join(methods) + r")\s+(?:endpoint|route|request|handler|method|api)\b", text, re.IGNORECASE
    )
    return m.group(1).upper() if m else None


def method_from_verb(text: str) -> str | None:
    """ "an endpoint to delete bookmarks" is a DELETE."""
    verbs = method_verbs()
    for w in re.findall(r"[a-z]+", text.lower()):
        for form in verb_forms(w):
            if form in verbs:
                return verbs[form]
    return None


@lru_cache(maxsize=1)
def _one_word_names() -> re.Pattern[str]:
    names = sorted(_slot_data()["words"]["one_word_names"], key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in names) + r")(?![\w-])")


def one_word_names(value: str) -> str:
    """Product names spelt with a capital inside one word are one word of a name ("GitHub Actions similarity" →
    github-actions-similarity, not git-hub-...), where the value is words, not one identifier of code."""
    if " " not in value.strip() and value not in _slot_data()["words"]["one_word_names"]:
        return value
    return _one_word_names().sub(lambda m: m.group(1).lower(), value)


def method_in_name(text: str) -> tuple[str, str] | None:
    """The word of an endpoint's name that says what it does, nearest the noun first, and its method: a bare
    verb ("app create" → POST), a noun of the act ("revision deletion" → DELETE, slots.toml [method_nouns]) or
    a word of an identifier ("createDomain", "installation.create"). Only bare verbs count: "posts" is data."""
    verbs = method_verbs()
    nouns = slot_map("method_nouns")
    for w in reversed(words_of(text)):
        if w in verbs:
            return w, verbs[w]
        if w in nouns:
            return w, nouns[w].upper()
    return None


def port(text: str) -> int | None:
    m = pattern("port").search(text)
    if not m:
        return None
    value = int(next(g for g in m.groups() if g))
    return value if 1 <= value <= 65535 else None


def file_path(text: str) -> str | None:
    m = pattern("file_path").search(text)
    return m.group("path") if m else None


def dir_path(text: str) -> str | None:
    m = pattern("dir_path").search(text)
    return m.group("path").rstrip("/.,;:") if m else None


def env_var(text: str) -> str | None:
    m = pattern("env_var").search(text)
    return m.group("var") if m else None


def version(text: str) -> str | None:
    """The version a request asks for: "to 5.4.2", "v6", "V4", "react@^19"; the first one it goes to ("from X to
    Y (uses Z)" → Y, "a to 1.0 and b to 2.0" → 1.0, as the package is the first), else the last one named."""
    text = re.sub(r"(?<![\w.])V(?=\d)", "v", text)
    # "Bump snowflake-sdk to 2.3.3.": the full stop that ends a sentence is no part of the version
    text = re.sub(r"(\d)\.(?=\s|$)", r"\1", text)
    found: list[tuple[str, bool]] = []
    for m in pattern("version").finditer(text):
        ver = m.group("ver")
        bare = m.group(0) == ver and "." not in ver
        # "across 1 directory with 2 updates": a bare count before a word is no version ("prisma 4" is)
        if bare and re.match(r"\s*[A-Za-z]", text[m.end() :]):
            continue
        found.append((ver, m.group(0).lower().startswith("to")))
    if not found:
        return "latest" if re.search(r"\blatest\b", text, re.IGNORECASE) else None
    targets = [ver for ver, to in found if to]
    return targets[0] if targets else found[-1][0]


def percent(text: str) -> int | None:
    m = pattern("percent").search(text)
    return int(m.group("n")) if m and 0 < int(m.group("n")) <= 100 else None


# ---------------------------------------------------------------- command lines

_COMMAND_TOKEN = re.compile(r"\S+")
_RUNS_SCRIPT = re.compile(r"(?:pnpm|npm|yarn)(?:\s+run)?\s+[a-z][\w:-]*", re.IGNORECASE)


@lru_cache(maxsize=1)
def _runs() -> re.Pattern[str]:
    return re.compile(
        r"\b(?:(?:that|which|to|and)\s+)?"
        + alternation(sorted(words("run_verbs")))
        + r"\s+(?:\"([^\"]+)\"|'([^']+)'|`([^`]+)`|“([^”]+)”|(?=[\w.@/-]))",
        re.IGNORECASE,
    )


def runs_own_script(command: str) -> bool:
    """`pnpm typecheck:apps` runs one of the workspace's own scripts: that names a script, not its command."""
    return bool(_RUNS_SCRIPT.fullmatch(command.strip()))


def command_phrase(text: str) -> tuple[str, int, int] | None:
    """The command line a request says something runs, and its span: a quoted command after a verb of running
    ("that runs `turbo lint`"), else the command-like words after it ("running playwright test") up to the first
    word that is no part of a command. Words that describe rather than spell a command ("to run the google
    sync", "to run tests") give nothing."""
    stops = words("command_stops")
    for m in _runs().finditer(text):
        quoted_cmd = next((g for g in m.groups() if g), None)
        if quoted_cmd is not None:
            return quoted_cmd.strip(), m.start(), m.end()
        taken: list[str] = []
        end = m.end()
        for t in _COMMAND_TOKEN.finditer(text, m.end()):
            raw = t.group(0)
            word = raw.rstrip(".,;:!?") if not re.fullmatch(r"[.]+", raw) else raw
            if not word or word.lower() in stops:
                break
            taken.append(word)
            end = t.start() + len(word)
            if word != raw:
                break
        if not taken:
            continue
        phrase = " ".join(taken)
        if not_name(taken[0]) or not _beyond_vocabulary(phrase):
            continue
        return phrase, m.start(), end
    return None


def _beyond_vocabulary(phrase: str) -> bool:
    """Whether a phrase says more than the vocabulary's own words ("unit tests" does not; "vitest run" does)."""
    low = phrase.lower()
    for table in ("objects", "verbs"):
        for _c, start, end in sorted(language.find(low, table), key=lambda t: -t[1]):
            low = low[:start] + " " * (end - start) + low[end:]
    return any(not not_name(w) for w in low.split())


# ---------------------------------------------------------------- rendering a value for a parameter


def _styles(value: str) -> list[str]:
    return [value, to_snake(value), to_kebab(value), pascal(value), to_snake(value).upper(), value.lower()]


def pattern_affixes(pat: str | None) -> tuple[str, list[str]]:
    """A literal prefix the pattern demands (`dhg-[a-z]+` → "dhg-") and literal alternatives it offers as
    suffixes (`[a-z_]*(_summary|_status)` → ["_summary", "_status"]), so a derived name can follow the
    convention."""
    if not pat:
        return "", []
    m = re.match(r"^([A-Za-z0-9_\-]+)(?=[\[(.\\])", pat)
    prefix = m.group(1).replace("\\-", "-") if m else ""
    suffixes: list[str] = []
    for group in re.findall(r"\(((?:[A-Za-z0-9_\-]+\|)+[A-Za-z0-9_\-]+)\)", pat):
        suffixes.extend(group.split("|"))
    return prefix, suffixes


def convert(param: Param, value: str) -> Scalar | None:
    """`value` rendered as the parameter's type and naming style, or None if no rendering is valid. A suffix the
    parameter's pattern offers may be added. A demanded prefix never is: a name that breaks a repository
    convention (an app without `conventions.app_prefix`) is refused with a hint naming the setting, never
    silently rewritten."""
    from continuous.dsl.params import check_value

    if param.type in ("int", "port"):
        return int(value) if re.fullmatch(r"\d+", value) and check_value(param, int(value)) is None else None
    if param.type == "bool":
        return None
    if param.type == "enum":
        low = value.lower()
        return next((c for c in param.choices if c.lower() == low), None)
    if param.type == "snake":
        candidates = [to_snake(value)]
    elif param.type == "kebab":
        candidates = [to_kebab(value)]
    elif param.type == "path":
        candidates = [value]
    else:
        candidates = _styles(value) if " " in value or param.pattern else [value]
    from continuous.dsl.params import param_pattern

    _prefix, suffixes = pattern_affixes(param_pattern(param))
    extra: list[str] = []
    for c in candidates:
        sep = "_" if "_" in c or param.type == "snake" else "-"
        extra.extend(c + suf if suf[:1] in "_-" else c + sep + suf for suf in suffixes if not c.endswith(suf))
    for candidate in [*candidates, *extra]:
        if candidate and check_value(param, candidate) is None:
            return candidate
    return None


@lru_cache(maxsize=1)
def _name_stop() -> frozenset[str]:
    keep = {"get", "make", "up", "out", "one"}  # parts of names: "get started", "sign up", "log out"
    return (
        (words("stopwords") - keep)
        | words("pronouns")
        | words("not_names")
        | slot_words("not_names")
        | words("new_markers")
        | words("phrase_stops")
    )


def name_words(
    text: str,
    exclude: set[str] | frozenset[str] = frozenset(),
    *,
    keep_objects: bool = False,
    keep_aspects: bool = False,
    keep_kinds: frozenset[str] = frozenset(),
) -> list[str]:
    """The words of a phrase that can be part of a name, as written (camelCase kept, so "ProgramEmail" becomes
    program_email): no determiners, pronouns or words of a kind of object (a table, a page) unless
    `keep_objects` (a column may be called "app"); words of objects no scenario makes (a filter, a workflow)
    are ordinary words of a name. With `keep_aspects`, so are words of what is no kind of repository object
    (types, policies, dependencies): "an event types list page" is the EventTypesList page; and words of the
    kinds in `keep_kinds` ("an api keys table")."""
    stop = _name_stop()
    foreign = language.lang().veto_all["head"]
    if keep_aspects:
        from continuous.planner.conventions import default as conventions

        kinds = conventions().kinds
        things = (set(kinds.head_order) | set(kinds.parents)) - set(keep_kinds)
        foreign = foreign | frozenset(
            c
            for c in language.lang().objects
            if kinds.object_words.get(c, c) not in things and c not in language.words("kind_qualifiers")
        )
    out = []
    for w in re.findall(r"[A-Za-z][\w'-]*", text):
        word = w.strip("'")
        if word.lower().endswith("'s"):
            word = word[:-2]
        low = word.lower()
        if not low or low in stop or low in exclude:
            continue
        if not keep_objects:
            canons = {c for c, _s, _e in language.find(low, "objects")}
            if canons and not canons <= foreign:
                continue
        out.append(word)
    return out


def snake_words(value: str) -> str:
    return "_".join(words_of(value))

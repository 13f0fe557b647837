"""Fill a scenario's parameters from one intent of a request, grounded in what the repository holds.

Each parameter is filled by the filler of its kind (`kind_of`): a reference to an existing object (`refs`), the
name of a new object or the data a page manages (`names`), or a value spelt out in the text — an enum choice, a
route, a method, a port, a path, a command line, a version (`values`). A value records where it came from and
whether it was guessed (derived from words rather than spelt out), so a dependency that rejects a guess can drop
it. A parameter with no source stays missing — never invented — and, where the repository holds objects with a
similar name, lists them as candidates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from continuous.dsl.model import Param, RuleBase, Scalar, Scenario, Value
from continuous.planner import language
from continuous.planner.conventions import Conventions
from continuous.planner.grounding import Mention, Repo
from continuous.planner.phrases import Analysis, analyse
from continuous.planner.result import Candidate, ParamSource
from continuous.planner.slots.text import convert, one_word_names


@dataclass
class Filled:
    params: dict[str, Scalar] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    sources: dict[str, ParamSource] = field(default_factory=dict)
    candidates: dict[str, list[Candidate]] = field(default_factory=dict)
    # objects the request names that the repository's facts do not show: (kind, name)
    not_found: list[tuple[str, str]] = field(default_factory=list)

    def guessed(self) -> set[str]:
        return {k for k, s in self.sources.items() if s.guessed}


@dataclass
class Intent:
    """One intent of a request, with everything filling reads: the clause and its phrase roles, the whole
    request, the repository, the request's subject and the scenario being filled."""

    scenario: Scenario
    clause: str
    request: str
    repo: Repo
    conventions: Conventions
    subject: str | None = None
    worktree: Path | None = None
    grounded: bool = True  # the repository's facts are known (inside a worktree)
    rule_base: RuleBase | None = None
    analysis: Analysis = field(init=False)
    mentions: list[Mention] = field(init=False)
    request_mentions: list[Mention] = field(init=False)
    head_kind: str | None = field(init=False)
    creates: bool = field(init=False)
    dep_kinds: dict[str, str] = field(init=False)
    out: Filled = field(default_factory=Filled)
    used: set[str] = field(default_factory=set)
    command: str | None = None  # the command line the intent says something runs (set aside before filling)
    runs_itself: bool = False  # it runs one of the workspace's own scripts: that names a script

    def __post_init__(self) -> None:
        self.analysis = analyse(self.clause)
        self.mentions = self.repo.mentioned(self.clause)
        self.request_mentions = self.repo.mentioned(self.request)
        self.head_kind = head_kind(self.scenario, self.conventions)
        verbs, _ = language.canonical_words(self.scenario.id, ())
        self.creates = not verbs or "create" in verbs
        self.dep_kinds = dependency_kinds(self.scenario, self.rule_base, self.conventions)

    def put(self, p: Param, raw: str | int | None, source: str, *, guessed: bool = False) -> bool:
        """Set `p` from `raw` rendered in its type; False (and nothing set) when it does not fit."""
        if raw is None or p.name in self.out.params:
            return False
        if p.type in ("snake", "kebab"):
            raw = one_word_names(str(raw))  # PascalCase keeps the product's own capital (GitHubButton)
        value = convert(p, str(raw))
        prefix = self.conventions.app_prefix
        if value is None and guessed and self.creates and self.head_kind == "app" and prefix:
            # a new app the planner names itself follows conventions.app_prefix; a name the user gave is kept
            # as given (and refused by the scenario if it breaks the convention)
            value = convert(p, prefix + str(raw))
            source = f"{source}; prefix {prefix} from conventions.app_prefix"
        if value is None:
            return False
        self.out.params[p.name] = value
        self.out.sources[p.name] = ParamSource(value=value, source=source, guessed=guessed)
        self.used.add(str(raw).lower())
        return True

    def suggest(self, p: Param, names: list[str], why: str) -> None:
        if names and p.name not in self.out.params:
            self.out.candidates[p.name] = [Candidate(value=n, why=why) for n in names]

    def suggest_also(self, p: Param, names: list[str], why: str) -> None:
        """Candidates next to a value the repository does not hold."""
        if names:
            self.out.candidates[p.name] = [Candidate(value=n, why=why) for n in names]


def head_kind(scenario: Scenario, conventions: Conventions) -> str | None:
    """The kind of object a scenario acts on, from its id (add-cli-command → command)."""
    _, objs = language.canonical_words(scenario.id, scenario.aliases)
    kinds = {conventions.kinds.object_words.get(o, o) for o in objs}
    for preferred in conventions.kinds.head_order:
        if preferred in kinds:
            return preferred
    return next(iter(sorted(kinds)), None)


_BOUND = re.compile(r"\{\{\s*(\w+)\s*(?:\|[^}]*)?\}\}")


def dependency_kinds(scenario: Scenario, rule_base: RuleBase | None, conventions: Conventions) -> dict[str, str]:
    """Parameters the DSL passes on as the name of an object a dependency makes: `requires create-table(name:
    "{{ source }}")` says `source` names a table. The library's own declarations say what kind a reference is."""
    out: dict[str, str] = {}
    if rule_base is None:
        return out
    for dep in scenario.dependencies:
        target = rule_base.scenario(dep.scenario)
        kind = head_kind(target, conventions) if target is not None else None
        term = dep.bindings.get("name")
        if kind is None or kind not in conventions.kinds.object_kinds or not isinstance(term, Value):
            continue
        m = _BOUND.fullmatch(str(term.value).strip())
        if m:
            out.setdefault(m.group(1), kind)
    return out


def kind_of(p: Param, intent: Intent) -> str:
    """Which filler a parameter needs."""
    conv = intent.conventions
    name = p.name.lower()
    roles = conv.params
    if name in roles.commands:
        return "command"
    if p.type == "enum":
        return "enum"
    if name == "entity":
        return "entity"
    own_name = name in roles.names and intent.creates  # a new object's own name, even when a dependency reuses it
    if not own_name and (name in intent.dep_kinds or name in roles.references):
        return "reference"
    if name in roles.names or name.endswith("_name"):
        if not intent.creates and intent.head_kind in conv.kinds.object_kinds:
            return "reference"
        return "name"
    if name in roles.parts:
        return "part"
    if name in roles.routes and p.type != "path":
        return "route"
    if name == "method":
        return "method"
    if name == "version":
        return "version"
    if p.type in ("int", "port"):
        return "number"
    if p.type == "path" or name == "script":
        return "path"
    if p.type in ("snake", "kebab") or (p.type == "string" and p.pattern):
        return "labelled"
    return "free"


def fill(intent: Intent) -> Filled:
    """Parameters of `intent.scenario` for one intent of a request."""
    from continuous.planner.slots import names, refs, values

    fillers: dict[str, Callable[[Param, Intent], None]] = {
        "command": values.command,
        "enum": values.enum,
        "entity": names.entity,
        "reference": refs.reference,
        "name": names.name,
        "part": names.part,
        "route": values.route,
        "method": values.method,
        "version": values.version,
        "number": values.number,
        "path": values.path,
        "labelled": values.labelled,
        "free": values.free,
    }
    kinds = {p.name: kind_of(p, intent) for p in intent.scenario.params}
    values.set_aside_command(intent, kinds)
    # references first (they take the names of existing objects), then what is named after them
    order = (
        "command",
        "path",
        "entity",
        "reference",
        "part",
        "name",
        "route",
        "method",
        "version",
        "number",
        "labelled",
        "enum",
        "free",
    )
    for kind in order:
        for p in intent.scenario.params:
            if kinds[p.name] == kind and p.name not in intent.out.params:
                fillers[kind](p, intent)
    names.finish(intent)
    out = intent.out
    out.missing = [
        p.name for p in intent.scenario.params if p.required and p.name not in out.params and p.default is None
    ]
    unknown = {name for _kind, name in out.not_found}
    out.candidates = {k: v for k, v in out.candidates.items() if k not in out.params or str(out.params[k]) in unknown}
    return out

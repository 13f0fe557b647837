"""Fill a scenario's parameters from one intent of a request, grounded in what the repository holds.

Each parameter is filled by the filler of its kind (`kind_of`): a reference to an existing object (`refs`), the
name of a new object or the data a page manages (`names`), or a value spelt out in the text — an enum choice, a
route, a method, a port, a path, a command line, a version (`values`). A value records where it came from and
whether it was guessed (derived from words rather than spelt out), so a dependency that rejects a guess can drop
it. A parameter with no source stays missing — never invented — and, where the repository holds objects with a
similar name, lists them as candidates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from continuous.dsl.model import Param, Scalar, Scenario
from continuous.planner import language
from continuous.planner.conventions import Conventions
from continuous.planner.grounding import Mention, Repo
from continuous.planner.phrases import Analysis, analyse
from continuous.planner.result import Candidate, ParamSource
from continuous.planner.slots.text import convert


@dataclass
class Filled:
    params: dict[str, Scalar] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    sources: dict[str, ParamSource] = field(default_factory=dict)
    candidates: dict[str, list[Candidate]] = field(default_factory=dict)
    # objects the request refers to as existing that discovery did not find: (kind, name)
    assumed: list[tuple[str, str]] = field(default_factory=list)

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
    analysis: Analysis = field(init=False)
    mentions: list[Mention] = field(init=False)
    request_mentions: list[Mention] = field(init=False)
    head_kind: str | None = field(init=False)
    creates: bool = field(init=False)
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

    def put(self, p: Param, raw: str | int | None, source: str, *, guessed: bool = False) -> bool:
        """Set `p` from `raw` rendered in its type; False (and nothing set) when it does not fit."""
        if raw is None or p.name in self.out.params:
            return False
        value = convert(p, str(raw))
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
        """Candidates next to a value that is only assumed."""
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
    if name in roles.references and not (name in roles.names and intent.creates):
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
    if p.type == "int":
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
    assumed = {name for _kind, name in out.assumed}
    out.candidates = {k: v for k, v in out.candidates.items() if k not in out.params or str(out.params[k]) in assumed}
    return out

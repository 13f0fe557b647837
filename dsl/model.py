"""The rule base: what every other part of continuous reads.

The parser turns DSL text into these models; nothing downstream ever sees DSL text again. All models are frozen and
forbid unknown fields so that a typo in code that builds them fails loudly, and so that `continuous schema` can
publish an exact JSON Schema.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Location(Model):
    """Where a construct was written; every diagnostic about it points here."""

    file: str
    line: int
    column: int


ObjectType = Literal["service", "cli", "database", "ui", "proxy", "infra"]
OBJECT_TYPES: tuple[str, ...] = ("service", "cli", "database", "ui", "proxy", "infra")

ParamType = Literal["string", "snake", "kebab", "path", "enum", "int", "port", "bool"]
PARAM_TYPES: tuple[str, ...] = ("string", "snake", "kebab", "path", "enum", "int", "port", "bool")
# Whole numbers: a `port` is one a program listens on; an `int` without a declared range is a 32-bit one.
NUMBER_TYPES: tuple[str, ...] = ("int", "port")

Scalar = str | int | bool


# ---------------------------------------------------------------- facts


class Var(Model):
    """A pattern variable (`?t`); it binds on first use and must agree on every later use."""

    var: str


class Value(Model):
    """A constant. Strings may contain Jinja expressions (`{{ name }}`) rendered against scenario parameters."""

    value: Scalar


Term = Var | Value


class FactPattern(Model):
    type: str
    fields: dict[str, Term] = Field(default_factory=dict)
    negated: bool = False
    loc: Location | None = None


# ---------------------------------------------------------------- parameters


class Param(Model):
    name: str
    type: ParamType
    choices: tuple[str, ...] = ()
    required: bool = False
    default: Scalar | None = None
    pattern: str | None = None
    position: int | None = None
    range: tuple[int, int] | None = None  # inclusive bounds of an int or port
    doc: str = ""
    examples: tuple[Scalar, ...] = ()
    loc: Location | None = None

    def range_text(self) -> str:
        """' between LOW and HIGH' for a declared range or a port; nothing for a plain int."""
        if self.range is None and self.type != "port":
            return ""
        low, high = self.bounds()
        return f" between {low} and {high}"

    def bounds(self) -> tuple[int, int]:
        """The values an int or port may take: the declared range, else 1-65535 for a port, else 32-bit."""
        if self.range is not None:
            return self.range
        return PORT_BOUNDS if self.type == "port" else INT_BOUNDS


INT_BOUNDS = (-(2**31), 2**31 - 1)
PORT_BOUNDS = (1, 65535)


class Dependency(Model):
    """`requires other(x: "{{ name }}") unless fact(...)`: run `other` first unless the condition already holds."""

    scenario: str
    bindings: dict[str, Term] = Field(default_factory=dict)
    unless: tuple[FactPattern, ...] = ()
    loc: Location | None = None


class Precondition(Model):
    """A condition: a fact holds or not, a path exists or not, a clean worktree, or `if "{{ expr }}"` (a template
    that renders to true/false, so a condition can test parameters and `facts` together)."""

    kind: Literal["fact", "no_fact", "exists", "missing", "clean", "expr"]
    pattern: FactPattern | None = None
    path: str | None = None
    loc: Location | None = None


# ---------------------------------------------------------------- steps


class RenderStep(Model):
    """Render a Jinja2 template (looked up in `templates/` beside the DSL file) to a path in the worktree."""

    kind: Literal["render"] = "render"
    name: str
    template: str
    to: str
    when: tuple[Precondition, ...] = ()
    loc: Location | None = None


class EditStep(Model):
    """Edit a structured file in place: set a dotted key, append to a list, or delete a key."""

    kind: Literal["edit"] = "edit"
    name: str
    format: Literal["json", "yaml"]
    file: str
    op: Literal["set", "append", "delete"]
    key: str
    value: Scalar | None = None
    when: tuple[Precondition, ...] = ()
    loc: Location | None = None


class RunStep(Model):
    """Run a program as an argument list, never through a shell. `changes` names the files it is known to write
    (a package manager's manifest and lockfile), so the dry-run lists them although it cannot show their content."""

    kind: Literal["run"] = "run"
    name: str
    argv: tuple[str, ...]
    cwd: str | None = None
    timeout_seconds: int | None = None
    changes: tuple[str, ...] = ()
    when: tuple[Precondition, ...] = ()
    loc: Location | None = None


class SqlStep(Model):
    """`apply` an SQL migration to the target database; `test` it and its down migration on the scratch database
    (inside a rolled-back transaction); or merge what the migrations add into the generated `types` file."""

    kind: Literal["sql"] = "sql"
    name: str
    action: Literal["apply", "test", "types"]
    file: str
    when: tuple[Precondition, ...] = ()
    loc: Location | None = None


class DocStep(Model):
    """Append text to a documentation file (created if missing)."""

    kind: Literal["doc"] = "doc"
    name: str
    file: str
    text: str
    when: tuple[Precondition, ...] = ()
    loc: Location | None = None


class InsertStep(Model):
    """Insert text into an existing file before or after the first line containing an anchor; idempotent."""

    kind: Literal["insert"] = "insert"
    name: str
    text: str
    file: str
    where: Literal["before", "after"]
    anchor: str
    when: tuple[Precondition, ...] = ()
    loc: Location | None = None


class CommandStep(Model):
    """Dispatch a new command in a shell CLI wrapper and list it in its help, the way its other commands are.

    `runs` is a file relative to the wrapper's folder, then fixed arguments (`cli.ts sync`, `commands/sync.ts`).
    """

    kind: Literal["command"] = "command"
    name: str
    command: str
    file: str
    runs: str
    help: str = ""
    when: tuple[Precondition, ...] = ()
    loc: Location | None = None


class EntryStep(Model):
    """Add an object to a JavaScript array (a registry such as `const SERVERS = [...]`) shaped like its neighbours.

    The new entry has the keys its neighbours have, in their order and layout; `values` fill them (JSON text for
    lists and objects), keys no entry uses are left out, and a key every entry has but `values` lacks is copied
    from the most similar neighbour.
    """

    kind: Literal["entry"] = "entry"
    name: str
    values: dict[str, str]
    array: str
    file: str
    when: tuple[Precondition, ...] = ()
    loc: Location | None = None


class RowStep(Model):
    """Add a row to the Markdown table whose header names the most of `values`' keys, in its column layout."""

    kind: Literal["row"] = "row"
    name: str
    values: dict[str, str]
    file: str
    when: tuple[Precondition, ...] = ()
    loc: Location | None = None


class RouteStep(Model):
    """Add a react-router `<Route>` where an app keeps its pages: beside them, before a catch-all, same wrapper."""

    kind: Literal["route"] = "route"
    name: str
    path: str
    component: str
    file: str
    when: tuple[Precondition, ...] = ()
    loc: Location | None = None


class ImportStep(Model):
    """Add `import NAMES from 'MODULE';` after the last import of a TypeScript/JavaScript file (once)."""

    kind: Literal["import"] = "import"
    name: str
    names: str
    module: str
    file: str
    when: tuple[Precondition, ...] = ()
    loc: Location | None = None


class MoveStep(Model):
    """Move a file or a folder (file by file); a TypeScript/JavaScript module's relative imports are rewritten so they
    resolve to the same modules."""

    kind: Literal["move"] = "move"
    name: str
    source: str
    to: str
    when: tuple[Precondition, ...] = ()
    loc: Location | None = None


class EndpointStep(Model):
    """Add an HTTP route to a server: an entry of its route table (`const routes = [...]`) or an Express
    `app.get(path, ...)` after its other routes; the handler answers JSON with the path parameters and body."""

    kind: Literal["endpoint"] = "endpoint"
    name: str
    method: str
    path: str
    file: str
    when: tuple[Precondition, ...] = ()
    loc: Location | None = None


class ForwardStep(Model):
    """Make a server forward every request it has no route for to another server's port (`env` overrides it at
    run time): a proxy's fallback list, an Express catch-all after its routes, or the final 404 branch of a plain
    Node HTTP handler."""

    kind: Literal["forward"] = "forward"
    name: str
    port: str
    env: str
    file: str
    when: tuple[Precondition, ...] = ()
    loc: Location | None = None


Step = Annotated[
    RenderStep
    | EditStep
    | RunStep
    | SqlStep
    | DocStep
    | InsertStep
    | CommandStep
    | EntryStep
    | RowStep
    | RouteStep
    | ImportStep
    | MoveStep
    | EndpointStep
    | ForwardStep,
    Field(discriminator="kind"),
]


# ---------------------------------------------------------------- validations


class FileExists(Model):
    kind: Literal["file_exists"] = "file_exists"
    glob: str
    when: tuple[Precondition, ...] = ()
    loc: Location | None = None


class FileContains(Model):
    kind: Literal["file_contains"] = "file_contains"
    glob: str
    text: str
    negated: bool = False
    when: tuple[Precondition, ...] = ()
    loc: Location | None = None


class CommandSucceeds(Model):
    kind: Literal["run"] = "run"
    argv: tuple[str, ...]
    cwd: str | None = None
    timeout_seconds: int | None = None
    when: tuple[Precondition, ...] = ()
    loc: Location | None = None


class FactHolds(Model):
    kind: Literal["fact"] = "fact"
    pattern: FactPattern
    when: tuple[Precondition, ...] = ()
    loc: Location | None = None


Validation = Annotated[
    FileExists | FileContains | CommandSucceeds | FactHolds,
    Field(discriminator="kind"),
]


# ---------------------------------------------------------------- scenarios


class Scenario(Model):
    id: str
    object_type: ObjectType
    summary: str
    description: str = ""
    examples: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    automation: int = 0
    estimate_seconds: int | None = None
    manual_effort_seconds: int | None = None
    params: tuple[Param, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    unless: tuple[FactPattern, ...] = ()
    preconditions: tuple[Precondition, ...] = ()
    steps: tuple[Step, ...] = ()
    provides: tuple[FactPattern, ...] = ()
    validations: tuple[Validation, ...] = ()
    rollback: tuple[Step, ...] = ()
    rollback_finally: tuple[Step, ...] = ()
    source: str = ""
    loc: Location | None = None

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def positional_params(self) -> list[Param]:
        return sorted((p for p in self.params if p.position is not None), key=lambda p: p.position or 0)


# ---------------------------------------------------------------- rules, discovery, standards, schedules


class RunAction(Model):
    kind: Literal["run"] = "run"
    scenario: str
    bindings: dict[str, Term] = Field(default_factory=dict)
    loc: Location | None = None


class AssertAction(Model):
    kind: Literal["assert"] = "assert"
    pattern: FactPattern
    loc: Location | None = None


class RetractAction(Model):
    kind: Literal["retract"] = "retract"
    pattern: FactPattern
    loc: Location | None = None


class TaskAction(Model):
    kind: Literal["task"] = "task"
    title: str
    loc: Location | None = None


Action = Annotated[RunAction | AssertAction | RetractAction | TaskAction, Field(discriminator="kind")]


class Rule(Model):
    id: str
    salience: int = 0
    conditions: tuple[FactPattern, ...]
    actions: tuple[Action, ...]
    source: str = ""
    loc: Location | None = None


class Discover(Model):
    """How facts of one type are read from a repository.

    Every file matching `globs` (minus `excludes`) is read. With `regex`, each match gives one fact whose fields are
    the named groups; with `json`, the dotted path (`*` iterates keys or items) selects values; with `parse`, a
    named structural reader (`dsl.readers.READERS`) reads the matched files and each record it yields is a fact;
    with none of them, each file gives one fact. `fields` are Jinja templates over the groups (or the
    record's fields) and `path`, `dir`, `stem`, `name`, `parts`; `where` is a Jinja expression over the same names
    that keeps only the facts for which it is true.
    """

    fact_type: str
    globs: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    regex: str | None = None
    json_path: str | None = None
    parser: str | None = None
    where: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    source: str = ""
    loc: Location | None = None


class Standard(Model):
    """A repository convention: a violation is each match of `when`, or each file in `files` matching `matching`."""

    id: str
    summary: str = ""
    severity: Literal["error", "warning", "info"] = "error"
    message: str = ""
    when: tuple[FactPattern, ...] = ()
    files: str | None = None
    matching: str | None = None
    fix: RunAction | None = None
    excludes: tuple[str, ...] = ()
    lacking: str | None = None
    named: str | None = None
    unique: tuple[str, str] | None = None
    newer: tuple[str, str] | None = None
    source: str = ""
    loc: Location | None = None


class Schedule(Model):
    id: str
    cron: str
    run: RunAction | None = None
    check: str | None = None
    check_all: bool = False
    docs: bool = False
    source: str = ""
    loc: Location | None = None


class Override(Model):
    """A definition from a higher-ranked source (repository over packs over built-in) that replaced another."""

    kind: Literal["scenario", "rule", "standard", "schedule", "alias"]
    id: str
    origin: str
    replaced: str
    loc: Location | None = None
    replaced_loc: Location | None = None


class RuleBase(Model):
    """Everything the DSL files of one rule base declare, keyed by id.

    `origins` says where each scenario comes from ("built-in", "repository", "pack NAME@PIN"), `overrides` lists
    what replaced what; both describe provenance, not meaning, so the content hash leaves them out. `packs` maps
    each loaded pack to its pinned content hash, so that any change to a pack's files makes saved plans stale.
    """

    scenarios: dict[str, Scenario] = Field(default_factory=dict)
    aliases: dict[str, str] = Field(default_factory=dict)
    rules: dict[str, Rule] = Field(default_factory=dict)
    discovers: tuple[Discover, ...] = ()
    standards: dict[str, Standard] = Field(default_factory=dict)
    schedules: dict[str, Schedule] = Field(default_factory=dict)
    files: tuple[str, ...] = ()
    origins: dict[str, str] = Field(default_factory=dict)
    overrides: tuple[Override, ...] = ()
    packs: dict[str, str] = Field(default_factory=dict)

    def resolve_id(self, scenario_id: str) -> str:
        """The canonical id for an id or an alias (unknown ids are returned unchanged)."""
        return self.aliases.get(scenario_id, scenario_id)

    def scenario(self, scenario_id: str) -> Scenario | None:
        return self.scenarios.get(self.resolve_id(scenario_id))

    def content_hash(self, *, templates: bool = True) -> str:
        """A hash of the meaning of the rule base (locations excluded, so moving text around keeps it), and of
        the template files its scenarios render: a saved plan or an interrupted run is only carried on with the
        very scenarios and templates it was made with. `templates=False` hashes the DSL alone (for indexes of
        what the scenarios say, which templates do not change)."""
        data = self.model_dump(mode="json", exclude={"files", "origins", "overrides"})
        _strip_locations(data)
        digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode())
        if templates:
            digest.update(self.templates_digest().encode())
        return digest.hexdigest()[:16]

    def templates_digest(self) -> str:
        """SHA-256 over every file in the template folders of the scenarios (names and bytes)."""
        from pathlib import Path

        folders = sorted(
            {
                Path(s.source).resolve().parent / "templates"
                for s in self.scenarios.values()
                if s.source and not s.source.startswith("<")
            }
        )
        digest = hashlib.sha256()
        for folder in folders:
            if not folder.is_dir():
                continue
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                digest.update(str(path.relative_to(folder)).encode() + b"\0")
                try:
                    digest.update(hashlib.sha256(path.read_bytes()).digest())
                except OSError:
                    digest.update(b"unreadable")
        return digest.hexdigest()


def _strip_locations(data: object) -> None:
    if isinstance(data, dict):
        data.pop("loc", None)
        data.pop("source", None)
        for v in data.values():
            _strip_locations(v)
    elif isinstance(data, list):
        for v in data:
            _strip_locations(v)

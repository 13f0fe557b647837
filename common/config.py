"""Project configuration: `.continuous.toml` at the worktree root, overridden by environment variables.

Keys: `database_url` (else CONTINUOUS_DATABASE_URL, else the per-repository SQLite file), `scenario_paths`
(extra DSL files or folders, relative to the worktree, loaded after the built-in library), `include_builtin`, and
`port_range` (the ports this repository's servers may use: every `port` parameter is checked against it, and ports
are allocated inside it).

The file is validated by one pydantic model (`ConfigFile`, extra keys forbidden, strict types): a new key is one
field there plus one in `Config`. Nothing in the file is trusted: a scenario path may not leave the repository
through `..`, reach into `.git`, or contain the repository (which would scan every file above it).

`test_database_url` (CONTINUOUS_TEST_DATABASE_URL wins) is a scratch PostgreSQL database where `sql test` steps apply
a migration and its down migration inside a transaction that is rolled back: never the tracking database, never a
live one.

`[conventions]` (the repository's layout, `Conventions`) is built here for every command: a key the file sets wins,
else the value detected from the repository's files (`continuous.common.layout.detect_cached`), else the neutral
default; `Config.convention_sources` says which, and why.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from continuous.common.errors import UserError

CONFIG_NAME = ".continuous.toml"

CONVENTION_DOCS: dict[str, str] = {
    "app_prefix": 'every app\'s folder and package name starts with it (create-app refuses other names); "" for none',
    "table_domains": "a table name starts with one of these and _ (standard table-prefix); [] for no rule",
    "apps_dir": "the folder holding one folder per app",
    "services_dir": "the folder holding one folder per shared service",
    "pipelines_dir": "the folder holding one folder per CLI pipeline",
    "migrations_dir": "the folder of SQL migrations (YYYYMMDDHHMMSS_name.sql and _down.sql)",
    "types_file": "the generated database types every package imports",
    "server_registry": "the script that lists every server and its port",
    "test_runner": "the test runner of new tests when a package declares none: vitest or jest",
}
TEST_RUNNERS = ("vitest", "jest")


@dataclass(frozen=True)
class Conventions:
    """A repository's layout (see CONVENTION_DOCS): each key as `[conventions]` of `.continuous.toml` sets it,
    else as the repository's files show it (`continuous.common.layout.detect`), else the neutral default below.

    The one declaration of the settings: their defaults are `CONVENTION_DEFAULTS`, and the file's schema
    (`_schema`) is built from them. The defaults fit a repository about which nothing is known (docs/conventions.md
    says why each): no app prefix, no table domains, the folder names of the common pnpm/Supabase layout.
    Scenarios, templates, discovery and the standards read them as `conventions.<key>`."""

    app_prefix: str = ""
    table_domains: tuple[str, ...] = ()
    apps_dir: str = "apps"
    services_dir: str = "packages"
    pipelines_dir: str = "scripts"
    migrations_dir: str = "supabase/migrations"
    types_file: str = "supabase/types.ts"
    server_registry: str = "scripts/start-servers.js"
    test_runner: str = "vitest"

    def as_dict(self) -> Mapping[str, Any]:
        """Plain, read-only data for templates (the sandbox sees no object); built once per value."""
        return _as_dict(self)


# The defaults as the file writes them (a list where the dataclass keeps a tuple), in declaration order.
CONVENTION_DEFAULTS: dict[str, Any] = {
    f.name: list(f.default) if isinstance(f.default, tuple) else f.default for f in fields(Conventions)
}


@lru_cache(maxsize=16)
def _as_dict(conventions: Conventions) -> Mapping[str, Any]:
    return MappingProxyType(asdict(conventions))


_ACTIVE: ContextVar[Conventions | None] = ContextVar("continuous_conventions", default=None)
# where each active convention came from (`Config.convention_sources`), when the repository's config said
_SOURCES: ContextVar[Mapping[str, tuple[str, str]] | None] = ContextVar("continuous_convention_sources", default=None)
# the keys templates and DSL strings read, inside `recording_conventions`
_READ: ContextVar[set[str] | None] = ContextVar("continuous_conventions_read", default=None)


def active_conventions() -> Conventions:
    """The conventions of the repository loaded last in this context (the neutral defaults before any)."""
    return _ACTIVE.get() or Conventions()


@contextmanager
def using_conventions(
    conventions: Conventions | None, sources: Mapping[str, tuple[str, str]] | None = None
) -> Iterator[None]:
    """`conventions` active inside the block (None: none, so a repository's own apply where one is read), with
    where each came from when known."""
    token = _ACTIVE.set(conventions)
    sources_token = _SOURCES.set(sources)
    try:
        yield
    finally:
        _SOURCES.reset(sources_token)
        _ACTIVE.reset(token)


class _Recorded(Mapping[str, Any]):
    """The conventions as a template sees them, noting each key it reads."""

    __slots__ = ("_data", "_read")

    def __init__(self, data: Mapping[str, Any], read: set[str]) -> None:
        self._data = data
        self._read = read

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        self._read.add(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def template_conventions() -> Mapping[str, Any]:
    """The active conventions as every template and DSL string reads them (`conventions.<key>`); inside
    `recording_conventions`, a view that notes which keys they read."""
    data = active_conventions().as_dict()
    read = _READ.get()
    return data if read is None else _Recorded(data, read)


@contextmanager
def recording_conventions() -> Iterator[set[str]]:
    """The set of convention keys the templates and DSL strings rendered inside the block read: what a dry-run's
    files depend on."""
    read: set[str] = set()
    token = _READ.set(read)
    try:
        yield read
    finally:
        _READ.reset(token)


@dataclass(frozen=True)
class ConventionUse:
    key: str
    value: Any
    source: str  # see SOURCES
    evidence: str


def convention_uses(keys: Iterable[str]) -> list[ConventionUse]:
    """The active value of each key and where it came from, in declaration order; empty when the sources are
    not known (conventions made active by hand, not read from a repository's config)."""
    sources = _SOURCES.get()
    if sources is None:
        return []
    values = active_conventions().as_dict()
    wanted = set(keys)
    out = []
    for key in CONVENTION_DEFAULTS:
        if key in wanted and key in sources:
            value = values[key]
            out.append(ConventionUse(key, list(value) if isinstance(value, tuple) else value, *sources[key]))
    return out


@contextmanager
def conventions_of(root: Path) -> Iterator[Conventions]:
    """The conventions active inside the block: those already active (a command loaded its repository's config),
    else the conventions of `root` as `load_config` builds them. Library entry points that read a repository
    (discovery, the standards) use it, so they never apply another repository's layout or the defaults. What
    they read of the conventions is not recorded (`recording_conventions`): it is how the repository is read,
    which does not depend on whether its facts came from a cache, not what a plan writes."""
    read_token = _READ.set(None)
    try:
        active = _ACTIVE.get()
        if active is not None:
            yield active
            return
        config = _load(root)
        with using_conventions(config.conventions, config.convention_sources):
            yield config.conventions
    finally:
        _READ.reset(read_token)


# where a convention's value came from: the file, the repository's files, or the neutral default
SOURCES = ("file", "detected", "default")


@dataclass(frozen=True)
class Config:
    root: Path | None = None
    database_url: str | None = None
    scenario_paths: tuple[Path, ...] = field(default_factory=tuple)
    include_builtin: bool = True
    port_range: tuple[int, int] | None = None  # every port parameter must lie in it
    test_database_url: str | None = None
    conventions: Conventions = field(default_factory=Conventions)
    # key -> (source, evidence) for every convention, in declaration order (see SOURCES)
    convention_sources: Mapping[str, tuple[str, str]] = field(default_factory=dict, compare=False, repr=False)


_HINTS = {
    "include_builtin": "include_builtin is true or false, without quotes",
    "scenario_paths": 'write scenario_paths = ["path/to/scenarios", "more.scn"] (a list of strings)',
    "database_url": 'write database_url = "postgresql+psycopg://user@host/db" (a string)',
    "port_range": "write port_range = [3000, 5999]: the lowest and highest port, between 1 and 65535",
    "test_database_url": 'write test_database_url = "postgresql+psycopg:///scratch" (a scratch database URL)',
    "conventions": "[conventions] keys: " + ", ".join(CONVENTION_DEFAULTS) + " (see docs/conventions.md; "
    "`continuous conventions` shows the effective ones and where each came from)",
}


def _schema() -> Any:
    """The model of the file, built on first use (pydantic stays out of `continuous --help`)."""
    global _SCHEMA
    if _SCHEMA is None:
        from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

        def folder(value: str) -> str:
            text = value.strip().strip("/")
            parts = text.split("/")
            if not text or any(p in ("", ".", "..") or p.casefold() == ".git" for p in parts) or "\\" in text:
                raise ValueError('must be a relative folder inside the repository, like "apps" or "libs/core"')
            if any(ch in text for ch in "*?[]{}") or any(ord(ch) < 32 for ch in text):
                raise ValueError("must be a plain path (no wildcards, braces or control characters)")
            return text

        class ConventionRules(BaseModel):
            """What each `[conventions]` value must look like; the keys themselves come from `Conventions`."""

            model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

            @field_validator("app_prefix", check_fields=False)
            @classmethod
            def _prefix(cls, value: str) -> str:
                import re

                if value and not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*-?", value):
                    raise ValueError('must be lowercase letters and digits joined by -, like "acme-" (or "")')
                return value

            @field_validator("table_domains", check_fields=False)
            @classmethod
            def _domains(cls, value: list[str]) -> list[str]:
                import re

                bad = [d for d in value if not re.fullmatch(r"[a-z][a-z0-9]*", d)]
                if bad:
                    raise ValueError(f"{bad[0]!r} is not a lowercase word (a domain is the part before the first _)")
                return value

            @field_validator(
                "apps_dir",
                "services_dir",
                "pipelines_dir",
                "migrations_dir",
                "types_file",
                "server_registry",
                check_fields=False,
            )
            @classmethod
            def _folder(cls, value: str) -> str:
                return folder(value)

            @field_validator("test_runner", check_fields=False)
            @classmethod
            def _runner(cls, value: str) -> str:
                if value not in TEST_RUNNERS:
                    raise ValueError(f"must be one of: {', '.join(TEST_RUNNERS)}")
                return value

        table_fields: dict[str, Any] = {
            key: (list[str], Field(default_factory=lambda d=default: list(d)))
            if isinstance(default, list)
            else (type(default), default)
            for key, default in CONVENTION_DEFAULTS.items()
        }
        ConventionsTable = create_model(
            "ConventionsTable",
            __base__=ConventionRules,
            __doc__="`[conventions]`: the repository's layout; a key left out is detected, else its neutral default.",
            **table_fields,
        )

        class ConfigFile(BaseModel):
            """Every key `.continuous.toml` may hold, with its type."""

            model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

            database_url: str | None = None
            scenario_paths: list[str] = Field(default_factory=list)
            include_builtin: bool = True
            port_range: list[int] | None = None
            test_database_url: str | None = None
            conventions: ConventionsTable = Field(default_factory=ConventionsTable)

            @field_validator("port_range")
            @classmethod
            def _port_range(cls, value: list[int] | None) -> list[int] | None:
                if value is not None and not (len(value) == 2 and 1 <= value[0] <= value[1] <= 65535):
                    raise ValueError("must be [low, high] with 1 <= low <= high <= 65535")
                return value

        _SCHEMA = ConfigFile
    return _SCHEMA


_SCHEMA: Any = None


def _valid_convention(key: str, value: Any) -> bool:
    """Whether a detected value passes the rules a value in the file must pass (else the default stands)."""
    from pydantic import ValidationError

    table = _schema().model_fields["conventions"].annotation
    try:
        table.model_validate({key: value})
    except ValidationError:
        return False
    return True


def _conventions(root: Path | None, table: Any, given: set[str]) -> tuple[Conventions, dict[str, tuple[str, str]]]:
    """Each key from the file where it sets it, else as detected from the repository, else the default: the one
    place a repository's conventions are built."""
    detected: dict[str, Any] = {}
    if root is not None and given < set(CONVENTION_DEFAULTS):
        from continuous.common.layout import detect_cached

        detected = {f.key: f for f in detect_cached(root) if f.source == "detected"}
    values: dict[str, Any] = {}
    sources: dict[str, tuple[str, str]] = {}
    for key, default in CONVENTION_DEFAULTS.items():
        found = detected.get(key)
        if key in given:
            values[key], sources[key] = getattr(table, key), ("file", f"[conventions] of {CONFIG_NAME}")
        elif found is not None and _valid_convention(key, found.value):
            values[key], sources[key] = found.value, ("detected", found.evidence)
        else:
            why = "nothing in the repository says" if found is None else f"detected {found.value!r} is not valid"
            values[key], sources[key] = default, ("default", why)
    values["table_domains"] = tuple(values["table_domains"])
    return Conventions(**values), sources


def config_keys() -> list[str]:
    return list(_schema().model_fields)


def _invalid(where: str, exc: Any) -> UserError:
    from pydantic import ValidationError

    assert isinstance(exc, ValidationError)
    errors = exc.errors()
    nested = [e for e in errors if e["type"] == "extra_forbidden" and len(e["loc"]) == 2]
    if nested:
        import difflib

        table, key = str(nested[0]["loc"][0]), str(nested[0]["loc"][1])
        keys = list(CONVENTION_DEFAULTS)
        guess = next(iter(difflib.get_close_matches(key, keys, n=1)), None)
        return UserError(
            f"{where}: unknown key in [{table}]: {key}",
            hint=(f"did you mean {guess!r}? " if guess else "") + f"known keys: {', '.join(keys)}",
        )
    unknown = [str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden"]
    if unknown:
        import difflib

        guess = next(iter(difflib.get_close_matches(unknown[0], config_keys(), n=1)), None)
        return UserError(
            f"{where}: unknown key(s): {', '.join(unknown)}",
            hint=(f"did you mean {guess!r}? " if guess else "") + f"known keys: {', '.join(config_keys())}",
        )
    first = errors[0]
    key = str(first["loc"][0]) if first["loc"] else "?"
    place = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"][1:])
    hint = _HINTS.get(key)
    if key == "conventions" and len(first["loc"]) > 1:
        setting = str(first["loc"][1])
        hint = f"conventions.{setting}: {CONVENTION_DOCS.get(setting, '')}; see docs/conventions.md"
    msg = str(first["msg"])
    # pydantic capitalises its messages; the user's own values inside them keep their case
    return UserError(f"{where}: {key}{place}: {msg[:1].lower()}{msg[1:]}", hint=hint)


def _scenario_path(root: Path | None, raw: str, where: str, n: int) -> Path:
    label = f"{where}: scenario_paths[{n}] = {raw!r}"
    if not raw.strip():
        raise UserError(f"{label} is empty", hint=_HINTS["scenario_paths"])
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise UserError(f"{label} contains a control character")
    path = Path(raw)
    if root is None:
        return path
    if any(part.casefold() == ".git" for part in path.parts):
        raise UserError(f"{label} points into .git", hint="keep scenarios in the repository's own folders")
    real_root = root.resolve()
    if not path.is_absolute():
        lexical = Path(os.path.normpath(real_root / path))
        if lexical != real_root and not lexical.is_relative_to(real_root):
            raise UserError(
                f"{label} leaves the repository",
                hint="relative scenario paths stay inside the repository; give a library elsewhere as an absolute path",
            )
        path = root / path
    full = Path(os.path.normpath(path if path.is_absolute() else real_root / path))
    if full != real_root and real_root.is_relative_to(full):
        raise UserError(
            f"{label} contains the repository (it would load every file above it)",
            hint="name the folder that holds the .scn files",
        )
    if not full.is_relative_to(real_root) and full.is_dir() and next(full.rglob("*.scn"), None) is None:
        # a folder of the repository may be empty (a place to eject to); a folder elsewhere is a library
        raise UserError(f"{label} holds no .scn scenario file", hint="name a folder of scenario files")
    return path


def load_config(root: Path | None) -> Config:
    """The configuration of `root`; its conventions become the active ones (scenarios, templates, discovery and
    the standards read the conventions of the repository being worked on)."""
    config = _load(root)
    _ACTIVE.set(config.conventions)
    _SOURCES.set(config.convention_sources)
    return config


def _load(root: Path | None) -> Config:
    data: dict[str, object] = {}
    where = str(root / CONFIG_NAME) if root is not None else CONFIG_NAME
    if root is not None:
        path = root / CONFIG_NAME
        if path.exists():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise UserError(f"{path}: {exc}", hint="fix the TOML syntax or delete the file") from None
            except (OSError, UnicodeDecodeError) as exc:
                raise UserError(f"{path}: cannot read it: {exc}") from None
    from pydantic import ValidationError

    try:
        parsed = _schema().model_validate(data)
    except ValidationError as exc:
        raise _invalid(where, exc) from None
    url = os.environ.get("CONTINUOUS_DATABASE_URL") or parsed.database_url
    paths = tuple(_scenario_path(root, p, where, n) for n, p in enumerate(parsed.scenario_paths))
    test_url = os.environ.get("CONTINUOUS_TEST_DATABASE_URL") or parsed.test_database_url
    raw = data.get("conventions")
    conventions, sources = _conventions(root, parsed.conventions, set(raw) if isinstance(raw, dict) else set())
    return Config(
        root=root,
        database_url=str(url) if url else None,
        scenario_paths=paths,
        include_builtin=parsed.include_builtin,
        port_range=(parsed.port_range[0], parsed.port_range[1]) if parsed.port_range else None,
        test_database_url=str(test_url) if test_url else None,
        conventions=conventions,
        convention_sources=sources,
    )

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
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from continuous.common.errors import UserError

CONFIG_NAME = ".continuous.toml"


@dataclass(frozen=True)
class Config:
    root: Path | None = None
    database_url: str | None = None
    scenario_paths: tuple[Path, ...] = field(default_factory=tuple)
    include_builtin: bool = True
    port_range: tuple[int, int] | None = None  # every port parameter must lie in it
    test_database_url: str | None = None


_HINTS = {
    "include_builtin": "include_builtin is true or false, without quotes",
    "scenario_paths": 'write scenario_paths = ["path/to/scenarios", "more.scn"] (a list of strings)',
    "database_url": 'write database_url = "postgresql+psycopg://user@host/db" (a string)',
    "port_range": "write port_range = [3000, 5999]: the lowest and highest port, between 1 and 65535",
    "test_database_url": 'write test_database_url = "postgresql+psycopg:///scratch" (a scratch database URL)',
}


def _schema() -> Any:
    """The model of the file, built on first use (pydantic stays out of `continuous --help`)."""
    global _SCHEMA
    if _SCHEMA is None:
        from pydantic import BaseModel, ConfigDict, Field, field_validator

        class ConfigFile(BaseModel):
            """Every key `.continuous.toml` may hold, with its type."""

            model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

            database_url: str | None = None
            scenario_paths: list[str] = Field(default_factory=list)
            include_builtin: bool = True
            port_range: list[int] | None = None
            test_database_url: str | None = None

            @field_validator("port_range")
            @classmethod
            def _port_range(cls, value: list[int] | None) -> list[int] | None:
                if value is not None and not (len(value) == 2 and 1 <= value[0] <= value[1] <= 65535):
                    raise ValueError("must be [low, high] with 1 <= low <= high <= 65535")
                return value

        _SCHEMA = ConfigFile
    return _SCHEMA


_SCHEMA: Any = None


def config_keys() -> list[str]:
    return list(_schema().model_fields)


def _invalid(where: str, exc: Any) -> UserError:
    from pydantic import ValidationError

    assert isinstance(exc, ValidationError)
    errors = exc.errors()
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
    return UserError(f"{where}: {key}{place}: {first['msg'].lower()}", hint=_HINTS.get(key))


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
                hint="relative scenario paths stay inside the repository; give a library elsewhere as an "
                "absolute path",
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
    return Config(
        root=root,
        database_url=str(url) if url else None,
        scenario_paths=paths,
        include_builtin=parsed.include_builtin,
        port_range=(parsed.port_range[0], parsed.port_range[1]) if parsed.port_range else None,
        test_database_url=str(test_url) if test_url else None,
    )

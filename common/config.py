"""Project configuration: `.continuous.toml` at the worktree root, overridden by environment variables.

Keys: `database_url` (else CONTINUOUS_DATABASE_URL, else the per-repository SQLite file), `scenario_paths`
(extra DSL files or folders, relative to the worktree, loaded after the built-in library) and `test_database_url`
(CONTINUOUS_TEST_DATABASE_URL wins): a scratch PostgreSQL database where `sql test` steps apply a migration and its
down migration inside a transaction that is rolled back. Never the tracking database, never a live one.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from continuous.common.errors import UserError

CONFIG_NAME = ".continuous.toml"


@dataclass(frozen=True)
class Config:
    root: Path | None = None
    database_url: str | None = None
    scenario_paths: tuple[Path, ...] = field(default_factory=tuple)
    include_builtin: bool = True
    test_database_url: str | None = None


def load_config(root: Path | None) -> Config:
    data: dict[str, object] = {}
    if root is not None:
        path = root / CONFIG_NAME
        if path.exists():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise UserError(f"{path}: {exc}", hint="fix the TOML syntax or delete the file") from None
    unknown = set(data) - {"database_url", "scenario_paths", "include_builtin", "test_database_url"}
    if unknown:
        raise UserError(
            f"{root / CONFIG_NAME if root else CONFIG_NAME}: unknown key(s): {', '.join(sorted(unknown))}",
            hint="known keys: database_url, scenario_paths, include_builtin, test_database_url",
        )
    url = os.environ.get("CONTINUOUS_DATABASE_URL") or data.get("database_url")
    raw_paths = data.get("scenario_paths", [])
    if not isinstance(raw_paths, list) or not all(isinstance(p, str) for p in raw_paths):
        raise UserError(f"{CONFIG_NAME}: scenario_paths must be a list of strings")
    paths = tuple((root / p) if root else Path(p) for p in raw_paths)
    include_builtin = data.get("include_builtin", True)
    test_url = os.environ.get("CONTINUOUS_TEST_DATABASE_URL") or data.get("test_database_url")
    return Config(
        root=root,
        database_url=str(url) if url else None,
        scenario_paths=paths,
        include_builtin=bool(include_builtin),
        test_database_url=str(test_url) if test_url else None,
    )

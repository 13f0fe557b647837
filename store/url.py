"""Which database: an explicit URL, else CONTINUOUS_DATABASE_URL, else `database_url` in `.continuous.toml`,
else one SQLite file in the git common directory, so every worktree of a repository records into the same history.

Import-light (no SQLAlchemy): the CLI resolves the URL before deciding whether to open anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "CONTINUOUS_DATABASE_URL"
DEFAULT_DIRNAME = "continuous"
DEFAULT_FILENAME = "continuous.db"


@dataclass(frozen=True)
class ResolvedUrl:
    url: str
    source: str  # "argument", "environment", "config", "default"

    @property
    def is_default(self) -> bool:
        return self.source == "default"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def resolve_url(url: str | None = None, *, repo: Path | None = None) -> ResolvedUrl:
    if url:
        return ResolvedUrl(url, "argument")
    env = os.environ.get(ENV_VAR)
    if env:
        return ResolvedUrl(env, "environment")
    from continuous.common.config import load_config
    from continuous.common.gitinfo import locate

    location = locate(repo)
    config = load_config(location.worktree)
    if config.database_url:
        return ResolvedUrl(config.database_url, "config")
    return ResolvedUrl(sqlite_url(location.common_dir / DEFAULT_DIRNAME / DEFAULT_FILENAME), "default")

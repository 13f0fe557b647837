"""Where an operations command runs: the git worktree, its configuration, its rule base and its store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from continuous.common.config import Config, load_config
from continuous.common.gitinfo import GitLocation, locate
from continuous.dsl.model import RuleBase

if TYPE_CHECKING:
    from continuous.store.repository import TrackingStore


@dataclass(frozen=True)
class RepoContext:
    location: GitLocation
    config: Config
    rule_base: RuleBase

    @property
    def worktree(self) -> Path:
        return self.location.worktree

    def open_store(self) -> TrackingStore:
        from continuous.store import open_store

        return open_store(self.config.database_url, repo=self.worktree)


def repo_context(start: Path | None = None) -> RepoContext:
    from continuous.dsl.loader import load_config_rule_base

    location = locate(start)
    config = load_config(location.worktree)
    rule_base = load_config_rule_base(config)
    return RepoContext(location, config, rule_base)

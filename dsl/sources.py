"""Where a rule base's DSL files come from: the built-in library, packs, and the repository's own files.

Each source has a rank. A higher rank overrides a lower one by id (with a notice); two sources of the same rank may
not define the same id (two packs are peers, so neither silently wins); one source may not define an id twice.
This module is deliberately light (no lark, no pydantic) so that the planner's cached fast path can ask which
files make up the rule base without building the parser.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from continuous.common.errors import UserError

if TYPE_CHECKING:
    from continuous.common.config import Config

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
BUILTIN_LIBRARY = PACKAGE_ROOT / "scenarios"
DSL_SUFFIX = ".scn"
SKIP_DIRS = frozenset({"templates", "example-monorepo", "__pycache__", ".git"})

SourceKind = Literal["builtin", "pack", "repository"]
RANKS: dict[str, int] = {"builtin": 0, "pack": 1, "repository": 2}
BUILTIN_LABEL = "built-in"
REPOSITORY_LABEL = "repository"


@dataclass(frozen=True)
class Source:
    """One origin of DSL files. `label` is what users see ("built-in", "repository", "pack acme@1a2b3c4d5e6f");
    `pin` (packs only) is the pinned content hash, which becomes part of the rule base's content hash."""

    kind: SourceKind
    label: str
    files: tuple[Path, ...]
    pack: str | None = None
    pin: str | None = None

    @property
    def rank(self) -> int:
        return RANKS[self.kind]


def library_files(directory: Path) -> list[Path]:
    """Every .scn file under a directory, in a stable order, skipping template and example folders."""
    out = []
    for path in sorted(directory.rglob(f"*{DSL_SUFFIX}")):
        if not any(part in SKIP_DIRS for part in path.relative_to(directory).parts[:-1]):
            out.append(path)
    return out


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(library_files(p))
        elif p.exists():
            out.append(p)
        else:
            raise UserError(f"{p}: no such file or directory")
    return out


def builtin_source() -> Source:
    return Source("builtin", BUILTIN_LABEL, tuple(library_files(BUILTIN_LIBRARY)))


def repository_source(paths: Iterable[Path], label: str = REPOSITORY_LABEL) -> Source:
    return Source("repository", label, tuple(expand_paths(paths)))


def config_sources(config: Config) -> list[Source]:
    """The sources of a repository's rule base, lowest rank first: the built-in library (unless
    `include_builtin = false`), the packs pinned in `continuous.lock` (each checked against its pin), and the
    repository's `scenario_paths`."""
    sources: list[Source] = []
    if config.include_builtin:
        sources.append(builtin_source())
    if config.root is not None:
        from continuous.dsl.packs import pack_sources

        sources.extend(pack_sources(config.root))
    if config.scenario_paths:
        sources.append(repository_source(config.scenario_paths))
    return sources


def path_sources(paths: Iterable[Path | str], *, include_builtin: bool = True) -> list[Source]:
    """The built-in library (unless excluded) plus explicit DSL files or folders as the repository's source."""
    sources = [builtin_source()] if include_builtin else []
    extra = [Path(p) for p in paths]
    if extra:
        sources.append(repository_source(extra))
    return sources

"""A disk cache of parsed rule bases, so a cold `continuous suggest` does not build the LALR parser (~0.2 s).

Keyed by the DSL files themselves: the cached entry records every file the loader read (imports included)
with its
size and modification time, plus the grammar's; any change, or a new file under a library directory, reparses.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from continuous.dsl.model import RuleBase

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
_BUILTIN = _PACKAGE_ROOT / "scenarios"
_GRAMMAR = _PACKAGE_ROOT / "grammar.lark"
_MODEL = _PACKAGE_ROOT / "dsl" / "model.py"
_SKIP = {"templates", "example-monorepo", "__pycache__"}
_VERSION = 1
_MEMO: dict[str, dict[str, Any]] = {}  # a long-running process (the daemon) keeps what it loaded


def _library_files(directory: Path) -> list[Path]:
    out = []
    for path in sorted(directory.rglob("*.scn")):
        if not any(part in _SKIP for part in path.relative_to(directory).parts[:-1]):
            out.append(path.resolve())
    return out


def _roots(paths: Sequence[Path], include_builtin: bool) -> list[str]:
    roots: list[Path] = []
    if include_builtin:
        roots.extend(_library_files(_BUILTIN))
    for p in paths:
        p = Path(p)
        if p.is_dir():
            roots.extend(_library_files(p))
        else:
            roots.append(p.resolve())
    return [str(r) for r in roots]


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def load(paths: Sequence[Path], *, include_builtin: bool = True, cache_dir: Path | None = None) -> RuleBase:
    """The rule base of these DSL paths, from the cache when no file changed."""
    from continuous.planner.embedding import cache_dir as default_cache

    roots = _roots(paths, include_builtin)
    key = hashlib.sha256("\n".join([str(_VERSION), str(include_builtin), *roots]).encode()).hexdigest()[:16]
    path = (cache_dir or default_cache()) / "rulebase" / f"{key}.pickle"
    memo = _MEMO.get(str(path))
    if memo is not None and memo["roots"] == roots and all(_stamp(f) == s for f, s in memo["stamps"].items()):
        return memo["rule_base"]
    try:
        with path.open("rb") as fh:
            entry = pickle.load(fh)
        if entry["roots"] == roots and all(_stamp(f) == s for f, s in entry["stamps"].items()):
            rule_base = entry["rule_base"]
            if isinstance(rule_base, RuleBase):
                _MEMO[str(path)] = entry
                return rule_base
    except (OSError, EOFError, pickle.UnpicklingError, KeyError, TypeError, AttributeError, ImportError):
        pass
    from continuous.dsl.loader import load_rule_base

    rule_base = load_rule_base(list(paths), include_builtin=include_builtin)
    stamps = {f: _stamp(f) for f in {*rule_base.files, *roots, str(_GRAMMAR), str(_MODEL)}}
    _MEMO[str(path)] = {"roots": roots, "stamps": stamps, "rule_base": rule_base}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        with tmp.open("wb") as fh:
            pickle.dump(
                {"roots": roots, "stamps": stamps, "rule_base": rule_base},
                fh,
                protocol=pickle.HIGHEST_PROTOCOL,
            )
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs speed
    return rule_base

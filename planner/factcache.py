"""The repository's discovered facts, cached between `suggest` runs while the worktree does not change.

Discovery walks the repository (a third of a cold `suggest` in a large monorepo). Its result only changes when
the files change, and git says when they do: the cache key is `continuous.common.worktree_state` of the
worktree, with the DSL files the discovery rules come from and the code that discovers (the engine's and the
DSL's modules, the readers of migrations and generated types, and the conventions' defaults and detection,
which its globs read). Anything else — no git, an unreadable cache — just discovers again.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from continuous.common import worktree_state

_VERSION = 2
_PACKAGE = Path(__file__).resolve().parent.parent


def _state(root: Path, dsl_files: list[str]) -> str | None:
    code = [
        str(p) for sub in ("engine", "dsl") for pattern in ("*.py", "data/*") for p in (_PACKAGE / sub).glob(pattern)
    ]
    code += [
        str(_PACKAGE / "common" / name)
        for name in ("config.py", "layout.py", "data/layout.toml", "sqlschema.py", "sqlreplay.py", "tstypes.py")
    ]
    return worktree_state.state(root, [*dsl_files, *code], f"v{_VERSION}")


def cached(root: Path, dsl_files: list[str], cache_dir: Path, discover: Callable[[], list[Any]]) -> list[Any]:
    """The facts of `root`: from the cache when the worktree is as it was, else `discover()` (and cached)."""
    key = _state(root, dsl_files)
    if key is None:
        return discover()
    path = cache_dir / "facts" / (hashlib.sha256(str(root).encode()).hexdigest()[:16] + ".pickle")
    try:
        with path.open("rb") as fh:
            entry = pickle.load(fh)
        if entry.get("key") == key:
            from continuous.engine.facts import Fact

            return [Fact.model_construct(type=t, fields=f, source=s) for t, f, s in entry["facts"]]
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, KeyError, TypeError):
        pass
    facts = discover()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        with tmp.open("wb") as fh:
            rows = [(f.type, dict(f.fields), f.source) for f in facts]
            pickle.dump({"key": key, "facts": rows}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass
    return facts

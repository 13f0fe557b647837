"""A disk cache of parsed rule bases, so a cold `continuous suggest` does not build the LALR parser (~0.2 s).

Used through `continuous.dsl.loader.load_config_rule_base(config, cached=True)`; the cache lives in
`$XDG_CACHE_HOME/continuous/rulebase`.

Keyed by the DSL files themselves: the cached entry records every file the loader read (imports included)
with its size and modification time, plus the grammar's; any change, or a new file under a library directory, reparses.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from continuous.dsl.model import RuleBase
from continuous.dsl.sources import Source

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
_GRAMMAR = _PACKAGE_ROOT / "grammar.lark"
_MODEL = _PACKAGE_ROOT / "dsl" / "model.py"
_VERSION = 2
_MEMO: dict[str, dict[str, Any]] = {}  # a long-running process (the daemon) keeps what it loaded


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def load(paths: Sequence[Path], *, include_builtin: bool = True, cache_dir: Path | None = None) -> RuleBase:
    """The rule base of these DSL paths (over the built-in library unless excluded), from the cache."""
    from continuous.dsl.sources import path_sources

    return load_sources(path_sources(paths, include_builtin=include_builtin), cache_dir=cache_dir)


def load_sources(sources: Sequence[Source], *, cache_dir: Path | None = None) -> RuleBase:
    """The rule base of these sources, from the cache when no file changed. Packs were already checked against
    their pins by whoever listed the sources; a pack's pin is part of the key."""
    from continuous.common.dirs import cache_dir as default_cache

    roots = [f"{s.kind}\t{s.label}\t{s.pin or ''}\t{f.resolve()}" for s in sources for f in s.files]
    files = [str(f.resolve()) for s in sources for f in s.files]
    key = hashlib.sha256("\n".join([str(_VERSION), *roots]).encode()).hexdigest()[:16]
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
    from continuous.dsl.loader import build_rule_base

    rule_base = build_rule_base(list(sources))
    stamps = {f: _stamp(f) for f in {*rule_base.files, *files, str(_GRAMMAR), str(_MODEL)}}
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

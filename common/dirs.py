"""Where continuous keeps per-user files. Standard library only."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/continuous, else ~/.cache/continuous: rebuilt on demand, safe to delete."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "continuous"

"""Where the analytics export lives (import-light: used by the CLI and the engine's estimates)."""

from __future__ import annotations

from pathlib import Path


def default_export_dir(repo: Path | None = None) -> Path:
    """Beside the default SQLite database, in the git common directory: every worktree shares one export."""
    from continuous.common.gitinfo import locate

    return locate(repo).common_dir / "continuous" / "analytics"

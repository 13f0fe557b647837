"""The tracking store: every scenario, execution, step, task, port and archived item in one database.

Import-light on purpose: `continuous --help` imports command modules that import this package, so SQLAlchemy
and Alembic are only loaded when a store is actually opened.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from continuous.store.repository import TrackingStore

__all__ = ["open_store"]


def open_store(url: str | None = None, *, repo: Path | None = None, auto_upgrade: bool | None = None) -> TrackingStore:
    """Open the tracking store; see `continuous.store.repository.open_store`."""
    from continuous.store.repository import open_store as _open

    return _open(url, repo=repo, auto_upgrade=auto_upgrade)

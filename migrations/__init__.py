"""Alembic migrations of the tracking store: one history for SQLite and PostgreSQL.

Located from `__file__` (see `continuous.store.migrate`); no alembic.ini is needed at run time.
"""

from __future__ import annotations

from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parent

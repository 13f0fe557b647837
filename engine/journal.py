"""The run journal: a small JSON file in the worktree's git directory, rewritten atomically before every change.

It is what makes a run recoverable after `kill -9`, and it is the truth about a run: which items and steps
completed, which step was running (and what it was about to write), and — for every path the execution touched —
the blob id of its content before the execution (or null if it did not exist), saved in git's object store and
kept reachable by a ref. The tracking store is a record of the journal: when the store is missing rows or could
not be written, recovery rewrites the rows from the journal.

Status: `running` (a process runs it, or it was killed), `interrupted` (stopped on request, resumable),
`rolling_back`, `success`, `rolled_back`. A run whose journal reached an end state but whose store record may
lag behind has a marker file `<id>.unrecorded` beside the journal; the next command that takes the worktree
finishes the record.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from continuous.common import faults
from continuous.common.errors import UserError
from continuous.engine.worktree import Workspace

RESUMABLE = ("running", "interrupted")
SETTLED = ("success", "rolled_back")


class Journal:
    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    @staticmethod
    def runs_dir(ws: Workspace) -> Path:
        return ws.state_dir / "runs"

    @staticmethod
    def path_for(ws: Workspace, execution_id: str) -> Path:
        return ws.state_dir / "runs" / f"{execution_id}.json"

    @classmethod
    def create(cls, ws: Workspace, execution_id: str, data: dict[str, Any]) -> Journal:
        journal = cls(cls.path_for(ws, execution_id), data)
        journal.save()
        return journal

    @classmethod
    def load(cls, ws: Workspace, execution_id: str) -> Journal:
        return cls.load_path(cls.path_for(ws, execution_id), ws)

    @classmethod
    def load_path(cls, path: Path, ws: Workspace) -> Journal:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(
                f"execution {path.stem} has no journal in this worktree ({ws.root})",
                hint="run the command in the worktree where the execution ran",
            ) from None
        except ValueError as exc:
            raise UserError(f"the journal {path} is damaged: {exc}") from None
        return cls(path, data)

    @classmethod
    def find(cls, ws: Workspace, key: str) -> str | None:
        """The execution id of the journal whose run (or one of whose items) has id `key` or starts with it."""
        key = key.strip().lower()
        runs = cls.runs_dir(ws)
        if not runs.is_dir() or len(key) < 4:
            return None
        exact = runs / f"{key}.json"
        if exact.is_file():
            return key
        matches = sorted(p.stem for p in runs.glob(f"{key}*.json"))
        if len(matches) > 1:
            raise UserError(f"execution id prefix {key!r} is ambiguous", hint="give more characters of the id")
        if matches:
            return matches[0]
        for path in runs.glob("*.json"):  # an item's id: a scenario execution inside a run
            try:
                children = json.loads(path.read_text(encoding="utf-8")).get("children", {})
            except (OSError, ValueError):
                continue
            if any(str(c).startswith(key) for c in children.values()):
                return path.stem
        return None

    def save(self) -> None:
        with faults.around("journal.save"):
            self._write()

    def _write(self) -> None:
        self.data["updated"] = time.time()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.data, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    # -- the record marker
    @property
    def marker(self) -> Path:
        return self.path.with_suffix(".unrecorded")

    def mark_unrecorded(self) -> None:
        """Before an end state is written: the store may lag behind the journal from here on."""
        self.marker.parent.mkdir(parents=True, exist_ok=True)
        self.marker.touch()

    def mark_recorded(self) -> None:
        self.marker.unlink(missing_ok=True)

    @classmethod
    def unrecorded(cls, ws: Workspace) -> list[str]:
        runs = cls.runs_dir(ws)
        return sorted(p.stem for p in runs.glob("*.unrecorded")) if runs.is_dir() else []

    @property
    def status(self) -> str:
        return str(self.data.get("status", "running"))

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = value

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

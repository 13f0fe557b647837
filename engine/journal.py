"""The run journal: a small JSON file in the worktree's git directory, rewritten atomically before every step.

It is what makes a run recoverable after `kill -9`: which items and steps completed, which step was running,
and —
for every path the execution touched — the blob id of its content before the execution (or null if it did not
exist), saved in git's object store. Resume and rollback read it together with the store and the checkpoint
refs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from continuous.common import faults
from continuous.common.errors import UserError
from continuous.engine.worktree import Workspace


class Journal:
    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

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
        path = cls.path_for(ws, execution_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(
                f"execution {execution_id} has no journal in this worktree ({ws.root})",
                hint="run the command in the worktree where the execution ran",
            ) from None
        except ValueError as exc:
            raise UserError(f"the journal {path} is damaged: {exc}") from None
        return cls(path, data)

    def save(self) -> None:
        with faults.around("journal.save"):
            self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.data, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = value

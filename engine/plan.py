"""The frozen plan: what an execution will do, fixed before anything changes.

A plan is resolved once (dependencies, rule consequences, `unless` skips) and then only executed; a saved plan
file (`continuous plan --out`) carries the commit and rule-base hash it was made against, and is refused when either
moved.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from continuous.common.errors import UserError
from continuous.dsl.model import Model, Scalar
from pydantic import Field, ValidationError

PLAN_VERSION = 1


class PlanEntry(Model):
    scenario: str
    params: dict[str, Scalar] = Field(default_factory=dict)
    role: str = "requested"
    reason: str = "requested"
    after: tuple[int, ...] = ()
    group: int = 0
    allocated: tuple[str, ...] = ()  # port parameters the planner allocated (not given by anyone)


class SkippedEntry(Model):
    scenario: str
    params: dict[str, Scalar] = Field(default_factory=dict)
    reason: str


class FrozenPlan(Model):
    version: int = PLAN_VERSION
    request: str | None = None
    head: str
    rule_base_hash: str
    items: tuple[PlanEntry, ...]
    skipped: tuple[SkippedEntry, ...] = ()
    worktree: str | None = None
    branch: str | None = None
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def top_scenario(self) -> str | None:
        requested = [i for i in self.items if i.role == "requested"]
        return requested[0].scenario if len(requested) == 1 else None

    def groups(self) -> list[list[int]]:
        out: dict[int, list[int]] = {}
        for i, item in enumerate(self.items):
            out.setdefault(item.group, []).append(i)
        return list(out.values())

    def saved(self) -> SavedPlan:
        """The plan as `continuous plan --out` saves it."""
        return SavedPlan(
            request=self.request,
            head=self.head,
            rule_base_hash=self.rule_base_hash,
            items=tuple(
                SavedItem(
                    scenario=i.scenario,
                    params=i.params,
                    role=i.role,
                    reason=i.reason,
                    after=i.after,
                    group=i.group,
                    allocated=i.allocated or None,
                )
                for i in self.items
            ),
        )


class SavedItem(Model):
    """One item of a saved plan. `after` (the items it waits for) and `group` (its independent part of the plan)
    are optional: a plan file without them runs its items one after the other, as one group."""

    scenario: str
    params: dict[str, Scalar] = Field(default_factory=dict)
    role: str = "requested"
    reason: str = "requested"
    after: tuple[int, ...] | None = None
    group: int = 0
    allocated: tuple[str, ...] | None = None  # port parameters the planner only proposed


class SavedPlan(Model):
    """The saved-plan file (docs/contracts.md): written by `continuous plan --out`, read by `run-plan`; pinned to
    the commit and the rule base it was made against."""

    version: int = PLAN_VERSION
    request: str | None = None
    head: str
    rule_base_hash: str
    items: tuple[SavedItem, ...]

    def to_json(self) -> dict[str, Any]:
        """The file's JSON: unset optional keys are left out."""
        return self.model_dump(mode="json", exclude_none=True) | {"request": self.request}

    def write(self, out: Path) -> None:
        """Atomically: a reader never sees half a plan."""
        import os

        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, out)
        from continuous.common import worktree_state

        worktree_state.forget()  # perhaps into a worktree

    def with_params(self, params: list[dict[str, Scalar]]) -> SavedPlan:
        """The same plan with each item's parameters replaced (filled in by the user)."""
        items = tuple(i.model_copy(update={"params": p}) for i, p in zip(self.items, params, strict=True))
        return self.model_copy(update={"items": items})


MAX_PLAN_BYTES = 4 * 1024 * 1024  # a plan of a thousand items is ~300 KB


def _read_plan_file(path: Path) -> str:
    """The text of a plan file: a regular file (never a device, a pipe or a folder), of bounded size, in UTF-8."""
    import os
    import stat

    try:
        info = path.stat()
    except FileNotFoundError:
        raise UserError(f"{path}: no such plan file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read the plan file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"{path}: not a regular file", hint="give the file `continuous plan ... --out FILE` wrote")
    if info.st_size > MAX_PLAN_BYTES:
        raise UserError(f"{path}: too large for a plan ({info.st_size:,} bytes; at most {MAX_PLAN_BYTES:,})")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a pipe swapped in never blocks
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # swapped for something else since stat()
                raise UserError(f"{path}: not a regular file")
            raw = fh.read(MAX_PLAN_BYTES + 1)
    except OSError as exc:
        raise UserError(f"{path}: cannot read the plan file: {exc.strerror or exc}") from None
    if len(raw) > MAX_PLAN_BYTES:
        raise UserError(f"{path}: too large for a plan (more than {MAX_PLAN_BYTES:,} bytes)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def load_saved_plan(path: Path) -> SavedPlan:
    text = _read_plan_file(path)
    try:
        data = json.loads(text)
    except RecursionError:
        raise UserError(f"{path}: not a plan: its brackets are nested too deeply") from None
    except ValueError as exc:
        raise UserError(
            f"{path}: not a JSON plan: {exc}", hint="make one with `continuous plan ... --out FILE`"
        ) from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: a plan is a JSON object")
    if data.get("version") != PLAN_VERSION:
        raise UserError(f"{path}: unsupported plan version {data.get('version')!r} (expected {PLAN_VERSION})")
    for key in ("head", "rule_base_hash", "items"):
        if key not in data:
            raise UserError(f"{path}: the plan has no {key!r}")
    items = data["items"]
    if not isinstance(items, list) or not items:
        raise UserError(f"{path}: the plan has no items")
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or not isinstance(item.get("scenario"), str):
            raise UserError(f"{path}: item {n} needs a 'scenario' string")
        if not isinstance(item.get("params", {}), dict):
            raise UserError(f"{path}: item {n}: 'params' must be an object")
        allocated = item.get("allocated") or []
        if not isinstance(allocated, list) or not all(isinstance(a, str) for a in allocated):
            raise UserError(f"{path}: item {n}: 'allocated' must be a list of parameter names")
        after = item.get("after") or []
        if not isinstance(after, list) or not all(isinstance(a, int) and not isinstance(a, bool) for a in after):
            raise UserError(f"{path}: item {n}: 'after' must list items (0-based indexes)")
        if not isinstance(item.get("group", 0), int):
            raise UserError(f"{path}: item {n}: 'group' must be an integer")
    try:
        return SavedPlan.model_validate(
            {
                "version": data["version"],
                "request": data.get("request"),
                "head": data["head"],
                "rule_base_hash": data["rule_base_hash"],
                "items": [
                    {
                        "scenario": i["scenario"],
                        "params": i.get("params") or {},
                        "role": str(i.get("role", "requested")),
                        "reason": str(i.get("reason", "requested")),
                        "after": i.get("after"),
                        "group": i.get("group", 0),
                        "allocated": i.get("allocated") or None,
                    }
                    for i in items
                ],
            }
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = error["loc"]
        where = int(loc[1]) + 1 if len(loc) > 1 and loc[0] == "items" else None
        raise UserError(f"{path}: {f'item {where}: ' if where else ''}{error['msg']}") from None

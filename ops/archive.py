"""`continuous archive`: move what is redundant into the repository's archive convention, never delete it.

Destinations follow the monorepo: apps go to `apps/.archived_apps/<name>.<YYYYMMDD>/`, docs to an
`.archive_docs/` folder beside them, anything else to an `.archived_<kind>/` folder beside it with the date
before the extension (`scripts/cli-pipeline/x/.archived_scripts/foo.2026-11-26.ts`). The move is an ordinary
execution of the `archive-path` scenario (checkpointed, recorded, reversible), and each item is recorded in
`sys_archived_items` with the SHA-256 of every file, so `archive restore` can prove the round trip is byte for
byte."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from continuous.common.errors import RunFailed, UserError

if TYPE_CHECKING:
    from continuous.store.repository import TrackingStore

ARCHIVE_MARKERS = (".archived_", ".archive_")


@dataclass
class ArchiveOutcome:
    execution_id: str | None
    status: str
    items: list[dict[str, Any]]
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _kind(rel: str) -> str:
    top = rel.split("/", 1)[0]
    if rel.startswith("packages/shared/services/"):
        return "services"
    if rel.startswith("packages/shared/components/"):
        return "components"
    return {"scripts": "scripts", "apps": "apps", "packages": "packages", "supabase": "sql", "docs": "docs"}.get(
        top, "files"
    )


def destination(rel: str, is_dir: bool, today: date) -> tuple[str, str]:
    """(archive path, item type) for a worktree-relative path."""
    p = PurePosixPath(rel)
    parts = p.parts
    if is_dir and len(parts) == 2 and parts[0] == "apps":
        return f"apps/.archived_apps/{p.name}.{today:%Y%m%d}", "app"
    parent = "" if str(p.parent) == "." else f"{p.parent}/"
    kind = _kind(rel)
    folder = ".archive_docs" if kind == "docs" or p.suffix == ".md" else f".archived_{kind}"
    if is_dir:
        return f"{parent}{folder}/{p.name}.{today:%Y%m%d}", "directory"
    name = f"{p.stem}.{today:%Y-%m-%d}{p.suffix}" if p.suffix else f"{p.name}.{today:%Y-%m-%d}"
    item_type = {
        "docs": "doc",
        "scripts": "script",
        "services": "service",
        "components": "component",
        "sql": "sql",
    }.get(kind, "doc" if p.suffix == ".md" else "file")
    return f"{parent}{folder}/{name}", item_type


def file_hashes(root: Path, rel: str) -> dict[str, str]:
    """SHA-256 of every file under `rel` (or of `rel` itself), keyed by the path relative to `rel`."""
    base = root / rel
    files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
    return {
        ("" if f == base else f.relative_to(base).as_posix()): hashlib.sha256(f.read_bytes()).hexdigest() for f in files
    }


def _git_out(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    return proc.stdout if proc.returncode == 0 else ""


def resolve_paths(worktree: Path, raw_paths: Sequence[str], cwd: Path | None = None) -> list[str]:
    """Worktree-relative paths; refuses anything outside the worktree, missing, untracked, dirty, archived."""
    from continuous.engine.steps import safe_path

    root = worktree.resolve()
    base = (cwd or Path.cwd()).resolve()
    out: list[str] = []
    for raw in raw_paths:
        full = (base / raw) if not Path(raw).is_absolute() else Path(raw)
        try:
            rel = full.resolve().relative_to(root).as_posix()
        except ValueError:
            raise UserError(
                f"{raw}: outside the worktree {root}", hint="archive only files of this repository"
            ) from None
        rel = safe_path(root, rel, what="archive path")
        if not (root / rel).exists():
            raise UserError(f"{raw}: no such file or directory")
        if any(part.startswith(ARCHIVE_MARKERS) for part in PurePosixPath(rel).parts):
            raise UserError(f"{rel} is already archived")
        if not _git_out(root, "ls-files", "--", rel).strip():
            raise UserError(f"{rel} is not tracked by git", hint="commit it first (or just delete it)")
        dirty = _git_out(root, "status", "--porcelain", "--untracked-files=all", "--", rel).strip()
        if dirty:
            raise UserError(f"{rel} has uncommitted changes", hint="commit or stash them first; nothing was moved")
        if rel in out:
            continue
        out.append(rel)
    return out


def _run(
    worktree: Path, requests: list[tuple[str, dict[str, Any]]], reason: str, commit: bool
) -> tuple[str, str, str | None]:
    from continuous.engine.executor import Executor, Request

    ex = Executor(worktree, executed_by="continuous-archive")
    try:
        plan = ex.build_plan([Request(scenario=s, params=p, reason=reason) for s, p in requests], request_text=reason)
        result = ex.run(plan, commit=commit)
    finally:
        ex.close()
    return result.execution_id, result.status, result.error


def archive_paths(
    worktree: Path,
    raw_paths: Sequence[str],
    *,
    reason: str,
    store: TrackingStore,
    commit: bool = False,
    today: date | None = None,
    cwd: Path | None = None,
) -> ArchiveOutcome:
    if not reason.strip():
        raise UserError("--reason is required", hint='e.g. --reason "replaced by the unified auth service"')
    worktree = worktree.resolve()
    today = today or datetime.now(UTC).date()
    rels = resolve_paths(worktree, raw_paths, cwd)
    if not rels:
        raise UserError("nothing to archive: give one or more paths")
    planned = []
    for rel in rels:
        dest, item_type = destination(rel, (worktree / rel).is_dir(), today)
        n = 2
        base_dest = dest
        while (worktree / dest).exists():
            dest = f"{base_dest}-{n}"
            n += 1
        planned.append(
            {"path": rel, "archived_path": dest, "item_type": item_type, "sha256": file_hashes(worktree, rel)}
        )
    execution_id, status, error = _run(
        worktree,
        [("archive-path", {"path": p["path"], "to": p["archived_path"]}) for p in planned],
        f"archive: {reason}",
        commit,
    )
    if status != "success":
        return ArchiveOutcome(execution_id, status, [], error)
    items = []
    for p in planned:
        item_id = store.archive_item(
            p["item_type"],
            p["path"],
            reason=reason,
            metadata={"archived_path": p["archived_path"], "sha256": p["sha256"]},
            execution_id=execution_id,
        )
        items.append({"id": item_id, **p})
    return ArchiveOutcome(execution_id, status, items)


def archive_table(
    worktree: Path, table: str, *, reason: str, store: TrackingStore, commit: bool = False
) -> ArchiveOutcome:
    import re

    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", table):
        raise UserError(f"{table!r} is not a table name (lower-case snake_case)")
    if not reason.strip():
        raise UserError("--reason is required")
    execution_id, status, error = _run(
        worktree.resolve(), [("archive-table", {"table": table})], f"archive table {table}: {reason}", commit
    )
    if status != "success":
        return ArchiveOutcome(execution_id, status, [], error)
    item_id = store.archive_item(
        "table", table, reason=reason, metadata={"schema": "archived"}, execution_id=execution_id
    )
    return ArchiveOutcome(execution_id, status, [{"id": item_id, "item_type": "table", "path": table}])


def restore(worktree: Path, item_id: str, *, store: TrackingStore, commit: bool = False) -> ArchiveOutcome:
    worktree = worktree.resolve()
    item = store.get_archived(item_id)
    if item.state == "restored" and item.restored_at is not None:
        raise UserError(
            f"archived item {item.id[:8]} ({item.item_path}) was already restored on {item.restored_at:%Y-%m-%d %H:%M}"
        )
    if item.state == "rolled_back":
        raise UserError(
            f"archiving {item.item_path} was rolled back (execution {item.execution_id}); there is nothing to restore"
        )
    if item.item_type == "table":
        execution_id, status, error = _run(
            worktree, [("restore-table", {"table": item.item_path})], f"restore table {item.item_path}", commit
        )
        if status == "success":
            store.mark_restored(item.id, execution_id)
        return ArchiveOutcome(execution_id, status, [{"id": item.id, "path": item.item_path}], error)
    meta = item.metadata or {}
    archived = str(meta.get("archived_path", ""))
    if not archived or not (worktree / archived).exists():
        raise UserError(f"the archived copy {archived or '(unknown)'} of {item.item_path} is not in this worktree")
    if (worktree / item.item_path).exists():
        raise UserError(f"{item.item_path} exists again; move it away before restoring the archived copy")
    execution_id, status, error = _run(
        worktree, [("restore-archived", {"path": archived, "to": item.item_path})], f"restore {item.item_path}", commit
    )
    if status != "success":
        return ArchiveOutcome(execution_id, status, [], error)
    expected = meta.get("sha256") or {}
    actual = file_hashes(worktree, item.item_path)
    if expected and actual != expected:
        raise RunFailed(
            f"restored {item.item_path} differs from what was archived (execution {execution_id})",
            hint=f"`continuous rollback {execution_id}` undoes the restore",
        )
    store.mark_restored(item.id, execution_id)
    return ArchiveOutcome(execution_id, status, [{"id": item.id, "path": item.item_path, "from": archived}])

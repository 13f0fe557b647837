"""Git checkpoints that never move HEAD and never touch the user's index.

Each checkpoint is a commit object whose tree is HEAD's tree plus every path the execution has touched so far,
built in a private index file (`GIT_INDEX_FILE`) with git's plumbing (driven through GitPython's command wrapper, which
is an order of magnitude faster on a big repository than GitPython's pure-Python index). The commit is kept alive by a
ref `refs/continuous/<execution-id>/<n>`, so `git log` and the branch stay clean while every step stays recoverable.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from continuous.common import faults
from continuous.common.errors import RunFailed

REF_PREFIX = "refs/continuous"
_IDENTITY = {
    "GIT_AUTHOR_NAME": "continuous",
    "GIT_AUTHOR_EMAIL": "continuous@localhost",
    "GIT_COMMITTER_NAME": "continuous",
    "GIT_COMMITTER_EMAIL": "continuous@localhost",
}


def _git(root: Path, index: Path | None = None) -> Any:
    import git

    g = git.Git(str(root))
    env: dict[str, str] = {}
    if index is not None:
        env["GIT_INDEX_FILE"] = str(index)
    g.update_environment(**env)
    return g


def _has_identity(g: Any) -> bool:
    import git

    try:
        g.var("GIT_COMMITTER_IDENT")
        g.var("GIT_AUTHOR_IDENT")
        return True
    except git.GitCommandError:
        return False


class Checkpointer:
    """Checkpoints of one execution; the private index and the last commit survive a crash."""

    def __init__(self, root: Path, state_dir: Path, execution_id: str, *, parent: str | None = None) -> None:
        self.root = root
        self.execution_id = execution_id
        self.index = state_dir / "index" / f"{execution_id}.index"
        self.parent = parent
        self._g: Any = None

    @property
    def g(self) -> Any:
        if self._g is None:
            self.index.parent.mkdir(parents=True, exist_ok=True)
            self._g = _git(self.root, self.index)
            if not _has_identity(self._g):
                self._g.update_environment(**_IDENTITY)
            if not self.index.exists():
                self._g.read_tree("HEAD")
        return self._g

    def checkpoint(self, number: int, message: str, paths: Iterable[str]) -> str:
        """Record the current content of `paths` on top of the previous checkpoint."""
        import git

        g = self.g
        present = sorted({p for p in paths if (self.root / p).exists() or (self.root / p).is_symlink()})
        gone = sorted({p for p in paths if p not in present})
        try:
            for chunk in _chunks(present):
                with faults.around("git.add"):
                    g.add("-f", "-A", "--", *chunk)
            for chunk in _chunks(gone):
                with faults.around("git.rm"):
                    g.rm("--cached", "-q", "--ignore-unmatch", "--", *chunk)
            with faults.around("git.write-tree"):
                tree = g.write_tree()
            parent = self.parent or g.rev_parse("HEAD")
            with faults.around("git.commit-tree"):
                commit = g.commit_tree(tree, "-p", parent, "-m", message)
            with faults.around("git.update-ref"):
                g.update_ref(f"{REF_PREFIX}/{self.execution_id}/{number}", commit)
        except git.GitCommandError as exc:
            raise RunFailed(f"cannot write checkpoint {number}: {exc.stderr.strip() or exc}") from None
        self.parent = commit
        return str(commit)

    def discard_index(self) -> None:
        self.index.unlink(missing_ok=True)

    def clear_stale_locks(self, wait: float = 2.0) -> list[Path]:
        """Remove `index.lock` files of this execution's private indexes, left by a git child killed with the
        run. Only the execution that owns the worktree (its caller holds the run lock) writes these indexes, so
        a lock that outlives a short wait (an orphaned git child finishing its write) is stale."""
        import time

        deadline = time.monotonic() + wait
        while True:
            locks = [p for p in self.index.parent.glob(f"{self.execution_id}.*lock") if p.is_file()]
            if not locks or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        for lock in locks:
            lock.unlink(missing_ok=True)
        return locks


def keep_originals(root: Path, state_dir: Path, execution_id: str, blobs: dict[str, str]) -> str | None:
    """Reference the saved pre-execution blobs (`refs/continuous/<id>/originals`), so that `git gc` never
    prunes what a later rollback needs."""
    import git

    if not blobs:
        return None
    index = state_dir / "index" / f"{execution_id}.originals.index"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.unlink(missing_ok=True)
    g = _git(root, index)
    if not _has_identity(g):
        g.update_environment(**_IDENTITY)
    try:
        for chunk in _chunks(sorted(blobs)):
            args: list[str] = ["--add"]
            for path in chunk:
                args += ["--cacheinfo", f"100644,{blobs[path]},{path}"]
            g.update_index(*args)
        tree = g.write_tree()
        commit = g.commit_tree(tree, "-m", f"continuous {execution_id}: files before the execution")
        g.update_ref(f"{REF_PREFIX}/{execution_id}/originals", commit)
    except git.GitCommandError:
        return None
    finally:
        index.unlink(missing_ok=True)
    return str(commit)


def keep_blobs(root: Path, execution_id: str, blobs: Iterable[str]) -> None:
    """Make saved blobs reachable from refs the moment they are saved, before the journal refers to them and
    before the files change: `git gc --prune=now` between a crash and its rollback must find nothing to prune.
    One ref per blob (`refs/continuous/<id>/kept/<blob>`), all written by one `git update-ref --stdin`."""
    import subprocess

    wanted = sorted(set(blobs))
    if not wanted:
        return
    commands = "".join(f"update {REF_PREFIX}/{execution_id}/kept/{b} {b}\n" for b in wanted)
    with faults.around("git.update-ref"):
        proc = subprocess.run(
            ["git", "update-ref", "--stdin"], cwd=root, input=commands.encode(), capture_output=True, check=False
        )
    if proc.returncode != 0:
        raise RunFailed(f"cannot keep the original files: {proc.stderr.decode(errors='replace').strip()}")


def drop_kept(root: Path, execution_id: str) -> None:
    """Delete the per-blob refs once the run has ended (success keeps one `originals` commit instead)."""
    import subprocess

    listed = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname)", f"{REF_PREFIX}/{execution_id}/kept/"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    if listed:
        with faults.around("git.update-ref"):
            subprocess.run(
                ["git", "update-ref", "--stdin"],
                cwd=root,
                input="".join(f"delete {r}\n" for r in listed).encode(),
                capture_output=True,
                check=False,
            )


def _chunks(paths: list[str], size: int = 500) -> list[list[str]]:
    """Argument lists stay far below the OS limit however many files an execution touches."""
    return [paths[i : i + size] for i in range(0, len(paths), size)]


def checkpoint_refs(root: Path, execution_id: str) -> list[tuple[str, str]]:
    """(ref, commit) of an execution's checkpoints in step order."""
    g = _git(root)
    out = g.for_each_ref("--format=%(refname) %(objectname)", f"{REF_PREFIX}/{execution_id}/")
    pairs = [tuple(line.split(" ", 1)) for line in out.splitlines() if line.strip()]
    pairs = [(r, c) for r, c in pairs if r.rsplit("/", 1)[-1].isdigit()]
    return sorted(((r, c) for r, c in pairs), key=lambda rc: int(rc[0].rsplit("/", 1)[-1]))


def blob_at(root: Path, commit: str, path: str) -> bytes | None:
    """The content of `path` in `commit`, or None if absent."""
    import subprocess

    proc = subprocess.run(
        ["git", "cat-file", "blob", f"{commit}:{path}"], cwd=root, capture_output=True, check=False
    )
    return proc.stdout if proc.returncode == 0 else None


def save_blobs(root: Path, paths: list[str]) -> dict[str, str]:
    """Write the current content of files into git's object store; returns path → blob id."""
    import subprocess

    if not paths:
        return {}
    with faults.around("git.hash-object"):
        proc = subprocess.run(
            ["git", "hash-object", "-w", "--no-filters", "--stdin-paths"],
            cwd=root,
            input="\n".join(paths).encode("utf-8", "surrogateescape") + b"\n",
            capture_output=True,
            check=False,
        )
    if proc.returncode != 0:
        raise RunFailed(f"cannot save original files: {proc.stderr.decode(errors='replace').strip()}")
    return dict(zip(paths, proc.stdout.decode().split(), strict=True))


def hash_files(root: Path, paths: list[str]) -> dict[str, str]:
    """Content hashes of files (not written to the object store)."""
    import subprocess

    if not paths:
        return {}
    proc = subprocess.run(
        ["git", "hash-object", "--no-filters", "--stdin-paths"],
        cwd=root,
        input="\n".join(paths).encode("utf-8", "surrogateescape") + b"\n",
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        return {}
    return dict(zip(paths, proc.stdout.decode().split(), strict=True))


def read_blob(root: Path, blob: str) -> bytes:
    import subprocess

    proc = subprocess.run(["git", "cat-file", "blob", blob], cwd=root, capture_output=True, check=False)
    if proc.returncode != 0:
        raise RunFailed(f"cannot read saved object {blob}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def commit_paths(root: Path, state_dir: Path, execution_id: str, paths: list[str], message: str) -> str:
    """One ordinary commit on the current branch of exactly `paths`, hooks included.

    The commit is built in a private index (HEAD plus the paths), so a hook that rejects it leaves the user's
    index byte for byte as it was; only after the commit exists are the user's index entries of those paths set
    to the new HEAD (other staged changes stay staged). The message carries `execution <id>`, by which a resume
    after a crash recognises a commit already made."""
    import git

    index = state_dir / "index" / f"{execution_id}.commit.index"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.unlink(missing_ok=True)
    g = _git(root, index)
    present = [p for p in paths if (root / p).exists() or (root / p).is_symlink()]
    gone = [p for p in paths if p not in present]
    try:
        g.read_tree("HEAD")
        for chunk in _chunks(present):
            g.add("-f", "-A", "--", *chunk)
        for chunk in _chunks(gone):
            g.rm("--cached", "-q", "--ignore-unmatch", "--", *chunk)
        with faults.around("commit"):
            g.commit("-q", "-m", message)
    except git.GitCommandError as exc:
        raise RunFailed(f"git commit failed: {(exc.stderr or '').strip() or exc}") from None
    finally:
        index.unlink(missing_ok=True)
    sync_index(root, paths)
    return str(_git(root).rev_parse("HEAD"))


def sync_index(root: Path, paths: list[str]) -> None:
    """Set the user's index entries of `paths` to HEAD's (absent from HEAD: removed), nothing else."""
    import subprocess

    if not paths:
        return
    tree = subprocess.run(
        ["git", "ls-tree", "-z", "HEAD", "--", *paths], cwd=root, capture_output=True, check=False
    ).stdout.decode("utf-8", "surrogateescape")
    entries: dict[str, str] = {}
    for rec in tree.split("\0"):
        if "\t" in rec:
            meta, path = rec.split("\t", 1)
            mode, _kind, blob = meta.split()
            entries[path] = f"{mode} {blob}"
    records = "".join(
        f"{entries[p]}\t{p}\0" if p in entries else f"0 {'0' * 40}\t{p}\0" for p in paths
    )
    with faults.around("git.update-index"):
        subprocess.run(
            ["git", "update-index", "-z", "--index-info"],
            cwd=root,
            input=records.encode("utf-8", "surrogateescape"),
            capture_output=True,
            check=False,
        )


def find_commit(root: Path, since: str, marker: str) -> str | None:
    """The newest commit after `since` on HEAD whose message has the line `marker` (a commit made before a
    crash), or None."""
    import subprocess

    proc = subprocess.run(
        ["git", "log", "--format=%H", "--fixed-strings", f"--grep={marker}", f"{since}..HEAD"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    found = proc.stdout.split()
    return found[0] if proc.returncode == 0 and found else None

"""Git checkpoints that never move HEAD and never touch the user's index.

Each checkpoint is a commit object whose tree is HEAD's tree plus every path the execution has touched so far,
built in a private index file (`GIT_INDEX_FILE`) with git's plumbing (through `continuous.engine.git`, the engine's
one git runner). The commit is kept alive by a ref `refs/continuous/<execution-id>/<n>`, so `git log` and the
branch stay clean while every step stays recoverable.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from continuous.common import faults
from continuous.common.errors import RunFailed
from continuous.engine import git
from continuous.engine.git import chunks as _chunks

REF_PREFIX = "refs/continuous"
_IDENTITY = {
    "GIT_AUTHOR_NAME": "continuous",
    "GIT_AUTHOR_EMAIL": "continuous@localhost",
    "GIT_COMMITTER_NAME": "continuous",
    "GIT_COMMITTER_EMAIL": "continuous@localhost",
}


def _identity(root: Path) -> dict[str, str]:
    """Checkpoint commits need an identity; where the repository has none, continuous signs them itself."""
    for var in ("GIT_COMMITTER_IDENT", "GIT_AUTHOR_IDENT"):
        if git.run(root, "var", var).returncode != 0:
            return dict(_IDENTITY)
    return {}


class Checkpointer:
    """Checkpoints of one execution; the private index and the last commit survive a crash."""

    def __init__(self, root: Path, state_dir: Path, execution_id: str, *, parent: str | None = None) -> None:
        self.root = root
        self.execution_id = execution_id
        self.index = state_dir / "index" / f"{execution_id}.index"
        self.parent = parent
        self._env: dict[str, str] | None = None

    def _git(self, *args: str, what: str) -> str:
        """A git command on the private index (HEAD's tree the first time), signed by an identity."""
        if self._env is None:
            self.index.parent.mkdir(parents=True, exist_ok=True)
            self._env = _identity(self.root)
            if not self.index.exists():
                git.run(self.root, "read-tree", "HEAD", index=self.index, env=self._env, check=True, what=what)
        out = git.run(self.root, *args, index=self.index, env=self._env, check=True, what=what).stdout
        return out.decode("utf-8", "surrogateescape").strip()

    def checkpoint(self, number: int, message: str, paths: Iterable[str]) -> str:
        """Record the current content of `paths` on top of the previous checkpoint."""
        what = f"write checkpoint {number}"
        present = sorted({p for p in paths if (self.root / p).exists() or (self.root / p).is_symlink()})
        gone = sorted({p for p in paths if p not in present})
        for chunk in _chunks(present):
            with faults.around("git.add"):
                self._git("add", "-f", "-A", "--", *chunk, what=what)
        for chunk in _chunks(gone):
            with faults.around("git.rm"):
                self._git("rm", "--cached", "-q", "--ignore-unmatch", "--", *chunk, what=what)
        with faults.around("git.write-tree"):
            tree = self._git("write-tree", what=what)
        parent = self.parent or self._git("rev-parse", "HEAD", what=what)
        with faults.around("git.commit-tree"):
            commit = self._git("commit-tree", tree, "-p", parent, "-m", message, what=what)
        with faults.around("git.update-ref"):
            self._git("update-ref", f"{REF_PREFIX}/{self.execution_id}/{number}", commit, what=what)
        self.parent = commit
        return commit

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
    if not blobs:
        return None
    index = state_dir / "index" / f"{execution_id}.originals.index"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.unlink(missing_ok=True)
    env = _identity(root)
    try:
        for chunk in _chunks(sorted(blobs)):
            args: list[str] = ["--add"]
            for path in chunk:
                args += ["--cacheinfo", f"100644,{blobs[path]},{path}"]
            git.run(root, "update-index", *args, index=index, env=env, check=True)
        tree = git.text(root, "write-tree", index=index, env=env, check=True)
        message = f"continuous {execution_id}: files before the execution"
        commit = git.text(root, "commit-tree", tree, "-m", message, index=index, env=env, check=True)
        git.run(root, "update-ref", f"{REF_PREFIX}/{execution_id}/originals", commit, check=True)
    except RunFailed:
        return None
    finally:
        index.unlink(missing_ok=True)
    return commit


def keep_blobs(root: Path, execution_id: str, blobs: Iterable[str]) -> None:
    """Make saved blobs reachable from refs the moment they are saved, before the journal refers to them and
    before the files change: `git gc --prune=now` between a crash and its rollback must find nothing to prune.
    One ref per blob (`refs/continuous/<id>/kept/<blob>`), all written by one `git update-ref --stdin`."""
    wanted = sorted(set(blobs))
    if not wanted:
        return
    commands = "".join(f"update {REF_PREFIX}/{execution_id}/kept/{b} {b}\n" for b in wanted)
    with faults.around("git.update-ref"):
        git.run(root, "update-ref", "--stdin", input=commands.encode(), check=True, what="keep the original files")


def drop_kept(root: Path, execution_id: str) -> None:
    """Delete the per-blob refs once the run has ended (success keeps one `originals` commit instead)."""
    listed = git.text(root, "for-each-ref", "--format=%(refname)", f"{REF_PREFIX}/{execution_id}/kept/").split()
    if listed:
        with faults.around("git.update-ref"):
            git.run(root, "update-ref", "--stdin", input="".join(f"delete {r}\n" for r in listed).encode())


def checkpoint_refs(root: Path, execution_id: str) -> list[tuple[str, str]]:
    """(ref, commit) of an execution's checkpoints in step order."""
    out = git.text(root, "for-each-ref", "--format=%(refname) %(objectname)", f"{REF_PREFIX}/{execution_id}/")
    pairs = [tuple(line.split(" ", 1)) for line in out.splitlines() if line.strip()]
    steps = [(r, c) for r, c in pairs if r.rsplit("/", 1)[-1].isdigit()]
    return sorted(steps, key=lambda rc: int(rc[0].rsplit("/", 1)[-1]))


def blob_at(root: Path, commit: str, path: str) -> bytes | None:
    """The content of `path` in `commit`, or None if absent."""
    proc = git.run(root, "cat-file", "blob", f"{commit}:{path}")
    return proc.stdout if proc.returncode == 0 else None


def save_blobs(root: Path, paths: list[str]) -> dict[str, str]:
    """Write the current content of files into git's object store; returns path → blob id."""
    if not paths:
        return {}
    with faults.around("git.hash-object"):
        proc = git.run(
            root,
            "hash-object",
            "-w",
            "--no-filters",
            "--stdin-paths",
            input="\n".join(paths).encode("utf-8", "surrogateescape") + b"\n",
            check=True,
            what="save original files",
        )
    return dict(zip(paths, proc.stdout.decode().split(), strict=True))


def hash_files(root: Path, paths: list[str]) -> dict[str, str]:
    """Content hashes of files (not written to the object store)."""
    if not paths:
        return {}
    listing = "\n".join(paths).encode("utf-8", "surrogateescape") + b"\n"
    proc = git.run(root, "hash-object", "--no-filters", "--stdin-paths", input=listing)
    if proc.returncode != 0:
        return {}
    return dict(zip(paths, proc.stdout.decode().split(), strict=True))


def read_blob(root: Path, blob: str) -> bytes:
    return git.run(root, "cat-file", "blob", blob, check=True, what=f"read saved object {blob}").stdout


def commit_paths(root: Path, state_dir: Path, execution_id: str, paths: list[str], message: str) -> str:
    """One ordinary commit on the current branch of exactly `paths`, hooks included.

    The commit is built in a private index (HEAD plus the paths), so a hook that rejects it leaves the user's
    index byte for byte as it was; only after the commit exists are the user's index entries of those paths set
    to the new HEAD (other staged changes stay staged). The message carries `execution <id>`, by which a resume
    after a crash recognises a commit already made."""
    index = state_dir / "index" / f"{execution_id}.commit.index"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.unlink(missing_ok=True)
    present = [p for p in paths if (root / p).exists() or (root / p).is_symlink()]
    gone = [p for p in paths if p not in present]

    def run(*args: str) -> None:
        proc = git.run(root, *args, index=index)
        if proc.returncode != 0:
            detail = proc.stderr.decode(errors="replace").strip() or proc.stdout.decode(errors="replace").strip()
            raise RunFailed(f"git commit failed: {detail or f'git {args[0]} exited {proc.returncode}'}")

    try:
        run("read-tree", "HEAD")
        for chunk in _chunks(present):
            run("add", "-f", "-A", "--", *chunk)
        for chunk in _chunks(gone):
            run("rm", "--cached", "-q", "--ignore-unmatch", "--", *chunk)
        with faults.around("commit"):
            run("commit", "-q", "-m", message)
    finally:
        index.unlink(missing_ok=True)
    sync_index(root, paths)
    return git.text(root, "rev-parse", "HEAD")


def sync_index(root: Path, paths: list[str]) -> None:
    """Set the user's index entries of `paths` to HEAD's (absent from HEAD: removed), nothing else."""
    if not paths:
        return
    entries = git.head_entries(root, paths)
    git.set_index(root, {p: entries.get(p) for p in paths})


def find_commit(root: Path, since: str, marker: str) -> str | None:
    """The newest commit after `since` on HEAD whose message has the line `marker` (a commit made before a
    crash), or None."""
    proc = git.run(root, "log", "--format=%H", "--fixed-strings", f"--grep={marker}", f"{since}..HEAD")
    found = proc.stdout.decode().split()
    return found[0] if proc.returncode == 0 and found else None

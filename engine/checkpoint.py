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
                g.add("-f", "-A", "--", *chunk)
            for chunk in _chunks(gone):
                g.rm("--cached", "-q", "--ignore-unmatch", "--", *chunk)
            tree = g.write_tree()
            parent = self.parent or g.rev_parse("HEAD")
            commit = g.commit_tree(tree, "-p", parent, "-m", message)
            g.update_ref(f"{REF_PREFIX}/{self.execution_id}/{number}", commit)
        except git.GitCommandError as exc:
            raise RunFailed(f"cannot write checkpoint {number}: {exc.stderr.strip() or exc}") from None
        self.parent = commit
        return str(commit)

    def discard_index(self) -> None:
        self.index.unlink(missing_ok=True)


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


def commit_paths(root: Path, paths: list[str], message: str) -> str:
    """One ordinary commit on the current branch of exactly `paths` (other staged changes stay staged)."""
    import git

    g = _git(root)
    present = [p for p in paths if (root / p).exists()]
    try:
        if present:
            g.add("-A", "--", *present)
        tracked_gone = [p for p in paths if p not in present and g.ls_files("--", p)]
        if tracked_gone:
            g.rm("--cached", "-q", "--", *tracked_gone)
        g.commit("-q", "-m", message, "--", *(present + tracked_gone))
    except git.GitCommandError as exc:
        raise RunFailed(f"git commit failed: {exc.stderr.strip() or exc}") from None
    return str(g.rev_parse("HEAD"))

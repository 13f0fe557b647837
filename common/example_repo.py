"""The example monorepo shipped with the built-in library, and the project config `continuous init` writes.

The example lives as package data in `scenarios/example-monorepo/` so the demo, the tests and new users all
start from the same small repository laid out like the real one (see docs/library.md).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from continuous.common.config import CONFIG_NAME
from continuous.common.errors import UserError

EXAMPLE_REPO = Path(__file__).resolve().parent.parent / "scenarios" / "example-monorepo"
_IGNORED = shutil.ignore_patterns("node_modules", "__pycache__", ".DS_Store", "dist", CONFIG_NAME)

CONFIG_TEMPLATE = """\
# continuous project configuration (see `continuous --help`)
#
# Where executions are tracked. Default: a SQLite file shared by every worktree of this repository
# (<git-common-dir>/continuous/continuous.db). CONTINUOUS_DATABASE_URL overrides this setting.
# database_url = "postgresql+psycopg://user@host/continuous"

# Extra scenario files or folders (relative to the repository root), loaded after the built-in library.
scenario_paths = []

# Set to false to use only the scenarios in scenario_paths.
# include_builtin = true
"""


@dataclass(frozen=True)
class ExampleRepo:
    path: Path
    files: tuple[str, ...]
    commit: str | None
    apps: tuple[str, ...] = field(default_factory=tuple)


def write_config(root: Path, findings: list[Any] | None = None) -> Path:
    """Write `.continuous.toml` at `root`, with the conventions detected from its files (or `findings`);
    refuse to overwrite an existing one."""
    target = root / CONFIG_NAME
    if target.exists():
        raise UserError(f"{target} already exists", hint="edit it, or delete it and run `continuous init` again")
    from continuous.common.layout import conventions_table, detect

    table = conventions_table(findings if findings is not None else detect(root))
    target.write_text(CONFIG_TEMPLATE + "\n" + table, encoding="utf-8")
    return target


def _stated(findings: list[Any]) -> list[Any]:
    """The example's own `[conventions]` (its shipped .continuous.toml: what its few files cannot show) over
    what is detected from them."""
    import tomllib
    from dataclasses import replace

    stated = tomllib.loads((EXAMPLE_REPO / CONFIG_NAME).read_text(encoding="utf-8")).get("conventions", {})
    return [
        replace(f, value=stated[f.key], evidence="stated by the example", source="file") if f.key in stated else f
        for f in findings
    ]


def create_example(dest: Path, *, git: bool = True) -> ExampleRepo:
    """Copy the example monorepo to `dest` (missing or empty), then `git init` and commit it."""
    dest = dest.expanduser()
    if dest.exists() and not dest.is_dir():
        raise UserError(f"{dest} exists and is not a directory", hint="choose a new directory name")
    if dest.exists() and any(dest.iterdir()):
        raise UserError(f"{dest} is not empty", hint="choose a new or empty directory")
    if not EXAMPLE_REPO.is_dir():
        raise UserError(
            f"the example monorepo is missing from this installation ({EXAMPLE_REPO})", hint="reinstall continuous"
        )
    existed = dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copytree(EXAMPLE_REPO, dest, dirs_exist_ok=True, ignore=_IGNORED, symlinks=False)
        files = tuple(sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()))
        from continuous.common.layout import detect

        write_config(dest, _stated(detect(dest)))
        commit = _git_commit(dest) if git else None
    except BaseException:
        # leave DIR as it was: absent, or empty
        for child in list(dest.iterdir()) if existed else []:
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        if not existed:
            shutil.rmtree(dest, ignore_errors=True)
        raise
    apps_dir = dest / "apps"
    apps = tuple(sorted(p.name for p in apps_dir.iterdir() if p.is_dir() and not p.name.startswith(".")))
    return ExampleRepo(path=dest.resolve(), files=(*files, CONFIG_NAME), commit=commit, apps=apps)


def _git_commit(root: Path) -> str:
    def git(*args: str) -> str:
        try:
            proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
        except FileNotFoundError:
            raise UserError("git is not installed", hint="install git and run the command again") from None
        if proc.returncode != 0:
            raise UserError(f"git {' '.join(args)} failed in {root}: {proc.stderr.strip()}")
        return proc.stdout.strip()

    git("init", "-q", "-b", "main")
    identity = ["-c", "user.name=continuous", "-c", "user.email=continuous@localhost"]
    has_identity = bool(git("config", "--default", "", "user.email"))
    git("add", "-A")
    settings = [*([] if has_identity else identity), "-c", "commit.gpgsign=false"]
    git(*settings, "commit", "-q", "--no-verify", "-m", "Example monorepo from continuous init --example")
    return git("rev-parse", "HEAD")

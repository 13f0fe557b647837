"""One scenario on a copy of the real monorepo, measured the way issue 10 measures it.

Shared by tests/realrepo/test_all_scenarios.py (which asserts every measure) and bench/bench_realrepo.py (which
counts them). The four measures:

1. `ran`: dry-run and run exit 0.
2. `placed`: every file lands where the repository keeps like files, and nothing else changes: the run changes
   only files the dry-run predicted, with the predicted bytes; existing files lose no line (unless the scenario
   rewrites by design).
3. `valid`: new or changed TypeScript adds no tsc error to its package (or to packages importing it); new
   migrations apply and revert on a scratch PostgreSQL with the Supabase stand-ins, dropping nothing that
   existed and leaving nothing behind; shell passes `bash -n`; JSON parses.
4. `rolled_back`: `continuous rollback` restores the tree byte for byte.
"""

from __future__ import annotations

import collections
import hashlib
import importlib.util
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    from .checks import bash_syntax, json_error, new_type_errors, sql_round_trip
except ImportError:  # run as a script (bench/bench_realrepo.py puts this folder on sys.path)
    from checks import bash_syntax, json_error, new_type_errors, sql_round_trip  # type: ignore[no-redef]

EXE = str(Path(sys.executable).parent / "continuous")
REGISTRY_STAND_INS = {"pptx-text-parser>sax": "1.4.1", "office-text-extractor>xlsx": "0.18.5"}
DEPS_SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "realrepo-deps.py"
NOW = "2025-06-10T12:00:00+00:00"  # after the snapshot's newest dated migration, so new ones sort last


@dataclass(frozen=True)
class Case:
    """A built-in scenario with parameters a developer of this repository would really pass."""

    scenario: str
    args: tuple[str, ...] = ()
    params: tuple[tuple[str, str], ...] = ()
    why: str = ""
    # run and committed first: ("continuous", *args) or ("write", path, text)
    setup: tuple[tuple[str, ...], ...] = ()
    rewrites: bool = False  # it moves or replaces existing lines by design (refactors, consolidations, archives)
    own_node_modules: bool = False  # it installs packages: give the copy a real install, not links

    @property
    def id(self) -> str:
        return self.scenario

    def argv(self) -> list[str]:
        return [self.scenario, *self.args, *[f"--param={k}={v}" for k, v in self.params]]

    def shown(self) -> str:
        return " ".join([*self.args, *[f"{k}={v}" for k, v in self.params]])


@dataclass
class Outcome:
    case: str
    ran: bool = False
    placed: bool = False
    valid: bool = False
    rolled_back: bool = False
    execution: str | None = None
    problems: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, measure: str, problem: str) -> None:
        self.problems.setdefault(measure, []).append(problem)

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "ran": self.ran,
            "placed": self.placed,
            "valid": self.valid,
            "rolled_back": self.rolled_back,
            "execution": self.execution,
            "files": self.files,
            "problems": self.problems,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }


def run_cli(root: Path, *args: str, env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], cwd=root, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    out: dict[str, tuple[bytes, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".git", "node_modules")]
        for name in filenames:
            full = Path(dirpath) / name
            rel = str(full.relative_to(root))
            if full.is_symlink():
                if name != "node_modules":
                    out[rel] = (os.readlink(full).encode(), 0)
                continue
            out[rel] = (full.read_bytes(), stat.S_IMODE(full.stat().st_mode))
    return out


def like_file_exists(pristine_files: set[str], created: str) -> bool:
    """A created file sits where the repository keeps like files: some existing file with the same extension
    has the same path but for at most one folder (the new file's folder, or a new sibling folder), or a file of
    the same name sits at the same depth or one level up or down (`.env.example` of a package at the root)."""
    parts = created.split("/")
    suffix = Path(created).suffix
    name = parts[-1]
    if any(o.split("/")[-1] == name and abs(o.count("/") - created.count("/")) <= 2 for o in pristine_files):
        return True
    for other in pristine_files:
        if Path(other).suffix != suffix:
            continue
        o = other.split("/")
        if len(o) != len(parts):
            continue
        if sum(1 for a, b in zip(o[:-1], parts[:-1], strict=True) if a != b) <= 1:
            return True
    return False


def prepare_own_node_modules(root: Path, installed: Path) -> None:
    """A real install for a scenario that installs packages (links would let it change the shared copy)."""
    for link in root.rglob("node_modules"):
        if link.is_symlink():
            link.unlink()
    lock = installed / "pnpm-lock.yaml"
    shutil.copy2(lock, root / "pnpm-lock.yaml")
    # The three packages the registry no longer serves are left out here as in the shared install.
    manifest = root / "package.json"
    text = manifest.read_text()
    manifest.write_text(re.sub(r'\n\s*"@anthropic-ai/claude-code": "[^"]*",?', "", text))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "environment: registry-served lockfile")
    pnpm = installed.parent / "pnpm" / "node_modules" / "pnpm" / "bin" / "pnpm.cjs"
    subprocess.run(
        [
            "node",
            str(pnpm),
            "install",
            "--frozen-lockfile",
            "--offline",
            "--ignore-scripts",
            f"--store-dir={installed.parent / 'pnpm-store'}",
            "--config.shamefully-hoist=true",
            "--config.confirmModulesPurge=false",
            "--reporter=silent",
        ],
        cwd=root,
        check=True,
        capture_output=True,
        env={**os.environ, "CI": "1"},
    )
    pin_hoisting(root)
    # The lockfile lost the unserved sub-dependencies, so any pnpm command that resolves (pnpm add) would
    # fetch their tarball URLs again; the registry's own releases of them stand in (README: left out).
    data = json.loads(manifest.read_text())
    data.setdefault("pnpm", {}).setdefault("overrides", {}).update(REGISTRY_STAND_INS)
    manifest.write_text(json.dumps(data, indent=2) + "\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "environment: registry releases for the unserved sub-dependencies")


def pin_hoisting(root: Path) -> list[str]:
    """The shared install's pinning of hoisted versions (.ci/realrepo-deps.py), for a copy's own install."""
    spec = importlib.util.spec_from_file_location("realrepo_deps", DEPS_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    relinked: list[str] = module.pin_hoisting(root)
    return relinked


def own_install_env(installed: Path) -> dict[str, str]:
    """pnpm settings of the copy's own install, as a developer's global pnpm config would give them."""
    return {"npm_config_store_dir": str(installed.parent / "pnpm-store"), "npm_config_shamefully_hoist": "true"}


def measure(
    case: Case,
    root: Path,
    pristine: Path,
    *,
    scratch_url: str | None,
    env: dict[str, str],
    installed: Path | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Outcome:
    out = Outcome(case.id)
    env = {**env, "CONTINUOUS_NOW": NOW}
    if installed is not None:  # pnpm as the repository uses it (`pnpm servers`, update-dependencies)
        env["PATH"] = f"{installed.parent / 'pnpm' / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    if scratch_url:
        env["CONTINUOUS_TEST_DATABASE_URL"] = scratch_url
    if case.own_node_modules and installed is not None:
        env.update(own_install_env(installed))
    # ---- setup (committed, so the measured run starts clean)
    setup_migrations: list[str] = []
    for command in case.setup:
        if command[0] == "write":
            target = root / command[1]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(command[2])
        else:
            proc = run_cli(root, *command[1:], env=env)
            if proc.returncode != 0:
                out.add("ran", f"setup {' '.join(command[1:])} exited {proc.returncode}: {proc.stderr.strip()[-600:]}")
                return out
    if case.setup:
        setup_migrations = [
            p
            for p in git(root, "status", "--porcelain", "--untracked-files=all").split("\n")
            if p[3:].startswith("supabase/migrations/") and p[3:].endswith(".sql")
        ]
        setup_migrations = sorted(p[3:] for p in setup_migrations if not p.endswith("_down.sql"))
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", f"setup for {case.id}")
    if case.own_node_modules and installed is not None:
        prepare_own_node_modules(root, installed)
    before = snapshot(root)
    # ---- dry-run, then the run
    t = clock()
    dry = run_cli(root, "run-scenario", *case.argv(), "--dry-run", "--json", env=env)
    out.seconds["dry_run"] = clock() - t
    if dry.returncode != 0:
        try:
            reasons = "; ".join(json.loads(dry.stdout).get("problems") or []) or dry.stderr.strip()
        except ValueError:
            reasons = (dry.stderr or dry.stdout).strip()
        out.add("ran", f"dry-run exited {dry.returncode}: {reasons[-800:]}")
        return out
    report = json.loads(dry.stdout)
    predicted = {f["path"]: f.get("sha256") for f in report.get("files", [])}
    t = clock()
    run = run_cli(root, "run-scenario", *case.argv(), "--yes", "--json", env=env)
    out.seconds["run"] = clock() - t
    try:
        result = json.loads(run.stdout) if run.stdout.strip() else {}
    except ValueError:
        result = {}
    execution = result.get("execution_id")
    out.execution = execution
    if run.returncode != 0:
        out.add("ran", f"run exited {run.returncode}: {(run.stderr or run.stdout).strip()[-800:]}")
        # a failed run restores the tree itself; that counts as its rollback
        restored = snapshot(root)
        differ = sorted(p for p in set(before) | set(restored) if before.get(p) != restored.get(p))
        if differ:
            out.add("rolled_back", f"the failed run left {len(differ)} file(s) different: {', '.join(differ[:10])}")
        out.rolled_back = not differ
        return out
    out.ran = True
    after = snapshot(root)
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    out.files = changed
    t = clock()
    _check_placement(case, out, before, after, changed, predicted, set(before))
    out.placed = "placed" not in out.problems
    linked = _link_new_packages(root, installed, changed) if installed is not None else []
    try:
        _check_validity(out, root, pristine, changed, after, scratch_url, setup_migrations)
    finally:
        for link in linked:
            link.unlink()
    out.valid = "valid" not in out.problems
    out.seconds["checks"] = clock() - t
    # ---- rollback
    if execution:
        t = clock()
        back = run_cli(root, "rollback", execution, "--json", env=env)
        out.seconds["rollback"] = clock() - t
        restored = snapshot(root)
        if back.returncode != 0:
            out.add("rolled_back", f"rollback exited {back.returncode}: {(back.stderr or back.stdout).strip()[-600:]}")
        differ = sorted(p for p in set(before) | set(restored) if before.get(p) != restored.get(p))
        if differ:
            out.add("rolled_back", f"rollback left {len(differ)} file(s) different: {', '.join(differ[:10])}")
        out.rolled_back = "rolled_back" not in out.problems
    else:
        out.add("rolled_back", "the run reported no execution id")
    return out


def _link_new_packages(root: Path, installed: Path, changed: list[str]) -> list[Path]:
    """A package the run created has no node_modules until someone installs it: for type checking, give it the
    installed dependencies of the sibling package whose dependencies overlap its own the most."""
    links = []
    for path in changed:
        if not path.endswith("/package.json") or not (root / path).is_file():
            continue
        folder = (root / path).parent
        if (folder / "node_modules").exists():
            continue
        wanted = _dependencies(folder / "package.json")
        best, score = None, -1
        for sibling in sorted(folder.parent.iterdir()):
            rel = sibling.relative_to(root)
            if sibling == folder or not (installed / rel / "node_modules").is_dir():
                continue
            overlap = len(wanted & _dependencies(sibling / "package.json"))
            if overlap > score:
                best, score = installed / rel / "node_modules", overlap
        if best is not None:
            (folder / "node_modules").symlink_to(best)
            links.append(folder / "node_modules")
    return links


def _dependencies(manifest: Path) -> set[str]:
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return set()
    return {name for key in ("dependencies", "devDependencies") for name in (data.get(key) or {})}


def _check_placement(
    case: Case,
    out: Outcome,
    before: dict[str, tuple[bytes, int]],
    after: dict[str, tuple[bytes, int]],
    changed: list[str],
    predicted: dict[str, str | None],
    pristine_files: set[str],
) -> None:
    for path in changed:
        if path not in predicted:
            out.add("placed", f"{path} changed, but the dry-run did not predict it")
        elif path in after and predicted[path] and hashlib.sha256(after[path][0]).hexdigest() != predicted[path]:
            out.add("placed", f"{path} differs from the content the dry-run showed")
    for path in predicted:
        if path not in changed:
            out.add("placed", f"the dry-run predicted {path}, but the run left it as it was")
    for path in changed:
        if path not in before and not like_file_exists(pristine_files, path):
            out.add("placed", f"{path}: the repository keeps no file like it there (no {Path(path).suffix} nearby)")
        if path in before and path in after and not case.rewrites:
            old = before[path][0].decode("utf-8", "replace").splitlines()
            new = after[path][0].decode("utf-8", "replace").splitlines()
            lost = collections.Counter(old) - collections.Counter(new)
            if lost:
                sample = next(iter(lost))
                out.add("placed", f"{path} lost {sum(lost.values())} existing line(s), e.g. {sample.strip()[:80]!r}")
        if path in before and path not in after and not case.rewrites:
            out.add("placed", f"{path} was deleted")


def _check_validity(
    out: Outcome,
    root: Path,
    pristine: Path,
    changed: list[str],
    after: dict[str, tuple[bytes, int]],
    scratch_url: str | None,
    setup_migrations: list[str],
) -> None:
    present = [p for p in changed if p in after]
    try:
        for problem in new_type_errors(root, pristine, present):
            out.add("valid", f"tsc: {problem}")
    except FileNotFoundError as exc:
        out.add("valid", str(exc))
    ups = sorted(
        p
        for p in present
        if p.startswith("supabase/migrations/") and p.endswith(".sql") and not p.endswith("_down.sql")
    )
    if ups:
        if scratch_url is None:
            out.add("valid", "no scratch PostgreSQL to apply the migrations to")
        else:
            prelude = "\n".join((root / p).read_text() for p in setup_migrations)
            for up in ups:
                down = up[: -len(".sql")] + "_down.sql"
                if not (root / down).is_file():
                    out.add("valid", f"{up} has no down migration {down}")
                    continue
                error, gone, left = sql_round_trip(
                    scratch_url, (root / up).read_text(), (root / down).read_text(), prelude=prelude
                )
                if error:
                    out.add("valid", f"{up}: {error}")
                if gone:
                    out.add("valid", f"{down} drops what existed before: {', '.join(gone[:6])}")
                if left:
                    out.add("valid", f"{down} leaves behind: {', '.join(left[:6])}")
                prelude += "\n" + (root / up).read_text()
    for path in present:
        full = root / path
        if path.endswith(".sh") or (full.is_file() and full.read_bytes()[:20].startswith(b"#!/usr/bin/env bash")):
            error = bash_syntax(full)
            if error:
                out.add("valid", f"bash -n {path}: {error}")
        if path.endswith(".json"):
            error = json_error(full)
            if error:
                out.add("valid", f"{path} is not valid JSON: {error}")

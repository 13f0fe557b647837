#!/usr/bin/env python3
"""Install the real-repository fixture's npm dependencies once, into `.cache/realrepo/`, for the realrepo tier.

The tier type-checks generated TypeScript with the fixture's own compiler and types, so it needs the fixture's
`node_modules`. They are installed from the registry with pnpm (pinned below) into an *installed pristine copy*
that holds only the workspace manifests, the lockfile and `node_modules`; per-test copies link their
`node_modules` folders to it (see tests/realrepo/conftest.py). pnpm's content-addressed store sits beside it, so a
reinstall after the fixture changes downloads only what is new.

The lockfile pins three packages the registry no longer serves (`@anthropic-ai/claude-code@1.0.2` and the tarball
URLs of `sax` under pptx-text-parser and `xlsx` under office-text-extractor). They are removed from the
installed copy's lockfile and manifests (with whatever only they needed); nothing the tier type-checks uses them.

pnpm hoists, for each package name, the version of the first workspace project that depends on it, but the order
in which it takes the projects varies between installs; the same lockfile hoisted `@types/react` 18 in one install
and 19 in the next, so the types that a package's dependencies resolve through the root changed with it. After the
install the root links are pinned to the lockfile's own (sorted) project order (`pin_hoisting`), which makes the
type checks the same on every machine.

Idempotent: a stamp records a hash of the lockfile, the manifests and this script, so a second run exits at once.
Without the fixture it prints one line and exits 0, except under CONTINUOUS_REQUIRE_REALREPO=1 (CI), where it
exits 1.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

PNPM_VERSION = "9.15.9"
REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE = REPO_ROOT / ".cache" / "realrepo"
# Lockfile keys of packages the registry no longer serves.
UNSERVED = (
    "@anthropic-ai/claude-code@",
    "sax@https://codeload.github.com/",
    "xlsx@https://cdn.sheetjs.com/",
)


def fixture_path() -> Path:
    env = os.environ.get("CONTINUOUS_REALREPO_FIXTURE")
    if env:
        return Path(env)
    return default_fixture(REPO_ROOT)


def default_fixture(repo_root: Path) -> Path:
    """`../shared/fixtures/dhg-mono` beside the repository, or beside its main worktree for a linked worktree."""
    candidates = [repo_root.parent / "shared" / "fixtures" / "dhg-mono"]
    proc = subprocess.run(
        ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode == 0 and proc.stdout.strip():
        main_root = Path(proc.stdout.strip()).parent
        candidates.append(main_root.parent / "shared" / "fixtures" / "dhg-mono")
    for path in candidates:
        if (path / "package.json").is_file():
            return path
    return candidates[0]


def manifests(fixture: Path) -> list[Path]:
    """The root manifest and those the workspace globs name (cheaper than reading the 20k-line lockfile)."""
    found = [fixture / "package.json"]
    workspace = fixture / "pnpm-workspace.yaml"
    globs = []
    if workspace.is_file():
        globs = (yaml.safe_load(workspace.read_text(encoding="utf-8")) or {}).get("packages", [])
    for pattern in globs:
        found.extend(sorted(fixture.glob(f"{pattern}/package.json")))
    return found


def stamp_of(fixture: Path) -> str:
    digest = hashlib.sha256()
    digest.update(Path(__file__).read_bytes())
    for name in ("pnpm-lock.yaml", "pnpm-workspace.yaml"):
        path = fixture / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes())
    for manifest in manifests(fixture):
        if manifest.is_file():
            digest.update(str(manifest.relative_to(fixture)).encode() + b"\0" + manifest.read_bytes())
    return digest.hexdigest()


def _unserved(key: str) -> bool:
    return key.startswith(UNSERVED)


def _dep_key(name: str, version: str) -> str:
    # An aliased dependency (`string-width-cjs: string-width@4.2.3`) names its package in the version.
    return version if _package_of(version).rfind("@") > 0 else f"{name}@{version}"


def prune_lockfile(lock: dict[str, Any]) -> list[str]:
    """Remove unserved packages (and what only they needed) in place; returns the keys removed."""
    removed: set[str] = set()
    for data in lock.get("importers", {}).values():
        for section in ("dependencies", "devDependencies", "optionalDependencies"):
            deps = data.get(section) or {}
            for name in [n for n, spec in deps.items() if _unserved(_dep_key(n, spec["version"]))]:
                del deps[name]
    snapshots: dict[str, Any] = lock.get("snapshots", {})
    for snap in snapshots.values():
        if not isinstance(snap, dict):
            continue
        for section in ("dependencies", "optionalDependencies"):
            deps = snap.get(section) or {}
            for name in [n for n, v in deps.items() if _unserved(_dep_key(n, v))]:
                del deps[name]
    # Keep only what the importers still reach.
    reachable: set[str] = set()
    stack: list[str] = []
    for data in lock.get("importers", {}).values():
        for section in ("dependencies", "devDependencies", "optionalDependencies"):
            for name, spec in (data.get(section) or {}).items():
                stack.append(_dep_key(name, spec["version"]))
    while stack:
        key = stack.pop()
        if key in reachable or key not in snapshots:
            continue
        reachable.add(key)
        snap = snapshots[key] or {}
        for section in ("dependencies", "optionalDependencies"):
            for name, version in (snap.get(section) or {}).items():
                stack.append(_dep_key(name, version))
    for key in list(snapshots):
        if key not in reachable:
            removed.add(key)
            del snapshots[key]
    packages: dict[str, Any] = lock.get("packages", {})
    kept_packages = {_package_of(k) for k in reachable}
    for key in list(packages):
        if key not in kept_packages:
            removed.add(key)
            del packages[key]
    return sorted(removed)


def _package_of(snapshot_key: str) -> str:
    # `react-dom@18.3.1(react@18.3.1)` is a snapshot of the package `react-dom@18.3.1`.
    cut = snapshot_key.find("(")
    return snapshot_key if cut == -1 else snapshot_key[:cut]


def prune_manifest(manifest: dict[str, Any], lock_importer: dict[str, Any]) -> None:
    """Drop dependencies that the pruned lockfile no longer lists for this importer."""
    for section in ("dependencies", "devDependencies", "optionalDependencies"):
        deps = manifest.get(section)
        if not isinstance(deps, dict):
            continue
        listed = lock_importer.get(section) or {}
        for name in [n for n in deps if n not in listed]:
            del deps[name]


def pnpm_command() -> list[str]:
    prefix = CACHE / "pnpm"
    exe = prefix / "node_modules" / "pnpm" / "bin" / "pnpm.cjs"
    if not exe.is_file():
        prefix.mkdir(parents=True, exist_ok=True)
        (prefix / "package.json").write_text('{"name":"realrepo-pnpm","private":true}\n')
        subprocess.run(
            ["npm", "install", "--silent", "--no-audit", "--no-fund", f"pnpm@{PNPM_VERSION}"],
            cwd=prefix,
            check=True,
        )
    return ["node", str(exe)]


def install(fixture: Path, target: Path, stamp: str) -> None:
    # Installed in place (pnpm's .bin shims record absolute paths); the stamp, written last, marks it complete.
    if target.exists():
        shutil.rmtree(target)
    work = target
    work.mkdir(parents=True)
    lock = yaml.safe_load((fixture / "pnpm-lock.yaml").read_text(encoding="utf-8"))
    # An importer whose folder the snapshot lacks (html/) cannot be installed; pnpm would refuse the lockfile.
    for importer in [i for i in lock["importers"] if not (fixture / i / "package.json").is_file()]:
        del lock["importers"][importer]
    removed = prune_lockfile(lock)
    for importer, data in lock["importers"].items():
        manifest = json.loads((fixture / importer / "package.json").read_text(encoding="utf-8"))
        prune_manifest(manifest, data)
        # Lifecycle scripts are not run (--ignore-scripts); the manifests keep only what pnpm reads.
        (work / importer).mkdir(parents=True, exist_ok=True)
        (work / importer / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    shutil.copy2(fixture / "pnpm-workspace.yaml", work / "pnpm-workspace.yaml")
    (work / "pnpm-lock.yaml").write_text(yaml.safe_dump(lock, sort_keys=False, width=10_000))
    print(f"realrepo deps: left out {len(removed)} lockfile entries the registry no longer serves or only they need")
    started = time.monotonic()
    subprocess.run(
        [
            *pnpm_command(),
            "install",
            "--frozen-lockfile",
            "--ignore-scripts",
            "--reporter=append-only",
            f"--store-dir={CACHE / 'pnpm-store'}",
            "--config.confirmModulesPurge=false",
            # The snapshot's CLI scripts resolve commander, @types/node, ... from the root node_modules
            # (their tsconfigs list ../../../node_modules/@types): the repository installs hoisted.
            "--config.shamefully-hoist=true",
            "--config.update-notifier=false",
        ],
        cwd=work,
        check=True,
        env={**os.environ, "CI": "1"},
    )
    relinked = pin_hoisting(work)
    if relinked:
        print(f"realrepo deps: pinned the hoisted version of {len(relinked)} package(s): {', '.join(relinked)}")
    (work / ".complete").write_text(stamp)
    print(f"realrepo deps: installed in {time.monotonic() - started:.0f}s into {target}")


def pin_hoisting(root: Path) -> list[str]:
    """Point each publicly hoisted name at the version of the first lockfile importer that lists it; returns the
    names relinked. The links are taken from that importer's own node_modules, so pnpm's folder names are reused,
    not recomputed."""
    modules_yaml = root / "node_modules" / ".modules.yaml"
    modules = yaml.safe_load(modules_yaml.read_text(encoding="utf-8"))
    hoisted: dict[str, dict[str, str]] = modules.get("hoistedDependencies") or {}
    current = {alias: dep for dep, aliases in hoisted.items() for alias, kind in aliases.items() if kind == "public"}
    lock = yaml.safe_load((root / "pnpm-lock.yaml").read_text(encoding="utf-8"))
    importers: dict[str, Any] = lock.get("importers", {})
    own = {
        n
        for section in ("dependencies", "devDependencies", "optionalDependencies")
        for n in (importers.get(".", {}).get(section) or {})
    }
    wanted: dict[str, tuple[str, str]] = {}
    for importer in sorted(i for i in importers if i != "."):
        for section in ("dependencies", "devDependencies", "optionalDependencies"):
            for name, spec in (importers[importer].get(section) or {}).items():
                if (
                    name in current
                    and name not in own
                    and name not in wanted
                    and not spec["version"].startswith("link:")
                ):
                    wanted[name] = (importer, _dep_key(name, spec["version"]))
    relinked = []
    for name, (importer, dep) in sorted(wanted.items()):
        if current[name] == dep:
            continue
        source = root / importer / "node_modules" / name
        if not source.is_symlink():
            continue
        link = root / "node_modules" / name
        link.unlink()
        link.symlink_to(os.path.relpath(source.resolve(), link.parent))
        del hoisted[current[name]][name]
        if not hoisted[current[name]]:
            del hoisted[current[name]]
        hoisted.setdefault(dep, {})[name] = "public"
        relinked.append(name)
    modules_yaml.write_text(yaml.safe_dump(modules, sort_keys=False, width=10_000), encoding="utf-8")
    return relinked


def main() -> int:
    fixture = fixture_path()
    if not (fixture / "package.json").is_file():
        line = f"realrepo deps: fixture not found at {fixture} (set CONTINUOUS_REALREPO_FIXTURE); tier skipped"
        print(line, file=sys.stderr)
        return 1 if os.environ.get("CONTINUOUS_REQUIRE_REALREPO") == "1" else 0
    if shutil.which("node") is None or shutil.which("npm") is None:
        print("realrepo deps: node/npm not found; the tier's type checks will fail", file=sys.stderr)
        return 1 if os.environ.get("CONTINUOUS_REQUIRE_REALREPO") == "1" else 0
    target = CACHE / "installed"
    stamp = stamp_of(fixture)
    done = target / ".complete"
    if done.is_file() and done.read_text() == stamp:
        return 0
    install(fixture, target, stamp)
    return 0


if __name__ == "__main__":
    sys.exit(main())

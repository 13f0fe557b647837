"""Scenario packs: shared `.scn` files and templates from a git repository, a folder, or a Python package.

A pack is a folder with a manifest, `continuous-pack.toml` (name, version, requires-continuous), and `.scn` files
whose templates sit in `templates/` beside them, as in the built-in library. `continuous.lock`, at the worktree root
and committed with it, pins each pack: its source, the commit (git) or distribution version (Python), and a content
hash over every file. Every load checks each pack against its pin, so nothing a pack does can change without a
`continuous packs update` that someone committed.

Git packs are fetched into a mirror and checked out, one folder per commit, under the repository's git common
directory (`.git/continuous/packs/`): every worktree of a clone shares one copy, nothing appears in `git status`,
and two worktrees on branches that pin different commits each find their own. A fresh clone fetches them with
`continuous packs install`. Folder packs are read in place (their pin is the content hash alone); Python packs are
read from the installed package that the entry point (group `continuous.packs`) names.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from continuous.common.errors import UserError, mask_url
from continuous.dsl.sources import Source, library_files
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

MANIFEST_NAME = "continuous-pack.toml"
LOCK_NAME = "continuous.lock"
ENTRY_POINT_GROUP = "continuous.packs"
PackKind = Literal["git", "folder", "python"]
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_HASH_SKIP = frozenset({".git", "__pycache__"})
_LOCK_HEADER = (
    "# Scenario packs pinned by `continuous packs`. Commit this file; change it with\n"
    "# `continuous packs add|update|remove`, never by hand: a pack that no longer matches its pin is refused.\n"
)


# ---------------------------------------------------------------- manifest and lock models


def _kebab(name: str) -> str:
    return name.replace("_", "-")


_CONFIG = ConfigDict(extra="forbid", frozen=True, alias_generator=_kebab, populate_by_name=True)


class Manifest(BaseModel):
    """`continuous-pack.toml`: who the pack is and which versions of continuous it works with."""

    model_config = _CONFIG
    name: str = Field(pattern=_NAME.pattern, description="kebab-case, unique among a repository's packs")
    version: str
    requires_continuous: str = Field(description="a version specifier such as '>=0.1,<0.3'")
    description: str = ""

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        from packaging.version import InvalidVersion, Version

        try:
            Version(value)
        except InvalidVersion:
            raise ValueError(f"{value!r} is not a version such as '1.2.0'") from None
        return value

    @field_validator("requires_continuous")
    @classmethod
    def _specifier(cls, value: str) -> str:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            SpecifierSet(value)
        except InvalidSpecifier:
            raise ValueError(f"{value!r} is not a version specifier such as '>=0.1,<0.3'") from None
        return value


class LockedPack(BaseModel):
    """One pin in `continuous.lock`. `commit` is the git commit, or the Python distribution and its version."""

    model_config = _CONFIG
    name: str = Field(pattern=_NAME.pattern)
    kind: PackKind
    source: str
    ref: str | None = None
    commit: str | None = None
    version: str
    content_hash: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")


class LockFile(BaseModel):
    model_config = _CONFIG
    version: Literal[1] = 1
    pack: tuple[LockedPack, ...] = ()


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(x) for x in error["loc"]) or "file"
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: {exc}", hint="fix the TOML syntax") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the file: {exc}") from None


def read_manifest(directory: Path) -> Manifest:
    """The validated manifest of a pack folder."""
    path = directory / MANIFEST_NAME
    if not path.is_file():
        raise UserError(
            f"{directory} is not a scenario pack: it has no {MANIFEST_NAME}",
            hint=f'a pack declares itself in {MANIFEST_NAME}: name = "my-pack", version = "0.1.0", '
            'requires-continuous = ">=0.1"',
        )
    try:
        return Manifest.model_validate(_read_toml(path))
    except ValidationError as exc:
        raise UserError(
            f"{path}: {_validation_message(exc)}",
            hint="the keys are name, version, requires-continuous and description (docs/packs.md)",
        ) from None


def check_compatible(manifest: Manifest, where: str) -> None:
    """Refuse a pack that declares it does not work with this version of continuous."""
    from continuous.common.version import __version__
    from packaging.specifiers import SpecifierSet

    if not SpecifierSet(manifest.requires_continuous).contains(__version__, prereleases=True):
        raise UserError(
            f"pack {manifest.name} {manifest.version} ({where}) needs continuous {manifest.requires_continuous}, "
            f"but this is continuous {__version__}",
            hint="upgrade continuous, or pin a version of the pack made for this one "
            "(`continuous packs add SOURCE@REF`)",
        )


def read_lock(root: Path) -> LockFile:
    """The validated lock file, or an empty one when the repository has none."""
    path = root / LOCK_NAME
    if not path.exists():
        return LockFile()
    try:
        lock = LockFile.model_validate(_read_toml(path))
    except ValidationError as exc:
        raise UserError(
            f"{path}: {_validation_message(exc)}",
            hint="restore it from git (git checkout -- continuous.lock); change it with `continuous packs`",
        ) from None
    names = [p.name for p in lock.pack]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UserError(f"{path}: pack {', '.join(twice)} is pinned twice", hint="restore it from git")
    return lock


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def render_lock(packs: list[LockedPack]) -> str:
    lines = [_LOCK_HEADER.rstrip("\n"), "version = 1"]
    for p in sorted(packs, key=lambda p: p.name):
        lines.append("")
        lines.append("[[pack]]")
        for key, value in p.model_dump(by_alias=True, exclude_none=True).items():
            lines.append(f"{key} = {_toml_string(str(value))}")
    return "\n".join(lines) + "\n"


def write_lock(root: Path, packs: list[LockedPack]) -> None:
    path = root / LOCK_NAME
    if not packs:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_name(f".{LOCK_NAME}.tmp{os.getpid()}")
    tmp.write_text(render_lock(packs), encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------- content


def content_hash(directory: Path) -> str:
    """sha256 over every file's path and bytes (git metadata and bytecode caches excluded). A symbolic link is
    refused: what it points to could change without the pack changing."""
    digest = hashlib.sha256()
    for rel, path in _pack_files(directory):
        digest.update(rel.encode("utf-8") + b"\0" + hashlib.sha256(path.read_bytes()).digest() + b"\n")
    return "sha256:" + digest.hexdigest()


def _pack_files(directory: Path) -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    for top, dirs, files in os.walk(directory):
        base = Path(top)
        dirs[:] = [d for d in dirs if d not in _HASH_SKIP]
        for name in [*dirs, *files]:
            if (base / name).is_symlink():
                raise UserError(
                    f"{base / name}: a scenario pack may not contain symbolic links",
                    hint="replace the link by the file it points to",
                )
        for name in files:
            if name.endswith(".pyc"):
                continue
            path = base / name
            out.append((path.relative_to(directory).as_posix(), path))
    return sorted(out)


# ---------------------------------------------------------------- where a pinned pack lives


def store_root(root: Path) -> Path:
    """Git packs live under the git common directory: shared by every worktree of the clone, never in status."""
    common = _git(["rev-parse", "--git-common-dir"], cwd=root, what=f"{root} is not a git worktree")
    return (root / common).resolve() / "continuous" / "packs"


def _describe(p: LockedPack) -> str:
    if p.kind == "git":
        return f"{mask_url(p.source)}@{(p.commit or '')[:12]}"
    if p.kind == "python":
        return f"Python package {p.commit}"
    return f"folder {p.source}"


def label(p: LockedPack) -> str:
    """How a pack is named wherever its scenarios are shown: `pack NAME@PIN`."""
    if p.kind == "git":
        return f"pack {p.name}@{(p.commit or '')[:12]}"
    if p.kind == "python":
        return f"pack {p.name}@{p.version} ({p.commit})"
    return f"pack {p.name} (folder {p.source})"


def pack_dir(root: Path, p: LockedPack, store: Path | None = None) -> Path:
    """The folder a pinned pack is read from; a UserError that says how to get it when it is not there."""
    if p.kind == "git":
        directory = (store or store_root(root)) / p.name / str(p.commit)
        if not directory.is_dir():
            raise UserError(
                f"pack {p.name} ({_describe(p)}) is pinned in {LOCK_NAME} but not fetched into this clone",
                hint="`continuous packs install` fetches every pinned pack",
            )
        return directory
    if p.kind == "folder":
        directory = Path(p.source) if Path(p.source).is_absolute() else root / p.source
        if not directory.is_dir():
            raise UserError(
                f"pack {p.name}: its folder {directory} does not exist",
                hint=f"restore the folder, or `continuous packs remove {p.name}`",
            )
        return directory
    return _entry_point_dir(p.source)[0]


def _entry_points() -> list[Any]:
    from importlib.metadata import entry_points

    return list(entry_points(group=ENTRY_POINT_GROUP))


def _entry_point_dir(name: str) -> tuple[Path, str]:
    """(the pack folder, "distribution==version") of an installed entry point, without running its code."""
    import importlib.util

    found = [ep for ep in _entry_points() if ep.name == name]
    if not found:
        raise UserError(
            f"no installed Python package provides the pack {name!r} (entry point group {ENTRY_POINT_GROUP})",
            hint="install the package into the environment continuous runs in; "
            "`continuous packs list` shows the packs that installed packages provide",
        )
    ep = found[0]
    where = f"entry point {name} = {ep.value!r}"
    if ep.attr:
        raise UserError(
            f"{where}: a pack's entry point names a package (its folder is the pack), not an object",
            hint=f'write it as {name} = "{ep.module}"',
        )
    try:
        spec = importlib.util.find_spec(ep.module)
    except (ImportError, ValueError) as exc:
        raise UserError(f"{where}: cannot find the package: {exc}") from None
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"{where}: {ep.module} is not an installed package (a folder with __init__.py)")
    dist = getattr(ep, "dist", None)
    pin = f"{dist.name}=={dist.version}" if dist is not None else ep.module
    return Path(next(iter(spec.submodule_search_locations))), pin


def pack_sources(root: Path) -> list[Source]:
    """The packs pinned in the repository's lock, each checked against its pin and its manifest."""
    if not (root / LOCK_NAME).exists():
        return []
    lock = read_lock(root)
    store = store_root(root) if any(p.kind == "git" for p in lock.pack) else None
    sources: list[Source] = []
    problems: list[str] = []
    changed: list[str] = []
    for p in lock.pack:
        directory = pack_dir(root, p, store)
        actual = content_hash(directory)
        if actual != p.content_hash:
            problems.append(
                f"pack {p.name} ({_describe(p)}) does not match {LOCK_NAME}: its files in {directory} changed "
                f"since it was pinned (pinned {p.content_hash[:19]}, found {actual[:19]})"
            )
            changed.append(p.name)
            continue
        manifest = read_manifest(directory)
        if manifest.name != p.name:
            problems.append(f"pack {p.name}: {directory / MANIFEST_NAME} names it {manifest.name!r}")
            changed.append(p.name)
            continue
        check_compatible(manifest, _describe(p))
        sources.append(Source("pack", label(p), tuple(library_files(directory)), pack=p.name, pin=p.content_hash))
    if problems:
        names = " ".join(changed)
        raise UserError(
            "\n".join(problems),
            hint=f"review what changed; `continuous packs update {names}` pins the pack's current content "
            "(a git pack is fetched again from its source)",
        )
    return sources


# ---------------------------------------------------------------- git


def _git(args: list[str], *, cwd: Path | None = None, what: str) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": ""}
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        detail = mask_url(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}")
        raise UserError(f"{what}: {detail}")
    return proc.stdout.strip()


def _mirror(store: Path, source: str, *, fetch: bool) -> Path:
    """A bare mirror of the pack's repository (one per source), cloned once and fetched when asked."""
    mirror = store / ".mirrors" / (hashlib.sha256(source.encode("utf-8")).hexdigest()[:16] + ".git")
    if not mirror.is_dir():
        mirror.parent.mkdir(parents=True, exist_ok=True)
        tmp = mirror.with_name(mirror.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        _git(["clone", "--mirror", "--quiet", "--", source, str(tmp)], what=f"cannot fetch {mask_url(source)}")
        os.replace(tmp, mirror)
    elif fetch:
        _git(
            ["--git-dir", str(mirror), "fetch", "--quiet", "--prune", "--force", "origin"],
            what=f"cannot fetch {mask_url(source)}",
        )
    return mirror


def _resolve(mirror: Path, source: str, ref: str | None) -> str:
    rev = ref or "HEAD"
    if rev.startswith("-") or any(c in rev for c in "\0\n\r :"):
        raise UserError(f"{rev!r} is not a git ref", hint="give a branch, a tag or a commit")
    proc = subprocess.run(
        ["git", "--git-dir", str(mirror), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise UserError(
            f"{mask_url(source)} has no branch, tag or commit {rev!r}",
            hint=f"`git ls-remote {mask_url(source)}` lists its branches and tags",
        )
    return proc.stdout.strip()


def _checkout(mirror: Path, commit: str, store: Path) -> Path:
    """The commit's files in a fresh folder under the store (regular files only; links are refused)."""
    import io
    import tarfile
    import tempfile

    data = subprocess.run(
        ["git", "--git-dir", str(mirror), "archive", "--format=tar", commit],
        capture_output=True,
        check=False,
    )
    if data.returncode != 0:
        raise UserError(f"cannot read commit {commit[:12]}: {data.stderr.decode(errors='replace').strip()}")
    store.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix=".checkout-", dir=store))
    with tarfile.open(fileobj=io.BytesIO(data.stdout)) as tar:
        members = tar.getmembers()
        for member in members:
            parts = Path(member.name).parts
            if not (member.isfile() or member.isdir()) or member.name.startswith("/") or ".." in parts:
                shutil.rmtree(target, ignore_errors=True)
                raise UserError(
                    f"commit {commit[:12]}: {member.name} is not a plain file or folder",
                    hint="a scenario pack holds only files and folders (no links)",
                )
        if hasattr(tarfile, "data_filter"):
            tar.extractall(target, members=members, filter="data")
        else:  # Python before 3.11.4; the members were checked above
            tar.extractall(target, members=members)
    return target


def _install_commit(store: Path, mirror: Path, commit: str, name: str | None) -> tuple[Path, Manifest]:
    """Check out a commit as `store/NAME/COMMIT` (replacing a modified copy); (folder, manifest)."""
    fresh = _checkout(mirror, commit, store)
    try:
        manifest = read_manifest(fresh)
        if name is not None and manifest.name != name:
            raise UserError(
                f"commit {commit[:12]} declares the pack {manifest.name!r}, not {name!r}",
                hint=f"`continuous packs remove {name}` and add the new pack",
            )
        final = store / manifest.name / commit
        if final.exists():
            shutil.rmtree(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(fresh, final)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    return final, manifest


# ---------------------------------------------------------------- add, update, remove, install


@dataclass(frozen=True)
class PackSpec:
    """What `continuous packs add` was given: a git source, a folder, or a Python entry point name."""

    kind: PackKind
    source: str
    ref: str | None = None


def _has_password(url: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/@]*:[^/@]*@", url) is not None


def parse_spec(text: str, root: Path, cwd: Path, ref: str | None = None) -> PackSpec:
    """`URL[@REF]`, `PATH[@REF]` or `python:NAME`. A local path is a git pack when it is a repository (bare, or
    the top of a work tree), else a folder pack."""
    text = text.strip()
    if not text:
        raise UserError("give the pack's git URL, folder, or python:ENTRY-POINT")
    if text.startswith("python:"):
        name = text.removeprefix("python:")
        if ref or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
            raise UserError(f"{text!r}: a Python pack is python:NAME, NAME being its entry point", hint=None)
        return PackSpec("python", name)
    local = Path(text).expanduser()
    local = local if local.is_absolute() else cwd / local
    source, given_ref = text, None
    if not local.exists():
        source, given_ref = _split_ref(text)
        local = Path(source).expanduser()
        local = local if local.is_absolute() else cwd / local
    if ref is not None and given_ref is not None and ref != given_ref:
        raise UserError(f"{text!r} names the ref {given_ref!r} but --ref says {ref!r}")
    ref = ref or given_ref
    if _is_url(source) and not local.exists():
        if _has_password(source):
            raise UserError(
                f"{mask_url(source)}: a pack URL may not carry a password (it is written to {LOCK_NAME})",
                hint="use SSH or a git credential helper",
            )
        return PackSpec("git", source, ref)
    if not local.is_dir():
        raise UserError(f"{source}: no such folder or git URL", hint="give a git URL, a git repository or a folder")
    local = local.resolve()
    stored = _portable(local, root)
    if _is_git_repository(local):
        return PackSpec("git", stored, ref)
    if ref is not None:
        raise UserError(f"{source} is a folder, not a git repository: a folder pack has no @REF")
    return PackSpec("folder", stored)


def _split_ref(text: str) -> tuple[str, str | None]:
    """Split `SOURCE@REF` where the `@` is not a URL's user part (`https://user@host/...`, `git@host:repo`)."""
    start = 0
    if "://" in text:
        scheme_end = text.index("://") + 3
        slash = text.find("/", scheme_end)
        start = len(text) if slash < 0 else slash
    elif re.match(r"^[^/:@]+@[^/:]+:", text):
        start = text.index(":")
    at = text.rfind("@", start)
    if at <= 0 or at == len(text) - 1:
        return text, None
    return text[:at], text[at + 1 :]


def _is_url(text: str) -> bool:
    return "://" in text or re.match(r"^[^/:@]+@[^/:]+:", text) is not None


def _is_git_repository(path: Path) -> bool:
    """A bare repository, or the top of a work tree (a folder inside someone's repository is a folder pack)."""

    def ask(*args: str) -> str | None:
        proc = subprocess.run(["git", "-C", str(path), "rev-parse", *args], capture_output=True, text=True, check=False)
        return proc.stdout.strip() if proc.returncode == 0 else None

    if ask("--is-bare-repository") == "true":
        return True
    top = ask("--show-toplevel")
    return top is not None and Path(top).resolve() == path.resolve()


def _portable(path: Path, root: Path) -> str:
    """Inside the repository a path is stored relative to it (so the lock works in every clone)."""
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _git_source(root: Path, source: str) -> str:
    """What git is given: a relative local path is relative to the repository, whatever the current folder."""
    if _is_url(source) or Path(source).is_absolute():
        return source
    return str((root / source).resolve())


def _resolve_pack(root: Path, spec: PackSpec, name: str | None, store: Path | None) -> LockedPack:
    """Fetch (git) or read a pack as the spec says and return its new pin (a LockedPack)."""
    commit: str | None = None
    if spec.kind == "git":
        store = store or store_root(root)
        mirror = _mirror(store, _git_source(root, spec.source), fetch=True)
        commit = _resolve(mirror, spec.source, spec.ref)
        directory, manifest = _install_commit(store, mirror, commit, name)
    elif spec.kind == "folder":
        directory = Path(spec.source) if Path(spec.source).is_absolute() else root / spec.source
        manifest = read_manifest(directory)
    else:
        directory, commit = _entry_point_dir(spec.source)
        manifest = read_manifest(directory)
    if name is not None and manifest.name != name:
        raise UserError(
            f"{directory / MANIFEST_NAME} now names the pack {manifest.name!r}, not {name!r}",
            hint=f"`continuous packs remove {name}` and add it again",
        )
    pin = LockedPack(
        name=manifest.name,
        kind=spec.kind,
        source=spec.source,
        ref=spec.ref,
        commit=commit,
        version=manifest.version,
        content_hash=content_hash(directory),
    )
    check_compatible(manifest, _describe(pin))
    return pin


@dataclass(frozen=True)
class PackChange:
    name: str
    action: Literal["added", "updated", "unchanged", "removed", "installed", "present"]
    before: LockedPack | None = None
    after: LockedPack | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "action": self.action,
            "before": self.before.model_dump(by_alias=True) if self.before is not None else None,
            "after": self.after.model_dump(by_alias=True) if self.after is not None else None,
        }


def add(root: Path, text: str, *, cwd: Path, ref: str | None = None) -> PackChange:
    """Fetch, check and pin a new pack; the lock changes only if the whole rule base still loads."""
    spec = parse_spec(text, root, cwd, ref)
    lock = read_lock(root)
    for p in lock.pack:
        if spec.kind == p.kind and spec.source == p.source:
            raise UserError(
                f"{spec.source} is already added as pack {p.name}",
                hint=f"`continuous packs update {p.name}` moves it to the newest commit of its ref",
            )
    pin = _resolve_pack(root, spec, None, None)
    existing = {p.name: p for p in lock.pack}
    if pin.name in existing:
        raise UserError(
            f"a pack named {pin.name} is already added ({_describe(existing[pin.name])})",
            hint=f"`continuous packs update {pin.name}` updates it; `continuous packs remove {pin.name}` first "
            "to take it from elsewhere",
        )
    _commit_lock(root, [*lock.pack, pin])
    return PackChange(pin.name, "added", None, pin)


def update(root: Path, names: list[str], *, ref: str | None = None) -> list[PackChange]:
    """Move packs to what their source holds now (git: the newest commit of their ref, or of `ref`)."""
    lock = read_lock(root)
    by_name = {p.name: p for p in lock.pack}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        from continuous.dsl.suggest import did_you_mean

        raise UserError(
            f"no pack named {unknown[0]!r} in {LOCK_NAME}",
            hint=did_you_mean(unknown[0], list(by_name)) or "`continuous packs list` shows the packs",
        )
    if ref is not None and len(names) != 1:
        raise UserError("--ref needs exactly one pack name")
    chosen = names or list(by_name)
    store = store_root(root) if any(by_name[n].kind == "git" for n in chosen) else None
    changes: list[PackChange] = []
    new = dict(by_name)
    for name in chosen:
        before = by_name[name]
        if ref is not None and before.kind != "git":
            raise UserError(f"pack {name} is a {before.kind} pack: only a git pack has a ref")
        spec = PackSpec(before.kind, before.source, ref if ref is not None else before.ref)
        after = _resolve_pack(root, spec, name, store)
        new[name] = after
        changes.append(PackChange(name, "unchanged" if after == before else "updated", before, after))
    if any(c.action == "updated" for c in changes):
        _commit_lock(root, list(new.values()))
    return changes


def remove(root: Path, name: str) -> PackChange:
    """Unpin a pack. Its fetched copy stays in the store: another worktree's branch may still pin it."""
    lock = read_lock(root)
    by_name = {p.name: p for p in lock.pack}
    if name not in by_name:
        from continuous.dsl.suggest import did_you_mean

        raise UserError(
            f"no pack named {name!r} in {LOCK_NAME}",
            hint=did_you_mean(name, list(by_name)) or "`continuous packs list` shows the packs",
        )
    rest = [p for p in lock.pack if p.name != name]
    _commit_lock(root, rest)
    return PackChange(name, "removed", by_name[name], None)


def install(root: Path) -> list[PackChange]:
    """Fetch every pinned git pack this clone lacks (a fresh clone, or a copy that was modified)."""
    lock = read_lock(root)
    gits = [p for p in lock.pack if p.kind == "git"]
    if not gits:
        return [PackChange(p.name, "present", p, p) for p in lock.pack]
    store = store_root(root)
    changes: list[PackChange] = []
    for p in lock.pack:
        if p.kind != "git":
            changes.append(PackChange(p.name, "present", p, p))
            continue
        directory = store / p.name / str(p.commit)
        if directory.is_dir() and _matches(directory, p.content_hash):
            changes.append(PackChange(p.name, "present", p, p))
            continue
        mirror = _mirror(store, _git_source(root, p.source), fetch=False)
        if not _has_commit(mirror, str(p.commit)):
            mirror = _mirror(store, _git_source(root, p.source), fetch=True)
            if not _has_commit(mirror, str(p.commit)):
                raise UserError(
                    f"pack {p.name}: {mask_url(p.source)} no longer has the pinned commit {str(p.commit)[:12]}",
                    hint=f"`continuous packs update {p.name}` pins what its ref holds now",
                )
        directory, _ = _install_commit(store, mirror, str(p.commit), p.name)
        found = content_hash(directory)
        if found != p.content_hash:
            raise UserError(
                f"pack {p.name}: commit {str(p.commit)[:12]} of {mask_url(p.source)} does not have the content "
                f"pinned in {LOCK_NAME} (pinned {p.content_hash[:19]}, fetched {found[:19]})",
                hint=f"check who changed {LOCK_NAME}; `continuous packs update {p.name}` pins the fetched content",
            )
        changes.append(PackChange(p.name, "installed", p, p))
    return changes


def _matches(directory: Path, pin: str) -> bool:
    try:
        return content_hash(directory) == pin
    except UserError:
        return False


def _has_commit(mirror: Path, commit: str) -> bool:
    proc = subprocess.run(
        ["git", "--git-dir", str(mirror), "cat-file", "-e", f"{commit}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


def _commit_lock(root: Path, packs: list[LockedPack]) -> None:
    """Write the lock, then load the repository's whole rule base with it; on any problem put the old lock back,
    so a pack that clashes with the repository or does not parse is never pinned."""
    path = root / LOCK_NAME
    before = path.read_bytes() if path.exists() else None
    write_lock(root, packs)
    try:
        from continuous.common.config import load_config
        from continuous.dsl.loader import load_config_rule_base

        load_config_rule_base(load_config(root))
    except BaseException:
        if before is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(before)
        raise


# ---------------------------------------------------------------- list


@dataclass(frozen=True)
class PackStatus:
    pin: LockedPack
    status: Literal["ok", "modified", "missing", "incompatible", "invalid"]
    detail: str = ""
    scenarios: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            **self.pin.model_dump(by_alias=True),
            "status": self.status,
            "detail": self.detail,
            "label": label(self.pin),
        }


def statuses(root: Path) -> list[PackStatus]:
    """Every pinned pack and whether it loads, without raising on the first bad one."""
    lock = read_lock(root)
    store: Path | None = None
    out: list[PackStatus] = []
    for p in lock.pack:
        try:
            if p.kind == "git" and store is None:
                store = store_root(root)
            directory = pack_dir(root, p, store)
        except UserError as exc:
            out.append(PackStatus(p, "missing", exc.render()))
            continue
        try:
            found = content_hash(directory)
            if found != p.content_hash:
                out.append(PackStatus(p, "modified", f"content {found[:19]} differs from the pin"))
                continue
            manifest = read_manifest(directory)
        except UserError as exc:
            out.append(PackStatus(p, "invalid", exc.render()))
            continue
        try:
            check_compatible(manifest, _describe(p))
        except UserError as exc:
            out.append(PackStatus(p, "incompatible", exc.message))
            continue
        out.append(PackStatus(p, "ok", str(directory)))
    return out


def available(root: Path) -> list[tuple[str, str]]:
    """(entry point name, distribution) of installed Python packs that the lock does not pin yet."""
    pinned = {p.source for p in read_lock(root).pack if p.kind == "python"}
    out = []
    for ep in _entry_points():
        if ep.name in pinned:
            continue
        dist = getattr(ep, "dist", None)
        out.append((ep.name, f"{dist.name} {dist.version}" if dist is not None else ep.value))
    return sorted(set(out))


def iter_pack_files(directory: Path) -> Iterator[str]:
    """The relative paths that make up a pack's content hash (for reports)."""
    for rel, _ in _pack_files(directory):
        yield rel

"""A repository's conventions read from its files: what every command uses for a `[conventions]` key that
`.continuous.toml` does not set (`continuous.common.config.load_config`), and what `continuous init` writes.

Each setting is found from the files themselves (which folder holds apps with a package.json, what prefix their
names share, where numbered migrations live, which test runner the apps declare), never from a list of known
repositories; what makes a folder an app (a web app's config, an Expo manifest) is data, `data/layout.toml`. A
setting with no evidence keeps its neutral default and says so (`source = "default"`), so the user sees what to
check. `detect_cached` keeps the result per repository until its files change.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tomllib
from collections import Counter
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from continuous.common.config import CONVENTION_DEFAULTS, CONVENTION_DOCS, TEST_RUNNERS

DATA = Path(__file__).resolve().parent / "data" / "layout.toml"
_SKIP = ("node_modules/", "dist/", ".git/", "build/", ".turbo/")
_MIGRATION = re.compile(r"^[0-9]{8,14}_[A-Za-z0-9_]+\.sql$")
# tables sharing a domain prefix: a prefix is a domain when this many tables carry it ...
_DOMAIN_MIN_TABLES = 2
# ... and the repository follows the convention when its domains cover at least this share of its tables
_DOMAIN_MIN_SHARE = 0.5
_CACHE_VERSION = 1


@dataclass(frozen=True)
class Finding:
    key: str
    value: Any
    evidence: str  # why this value: what was found, or that nothing was and the default stays
    source: str = "detected"  # or "default": nothing in the repository says


def _files(root: Path) -> list[str]:
    try:
        proc = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=True,
            timeout=60,
        )
        names = [n for n in proc.stdout.decode("utf-8", "replace").split("\0") if n]
    except (OSError, subprocess.SubprocessError):
        names = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    return sorted(n for n in names if not any(s in n + "/" for s in _SKIP) and "/." not in "/" + n)


def _package(root: Path, path: str) -> dict[str, Any]:
    try:
        data = json.loads((root / path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@lru_cache(maxsize=1)
def _markers() -> dict[str, Any]:
    """What detection recognises (data/layout.toml)."""
    return dict(tomllib.loads(DATA.read_text(encoding="utf-8")))


def _is_app(root: Path, folder: str, file_set: set[str]) -> bool:
    """A package.json beside a web app's entry or config or an Expo / React Native manifest, or one that depends
    on an app framework (data/layout.toml, [apps])."""
    apps = _markers()["apps"]
    if any(f"{folder}/{m}" in file_set for m in apps["files"]):
        return True
    deps = _package(root, f"{folder}/package.json").get("dependencies")
    return isinstance(deps, dict) and any(d in deps for d in apps["dependencies"])


def _apps(root: Path, files: list[str]) -> tuple[str | None, list[str]]:
    """The folder holding the most app folders (`_is_app`)."""
    app_dirs: set[str] = set()
    file_set = set(files)
    for f in files:
        p = PurePosixPath(f)
        if p.name != "package.json" or len(p.parts) < 3:
            continue
        d = str(p.parent)
        if _is_app(root, d, file_set):
            app_dirs.add(d)
    parents = Counter(str(PurePosixPath(d).parent) for d in app_dirs)
    if not parents:
        return None, []
    folder = max(parents, key=lambda k: (parents[k], -k.count("/"), k == "apps"))
    return folder, sorted(PurePosixPath(d).name for d in app_dirs if str(PurePosixPath(d).parent) == folder)


def _prefix(names: list[str]) -> str:
    """The `word-` prefix most app names share (more than half of them), else none."""
    heads = Counter(n.split("-", 1)[0] + "-" for n in names if "-" in n)
    if not heads:
        return ""
    head, count = heads.most_common(1)[0]
    return head if count * 2 > len(names) or (len(names) == 1 and count == 1) else ""


def _services(files: list[str], apps_dir: str | None) -> tuple[str | None, int]:
    """The folder whose sub-folders most often hold a class file named after them (`x/x.ts`) or an index.ts
    beside other TypeScript: the shape of a shared service."""
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    for f in files:
        p = PurePosixPath(f)
        if len(p.parts) < 3 or p.suffix != ".ts" or p.name.endswith((".test.ts", ".d.ts")):
            continue
        folder = str(p.parent)
        if apps_dir and folder.startswith(apps_dir + "/"):
            continue
        if p.stem == p.parent.name and folder not in seen:
            seen.add(folder)
            counts[str(p.parent.parent)] += 1
    if not counts:
        return None, 0
    folder = max(counts, key=lambda k: (counts[k], k.endswith("services")))
    return folder, counts[folder]


def _pipelines(files: list[str]) -> tuple[str | None, int]:
    counts = Counter(
        str(PurePosixPath(f).parent.parent) for f in files if f.endswith("-cli.sh") and len(PurePosixPath(f).parts) >= 3
    )
    return counts.most_common(1)[0] if counts else (None, 0)


def _migrations(files: list[str]) -> tuple[str | None, list[str]]:
    counts = Counter(str(PurePosixPath(f).parent) for f in files if _MIGRATION.match(PurePosixPath(f).name))
    if not counts:
        return None, []
    folder = counts.most_common(1)[0][0]
    return folder, [f for f in files if str(PurePosixPath(f).parent) == folder and f.endswith(".sql")]


def _types_file(root: Path, files: list[str], migrations_dir: str | None, apps_dir: str | None) -> str | None:
    """The generated database types: a file declaring `export type Database`. A repository may hold copies (an
    app's own integration folder); the one beside the migrations (same top folder, `supabase/`) is the record,
    else the shallowest. A file inside an app is that app's copy, the record only when the migrations live in
    the same app (an app that owns the database)."""

    def app_of(path: str) -> str | None:
        if not apps_dir or not path.startswith(apps_dir + "/"):
            return None
        return path[len(apps_dir) + 1 :].split("/", 1)[0]

    owner = app_of(migrations_dir) if migrations_dir else None
    found: list[str] = []
    for f in files:
        if app_of(f) not in (None, owner):
            continue
        if f.endswith(".ts") and PurePosixPath(f).name in ("types.ts", "database.types.ts", "supabase.ts"):
            try:
                if "export type Database" in (root / f).read_text(encoding="utf-8", errors="replace"):
                    found.append(f)
            except OSError:
                continue
    if not found:
        return None
    top = PurePosixPath(migrations_dir).parts[0] if migrations_dir else None
    return min(found, key=lambda f: (PurePosixPath(f).parts[0] != top, f.count("/"), f))


def _server_registry(root: Path, files: list[str]) -> str | None:
    for f in files:
        name = PurePosixPath(f).name
        if name.endswith((".js", ".cjs", ".mjs", ".ts")) and "server" in name and "start" in name:
            return f
    return None


def _runner_votes(root: Path, packages: list[str]) -> Counter[str]:
    votes: Counter[str] = Counter()
    for f in packages:
        data = _package(root, f)
        deps = {**(data.get("dependencies") or {}), **(data.get("devDependencies") or {})}
        scripts = " ".join(str(v) for v in (data.get("scripts") or {}).values())
        for runner in TEST_RUNNERS:
            if runner in deps or re.search(rf"\b{runner}\b", scripts):
                votes[runner] += 1
    return votes


def _test_runner(root: Path, files: list[str], apps_dir: str | None) -> tuple[str | None, str]:
    """The runner the apps declare: the setting is what a new app gets (and a page test in an app that declares
    none), so the apps vote; libraries and tools, which often keep another runner, vote only when no app
    declares one."""
    packages = [f for f in files if PurePosixPath(f).name == "package.json"]
    apps = [f for f in packages if apps_dir and str(PurePosixPath(f).parent.parent) == apps_dir]
    votes, who = _runner_votes(root, apps), "apps"
    if not votes:
        votes, who = _runner_votes(root, packages), "packages (no app declares one)"
    if not votes:
        return None, ""
    runner = max(votes, key=lambda k: (votes[k], k == TEST_RUNNERS[0]))
    return runner, f"declared by {who}: " + ", ".join(f"{r} {n}" for r, n in votes.most_common())


def _types_tables(root: Path, types_file: str | None) -> set[str]:
    """The tables the generated types declare, in every schema (`tstypes`, the reader the engine merges with)."""
    from continuous.common.tstypes import read_types

    if not types_file:
        return set()
    try:
        types = read_types((root / types_file).read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return set()
    return {name for schema in types.schemas for name in types.names("Tables", schema)}


def _migration_tables(root: Path, migrations: list[str]) -> set[str]:
    """The tables the migrations leave, in every schema, replayed in name order (`sqlreplay`, the engine's
    reader: created, renamed, dropped); down migrations undo and are left out."""
    from continuous.common.sqlreplay import replay

    texts: list[tuple[str, str]] = []
    for f in sorted(migrations, key=lambda p: PurePosixPath(p).name):
        if f.endswith("_down.sql"):
            continue
        try:
            texts.append((f, (root / f).read_text(encoding="utf-8", errors="replace")))
        except OSError:
            continue
    return {table.name for table in replay(texts).live_tables()}


def _domains(tables: set[str]) -> tuple[list[str], str]:
    """The table-prefix domains: the words before `_` that several tables share, when those cover most tables
    (else the repository has no such convention and there is no rule). A word only one table starts with is
    part of that table's name, not a domain."""
    heads = Counter(t.split("_", 1)[0] for t in tables if "_" in t)
    domains = sorted(h for h, n in heads.items() if n >= _DOMAIN_MIN_TABLES and re.fullmatch(r"[a-z][a-z0-9]*", h))
    covered = sum(heads[d] for d in domains)
    if not domains or covered < _DOMAIN_MIN_SHARE * len(tables):
        return [], f"no prefix before _ is shared by most of the {len(tables)} tables"
    return domains, (
        f"prefixes before _ shared by {_DOMAIN_MIN_TABLES}+ tables, covering {covered} of the {len(tables)} tables"
    )


def detect(root: Path) -> list[Finding]:
    """Every convention setting, in the order of CONVENTION_DEFAULTS, with what it was read from."""
    files = _files(root)
    out: dict[str, Finding] = {}

    def keep(key: str, value: Any, evidence: str | None) -> None:
        if value is None or evidence is None:
            out[key] = Finding(key, CONVENTION_DEFAULTS[key], "not found in the repository: the default", "default")
        else:
            out[key] = Finding(key, value, evidence)

    apps_dir, apps = _apps(root, files)
    keep("apps_dir", apps_dir, f"{len(apps)} app(s) with a package.json: {', '.join(apps[:4])}" if apps_dir else None)
    if apps:
        prefix = _prefix(apps)
        keep(
            "app_prefix",
            prefix,
            f"shared by the app names ({', '.join(apps[:4])})"
            if prefix
            else f"the app names share no prefix ({', '.join(apps[:4])})",
        )
    else:
        keep("app_prefix", None, None)
    mig_dir, migrations = _migrations(files)
    types = _types_file(root, files, mig_dir, apps_dir)
    # The generated types are read from the database itself: when they declare tables they are the record of
    # what exists now. Migrations are history (tables renamed or dropped by dynamic SQL or by hand survive a
    # replay), the record only where no types file declares any.
    tables, record = _types_tables(root, types), f"the tables {types} declares"
    if not tables:
        tables, record = _migration_tables(root, migrations), "the tables the migrations leave"
    if tables:
        domains, why = _domains(tables)
        keep("table_domains", domains, f"{why} ({record})")
    else:
        keep("table_domains", None, None)
    services, n = _services(files, apps_dir)
    keep("services_dir", services, f"{n} folder(s) holding a class file named after them (x/x.ts)")
    pipelines, n = _pipelines(files)
    keep("pipelines_dir", pipelines, f"{n} folder(s) holding a <name>-cli.sh wrapper")
    keep("migrations_dir", mig_dir, f"{len(migrations)} numbered .sql migration(s)" if mig_dir else None)
    keep("types_file", types, "declares `export type Database`" if types else None)
    registry = _server_registry(root, files)
    keep("server_registry", registry, "the script that starts the servers" if registry else None)
    runner, why = _test_runner(root, files, apps_dir)
    keep("test_runner", runner, why if runner else None)
    return [out[k] for k in CONVENTION_DEFAULTS]


def detect_cached(root: Path) -> list[Finding]:
    """`detect(root)`, kept in the user's cache until git says the worktree's files (or this code) changed:
    every command of a repository without a complete `[conventions]` table reads it, and a cold `suggest` must
    stay fast."""
    from continuous.common import config, sqlreplay, sqlschema, tstypes, worktree_state
    from continuous.common.dirs import cache_dir

    code = [__file__, DATA, config.__file__, sqlschema.__file__, sqlreplay.__file__, tstypes.__file__]
    key = worktree_state.state(root, code, f"conventions-v{_CACHE_VERSION}")
    if key is None:
        return detect(root)
    path = cache_dir() / "conventions" / (hashlib.sha256(str(root).encode()).hexdigest()[:16] + ".json")
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        if entry.get("key") == key:
            return [Finding(**f) for f in entry["findings"]]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass
    findings = detect(root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"key": key, "findings": [asdict(f) for f in findings]}), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
    return findings


def _toml_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(v) for v in value) + "]"
    return json.dumps(value)


def conventions_table(findings: list[Finding]) -> str:
    """`[conventions]` as TOML, a comment above each setting: what it means and where its value came from. A
    setting the repository shows nothing of is written commented out: written, the default would stay when the
    repository later shows a convention; left out, detection keeps following it."""
    lines = [
        "# The repository's layout, as the built-in scenarios, templates, discovery and `continuous check` read it",
        "# (docs/conventions.md). `continuous init` detected these; edit them to match your conventions. A key",
        "# left commented out follows what the repository shows (`continuous conventions` prints the values).",
        "[conventions]",
    ]
    for f in findings:
        lines.append(f"# {CONVENTION_DOCS[f.key]} ({f.evidence})")
        lines.append(("# " if f.source == "default" else "") + f"{f.key} = {_toml_value(f.value)}")
    return "\n".join(lines) + "\n"

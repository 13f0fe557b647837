"""What packs cost: checking a pack against its pin on every load, and `packs add` / `packs install` from git.

The pack is the whole built-in library (its .scn files and templates) copied under another pack name, pushed to a
local bare repository: about the largest pack a team would share. Run: `.venv/bin/python bench/bench_packs.py
[--repeat R]`; results are printed and written to bench/results/packs.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "packs.json"
LIBRARY = Path(__file__).resolve().parent.parent / "scenarios"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def timed(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    from continuous.common.config import load_config
    from continuous.dsl import packs
    from continuous.dsl.loader import load_config_rule_base

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        src = base / "src"
        shutil.copytree(LIBRARY, src, ignore=shutil.ignore_patterns("example-monorepo", "__pycache__"))
        (src / "continuous-pack.toml").write_text('name = "big"\nversion = "1.0.0"\nrequires-continuous = ">=0.1"\n')
        files = sum(1 for p in src.rglob("*") if p.is_file())
        git(src, "init", "-q", "-b", "main")
        git(src, "add", "-A")
        git(src, "-c", "user.email=b@example.com", "-c", "user.name=B", "commit", "-q", "-m", "pack")
        bare = base / "big.git"
        git(base, "clone", "-q", "--bare", str(src), str(bare))
        repo = base / "repo"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        (repo / ".continuous.toml").write_text("include_builtin = false\n")

        start = time.perf_counter()
        packs.add(repo, str(bare), cwd=repo)  # include_builtin = false: the pack is the whole library
        add_seconds = time.perf_counter() - start
        check_seconds = timed(lambda: packs.pack_sources(repo), args.repeat)
        config = load_config(repo)
        load_seconds = timed(lambda: load_config_rule_base(config), max(3, args.repeat // 4))
        shutil.rmtree(repo / ".git/continuous")
        start = time.perf_counter()
        packs.install(repo)
        install_seconds = time.perf_counter() - start

    result = {
        "pack_files": files,
        "add_seconds": round(add_seconds, 3),
        "check_on_load_seconds": round(check_seconds, 4),
        "rule_base_load_seconds": round(load_seconds, 3),
        "install_fresh_clone_seconds": round(install_seconds, 3),
    }
    print(json.dumps(result, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

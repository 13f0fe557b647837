"""The planner's index and daemon, as whole processes of the installed `continuous` in a fresh committed copy of the
real monorepo fixture (CONTINUOUS_REALREPO_FIXTURE, default ../shared/fixtures/dhg-mono):

- first `suggest` in a new repository, nothing cached (the shipped built-in index, the weights converted once);
- index built from scratch (CONTINUOUS_PLANNER_SHIPPED=0, empty cache: every text encoded, the model trained), on
  a pseudo-terminal, with the progress line it prints;
- after an edit of a custom scenario's examples: the incremental rebuild (only the new text encoded);
- cold `suggest` (caches on disk, no daemon);
- the daemon's memory and how long it stays after the last request.

    .venv/bin/python bench/bench_planner_index.py

Writes bench/results/planner-index.json. CPU is user + system time of the child processes (all threads).
"""

from __future__ import annotations

import json
import os
import re
import resource
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EXE = str(Path(sys.executable).parent / "continuous")
RESULTS = REPO / "bench" / "results"
FIXTURE = Path(os.environ.get("CONTINUOUS_REALREPO_FIXTURE") or REPO.parent / "shared" / "fixtures" / "dhg-mono")

CUSTOM = """
scenario add-feature-flag {
  object infra
  summary "Add a feature flag"
  examples "add a feature flag for the new editor", "put checkout v2 behind a flag",
    "new toggle to roll out dark mode gradually", "gate the beta dashboard behind a feature flag",
    "feature flag for the experimental search", "let us switch the redesign on per team"
  param name: kebab required position 1
  provides flag(name: "{{ name }}")
}
"""


def committed_copy(dest: Path) -> Path:
    shutil.copytree(FIXTURE, dest, symlinks=True, ignore=shutil.ignore_patterns("node_modules", ".git"))
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@x"}  # fmt: skip
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run(["git", *args], cwd=dest, check=True, capture_output=True, env=env)
    return dest


def cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    before, start = cpu_children(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed: {proc.stderr[-400:]}")
    return wall, cpu_children() - before


def on_terminal(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Run with stderr on a pseudo-terminal (stdout a pipe): wall, CPU, what appeared on the terminal."""
    import pty

    before, start = cpu_children(), time.perf_counter()
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, cwd=cwd, env={**env, "TERM": "xterm"}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave)  # fmt: skip
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    proc.wait()
    os.close(master)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", seen.decode("utf-8", "replace"))
    return time.perf_counter() - start, cpu_children() - before, text


def main() -> int:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-planner-index-") as tmp:
        root = Path(tmp)
        repo = committed_copy(root / "dhg-mono")
        base = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "CONTINUOUS_NO_DAEMON": "1"}
        base.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's installation keeps its bytecode
        suggest = [EXE, "suggest", "--json"]

        env = {**base, "XDG_CACHE_HOME": str(root / "new")}
        wall, cpu = timed([*suggest, "a table for bookmarks"], repo, env)
        out["first_suggest_new_repository_s"] = round(wall, 3)
        out["first_suggest_new_repository_cpu_s"] = round(cpu, 3)
        colds = [timed([*suggest, f"add a page number {k} to the hub"], repo, env) for k in range(5)]
        out["cold_suggest_median_s"] = round(statistics.median(w for w, _ in colds), 3)
        out["cold_suggest_cpu_median_s"] = round(statistics.median(c for _, c in colds), 3)

        env = {**base, "XDG_CACHE_HOME": str(root / "scratch"), "CONTINUOUS_PLANNER_SHIPPED": "0"}
        wall, cpu, printed = on_terminal([EXE, "suggest", "a table for bookmarks"], repo, env)
        lines = [line.strip() for line in re.split(r"[\r\n]+", printed) if line.strip()]
        out["index_build_from_scratch_s"] = round(wall, 3)
        out["index_build_from_scratch_cpu_s"] = round(cpu, 3)
        out["index_build_progress_lines"] = lines[:3] + (["…"] if len(lines) > 3 else []) + lines[-1:]

        flags = root / "flags.scn"
        flags.write_text(CUSTOM)
        (repo / ".continuous.toml").write_text(f'scenario_paths = ["{flags}"]\n')
        env = {**base, "XDG_CACHE_HOME": str(root / "new")}
        wall, cpu, printed = on_terminal([EXE, "suggest", "put search behind a feature flag"], repo, env)
        out["custom_scenario_first_build_s"] = round(wall, 3)
        out["custom_scenario_first_build_cpu_s"] = round(cpu, 3)
        flags.write_text(CUSTOM.replace('"let us switch', '"a kill switch for the importer", "let us switch'))
        wall, cpu, printed = on_terminal([EXE, "suggest", "put search behind a feature flag"], repo, env)
        out["after_scn_edit_rebuild_s"] = round(wall, 3)
        out["after_scn_edit_rebuild_cpu_s"] = round(cpu, 3)
        out["after_scn_edit_progress"] = [m for m in re.split(r"[\r\n]+", printed) if "encoding" in m][-1:]
        (repo / ".continuous.toml").unlink()

        env = {**base, "XDG_CACHE_HOME": str(root / "new"), "CONTINUOUS_DAEMON_IDLE": "20"}
        env.pop("CONTINUOUS_NO_DAEMON")
        daemon = subprocess.Popen([sys.executable, "-m", "continuous.planner.daemon"], env=env, cwd=repo)
        sock = root / "new" / "continuous" / "run" / "planner.sock"
        for _ in range(600):
            if sock.exists():
                break
            time.sleep(0.1)
        for k in range(3):
            timed([EXE, "suggest", f"add a table for things number {k}"], repo, env)
        rss = [int(line.split()[1]) for line in Path(f"/proc/{daemon.pid}/status").read_text().splitlines()
               if line.startswith("VmRSS")]  # fmt: skip
        out["daemon_rss_mb"] = round(rss[0] / 1024, 1) if rss else None
        start = time.perf_counter()
        daemon.wait(timeout=300)
        out["daemon_exit_after_idle_s"] = round(time.perf_counter() - start, 1)
        out["daemon_idle_setting_s"] = 20
    out["load_average_1m"] = round(os.getloadavg()[0], 2)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "planner-index.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

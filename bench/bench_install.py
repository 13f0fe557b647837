"""The default install's size and the first `suggest` in a new repository, as a user gets them.

    .venv/bin/python bench/bench_install.py [--no-real] [--keep DIR [--suggest-only]]

1. Resolve `pip install .` with `pip install --dry-run --ignore-installed --report` against the default package
   index alone (this machine's pip configuration, local wheel folders and constraints switched off), as a user on
   Linux would: the packages, whether any is torch or a CUDA library (nvidia-*, triton), and the sum of their
   download sizes (HTTP HEAD of each file). The `[reference]` extra is resolved the same way for contrast: it is
   why `make install` puts a CPU build of torch in place first.
2. Install it for real into a fresh venv (non-editable, the same index), run `continuous model install`, and
   measure the venv on disk.
3. In that venv: `continuous init --example` makes a new repository; the first `continuous suggest` there (index
   built from scratch) under a pseudo-terminal, to see its progress line; the same with an empty cache (weights not
   yet prepared); then cold `continuous suggest` (new process, index cached, no daemon), median of 5.

Targets (issue 14): installed ≤ 600 MB with no CUDA library; first suggest ≤ 5 s with a progress line on a
terminal; cold suggest ≤ 0.6 s. Writes bench/results/install.json.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import resource
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
TARGETS = {"installed_mb": 600, "first_suggest_s": 5.0, "cold_suggest_s": 0.6}
HEAVY = re.compile(r"^(torch|triton|nvidia-.*|sentence-transformers|transformers)$", re.I)
CUDA = re.compile(r"^(nvidia-.*|triton|cuda-.*)$", re.I)
REQUEST = "admin dashboard for managing user preferences"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def default_index_env() -> dict[str, str]:
    """pip as on a user's machine: the default index only (no local wheel folders, extra indexes or caps)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") or k == "PIP_CERT"}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def resolve(spec: str, workdir: Path) -> dict[str, Any]:
    report = workdir / f"report-{abs(hash(spec))}.json"
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            str(report),
            spec,
        ],
        cwd=REPO,
        env=default_index_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return {"spec": spec, "error": proc.stderr.strip()[-2000:]}
    items = json.loads(report.read_text())["install"]
    packages = [
        {"name": i["metadata"]["name"], "version": i["metadata"]["version"], "url": i["download_info"]["url"]}
        for i in items
    ]
    with ThreadPoolExecutor(8) as pool:
        sizes = list(pool.map(lambda p: _download_size(p["url"]), packages))
    for p, size in zip(packages, sizes, strict=True):
        p["download_bytes"] = size
    known = [s for s in sizes if s is not None]
    return {
        "spec": spec,
        "resolve_s": round(time.perf_counter() - start, 1),
        "packages": len(packages),
        "heavy": sorted(p["name"] for p in packages if HEAVY.match(p["name"])),
        "cuda_libraries": sorted(p["name"] for p in packages if CUDA.match(p["name"])),
        "download_mb": round(sum(known) / 1e6, 1),
        "sizes_unknown": sorted(
            p["name"] for p in packages if p["download_bytes"] is None and not p["url"].startswith("file:")
        ),
        "largest_downloads_mb": {
            p["name"]: round(p["download_bytes"] / 1e6, 1)
            for p in sorted(packages, key=lambda p: -(p["download_bytes"] or 0))[:8]
            if p["download_bytes"]
        },
        "all": [f"{p['name']}=={p['version']}" for p in packages],
    }


def _download_size(url: str) -> int | None:
    if url.startswith("file:"):
        return None
    try:
        req = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(req, timeout=60) as resp:
            return int(resp.headers.get("Content-Length", 0)) or None
    except (OSError, ValueError):
        return None


def du(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            p = Path(root) / name
            if not p.is_symlink():
                total += p.stat().st_size
    return total


def real_install(workdir: Path) -> tuple[dict[str, Any], Path]:
    env_dir = workdir / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    py = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    baseline = du(site)
    start = time.perf_counter()
    proc = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", str(REPO)],
        env=default_index_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"pip install failed:\n{proc.stderr[-3000:]}")
    install_s = time.perf_counter() - start
    without_model = du(site) - baseline
    start = time.perf_counter()
    model = subprocess.run(
        [str(env_dir / "bin" / "continuous"), "model", "install", "--json"],
        env={**default_index_env(), "XDG_CACHE_HOME": str(workdir / "cache")},
        capture_output=True,
        text=True,
        check=False,
    )
    if model.returncode != 0:
        raise SystemExit(f"continuous model install failed:\n{model.stderr[-3000:]}")
    model_s = time.perf_counter() - start
    installed = du(site) - baseline
    listed = json.loads(
        subprocess.run(
            [str(py), "-m", "pip", "list", "--format", "json"], check=True, capture_output=True, text=True
        ).stdout
    )
    names = [d["name"] for d in listed]
    groups: dict[str, int] = {}
    for entry in site.iterdir():
        key = re.split(r"[-.]", entry.name.lstrip("_"), maxsplit=1)[0].lower()
        groups[key] = groups.get(key, 0) + (du(entry) if entry.is_dir() else entry.stat().st_size)
    return {
        "pip_install_s": round(install_s, 1),
        "model_install_s": round(model_s, 1),
        "installed_mb": round(installed / 1e6, 1),
        "installed_without_model_mb": round(without_model / 1e6, 1),
        "model_mb": round((installed - without_model) / 1e6, 1),
        "venv_total_mb": round(du(env_dir) / 1e6, 1),
        "distributions": len(names),
        "heavy_installed": sorted(n for n in names if HEAVY.match(n)),
        "cuda_installed": sorted(n for n in names if CUDA.match(n)),
        "largest_mb": {k: round(v / 1e6, 1) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])[:12]},
    }, env_dir


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _tty_run(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int, str]:
    """Run on a pseudo-terminal (stdout and stderr), as a person at a terminal sees it: wall and CPU seconds."""
    master, slave = pty.openpty()
    cpu = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env={**env, "TERM": "xterm-256color", "COLUMNS": "120"},
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if not data:
                break
            chunks.append(data)
            continue
        if proc.poll() is not None:
            break
    code = proc.wait()
    elapsed = time.perf_counter() - start
    os.close(master)
    return elapsed, _children_cpu() - cpu, code, b"".join(chunks).decode("utf-8", "replace")


def _timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    cpu = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, _children_cpu() - cpu, proc


def suggest_times(env_dir: Path, workdir: Path) -> dict[str, Any]:
    exe = str(env_dir / "bin" / "continuous")
    base = {k: v for k, v in os.environ.items() if not k.startswith("CONTINUOUS_") or k == "CONTINUOUS_INDEX_ENCODER"}
    base.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", CONTINUOUS_NO_DAEMON="1")
    repo = workdir / "new-repo"
    subprocess.run([exe, "init", "--example", str(repo)], env=base, check=True, capture_output=True)
    prepared = {**base, "XDG_CACHE_HOME": str(workdir / "cache")}  # where `model install` prepared the weights
    out: dict[str, Any] = {"request": REQUEST, "index_encoder": base.get("CONTINUOUS_INDEX_ENCODER", "(default)")}
    first_s, first_cpu, code, transcript = _tty_run([exe, "suggest", REQUEST], repo, prepared)
    out["first_suggest_s"] = round(first_s, 2)
    out["first_suggest_cpu_s"] = round(first_cpu, 2)
    out["first_suggest_exit"] = code
    empty = {**base, "XDG_CACHE_HOME": str(workdir / "empty-cache")}
    empty_s, empty_cpu, piped = _timed([exe, "suggest", REQUEST], repo, empty)
    out["first_suggest_empty_cache_s"] = round(empty_s, 2)
    out["first_suggest_empty_cache_cpu_s"] = round(empty_cpu, 2)
    plain = {line.strip() for line in piped.stdout.splitlines()}
    lines = [ANSI.sub("", part).strip() for part in re.split(r"[\r\n]+", transcript)]
    extra = [line for line in lines if line and line not in plain]
    out["terminal_lines_not_in_piped_output"] = extra[:10]
    out["progress_line_on_terminal"] = bool(extra) and code == 0
    if code != 0:
        out["first_suggest_output"] = ANSI.sub("", transcript)[-1500:]
        return out
    colds, cpus = [], []
    for _ in range(5):
        seconds, cpu, proc = _timed([exe, "suggest", REQUEST], repo, prepared)
        if proc.returncode != 0:
            out["cold_suggest_error"] = proc.stderr[-1500:]
            break
        colds.append(seconds)
        cpus.append(cpu)
    if colds:
        out["cold_suggest_median_s"] = round(statistics.median(colds), 3)
        out["cold_suggest_cpu_median_s"] = round(statistics.median(cpus), 3)
        out["cold_suggest_all_s"] = [round(c, 3) for c in colds]
    help_s = [_timed([exe, "--help"], repo, prepared)[0] for _ in range(3)]
    out["cli_help_median_s"] = round(statistics.median(help_s), 3)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-real", action="store_true", help="Only resolve; no real install, no suggest.")
    parser.add_argument("--keep", type=Path, help="Work in DIR and keep it (default: a temporary folder).")
    parser.add_argument(
        "--suggest-only",
        action="store_true",
        help="Only time suggest again, in the venv that an earlier run with --keep DIR left in DIR.",
    )
    args = parser.parse_args(argv)
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench-install-"))
    workdir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"targets": TARGETS, "cpus": os.cpu_count()}
    if args.suggest_only:
        if args.keep is None or not (workdir / "venv").is_dir():
            parser.error("--suggest-only needs --keep DIR of an earlier run")
        previous = RESULTS / "install.json"
        result = json.loads(previous.read_text()) if previous.exists() else result
        shutil.rmtree(workdir / "new-repo", ignore_errors=True)
        shutil.rmtree(workdir / "empty-cache", ignore_errors=True)
        for cached in (workdir / "cache" / "continuous").glob("*"):
            if cached.name != "weights":  # what `continuous model install` prepared stays
                shutil.rmtree(cached, ignore_errors=True)
        result["suggest"] = suggest_times(workdir / "venv", workdir)
        result["load_average"] = [round(x, 2) for x in os.getloadavg()]
        result["verdict"] = verdict(result)
        (RESULTS / "install.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result["verdict"], indent=2))
        return 0
    try:
        print("resolving the default install ...", flush=True)
        result["default_resolved"] = resolve(".", workdir)
        print("resolving the [reference] extra (for contrast) ...", flush=True)
        ref = resolve(".[reference]", workdir)
        ref.pop("all", None)
        result["reference_extra_resolved"] = ref
        if not args.no_real:
            print("installing into a fresh venv ...", flush=True)
            result["real_install"], env_dir = real_install(workdir)
            print("first and cold suggest in a new repository ...", flush=True)
            result["suggest"] = suggest_times(env_dir, workdir)
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    result["verdict"] = verdict(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "install.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["verdict"], indent=2))
    return 0


def verdict(result: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    resolved = result.get("default_resolved", {})
    out["no_torch_or_cuda_resolved"] = not resolved.get("heavy") and not resolved.get("cuda_libraries")
    real = result.get("real_install")
    if real:
        out["installed_mb"] = real["installed_mb"]
        out["installed_within_target"] = real["installed_mb"] <= TARGETS["installed_mb"]
        out["no_torch_or_cuda_installed"] = not real["heavy_installed"] and not real["cuda_installed"]
    sug = result.get("suggest")
    if sug:
        out["first_suggest_s"] = sug.get("first_suggest_s")
        out["first_suggest_within_target"] = (
            sug.get("first_suggest_exit") == 0 and sug["first_suggest_s"] <= TARGETS["first_suggest_s"]
        )
        out["progress_line_on_terminal"] = sug.get("progress_line_on_terminal")
        if "cold_suggest_median_s" in sug:
            out["cold_suggest_median_s"] = sug["cold_suggest_median_s"]
            out["cold_suggest_within_target"] = sug["cold_suggest_median_s"] <= TARGETS["cold_suggest_s"]
    return out


if __name__ == "__main__":
    raise SystemExit(main())

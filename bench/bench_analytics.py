"""Analytics at scale: export a 1,000,000-execution / 5,000,000-step history and query it.

    python bench/bench_analytics.py [--executions 1000000] [--steps 5000000] [--db PATH] [--runs 3]

Targets (issue 6): export < 60 s, export memory peak < 2 GB (ru_maxrss of the export process), `continuous
analytics trends` < 1 s as a whole process. Every measured command runs as its own `continuous` subprocess,
exactly as a user would run it. The synthetic history (bench/gen_history.py, seeded) is generated once and
cached under .cache/bench/. Results: bench/results/analytics.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "analytics.json"
CONTINUOUS = str(Path(sys.executable).parent / "continuous")


def _run(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Runs one process; wall time, CPU time and peak RSS (MB) of that process alone."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{err}")
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "stdout": out,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--executions", type=int, default=1_000_000)
    ap.add_argument("--steps", type=int, default=5_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--runs", type=int, default=3, help="Runs of each query command (the median is kept).")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    db = args.db or ROOT / ".cache" / "bench" / f"history-{args.executions}-{args.steps}-{args.seed}.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    generation: dict[str, Any] | None = None
    if not db.exists():
        print(f"generating {args.executions:,} executions / {args.steps:,} steps into {db} ...", file=sys.stderr)
        tmp = db.with_name(db.name + ".partial")
        for p in tmp.parent.glob(tmp.name + "*"):
            p.unlink()
        gen = _run(
            [
                sys.executable,
                str(ROOT / "bench" / "gen_history.py"),
                "--db",
                str(tmp),
                "--executions",
                str(args.executions),
                "--steps",
                str(args.steps),
                "--seed",
                str(args.seed),
            ],
            dict(os.environ),
        )
        tmp.replace(db)
        generation = {
            "wall_s": gen["wall_s"],
            "cpu_s": gen["cpu_s"],
            **json.loads(gen["stdout"].strip().splitlines()[-1]),
        }
        db.with_name(db.name + ".generation.json").write_text(json.dumps(generation))
    elif db.with_name(db.name + ".generation.json").exists():
        generation = {**json.loads(db.with_name(db.name + ".generation.json").read_text()), "cached": True}

    env = dict(os.environ, CONTINUOUS_DATABASE_URL=f"sqlite:///{db}", COLUMNS="160")
    export_dir = Path(tempfile.mkdtemp(prefix="continuous-analytics-bench-"))
    try:
        load = os.getloadavg()
        first = _run([CONTINUOUS, "analytics", "export", "--out", str(export_dir), "--json"], env)
        report = json.loads(first.pop("stdout"))
        again = _run([CONTINUOUS, "analytics", "export", "--out", str(export_dir), "--json"], env)
        again_report = json.loads(again.pop("stdout"))
        queries: dict[str, Any] = {}
        for name, extra in [
            ("trends", ["trends"]),
            ("trends --json", ["trends", "--json"]),
            ("trends --by day", ["trends", "--by", "day"]),
            ("impact", ["impact"]),
            ("health", ["health"]),
            ("failures", ["failures"]),
            ("slowest", ["slowest"]),
            ("metrics", ["metrics"]),
        ]:
            cmd = [CONTINUOUS, "analytics", *extra, "--dir", str(export_dir)]
            runs = [_run(cmd, env) for _ in range(args.runs)]
            queries[name] = {
                "wall_s": statistics.median(r["wall_s"] for r in runs),
                "cpu_s": statistics.median(r["cpu_s"] for r in runs),
                "max_rss_mb": max(r["max_rss_mb"] for r in runs),
            }
        cmd = [CONTINUOUS, "analytics", "trends", "--json", "--dir", str(export_dir)]
        trends_rows = len(json.loads(_run(cmd, env)["stdout"])["rows"])
        size_mb = sum(p.stat().st_size for p in export_dir.rglob("*.parquet")) / 2**20
    finally:
        shutil.rmtree(export_dir, ignore_errors=True)

    rows = {t["table"]: t["total_rows"] for t in report["tables"]}
    result = {
        "note": "wall_s is elapsed time on this machine, which other processes share (see "
        "load_average_at_start); cpu_s is the measured process's own CPU time (user + sys, including "
        "its worker process) and max_rss_mb the peak resident memory of its largest process.",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": [round(v, 2) for v in load],
        },
        "history": {
            "database": str(db.relative_to(ROOT)) if db.is_relative_to(ROOT) else str(db),
            "executions": rows.get("sys_scenario_executions"),
            "step_executions": rows.get("sys_scenario_step_executions"),
            "database_mb": round(db.stat().st_size / 2**20, 1),
            "generation": generation,
        },
        "export": {
            **first,
            "rows_written": report["rows_written"],
            "parquet_mb": round(size_mb, 1),
            "target_s": 60,
            "target_max_rss_mb": 2048,
            "meets_targets": first["wall_s"] < 60 and first["max_rss_mb"] < 2048,
        },
        "reexport_unchanged": {
            **again,
            "rows_written": again_report["rows_written"],
            "files_written": again_report["files_written"],
        },
        "queries": queries,
        "trends_weeks": trends_rows,
        "trends_target_s": 1.0,
        "trends_meets_target": queries["trends"]["wall_s"] < 1.0,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_name(args.out.name + ".tmp")
    tmp_out.write_text(json.dumps(result, indent=2) + "\n")
    tmp_out.replace(args.out)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

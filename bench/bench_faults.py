"""Crash-recovery sweep: the fault-injection harness (tests/engine/faultlib.py) over many plans.

For every plan of `faultlib.PLANS`, on a fresh example monorepo with a user's uncommitted edit: every kill point
(`--mode capture`, the default: the state a SIGKILL leaves at each point, identical states tested once) or a random
sample of real SIGKILLs (`--mode kill --sample N`). After each crash: rollback gives the original tree, resume the
clean run's tree, the edit survives, no row stays `running`, no lock blocks. The counts go to
bench/results/faults.json (faults-postgresql.json with --postgres); any failure makes the exit code 1.

Run: `.venv/bin/python bench/bench_faults.py [--mode capture|kill] [--sample N] [--seed S] [--plans NAME ...]
[--postgres URL]` (about 2 minutes per plan in capture mode on an idle 2-core machine).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "tests" / "engine" / "faultlib.py"
RESULTS = ROOT / "bench" / "results" / "faults.json"


def _faultlib() -> Any:
    spec = importlib.util.spec_from_file_location("faultlib", HARNESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    faultlib = _faultlib()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["capture", "kill"], default="capture")
    parser.add_argument("--sample", type=int, default=0, help="random kill points per plan (0: all)")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--plans", nargs="*", default=sorted(faultlib.PLANS), choices=sorted(faultlib.PLANS))
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL (its schema must be at head)")
    args = parser.parse_args(argv)
    if args.postgres and args.mode == "capture":
        parser.error("--postgres needs --mode kill (capture mode copies the SQLite file)")
    env = {**os.environ, "CONTINUOUS_NOW": "2026-03-01T12:00:00+00:00", "HF_HUB_OFFLINE": "1"}
    reports = []
    for name in args.plans:
        requests, commit = faultlib.PLANS[name]
        with tempfile.TemporaryDirectory(prefix="continuous-faults-") as tmp:
            repo = faultlib.prepare_example(Path(tmp) / "example")
            db_url = args.postgres or f"sqlite:///{tmp}/tracking.db"
            job = {
                "repo": str(repo),
                "db_url": db_url,
                "requests": requests,
                "commit": commit,
                "mode": args.mode,
                "sample": args.sample,
                "seed": args.seed,
            }
            proc = subprocess.run(
                [sys.executable, str(HARNESS)],
                input=json.dumps(job),
                capture_output=True,
                text=True,
                env={**env, "CONTINUOUS_DATABASE_URL": db_url},
                check=False,
            )
        if proc.returncode != 0:
            print(f"{name}: harness error\n{proc.stderr[-3000:]}", file=sys.stderr)
            return 1
        report = json.loads(proc.stdout)
        report["name"] = name
        reports.append(report)
        print(
            f"{name}: {report['kill_points']} kill points ({report['crash_states']} crash states) of "
            f"{report['points_traced']}, lost edits {report['lost_edits']}, blocked {report['blocked']}, "
            f"rows left running {report['running_rows']}, failed {report['failed_points']} "
            f"in {report['seconds']}s",
            flush=True,
        )
    totals = {
        k: sum(r[k] for r in reports)
        for k in ("kill_points", "crash_states", "lost_edits", "blocked", "running_rows", "failed_points")
    }
    results = RESULTS.with_name("faults-postgresql.json") if args.postgres else RESULTS
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(
        json.dumps(
            {
                "mode": args.mode,
                "seed": args.seed,
                "sample": args.sample,
                "database": "postgresql" if args.postgres else "sqlite",
                "totals": totals,
                "plans": reports,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"totals: {json.dumps(totals)} -> {results.relative_to(ROOT)}")
    return 1 if totals["failed_points"] else 0


if __name__ == "__main__":
    sys.exit(main())

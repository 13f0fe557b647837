"""Run every benchmark in one go; each writes its figures to bench/results/<name>.json.

`python bench/run_all.py [--only NAME ...] [--skip NAME ...]`. The analytics benchmark generates a 1M/5M execution
history the first time (about ten minutes on 2 cores, cached in .cache/bench/).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCRIPTS = {
    "dsl": "bench_dsl.py",
    "cli-startup": "bench_cli_startup.py",
    "rules": "bench_rules.py",
    "engine": "bench_engine.py",
    "store": "bench_store.py",
    "planner": "bench_planner.py",
    "analytics": "bench_analytics.py",
    "packs": "bench_packs.py",
    "install": "bench_install.py",
    "faults": "bench_faults.py",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", default=None, choices=sorted(SCRIPTS))
    parser.add_argument("--skip", nargs="*", default=[], choices=sorted(SCRIPTS))
    args = parser.parse_args(argv)
    names = [n for n in (args.only or SCRIPTS) if n not in args.skip]
    failed = []
    for name in names:
        script = BENCH / SCRIPTS[name]
        if not script.exists():
            print(f"== {name}: {script.name} missing", flush=True)
            failed.append(name)
            continue
        print(f"== {name} ({script.name})", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)])
        print(f"== {name}: exit {code} in {time.perf_counter() - start:.1f} s", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

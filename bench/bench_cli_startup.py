"""Whole-process cold start: `continuous --help` versus a minimal two-command Typer app, in the same run.

Target (issue 2): `continuous --help` takes at most 1.3x the minimal app. Runs are interleaved so that machine
load hits both alike; the median is compared. Run: `.venv/bin/python bench/bench_cli_startup.py [--runs N]`;
results go to the "cli_startup" section of bench/results/dsl.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "dsl.json"
MINIMAL_APP = """
import typer

app = typer.Typer(help="Minimal two-command app.", add_completion=False)


@app.command()
def hello(name: str = "world") -> None:
    print(f"hello {name}")


@app.command()
def bye() -> None:
    print("bye")


app()
"""


# An installed package has its .pyc files; without them every run would also compile the sources.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _run(argv: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=ENV)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr}")
    return elapsed


def measure(runs: int) -> dict[str, object]:
    exe = Path(sys.executable).parent / "continuous"
    with tempfile.TemporaryDirectory() as tmp:
        minimal = Path(tmp) / "minimal_app.py"
        minimal.write_text(MINIMAL_APP, encoding="utf-8")
        commands = {
            "continuous": [str(exe), "--help"],
            "minimal_typer": [sys.executable, str(minimal), "--help"],
        }
        for argv in commands.values():  # warm the file cache and write the .pyc files
            _run(argv)
            _run(argv)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, argv in commands.items():
                times[name].append(_run(argv))
    medians = {name: statistics.median(values) for name, values in times.items()}
    ratio = medians["continuous"] / medians["minimal_typer"]
    return {
        "runs": runs,
        "continuous_help_seconds": {
            "median": round(medians["continuous"], 4),
            "min": round(min(times["continuous"]), 4),
        },
        "minimal_typer_seconds": {
            "median": round(medians["minimal_typer"], 4),
            "min": round(min(times["minimal_typer"]), 4),
        },
        "ratio": round(ratio, 3),
        "target_ratio": 1.3,
        "meets_target": ratio <= 1.3,
    }


def write_section(name: str, data: object) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    current[name] = data
    RESULTS.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    result = measure(args.runs)
    print(json.dumps(result, indent=2))
    if not args.no_write:
        write_section("cli_startup", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Tracking-store insert throughput: executions (each with 5 steps, recorded the way the engine records them:
one transaction per call) per second, on SQLite and PostgreSQL, from one process and from 8 concurrent processes.

    .venv/bin/python bench/bench_store.py [--executions N] [--processes P] [--pg-url URL]

Results go to bench/results/store.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "store.json"
DEFAULT_PG = os.environ.get(
    "CONTINUOUS_TEST_POSTGRES_URL", "postgresql+psycopg:///continuous_test?host=/var/run/postgresql"
)
STEPS = 5


def record(url: str, n: int, tag: str) -> float:
    """Record n executions with STEPS steps; returns the seconds spent (store already migrated)."""
    from continuous.store import open_store

    store = open_store(url, auto_upgrade=True)
    try:
        t0 = time.perf_counter()
        for i in range(n):
            eid = store.start_execution(
                "bench-scenario", {"i": i}, worktree=f"/wt/{tag}", branch=tag, executed_by="bench"
            )
            for k in range(1, STEPS + 1):
                sid = store.start_step(eid, k, f"step-{k}")
                store.finish_step(sid, "success", "ok", checkpoint_commit="0" * 40)
            store.finish_execution(eid, "success", artifacts={"files_changed": STEPS})
        return time.perf_counter() - t0
    finally:
        store.close()


def concurrent(url: str, n: int, procs: int) -> float:
    """Fork `procs` children (after the imports, before any connection); each opens its own store, waits for a
    common start time and records n executions. Returns the wall time from that start to the last finish.
    """
    import continuous.store.repository  # noqa: F401  (imported once, before forking)

    start_at = time.time() + 2.0
    children = []
    for i in range(procs):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            code = 0
            try:
                from continuous.store import open_store

                store = open_store(url)
                time.sleep(max(0.0, start_at - time.time()))
                store.close()
                record(url, n, f"p{i}")
                message = f"{time.time()}"
            except BaseException as exc:
                message, code = f"error {type(exc).__name__}: {exc}", 1
            with os.fdopen(w, "w") as fh:
                fh.write(message)
            os._exit(code)
        os.close(w)
        children.append((pid, r))
    ends = []
    for pid, r in children:
        with os.fdopen(r) as fh:
            message = fh.read()
        os.waitpid(pid, 0)
        if message.startswith("error"):
            raise SystemExit(f"child failed: {message}")
        ends.append(float(message))
    return max(ends) - start_at


def pg_schema(base: str) -> tuple[str, str]:
    import psycopg

    schema = "bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    return schema, f"{base}{sep}options={quote(f'-csearch_path={schema}', safe='')}"


def drop_schema(base: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def bench_backend(name: str, url: str, n: int, procs: int) -> dict[str, object]:
    from continuous.store import migrate

    migrate.upgrade(url)
    single = record(url, n, "single")
    per_proc = max(1, n // procs)
    multi = concurrent(url, per_proc, procs)
    out = {
        "backend": name,
        "single_process": {
            "executions": n,
            "seconds": round(single, 3),
            "executions_per_second": round(n / single, 1),
            "rows_per_second": round(n * (1 + STEPS) / single, 1),
        },
        "concurrent": {
            "processes": procs,
            "executions": per_proc * procs,
            "seconds": round(multi, 3),
            "executions_per_second": round(per_proc * procs / multi, 1),
            "note": "wall time from a common start (after imports and connecting) to the last finish",
        },
    }
    print(json.dumps(out))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--executions", type=int, default=1000)
    ap.add_argument("--processes", type=int, default=8)
    ap.add_argument("--pg-url", default=DEFAULT_PG)
    args = ap.parse_args()
    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(bench_backend("sqlite", f"sqlite:///{tmp}/bench.db", args.executions, args.processes))
    try:
        schema, url = pg_schema(args.pg_url)
    except Exception as exc:  # no server: record that instead of a number
        results.append({"backend": "postgresql", "skipped": f"unreachable: {type(exc).__name__}"})
    else:
        try:
            results.append(bench_backend("postgresql", url, args.executions, args.processes))
        finally:
            drop_schema(args.pg_url, schema)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "store insert throughput (execution + 5 steps, one transaction per API call)",
                "machine": {
                    "cpus": os.cpu_count(),
                    "load_average_1m": round(os.getloadavg()[0], 1),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

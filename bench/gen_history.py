"""Seeded synthetic execution history, written straight into a SQLite tracking store.

    python bench/gen_history.py --db /tmp/history.db [--executions 1000000] [--steps 5000000] [--seed 7]

The schema comes from the store's own migrations (`open_store` creates it); rows are then inserted with
sqlite3 `executemany` in large transactions, generated column-wise with numpy, chunk by chunk so memory stays
small. The mix is meant to look like a real year of a monorepo: the built-in scenarios with their object
types, automation levels and manual effort, log-normal durations per scenario, ~88% successes, failures
concentrated on a few steps with realistic error messages (numbers, paths, ids that the failures query
normalises), a growing number of executions per week, and a drift towards the more automated scenarios.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import sys
import time
import uuid
from pathlib import Path

import numpy as np

# id, object type, automation %, manual effort (s), median duration (s), failure rate, relative weight
SCENARIOS: list[tuple[str, str, int, int, float, float, float]] = [
    ("create-table", "database", 90, 1800, 25, 0.06, 14),
    ("modify-schema", "database", 70, 2400, 40, 0.12, 8),
    ("create-view", "database", 85, 1200, 15, 0.05, 4),
    ("add-rls-policy", "database", 80, 1500, 12, 0.08, 5),
    ("generate-types", "database", 100, 600, 8, 0.03, 12),
    ("create-service", "service", 85, 3600, 45, 0.07, 9),
    ("refactor-service", "service", 40, 7200, 120, 0.18, 3),
    ("deprecate-service", "service", 50, 3600, 60, 0.10, 1),
    ("test-service", "service", 95, 900, 90, 0.15, 7),
    ("integrate-service", "service", 60, 5400, 75, 0.14, 3),
    ("create-cli-pipeline", "cli", 85, 2700, 35, 0.06, 3),
    ("add-cli-command", "cli", 90, 1200, 18, 0.05, 6),
    ("migrate-cli-script", "cli", 55, 3600, 50, 0.12, 2),
    ("consolidate-pipelines", "cli", 30, 10800, 150, 0.20, 1),
    ("create-app", "ui", 80, 5400, 70, 0.08, 2),
    ("add-page", "ui", 85, 1800, 30, 0.07, 10),
    ("add-shared-component", "ui", 75, 1500, 25, 0.06, 5),
    ("add-tests", "ui", 90, 1200, 60, 0.10, 8),
    ("create-proxy-server", "proxy", 80, 3600, 40, 0.09, 2),
    ("add-proxy-endpoint", "proxy", 90, 900, 15, 0.05, 7),
    ("consolidate-proxies", "proxy", 35, 7200, 130, 0.22, 1),
    ("add-pnpm-script", "infra", 100, 300, 5, 0.02, 4),
    ("update-dependencies", "infra", 60, 3600, 180, 0.25, 3),
    ("configure-environment", "infra", 70, 1800, 20, 0.08, 2),
    ("setup-monitoring", "infra", 65, 2700, 45, 0.10, 1),
]

STEP_TEMPLATES = [
    "precondition: repository clean",
    "render {obj} files",
    "edit registry",
    "run: pnpm build",
    "validate: files exist",
    "run: tests",
    "update docs",
]

ERRORS = [
    ("run: pnpm build", "src/apps/app-{n}/page.tsx({n},{n}): error TS2322: Type 'string' is not assignable"),
    ("run: pnpm build", "command failed with exit code {n}: pnpm --filter app-{n} build"),
    ("run: tests", "FAIL tests/unit/service_{n}.test.ts > handles {n} items: expected {n} to be {n}"),
    ("precondition: repository clean", "precondition failed: worktree has {n} uncommitted changes"),
    ("validate: files exist", "validation failed: /work/repo/packages/shared/{n}/index.ts missing"),
    ("edit registry", "error: anchor not found in packages/registry/{n}.ts at line {n}"),
    ("render {obj} files", "template error: undefined variable 'name' (execution {uuid})"),
    ("run: pnpm build", "error: port {n} already in use (checkpoint {hex})"),
]

STATUSES = np.array(["success", "failed", "rolled_back", "interrupted", "skipped"])


def _ts_strings(micros: np.ndarray) -> list[str]:
    # "2026-01-05 10:00:00.000000", the text SQLAlchemy writes into SQLite
    text = np.datetime_as_string(micros.astype("datetime64[us]"), unit="us")
    return list(np.char.replace(text, "T", " ").tolist())


def _uuids(rng: np.random.Generator, n: int) -> list[str]:
    raw = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64).view(np.uint64)
    return [str(uuid.UUID(int=(int(a) << 64) | int(b), version=4)) for a, b in raw]


def _message(rng: np.random.Generator, template: str) -> str:
    out = template
    while "{n}" in out:
        out = out.replace("{n}", str(int(rng.integers(1, 5000))), 1)
    out = out.replace("{uuid}", str(uuid.UUID(int=int(rng.integers(0, 2**62)) << 60 | 7, version=4)))
    return out.replace("{hex}", f"{int(rng.integers(0, 2**40)):010x}")


def generate(
    db: Path,
    *,
    executions: int,
    steps: int,
    seed: int,
    chunk: int = 100_000,
    days: int = 364,
    end: dt.datetime | None = None,
) -> dict[str, float]:
    from continuous.store import open_store

    started = time.perf_counter()
    store = open_store(f"sqlite:///{db}")
    store.close()
    rng = np.random.default_rng(seed)
    end = end or dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    start = end - dt.timedelta(days=days)
    start_us = int(start.timestamp() * 1e6)
    span_us = int(days * 86400 * 1e6)

    con = sqlite3.connect(db)
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -262144")
    # bulk load: drop the store's indexes on the two big tables, recreate them from their own DDL at the end
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN "
        "('sys_scenario_executions', 'sys_scenario_step_executions')"
    ).fetchall()
    for name, _sql in indexes:
        con.execute(f'DROP INDEX "{name}"')
    now_text = _ts_strings(np.array([int(end.timestamp() * 1e6)]))[0]
    ids = [s[0] for s in SCENARIOS]
    con.executemany(
        "INSERT OR IGNORE INTO sys_scenarios (id, scenario_id, object_type, name, description, dependencies, "
        "automation_level, estimate_seconds, manual_effort_seconds, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                str(uuid.UUID(int=i + 1, version=4)),
                sid,
                obj,
                sid.replace("-", " ").title(),
                "",
                json.dumps([]),
                auto,
                int(med),
                effort,
                now_text,
                now_text,
            )
            for i, (sid, obj, auto, effort, med, _f, _w) in enumerate(SCENARIOS)
        ],
    )
    con.commit()

    automation = np.array([s[2] for s in SCENARIOS], dtype=np.float64)
    base_w = np.array([s[6] for s in SCENARIOS], dtype=np.float64)
    medians = np.array([s[4] for s in SCENARIOS], dtype=np.float64)
    fail_rate = np.array([s[5] for s in SCENARIOS], dtype=np.float64)
    objs = [s[1] for s in SCENARIOS]
    # every scenario has 4-7 steps; chosen so that the whole history has ~steps/executions steps each
    mean_steps = steps / executions
    n_steps = np.clip(np.round(rng.normal(mean_steps + 0.5, 1.0, len(SCENARIOS))), 3, 7).astype(np.int64)

    # start times: density growing linearly over the year (twice as many executions at the end)
    u = np.sort(rng.random(executions))
    frac = (-1 + np.sqrt(1 + 3 * u)) / 1.0  # inverse CDF of density (1 + x) on [0, 1], scaled
    frac = frac / frac.max()
    starts_all = start_us + (frac * (span_us - 3_600_000_000)).astype(np.int64)

    # per-execution choices for the whole history first (small arrays), so the step total can be made exact
    sc_all = np.empty(executions, dtype=np.int64)
    status_all = np.empty(executions, dtype=np.int64)
    dur_all = np.empty(executions, dtype=np.float64)
    for lo in range(0, executions, chunk):
        hi = min(executions, lo + chunk)
        n = hi - lo
        t = (starts_all[lo:hi] - start_us) / span_us
        # drift towards automated scenarios over time
        w = base_w[None, :] * (1 + np.outer(t, (automation - 60) / 40.0).clip(-0.9, None))
        cdf = (w / w.sum(axis=1, keepdims=True)).cumsum(axis=1)
        sc = (cdf < rng.random(n)[:, None]).sum(axis=1).clip(0, len(SCENARIOS) - 1)
        sc_all[lo:hi] = sc
        dur_all[lo:hi] = medians[sc] * np.exp(rng.normal(0, 0.5, n))
        r = rng.random(n)
        fr = fail_rate[sc] * (1.2 - 0.4 * t)  # failures get rarer as scenarios mature
        status_all[lo:hi] = np.where(
            r < fr * 0.55, 1, np.where(r < fr * 0.9, 2, np.where(r < fr, 3, np.where(r < fr + 0.01, 4, 0)))
        )
    total_all = n_steps[sc_all]
    fail_all = np.where(status_all == 0, total_all, np.floor(rng.random(executions) * total_all).astype(np.int64))
    fail_all = np.where(status_all == 4, 0, fail_all)
    steps_all = np.where(status_all == 0, total_all, np.where(status_all == 4, 0, fail_all + 1))
    # exactly `steps` step rows: successful executions get one step more (a docs update) or one fewer
    diff = steps - int(steps_all.sum())
    ok = np.flatnonzero(status_all == 0)
    if diff and abs(diff) <= len(ok):
        pick = rng.choice(ok, size=abs(diff), replace=False)
        steps_all[pick] += 1 if diff > 0 else -1
        fail_all[pick] = steps_all[pick]

    written_steps = 0
    written_execs = 0
    for lo in range(0, executions, chunk):
        hi = min(executions, lo + chunk)
        n = hi - lo
        starts = starts_all[lo:hi]
        sc = sc_all[lo:hi]
        durations = dur_all[lo:hi]
        status_idx = status_all[lo:hi]
        fail_at = fail_all[lo:hi]
        rows_steps = steps_all[lo:hi]
        ex_ids = _uuids(rng, n)
        completed = starts + (durations * 1e6).astype(np.int64)
        start_txt = _ts_strings(starts)
        end_txt = _ts_strings(completed)
        statuses = STATUSES[status_idx]
        files_created = rng.integers(1, 6, n)
        files_modified = rng.integers(0, 4, n)
        ex_rows = []
        for i in range(n):
            s_i = int(status_idx[i])
            artifacts = (
                (
                    f'{{"files": {{"created": {json.dumps([f"f{j}" for j in range(files_created[i])])}, '
                    f'"modified": {json.dumps([f"m{j}" for j in range(files_modified[i])])}, '
                    f'"deleted": []}}}}'
                )
                if s_i == 0
                else None
            )
            ex_rows.append(
                (
                    ex_ids[i],
                    "scenario",
                    ids[sc[i]],
                    "/work/repo",
                    "main",
                    "bench",
                    '{"name": "item"}',
                    start_txt[i],
                    end_txt[i],
                    str(statuses[i]),
                    artifacts,
                    None if s_i == 0 else "step failed",
                )
            )
        con.executemany(
            "INSERT INTO sys_scenario_executions (id, kind, scenario_id, worktree_path, branch, executed_by, "
            "parameters, started_at, completed_at, status, artifacts, error_details) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ex_rows,
        )
        written_execs += n
        # steps: each execution's duration split at random points
        n_rows = int(rows_steps.sum())
        owner = np.repeat(np.arange(n), rows_steps)
        first = np.cumsum(rows_steps) - rows_steps
        number = np.arange(n_rows) - np.repeat(first, rows_steps)
        share = rng.random(n_rows) + 0.2
        share_sum = np.bincount(owner, weights=share, minlength=n)
        share = share / share_sum[owner]
        has = rows_steps > 0
        global_cum = np.cumsum(share)
        before = np.repeat(global_cum[first[has]] - share[first[has]], rows_steps[has])
        cum_in = global_cum - before
        s_start = starts[owner] + ((cum_in - share) * durations[owner] * 1e6).astype(np.int64)
        s_end = starts[owner] + (cum_in * durations[owner] * 1e6).astype(np.int64)
        s_start_txt = _ts_strings(s_start)
        s_end_txt = _ts_strings(s_end)
        step_ids = _uuids(rng, n_rows)
        failing = (status_idx[owner] != 0) & (number == fail_at[owner])
        step_rows = []
        for k in range(n_rows):
            i = int(owner[k])
            num = int(number[k])
            name = STEP_TEMPLATES[num % len(STEP_TEMPLATES)].replace("{obj}", objs[sc[i]])
            if failing[k]:
                status = "failed"
                matching = [e for e in ERRORS if e[0].replace("{obj}", objs[sc[i]]) == name] or ERRORS[:2]
                output = _message(rng, matching[int(rng.integers(0, len(matching)))][1])
            else:
                status = "success" if status_idx[i] != 2 else "rolled_back"
                output = ""
            step_rows.append((step_ids[k], ex_ids[i], num + 1, name, s_start_txt[k], s_end_txt[k], status, output))
        con.executemany(
            "INSERT INTO sys_scenario_step_executions (id, execution_id, step_number, step_name, started_at, "
            "completed_at, status, output) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            step_rows,
        )
        written_steps += n_rows
        con.commit()
        print(f"  {written_execs:>9} executions, {written_steps:>9} steps", file=sys.stderr, flush=True)
    for _name, sql in indexes:
        con.execute(sql)
    con.commit()
    con.close()
    return {"executions": written_execs, "steps": written_steps, "seconds": time.perf_counter() - started}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--executions", type=int, default=1_000_000)
    ap.add_argument("--steps", type=int, default=5_000_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    if args.db.exists():
        print(f"{args.db} exists; remove it first", file=sys.stderr)
        return 2
    result = generate(args.db, executions=args.executions, steps=args.steps, seed=args.seed)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Forward-chaining benchmark: our Rete core against CLIPS (clipspy) and experta, in one run.

Cases: transitive closure to a fixpoint over a seeded random DAG (each node draws 3 edges to later nodes; the
path count is checked against a plain Python closure) and Miss Manners (the classic OPS5 rules; every seat is
checked, and so is the firing count 1 + 3(N−1) + N(N−1)/2 + N + 1 of the depth strategy).

Every engine × case runs in its own Python process and is timed as a whole process (interpreter start,
imports, rule compilation, run, check), best of --repeat runs; CPU time of the child is reported too because
this machine is shared. Experta is slow (minutes for Manners-64), so by default it only runs the smaller
cases, each with a timeout; nothing is extrapolated.

    .venv/bin/python bench/bench_rules.py          # default cases, writes bench/results/rules.json
    .venv/bin/python bench/bench_rules.py --manners 16,32 --no-experta
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from typing import Any

# The worker processes import only what they measure; the driver's modules are imported in main().
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "manners"))

ENGINES = ("core", "clips", "experta")


# ---------------------------------------------------------------- transitive closure


def dag(n: int, seed: int = 1) -> list[tuple[int, int]]:
    """A random DAG: each node draws 3 edges to uniformly chosen later nodes (duplicates merge: up to 3)."""
    rng = random.Random(seed)
    edges: set[tuple[int, int]] = set()
    for i in range(n - 1):
        for _ in range(3):
            edges.add((i, rng.randrange(i + 1, n)))
    return sorted(edges)


def plain_closure(edges: list[tuple[int, int]], n: int) -> int:
    succ: dict[int, set[int]] = {i: set() for i in range(n)}
    for a, b in edges:
        succ[a].add(b)
    reach: dict[int, set[int]] = {}
    for i in reversed(range(n)):
        r = set(succ[i])
        for j in succ[i]:
            r |= reach[j]
        reach[i] = r
    return sum(len(r) for r in reach.values())


def closure_core(edges: list[tuple[int, int]]) -> tuple[int, int]:
    from continuous.engine.rete import Engine, Pattern, V

    eng = Engine()
    eng.add_rule(
        "base",
        [Pattern("edge", {"from": V("x"), "to": V("y")})],
        lambda a: eng.assert_fact("path", {"from": a["x"], "to": a["y"]}),
    )
    eng.add_rule(
        "step",
        [Pattern("edge", {"from": V("x"), "to": V("y")}), Pattern("path", {"from": V("y"), "to": V("z")})],
        lambda a: eng.assert_fact("path", {"from": a["x"], "to": a["z"]}),
    )
    for a, b in edges:
        eng.assert_fact("edge", {"from": a, "to": b})
    fired = eng.run()
    return fired, len(eng.facts("path"))


def closure_clips(edges: list[tuple[int, int]]) -> tuple[int, int]:
    import clips

    env = clips.Environment()
    env.build("(deftemplate edge (slot from) (slot to))")
    env.build("(deftemplate path (slot from) (slot to))")
    env.build("(defrule base (edge (from ?x) (to ?y)) => (assert (path (from ?x) (to ?y))))")
    env.build("(defrule step (edge (from ?x) (to ?y)) (path (from ?y) (to ?z)) => (assert (path (from ?x) (to ?z))))")
    for a, b in edges:
        env.assert_string(f"(edge (from {a}) (to {b}))")
    fired = env.run()
    return fired, sum(1 for f in env.facts() if f.template.name == "path")


def closure_experta(edges: list[tuple[int, int]]) -> tuple[int, int]:
    from experta import MATCH, Fact, KnowledgeEngine, Rule

    class Edge(Fact):
        pass

    class Path(Fact):
        pass

    fired = {"n": 0}

    class Closure(KnowledgeEngine):
        @Rule(Edge(a=MATCH.x, b=MATCH.y))
        def base(self, x: Any, y: Any) -> None:
            fired["n"] += 1
            self.declare(Path(a=x, b=y))

        @Rule(Edge(a=MATCH.x, b=MATCH.y), Path(a=MATCH.y, b=MATCH.z))
        def step(self, x: Any, z: Any, **_: Any) -> None:
            fired["n"] += 1
            self.declare(Path(a=x, b=z))

    eng = Closure()
    eng.reset()
    for a, b in edges:
        eng.declare(Edge(a=a, b=b))
    eng.run()
    return fired["n"], sum(1 for f in eng.facts.values() if isinstance(f, Path))


# ---------------------------------------------------------------- worker


def worker(engine: str, bench: str, size: int, seed: int) -> dict[str, Any]:
    import manners as m

    t0 = time.perf_counter()
    if bench == "closure":
        edges = dag(size, seed)
        fired, paths = {"core": closure_core, "clips": closure_clips, "experta": closure_experta}[engine](edges)
        expected = plain_closure(edges, size)
        return {
            "firings": fired,
            "result": paths,
            "expected": expected,
            "ok": paths == expected,
            "edges": len(edges),
            "inner_seconds": time.perf_counter() - t0,
        }
    guests = m.generate(size, seed)
    run = {"core": m.run_core, "clips": m.run_clips, "experta": m.run_experta}[engine]
    fired, seats = run(guests, size)
    problems = m.check_seating(guests, seats, size)
    expected = m.expected_firings(size)
    # experta orders equal-salience activations its own way, so only its seating has to be right
    firings_match = fired == expected
    return {
        "firings": fired,
        "expected_firings": expected,
        "firings_match": firings_match,
        "seats_ok": not problems,
        "problems": problems[:3],
        "ok": not problems and (firings_match or engine == "experta"),
        "inner_seconds": time.perf_counter() - t0,
    }


# Workers run as an installed program would: with compiled bytecode cached (outside the repository), even
# where the environment disables writing it.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
_ENV["PYTHONPYCACHEPREFIX"] = os.path.join(os.environ.get("TMPDIR", "/tmp"), "continuous-bench-pycache")


def run_case(engine: str, bench: str, size: int, seed: int, timeout: float | None) -> dict[str, Any]:
    import resource
    import subprocess

    cmd = [sys.executable, os.path.abspath(__file__), "--worker", engine, bench, str(size), str(seed)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, env=_ENV)
    except subprocess.TimeoutExpired:
        return {"engine": engine, "bench": bench, "size": size, "timeout": timeout, "ok": None}
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        return {"engine": engine, "bench": bench, "size": size, "ok": False, "error": proc.stderr[-2000:]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "engine": engine,
        "bench": bench,
        "size": size,
        "seconds": round(seconds, 4),
        "cpu": round(cpu, 4),
        **out,
    }


def best_of(engine: str, bench: str, size: int, seed: int, repeat: int, timeout: float | None) -> dict[str, Any]:
    runs = [run_case(engine, bench, size, seed, timeout) for _ in range(repeat)]
    timed = [r for r in runs if "seconds" in r]
    if not timed:
        return runs[0]
    best = min(timed, key=lambda r: r["seconds"])
    best["runs_seconds"] = [r["seconds"] for r in timed]
    best["cpu"] = min(r["cpu"] for r in timed)
    return best


def sizes(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) == 6 and sys.argv[1] == "--worker":
        w_engine, w_bench, w_size, w_seed = sys.argv[2:]
        print(json.dumps(worker(w_engine, w_bench, int(w_size), int(w_seed))))
        return 0
    import argparse
    import platform
    from pathlib import Path

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", nargs=4, metavar=("ENGINE", "BENCH", "SIZE", "SEED"), help=argparse.SUPPRESS)
    parser.add_argument("--closure", default="200,400", help="closure sizes (nodes)")
    parser.add_argument("--manners", default="16,32,64,128", help="Miss Manners sizes (guests)")
    parser.add_argument("--experta-closure", default="200,400")
    parser.add_argument("--experta-manners", default="16,32")
    parser.add_argument("--experta-timeout", type=float, default=600.0, help="seconds per experta case")
    parser.add_argument("--no-experta", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs per core/CLIPS case (best is kept)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=os.path.join(HERE, "results", "rules.json"))
    args = parser.parse_args(argv)
    if args.worker:
        w_engine, w_bench, w_size, w_seed = args.worker
        print(json.dumps(worker(w_engine, w_bench, int(w_size), int(w_seed))))
        return 0

    plan: list[tuple[str, str, int]] = []
    for bench, own, exp in (
        ("closure", args.closure, args.experta_closure),
        ("manners", args.manners, args.experta_manners),
    ):
        for size in sizes(own):
            plan += [("core", bench, size), ("clips", bench, size)]
        if not args.no_experta:
            plan += [("experta", bench, size) for size in sizes(exp)]
    for engine in sorted({e for e, _, _ in plan}):  # warm the bytecode cache, untimed
        run_case(engine, "closure", 20, args.seed, None)
    results = []
    for engine, bench, size in plan:
        repeat = 1 if engine == "experta" else args.repeat
        timeout = args.experta_timeout if engine == "experta" else None
        r = best_of(engine, bench, size, args.seed, repeat, timeout)
        results.append(r)
        shown = f"{r['seconds']:.3f} s" if "seconds" in r else ("timeout" if "timeout" in r else "error")
        print(f"  {bench:8} {size:4} {engine:8} {shown:>10}  ok={r.get('ok')}", file=sys.stderr, flush=True)

    by = {(r["engine"], r["bench"], r["size"]): r for r in results}
    ratios = []
    for (engine, bench, size), r in by.items():
        if engine != "core" or "seconds" not in r:
            continue
        row: dict[str, Any] = {"bench": bench, "size": size, "core_s": r["seconds"], "core_cpu": r["cpu"]}
        clips_r = by.get(("clips", bench, size))
        if clips_r and "seconds" in clips_r:
            row.update(
                clips_s=clips_r["seconds"],
                ours_over_clips=round(r["seconds"] / clips_r["seconds"], 2),
                ours_over_clips_cpu=round(r["cpu"] / clips_r["cpu"], 2),
            )
        exp_r = by.get(("experta", bench, size))
        if exp_r and "seconds" in exp_r:
            row.update(
                experta_s=exp_r["seconds"],
                experta_over_ours=round(exp_r["seconds"] / r["seconds"], 1),
                experta_over_ours_cpu=round(exp_r["cpu"] / r["cpu"], 1),
            )
        elif exp_r and "timeout" in exp_r:
            row.update(experta_s=f">{exp_r['timeout']}", experta_over_ours=f">{exp_r['timeout'] / r['seconds']:.0f}")
        ratios.append(row)

    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
        },
        "method": "whole process per engine and case (a subprocess each), best of --repeat; experta once",
        "results": results,
        "ratios": ratios,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")

    print(
        f"{'case':14} {'ours s':>8} {'CLIPS s':>8} {'ours/CLIPS':>10} {'(cpu)':>6} {'experta s':>10} "
        f"{'experta/ours':>12}  checks"
    )
    for row in ratios:
        checks = all(
            by[(e, row["bench"], row["size"])].get("ok") in (True, None)
            for e in ENGINES
            if (e, row["bench"], row["size"]) in by
        )
        print(
            f"{row['bench'] + '-' + str(row['size']):14} {row['core_s']:8.3f}"
            f" {row.get('clips_s', float('nan')):8.3f}"
            f" {row.get('ours_over_clips', '-')!s:>10} {row.get('ours_over_clips_cpu', '-')!s:>6}"
            f" {row.get('experta_s', '-')!s:>10} {row.get('experta_over_ours', '-')!s:>12}  "
            f"{'ok' if checks else 'FAILED'}"
        )
    print(f"written to {out}")
    failed = [r for r in results if r.get("ok") is False]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

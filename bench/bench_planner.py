"""Planner accuracy and speed on the labelled evaluation set.

    .venv/bin/python bench/bench_planner.py [--no-speed] [--quick]

Accuracy (against a copy of the example monorepo, so requests can name its apps, services, tables, pipelines):
top-1 accuracy, valid-plan rate (every required scenario present, in the required order), parameter accuracy
and
no-match precision/recall, with every miss listed. Speed, as whole processes of the installed `continuous`
command: a cold suggest (new process, caches on disk), repeated suggests, a batch of 1,000 requests, and the
one-time index build. Writes bench/results/planner.json and bench/results/planner-eval.md.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO / "tests" / "planner" / "eval" / "requests.jsonl"
RESULTS = REPO / "bench" / "results"
EXAMPLE = REPO / "scenarios" / "example-monorepo"
TARGETS = {"top1": 0.92, "valid_plan": 0.90, "false_plans_for_no_match": 0}


def load_eval(path: Path = EVAL) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def example_repo(dest: Path) -> Path:
    """A git worktree holding a copy of the example monorepo."""
    repo = dest / "example"
    if EXAMPLE.exists():
        shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("node_modules"))
    else:
        repo.mkdir(parents=True)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
    }
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "--allow-empty", "-m", "example"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True, env=env, capture_output=True)
    return repo


def is_subsequence(required: list[str], plan: list[str]) -> bool:
    pos = 0
    for sid in required:
        try:
            pos = plan.index(sid, pos) + 1
        except ValueError:
            return False
    return True


def evaluate(cases: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    top1_total = top1_ok = plan_total = plan_ok = param_total = param_ok = 0
    nm_pred = nm_pred_ok = nm_total = nm_found = false_plans = 0
    misses: list[dict[str, Any]] = []
    by_kind: dict[str, list[int]] = {}
    for case, res in zip(cases, results, strict=True):
        plan_ids = [p["scenario"] for p in res["plan"]]
        top = res["matches"][0]["scenario"] if res["matches"] else None
        kind = case.get("kind", "single")
        ok_case = True
        problems = []
        if case["no_match"]:
            nm_total += 1
            if not res["plan"]:
                nm_found += 1
            else:
                false_plans += 1
                ok_case = False
                problems.append(f"false plan {plan_ids}")
        else:
            if case["expected_top1"]:
                top1_total += 1
                if top == case["expected_top1"]:
                    top1_ok += 1
                else:
                    ok_case = False
                    problems.append(f"top-1 {top} (expected {case['expected_top1']})")
            plan_total += 1
            if is_subsequence(case["required_in_order"], plan_ids):
                plan_ok += 1
            else:
                ok_case = False
                problems.append(f"plan {plan_ids} (needs {case['required_in_order']} in order)")
            for sid, expected in case.get("params", {}).items():
                got = next((p["params"] for p in res["plan"] if p["scenario"] == sid), {})
                for name, value in expected.items():
                    param_total += 1
                    if got.get(name) == value:
                        param_ok += 1
                    else:
                        ok_case = False
                        problems.append(f"{sid}.{name}={got.get(name)!r} (expected {value!r})")
        if not res["plan"]:
            nm_pred += 1
            if case["no_match"]:
                nm_pred_ok += 1
        stats = by_kind.setdefault(kind, [0, 0])
        stats[0] += 1
        stats[1] += int(ok_case)
        if not ok_case:
            misses.append({"request": case["request"], "kind": kind, "problems": problems})

    def ratio(a: int, b: int) -> float:
        return round(a / b, 4) if b else 1.0

    return {
        "requests": len(cases),
        "top1": ratio(top1_ok, top1_total),
        "top1_counts": [top1_ok, top1_total],
        "valid_plan": ratio(plan_ok, plan_total),
        "valid_plan_counts": [plan_ok, plan_total],
        "param_accuracy": ratio(param_ok, param_total),
        "param_counts": [param_ok, param_total],
        "no_match_precision": ratio(nm_pred_ok, nm_pred),
        "no_match_recall": ratio(nm_found, nm_total),
        "false_plans_for_no_match": false_plans,
        "by_kind": {k: {"requests": v[0], "fully_right": v[1]} for k, v in sorted(by_kind.items())},
        "misses": misses,
    }


def run_accuracy(workdir: Path) -> tuple[dict[str, Any], float]:
    from continuous.planner.suggest import load_context, suggest_many

    cases = load_eval()
    repo = example_repo(workdir)
    ctx = load_context(repo)
    start = time.perf_counter()
    results = suggest_many([c["request"] for c in cases], ctx, record_errors=True)
    elapsed = time.perf_counter() - start
    return evaluate(cases, results), elapsed


_CPU: list[
    float
] = []  # CPU seconds (user + sys) of the last _timed child: what the command costs, whatever the load


def _timed(cmd: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None) -> float:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    _CPU[:] = [after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime]
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return elapsed


def _timed_cpu(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    wall = _timed(cmd, cwd, env)
    return wall, _CPU[0]


def batch_requests(n: int = 1000) -> list[str]:
    """n distinct requests: the evaluation set plus requests built from templates and nouns."""
    base = [c["request"] for c in load_eval()]
    nouns = [
        "bookmarks",
        "invoices",
        "reminders",
        "audit logs",
        "feature flags",
        "comments",
        "tags",
        "orders",
        "payments",
        "experts",
        "topics",
        "playlists",
        "media files",
        "sessions",
        "reports",
        "alerts",
        "notes",
        "contacts",
        "teams",
        "projects",
    ]
    templates = [
        "create a table for {n}",
        "a service that manages {n}",
        "add a {n} page to dhg-hub",
        "expose {n} through a GET endpoint",
        "add rls to the {n} table",
        "a view summarising {n}",
        "a cli command to export {n}",
        "write tests for the {n} service",
        "show {n} in the hub and store them in a table",
        "deprecate the old {n} service",
        "crete a tabel for {n}",
        "a shared component listing {n}",
    ]
    out = list(base)
    i = 0
    while len(out) < n:
        t = templates[i % len(templates)]
        noun = nouns[(i // len(templates)) % len(nouns)]
        out.append(t.format(n=noun) + ("" if i < len(templates) * len(nouns) else f" v{i}"))
        i += 1
    return out[:n]


def run_speed(workdir: Path) -> dict[str, Any]:
    exe = shutil.which("continuous", path=str(Path(sys.executable).parent)) or "continuous"
    repo = example_repo(workdir / "speed")
    cache = workdir / "fresh-cache"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "XDG_CACHE_HOME": str(cache),
    }
    no_daemon = dict(env, CONTINUOUS_NO_DAEMON="1")
    with_daemon = {k: v for k, v in env.items() if k != "CONTINUOUS_NO_DAEMON"}
    out: dict[str, Any] = {"command": exe}
    suggest = [exe, "suggest", "--json"]
    out["first_run_with_index_build_s"] = round(
        _timed([*suggest, "a table for bookmarks"], repo, no_daemon), 3
    )
    cold_runs = [
        _timed_cpu([*suggest, f"add a page number {k} to dhg-hub"], repo, no_daemon) for k in range(5)
    ]
    colds = [w for w, _ in cold_runs]
    out["cold_suggest_median_s"] = round(statistics.median(colds), 3)
    out["cold_suggest_cpu_median_s"] = round(statistics.median(c for _, c in cold_runs), 3)
    out["cold_suggest_all_s"] = [round(c, 3) for c in colds]
    _timed([*suggest, "start the daemon"], repo, with_daemon)
    sock = cache / "continuous" / "run" / "planner.sock"
    for _ in range(600):
        if sock.exists():
            break
        time.sleep(0.1)
    rep_runs = [_timed_cpu([*suggest, f"a table for thing number {k}"], repo, with_daemon) for k in range(7)]
    reps = [w for w, _ in rep_runs]
    out["repeated_suggest_daemon_client_cpu_median_s"] = round(statistics.median(c for _, c in rep_runs), 3)
    out["repeated_suggest_daemon_median_s"] = round(statistics.median(reps), 3)
    out["repeated_suggest_daemon_all_s"] = [round(r, 3) for r in reps]
    help_runs = [_timed_cpu([exe, "--help"], repo, no_daemon) for _ in range(3)]
    out["continuous_help_median_s"] = round(statistics.median(w for w, _ in help_runs), 3)
    out["continuous_help_cpu_median_s"] = round(statistics.median(c for _, c in help_runs), 3)
    batch = workdir / "batch.txt"
    batch.write_text("\n".join(batch_requests(1000)) + "\n", encoding="utf-8")
    wall, cpu = _timed_cpu([exe, "suggest", "--batch", str(batch), "--json"], repo, no_daemon)
    out["batch_1000_s"] = round(wall, 3)
    out["batch_1000_cpu_s"] = round(cpu, 3)
    out["load_average_1m"] = round(os.getloadavg()[0], 2)
    out["targets"] = {"cold_suggest_s": 1.5, "repeated_suggest_s": 0.3, "batch_1000_s": 10.0}
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(cache)
    try:
        from continuous.planner import daemon

        daemon.stop()
    finally:
        if saved is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = saved
    return out


def write_report(acc: dict[str, Any], speed: dict[str, Any] | None, in_process_s: float) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"accuracy": acc, "speed": speed, "in_process_eval_s": round(in_process_s, 3), "targets": TARGETS}
    (RESULTS / "planner.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# Planner evaluation",
        "",
        f"Evaluation set: `tests/planner/eval/requests.jsonl`, {acc['requests']} requests, planned against a "
        "copy of the example monorepo (`scenarios/example-monorepo`).",
        "",
        "| metric | value | target |",
        "|---|---|---|",
        f"| top-1 accuracy | {acc['top1']:.1%} ({acc['top1_counts'][0]}/{acc['top1_counts'][1]}) | ≥ 92% |",
        f"| valid plans | {acc['valid_plan']:.1%} "
        f"({acc['valid_plan_counts'][0]}/{acc['valid_plan_counts'][1]})"
        " | ≥ 90% |",
        f"| parameter accuracy | {acc['param_accuracy']:.1%} ({acc['param_counts'][0]}/"
        f"{acc['param_counts'][1]}) | — |",
        f"| no-match precision | {acc['no_match_precision']:.1%} | — |",
        f"| no-match recall | {acc['no_match_recall']:.1%} | — |",
        f"| false plans for no-match requests | {acc['false_plans_for_no_match']} | 0 |",
        "",
    ]
    lines += ["| kind | requests | fully right |", "|---|---|---|"]
    lines += [f"| {k} | {v['requests']} | {v['fully_right']} |" for k, v in acc["by_kind"].items()]
    if speed:
        lines += [
            "",
            "## Speed (whole processes of the installed `continuous`, this machine)",
            "",
            f"Load average at the end of the run: {speed['load_average_1m']} on 2 cores (shared machine).",
            "",
            "CPU is user + system time of the process (all threads); a daemon's CPU is not in its client's.",
            "",
            "| measure | wall seconds | CPU seconds | target |",
            "|---|---|---|---|",
            "| first run, index built by sentence-transformers | "
            f"{speed['first_run_with_index_build_s']} | — | — |",
            "| cold `continuous suggest` (new process, no daemon; median of 5) | "
            f"{speed['cold_suggest_median_s']} | {speed['cold_suggest_cpu_median_s']} | < 1.5 |",
            "| repeated `continuous suggest` answered by the warm daemon (median of 7) | "
            f"{speed['repeated_suggest_daemon_median_s']} | "
            f"{speed['repeated_suggest_daemon_client_cpu_median_s']} | < 0.3 |",
            "| `continuous --help`, the CLI start alone (median of 3) | "
            f"{speed['continuous_help_median_s']} | {speed['continuous_help_cpu_median_s']} | — |",
            f"| `continuous suggest --batch` of 1,000 requests | {speed['batch_1000_s']} | "
            f"{speed['batch_1000_cpu_s']} | < 10 |",
        ]
    lines += [
        "",
        f"In-process planning of the whole evaluation set: {in_process_s:.2f} s.",
        "",
        "## Misses",
        "",
    ]
    lines += [f"- `{m['request']}` ({m['kind']}): " + "; ".join(m["problems"]) for m in acc["misses"]] or [
        "none"
    ]
    (RESULTS / "planner-eval.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        acc, elapsed = run_accuracy(Path(tmp))
        speed = None if "--no-speed" in argv else run_speed(Path(tmp))
    write_report(acc, speed, elapsed)
    summary = {
        k: acc[k]
        for k in ("top1", "valid_plan", "param_accuracy", "no_match_precision", "false_plans_for_no_match")
    }
    print(json.dumps({"accuracy": summary, "speed": speed}, indent=2))
    if "--show-misses" in argv:
        for m in acc["misses"]:
            print(f"- {m['request']} ({m['kind']}): " + "; ".join(m["problems"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

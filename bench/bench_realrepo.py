"""Issue 10's four measures on the real monorepo, for every built-in scenario (bench/results/realrepo.json).

`python bench/bench_realrepo.py [--only SCENARIO ...]`: one fresh committed copy of the snapshot per scenario, the
parameters of tests/realrepo/cases.py, the checks of tests/realrepo/measure.py (the realrepo test tier asserts the
same). Needs the snapshot (../shared/fixtures/dhg-mono or CONTINUOUS_REALREPO_FIXTURE), its npm dependencies
(`make realrepo-deps`) and the test PostgreSQL (CONTINUOUS_TEST_POSTGRES_URL, default the local cluster).

The measures, as the issue counts them:
- ran to exit 0: of all cases;
- files landed where the repository keeps them, with no collateral damage: of the cases that ran;
- generated code valid (tsc in the package, SQL on PostgreSQL, bash -n, JSON): of the cases that ran;
- rollback restored the tree exactly: of the cases that produced an execution to roll back.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIER = ROOT / "tests" / "realrepo"
sys.path.insert(0, str(TIER))

from cases import CASES  # noqa: E402
from checks import link_node_modules, scratch_database  # noqa: E402
from measure import measure  # noqa: E402

DEFAULT_PG = "postgresql+psycopg:///continuous_test?host=/var/run/postgresql"


def fixture() -> Path:
    env = os.environ.get("CONTINUOUS_REALREPO_FIXTURE")
    if env:
        return Path(env)
    candidates = [ROOT.parent / "shared" / "fixtures" / "dhg-mono"]
    proc = subprocess.run(
        ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode == 0:
        candidates.append(Path(proc.stdout.strip()).parent.parent / "shared" / "fixtures" / "dhg-mono")
    return next((c for c in candidates if (c / "package.json").is_file()), candidates[0])


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "realrepo.json"))
    args = parser.parse_args(argv)
    source = fixture()
    if not (source / "package.json").is_file():
        print(f"fixture not found at {source}", file=sys.stderr)
        return 2
    deps = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "realrepo-deps.py")],
        check=False,
        env={**os.environ, "CONTINUOUS_REALREPO_FIXTURE": str(source)},
    )
    installed = ROOT / ".cache" / "realrepo" / "installed"
    if deps.returncode != 0 or not (installed / ".complete").is_file():
        print("the fixture's npm dependencies are not installed (make realrepo-deps)", file=sys.stderr)
        return 2
    cases = [c for c in CASES if args.only is None or c.scenario in args.only]
    started = time.monotonic()
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="bench-realrepo-") as tmp:
        work = Path(tmp)
        pristine = work / "pristine" / "dhg-mono"
        shutil.copytree(source, pristine, symlinks=True, ignore=shutil.ignore_patterns("node_modules", ".git"))
        git(pristine, "init", "-q", "-b", "main")
        git(pristine, "-c", "user.email=dev@example.com", "-c", "user.name=Dev", "add", "-A")
        git(pristine, "-c", "user.email=dev@example.com", "-c", "user.name=Dev", "commit", "-q", "-m", "snapshot")
        git(pristine, "config", "user.email", "dev@example.com")
        git(pristine, "config", "user.name", "Dev")
        link_node_modules(pristine, installed)
        server = os.environ.get("CONTINUOUS_TEST_POSTGRES_URL", DEFAULT_PG)
        with scratch_database(server, pristine) as scratch:
            for i, case in enumerate(cases):
                root = work / f"case{i}" / "dhg-mono"
                t = time.monotonic()
                shutil.copytree(pristine, root, symlinks=True)
                env = {
                    **os.environ,
                    "CONTINUOUS_DATABASE_URL": f"sqlite:///{root.parent}/tracking.db",
                    "CONTINUOUS_NO_DAEMON": "1",
                    "HF_HUB_OFFLINE": "1",
                    "TOKENIZERS_PARALLELISM": "false",
                }
                for name in ("CONTINUOUS_TARGET_DATABASE_URL", "CONTINUOUS_TEST_DATABASE_URL"):
                    env.pop(name, None)
                outcome = measure(case, root, pristine, scratch_url=scratch, env=env, installed=installed)
                outcome.seconds["total"] = time.monotonic() - t
                outcomes.append(outcome)
                flags = "".join(
                    m[0].upper() if getattr(outcome, m) else "." for m in ("ran", "placed", "valid", "rolled_back")
                )
                print(f"{flags}  {case.id:<24} {outcome.seconds['total']:6.1f}s", flush=True)
                for measure_name, problems in outcome.problems.items():
                    for p in problems[:3]:
                        print(f"      {measure_name}: {p[:200]}", flush=True)
                shutil.rmtree(root.parent, ignore_errors=True)
    ran = [o for o in outcomes if o.ran]
    with_execution = [o for o in outcomes if o.execution]
    summary = {
        "ran to exit 0": f"{len(ran)} of {len(outcomes)}",
        "files landed where that repository keeps them, with no collateral damage": (
            f"{sum(o.placed for o in ran)} of {len(ran)}"
        ),
        "generated code valid in that repository (tsc in the package, SQL on PostgreSQL, bash -n, JSON)": (
            f"{sum(o.valid for o in ran)} of {len(ran)}"
        ),
        "rollback restored the tree exactly": f"{sum(o.rolled_back for o in with_execution)} of {len(with_execution)}",
    }
    result = {
        "benchmark": "realrepo",
        "fixture": str(source),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "seconds": round(time.monotonic() - started, 1),
        "summary": summary,
        "cases": [o.to_json() for o in outcomes],
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    print(f"wrote {out} in {result['seconds']}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

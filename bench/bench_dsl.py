"""Parse + validate benchmark for the DSL: the built-in library, and a synthetic library of 2,000 scenarios.

Target (issue 2): the 2,000-scenario library parsed and validated in under 1 s. Run: `.venv/bin/python
bench/bench_dsl.py [--scenarios N] [--repeat R]`; results are printed and written to bench/results/dsl.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "dsl.json"

_TEMPLATE = """// {{ name | pascal }} service ({{ kind }})
export const {{ name | camel }}Service = {
  name: "{{ name }}",
  createdAt: "{{ date }}",
};
"""

_SCENARIO = """# synthetic scenario {n}
scenario {sid} {{
  object {obj}
  summary "Synthetic scenario number {n}"
  description "Generated for the parser benchmark; shaped like the built-in library."
  examples "create widget {n}", "make a {obj} thing called {n}"
  automation 80
  estimate 2m
  param name: kebab required position 1 doc "what to call it"
  param kind: enum(business, data, infra) default "business"
  param retries: int default 3
{requires}  unless made_{n}(name: "{{{{ name }}}}")
  precondition exists "packages"
  step "write the service" render "service.ts.j2" to "packages/shared/services/{{{{ name }}}}/index.ts"
  step "register it" edit json "package.json" set "scripts.{{{{ name }}}}" = "node dist/{{{{ name }}}}.js"
  step "type-check" run ["pnpm", "exec", "tsc", "--noEmit"] timeout 5m
  step "document it" doc "docs/services.md" append "- {{{{ name }}}} ({{{{ kind }}}})"
  provides made_{n}(name: "{{{{ name }}}}")
  validate file "packages/shared/services/{{{{ name }}}}/index.ts" contains "export const"
  rollback step "remove it" run ["git", "rm", "-r", "--cached", "packages/shared/services/{{{{ name }}}}"]
}}

"""

OBJECTS = ("service", "cli", "database", "ui", "proxy", "infra")


def synthetic_library(root: Path, count: int, per_file: int = 100) -> Path:
    """Write `count` scenarios (a DAG: each may require an earlier one), `per_file` a file, plus templates."""
    lib = root / "synthetic"
    (lib / "templates").mkdir(parents=True, exist_ok=True)
    (lib / "templates" / "service.ts.j2").write_text(_TEMPLATE, encoding="utf-8")
    chunks: list[str] = []
    for n in range(count):
        requires = ""
        if n % 3 and n > 0:
            dep = (n * 7) % n
            name = '"{{ name }}"'
            requires = f"  requires syn-{dep:05d}(name: {name}) unless made_{dep}(name: {name})\n"
        chunks.append(_SCENARIO.format(sid=f"syn-{n:05d}", n=n, obj=OBJECTS[n % len(OBJECTS)], requires=requires))
        if len(chunks) == per_file or n == count - 1:
            (lib / f"part-{n // per_file:03d}.scn").write_text("".join(chunks), encoding="utf-8")
            chunks = []
    return lib


def _time(fn: object, repeat: int, cpu: list[float] | None = None) -> list[float]:
    """Wall-clock seconds of each run; CPU seconds go to `cpu` (load inflates wall time much more)."""
    out = []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - start)
        if cpu is not None:
            cpu.append(time.process_time() - start_cpu)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenarios", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-write", action="store_true", help="do not write bench/results/dsl.json")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    from continuous.dsl import loader, parser, validate

    parser._lark()
    from continuous.dsl import _lalr_driver as fastparse

    fastparse.tables()
    setup = time.perf_counter() - t0

    def builtin() -> None:
        rb = loader.load_rule_base()
        validate.validate_rule_base(rb)

    builtin_files = loader.library_files(loader.BUILTIN_LIBRARY)
    results: dict[str, object] = {"python": sys.version.split()[0], "setup_seconds": round(setup, 4)}
    rb = loader.load_rule_base()
    results["builtin"] = {
        "files": len(builtin_files),
        "scenarios": len(rb.scenarios),
        "seconds": _summary(_time(builtin, args.repeat)),
    }
    with tempfile.TemporaryDirectory() as tmp:
        lib = synthetic_library(Path(tmp), args.scenarios)
        lines = sum(len(p.read_text().splitlines()) for p in lib.glob("*.scn"))

        def parse_only() -> None:
            loader.load_rule_base([lib], include_builtin=False)

        def synthetic() -> None:
            base = loader.load_rule_base([lib], include_builtin=False)
            problems = validate.validate_rule_base(base)
            assert not problems, problems[:3]

        parse_times = _time(parse_only, args.repeat)
        both_cpu: list[float] = []
        both = _time(synthetic, args.repeat, both_cpu)
        base = loader.load_rule_base([lib], include_builtin=False)
        assert len(base.scenarios) == args.scenarios
        vt = _time(lambda: validate.validate_rule_base(base), args.repeat)
    results["synthetic"] = {
        "scenarios": args.scenarios,
        "lines": lines,
        "parse_seconds": _summary(parse_times),
        "validate_seconds": _summary(vt),
        "parse_and_validate_seconds": _summary(both),
        "parse_and_validate_cpu_seconds": _summary(both_cpu),
        "target_seconds": 1.0,
        "meets_target": min(both) < 1.0,
    }
    results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    results["cpus"] = os.cpu_count()
    print(json.dumps(results, indent=2))
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        current = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
        current["dsl"] = results
        RESULTS.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
    return 0


def _summary(times: list[float]) -> dict[str, float]:
    return {
        "min": round(min(times), 4),
        "median": round(statistics.median(times), 4),
        "max": round(max(times), 4),
    }


if __name__ == "__main__":
    raise SystemExit(main())

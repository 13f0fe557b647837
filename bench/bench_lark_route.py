"""Is lark's own tree-less route fast enough to replace dsl/_lalr_driver.py? (issue 13)

Lark documents `Lark(..., parser="lalr", transformer=T)`: the transformer's callbacks run on every reduce, no tree
is built. It cannot carry the builder as it is: lark refuses `v_args(meta=True)` for such an inline transformer
("Meta args not supported for internal transformer"), and the builder needs each rule's position for the locations
of every model. So this measures the route's lower bound: lark's lexer and LALR parser calling callbacks that only
return their children — no positions, no models — against the driver doing the whole job (models, locations)
and the reference path (lark's tree, then the builder). The driver is also run with the same pass-through
callbacks: the difference is what building the models costs, which the lark route would pay on top of its lower
bound. On the 2,000-scenario library of bench_dsl.py; CPU seconds (machine load inflates wall time), interleaved
rounds, medians.

Run: `.venv/bin/python bench/bench_lark_route.py [--scenarios N] [--rounds R]`; results go to the "lark_route"
section of bench/results/dsl.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dsl import RESULTS, synthetic_library


def _cpu(fn: Callable[[], object]) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.process_time()
        fn()
        return time.process_time() - start
    finally:
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenarios", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    import lark
    from continuous.dsl import _lalr_driver
    from continuous.dsl.parser import GRAMMAR_PATH, _Builder, _lark
    from lark import Lark, Transformer

    reference = _lark()
    names = {r.alias or r.options.template_source or r.origin.name for r in reference.rules}
    passthrough = type(
        "Passthrough", (Transformer,), {n: (lambda self, children: children) for n in names if not n.startswith("_")}
    )
    treeless = Lark(
        GRAMMAR_PATH.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        maybe_placeholders=False,
        transformer=passthrough(),
    )
    with tempfile.TemporaryDirectory() as tmp:
        lib = synthetic_library(Path(tmp), args.scenarios)
        texts = [(str(p), p.read_text(encoding="utf-8")) for p in sorted(lib.glob("*.scn"))]

    def driver() -> None:
        for name, text in texts:
            _lalr_driver.parse(text, _Builder(name, text))

    class PassthroughBuilder:
        pass

    for n in names:
        if not n.startswith("_"):
            setattr(PassthroughBuilder, n, lambda self, meta, children: children)

    def driver_passthrough() -> None:
        for _, text in texts:
            _lalr_driver.parse(text, PassthroughBuilder())

    def lark_treeless() -> None:
        for _, text in texts:
            treeless.parse(text)

    def lark_tree() -> None:
        for name, text in texts:
            _Builder(name, text).transform(reference.parse(text))

    routes: dict[str, Callable[[], None]] = {
        "driver_models_and_locations": driver,
        "driver_passthrough": driver_passthrough,
        "lark_treeless_lower_bound": lark_treeless,
        "lark_tree_then_builder": lark_tree,
    }
    for fn in routes.values():  # warm up: tables, caches, allocator
        fn()
    times: dict[str, list[float]] = {name: [] for name in routes}
    for _ in range(args.rounds):
        for name, fn in routes.items():
            times[name].append(_cpu(fn))
    medians = {name: round(statistics.median(values), 4) for name, values in times.items()}
    driver_s = medians["driver_models_and_locations"]
    building = max(0.0, driver_s - medians["driver_passthrough"])
    lark_at_least = round(medians["lark_treeless_lower_bound"] + building, 4)
    results: dict[str, Any] = {
        "lark": lark.__version__,
        "scenarios": args.scenarios,
        "rounds": args.rounds,
        "cpu_seconds_median": medians,
        "lark_treeless_lower_bound_vs_driver": round(medians["lark_treeless_lower_bound"] / driver_s, 3),
        "lark_tree_then_builder_vs_driver": round(medians["lark_tree_then_builder"] / driver_s, 3),
        "building_models_seconds": round(building, 4),
        "lark_treeless_with_models_at_least_seconds": lark_at_least,
        "lark_treeless_with_models_at_least_vs_driver": round(lark_at_least / driver_s, 3),
        "target_seconds": 1.0,
        "lark_treeless_meets_target": lark_at_least < 1.0,
    }
    print(json.dumps(results, indent=2))
    if not args.no_write:
        current = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
        current["lark_route"] = results
        RESULTS.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

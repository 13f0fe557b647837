"""The rules benchmark script: core and CLIPS run in subprocesses, results are checked, a report written."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_rules", REPO / "bench" / "bench_rules.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_closure_generator_and_plain_closure_agree_with_the_core() -> None:
    b = bench()
    edges = b.dag(50, 3)
    assert all(a < c for a, c in edges)
    assert max(sum(1 for a, _ in edges if a == i) for i in range(50)) <= 3
    fired, paths = b.closure_core(edges)
    assert paths == b.plain_closure(edges, 50)
    assert fired >= paths


def test_small_run_writes_checked_results(tmp_path: Path) -> None:
    pytest.importorskip("clips")
    b = bench()
    out = tmp_path / "rules.json"
    code = b.main(["--closure", "40", "--manners", "8", "--no-experta", "--repeat", "1", "--out", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    engines = {(r["engine"], r["bench"], r["size"]): r for r in report["results"]}
    assert set(engines) == {
        ("core", "closure", 40),
        ("clips", "closure", 40),
        ("core", "manners", 8),
        ("clips", "manners", 8),
    }
    assert all(r["ok"] for r in engines.values())
    assert engines[("core", "manners", 8)]["firings"] == 1 + 3 * 7 + 8 * 7 // 2 + 8 + 1
    assert engines[("core", "closure", 40)]["result"] == engines[("clips", "closure", 40)]["result"]
    assert {row["bench"] for row in report["ratios"]} == {"closure", "manners"}
    assert all(row["ours_over_clips"] > 0 for row in report["ratios"])

"""Dry-run estimates from history: the export if present, else the store, else the DSL's declared estimate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from continuous.analytics.estimates import estimate
from continuous.analytics.export import export
from continuous.dsl.model import Scenario


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_estimate_from_export_then_store_then_dsl(loaded: Any, tmp_path: Path) -> None:
    out = tmp_path / "x"
    # no export yet: the store's scenario_stats (add-page: 4 finished, 3 failed; successes only for durations)
    from_store = estimate("add-page", export_dir=out, store=loaded)
    assert from_store is not None and from_store.source == "history"
    assert from_store.seconds == pytest.approx(40.0) and from_store.risk == "high"
    assert "tracking store" in from_store.reasons[0]
    export(engine=loaded.engine, out=out)
    est = estimate("add-page", export_dir=out, store=loaded)
    assert est is not None and est.source == "history" and "analytics export" in est.reasons[0]
    assert est.seconds == pytest.approx(40.0)  # median of the successful executions
    assert est.executions == 4 and est.failure_rate == pytest.approx(0.75) and est.risk == "high"
    assert any("3 of 4 finished executions failed" in r for r in est.reasons)
    # create-service has one execution: not a history yet; the DSL's estimate answers
    declared = Scenario(
        id="create-service",
        object_type="service",
        summary="s",  # type: ignore[arg-type]
        estimate_seconds=90,
    )
    dsl = estimate("create-service", export_dir=out, store=loaded, scenario=declared)
    assert dsl is not None and (dsl.seconds, dsl.source, dsl.risk) == (90.0, "dsl", "unknown")
    assert estimate("create-service", export_dir=out, store=loaded) is None


def test_estimates_module_is_import_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, continuous.analytics.estimates; "
        "print(sorted(m for m in ('duckdb', 'pyarrow', 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

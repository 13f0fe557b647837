"""Living docs: the catalogue of continuous is committed and current; a target repo gets its inventory."""

from __future__ import annotations

import json
from pathlib import Path

from continuous.dsl.loader import PACKAGE_ROOT, load_rule_base
from continuous.engine.facts import Fact
from continuous.ops.livedocs import (
    STATS_BEGIN,
    build_docs,
    catalogue_markdown,
    graph_markdown,
    inventory_markdown,
    normalise,
    refresh_living_docs,
)


def test_committed_catalogue_of_continuous_is_current(run_cli) -> None:
    proc = run_cli(PACKAGE_ROOT, "docs", "build", "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr + "\nrun `continuous docs build` in the repository"


def test_catalogue_lists_every_scenario_with_params_dependencies_and_graph() -> None:
    rb = load_rule_base()
    text = catalogue_markdown(
        rb,
        {
            "fix-service-index": {
                "executions": 4,
                "successes": 3,
                "failures": 1,
                "median_seconds": 1.5,
                "p90_seconds": 2.0,
            }
        },
    )
    for sid in rb.scenarios:
        assert f"`{sid}`" in text
    assert "`service`: kebab" in text
    assert "| `fix-service-index` | 4 | 75% | 2s | 2s |" in text
    assert normalise(text) == normalise(catalogue_markdown(rb, {}))
    graph = graph_markdown(rb)
    assert graph.count("```mermaid") == 1 and "flowchart LR" in graph
    with_deps = [s for s in rb.scenarios.values() if s.dependencies]
    for sc in with_deps[:5]:
        dep = rb.resolve_id(sc.dependencies[0].scenario).replace("-", "_")
        assert f"{dep} --> {sc.id.replace('-', '_')}" in graph


def test_docs_build_in_a_target_repo_writes_inventory_and_check_detects_staleness(example_repo: Path, run_cli) -> None:
    proc = run_cli(example_repo, "docs", "build", "--check")
    assert proc.returncode == 1 and "stale" in proc.stdout
    proc = run_cli(example_repo, "docs", "build", "--json")
    assert proc.returncode == 0, proc.stderr
    assert set(json.loads(proc.stdout)["written"]) == {"inventory.md", "scenarios.md", "graph.md"}
    out = example_repo / "docs/continuously-updated"
    assert STATS_BEGIN in (out / "scenarios.md").read_text()
    assert run_cli(example_repo, "docs", "build", "--check").returncode == 0
    # a new shared service changes what discovery finds, so the inventory is stale until rebuilt
    svc = example_repo / "packages/shared/services/bookmark-service"
    svc.mkdir(parents=True)
    (svc / "bookmark-service.ts").write_text("export class BookmarkService {}\n")
    (svc / "index.ts").write_text("export * from './bookmark-service';\n")
    rb = load_rule_base()
    result = build_docs(example_repo, rb, check=True)
    inventory_changed = "inventory.md" in result.stale
    written = refresh_living_docs(example_repo, rb)
    assert bool(written) == inventory_changed
    assert build_docs(example_repo, rb, check=True).stale == []


def test_inventory_groups_facts_and_hides_standard_internals() -> None:
    facts = [
        Fact(type="app", fields={"name": "dhg-hub", "port": 5178}, source="apps/dhg-hub/package.json:1"),
        Fact(type="table", fields={"name": "doc_files"}, source="supabase/migrations/x.sql:1"),
        Fact(type="std_port", fields={"port": "1"}, source="a:1"),
    ]
    text = inventory_markdown(facts)
    assert "## app" in text and "## table" in text and "std_port" not in text
    assert "| dhg-hub | 5178 | `apps/dhg-hub/package.json:1` |" in text
    assert text.index("## app") < text.index("## table")

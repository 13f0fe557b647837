"""`continuous check` records one result per standard in the store; the analytics export carries them and
`analytics metrics` computes the standards compliance rate from them (issue 12 §4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from continuous.dsl.loader import load_rule_base
from continuous.store import open_store
from continuous.store.ops_models import OpsDB


@pytest.mark.slow  # create-table runs generate-types with node
def test_check_results_are_recorded_and_give_the_compliance_rate(
    example_repo: Path, commit, invoke, monkeypatch
) -> None:
    standards = sorted(load_rule_base().standards)
    monkeypatch.chdir(example_repo)
    code, out = invoke("run-scenario", "create-table", "notes", "--yes")
    assert code == 0, out
    commit(example_repo, "notes table")
    (example_repo / "scripts/cleanup.sh").write_text("#!/usr/bin/env bash\nrm -rf dist\n")  # a loose file
    commit(example_repo, "loose file")
    code, out = invoke("check", "--json", "-C", str(example_repo))
    violated = {v["standard"] for v in json.loads(out)["violations"]}
    assert "no-loose-files" in violated

    with open_store(repo=example_repo) as store:
        rows = OpsDB(store.engine).list_checks()
    assert sorted(r["standard"] for r in rows) == standards
    by = {r["standard"]: r for r in rows}
    assert by["no-loose-files"]["status"] == "fail" and by["no-loose-files"]["violations"] >= 1
    assert all(by[s]["status"] == "pass" for s in standards if s not in violated)
    assert len({r["check_id"] for r in rows}) == 1 and all(r["worktree"] == str(example_repo) for r in rows)

    (example_repo / "scripts/cleanup.sh").unlink()
    commit(example_repo, "tidy")
    invoke("check", "--json", "-C", str(example_repo))

    code, out = invoke("analytics", "metrics", "--json", "--refresh")
    assert code == 0, out
    metrics = json.loads(out)["metrics"]
    failing_after = len(violated) - 1
    expected = (2 * len(standards) - len(violated) - failing_after) / (2 * len(standards))
    assert abs(metrics["standards_compliance_rate"] - expected) < 1e-3, (metrics, expected)


def test_check_without_a_database_records_nothing(example_repo: Path, invoke) -> None:
    invoke("check", "--no-tasks", "-C", str(example_repo))
    assert not (example_repo / ".git/continuous/continuous.db").exists()

"""`check --fix` runs fixes as real, reversible executions; other violations become dev tasks exactly once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from continuous.dsl.loader import load_rule_base
from continuous.ops.standards import evaluate
from continuous.store import open_store

SEEDS = {
    "packages/shared/services/bookmark-service/bookmark-service.ts": "export class BookmarkService {}\n",
    "supabase/migrations/20250301110000_create_doc_notes.sql": (
        "CREATE TABLE IF NOT EXISTS doc_notes (\n  id UUID PRIMARY KEY,\n  body TEXT\n);\n"
    ),
    "scripts/cleanup.sh": "#!/usr/bin/env bash\nrm -rf dist\n",
    "scripts/cli-pipeline/auth/auth-cli.sh": "#!/usr/bin/env bash\necho auth\n",
}


def _seed(repo: Path, commit) -> None:
    for rel, text in SEEDS.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    commit(repo, "seed")


def _violations(repo: Path) -> set[str]:
    return {v.standard for v in evaluate(load_rule_base(), repo)}


@pytest.mark.slow  # the fixes run generate-types with node
def test_fix_repairs_fixable_violations_as_executions_and_rollback_undoes_one(
    example_repo: Path, commit, invoke
) -> None:
    from continuous.engine.api import ScenarioExecutor

    _seed(example_repo, commit)
    wanted = {"service-index", "types-fresh", "table-registered", "no-loose-files", "cli-tracking"}
    assert wanted <= _violations(example_repo)

    code, out = invoke("check", "--fix", "--json", "-C", str(example_repo))
    assert code == 1  # the unfixable ones remain
    report = json.loads(out)
    fixes = {f["standard"]: f for f in report["fixes"]}
    assert set(fixes) == {"service-index", "types-fresh"}
    assert all(f["status"] == "success" and f["execution_id"] for f in fixes.values()), fixes
    remaining = {v["standard"] for v in report["violations"]}
    assert "service-index" not in remaining and "types-fresh" not in remaining
    assert {"table-registered", "no-loose-files", "cli-tracking"} <= remaining
    index = example_repo / "packages/shared/services/bookmark-service/index.ts"
    assert "export * from './bookmark-service'" in index.read_text()

    with open_store(repo=example_repo) as store:
        ex = store.get_execution(fixes["service-index"]["execution_id"])
        assert ex.status == "success"

    ScenarioExecutor(example_repo).rollback(fixes["service-index"]["execution_id"])
    assert not index.exists()
    assert "service-index" in _violations(example_repo)


def test_unfixable_violations_become_one_task_each_and_close_when_fixed(
    example_repo: Path, commit, invoke, run_cli
) -> None:
    _seed(example_repo, commit)
    code, out = invoke("check", "--json", "-C", str(example_repo))
    assert code == 1
    first = json.loads(out)
    opened = {t["dedup_key"] for t in first["tasks"]["opened"]}
    assert "no-loose-files:scripts/cleanup.sh:1" in opened
    assert "cli-tracking:scripts/cli-pipeline/auth/auth-cli.sh:1" in opened
    assert not any(k.startswith(("service-index:", "types-fresh:")) for k in opened)  # fixable: no task

    code, out = invoke("check", "--json", "-C", str(example_repo))
    second = json.loads(out)
    assert second["tasks"]["opened"] == []
    assert {t["dedup_key"] for t in second["tasks"]["kept"]} == opened
    with open_store(repo=example_repo) as store:
        tasks = store.list_tasks("open", source="check")
        assert sorted(t.dedup_key or "" for t in tasks) == sorted(opened)

    (example_repo / "scripts/cleanup.sh").unlink()
    commit(example_repo, "remove loose file")
    code, out = invoke("check", "--json", "-C", str(example_repo))
    third = json.loads(out)
    assert [t["dedup_key"] for t in third["tasks"]["closed"]] == ["no-loose-files:scripts/cleanup.sh:1"]
    with open_store(repo=example_repo) as store:
        closed = store.list_tasks("closed", source="check")
        assert [t.close_reason for t in closed] == ["violation is gone"]

    repo = str(example_repo)
    code, out = invoke("tasks", "list", "-C", repo)
    assert code == 0 and "[cli-tracking]" in out and "cleanup.sh" not in out
    task_id = next(t for t in third["tasks"]["kept"] if t["dedup_key"].startswith("cli-tracking:"))["id"]
    code, out = invoke("tasks", "show", task_id[:8], "--json", "-C", repo)
    assert json.loads(out)["dedup_key"] == "cli-tracking:scripts/cli-pipeline/auth/auth-cli.sh:1"
    code, out = invoke("tasks", "close", task_id[:8], "--reason", "wontfix", "-C", repo)
    assert code == 0 and "closed" in out
    code, out = invoke("tasks", "list", "--status", "closed", "--json", "-C", repo)
    assert {t["close_reason"] for t in json.loads(out)} == {"violation is gone", "wontfix"}
    proc = run_cli(example_repo, "tasks", "show", "zzzz")
    assert proc.returncode == 2 and "no task" in proc.stderr


def test_check_with_one_standard_closes_only_its_own_tasks(example_repo: Path, commit, invoke) -> None:
    _seed(example_repo, commit)
    invoke("check", "-C", str(example_repo))
    (example_repo / "scripts/cleanup.sh").unlink()
    commit(example_repo, "fix")
    code, out = invoke("check", "-s", "cli-tracking", "--json", "-C", str(example_repo))
    assert json.loads(out)["tasks"]["closed"] == []
    code, out = invoke("check", "-s", "no-loose-files", "--json", "-C", str(example_repo))
    assert code == 0
    closed = [t["dedup_key"] for t in json.loads(out)["tasks"]["closed"]]
    assert closed == ["no-loose-files:scripts/cleanup.sh:1"]

"""The executor end to end on real git repositories: runs, records, checkpoints, refusals, rollback, ports."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from continuous.common.errors import UserError
from continuous.engine.api import ScenarioExecutor
from continuous.engine.executor import Executor, Request
from continuous.store import open_store


def index_bytes(root: Path) -> bytes:
    return (root / ".git" / "index").read_bytes()


def test_service_with_dependency_runs_in_order_and_is_recorded(repo: Path, db_url: str, h) -> None:
    head = h.git(repo, "rev-parse", "HEAD")
    before_index = index_bytes(repo)
    result = ScenarioExecutor(repo).execute("create-service", {"name": "user-prefs"})
    assert result.ok, result.error
    assert [i.scenario for i in result.items] == ["create-table", "create-service"]
    assert result.items[0].params == {"name": "user_prefs"}
    migration = "supabase/migrations/20260301120000_create_user_prefs.sql"
    assert result.artifacts.created == sorted(
        [migration, "docs/services.md", "packages/shared/services/user-prefs-service/user-prefs-service.ts"]
    )
    assert result.artifacts.modified == [
        "config/services.yaml",
        "packages/shared/package.json",
        "packages/shared/services/index.ts",
    ]
    assert result.pending_migrations == [migration]
    assert "- user-prefs\n" in (repo / "config/services.yaml").read_text()
    # HEAD, branch and the user's index are untouched; every step has a checkpoint ref.
    assert h.git(repo, "rev-parse", "HEAD") == head
    assert index_bytes(repo) == before_index
    refs = h.git(repo, "for-each-ref", "--format=%(refname)", f"refs/continuous/{result.execution_id}/").split()
    numbered = [r for r in refs if r.rsplit("/", 1)[-1].isdigit()]
    assert len(numbered) == len(result.checkpoints) == 9
    # the original content of modified files is kept alive by a ref, safe from git gc
    kept = f"refs/continuous/{result.execution_id}/originals"
    originals = h.git(repo, "ls-tree", "-r", "--name-only", kept)
    assert originals.split() == result.artifacts.modified
    last_tree = h.git(repo, "ls-tree", "-r", "--name-only", result.checkpoints[-1])
    assert "packages/shared/services/user-prefs-service/user-prefs-service.ts" in last_tree.split()
    assert h.git(repo, "rev-parse", result.checkpoints[0] + "^") == head
    with open_store(db_url) as store:
        run = store.get_execution(result.execution_id)
        assert run.kind == "run" and run.status == "success" and run.scenario_id == "create-service"
        assert run.worktree == str(repo) and run.branch == "main"
        assert [c.scenario_id for c in run.children] == ["create-table", "create-service"]
        service = run.children[1]
        assert [s.step_name for s in service.steps][:6] == [
            "service class",
            "package export",
            "service list",
            "docs",
            "barrel",
            "check",
        ]
        assert all(s.status == "success" for s in service.steps)
        assert all(s.checkpoint_commit for s in service.steps[:6])
        assert service.steps[-1].step_name == "validate: fact service"
        assert sorted(service.artifacts["files"]["created"]) == sorted(
            ["docs/services.md", "packages/shared/services/user-prefs-service/user-prefs-service.ts"]
        )
        # the store's format: the impact view and analytics average `files_changed`
        files = service.artifacts["files"]
        assert service.artifacts["files_changed"] == sum(len(files[k]) for k in ("created", "modified", "deleted"))
        assert service.artifacts["files_changed"] >= 2
        assert run.children[0].steps[2].output.startswith("PENDING")


def test_dependency_already_satisfied_is_skipped(repo: Path, h) -> None:
    plan = Executor(repo).build_plan([Request("create-service", ("sys-table-definitions",))])
    assert [i.scenario for i in plan.items] == ["create-service"]
    assert plan.skipped[0].scenario == "create-table"


def test_dry_run_changes_nothing_and_predicts_the_real_run(repo: Path, db_url: str, h) -> None:
    before = h.snapshot(repo)
    refs_before = h.git(repo, "for-each-ref")
    objects_before = h.git(repo, "count-objects", "-v")
    report = ScenarioExecutor(repo).plan("create-service", {"name": "billing"})
    assert h.snapshot(repo) == before
    assert h.git(repo, "for-each-ref") == refs_before
    assert h.git(repo, "count-objects", "-v") == objects_before
    assert not Path(db_url.removeprefix("sqlite:///")).exists(), "a dry-run must not create the database"
    assert [s.name for s in report.steps][:3] == ["write migration", "check migration", "apply migration"]
    assert report.systems.tables == ["billing"]
    assert report.systems.services == ["billing"]
    assert report.risk.level in ("medium", "high")
    assert any("SQL migration" in r for r in report.risk.reasons)
    assert report.estimate_seconds is None
    result = ScenarioExecutor(repo).execute("create-service", {"name": "billing"})
    real = {p: "created" for p in result.artifacts.created} | {p: "modified" for p in result.artifacts.modified}
    assert report.files_changed() == real
    # and the predicted bytes are the real bytes
    for effect in report.files:
        added = "".join(
            line[1:]
            for line in effect.diff.splitlines(keepends=True)
            if line.startswith("+") and not line.startswith("+++")
        )
        assert added and added.splitlines()[-1] in (repo / effect.path).read_text()
    again = ScenarioExecutor(repo).plan("create-proxy", {"name": "api"})
    assert again.estimate_seconds is None or again.estimate_seconds >= 0


def test_dry_run_cli_json(repo: Path, h) -> None:
    proc = h.cli(repo, "run-scenario", "create-table", "audit_log", "--dry-run", "--json", check=True)
    data = json.loads(proc.stdout)
    assert data["dry_run"] is True
    assert [f["path"] for f in data["files"]] == ["supabase/migrations/20260301120000_create_audit_log.sql"]
    assert data["files"][0]["diff"].startswith("--- /dev/null\n+++ b/supabase/migrations/")
    assert data["risk"]["level"] == "high"
    human = h.cli(repo, "run-scenario", "create-table", "audit_log", "--dry-run", check=True).stdout
    assert "Nothing has been changed." in human and "Risk: high" in human and "tables     audit_log" in human


def test_failing_validation_rolls_back_and_keeps_unrelated_changes(repo: Path, db_url: str, h) -> None:
    (repo / "README.md").write_text("# my uncommitted edit\n")
    (repo / "notes.txt").write_text("scratch\n")
    h.git(repo, "add", "notes.txt")
    (repo / "notes.txt").write_text("scratch, edited after staging\n")
    before = h.snapshot(repo)
    before_index = index_bytes(repo)
    result = ScenarioExecutor(repo).execute("broken-service", {"name": "oops"})
    assert result.status == "failed"
    assert "validation failed" in (result.error or "")
    assert h.snapshot(repo) == before
    assert index_bytes(repo) == before_index
    with open_store(db_url) as store:
        run = store.get_execution(result.execution_id)
        assert run.status == "failed"
        child = run.children[0]
        assert child.status == "failed"
        names = {s.step_name: s.status for s in child.steps}
        assert names["rollback: rollback note"] == "success"
        assert names["validate: file packages/shared/services/oops-service/missing.ts exists"] == "failed"
        assert store.find_active_run(str(repo)) is None
    # the worktree is free again
    assert ScenarioExecutor(repo).execute("create-table", {"name": "after_failure"}).ok


def test_failing_command_exits_1_and_restores(repo: Path, h) -> None:
    before = h.snapshot(repo)
    proc = h.cli(repo, "run-scenario", "failing-command", "--yes")
    assert proc.returncode == 1, proc.stderr
    assert "exited with 3" in proc.stdout and "boom" in proc.stdout
    assert h.snapshot(repo) == before
    assert not (repo / "docs").exists()


def test_command_changes_are_detected_and_rolled_back(repo: Path, h) -> None:
    before = h.snapshot(repo)
    result = ScenarioExecutor(repo).execute("generate-file")
    assert result.ok
    assert result.artifacts.created == ["gen/out.txt"]
    assert result.artifacts.modified == ["README.md"]
    deleted = ScenarioExecutor(repo).execute("remove-script", {"name": "old"})
    assert deleted.artifacts.deleted == ["scripts/old.sh"]
    assert deleted.artifacts.modified == ["package.json"]
    ScenarioExecutor(repo).rollback(deleted.execution_id)
    ScenarioExecutor(repo).rollback(result.execution_id)
    assert h.snapshot(repo) == before


def test_rollback_refuses_to_overwrite_later_edits(repo: Path, h) -> None:
    result = ScenarioExecutor(repo).execute("create-proxy", {"name": "api", "port": 3050})
    (repo / "config/ports.json").write_text("{}\n")
    with pytest.raises(UserError, match="changed after the run"):
        ScenarioExecutor(repo).rollback(result.execution_id)
    done = ScenarioExecutor(repo).rollback(result.execution_id, force=True)
    assert done.restored == ["config/ports.json"]
    with pytest.raises(UserError, match="already rolled back"):
        ScenarioExecutor(repo).rollback(result.execution_id)


@pytest.mark.parametrize("value", ["x; rm -rf ~", "../../etc", "Name", "x y"])
def test_bad_names_are_only_bad_names(repo: Path, h, value: str) -> None:
    before = h.snapshot(repo)
    proc = h.cli(repo, "run-scenario", "named-thing", value, "--yes")
    assert proc.returncode == 2
    assert "is not a snake_case identifier" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert h.snapshot(repo) == before


@pytest.mark.parametrize("target", ["../escaped.ts", "/tmp/escaped-abs.ts", "link/escaped.ts", ".git/hooks/x"])
def test_rendered_paths_cannot_leave_the_worktree(repo: Path, h, target: str, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "link").symlink_to(outside)
    h.git(repo, "add", "link")
    h.git(repo, "commit", "-qm", "link")
    proc = h.cli(repo, "run-scenario", "write-anywhere", target, "--yes")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "worktree" in proc.stderr or ".git" in proc.stderr
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "escaped.ts").exists() and not Path("/tmp/escaped-abs.ts").exists()


def test_refusals_before_any_change(repo: Path, db_url: str, h, tmp_path: Path) -> None:
    (repo / "packages/shared/services/index.ts").write_text("// SERVICES\n// my work in progress\n")
    before = h.snapshot(repo)
    with pytest.raises(UserError, match=r"uncommitted changes that step .*barrel"):
        ScenarioExecutor(repo).execute("create-service", {"name": "x"})
    assert h.snapshot(repo) == before
    h.git(repo, "checkout", "-q", "--", ".")
    with pytest.raises(UserError, match="needs parameter"):
        ScenarioExecutor(repo).execute("create-service", {})
    with pytest.raises(UserError, match="unknown scenario"):
        ScenarioExecutor(repo).execute("create-servise", {"name": "x"})
    # detached HEAD
    h.git(repo, "checkout", "-q", "--detach")
    with pytest.raises(UserError, match="detached HEAD"):
        ScenarioExecutor(repo).execute("create-table", {"name": "t1"})
    h.git(repo, "checkout", "-q", "main")
    # a merge in progress
    (repo / ".git" / "MERGE_HEAD").write_text(h.git(repo, "rev-parse", "HEAD") + "\n")
    with pytest.raises(UserError, match="a merge is in progress"):
        ScenarioExecutor(repo).execute("create-table", {"name": "t1"})
    (repo / ".git" / "MERGE_HEAD").unlink()
    with open_store(db_url) as store:
        assert store.list_executions() == []
    # not a git repository
    plain = tmp_path / "plain"
    plain.mkdir()
    proc = h.cli(plain, "run-scenario", "create-table", "t1", "--yes")
    assert proc.returncode == 2 and "not inside a git repository" in proc.stderr


def test_second_run_in_the_same_worktree_is_refused(repo: Path, db_url: str, h) -> None:
    first = subprocess.Popen(
        [h.exe, "run-scenario", "slow-step", "--param", "seconds=120", "--yes", "--json"],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lock = repo / ".git" / "continuous" / "run.lock"
        import time

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "starting" in (lock.read_text() if lock.exists() else "starting"):
            time.sleep(0.1)
        second = h.cli(repo, "run-scenario", "create-table", "t2", "--yes")
        assert second.returncode == 2
        assert "another run" in second.stderr and "is active in this worktree" in second.stderr
    finally:
        (repo / ".git" / "release.flag").write_text("go")
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert json.loads(out)["status"] == "success"


def test_concurrent_runs_in_two_worktrees(repo: Path, db_url: str, h, tmp_path: Path) -> None:
    other = tmp_path / "wt2"
    h.git(repo, "worktree", "add", "-q", "-b", "feature", str(other))
    exe = h.exe
    procs = [
        subprocess.Popen(
            [exe, "run-scenario", "create-service", name, "--yes", "--json"],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for cwd, name in ((repo, "alpha"), (other, "beta"))
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    ids = [json.loads(out)["execution_id"] for out, _ in outs]
    assert (repo / "packages/shared/services/alpha-service/alpha-service.ts").exists()
    assert (other / "packages/shared/services/beta-service/beta-service.ts").exists()
    assert not (repo / "packages/shared/services/beta-service").exists()
    with open_store(db_url) as store:
        runs = {r.id: r for r in store.list_executions(kind="run")}
        assert set(ids) <= set(runs)
        assert {(runs[i].worktree, runs[i].branch, runs[i].status) for i in ids} == {
            (str(repo), "main", "success"),
            (str(other.resolve()), "feature", "success"),
        }


def test_commit_option_makes_one_ordinary_commit_of_touched_files(repo: Path, h) -> None:
    (repo / "README.md").write_text("# staged by the user\n")
    h.git(repo, "add", "README.md")
    head = h.git(repo, "rev-parse", "HEAD")
    result = ScenarioExecutor(repo).execute("create-proxy", {"name": "api", "port": 3050}, commit=True)
    assert result.ok and result.commit
    assert h.git(repo, "rev-parse", "HEAD") == result.commit
    assert h.git(repo, "rev-parse", "HEAD^") == head
    assert h.git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["config/ports.json"]
    assert h.git(repo, "diff", "--cached", "--name-only").split() == ["README.md"]


def test_stale_saved_plan_is_refused(repo: Path, h, tmp_path: Path) -> None:
    plan = ScenarioExecutor(repo).frozen_plan("create-table", {"name": "saved_one"})
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan.saved().to_json()))
    ok = h.cli(repo, "run-plan", str(path), "--dry-run", "--json", check=True)
    assert json.loads(ok.stdout)["files"][0]["path"].endswith("_create_saved_one.sql")
    h.write(repo, "other.txt", "x")
    h.git(repo, "add", "other.txt")
    h.git(repo, "commit", "-qm", "move HEAD")
    stale = h.cli(repo, "run-plan", str(path), "--yes")
    assert stale.returncode == 2 and "HEAD is now" in stale.stderr
    data = json.loads(path.read_text())
    data["head"] = h.git(repo, "rev-parse", "HEAD")
    data["rule_base_hash"] = "0000000000000000"
    path.write_text(json.dumps(data))
    moved = h.cli(repo, "run-plan", str(path), "--yes")
    assert moved.returncode == 2 and "scenarios or their templates have changed" in moved.stderr
    data["rule_base_hash"] = plan.rule_base_hash
    path.write_text(json.dumps(data))
    good = h.cli(repo, "run-plan", str(path), "--yes", "--json")
    assert good.returncode == 0, good.stderr
    assert (repo / "supabase/migrations/20260301120000_create_saved_one.sql").exists()


def test_ports_are_allocated_through_the_store_and_released_on_rollback(repo: Path, db_url: str, h) -> None:
    report = ScenarioExecutor(repo).plan("create-proxy", {"name": "api"})
    assert report.items[0].params["port"] == 3000  # 3001 and 3002 are taken in the repository
    result = ScenarioExecutor(repo).execute("create-proxy", {"name": "api"})
    assert result.ports == [3000]
    assert json.loads((repo / "config/ports.json").read_text())["api"] == {"port": 3000}
    second = ScenarioExecutor(repo).execute("create-proxy", {"name": "web"})
    assert second.ports == [3003]
    with open_store(db_url) as store:
        assert [(p.port, p.worktree) for p in store.list_ports()] == [(3000, str(repo)), (3003, str(repo))]
    ScenarioExecutor(repo).rollback(second.execution_id)
    with open_store(db_url) as store:
        assert [p.port for p in store.list_ports()] == [3000]
    given = ScenarioExecutor(repo).execute("create-proxy", {"name": "fixed", "port": 3090})
    assert given.ports == []


def test_execute_chain_shares_dependencies_and_reports_branches(repo: Path, h) -> None:
    ex = ScenarioExecutor(repo)
    chain = [
        {"scenario": "create-service", "params": {"name": "prefs"}},
        {"scenario": "create-table", "params": {"name": "prefs"}},
        {"scenario": "create-proxy", "params": {"name": "prefs-api", "port": 3040}},
    ]
    report = ex.plan(chain)
    assert [i.scenario for i in report.items] == ["create-table", "create-service", "create-proxy"]
    assert len(report.branches) == 2
    result = ex.execute_chain(chain)
    assert result.ok
    assert sorted(result.branches) == [[0, 1], [2]]
    assert [i.scenario for i in result.items] == ["create-table", "create-service", "create-proxy"]
    assert len(list((repo / "supabase/migrations").glob("*_create_prefs.sql"))) == 1


def test_status_command_and_json_execution_id(repo: Path, h) -> None:
    run = h.cli(repo, "run-scenario", "create-table", "status_demo", "--yes", "--json", check=True)
    execution_id = json.loads(run.stdout)["execution_id"]
    status = json.loads(h.cli(repo, "scenario-status", execution_id, "--json", check=True).stdout)
    assert status["id"] == execution_id and status["status"] == "success"
    assert status["children"][0]["scenario_id"] == "create-table"
    human = h.cli(repo, "scenario-status", execution_id[:8], check=True).stdout
    assert "write migration: success @" in human
    missing = h.cli(repo, "scenario-status", "ffffffff")
    assert missing.returncode == 2 and "no execution" in missing.stderr


def test_rollback_via_cli_restores_byte_for_byte(repo: Path, h) -> None:
    (repo / "notes.txt").write_text("mine\n")
    before = h.snapshot(repo)
    run = json.loads(h.cli(repo, "run-scenario", "create-service", "gamma", "--yes", "--json", check=True).stdout)
    assert h.snapshot(repo) != before
    proc = h.cli(repo, "rollback", run["execution_id"], check=True)
    assert "rolled back" in proc.stdout
    assert h.snapshot(repo) == before


def test_index_changes_made_by_commands_are_undone(repo: Path, h) -> None:
    (repo / "README.md").write_text("# staged by the user\n")
    h.git(repo, "add", "README.md")
    before = h.snapshot(repo)
    status_before = h.git(repo, "status", "--porcelain")
    result = ScenarioExecutor(repo).execute("move-script")
    assert result.ok
    assert result.artifacts.created == ["scripts/moved.sh"] and result.artifacts.deleted == ["scripts/old.sh"]
    assert "R  scripts/old.sh -> scripts/moved.sh" in h.git(repo, "status", "--porcelain")
    ScenarioExecutor(repo).rollback(result.execution_id)
    assert h.snapshot(repo) == before
    assert h.git(repo, "status", "--porcelain") == status_before


def test_run_killed_before_its_first_step_can_be_cleared(repo: Path, db_url: str, h) -> None:
    dead = subprocess.run(["python3", "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with open_store(db_url) as store:
        run_id = store.start_execution("create-table", {"name": "x"}, kind="run", worktree=str(repo), branch="main")
    lock = repo / ".git" / "continuous" / "run.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(json.dumps({"execution_id": f"starting-{dead.stdout.strip()}", "pid": int(dead.stdout)}))
    with pytest.raises(UserError, match="recorded as running"):
        ScenarioExecutor(repo).execute("create-table", {"name": "after_crash"})
    cleared = ScenarioExecutor(repo).rollback(run_id)
    assert cleared.status == "rolled_back" and cleared.restored == []
    assert ScenarioExecutor(repo).execute("create-table", {"name": "after_crash"}).ok
    with open_store(db_url) as store:
        assert store.get_execution(run_id).status == "interrupted"


@pytest.mark.postgres
def test_runs_are_recorded_in_postgresql(repo: Path, pg_schema_url: str, monkeypatch: pytest.MonkeyPatch, h) -> None:
    pg_url = pg_schema_url  # a schema of its own: the shared database's public schema is left alone
    monkeypatch.setenv("CONTINUOUS_DATABASE_URL", pg_url)
    before = h.snapshot(repo)
    ok = ScenarioExecutor(repo).execute("create-service", {"name": "pg-backed"})
    failed = ScenarioExecutor(repo).execute("broken-service", {"name": "pg-broken"})
    assert ok.ok and failed.status == "failed"
    with open_store(pg_url) as store:
        run = store.get_execution(ok.execution_id)
        assert run.status == "success" and [c.scenario_id for c in run.children] == [
            "create-table",
            "create-service",
        ]
        assert all(s.checkpoint_commit for c in run.children for s in c.steps if not s.step_name.startswith("validate"))
        assert store.get_execution(failed.execution_id).status == "failed"
        assert store.find_active_run(str(repo)) is None
    ScenarioExecutor(repo).rollback(ok.execution_id)
    assert h.snapshot(repo) == before


def test_nothing_to_do_is_recorded_as_skipped(repo: Path, db_url: str, h) -> None:
    before = h.snapshot(repo)
    proc = h.cli(repo, "run-scenario", "create-table", "sys_table_definitions", "--yes", "--json", check=True)
    data = json.loads(proc.stdout)
    assert data["status"] == "skipped" and "already holds" in data["error"]
    assert h.snapshot(repo) == before
    with open_store(db_url) as store:
        assert store.get_execution(data["execution_id"]).status == "skipped"


def test_a_saved_plan_keeps_order_after_and_groups(repo: Path, tmp_path: Path) -> None:
    from continuous.engine.executor import Executor, Request
    from continuous.engine.plan import load_saved_plan

    ex = Executor(repo)
    try:
        plan = ex.build_plan(
            [Request("create-table", params={"name": "kept_one"}), Request("create-proxy", params={"name": "apart"})]
        )
        path = tmp_path / "plan.json"
        plan.saved().write(path)
        again = ex.plan_from_saved(load_saved_plan(path))
    finally:
        ex.close()
    assert [(i.scenario, i.after, i.group) for i in again.items] == [(i.scenario, i.after, i.group) for i in plan.items]
    assert again.groups() == plan.groups() and len(plan.groups()) > 1


def test_a_run_makes_the_worktree_s_state_read_git_again(repo: Path) -> None:
    # inside a command the worktree's git status is shared; a run changes the worktree, so it is read again
    from continuous.common import worktree_state

    with worktree_state.memoised():
        before = worktree_state.state(repo, [], "t")
        result = Executor(repo).run(Executor(repo).build_plan([Request("create-table", ("bookmarks",))]))
        assert result.ok, result.error
        assert worktree_state.state(repo, [], "t") != before

"""The repository API the engine, planner and operations use, on both backends."""

from __future__ import annotations

import pytest
from continuous.common.errors import UserError
from continuous.dsl.model import RenderStep, RuleBase, Scenario
from continuous.store.repository import TrackingStore


def _rb(**scenarios: Scenario) -> RuleBase:
    return RuleBase(scenarios=scenarios)


def _sc(sid: str, summary: str = "s", automation: int = 0) -> Scenario:
    return Scenario(id=sid, object_type="service", summary=summary, automation=automation)


def test_run_with_children_and_steps(store: TrackingStore) -> None:
    run = store.start_execution(
        None,
        {},
        kind="run",
        worktree="/wt/a",
        branch="main",
        executed_by="dev",
        plan={"items": [{"scenario": "create-table"}]},
        rule_base_hash="abc",
        head_commit="deadbeef",
    )
    child = store.start_execution(
        "create-table",
        {"name": "bookmarks"},
        worktree="/wt/a",
        branch="main",
        executed_by="dev",
        parent_id=run,
    )
    assert store.find_active_run("/wt/a") is not None
    assert store.find_active_run("/wt/b") is None
    for n in (1, 2):
        step = store.start_step(child, n, f"step {n}")
        store.finish_step(step, "success", output=f"out {n}", checkpoint_commit=f"c{n}")
    store.update_execution(child, checkpoints=[{"step": 1, "commit": "c1"}, {"step": 2, "commit": "c2"}])
    store.finish_execution(child, "success", artifacts={"files": {"created": ["a.sql"], "modified": []}})
    store.finish_execution(run, "success")
    assert store.find_active_run("/wt/a") is None

    got = store.get_execution(run[:8])
    assert got.id == run and got.kind == "run" and got.scenario_id is None
    assert got.plan == {"items": [{"scenario": "create-table"}]}
    assert (got.rule_base_hash, got.head_commit, got.worktree, got.branch) == (
        "abc",
        "deadbeef",
        "/wt/a",
        "main",
    )
    assert [c.id for c in got.children] == [child]
    kid = got.children[0]
    assert kid.parameters == {"name": "bookmarks"}
    assert [(s.step_number, s.status, s.output, s.checkpoint_commit) for s in kid.steps] == [
        (1, "success", "out 1", "c1"),
        (2, "success", "out 2", "c2"),
    ]
    assert kid.checkpoints == [{"step": 1, "commit": "c1"}, {"step": 2, "commit": "c2"}]
    assert kid.artifacts == {"files": {"created": ["a.sql"], "modified": []}}
    assert kid.completed_at is not None and kid.duration_seconds is not None and kid.duration_seconds >= 0
    assert kid.started_at.tzinfo is not None


def test_list_filters_and_order(store: TrackingStore) -> None:
    ids = []
    for i, (sid, wt, status) in enumerate(
        [
            ("a", "/w1", "success"),
            ("b", "/w1", "failed"),
            ("a", "/w2", "rolled_back"),
            ("a", "/w2", "success"),
        ]
    ):
        eid = store.start_execution(sid, {"i": i}, worktree=wt)
        store.finish_execution(eid, status, error_details="boom" if status != "success" else None)
        ids.append(eid)
    assert [e.id for e in store.list_executions()] == ids[::-1]
    assert [e.id for e in store.list_executions(scenario_id="a")] == [ids[3], ids[2], ids[0]]
    assert [e.id for e in store.list_executions(status="failed")] == [ids[1]]
    assert [e.id for e in store.list_executions(worktree="/w2", scenario_id="a", status="success")] == [ids[3]]
    assert len(store.list_executions(limit=2)) == 2
    assert store.list_executions(kind="run") == []
    first = store.get_execution(ids[0])
    assert [e.id for e in store.list_executions(since=first.started_at)] == ids[::-1]
    assert store.get_execution(ids[1]).error_details == "boom"


def test_scenario_stats(store: TrackingStore) -> None:
    assert store.scenario_stats("x").executions == 0
    assert store.scenario_stats("x").median_seconds is None
    for status in ("success", "success", "failed", "rolled_back"):
        eid = store.start_execution("x", {})
        store.finish_execution(eid, status)
    store.start_execution("x", {})  # still running: not counted
    stats = store.scenario_stats("x")
    assert (stats.executions, stats.successes, stats.failures) == (4, 2, 2)
    assert stats.median_seconds is not None and stats.p90_seconds is not None
    assert 0 <= stats.median_seconds <= stats.p90_seconds < 60


def test_bad_ids_and_statuses(store: TrackingStore) -> None:
    with pytest.raises(UserError, match="no execution"):
        store.get_execution("00000000-0000-0000-0000-000000000000")
    with pytest.raises(UserError, match="no execution"):
        store.get_execution("not-an-id")
    with pytest.raises(UserError, match="no execution"):
        store.update_execution("00000000-0000-0000-0000-000000000000", status="failed")
    eid = store.start_execution("x", {})
    with pytest.raises(ValueError, match="unknown execution status"):
        store.finish_execution(eid, "great")
    with pytest.raises(ValueError):
        store.start_execution("x", {}, kind="other")


def test_ports(store: TrackingStore) -> None:
    assert store.allocate_port("hub", "/w1", low=4000, high=4002) == 4000
    assert store.allocate_port("hub", "/w1", low=4000, high=4002) == 4000  # same owner+worktree: same port
    assert store.allocate_port("hub", "/w2", low=4000, high=4002) == 4001
    assert store.allocate_port("api", "/w1", low=4000, high=4002, preferred=4002) == 4002
    with pytest.raises(UserError, match="no free port in 4000-4002"):
        store.allocate_port("admin", "/w1", low=4000, high=4002)
    store.release_port(4001)
    assert store.allocate_port("admin", "/w1", low=4000, high=4002) == 4001
    assert [(p.port, p.owner, p.worktree) for p in store.list_ports()] == [
        (4000, "hub", "/w1"),
        (4001, "admin", "/w1"),
        (4002, "api", "/w1"),
    ]


def test_tasks_dedup_and_close(store: TrackingStore) -> None:
    eid = store.start_execution("x", {})
    t1 = store.create_task(
        "fix index.ts",
        "missing export",
        source="check",
        worktree="/w",
        execution_id=eid,
        dedup_key="std:index:svc",
    )
    t2 = store.create_task("fix index.ts", source="check", dedup_key="std:index:svc")
    assert t1.id == t2.id and t1.status == "open" and t1.execution_id == eid
    other = store.create_task("another", source="run")
    assert [t.id for t in store.list_tasks("open")] == [t1.id, other.id]
    closed = store.close_task(t1.id[:8], "fixed")
    assert (closed.status, closed.close_reason) == ("closed", "fixed") and closed.closed_at is not None
    assert store.get_task(t1.id).status == "closed"
    t3 = store.create_task("fix index.ts", source="check", dedup_key="std:index:svc")  # reopened as a new task
    assert t3.id != t1.id
    assert [t.id for t in store.list_tasks("closed")] == [t1.id]
    with pytest.raises(UserError, match="no task"):
        store.get_task("ffffffff")


def test_archive_items(store: TrackingStore) -> None:
    aid = store.archive_item(
        "code", "apps/old/.archived_2026-01-01", reason="unused", archived_by="dev", metadata={"files": 3}
    )
    [item] = store.list_archived()
    assert (item.id, item.item_type, item.reason, item.metadata, item.restored_at) == (
        aid,
        "code",
        "unused",
        {"files": 3},
        None,
    )
    restored = store.mark_restored(aid[:8])
    assert restored.restored_at is not None
    assert store.list_archived(include_restored=False) == []


def test_registry_sync_is_idempotent_and_archives(store: TrackingStore) -> None:
    rb = _rb(**{"create-table": _sc("create-table", "Create a table"), "add-page": _sc("add-page")})
    first = store.sync_registry(rb)
    assert (first.added, first.changed, first.unchanged, first.archived) == (
        ["add-page", "create-table"],
        [],
        [],
        [],
    )
    again = store.sync_registry(rb)
    assert (again.added, again.changed, again.unchanged, again.archived) == (
        [],
        [],
        ["add-page", "create-table"],
        [],
    )
    assert {s.scenario_id: s.name for s in store.list_scenarios()} == {
        "add-page": "s",
        "create-table": "Create a table",
    }

    # a step added to create-table; add-page gone from the DSL
    changed = Scenario(
        id="create-table",
        object_type="database",
        summary="Create a table",
        automation=90,
        steps=(RenderStep(name="sql", template="t.sql.j2", to="x.sql"),),
    )
    eid = store.start_execution("add-page", {})
    report = store.sync_registry(_rb(**{"create-table": changed}))
    assert (report.added, report.changed, report.unchanged, report.archived) == (
        [],
        ["create-table"],
        [],
        ["add-page"],
    )
    assert [s.scenario_id for s in store.list_scenarios()] == ["create-table"]
    assert {s.scenario_id for s in store.list_scenarios(include_archived=True)} == {
        "create-table",
        "add-page",
    }
    [archived] = store.list_archived(item_type="scenario")
    assert (archived.item_path, archived.restored_at) == ("add-page", None)
    assert archived.metadata is not None and archived.metadata["name"] == "s"
    assert store.get_execution(eid).scenario_id == "add-page"  # history kept, nothing deleted
    [row] = [s for s in store.list_scenarios() if s.scenario_id == "create-table"]
    assert (row.object_type, row.automation_level) == ("database", 90)

    # archiving is idempotent too, and a scenario that comes back is restored
    assert store.sync_registry(_rb(**{"create-table": changed})).archived == []
    back = store.sync_registry(_rb(**{"create-table": changed, "add-page": _sc("add-page")}))
    assert back.restored == ["add-page"] and back.unchanged == ["add-page", "create-table"]
    assert store.list_archived(item_type="scenario")[0].restored_at is not None


def test_unsynced_scenario_gets_a_placeholder_row(store: TrackingStore) -> None:
    store.start_execution("never-synced", {})
    [row] = store.list_scenarios()
    assert (row.scenario_id, row.object_type) == ("never-synced", "unknown")
    report = store.sync_registry(_rb(**{"never-synced": _sc("never-synced", "Now known")}))
    assert report.changed == ["never-synced"]
    assert store.list_scenarios()[0].object_type == "service"

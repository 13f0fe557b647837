"""Archiving: dated .archived_* destinations, a recorded checkpointed execution, byte-for-byte restore."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from continuous.ops.archive import destination
from continuous.store import open_store


def test_destinations_follow_the_monorepo_convention() -> None:
    day = date(2026, 11, 26)
    assert destination("scripts/cli-pipeline/x/foo.ts", False, day) == (
        "scripts/cli-pipeline/x/.archived_scripts/foo.2026-11-26.ts",
        "script",
    )
    assert destination("apps/dhg-hub", True, day) == ("apps/.archived_apps/dhg-hub.20261126", "app")
    assert destination("docs/technical-specs/old-spec.md", False, day) == (
        "docs/technical-specs/.archive_docs/old-spec.2026-11-26.md",
        "doc",
    )
    assert destination("packages/shared/services/old-service", True, day) == (
        "packages/shared/services/.archived_services/old-service.20261126",
        "directory",
    )


def test_archive_and_restore_round_trip_byte_for_byte(example_repo: Path, commit, run_cli, invoke) -> None:
    script = example_repo / "scripts/cli-pipeline/google_sync/list-files.ts"
    blob = b"\x00\xffbinary\r\nand text\n" + bytes(range(256))
    script.write_bytes(blob)
    app_files = {
        p.relative_to(example_repo): p.read_bytes()
        for p in (example_repo / "apps/dhg-admin-code").rglob("*")
        if p.is_file()
    }
    commit(example_repo, "binary content")

    proc = run_cli(
        example_repo,
        "archive",
        "scripts/cli-pipeline/google_sync/list-files.ts",
        "apps/dhg-admin-code",
        "--reason",
        "replaced",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "success"
    moved = {i["path"]: i["archived_path"] for i in out["items"]}
    assert moved["apps/dhg-admin-code"].startswith("apps/.archived_apps/dhg-admin-code.")
    archived_script = example_repo / moved["scripts/cli-pipeline/google_sync/list-files.ts"]
    assert archived_script.parent.name == ".archived_scripts"
    assert archived_script.read_bytes() == blob and not script.exists()

    with open_store(repo=example_repo) as store:
        items = store.list_archived()
        assert {i.item_path for i in items} == set(moved)
        assert all(i.reason == "replaced" and i.execution_id == out["execution_id"] for i in items)
        run = store.get_execution(out["execution_id"])
        assert run.status == "success"

    for item in out["items"]:
        code, text = invoke("archive", "restore", item["id"][:8], "-C", str(example_repo))
        assert code == 0, text
    assert script.read_bytes() == blob
    for rel, content in app_files.items():
        assert (example_repo / rel).read_bytes() == content
    code, text = invoke("archive", "list", "--json", "-C", str(example_repo))
    assert all(i["restored_at"] for i in json.loads(text))
    code, text = invoke("archive", "restore", out["items"][0]["id"][:8], "-C", str(example_repo))
    assert code == 2 and "already restored" in text


def test_archive_refuses_outside_dirty_untracked_and_missing_paths(
    example_repo: Path, tmp_path: Path, invoke, monkeypatch
) -> None:
    monkeypatch.chdir(example_repo)
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("x")
    code, out = invoke("archive", str(outside), "--reason", "x")
    assert code == 2 and "outside the worktree" in out
    code, out = invoke("archive", "../elsewhere.txt", "--reason", "x")
    assert code == 2 and "outside the worktree" in out
    (example_repo / "package.json").write_text("{}\n")
    code, out = invoke("archive", "package.json", "--reason", "x")
    assert code == 2 and "uncommitted changes" in out
    (example_repo / "new.txt").write_text("x")
    code, out = invoke("archive", "new.txt", "--reason", "x")
    assert code == 2 and "not tracked" in out
    code, out = invoke("archive", "no-such-file.ts", "--reason", "x")
    assert code == 2 and "no such file" in out
    code, out = invoke("archive", "CLAUDE.md")
    assert code == 2 and "--reason" in out
    assert (example_repo / "CLAUDE.md").exists()
    with open_store(repo=example_repo) as store:
        assert store.list_archived() == []
        assert store.list_executions() == []


def test_archive_table_writes_the_schema_migration(example_repo: Path, invoke) -> None:
    repo = str(example_repo)
    code, out = invoke("archive", "table", "doc_files", "--reason", "superseded", "--json", "-C", repo)
    assert code == 0, out
    assert json.loads(out)["status"] == "success"
    migrations = sorted((example_repo / "supabase/migrations").glob("*_archive_doc_files*.sql"))
    assert [m.name.endswith("_down.sql") for m in migrations] == [False, True]
    up = migrations[0].read_text()
    assert "CREATE SCHEMA IF NOT EXISTS archived;" in up
    assert "ALTER TABLE IF EXISTS public.doc_files SET SCHEMA archived;" in up
    assert "SET SCHEMA public" in migrations[1].read_text()
    code, out = invoke("archive", "table", "Bad-Name", "--reason", "x", "-C", str(example_repo))
    assert code == 2 and "not a table name" in out


def test_archive_list_tells_the_truth_after_both_executions_were_rolled_back(
    example_repo: Path, invoke, monkeypatch
) -> None:
    """Archive, restore, roll the restore back (archived again), roll the archiving back (never archived)."""
    monkeypatch.chdir(example_repo)
    code, text = invoke("archive", "CLAUDE.md", "--reason", "outdated", "--json", "-C", str(example_repo))
    assert code == 0, text
    archived = json.loads(text)
    code, text = invoke("archive", "restore", archived["items"][0]["id"][:8], "--json", "-C", str(example_repo))
    assert code == 0, text
    restored = json.loads(text)

    def listed() -> str:
        code, text = invoke("archive", "list", "-C", str(example_repo))
        assert code == 0, text
        return text

    assert "[restored" in listed()
    code, text = invoke("rollback", restored["execution_id"], "--json")
    assert code == 0, text
    assert "[archived]" in listed() and "restored" not in listed()
    code, text = invoke("rollback", archived["execution_id"], "--json")
    assert code == 0, text
    text = listed()
    assert "restored" not in text and "[archiving rolled back]" in text
    assert (example_repo / "CLAUDE.md").exists()
    code, text = invoke("archive", "restore", archived["items"][0]["id"][:8], "-C", str(example_repo))
    assert code == 2 and "rolled back" in text

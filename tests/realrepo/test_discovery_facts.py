"""Defect 8: discovery reports no false facts on the real monorepo, and `continuous check` no false errors.

Each check reads the snapshot independently of the library (plain file reads) and compares.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .conftest import cli, git


def facts(root: Path, fact_type: str) -> list[dict[str, object]]:
    proc = cli(root, "facts", "--type", fact_type, "--json")
    assert proc.returncode == 0, proc.stderr
    return [f["fields"] for f in json.loads(proc.stdout)]


def test_hidden_archive_folders_are_not_services(real_repo: Path) -> None:
    hidden = [p.name for p in (real_repo / "packages/shared/services").iterdir() if p.name.startswith(".")]
    assert hidden, "the snapshot keeps archived code in hidden folders"
    names = {f["name"] for f in facts(real_repo, "service")}
    assert names and not {n for n in names if str(n).startswith(".")}


def test_sql_comments_are_not_views(real_repo: Path) -> None:
    words = set()
    for path in (real_repo / "supabase/migrations").glob("*.sql"):
        for comment in re.findall(r"--([^\n]*)", path.read_text()):
            words |= set(re.findall(r"(?i)\bview\s+(\w+)", comment))
    views = {f["name"] for f in facts(real_repo, "view")}
    assert words - views, "the snapshot's comments mention views"
    assert not {"for", "backup", "of", "to"} & views


def test_every_row_of_a_registry_insert_registers_its_table(real_repo: Path) -> None:
    rows = set()
    for path in (real_repo / "supabase/migrations").glob("*.sql"):
        if path.name.endswith("_down.sql"):
            continue
        for block in re.findall(r"INSERT INTO sys_table_definitions[^;]*", path.read_text()):
            rows |= set(re.findall(r"\(\s*'public',\s*'([a-z0-9_]+)'", block))
    assert len(rows) > 70
    registered = {f["name"] for f in facts(real_repo, "table_registered")}
    assert rows <= registered


def test_hard_coded_and_vite_ports_are_facts(real_repo: Path) -> None:
    ports = {(str(f["number"]), str(f["file"])) for f in facts(real_repo, "port")}
    server = "scripts/cli-pipeline/viewers/simple-md-server.js"
    hard = re.search(r"const PORT = (\d+);", (real_repo / server).read_text())
    assert hard and (hard.group(1), server) in ports
    vite = re.search(r"port: (\d+)", (real_repo / "apps/dhg-admin-code/vite.config.ts").read_text())
    assert vite and (vite.group(1), "apps/dhg-admin-code/vite.config.ts") in ports


def test_an_ignored_env_example_is_read_and_its_values_never_shown(real_repo: Path) -> None:
    secret = "sk-live-do-not-print-4242"
    (real_repo / ".env.example").write_text(f"SUPABASE_URL=https://example.supabase.co\nGMAIL_TOKEN={secret}\n")
    assert git(real_repo, "check-ignore", ".env.example") == ".env.example"
    proc = cli(real_repo, "facts", "--type", "env_var", "--json")
    assert {f["fields"]["name"] for f in json.loads(proc.stdout)} >= {"SUPABASE_URL", "GMAIL_TOKEN"}
    everything = cli(real_repo, "facts", "--json")
    check = cli(real_repo, "check", "--json", "--no-tasks")
    assert secret not in proc.stdout + everything.stdout + check.stdout + check.stderr


def test_package_json_comment_keys_are_not_scripts(real_repo: Path) -> None:
    manifest = json.loads((real_repo / "package.json").read_text())
    assert any(k.startswith("//") for k in manifest["scripts"])
    names = {f["name"] for f in facts(real_repo, "script")}
    assert names == {k for k in manifest["scripts"] if not k.startswith("//")}


def test_test_wrappers_are_not_pipelines(real_repo: Path) -> None:
    assert (real_repo / "scripts/cli-pipeline/git/test-git-cli.sh").is_file()
    wrappers = {f["wrapper"] for f in facts(real_repo, "pipeline")}
    assert "git-cli.sh" in wrappers and "test-git-cli.sh" not in wrappers


def test_check_reports_no_false_errors_from_these_causes(real_repo: Path) -> None:
    proc = cli(real_repo, "check", "--json", "--no-tasks")
    violations = json.loads(proc.stdout)["violations"]
    by_standard: dict[str, list[dict[str, object]]] = {}
    for v in violations:
        by_standard.setdefault(str(v["standard"]), []).append(v)
    assert "table-registered" not in by_standard, by_standard.get("table-registered")
    for v in by_standard.get("service-index", []) + by_standard.get("service-class-file", []):
        assert "/." not in str(v["path"]), v
    for v in by_standard.get("cli-tracking", []):
        assert "test-" not in str(v["path"]), v
    legacy = {"presentations", "documentation_files", "media_sessions"}
    assert not [v for v in by_standard.get("table-prefix", []) if any(n in str(v["message"]) for n in legacy)]


def test_old_table_names_come_from_the_instructions_rename_table_and_the_migrations(real_repo: Path) -> None:
    lines = (real_repo / "CLAUDE.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "Old Table Name" in line)
    rows = set()
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip(" `") for c in line.strip("|").split("|")]
        rows.add((cells[0], cells[1]))
    renamed = set()
    for path in (real_repo / "supabase/migrations").glob("*.sql"):
        if not path.name.endswith("_down.sql"):
            renamed |= set(
                re.findall(r"(?i)alter table (?:if exists )?(?:public\.)?(\w+) rename to (\w+)", path.read_text())
            )
    aliases = {(str(f["alias"]), str(f["table"])) for f in facts(real_repo, "table_alias")}
    assert len(rows) > 30 and rows <= aliases
    assert renamed and {old for old, _ in renamed} <= {old for old, _ in aliases}


def test_a_table_called_by_its_old_name_is_changed_not_created(real_repo: Path) -> None:
    proc = cli(real_repo, "suggest", "--json", "add a checksum column to the documentation_files table")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)["plan"]
    assert [(p["scenario"], p["params"].get("table")) for p in plan if p["scenario"] == "modify-schema"] == [
        ("modify-schema", "doc_files")
    ]
    assert not [p for p in plan if p["scenario"] == "create-table"]

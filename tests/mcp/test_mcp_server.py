"""`continuous mcp` as coding agents use it: the real program in a subprocess, driven by the MCP SDK's own stdio
client, in a fresh `continuous init --example` repository."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import jsonschema
import pytest
from mcp import Client, StdioServerParameters

from ..conftest import EXE as CONTINUOUS
from ..conftest import git

TOOLS = [
    "suggest",
    "plan",
    "run_plan",
    "run_scenario",
    "rollback",
    "resume",
    "status",
    "executions",
    "facts",
    "scenarios_list",
    "scenario_show",
    "check",
]
REQUEST = "a table for bookmarks plus a service to manage them"


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTINUOUS_NO_DAEMON": "1"}
    env.pop("CONTINUOUS_DATABASE_URL", None)
    return subprocess.run([CONTINUOUS, *args], cwd=cwd, capture_output=True, text=True, env=env, check=False)


def example(tmp_path: Path, name: str = "mono") -> Path:
    repo = tmp_path / name
    made = cli(tmp_path, "init", "--example", str(repo))
    assert made.returncode == 0, made.stderr
    return repo


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the work tree, byte for byte (the git directory and its tracking data excluded)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


@asynccontextmanager
async def server(cwd: Path, *args: str, env: dict[str, str] | None = None) -> AsyncIterator[Client]:
    """`continuous mcp` started by the SDK's stdio client, as an agent's configuration would start it."""
    env = {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "HF_HUB_DISABLE_PROGRESS_BARS": "1", **(env or {})}
    for var in ("XDG_CACHE_HOME", "HOME"):
        if var in os.environ:
            env[var] = os.environ[var]
    params = StdioServerParameters(command=CONTINUOUS, args=["mcp", *args], cwd=str(cwd), env=env)
    async with Client(params, read_timeout_seconds=300) as client:
        yield client


async def call(client: Client, tool: str, arguments: dict[str, Any], **kw: Any) -> tuple[bool, dict[str, Any]]:
    result = await client.call_tool(tool, arguments, **kw)
    data = result.structured_content
    assert isinstance(data, dict)
    # The text block carries the same result (as JSON, or the CLI's error text) for clients that only read text.
    text = result.content[0].text  # type: ignore[union-attr]
    if result.is_error and "status" not in data:
        assert text == data["error"]["text"]
    else:
        assert json.loads(text) == data
    return result.is_error, data


@pytest.mark.slow
def test_suggest_plan_run_rollback_cycle(tmp_path: Path) -> None:
    repo = example(tmp_path)
    progress: list[str] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    async def cycle() -> tuple[dict[str, bytes], dict[str, Any], dict[str, Any], dict[str, bytes], dict[str, Any]]:
        # The clock is pinned so that the names the dry-run predicts (timestamped migrations) are the ones the
        # run writes, however long planning takes on a busy machine.
        async with server(repo, env={"CONTINUOUS_NOW": "2026-03-04T05:06:07+00:00"}) as client:
            listed = await client.list_tools()
            assert [t.name for t in listed.tools] == TOOLS

            failed, suggestion = await call(client, "suggest", {"request": REQUEST})
            assert not failed
            planned_ids = [i["scenario"] for i in suggestion["plan"]]
            assert planned_ids[:3] == ["create-table", "generate-types", "create-service"]

            failed, planned = await call(client, "plan", {"request": REQUEST})
            assert not failed, planned
            assert [i["scenario"] for i in planned["plan"]["items"]] == planned_ids
            assert planned["plan"]["head"] == git(repo, "rev-parse", "HEAD")
            assert json.loads(Path(planned["plan_file"]).read_text()) == planned["plan"]
            before = snapshot(repo)  # planning changed nothing in the work tree
            assert git(repo, "status", "--porcelain") == ""

            failed, ran = await call(
                client, "run_plan", {"plan_file": planned["plan_file"]}, progress_callback=on_progress
            )
            assert not failed, ran
            after = snapshot(repo)

            failed, status = await call(client, "status", {"execution_id": ran["execution_id"]})
            assert not failed and status["status"] == "success"
            failed, listed_runs = await call(client, "executions", {"kind": "run"})
            assert [e["id"] for e in listed_runs["executions"]] == [ran["execution_id"]]

            failed, rolled = await call(client, "rollback", {"execution_id": ran["execution_id"]})
            assert not failed, rolled
            return before, planned["dry_run"], ran, after, rolled

    before, dry_run, ran, after, rolled = anyio.run(cycle)

    assert ran["status"] == "success"
    created = ran["artifacts"]["created"]
    assert "supabase/migrations/20260304050607_create_command_bookmarks.sql" in created  # the domain the example uses
    assert set(created) <= set(after) and not set(created) & set(before)
    # What the dry-run predicted is what the run wrote, byte for byte: every step is a file change it can
    # compute, the merged types included.
    predicted = {f["path"]: f["sha256"] for f in dry_run["files"]}
    changed = set(created) | set(ran["artifacts"]["modified"])
    assert set(predicted) == changed and len(predicted) >= 4
    assert [s["scenario"] for s in dry_run["steps"] if not s["predicted"]] == []
    for path, digest in predicted.items():
        assert hashlib.sha256(after[path]).hexdigest() == digest, path
    assert any("done" in m for m in progress)

    assert set(rolled["removed"]) == set(created)
    assert set(rolled["restored"]) == set(ran["artifacts"]["modified"])
    assert snapshot(repo) == before
    assert git(repo, "status", "--porcelain") == ""


def test_schemas_come_from_the_dsl(tmp_path: Path) -> None:
    """Every input schema is JSON Schema an agent API accepts; run_scenario's is built from the scenarios the
    repository declares, its own included."""
    repo = example(tmp_path)
    (repo / "team").mkdir()
    (repo / "team" / "notes.scn").write_text(
        """scenario add-note {
  object infra
  summary "A note in docs/notes"
  examples "write a note about the release"
  param slug: kebab required position 1 doc "file name without .md"
  param title: string default "Untitled" pattern "[A-Z][^`$]*" doc "the note's heading"
  param draft: bool doc "mark the note as a draft"
  step "write note" doc "docs/notes/{{ slug }}.md" append \"\"\"
    # {{ title }}{% if draft %} (draft){% endif %}
  \"\"\"
}
""",
        encoding="utf-8",
    )
    config = repo / ".continuous.toml"
    config.write_text(config.read_text().replace("scenario_paths = []", 'scenario_paths = ["team"]'))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a scenario of our own")
    scenario_ids = [s["id"] for s in json.loads(cli(repo, "scenarios", "list", "--json").stdout)]
    assert "add-note" in scenario_ids

    async def listing() -> tuple[list[Any], dict[str, Any], tuple[bool, dict[str, Any]]]:
        async with server(repo) as client:
            tools = (await client.list_tools()).tools
            shown = await call(client, "scenario_show", {"scenario": "add-note"})
            applied = await call(
                client,
                "run_scenario",
                {"run": {"scenario": "add-note", "params": {"slug": "release-1", "draft": True}}, "apply": True},
            )
            return tools, shown[1], applied

    tools, shown, (failed, applied) = anyio.run(listing)
    for tool in tools:
        schema = tool.input_schema
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object"
        assert not {"anyOf", "oneOf", "allOf", "if", "not"} & set(schema), tool.name  # refused at the top level
        assert tool.description and tool.annotations is not None
    by_name = {t.name: t for t in tools}
    assert by_name["rollback"].annotations.destructive_hint is True  # type: ignore[union-attr]
    assert by_name["facts"].annotations.read_only_hint is True  # type: ignore[union-attr]

    run_schema = by_name["run_scenario"].input_schema
    branches = {b["title"]: b for b in run_schema["properties"]["run"]["anyOf"]}
    assert sorted(branches) == sorted(scenario_ids)
    note = branches["add-note"]
    assert note["properties"]["scenario"] == {"const": "add-note"}
    assert "write a note about the release" in note["description"]
    params = note["properties"]["params"]
    assert params["required"] == ["slug"]
    assert params["properties"]["slug"]["type"] == "string"
    assert params["properties"]["title"]["default"] == "Untitled"
    assert params["properties"]["draft"] == {
        "type": "boolean",
        "description": "mark the note as a draft",
        "default": False,
    }
    table = branches["create-table"]["properties"]["params"]["properties"]
    assert table["access"]["enum"][:2] == ["owner", "authenticated_read"]
    assert "domain prefix" in table["name"]["description"]
    assert shown["params_schema"] == params and shown["source"].endswith("notes.scn")

    validator = jsonschema.Draft202012Validator(run_schema)
    good = {"run": {"scenario": "add-note", "params": {"slug": "release-1", "title": "Release one"}}}
    assert validator.is_valid(good)
    for bad in (
        {"run": {"scenario": "add-note", "params": {"slug": "Release 1"}}},  # not kebab-case
        {"run": {"scenario": "add-note", "params": {"slug": "r", "title": "lower case"}}},  # declared pattern
        {"run": {"scenario": "add-note", "params": {}}},  # slug is required
        {"run": {"scenario": "add-note", "params": {"slug": "r", "titel": "X"}}},  # no such parameter
        {"run": {"scenario": "create-table", "params": {"name": "user_prefs", "slug": "x"}}},  # another's
        {"run": {"scenario": "no-such-scenario"}},
        {"run": {"scenario": "add-note", "params": {"slug": "r"}}, "aply": True},
    ):
        assert not validator.is_valid(bad), bad

    assert not failed, applied
    assert (repo / "docs/notes/release-1.md").read_text().strip() == "# Untitled (draft)"


@pytest.mark.slow
def test_errors_carry_the_cli_message_and_hint(tmp_path: Path) -> None:
    repo = example(tmp_path)
    cases = [
        (
            ("run-scenario", "create-table", "Bad Name", "--dry-run"),
            "run_scenario",
            {"run": {"scenario": "create-table", "params": {"name": "Bad Name"}}},
        ),
        (
            ("run-scenario", "creat-table", "bookmarks", "--dry-run"),
            "run_scenario",
            {"run": {"scenario": "creat-table", "params": {"name": "bookmarks"}}},
        ),
        (("scenarios", "show", "create-tabel"), "scenario_show", {"scenario": "create-tabel"}),
        (("facts", "--type", "tabel"), "facts", {"type": "tabel"}),
        (("scenario-status", "0000dead"), "status", {"execution_id": "0000dead"}),
        (("rollback", "0000dead"), "rollback", {"execution_id": "0000dead"}),
        (("run-plan", str(repo / "no-plan.json")), "run_plan", {"plan_file": str(repo / "no-plan.json")}),
        (("executions", "list", "--status", "succes"), "executions", {"status": "succes"}),
        (("scenarios", "list", "--object-type", "services"), "scenarios_list", {"object_type": "services"}),
        (
            ("check", "--no-tasks", "-s", "no-such-standard"),
            "check",
            {"no_tasks": True, "standards": ["no-such-standard"]},
        ),
    ]
    before = snapshot(repo)

    async def errors() -> list[tuple[bool, dict[str, Any]]]:
        async with server(repo) as client:
            out = [await call(client, tool, args) for _, tool, args in cases]
            out.append(await call(client, "run_scenario", {"run": {"scenario": "create-table"}, "aply": True}))
            out.append(await call(client, "suggest", {"request": "x", "top": "five"}))
            return out

    results = anyio.run(errors)
    for (argv, tool, _), (failed, data) in zip(cases, results, strict=False):
        expected = cli(repo, *argv)
        assert expected.returncode == 2, (argv, expected.stderr)
        assert failed, (tool, data)
        error = data["error"]
        assert error["text"] == expected.stderr.rstrip("\n"), tool
        assert error["exit_code"] == 2 and error["type"] in ("UserError", "DslError")
        assert "Traceback" not in error["text"]
    unknown_argument, bad_type = (d["error"] for _, d in results[-2:])
    assert unknown_argument["message"] == (
        "run_scenario has no argument 'aply'; its arguments are: run, apply, diffs, commit"
    )
    assert unknown_argument["hint"] == "did you mean 'apply'?"
    assert bad_type["message"] == "argument top: expected an integer, got 'five'"
    assert unknown_argument["exit_code"] == bad_type["exit_code"] == 2
    assert snapshot(repo) == before and git(repo, "status", "--porcelain") == ""


@pytest.mark.slow
def test_two_worktrees_two_servers_at_once(tmp_path: Path) -> None:
    """Two agents, each with its own server in its own worktree of one repository, run scenarios at the same
    time; each run changes its own worktree only, and both are tracked in the one shared database."""
    main = example(tmp_path)
    other = tmp_path / "feature"
    git(main, "worktree", "add", "-q", "-b", "feature", str(other))
    results: dict[str, tuple[bool, dict[str, Any]]] = {}

    async def agent(
        label: str,
        client_cwd: Path,
        args: tuple[str, ...],
        table: str,
        ready: anyio.Event,
        go: anyio.Event,
        ran: anyio.Event,
        both_ran: anyio.Event,
    ) -> None:
        async with server(client_cwd, *args) as client:
            await client.list_tools()
            ready.set()
            await go.wait()
            arguments = {"run": {"scenario": "create-table", "params": {"name": table}}, "apply": True}
            results[label] = await call(client, "run_scenario", arguments)
            ran.set()
            results[label + " mine"] = await call(client, "executions", {"this_worktree": True, "kind": "run"})
            await both_ran.wait()  # the other agent's run is recorded before the shared history is read
            results[label + " all"] = await call(client, "executions", {"kind": "run"})

    async def both() -> None:
        ready = [anyio.Event(), anyio.Event()]
        ran = [anyio.Event(), anyio.Event()]
        go, both_ran = anyio.Event(), anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(agent, "main", main, (), "alpha_items", ready[0], go, ran[0], both_ran)
            # The second server is pointed at its worktree with --repo, from outside any repository.
            tg.start_soon(
                agent, "feature", tmp_path, ("--repo", str(other)), "beta_items", ready[1], go, ran[1], both_ran
            )
            for event in ready:
                await event.wait()
            go.set()
            for event in ran:
                await event.wait()
            both_ran.set()

    anyio.run(both)
    for label, root, mine, theirs in (("main", main, "alpha", "beta"), ("feature", other, "beta", "alpha")):
        failed, ran = results[label]
        assert not failed and ran["status"] == "success", ran
        assert ran["worktree"] == str(root.resolve())
        migrations = sorted(p.name for p in (root / "supabase/migrations").glob("*_create_*_items.sql"))
        assert [m for m in migrations if not m.endswith("_down.sql")] == [
            m for m in migrations if mine in m and not m.endswith("_down.sql")
        ]
        assert not any(theirs in m for m in migrations)
        own = results[label + " mine"][1]["executions"]
        assert [e["id"] for e in own] == [ran["execution_id"]]
        assert len(results[label + " all"][1]["executions"]) == 2


def test_a_broken_scenario_file_leaves_the_tools_listed_and_every_call_says_why(tmp_path: Path) -> None:
    repo = example(tmp_path)
    (repo / "team").mkdir()
    (repo / "team" / "broken.scn").write_text('scenario half-done {\n  object infra\n  summary "x"\n', encoding="utf-8")
    config = repo / ".continuous.toml"
    config.write_text(config.read_text().replace("scenario_paths = []", 'scenario_paths = ["team"]'))
    expected = cli(repo, "scenarios", "list")
    assert expected.returncode == 2 and "broken.scn" in expected.stderr

    async def session() -> tuple[list[str], tuple[bool, dict[str, Any]], tuple[bool, dict[str, Any]]]:
        async with server(repo) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            return names, await call(client, "scenarios_list", {}), await call(client, "executions", {})

    names, (failed, listed), (_, executions) = anyio.run(session)
    assert names == TOOLS
    assert failed and listed["error"]["text"] == expected.stderr.rstrip("\n")
    assert executions == {"executions": []}  # what does not need the scenarios still works


def test_outside_a_git_worktree_the_server_does_not_start(tmp_path: Path) -> None:
    proc = subprocess.run(
        [CONTINUOUS, "mcp", "--repo", str(tmp_path)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: ") and "git" in proc.stderr and "Traceback" not in proc.stderr

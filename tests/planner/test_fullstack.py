"""Requests for UI that manages data plan the whole stack behind it, through the CLI on the example monorepo:
create-table → generate-types → create-service → add-proxy-endpoint → add-page → add-tests, with one set of
names; what already exists in the repository is left out, and a page that manages nothing stays one step."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from continuous.cli.main import app
from typer.testing import CliRunner

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
CHAIN = ["create-table", "generate-types", "create-service", "add-proxy-endpoint", "add-page", "add-tests"]


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def suggest(text: str) -> dict[str, Any]:
    code, out, err = invoke("suggest", text, "--json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def _commit(repo: Path, message: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    for args in (["add", "-A"], ["commit", "-q", "-m", message]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("CONTINUOUS_DATABASE_URL", raising=False)
    repo = tmp_path / "mono"
    code, _, err = invoke("init", "--example", str(repo))
    assert code == 0, err
    monkeypatch.chdir(repo)
    return repo


def steps(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(p["scenario"], p["params"]) for p in data["plan"]]


def chain(data: dict[str, Any], wanted: list[str] = CHAIN) -> list[tuple[str, dict[str, Any]]]:
    """The first item of each wanted scenario, in order, after the previous one; fails if one is missing."""
    out: list[tuple[str, dict[str, Any]]] = []
    plan = steps(data)
    pos = 0
    for sid in wanted:
        found = next((i for i in range(pos, len(plan)) if plan[i][0] == sid), None)
        assert found is not None, f"{sid} missing after position {pos} in {[s for s, _ in plan]}"
        out.append(plan[found])
        pos = found + 1
    return out


def test_admin_dashboard_for_managing_user_preferences(example: Path) -> None:
    data = suggest("admin dashboard for managing user preferences")
    # the new table gets the domain the example's tables carry (command_, doc_, sys_: one each, so the configured
    # order decides): the planned names pass `continuous check`; the page keeps the request's words
    table, types, service, endpoint, page, tests = chain(data)
    assert table[1]["name"] == "command_user_preferences"
    assert types[1] == {"table": "command_user_preferences"}
    assert service[1]["name"] == "command-user-preferences" and service[1]["table"] == "command_user_preferences"
    assert service[1]["type"] == "business"
    assert endpoint[1]["method"] == "GET" and endpoint[1]["path"] == "/api/command-user-preferences"
    assert endpoint[1]["service"] == "command-user-preferences" and endpoint[1]["table"] == "command_user_preferences"
    # the example repository has no proxy with a route table: a new one comes first (port at run time)
    assert ("create-proxy-server", {"name": endpoint[1]["proxy"]}) in steps(data)
    assert page[1] == {"app": "dhg-admin-code", "name": "UserPreferences", "entity": "command_user_preferences"}
    assert tests[1]["target"] == "UserPreferences" and tests[1]["kind"] == "page"
    roles = {p["scenario"]: p["role"] for p in data["plan"]}
    assert roles["add-page"] == "requested" and roles["create-table"] == "dependency"
    assert all("missing" not in p for p in data["plan"])
    assert [s for s, _ in steps(data)].count("create-table") == 1
    assert data["unmatched"] == []


@pytest.mark.parametrize(
    ("request_text", "app_name", "entity", "page"),
    [
        ("page to manage bookmarks in the hub", "dhg-hub", "bookmarks", "Bookmarks"),
        (
            "store user preferences, expose them through an API and add a page for them in the hub",
            "dhg-hub",
            "user_preferences",
            "UserPreferences",
        ),
    ],
)
def test_other_wordings_plan_the_same_stack(
    example: Path, request_text: str, app_name: str, entity: str, page: str
) -> None:
    data = suggest(request_text)
    table, _types, service, endpoint, page_item, _tests = chain(data)
    kebab = entity.replace("_", "-")
    table_name = f"command_{entity}"  # the domain the example's tables carry (see above)
    assert table[1]["name"] == table_name
    assert service[1]["name"] in (table_name.replace("_", "-"), kebab) and service[1]["table"] == table_name
    assert endpoint[1]["path"] in (f"/api/{table_name.replace('_', '-')}", f"/api/{kebab}")
    assert page_item[1]["app"] == app_name and page_item[1]["name"] == page
    assert page_item[1]["entity"] == table_name
    ids = [s for s, _ in steps(data)]
    # sibling intents and the page's dependencies are one set of objects, never two
    assert ids.count("create-table") == ids.count("create-service") == ids.count("add-proxy-endpoint") == 1


def test_a_clause_at_the_margin_plans_the_page_or_is_reported_unmatched(example: Path) -> None:
    """The clause "show them in the hub" reads (with "them" resolved) as "show user preferences in the hub":
    add-page 0.44 against a no-match threshold of 0.40 in session 8's index, 0.17 against 0.46 once the retired
    fresh splits' commit subjects were trained on (session 9: "show X in Y" there is mostly UI work, no scenario).
    Either way the other intents plan their stack and the user is told about the clause."""
    text = "store user preferences, expose them through an API and show them in the hub"
    data = suggest(text)
    ids = [s for s, _ in steps(data)]
    if "add-page" in ids:
        chain(data)
    else:
        chain(data, ["create-table", "generate-types", "add-proxy-endpoint"])
        assert data["unmatched"] == ["show them in the hub"]
        assert data["error"] is None
    assert ids.count("create-table") == ids.count("add-proxy-endpoint") == 1


def test_a_wording_at_the_gates_margin_plans_the_stack_or_names_its_scenario(example: Path) -> None:
    """This wording's in-scope probability sits within a few hundredths of the gate's threshold (0.645 against 0.66
    in session 7's index), so which side it falls on moves with the training data. Either way the user is told
    what to run: the whole stack, or an empty plan whose first match is the page."""
    data = suggest("a screen where admins can edit feature flags")
    assert data["matches"][0]["scenario"] == "add-page"
    if data["plan"]:
        table, _types, _service, _endpoint, page_item, _tests = chain(data)
        assert table[1]["name"] == "command_feature_flags"
        assert page_item[1]["app"] == "dhg-admin-code" and page_item[1]["name"] == "FeatureFlags"
    else:
        assert data["unmatched"] == ["a screen where admins can edit feature flags"]
        assert data["error"] is None


def test_a_page_that_manages_nothing_stays_one_step(example: Path) -> None:
    data = suggest("add an about page to dhg-hub")
    assert [s for s, _ in steps(data)] == ["add-page", "add-tests"]
    assert steps(data)[0][1] == {"app": "dhg-hub", "name": "about"}
    assert steps(data)[1][1]["kind"] == "page"


def test_an_existing_table_is_left_out(example: Path) -> None:
    migration = example / "supabase" / "migrations" / "20250301100000_create_user_preferences.sql"
    migration.write_text("create table if not exists user_preferences (\n  id uuid primary key\n);\n")
    _commit(example, "user_preferences")
    data = suggest("a settings page in dhg-admin-code for the existing user_preferences table")
    ids = [s for s, _ in steps(data)]
    assert "create-table" not in ids
    _service, _endpoint, page, _tests = chain(data, ["create-service", "add-proxy-endpoint", "add-page", "add-tests"])
    assert page[1] == {"app": "dhg-admin-code", "name": "settings", "entity": "user_preferences"}
    skipped = {s["scenario"]: s["reason"] for s in data.get("skipped", [])}
    assert "table(name=user_preferences) already holds" in skipped["create-table"]


def test_registered_servers_are_not_created_again(example: Path) -> None:
    # md-server is in the port registry (scripts/start-all-servers.js) but not under proxies/
    data = suggest("add a GET /api/health endpoint to md-server")
    assert [s for s, _ in steps(data)] == ["add-proxy-endpoint"]
    assert steps(data)[0][1]["proxy"] == "md-server"
    assert any(s["scenario"] == "create-proxy-server" for s in data.get("skipped", []))


def test_the_only_proxy_with_routes_serves_the_page(example: Path) -> None:
    proxies = example / "scripts" / "cli-pipeline" / "proxies"
    proxies.mkdir(parents=True)
    (proxies / "notes-server.ts").write_text(
        "const PORT = Number(process.env.NOTES_PORT || 3005);\n"
        "const routes: Route[] = [\n  {\n    method: 'GET',\n    path: '/health',\n  },\n];\n"
    )
    _commit(example, "notes proxy")
    data = suggest("page to manage bookmarks in the hub")
    _endpoint, page = chain(data, ["add-proxy-endpoint", "add-page"])
    assert _endpoint[1]["proxy"] == "notes" and page[1]["proxy"] == "notes"
    assert "create-proxy-server" not in [s for s, _ in steps(data)]


@pytest.mark.slow
def test_the_plan_runs(example: Path) -> None:
    out = example.parent / "plan.json"
    code, _, err = invoke("plan", "admin dashboard for managing user preferences", "--out", str(out))
    assert code == 0, err
    code, stdout, err = invoke("run-plan", str(out), "--yes")
    assert code == 0, stdout + err
    page = (example / "apps" / "dhg-admin-code" / "src" / "pages" / "UserPreferencesPage.tsx").read_text()
    assert "const ENDPOINT = '/api/command-user-preferences';" in page
    server = next((example / "scripts" / "cli-pipeline" / "proxies").glob("*-server.ts")).read_text()
    assert "path: '/api/command-user-preferences'" in server
    assert (
        example / "packages" / "shared" / "services" / "command-user-preferences" / "command-user-preferences.ts"
    ).exists()
    assert list((example / "supabase" / "migrations").glob("*_create_command_user_preferences.sql"))
    again = suggest("admin dashboard for managing user preferences")
    assert again["plan"] == []
    # everything the plan wrote type-checks, the data-loading page included (TypeScript from .ci/node-tools.sh)
    tools = Path(os.environ.get("CONTINUOUS_TEST_NODE_TOOLS", str(REPO / ".cache" / "node-tools")))
    tsc = tools / "node_modules" / ".bin" / "tsc"
    if not tsc.exists():
        pytest.skip("TypeScript is not installed: run .ci/node-tools.sh")
    (example / "node_modules").symlink_to(tsc.parent.parent, target_is_directory=True)
    proc = subprocess.run([str(tsc), "--noEmit", "-p", str(example)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr

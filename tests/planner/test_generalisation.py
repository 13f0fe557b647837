"""Requests worded unlike anything in the library or the evaluation set, through the CLI on the example monorepo:
a child object goes in the parent a sibling intent creates (a command in the new pipeline, an endpoint in the new
proxy) without a second, nameless parent; a pnpm script's name and command come from "lint:all that runs turbo
lint"; "show it in the hub" asks for a page in dhg-hub. Names nobody gave stay missing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from continuous.cli.main import app
from continuous.engine.resolution import PlanItem
from continuous.planner.compose import without_nameless_twins as _without_nameless_twins
from continuous.planner.slots import text as slots
from typer.testing import CliRunner

runner = CliRunner()


@pytest.fixture
def example_repo(example_monorepo: Path) -> Path:
    return example_monorepo


@pytest.fixture
def example(example_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.delenv("CONTINUOUS_DATABASE_URL", raising=False)
    monkeypatch.chdir(example_repo)
    yield example_repo


def suggest(text: str) -> dict[str, Any]:
    result = runner.invoke(app, ["suggest", text, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def items(data: dict[str, Any], scenario: str) -> list[dict[str, Any]]:
    return [p for p in data["plan"] if p["scenario"] == scenario]


def one(data: dict[str, Any], scenario: str) -> dict[str, Any]:
    found = items(data, scenario)
    assert len(found) == 1, [(p["scenario"], p["params"]) for p in data["plan"]]
    return found[0]


# ---------------------------------------------------------------- parents created by a sibling intent


def test_a_command_goes_in_the_pipeline_its_sibling_creates(example: Path) -> None:
    data = suggest("new cli pipeline called billing with a sync-invoices command")
    assert [p["scenario"] for p in data["plan"]] == ["create-cli-pipeline", "add-cli-command"]
    pipeline, command = data["plan"]
    assert pipeline["params"]["name"] == "billing" and "missing" not in pipeline
    assert command["params"]["pipeline"] == "billing" and command["params"]["name"] == "sync-invoices"
    assert "missing" not in command and data["unmatched"] == []


def test_the_parent_can_be_named_after_its_kind_in_the_same_clause(example: Path) -> None:
    data = suggest("add a command called prune-cache to a new cli pipeline named housekeeping")
    assert one(data, "create-cli-pipeline")["params"]["name"] == "housekeeping"
    command = one(data, "add-cli-command")["params"]
    assert command["pipeline"] == "housekeeping" and command["name"] == "prune-cache"


def test_an_endpoint_goes_in_the_proxy_its_sibling_creates(example: Path) -> None:
    data = suggest("spin up a gateway named search-proxy with a GET /api/search route")
    assert one(data, "create-proxy-server")["params"]["name"] == "search-proxy"  # no api-proxy next to it
    endpoint = one(data, "add-proxy-endpoint")["params"]
    assert endpoint["proxy"] == "search-proxy" and endpoint["path"] == "/api/search"


def test_the_parents_name_is_not_the_childs(example: Path) -> None:
    data = suggest("a new cli pipeline called billing, plus a pipeline command to sync invoices")
    assert one(data, "create-cli-pipeline")["params"]["name"] == "billing"
    command = one(data, "add-cli-command")
    assert command["params"]["pipeline"] == "billing"
    # the command is named after what it does, and the output says that name is a guess
    assert command["params"]["name"] == "sync-invoices" and command["guessed"] == ["name"]


def test_two_parents_leave_the_childs_parent_open(example: Path) -> None:
    data = suggest("a cli pipeline called alpha, a cli pipeline called beta, and a purge-logs command")
    command = one(data, "add-cli-command")
    assert "pipeline" not in command["params"] and "pipeline" in command["missing"]


def test_a_nameless_twin_of_a_planned_item_is_dropped() -> None:
    def item(
        scenario: str,
        params: dict[str, Any],
        missing: tuple[str, ...] = (),
        role: str = "requested",
        after: tuple[int, ...] = (),
    ) -> PlanItem:
        return PlanItem(scenario=scenario, params=params, missing=missing, role=role, reason=scenario, after=after)

    def names(plan: list[PlanItem]) -> list[tuple[str, Any, tuple[int, ...]]]:
        return [(p.scenario, p.params.get("name"), p.after) for p in plan]

    named = item("create-cli-pipeline", {"name": "billing", "description": ""})
    nameless = item("create-cli-pipeline", {"description": ""}, ("name",), role="dependency")
    other = item("create-cli-pipeline", {"name": "reports", "description": ""})
    child = item("add-cli-command", {"name": "x"}, ("pipeline",), after=(1,))
    # the child ran after the nameless twin: it now runs after the pipeline that stays
    assert names(_without_nameless_twins([named, nameless, child])) == [
        ("create-cli-pipeline", "billing", ()),
        ("add-cli-command", "x", (0,)),
    ]
    # a twin that was asked for hands its role to the item that stays
    asked = item("create-cli-pipeline", {"description": ""}, ("name",))
    dep = item("create-cli-pipeline", {"name": "billing", "description": ""}, role="dependency")
    (kept,) = _without_nameless_twins([asked, dep])
    assert kept.role == "requested" and kept.params["name"] == "billing"
    # two different named pipelines both stay; of two identical nameless ones the first stays
    assert _without_nameless_twins([named, other]) == [named, other]
    twin = item("create-cli-pipeline", {"description": ""}, ("name",))
    assert _without_nameless_twins([asked, twin]) == [asked]
    # a value that differs keeps both
    elsewhere = item("create-cli-pipeline", {"description": "other"}, ("name",))
    assert _without_nameless_twins([named, elsewhere]) == [named, elsewhere]


# ---------------------------------------------------------------- pnpm scripts


def test_a_pnpm_script_takes_its_colon_name_and_the_command_it_runs(example: Path) -> None:
    data = suggest("add a pnpm script lint:all that runs turbo lint")
    script = one(data, "add-pnpm-script")
    assert script["params"] == {"name": "lint:all", "command": "turbo lint"}
    assert "missing" not in script


@pytest.mark.parametrize(
    ("text", "name", "command"),
    [
        ("new root script test:e2e running `playwright test --headed`", "test:e2e", "playwright test --headed"),
        ("pnpm script format:check that runs prettier --check .", "format:check", "prettier --check ."),
        ("make pnpm lint:all run eslint everywhere", "lint:all", "eslint"),
    ],
)
def test_script_names_and_commands_in_other_words(example: Path, text: str, name: str, command: str) -> None:
    params = one(suggest(text), "add-pnpm-script")["params"]
    assert params["name"] == name and params["command"] == command


def test_a_described_command_is_not_invented(example: Path) -> None:
    script = one(suggest("add a pnpm script to run the google sync"), "add-pnpm-script")
    assert "command" not in script["params"] and "command" in script["missing"]


def test_running_a_script_by_its_name_names_it(example: Path) -> None:
    script = one(suggest("I'd like `pnpm check:types` to work from the repo root"), "add-pnpm-script")
    assert script["params"] == {"name": "check:types"} and script["missing"] == ["command"]


def test_running_a_script_of_its_own_names_it_and_leaves_the_command_open(example: Path) -> None:
    script = one(suggest("I want to run `pnpm typecheck:apps` from the root"), "add-pnpm-script")
    assert script["params"] == {"name": "typecheck:apps"} and script["missing"] == ["command"]


def test_command_phrase() -> None:
    def command(text: str) -> str | None:
        found = slots.command_phrase(text)
        return found[0] if found else None

    assert slots.command_phrase("a script that runs turbo lint") == ("turbo lint", 9, 29)
    assert command("x which runs `pnpm -r build` nightly") == "pnpm -r build"
    assert command("to run eslint in every package") == "eslint"
    assert command("a script deploy:all that runs pnpm -r deploy") == "pnpm -r deploy"
    assert slots.command_phrase("a script to run tests") is None
    assert slots.command_phrase("a script to run unit tests") is None
    assert slots.command_phrase("a script to run the google sync") is None
    assert slots.command_phrase("a script for the docs") is None


# ---------------------------------------------------------------- "show it in the hub" is a page


def test_show_it_in_the_hub_is_a_page_in_dhg_hub(example: Path) -> None:
    data = suggest("store it, expose it through an API and show it in the hub")
    assert data["unmatched"] == []
    order = [p["scenario"] for p in data["plan"] if p["role"] == "requested"]
    assert order == ["create-table", "add-proxy-endpoint", "add-page"]
    page = one(data, "add-page")
    assert page["params"]["app"] == "dhg-hub"
    # nobody said what "it" is: the names stay missing, never invented
    assert "name" not in page["params"] and "name" in page["missing"]
    assert "name" in one(data, "create-table")["missing"]


@pytest.mark.parametrize(
    ("text", "app_name"),
    [
        ("display the audit entries in the hub", "dhg-hub"),
        ("persist user notes and list them in the hub", "dhg-hub"),
        ("keep it in a table, publish it through an endpoint and display it in the admin app", "dhg-admin-code"),
    ],
)
def test_showing_data_in_an_app_asks_for_a_page(example: Path, text: str, app_name: str) -> None:
    data = suggest(text)
    assert data["unmatched"] == []
    assert one(data, "add-page")["params"]["app"] == app_name

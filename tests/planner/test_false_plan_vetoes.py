"""Vetoes against false plans on requests no scenario does, each in the role it is about, with the in-scope
reading of the same words left alone: a project's own version bump is no dependency update (a bump that names a
package still is); a form's field, a column renamed or retyped, columns of a view and comments in a file are no
schema change or variable; an archive or a restore only where the request says so; something taken out of an
object does not remove that object; a table or a view in a screen's list is part of the screen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from continuous.cli.main import app
from continuous.planner import language
from continuous.planner.phrases import analyse
from continuous.planner.rules import (
    _for_purpose,
    _into_new,
    _into_unmade,
    _modifier_only,
    _moved_between,
    _parts_of_recreated,
    _placed_only,
    _stored_in_ui,
    _tool_for,
    _unsaid,
    _used_or_tidied,
    _veto_all,
)
from typer.testing import CliRunner

from .conftest import scenario_words_of

runner = CliRunner()

MADE = frozenset(
    {
        "page",
        "component",
        "shared",
        "environment",
        "table",
        "schema",
        "view",
        "endpoint",
        "proxy",
        "service",
        "dependencies",
        "tests",
        "monitoring",
        "cli",
        "pipeline",
        "command",
        "script",
        "archive",
    }
)


def vetoed(text: str) -> bool:
    return _veto_all(text, whole=False, made=MADE) is not None


def test_a_projects_own_version_bump_updates_no_dependency() -> None:
    assert vetoed("chore: bump version to 3.1.0-beta.2")
    assert vetoed("Bump the app version to 2.4.0")
    assert vetoed("chore(web): bump versions to 7.0.1")
    assert vetoed("bump project version")
    # a package is named: before the version, after "of", or as the head
    assert not vetoed("bump react to 19")
    assert not vetoed("bump the version of zod to 3.22.4")
    assert not vetoed("Update lodash dependency version")
    assert not vetoed("upgrade node version to 20")
    assert not vetoed("bump dependency versions")
    # the commit's scope says a dependency is meant
    assert not vetoed("chore(deps): bump version to 2.0.0")


def test_a_field_of_nothing_named_is_a_forms() -> None:
    assert vetoed("add a checkbox field")
    assert vetoed("feat(forms): add new rating field")
    # a table's field, or a column whose table is asked for
    assert not vetoed("add a priority field to the tasks table")
    assert not vetoed("add a created_at column")
    assert not vetoed("add `Invoice.paidAt` field")


def test_changing_a_column_that_exists_is_no_scenario() -> None:
    assert vetoed("change the status column to text")
    assert vetoed("update amount column from int to numeric")
    assert not vetoed("add a status column to orders")
    assert not vetoed("update the orders table")


def test_annotating_a_file_adds_no_variable() -> None:
    assert vetoed("add comments to .env.example")
    assert vetoed("Adds quotes to the values in .env.production")
    assert not vetoed("add sentry dsn to .env.example")
    assert not vetoed("add REDIS_URL to .env.example")
    # comments as data, with no file they are put into
    assert not vetoed("let moderators hide user comments from a console")


def test_verbs_no_scenario_does_veto_where_they_open_the_request_or_its_head() -> None:
    assert vetoed("skip flaky e2e tests on CI")
    assert vetoed("feat: allow disabling the metrics proxy")
    assert vetoed("Describe how to add a page")
    assert vetoed("disable row level security on the audit table")
    # a noun, or a word that only contains the verb
    assert not vetoed("add a skip flag to the import command")
    assert not vetoed("feat: create invalidate cache service")
    assert not vetoed("add a service that describes orders")


def test_a_property_after_a_multi_word_object_is_no_object() -> None:
    assert vetoed("add liveness health check retries")
    assert vetoed("feat: add premium service tier")
    assert vetoed("add page enum")
    assert not vetoed("add the retry service")
    assert not vetoed("add liveness health checks")


def test_archive_and_restore_only_where_the_request_says_so() -> None:
    words = scenario_words_of("archive-table", "restore-table", "create-table")
    assert [s for s, _v in _unsaid("drop obsolete tables", words)] == [0, 1]
    assert [s for s, _v in _unsaid("move billing tables from public into a new schema", words)] == [0, 1]
    assert [s for s, _v in _unsaid("archive obsolete tables", words)] == [1]
    assert [s for s, _v in _unsaid("move the audit tables back to public", words)] == [0]
    assert [s for s, _v in _unsaid("move old reports into the archive folder", words)] == [1]


def test_taking_something_out_of_an_object_does_not_remove_it() -> None:
    words = scenario_words_of("deprecate-service", "archive-path", "create-service")
    assert _placed_only(analyse("remove the stale helper from the billing service"), words) == [0]
    assert _placed_only(analyse("Remove the link to a retired service"), words) == [0]
    assert _placed_only(analyse("deprecate the billing service"), words) == []
    assert _placed_only(analyse("remove the billing service"), words) == []


def test_a_table_or_view_in_a_screens_list_is_part_of_the_screen() -> None:
    words = scenario_words_of("create-view", "create-table", "add-page")
    assert _stored_in_ui(analyse("add views to the ticket list"), words) == [0, 1]
    assert _stored_in_ui(analyse("a sortable table for the invoices overview page"), words) == [0, 1]
    assert _stored_in_ui(analyse("a table for invoices"), words) == []
    assert _stored_in_ui(analyse("add a summary view of ticket counts"), words) == []


def test_columns_added_to_a_view_add_none_to_a_table() -> None:
    words = scenario_words_of("modify-schema", "create-view", "create-table")
    assert _parts_of_recreated(
        "add two columns to the revenue views", analyse("add two columns to the revenue views"), words
    ) == [0]
    text = "add two columns to the revenue table"
    assert _parts_of_recreated(text, analyse(text), words) == []


def test_moving_into_a_file_or_an_ignore_list_makes_nothing() -> None:
    assert _into_unmade(analyse("move every pipeline command into its own file")) is not None
    assert _into_unmade(analyse("move the loose scripts into the media pipeline")) is None
    assert _into_unmade(analyse("add .env.local to .gitignore")) == ".gitignore"
    assert _into_unmade(analyse("add OPENAI_API_KEY to .env.local")) is None


def test_using_an_object_makes_none_of_its_kind() -> None:
    words = scenario_words_of("generate-types", "configure-environment", "create-service", "integrate-service")
    assert [s for s, _w in _used_or_tidied(analyse("chore: use the generated db types in the api"), words)] == [0]
    assert [s for s, _w in _used_or_tidied(analyse("use the payments service from the admin app"), words)] == [2]
    # configuring or wiring up what is used stays
    assert _used_or_tidied(analyse("use an env var to set the upload limit"), words) == []
    assert _used_or_tidied(analyse("add generated types for the orders table"), words) == []


def test_tidying_an_object_adds_none() -> None:
    words = scenario_words_of("configure-environment", "refactor-service", "add-shared-component")
    assert [s for s, _w in _used_or_tidied(analyse("Clean up the staging env vars"), words)] == [0, 2]
    # a result verb with a source makes its result; a new head is made
    assert _used_or_tidied(analyse("refactor: extract the retry count to an env var"), words) == []
    assert _used_or_tidied(analyse("Extract the filter bar to a reusable component"), words) == []


def test_a_tool_that_handles_an_object_is_not_that_object() -> None:
    words = scenario_words_of("configure-environment", "create-table", "create-service")
    assert _tool_for(analyse("add an env file editor utility"), words) == [0]
    assert _tool_for(analyse("feat: table schema generator"), words) == [1]
    assert _tool_for(analyse("add a date formatting helper"), words) == []
    assert _tool_for(analyse("add an env var for the editor"), words) == []


def test_what_a_new_object_is_for_is_not_made() -> None:
    words = scenario_words_of("create-table", "add-cli-command", "add-page", "generate-types")
    assert _for_purpose(analyse("feat: add migration script to add novu providers to database"), words) == [0]
    assert _for_purpose(analyse("add an endpoint to list the tables"), words) == [0]
    # a head of the purpose's kind, or the object named outside the purpose clause too, stays
    assert _for_purpose(analyse("add a migration to create the bookmarks table"), words) == []
    assert _for_purpose(analyse("add a table and a page to browse the tables"), words) == []
    # not asked to make anything
    assert _for_purpose(analyse("use the script to add providers to the database"), words) == []


def test_a_migration_script_is_a_script() -> None:
    found = [canon for canon, _s, _e in language.find("feat: primary provider migration script", "objects")]
    assert found == ["script"]
    found = [canon for canon, _s, _e in language.find("add a migration for the users table", "objects")]
    assert "table" in found


def test_converting_an_object_into_another_of_its_kind_makes_none() -> None:
    words = scenario_words_of("create-app", "add-shared-component")
    assert _moved_between(analyse("converted our webpack-app to vite app"), words) == [0]
    assert _moved_between(analyse("convert the settings panel into a shared component"), words) == []


def test_moving_something_into_a_new_object_reworks_none() -> None:
    words = scenario_words_of("refactor-service", "create-service", "migrate-cli-script")
    assert _into_new(analyse("Extract the invoice rounding logic to its own service"), words) == [0]
    assert _into_new(analyse("move the caching code into a dedicated service"), words) == [0]
    # the object itself moved, or moved into one that exists
    assert _into_new(analyse("move the auth service into a new service"), words) == []
    assert _into_new(analyse("move the caching code into the billing service"), words) == []
    assert _into_new(analyse("move the loose scripts into a new cli pipeline"), words) == []


def test_improving_an_object_makes_none_of_its_kind() -> None:
    words = scenario_words_of("setup-monitoring", "add-tests", "create-service")
    assert [s for s, _w in _used_or_tidied(analyse("chore: improve the heartbeat monitoring"), words)] == [0]
    assert [s for s, _w in _used_or_tidied(analyse("Optimise the search service"), words)] == [2]
    # more tests are tests; an improved thing that is added is added
    assert _used_or_tidied(analyse("improve test coverage for the cart page"), words) == []
    assert _used_or_tidied(analyse("add improved logging"), words) == []


def test_a_scenarios_object_only_before_another_kinds_head_is_not_asked_for() -> None:
    words = scenario_words_of("add-tests", "configure-environment", "add-proxy-endpoint", "update-dependencies")
    text = "feat(api): add list environment secrets endpoint"
    assert _modifier_only(text, analyse(text), words) == [1]
    text = "add lint and test scripts"
    assert _modifier_only(text, analyse(text), words) == [0]
    # the object asked for, or a name that ends in a kind
    for text in ("add tests for the billing endpoint", "add env var for the proxy", "bump @vue/cli to 5.0.8"):
        assert _modifier_only(text, analyse(text), words) == [], text


def test_reworking_or_mending_needs_the_scenarios_object_named() -> None:
    words = scenario_words_of("refactor-service", "fix-service-index", "configure-environment")
    assert [s for s, _v in _unsaid("refactor: move the page size to an env var", words)] == [0, 1]
    assert [s for s, _v in _unsaid("fix: FEATURE_FLAGS variable read as a string", words)] == [0, 1]
    assert _unsaid("refactor the search service", words) == []
    assert _unsaid("the cart-service has no barrel file, fix it", words) == []


def test_through_the_planner_in_the_example_monorepo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The vetoes end to end (`suggest --batch`): each no-match wording plans nothing, and its in-scope twin
    still plans its scenario."""
    monkeypatch.delenv("CONTINUOUS_DATABASE_URL", raising=False)
    repo = tmp_path / "mono"
    assert runner.invoke(app, ["init", "--example", str(repo)], catch_exceptions=False).exit_code == 0
    monkeypatch.chdir(repo)
    cases = {
        "chore: bump version to 4.2.0": None,
        "bump react to 19": "update-dependencies",
        "add .env.local to .gitignore": None,
        "add SENTRY_DSN to .env.example": "configure-environment",
        "drop the obsolete tables": None,
        "archive the command_tracking table": "archive-table",
        "skip the flaky e2e tests for now": None,
    }
    batch = tmp_path / "requests.txt"
    batch.write_text("\n".join(cases) + "\n")
    result = runner.invoke(app, ["suggest", "--batch", str(batch), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    for line, (text, expected) in zip(result.stdout.splitlines(), cases.items(), strict=True):
        data = json.loads(line)
        requested = [p["scenario"] for p in data["plan"] if p["role"] == "requested"]
        requested += [p["scenario"] for p in data["skipped"] if p["requested"]]
        assert requested == ([expected] if expected else []), (text, requested)

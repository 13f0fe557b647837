"""Slot filling: names from the words of a request, rendered in each parameter's type and naming convention,
and grounded in what the repository holds."""

from __future__ import annotations

from continuous.dsl.model import Param, Scenario
from continuous.engine.facts import Fact
from continuous.planner import slots
from continuous.planner.conventions import load as load_conventions
from continuous.planner.grounding import Repo
from continuous.planner.slots.names import subject as subject_of


def scenario(sid: str, *params: Param) -> Scenario:
    return Scenario(id=sid, object_type="service", summary="x", params=params)


TABLE = scenario("create-table", Param(name="name", type="snake", required=True))
SERVICE = scenario("create-service", Param(name="name", type="kebab", required=True))
PAGE = scenario(
    "add-page",
    Param(name="app", type="kebab", required=True),
    Param(name="name", type="string", required=True, pattern="[A-Za-z][A-Za-z0-9-]*"),
)
ENDPOINT = scenario(
    "add-proxy-endpoint",
    Param(name="proxy", type="kebab", required=True),
    Param(name="method", type="enum", choices=("GET", "POST", "PUT", "PATCH", "DELETE"), default="GET"),
    Param(name="path", type="string", required=True, pattern="/[a-z0-9/:_-]*"),
)
COMPONENT = scenario(
    "add-shared-component", Param(name="name", type="string", required=True, pattern="[A-Z][A-Za-z0-9]+")
)
APP = scenario("create-app", Param(name="name", type="kebab", required=True, pattern="dhg-[a-z0-9]+(-[a-z0-9]+)*"))
ENV = scenario("configure-environment", Param(name="name", type="string", required=True, pattern="[A-Z][A-Z0-9_]*"))
SCHEMA = scenario(
    "modify-schema",
    Param(name="table", type="snake", required=True),
    Param(name="column", type="snake", required=True),
)
REFACTOR = scenario("refactor-service", Param(name="name", type="kebab", required=True))
MERGE = scenario(
    "consolidate-pipelines",
    Param(name="source", type="string", required=True),
    Param(name="target", type="string", required=True),
)
PROXY = scenario("create-proxy-server", Param(name="name", type="kebab", required=True), Param(name="port", type="int"))

# the conventions these facts and patterns follow, stated (the built-in defaults name no prefix or domain)
CONV = load_conventions({"app_prefix": "dhg-", "table_domains": ["doc", "google", "dev", "email", "learn"]})

KNOWN = Repo.from_facts(
    [
        Fact(type="app", fields={"name": "dhg-hub"}),
        Fact(type="app", fields={"name": "dhg-admin-code"}),
        Fact(type="std_table_created", fields={"table": "doc_files"}),
        Fact(type="std_pipeline", fields={"domain": "google_sync"}),
        Fact(type="std_pipeline", fields={"domain": "document"}),
        Fact(type="service", fields={"name": "formatter-service"}),
    ],
    CONV,
)


def fill(sc: Scenario, text: str, known: Repo = KNOWN) -> slots.Filled:
    intent = slots.Intent(sc, text, text, known, CONV, subject_of(text, known))
    return slots.fill(intent)


def test_subject_is_rendered_per_type() -> None:
    text = "admin tools for managing user preferences"
    assert fill(TABLE, text).params == {"name": "user_preferences"}
    assert fill(SERVICE, text).params == {"name": "user-preferences"}


def test_called_quoted_and_identifiers() -> None:
    assert fill(TABLE, "a table called learn_topics").params == {"name": "learn_topics"}
    assert fill(TABLE, "add a table 'email messages'").params == {"name": "email_messages"}
    assert fill(SERVICE, "a new billing-service please").params == {"name": "billing-service"}


def test_existing_objects_fill_containers() -> None:
    filled = fill(PAGE, "add a settings page to dhg-hub")
    assert filled.params == {"app": "dhg-hub", "name": "settings"}
    assert "existing app" in filled.sources["app"].source and not filled.sources["app"].guessed
    assert fill(PAGE, "the hub needs an about page").params == {"app": "dhg-hub", "name": "about"}


def test_plain_names_count_only_next_to_their_kind() -> None:
    found = KNOWN.mentioned("move it into the document pipeline")[0]
    assert (found.kind, found.name) == ("pipeline", "document")
    assert KNOWN.mentioned("write a document about it") == []


def test_routes_methods_and_ports() -> None:
    filled = fill(ENDPOINT, "expose POST /api/uploads through md-server")
    assert filled.params == {"proxy": "md-server", "method": "POST", "path": "/api/uploads"}
    assert fill(PROXY, "a proxy server called drive-proxy on port 3010").params == {
        "name": "drive-proxy",
        "port": 3010,
    }


def test_naming_conventions_from_the_parameter_pattern() -> None:
    assert fill(COMPONENT, "a shared date picker component").params == {"name": "DatePicker"}
    assert fill(APP, "a new analytics app").params == {"name": "dhg-analytics"}
    assert fill(ENV, "configure an env var called anthropic_api_key").params == {"name": "ANTHROPIC_API_KEY"}


def test_labelled_parameters_and_existing_targets() -> None:
    assert fill(SCHEMA, "add a nullable archived_at column to doc_files").params == {
        "table": "doc_files",
        "column": "archived_at",
    }
    assert fill(REFACTOR, "split up the formatter-service, it is too big").params == {"name": "formatter-service"}
    assert fill(MERGE, "merge the google_sync and document pipelines").params == {
        "source": "google_sync",
        "target": "document",
    }


def test_missing_is_never_invented() -> None:
    filled = fill(PAGE, "add a page")
    assert "app" not in filled.params and filled.missing == ["app", "name"]
    assert fill(ENDPOINT, "add an endpoint").missing == ["proxy", "path"]

"""The slot filler on many wordings of the same thing, against the built-in library's scenarios and a small
repository: names come from the role a phrase plays (head, place, what for), not from one phrasing. Each case is
written unlike the evaluation sets, so a rule that only fits their wording fails here."""

from __future__ import annotations

from functools import cache

import pytest
from continuous.dsl.loader import load_rule_base
from continuous.dsl.model import RuleBase
from continuous.engine.facts import Fact
from continuous.planner import slots
from continuous.planner.conventions import default as conventions
from continuous.planner.grounding import Repo
from continuous.planner.slots.names import subject as subject_of


@cache
def rule_base() -> RuleBase:
    return load_rule_base()


REPO = Repo.from_facts(
    [
        Fact(type="app", fields={"name": "dhg-hub"}),
        Fact(type="app", fields={"name": "dhg-admin-code"}),
        Fact(type="table", fields={"name": "dev_tasks"}),
        Fact(type="table", fields={"name": "google_sources"}),
        Fact(type="table", fields={"name": "google_sources_experts"}),
        Fact(type="table", fields={"name": "sys_mime_types"}),
        Fact(type="table", fields={"name": "auth_user_profiles"}),
        Fact(type="table", fields={"name": "filter_user_profiles"}),
        Fact(type="table", fields={"name": "expert_profiles"}),
        Fact(type="table", fields={"name": "email_messages"}),
        Fact(type="table", fields={"name": "learn_media_topic_segments"}),
        Fact(type="pipeline", fields={"name": "gmail"}),
        Fact(type="command", fields={"name": "typecheck", "pipeline": "scripts"}),
        Fact(type="package_dependency", fields={"package": "supabase"}),
        Fact(type="package_dependency", fields={"package": "@supabase/supabase-js"}),
        Fact(type="package_dependency", fields={"package": "react-hook-form"}),
    ]
)


def fill(sid: str, text: str) -> slots.Filled:
    sc = rule_base().scenarios[sid]
    intent = slots.Intent(sc, text, text, REPO, conventions(), subject_of(text, REPO), rule_base=rule_base())
    return slots.fill(intent)


def params(sid: str, text: str) -> dict[str, object]:
    return dict(fill(sid, text).params)


@pytest.mark.parametrize(
    ("text", "package", "version"),
    [
        ("chore(deps): bump got from 10.7.0 to 11.8.5", "got", "11.8.5"),
        ("Bump sqlite3 from 5.0.2 to 5.0.3", "sqlite3", "5.0.3"),
        ("chore(deps): update dependency markdownlint-cli to ^0.33.0", "markdownlint-cli", "^0.33.0"),
        ("build(deps): bump @sentry/nextjs from 7.100.1 to 7.101.0 in /apps/web", "@sentry/nextjs", "7.101.0"),
        ("Upgrade Supabase JS client to v2", "@supabase/supabase-js", "2"),
        ("chore: upgrade openai sdk to 4.28", "openai", "4.28"),
        ("bump react hook form", "react-hook-form", None),
        ("chore(deps): bump the prisma group with 2 updates", "prisma", None),
        # a capital V is a version's mark too; the version bumped to beats one mentioned after it
        ("Upgrade react-hook-form to V8", "react-hook-form", "8"),
        ("Bump version of lodash to 4.17.21", "lodash", "4.17.21"),
        ("update react-email to 2.1.0 and resend to 3.2.0", "react-email", "2.1.0"),
        ("Update @sentry/nextjs from 7.1.0 to 7.2.0 (pulls in @sentry/core 9.1.0)", "@sentry/nextjs", "7.2.0"),
    ],
)
def test_packages_and_versions(text: str, package: str, version: str | None) -> None:
    got = params("update-dependencies", text)
    assert got.get("package") == package
    if version is not None:
        assert got.get("version") == version
    else:
        assert got.get("version") in (None, "latest")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Add sentry dsn to env vars with value from key vaults", "SENTRY_DSN"),
        ("feat(api): add launch darkly sdk key env variable", "LAUNCH_DARKLY_SDK_KEY"),
        ("support REDIS_URL environment variable", "REDIS_URL"),
        ("add VITE_SUPABASE_ANON_KEY to the env file", "SUPABASE_ANON_KEY"),
    ],
)
def test_environment_variable_names(text: str, name: str) -> None:
    assert params("configure-environment", text)["name"] == name


@pytest.mark.parametrize("text", ["Adding env variable to disable admin auth for tests", "add env example"])
def test_words_that_only_say_it_is_a_variable_name_none(text: str) -> None:
    filled = fill("configure-environment", text)
    assert "name" not in filled.params and "name" in filled.missing


def test_a_browser_prefix_chooses_the_browser_scope() -> None:
    assert params("configure-environment", "chore: add NEXT_PUBLIC_ANALYTICS_ID to .env.example")["scope"] == "browser"


@pytest.mark.parametrize(
    ("text", "method"),
    [
        ("API endpoint that fetches invoices", "GET"),
        ("create api route for updating user profile", "PATCH"),
        ("add endpoint for deleting dev tasks", "DELETE"),
        ("feat(api): add endpoint to rename the topic", "PATCH"),
        ("create product endpoint", "POST"),
        ("feat: add endpoint to delete a webhook", "DELETE"),
    ],
)
def test_methods_from_what_an_endpoint_does(text: str, method: str) -> None:
    assert params("add-proxy-endpoint", text)["method"] == method


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("feat: add claims/:id endpoint to admin api", "/claims/:id"),
        ("create get users api route", "/api/users"),
        ("API endpoint that fetches invoices", "/api/invoices"),
        # a method as written and the words every route of an API shares are no part of the route
        ("add a public status endpoint", "/api/status"),
        ("frontend API POST endpoint", "/api/frontend"),
    ],
)
def test_routes(text: str, path: str) -> None:
    assert params("add-proxy-endpoint", text)["path"] == path


@pytest.mark.parametrize(
    ("sid", "text", "name"),
    [
        ("create-table", "add the Webhook model", "webhook"),
        ("create-table", "add api keys table", "api_keys"),
        ("create-table", "add a table for saved searches", "saved_searches"),
        ("create-table", "add Integration and InstalledIntegration models", "integration"),
        ("add-pnpm-script", "add a typecheck script", "typecheck"),
        ("add-pnpm-script", "chore: add `pnpm clean` command", "clean"),
        ("add-shared-component", "create shared loading spinner component", "LoadingSpinner"),
        ("add-shared-component", "Add general Modal component", "Modal"),
        ("add-page", "adds about page", "about"),
        ("create-table", "add invoices and payments tables", "invoices"),
        ("add-shared-component", "add a Select component based on headless ui", "Select"),
        ("add-shared-component", "add a sortable table component", "SortableTable"),
        # a word of a kind the object may go in is a place only next to the name of one
        ("add-page", "add a service accounts page", "service-accounts"),
        ("add-cli-command", "add a sync pipeline command", "sync"),
        # "page UI": the UI of a page, no app
        ("add-page", "add a billing page UI", "billing"),
        ("add-shared-component", "add a ui component for toasts", "Toasts"),
        ("create-table", "create table heartbeats and migrate", "heartbeats"),
        ("add-page", "add a search and filter page", "search-filter"),
        # a noun of code or behaviour carries the name; a word of what sort of object it is names none
        ("create-service", "move the retry logic into its own service", "retry"),
        ("create-service", "Extract invoice numbering code into a reusable service", "invoice-numbering"),
        ("add-pnpm-script", "add a changelog helper script", "changelog"),
    ],
)
def test_names_of_new_objects(sid: str, text: str, name: str) -> None:
    assert params(sid, text).get("name") == name


@pytest.mark.parametrize(
    ("text", "table", "column"),
    [
        ("Add `metadata` jsonb column to email_messages table", "email_messages", "metadata"),
        ("Add mime_type column to sources_google", "google_sources", "mime_type"),
        ("add the column archived_at to google_sources", "google_sources", "archived_at"),
        # several names listed before one noun: the first; a participle and its preposition name one column
        ("add a status column to the invoices and payments tables", "invoices", "status"),
        ('Add "enabled" field to Product & ProductVariant', "product", "enabled"),
        ("add a deleted by column to invoices", "invoices", "deleted_by"),
        ("add created at and updated at columns to orders", "orders", "created_at"),
        # "to" before a participle is a place; a table named by the head noun of a longer name is a new one
        ("add tokens column to incoming webhooks table", "incoming_webhooks", "tokens"),
        ("add a project column to segments table", "segments", "project"),
    ],
)
def test_columns_and_their_tables(text: str, table: str, column: str) -> None:
    got = params("modify-schema", text)
    assert (got.get("table"), got.get("column")) == (table, column)


def test_a_short_form_several_tables_share_is_asked_for() -> None:
    filled = fill("add-rls-policy", "Add RLS policies to the user profiles table")
    assert "table" in filled.missing
    assert {c.value for c in filled.candidates["table"]} == {"auth_user_profiles", "filter_user_profiles"}


@pytest.mark.parametrize("text", ["Add RLS policies for all user-data tables", "add 4 policies per table"])
def test_every_table_is_no_one_table(text: str) -> None:
    filled = fill("add-rls-policy", text)
    assert "table" in filled.missing and not filled.not_found


def test_anon_access_is_public_read() -> None:
    assert params("add-rls-policy", "Add policy allowing anon users to read email_messages")["policy"] == "public_read"


@pytest.mark.parametrize(
    ("text", "target", "kind"),
    [
        ("Add test spec for components/ui/tabs.vue", "tabs", "component"),
        ("added tests to remaining components", None, "component"),
    ],
)
def test_what_tests_cover(text: str, target: str | None, kind: str) -> None:
    got = params("add-tests", text)
    assert got.get("kind") == kind
    if target is not None:
        assert got.get("target") == target


def test_a_page_that_displays_data_manages_it() -> None:
    got = params("add-page", "display the audit entries in the hub")
    assert got["app"] == "dhg-hub" and got["entity"] == "audit_entries"


def test_configuring_is_no_data_a_page_manages() -> None:
    assert "entity" not in params("add-page", "Add a settings page to configure the dash in the admin area")


def test_a_commit_scope_is_no_subject() -> None:
    assert subject_of("fix(db-mongodb): bump mongoose to 8.24.1", REPO) != "db-mongodb"


@pytest.mark.parametrize(
    ("text", "head"),
    [
        ("[Feature] Add a settings page", "a settings page"),
        ("Feature request: dark mode toggle component", "dark mode toggle component"),
        ("🗃️ db: add notification tables", "notification tables"),
        ("Feat(core, api): Add create inventory item endpoint", "create inventory item endpoint"),
        ("Feat/migrations cli", "migrations cli"),
        ("adds about page", "about page"),
    ],
)
def test_prefixes_and_tags_are_no_words_of_the_request(text: str, head: str) -> None:
    from continuous.planner.phrases import analyse

    found = analyse(text).head
    assert found is not None and found.text == head


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("Add an API route that uploads avatars", "trailing"),
        ("add endpoint to delete a webhook", "trailing"),
        ("add hero image field to posts instead of the meta image", "place"),
        ("add a column to the tasks table", "place"),
    ],
)
def test_what_for_and_where(text: str, role: str) -> None:
    from continuous.planner.phrases import analyse

    assert [p.role for p in analyse(text).phrases][1] == role


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("add a nickname property to the Member model", "nickname"),
        ("feat: add currency attribute to the Invoice entity", "currency"),
        ("add an archivedAt prop on the Folder type", "archived_at"),
    ],
)
def test_a_part_word_after_the_name_is_no_part_of_it(text: str, column: str) -> None:
    assert params("modify-schema", text)["column"] == column


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("add a husky prepare script", "prepare"),
        ("chore: add prepatch changesets script", "prepatch"),
        ("add the playwright postinstall script to the root", "postinstall"),
    ],
)
def test_a_script_named_after_a_lifecycle_hook_is_the_hook(text: str, name: str) -> None:
    assert params("add-pnpm-script", text)["name"] == name


@pytest.mark.parametrize(
    ("text", "package"),
    [
        ("upgraded fastify and pino", "fastify"),
        ("chore: update zod, yup and joi", "zod"),
        ("upgrade fastify and switch to its new logger", "fastify"),
    ],
)
def test_the_first_of_several_packages_names_the_package(text: str, package: str) -> None:
    assert params("update-dependencies", text)["package"] == package


TABLE_FACTS = [
    Fact(type="table", fields={"name": "crm_accounts"}),
    Fact(type="table", fields={"name": "dev_tasks"}),
]


@pytest.mark.parametrize(
    ("text", "table", "column"),
    [
        ("persist a renewal date on crm accounts", "crm_accounts", "renewal_date"),
        ("keep a closing date for the crm_accounts table", "crm_accounts", "closing_date"),
        ("save the reviewer in dev_tasks", "dev_tasks", "reviewer"),
    ],
)
def test_something_kept_on_an_existing_table_is_its_column(text: str, table: str, column: str) -> None:
    """Keeping a thing without an object word of its own on a table the repository holds adds a column to it;
    the model's reading "keep it in a table" becomes the column, never a second table."""
    from continuous.planner.suggest import load_context, suggest

    result = suggest(text, load_context(use_repo=False, facts=TABLE_FACTS))
    requested = [(s.scenario, s.params) for s in result.plan if s.role == "requested"]
    assert [sid for sid, _p in requested] == ["modify-schema"]
    assert requested[0][1]["table"] == table
    assert requested[0][1]["column"] == column
    assert "create-table" not in [s.scenario for s in result.plan]


@pytest.mark.parametrize(
    "text", ["store audit events in the database", "store login attempts in a new table", "persist crm notes"]
)
def test_something_kept_nowhere_existing_is_still_a_table(text: str) -> None:
    from continuous.planner.suggest import load_context, suggest

    result = suggest(text, load_context(use_repo=False, facts=TABLE_FACTS))
    assert [s.scenario for s in result.plan if s.role == "requested"] == ["create-table"]


@pytest.mark.parametrize(
    ("sid", "text", "param", "value"),
    [
        (
            "configure-environment",
            "add a stripe secret key placeholder to the env template",
            "name",
            "STRIPE_SECRET_KEY",
        ),
        ("modify-schema", "add attribute nickname to the Member entity", "column", "nickname"),
        ("add-page", "Billing page implementation", "name", "Billing"),
    ],
)
def test_words_that_only_say_what_sort_of_thing_it_is(sid: str, text: str, param: str, value: str) -> None:
    assert params(sid, text)[param] == value


@pytest.mark.parametrize(
    ("text", "table", "column"),
    [
        ("deleted_at timestamp for invoices", "invoices", "deleted_at"),
        ("a priority column for dev tasks", "dev_tasks", "priority"),
    ],
)
def test_what_a_part_is_for_is_its_table(text: str, table: str, column: str) -> None:
    got = params("modify-schema", text)
    assert (got["table"], got["column"]) == (table, column)


# ---------------------------------------------------------------- generalising the last round's slot rules


def test_a_noun_of_making_before_the_noun_is_part_of_the_name() -> None:
    """ "creation" only names the act after the object's noun ("Billing page implementation"); before it, it is a
    word of the name."""
    assert params("modify-schema", "add a creation source column to dev_tasks")["column"] == "creation_source"
    assert params("add-page", "Invoice page creation")["name"] == "Invoice"


def test_an_english_word_that_starts_a_script_name_is_no_hook() -> None:
    from continuous.planner.suggest import _ordinary_words

    repo = Repo.from_facts([], conventions(), ordinary=_ordinary_words())

    def name(text: str) -> object:
        sc = rule_base().scenarios["add-pnpm-script"]
        intent = slots.Intent(sc, text, text, repo, conventions(), subject_of(text, repo), rule_base=rule_base())
        return slots.fill(intent).params.get("name")

    assert str(name("add a prepare docs script")).replace("_", "-") == "prepare-docs"
    assert name("add a lefthook prepare script") == "prepare"
    assert name("chore: add postpack tarball script") == "postpack"


def test_the_folders_of_a_file_path_name_no_object() -> None:
    repo = Repo.from_facts(
        [Fact(type="table", fields={"name": "ui_widgets"}), Fact(type="app", fields={"name": "dhg-hub"})],
        conventions(),
    )
    assert [m.name for m in repo.mentioned("add a test spec for ui/widgets/clock.vue")] == []
    assert [m.name for m in repo.mentioned("add tests for apps/dhg-hub/src/main.ts")] == ["dhg-hub"]
    assert [m.name for m in repo.mentioned("add GET /api/ui-widgets endpoint")] != []
    text = "add a test spec for ui/widgets/clock.vue"
    sc = rule_base().scenarios["add-tests"]
    intent = slots.Intent(sc, text, text, repo, conventions(), subject_of(text, repo), rule_base=rule_base())
    assert slots.fill(intent).params.get("target") == "clock"


@pytest.mark.parametrize(
    ("request_text", "method"),
    [
        ("create the invoice draft and endpoint", "POST"),
        ("register device tokens and endpoint", "POST"),
        ("add a reminder model and endpoint", None),
    ],
)
def test_a_piece_without_a_verb_shares_the_requests_verb(request_text: str, method: str | None) -> None:
    sc = rule_base().scenarios["add-proxy-endpoint"]
    intent = slots.Intent(
        sc, "endpoint", request_text, REPO, conventions(), subject_of(request_text, REPO), rule_base=rule_base()
    )
    got = slots.fill(intent)
    shared = "whole request" in (got.sources["method"].source if "method" in got.sources else "")
    assert (got.params["method"] if shared else None) == method


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("add a billing email column to dev_tasks", "billing_email"),
        ("add a new status column to dev_tasks", "status"),
        ("add a unique slug column to dev_tasks", "slug"),
        ("add a required reviewer name field to dev_tasks", "reviewer_name"),
        ("add an archived_at column to dev_tasks", "archived_at"),
    ],
)
def test_a_column_is_named_by_all_the_words_before_its_noun(text: str, column: str) -> None:
    assert params("modify-schema", text)["column"] == column


@pytest.mark.parametrize(
    ("text", "table"),
    [
        ("add a retries column to webhook deliveries", "webhook_deliveries"),
        ("add a theme column to the page settings table", "page_settings"),
    ],
)
def test_a_word_for_another_kind_is_part_of_a_tables_name(text: str, table: str) -> None:
    assert params("modify-schema", text)["table"] == table


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("add an overview page for payouts", "PayoutsOverview"),
        ("create a history page for audit entries, with filters", "AuditEntriesHistory"),
        ("add a usage page for payouts", "Usage"),
    ],
)
def test_a_view_word_alone_is_a_view_of_the_data_the_phrase_is_about(text: str, name: str) -> None:
    from continuous.planner.grounding import pascal

    assert pascal(str(params("add-page", text)["name"])) == name


def test_a_word_that_says_it_is_a_variables_file_is_no_example_value() -> None:
    got = params("configure-environment", "add RESEND_API_KEY to the env example")
    assert got["name"] == "RESEND_API_KEY"
    assert got.get("example") in (None, "")


def test_a_coined_word_a_non_creating_verb_acts_on_is_its_object() -> None:
    """ "Deprecate flumbix": one word no dictionary knows names the object, reported as not found; an ordinary
    phrase names none."""
    from continuous.planner.suggest import _ordinary_words

    repo = Repo.from_facts([Fact(type="service", fields={"name": "billing-service"})], conventions(), _ordinary_words())

    def name(text: str) -> slots.Filled:
        sc = rule_base().scenarios["deprecate-service"]
        intent = slots.Intent(sc, text, text, repo, conventions(), subject_of(text, repo), rule_base=rule_base())
        return slots.fill(intent)

    got = name("deprecate flumbix")
    assert got.params.get("name") == "flumbix"
    assert ("service", "flumbix") in got.not_found
    assert "name" not in name("deprecate the old stuff").params


@pytest.mark.parametrize(
    ("text", "package"),
    [
        ("chore: upgrade Nuxt.js to 3.12", "nuxt"),
        ("bump tailwind from 3.3.0 to 3.4.0", "tailwindcss"),
        ("bump chart.js from 4.4.0 to 4.4.1", "chart.js"),
        ("bump @sentry/nextjs to 8.1", "@sentry/nextjs"),
    ],
)
def test_a_products_own_spelling_is_the_package_it_is_published_as(text: str, package: str) -> None:
    assert params("update-dependencies", text)["package"] == package


@pytest.mark.parametrize(
    ("sid", "text", "name"),
    [
        ("add-shared-component", "add a Toast component system", "Toast"),
        ("create-proxy-server", "add a reverse proxy for posthog", "posthog"),
        ("create-service", "a dedicated service for payout reports", "payout-reports"),
        ("create-proxy-server", "add a backend proxy", "backend"),
    ],
)
def test_words_of_a_set_or_a_sort_name_no_object(sid: str, text: str, name: str) -> None:
    got = str(params(sid, text)["name"])
    assert got.removesuffix("-proxy").lower().replace("_", "-") == name.lower()


def test_a_fixed_phrase_is_never_split() -> None:
    from continuous.planner.decompose import split

    assert [c.text for c in split("add a copy and paste toolbar component")] == [
        "add a copy and paste toolbar component"
    ]
    assert str(params("add-shared-component", "add a copy and paste toolbar component")["name"]) in (
        "CopyPasteToolbar",
        "CopyAndPasteToolbar",
    )


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("add a tooltip", "Tooltip"),
        ("add a confirm dialog", "ConfirmDialog"),
        ("create a reusable Avatar component", "Avatar"),
    ],
)
def test_a_ui_element_asked_for_alone_names_the_component(text: str, name: str) -> None:
    assert params("add-shared-component", text)["name"] == name


def test_a_part_noun_before_the_name_makes_the_place_its_table() -> None:
    assert params("modify-schema", "add field reminder_at to crm accounts") == {
        **params("modify-schema", "add field reminder_at to crm accounts"),
        "table": "crm_accounts",
        "column": "reminder_at",
    }
    got = params("modify-schema", "add field renewal notes to crm accounts")
    assert (got["table"], got["column"]) == ("crm_accounts", "renewal_notes")


def test_a_set_noun_after_another_kinds_word_is_part_of_the_name() -> None:
    assert params("create-table", "create alerting system tables")["name"] == "alerting_system"


@pytest.mark.parametrize(
    ("text", "app"),
    [
        ("feat(hub): add a changelog page", "dhg-hub"),
        ("feat(hub): add a changelog page to dhg-admin-code", "dhg-admin-code"),
        ("feat(ui): add a changelog page", None),
    ],
)
def test_a_commit_scope_is_where_only_when_the_request_says_nothing(text: str, app: str | None) -> None:
    assert params("add-page", text).get("app") == app


def test_a_place_the_request_names_beats_the_commit_scope() -> None:
    got = params("modify-schema", "feat(dev-tasks): add a due column to the Payout table")
    assert got["table"] == "payout"


def test_an_endpoint_without_a_subject_is_routed_by_the_words_before_its_noun() -> None:
    sc = rule_base().scenarios["add-proxy-endpoint"]
    text = "add a readiness probe endpoint"
    intent = slots.Intent(sc, text, text, REPO, conventions(), None, rule_base=rule_base())
    assert slots.fill(intent).params.get("path") == "/api/readiness-probe"


def test_what_is_kept_ends_where_a_quantifier_starts() -> None:
    assert params("create-table", "create a table to store login attempts per device")["name"] == "login_attempts"


@pytest.mark.parametrize(
    ("text", "table", "column"),
    [
        ("add a column for the billing contact to crm accounts", "crm_accounts", "billing_contact"),
        ("add a column to dev_tasks for the reviewer", "dev_tasks", "reviewer"),
    ],
)
def test_where_a_part_goes_is_its_table_and_what_it_is_for_its_name(text: str, table: str, column: str) -> None:
    got = params("modify-schema", text)
    assert (got["table"], got["column"]) == (table, column)


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("add snapshot tests for the billing tab and route", 1),
        ("a proxy server for uploads with monitoring", 2),
        ("create a table for invoices and expose it over the api", 2),
    ],
)
def test_a_bare_verb_after_a_phrase_is_a_noun_of_its_list(text: str, pieces: int) -> None:
    from continuous.planner.decompose import split

    assert len(split(text)) == pieces


def test_a_table_named_without_its_domain() -> None:
    """ "the tasks table" is dev_tasks where dev is one of the repository's table domains (detected from its
    tables, or set in .continuous.toml); without that convention, dev_tasks is a narrower kind of tasks."""
    from continuous.planner.conventions import load as load_conventions

    text = "add a priority column to the tasks table"
    sc = rule_base().scenarios["modify-schema"]
    for conv, table in (
        (load_conventions({"table_domains": ["dev", "google"]}), "dev_tasks"),
        (conventions(), "tasks"),
    ):
        repo = Repo.from_facts([Fact(type="table", fields={"name": "dev_tasks"})], conv)
        got = slots.fill(slots.Intent(sc, text, text, repo, conv, subject_of(text, repo), rule_base=rule_base()))
        assert (got.params.get("table"), got.params.get("column")) == (table, "priority")


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("add playwright tests for the checkout page", "checkout"),
        ("Add middleware integration tests", "middleware"),
        ("feat: add organization e2e test", "organization"),
        ("write unit tests for the invoice formatter", "invoice_formatter"),
    ],
)
def test_the_sort_of_test_is_not_what_it_covers(text: str, target: str) -> None:
    assert params("add-tests", text).get("target") == target


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("add parsing tests for InvoiceFormatter", "InvoiceFormatter"),
        ("add caching tests for parseWebhookBody", "parseWebhookBody"),
        ("add retry tests for the QueueWorker", "QueueWorker"),
    ],
)
def test_a_name_of_code_is_what_tests_cover_before_the_words_before_tests(text: str, target: str) -> None:
    assert params("add-tests", text).get("target") == target


def test_one_word_of_a_longer_proper_name_is_no_name_of_code() -> None:
    assert params("add-tests", "add load tests for PayFlow Gateway").get("target") != "PayFlow"


@pytest.mark.parametrize(
    ("text", "table"),
    [
        ("add a shipped_on field to the Order entity", "order"),
        ("add a notes column to the priority table", "priority"),
    ],
)
def test_the_name_of_the_table_chooses_no_type_of_its_column(text: str, table: str) -> None:
    got = fill("modify-schema", text)
    assert got.params["table"] == table
    assert "type" not in got.params or got.sources["type"].source.find(table) < 0


def test_the_words_of_a_column_still_choose_its_type() -> None:
    assert params("modify-schema", "add a sort order column to dev_tasks").get("type") == "integer"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("a migration for table audit-entries", "audit_entries"),
        ("add the schema for table shipping_zones", "shipping_zones"),
    ],
)
def test_a_word_of_the_kind_asked_for_is_no_part_of_the_name_it_introduces(text: str, name: str) -> None:
    assert params("create-table", text)["name"] == name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("add carts and order_lines tables", "carts"),
        ("create the refunds, payout_batches and fees tables", "refunds"),
    ],
)
def test_of_names_listed_before_a_plural_noun_the_first_is_this_one_identifier_or_not(text: str, name: str) -> None:
    assert params("create-table", text)["name"] == name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("add a thumbnail regeneration script for old uploads", "thumbnail-regeneration"),
        ("chore: add invoice reminder script for unpaid bills", "invoice-reminder"),
    ],
)
def test_a_command_asked_for_by_a_neighbouring_kinds_noun_is_named_by_the_words_before_it(text: str, name: str) -> None:
    assert params("add-cli-command", text)["name"] == name


def test_a_verb_alone_before_the_neighbouring_noun_says_what_sort_not_which() -> None:
    assert params("add-cli-command", "add a fix script for orphan uploads").get("name") != "fix"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("extract db config logic into a separate service", "db-config"),
        ("extract the UI config logic into a service of its own", "ui-config"),
    ],
)
def test_the_words_a_noun_of_code_carries_name_it_even_when_they_look_like_other_words(text: str, name: str) -> None:
    assert params("create-service", text)["name"] == name


@pytest.mark.parametrize(
    ("text", "package", "version"),
    [
        ("Upgraded luxon to 3.4.4.", "luxon", "3.4.4"),
        ("upgrade base64-js2 to version 1.2.0", "base64-js2", "1.2.0"),
        ("bump sharp-resize", "sharp-resize", None),
        ("upgrade the dev deps", None, None),
    ],
)
def test_a_package_name_keeps_its_digits_and_hyphens_and_a_version_its_sentence_end(
    text: str, package: str | None, version: str | None
) -> None:
    got = params("update-dependencies", text)
    assert (got.get("package"), got.get("version") if version else None) == (package, version)


def test_the_words_of_what_tests_cover_still_choose_its_kind() -> None:
    assert params("add-tests", "add tests to the invoice card").get("kind") == "component"


@pytest.mark.parametrize(
    ("sid", "text", "table"),
    [
        ("add-rls-policy", "Enable RLS on payouts", "payouts"),
        ("add-rls-policy", "add a policy on invoices so owners can read them", "invoices"),
        ("modify-schema", "add a locale field to notifications", "notifications"),
    ],
)
def test_a_bare_place_after_a_part_of_a_table_names_the_table(sid: str, text: str, table: str) -> None:
    assert params(sid, text).get("table") == table


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("set up prometheus monitoring", None),
        ("add crash reporting to the checkout proxy", "checkout"),
        ("add error tracking for the gmail pipeline", "gmail"),
    ],
)
def test_the_sort_of_monitoring_or_its_tool_is_not_what_is_monitored(text: str, target: str | None) -> None:
    assert params("setup-monitoring", text).get("target") == target


@pytest.mark.parametrize(
    ("sid", "text", "name"),
    [
        ("create-app", "add a partner portal app skeleton", "partner-portal"),
        ("add-page", "add the checkout page scaffolding", "checkout"),
    ],
)
def test_a_noun_of_an_objects_first_shape_after_its_noun_is_no_part_of_its_name(sid: str, text: str, name: str) -> None:
    assert str(params(sid, text)["name"]).lower().endswith(name)


@pytest.mark.parametrize(
    ("text", "method", "path"),
    [
        ("add an endpoint to approve pending refunds", "POST", None),
        ("add a resend invite endpoint", "POST", "/api/resend-invite"),
        ("create get orders api route", "GET", "/api/orders"),
    ],
)
def test_an_action_on_a_resource_is_a_post_named_by_its_verb(text: str, method: str, path: str | None) -> None:
    got = params("add-proxy-endpoint", text)
    assert got.get("method") == method
    if path is not None:
        assert got.get("path") == path


@pytest.mark.parametrize(
    "text", ["turn on RLS on supabase", "add policies for every table and check them with the policy tester"]
)
def test_a_place_that_names_another_kind_or_a_tool_is_no_table_of_a_policy(text: str) -> None:
    assert "table" not in params("add-rls-policy", text)


@pytest.mark.parametrize(("text", "path"), [("add a me endpoint", "/api/me"), ("build me an endpoint", None)])
def test_a_pronoun_of_the_one_asking_right_before_an_endpoint_names_its_route(text: str, path: str | None) -> None:
    assert params("add-proxy-endpoint", text).get("path") == path


@pytest.mark.parametrize(
    ("text", "package"),
    [("upgrade the Vue CLI to 5.0.8", "@vue/cli"), ("bump sentry cli", "@sentry/cli"), ("bump vue to 3.4", "vue")],
)
def test_a_products_command_line_tool_is_its_scoped_package(text: str, package: str) -> None:
    assert params("update-dependencies", text)["package"] == package


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("add e2e tests for the team access page", "team_access"),
        ("write unit tests for the type registry", "type_registry"),
    ],
)
def test_a_word_of_what_no_repository_object_is_stays_in_what_tests_cover(text: str, target: str) -> None:
    assert params("add-tests", text).get("target") == target


@pytest.mark.parametrize(
    ("text", "method"),
    [
        # the act nearest the endpoint's noun: a bare verb, a noun of the act, a word of an identifier
        ("a webhook retry endpoint", "POST"),
        ("expose an invoice removal endpoint", "DELETE"),
        ("new account registration API endpoint", "POST"),
        ("implement the `deleteComment` endpoint", "DELETE"),
        ("an `orders.list` endpoint", "GET"),
        ("add a report export endpoint", "GET"),
        # a verb after a word of the name is a word of the name, no order
        ("batch delete endpoint for comments", "DELETE"),
        # a gerund after "for" says what it does
        ("add an endpoint for uploading avatars", "POST"),
    ],
)
def test_the_act_an_endpoints_name_says_is_its_method(text: str, method: str) -> None:
    assert params("add-proxy-endpoint", text).get("method") == method


def test_a_plural_word_of_an_endpoints_name_is_data_not_its_act() -> None:
    # "lists" and "views" may be data; only a bare verb nearest the noun says what the endpoint does
    assert params("add-proxy-endpoint", "add a shopping lists endpoint").get("method") is None


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("add GET /api/orders/[orderId]/items route", "/api/orders/:orderid/items"),
        ("new DELETE /v1/keys/[id] endpoint", "/v1/keys/:id"),
    ],
)
def test_a_file_system_routers_parameter_segment_is_a_route_parameter(text: str, path: str) -> None:
    assert params("add-proxy-endpoint", text).get("path") == path


@pytest.mark.parametrize(
    ("text", "package"),
    [
        ("build(deps): vuejs upgrade to 3.5", "vue"),
        ("ci(deps): lodash upgrade to 4.17.21", "lodash"),
    ],
)
def test_a_commit_prefix_names_no_package_and_a_verb_ends_the_name(text: str, package: str) -> None:
    assert params("update-dependencies", text).get("package") == package


def test_a_commit_type_alone_is_no_package() -> None:
    assert "package" not in params("update-dependencies", "build: refresh packages")


@pytest.mark.parametrize(
    ("sid", "text", "name"),
    [
        ("add-page", "add a new profile page", "Profile"),
        ("add-page", "create a dashboard page in dhg-hub", "Dashboard"),
        ("add-page", "expose billing history as a dedicated Invoices page", "Invoices"),
        ("create-app", "create a standalone kiosk app", "kiosk"),
        ("create-service", "add a singleton cache service", "cache"),
        ("create-service", "make a dedicated pdf rendering service", "pdf-rendering"),
    ],
)
def test_a_sort_word_before_a_name_and_what_follows_as_name_the_object(sid: str, text: str, name: str) -> None:
    got = params(sid, text).get("name")
    assert str(got).lower().replace("-", "") == name.lower().replace("-", "")


def test_a_word_of_the_kind_that_is_the_kinds_own_noun_names_nothing() -> None:
    # "a table migration": the kind's own word before a noun of the kind is no name
    assert params("create-table", "Create table migration").get("name") != "table"


@pytest.mark.parametrize(
    "text",
    [
        "turn on RLS for the remaining unprotected tables",
        "enable row level security on the existing tables",
        "lock down legacy tables with RLS policies",
    ],
)
def test_a_sort_of_several_tables_is_no_one_table(text: str) -> None:
    assert "table" not in params("add-rls-policy", text)


@pytest.mark.parametrize(
    ("text", "table"),
    [
        ("enable RLS on the invoices and payments tables", "invoices"),
        ("add an RLS policy for the read-only replicas table", "read_only_replicas"),
        ("add RLS for the time-off requests table", "time_off_requests"),
    ],
)
def test_a_hyphenated_word_starts_a_name_its_next_words_go_on_with(text: str, table: str) -> None:
    assert params("add-rls-policy", text).get("table") == table


@pytest.mark.parametrize(
    ("text", "table", "column"),
    [
        # the part's name given alone, then where it goes
        ("added last_seen_at in UserSession", "user_session", "last_seen_at"),
        # no place: a plain word before the part's name given outright is its table
        ("add invoice `paid_at` column", "invoice", "paid_at"),
        ("add workspace billing_email field", "workspace", "billing_email"),
        ("add post is pinned column", "post", "is_pinned"),
    ],
)
def test_where_a_part_named_outright_goes(text: str, table: str, column: str) -> None:
    got = params("modify-schema", text)
    assert (got.get("table"), got.get("column")) == (table, column)


def test_plain_words_before_a_part_noun_stay_the_parts_name() -> None:
    # nothing given outright: "user verifications" may be one column's name, so no table is guessed
    got = params("modify-schema", "add user verifications column")
    assert "table" not in got


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # a word of the kind between two words of the name is one of them
        ("create the tenant model usage quotas table", "tenant_model_usage_quotas"),
        # a hyphenated compound among other words is one word of the name, not the name
        ("add an org opt-in preferences table", "org_opt_in_preferences"),
        ("add a new rate-limits table", "rate_limits"),
    ],
)
def test_every_word_before_the_tables_noun_names_it(text: str, name: str) -> None:
    assert params("create-table", text).get("name") == name


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("policy so authenticated users can insert into dev_tasks", "authenticated_write"),
        ("add RLS on dev_tasks allowing update for authenticated users", "authenticated_write"),
        ("add RLS on dev_tasks for authenticated users", "authenticated_read"),
    ],
)
def test_a_longer_phrase_over_the_same_words_chooses_the_policy(text: str, policy: str) -> None:
    assert params("add-rls-policy", text).get("policy") == policy


@pytest.mark.parametrize(
    ("sid", "text", "name"),
    [
        ("create-service", "a YouTube transcripts service", "youtube-transcripts"),
        ("create-table", "add a LinkedIn profiles table", "linkedin_profiles"),
        # PascalCase keeps the product's capital
        ("add-shared-component", "a PayPal checkout button component", "PayPalCheckoutButton"),
    ],
)
def test_a_product_spelt_with_an_inner_capital_is_one_word_of_a_name(sid: str, text: str, name: str) -> None:
    assert params(sid, text).get("name") == name


@pytest.mark.parametrize(
    ("text", "path"),
    [
        # a clause about what happens at the endpoint names no route when the words before its noun do
        ("add a callback endpoint where the provider posts the signed token", "/api/callback"),
        ("add an invoices endpoint where admins approve refunds", "/api/invoices"),
    ],
)
def test_a_relative_clause_is_no_route_when_the_head_names_one(text: str, path: str) -> None:
    assert params("add-proxy-endpoint", text).get("path") == path


def test_a_hyphenated_name_of_a_kebab_object_stays_whole() -> None:
    # scripts are named in kebab-case: "release-it" is the name as written, not a compound of a longer one
    assert params("add-pnpm-script", "add a release-it canary script").get("name") == "release-it"


def test_a_table_may_be_named_by_five_words_before_its_noun() -> None:
    # database names join many words; other objects keep the shorter limit
    text = "create a partner payout ledger audit entries table"
    assert params("create-table", text).get("name") == "partner_payout_ledger_audit_entries"
    assert "name" not in params("add-page", "add a partner payout ledger audit entries page")


@pytest.mark.parametrize(
    ("text", "table"),
    [
        ("add an RLS policy for invoice line items access", "invoice_line_items"),
        # who gets access, or a word that chooses the policy, names no table
        ("add RLS for admin access", None),
        ("add RLS for anonymous user access", None),
    ],
)
def test_the_words_before_a_policys_own_noun_name_its_table(text: str, table: str | None) -> None:
    assert params("add-rls-policy", text).get("table") == table


@pytest.mark.parametrize(
    ("text", "name"),
    [("a reusable read more component", "ReadMore"), ("add a new view all button component", "ViewAllButton")],
)
def test_a_phrase_of_a_screens_wording_is_one_word_of_a_name(text: str, name: str) -> None:
    assert params("add-shared-component", text).get("name") == name


@pytest.mark.parametrize(
    ("text", "name"),
    [("add the oauth client secret to .env.example", "OAUTH_CLIENT_SECRET"), ("add jwt secret env var", "JWT_SECRET")],
)
def test_a_secret_after_another_word_of_a_variables_name_is_part_of_it(text: str, name: str) -> None:
    assert params("configure-environment", text).get("name") == name


def test_a_secret_alone_names_no_variable() -> None:
    assert "name" not in params("configure-environment", "add the secret to the env file")


@pytest.mark.parametrize(
    "text", ["write a migration for the last_login_at column", "new migration for a deleted_by field"]
)
def test_a_phrase_about_a_part_names_no_table_of_it(text: str) -> None:
    assert "table" not in params("modify-schema", text)


def test_a_term_spelt_with_an_inner_capital_is_one_word_of_a_table_name() -> None:
    assert params("create-table", "add a SaaS tenant limits table").get("name") == "saas_tenant_limits"

"""Names in a request are grounded in the repository's facts: identifiers anywhere, the words of a name, short
forms without the app prefix, kind suffix or table domain, aliases such as a server's display name, and package
names however they are spelt; a plain word names something only next to its kind or as a whole noun phrase."""

from __future__ import annotations

from continuous.engine.facts import Fact
from continuous.planner.conventions import load as load_conventions
from continuous.planner.grounding import Repo

# the conventions these facts follow, stated (the built-in defaults name no prefix or domain)
CONV = load_conventions({"app_prefix": "dhg-", "table_domains": ["dev", "email", "learn", "google"]})

FACTS = [
    Fact(type="app", fields={"name": "dhg-hub"}),
    Fact(type="app", fields={"name": "dhg-admin-code"}),
    Fact(type="app", fields={"name": "dhg-admin-suite"}),
    Fact(type="table", fields={"name": "dev_tasks"}),
    Fact(type="table", fields={"name": "email_messages"}),
    Fact(type="table", fields={"name": "learn_topics"}),
    Fact(type="rls_policy", fields={"table": "allowed_emails", "policy": "allowed_emails_owner"}),
    Fact(type="pipeline", fields={"name": "presentations"}),
    Fact(type="pipeline", fields={"name": "gmail", "wrapper": "gmail-cli.sh"}),
    Fact(type="pipeline", fields={"name": "google_sync"}),
    Fact(type="pipeline", fields={"name": "database"}),
    Fact(type="command", fields={"pipeline": "presentations", "name": "export"}),
    Fact(type="service", fields={"name": "formatter-service"}),
    Fact(type="server", fields={"name": "git-api-server", "alias": "Git API Server (dhg-admin-code)", "port": "3009"}),
    Fact(type="dependency", fields={"package": "react-hot-toast", "version": "^2", "filter": "dhg-hub"}),
    Fact(type="dependency", fields={"package": "@supabase/supabase-js", "version": "^2", "filter": "root"}),
]
REPO = Repo.from_facts(FACTS, CONV, ordinary=lambda w: w not in {"gmail", "supabase"})


def named(text: str) -> list[tuple[str, str, str]]:
    return [(m.kind, m.name, text[m.start : m.end]) for m in REPO.mentioned(text)]


def test_kinds_come_from_fact_types_fields_and_aliases() -> None:
    assert REPO.names("table") == {"dev_tasks", "email_messages", "learn_topics"}
    # a kind with facts of its own is known from them: an rls_policy's table may be a name a later migration
    # renamed; a kind with none is known from the fields that name one
    assert "allowed_emails" not in REPO.names("table")
    assert REPO.names("pipeline") == {"gmail", "google_sync", "database", "presentations"}
    only_fields = Repo.from_facts([Fact(type="std_pipeline", fields={"domain": "media_processing"})])
    assert only_fields.names("pipeline") == {"media_processing"}
    assert REPO.names("proxy") == {"git-api-server"}
    assert REPO.names("package") == {"react-hot-toast", "@supabase/supabase-js"}
    assert REPO.entity("proxy", "git-api-server").field("port") == "3009"  # type: ignore[union-attr]


def test_identifiers_and_the_words_of_a_name() -> None:
    assert named("store a due date on dev tasks") == [("table", "dev_tasks", "dev tasks")]
    assert ("pipeline", "google_sync", "google sync") in named("sync the google sync pipeline")
    assert named("add a command to dhg-hub") == [("app", "dhg-hub", "dhg-hub")]


def test_short_forms_of_names() -> None:
    assert ("app", "dhg-hub", "hub") in named("add a settings page to the hub")
    assert ("app", "dhg-admin-code", "admin code") in named("show it in the admin code app")
    assert ("service", "formatter-service", "formatter service") in named("deprecate the formatter service")
    assert ("table", "email_messages", "messages") in named("add rls to the messages table")


def test_servers_by_their_display_name_and_packages_by_their_words() -> None:
    assert ("proxy", "git-api-server", "git api server") in named("monitor the git api server")
    assert ("package", "react-hot-toast", "react hot toast") in named("Add react hot toast")
    assert ("package", "@supabase/supabase-js", "@supabase/supabase-js") in named("bump @supabase/supabase-js")


def test_plain_words_need_their_kind_or_a_noun_phrase() -> None:
    assert ("pipeline", "gmail", "gmail") in named("add a command to list labels to gmail")  # no dictionary word
    assert named("store user preferences in the database") == []  # "database" is a word first
    assert ("pipeline", "database", "database") in named("add a command to the database pipeline")
    assert ("pipeline", "presentations", "presentations") in named("create a new presentations pipeline")
    assert named("prepare the presentations for monday") == []
    assert named("fix the tests for the report") == []


def test_lookup_and_candidates() -> None:
    assert REPO.lookup("app", "hub") == "dhg-hub"
    assert REPO.lookup("table", "dev task") == "dev_tasks"
    assert REPO.lookup("app", "admin") is None  # two apps have that word
    assert REPO.candidates("app", "admin") == ["dhg-admin-code", "dhg-admin-suite"]


def test_an_old_name_of_a_table_names_the_table_it_became() -> None:
    facts = [
        *FACTS,
        Fact(type="table", fields={"name": "expert_profiles"}),
        Fact(type="table_alias", fields={"table": "expert_profiles", "alias": "experts"}),
        # a chain of renames (a document lists each step): the middle name no longer exists
        Fact(type="table_alias", fields={"table": "expert_citation_aliases", "alias": "citation_expert_aliases"}),
        Fact(type="table_alias", fields={"table": "expert_profiles", "alias": "expert_citation_aliases"}),
        # an old name that a table of today holds again stays that table's; an alias of nothing names nothing
        Fact(type="table_alias", fields={"table": "expert_profiles", "alias": "dev_tasks"}),
        Fact(type="table_alias", fields={"table": "gone_table", "alias": "older_table"}),
    ]
    repo = Repo.from_facts(facts, CONV, ordinary=lambda w: True)
    assert repo.names("table") == {"dev_tasks", "email_messages", "learn_topics", "expert_profiles"}
    found = {
        (m.name, "add a column to the experts table"[m.start : m.end])
        for m in repo.mentioned("add a column to the experts table")
    }
    assert ("expert_profiles", "experts") in found
    assert [m.name for m in repo.mentioned("index citation_expert_aliases")] == ["expert_profiles"]
    assert [m.name for m in repo.mentioned("add rls to dev_tasks")] == ["dev_tasks"]
    assert not repo.mentioned("drop older_table")


def test_one_word_that_is_the_head_of_a_longer_name_is_not_that_name() -> None:
    """ "the segments table" in a repository with learn_media_topic_segments asks for a table of its own: the
    longer name's other words make it a narrower thing. A word that is a modifier of the one name holding it
    ("the admin app"), the same words in another order and several words of one name still find it."""
    conv = load_conventions({"app_prefix": "dhg-", "table_domains": ["learn", "sys", "google", "dev"]})
    repo = Repo.from_facts(
        [
            Fact(type="table", fields={"name": "learn_media_topic_segments"}),
            Fact(type="table", fields={"name": "sys_table_migrations"}),
            Fact(type="table", fields={"name": "google_sources"}),
            Fact(type="table", fields={"name": "dev_tasks"}),
            Fact(type="app", fields={"name": "dhg-admin-code"}),
        ],
        conv,
    )
    assert repo.covering("table", "segments") is None
    assert repo.covering("table", "migrations") is None
    assert repo.covering("table", "topic segments") == "learn_media_topic_segments"
    assert repo.covering("table", "sources google") == "google_sources"
    assert repo.covering("table", "tasks") == "dev_tasks"
    assert repo.covering("app", "admin") == "dhg-admin-code"


def test_an_import_path_alias_is_no_name_of_the_app() -> None:
    """A tsconfig path alias (`"@pages/*"`, discovered as app_alias) says where an app's code is found: "add a
    pricing page" names no app through "@pages"; a display name still names its object."""
    repo = Repo.from_facts(
        [
            Fact(type="app", fields={"name": "dhg-audio"}),
            Fact(type="app_alias", fields={"app": "dhg-audio", "alias": "@pages"}),
            Fact(type="app_alias", fields={"app": "dhg-audio", "alias": "@"}),
            Fact(type="app_alias", fields={"app": "dhg-audio", "alias": "Audio Player"}),
        ],
        CONV,
    )
    assert [m.kind for m in repo.mentioned("add a stub pricing page")] == []
    assert [(m.kind, m.name) for m in repo.mentioned("fix the Audio Player")] == [("app", "dhg-audio")]

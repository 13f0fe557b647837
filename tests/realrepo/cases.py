"""The parameters every built-in scenario runs with on the real monorepo (the table in README.md).

Realistic for that repository: its pipelines, apps, live tables and servers. Shared by test_all_scenarios.py and
bench/bench_realrepo.py.
"""

from __future__ import annotations

try:
    from .measure import Case
except ImportError:  # run as a script (bench/bench_realrepo.py puts this folder on sys.path)
    from measure import Case  # type: ignore[no-redef]

HAND_WRITTEN_MIGRATION = """-- A migration written by hand, before the types are merged.
CREATE TABLE IF NOT EXISTS doc_reading_list (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  doc_file_id uuid REFERENCES doc_files(id),
  position integer NOT NULL DEFAULT 0,
  note text,
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE doc_files ADD COLUMN IF NOT EXISTS reading_minutes integer;
"""
HAND_WRITTEN_DOWN = """ALTER TABLE doc_files DROP COLUMN IF EXISTS reading_minutes;
DROP TABLE IF EXISTS doc_reading_list;
"""
ARCHIVED = "scripts/cli-pipeline/scripts/analyze-script.ts"
ARCHIVED_TO = "scripts/cli-pipeline/scripts/.archived_scripts/analyze-script.20250610.ts"

CASES: list[Case] = [
    Case(
        "add-cli-command",
        ("database", "table-stats"),
        (("description", "Row counts per table"),),
        why="a command for the database pipeline",
    ),
    Case("add-page", ("dhg-admin-code", "EmailDigest"), why="an admin page in the app with most admin pages"),
    Case(
        "add-pnpm-script",
        ("gmail", "./scripts/cli-pipeline/gmail/gmail-cli.sh"),
        why="the one pipeline wrapper without a root shortcut",
    ),
    Case(
        "add-proxy-endpoint",
        ("email-proxy", "GET", "/api/emails/:id"),
        why="a route on a new proxy (the plan creates the proxy first)",
    ),
    Case("create-proxy-endpoint", ("drive-proxy", "POST", "/api/drive/sync"), why="the alias of add-proxy-endpoint"),
    Case("add-rls-policy", ("email_messages", "authenticated_read"), why="a live table only types.ts knows"),
    Case("add-shared-component", ("FilterChip",), (("area", "filter"),), why="an existing component area"),
    Case("add-tests", ("filter-service",), (("kind", "service"),), why="a shared service without tests"),
    Case(
        "archive-path",
        (ARCHIVED, ARCHIVED_TO),
        why="a superseded script into its domain's .archived_scripts",
        rewrites=True,
    ),
    Case("archive-table", ("import_urls",), why="a temporary import table", rewrites=True),
    Case("configure-environment", ("GMAIL_CLIENT_ID",), (("scope", "server"),), why="a server-side secret name"),
    Case("consolidate-pipelines", ("documentation", "document"), why="two pipelines for documents", rewrites=True),
    Case(
        "consolidate-proxies",
        ("simple-script-server", "simple-md-server", "3002"),
        why="the script viewer folded into the markdown viewer",
        rewrites=True,
    ),
    Case(
        "create-app",
        ("dhg-admin-reports",),
        (("title", "Admin Reports"), ("port", "5195")),
        why="a new admin app on a free Vite port",
    ),
    Case(
        "create-cli-pipeline",
        ("email_digest",),
        (("description", "Daily digest of important emails"),),
        why="a snake_case domain like its neighbours",
    ),
    Case("create-proxy-server", ("pdf-proxy",), (("port", "3011"),), why="the next free API port"),
    Case(
        "create-service",
        ("email-digest-service", "business"),
        (("table", "email_messages"),),
        why="a service over a live table (no create-table may follow)",
    ),
    Case(
        "create-table",
        ("doc_notes",),
        (
            ("columns", "title:text,body:text,doc_file_id:uuid"),
            ("access", "owner"),
            ("description", "Notes attached to documentation files"),
        ),
        why="a doc_ table with the registry row",
    ),
    Case(
        "create-view",
        ("email_messages_summary", "email_messages"),
        (("kind", "summary"),),
        why="a summary over a live table",
    ),
    Case(
        "deprecate-service",
        ("supabase-service",),
        (("replacement", "supabase-client"),),
        why="the older Supabase wrapper, superseded by supabase-client",
        rewrites=True,
    ),
    Case("fix-service-index", ("report-service",), why="a service folder without index.ts"),
    Case(
        "generate-types",
        (),
        why="after a hand-written migration (setup)",
        setup=(
            ("write", "supabase/migrations/20250609090000_create_doc_reading_list.sql", HAND_WRITTEN_MIGRATION),
            ("write", "supabase/migrations/20250609090000_create_doc_reading_list_down.sql", HAND_WRITTEN_DOWN),
        ),
    ),
    Case("integrate-service", ("dhg-admin-code", "filter-service"), why="a shared service into an app"),
    Case(
        "migrate-cli-script",
        ("scripts/root/generate-types.ts", "database", "generate-types"),
        why="a loose script into its pipeline",
        rewrites=True,
    ),
    Case(
        "modify-schema",
        ("email_messages", "is_archived", "boolean"),
        (("nullable", "false"), ("default_value", "false")),
        why="a flag on a live table",
    ),
    Case("refactor-service", ("classify-service",), why="a single-file service into its folder", rewrites=True),
    Case(
        "restore-archived",
        (ARCHIVED_TO, ARCHIVED),
        why="the script archived in setup",
        rewrites=True,
        setup=(("continuous", "run-scenario", "archive-path", ARCHIVED, ARCHIVED_TO, "--yes"),),
    ),
    Case(
        "restore-table",
        ("import_urls",),
        why="the table archived in setup",
        rewrites=True,
        setup=(("continuous", "run-scenario", "archive-table", "import_urls", "--yes"),),
    ),
    Case("setup-monitoring", ("simple-md-server", "server"), (("port", "3001"),), why="the markdown viewer"),
    Case("test-service", ("filter-service",), why="a browser-and-CLI service"),
    Case(
        "update-dependencies",
        ("dotenv", "16.6.1", "root"),
        why="a root dependency",
        own_node_modules=True,
        rewrites=True,
    ),
]

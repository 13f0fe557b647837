"""Step runners, one by one: what each writes, idempotence, path escapes, commands without a shell, SQL."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from continuous.common.errors import UserError
from continuous.dsl import model as m
from continuous.engine import steps as st

SCENARIO_SRC = Path(__file__).resolve().parent / "data" / "lib" / "lib.scn"


def ctx(root: Path, **params: object) -> st.StepContext:
    scenario = m.Scenario(id="t", object_type="infra", summary="t", source=str(SCENARIO_SRC))
    return st.StepContext(root, scenario, params)


def apply(step: m.Step, c: st.StepContext) -> list[st.FileChange]:
    changes = st.file_changes(step, c, st.VirtualFS(c.root))
    st.write_changes(c.root, changes)
    return changes


def test_render_writes_the_template_and_is_idempotent(tmp_path: Path) -> None:
    c = ctx(tmp_path, name="user-prefs")
    step = m.RenderStep(name="r", template="service.ts.j2", to="pkg/{{ name }}/{{ name }}.ts")
    changes = apply(step, c)
    assert [(ch.path, ch.kind) for ch in changes] == [("pkg/user-prefs/user-prefs.ts", "created")]
    assert "export class UserPrefsService" in (tmp_path / "pkg/user-prefs/user-prefs.ts").read_text()
    assert apply(step, c) == []


def test_edit_json_set_append_delete_keep_indent(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text('{\n    "scripts": {"dev": "vite"},\n    "list": [1]\n}\n')
    c = ctx(tmp_path, port=3005, name="api")
    apply(
        m.EditStep(
            name="s",
            format="json",
            file="p.json",
            op="set",
            key="scripts.{{ name }}",
            value="node {{ name }}.js",
        ),
        c,
    )
    apply(
        m.EditStep(name="p", format="json", file="p.json", op="set", key="ports.{{ name }}", value="{{ port }}"),
        c,
    )
    apply(m.EditStep(name="a", format="json", file="p.json", op="append", key="list", value=2), c)
    assert apply(m.EditStep(name="a", format="json", file="p.json", op="append", key="list", value=2), c) == []
    apply(m.EditStep(name="d", format="json", file="p.json", op="delete", key="scripts.dev"), c)
    assert apply(m.EditStep(name="d", format="json", file="p.json", op="delete", key="scripts.dev"), c) == []
    text = (tmp_path / "p.json").read_text()
    # one-line objects and lists stay on one line; a new object takes the file's indentation
    assert text == (
        '{\n    "scripts": {"api": "node api.js"},\n    "list": [1, 2],\n    "ports": {\n        "api": 3005\n'
        "    }\n}\n"
    )


def test_edit_json_escaped_dot_key(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text("{}\n")
    apply(
        m.EditStep(name="s", format="json", file="p.json", op="set", key=r"exports.\./x", value="y"),
        ctx(tmp_path),
    )
    assert (tmp_path / "p.json").read_text() == '{\n  "exports": {\n    "./x": "y"\n  }\n}\n'


PACKAGE_JSON = """{
  "name": "mono",
  "scripts": {
    "// Core": "Essential commands",
    "dev": "turbo run dev",
    "lint": "turbo run lint",
    \n    "// Servers": "Server management",
    "servers": "node scripts/start-all-servers.js",
    "server:docs": "node scripts/start-all-servers.js docs",
    "browser": "cd html && node server.js",
    \n    "// Pipelines": "CLI wrappers",
    "google": "./scripts/cli-pipeline/google_sync/google-sync-cli.sh",
    "monitoring": "./scripts/cli-pipeline/monitoring/monitoring-cli.sh"
  },
  "dependencies": {}
}
"""


@pytest.mark.parametrize(
    ("key", "value", "after"),
    [
        ("server:api", "node scripts/start-all-servers.js api", "server:docs"),
        ("lint:all", "eslint .", "lint"),
        ("monitor:api", "./scripts/cli-pipeline/monitoring/monitoring-cli.sh monitor-api", "monitoring"),
        ("media", "./scripts/cli-pipeline/media/media-cli.sh", "monitoring"),
        ("zzz", "echo unlike anything", "monitoring"),
    ],
)
def test_edit_json_keeps_every_byte_and_inserts_next_to_like_entries(
    tmp_path: Path, key: str, value: str, after: str
) -> None:
    (tmp_path / "package.json").write_text(PACKAGE_JSON)
    apply(
        m.EditStep(name="s", format="json", file="package.json", op="set", key=f"scripts.{key}", value=value),
        ctx(tmp_path),
    )
    text = (tmp_path / "package.json").read_text()
    lines = text.splitlines(keepends=True)
    new = next(i for i, line in enumerate(lines) if line.lstrip().startswith(f'"{key}"'))
    assert lines[new - 1].lstrip().startswith(f'"{after}"')
    assert lines[new].strip().rstrip(",") == f'"{key}": "{value}"'
    assert lines[new].startswith('    "')
    rest = lines[:new] + lines[new + 1 :]
    if not lines[new].rstrip().endswith(","):  # the new last member: its predecessor gained the comma
        rest[new - 1] = rest[new - 1].replace('",\n', '"\n')
    assert "".join(rest) == PACKAGE_JSON
    assert json.loads(text)["scripts"][key] == value


def test_edit_json_replaces_and_deletes_in_place(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(PACKAGE_JSON)
    c = ctx(tmp_path)
    apply(m.EditStep(name="s", format="json", file="package.json", op="set", key="scripts.dev", value="vite"), c)
    assert (tmp_path / "package.json").read_text() == PACKAGE_JSON.replace('"turbo run dev"', '"vite"')
    apply(m.EditStep(name="d", format="json", file="package.json", op="delete", key="scripts.browser"), c)
    expected = PACKAGE_JSON.replace('"turbo run dev"', '"vite"').replace(
        '    "browser": "cd html && node server.js",\n', ""
    )
    assert (tmp_path / "package.json").read_text() == expected


def test_edit_yaml(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("services:\n- auth\nname: x\n")
    c = ctx(tmp_path)
    apply(m.EditStep(name="a", format="yaml", file="c.yaml", op="append", key="services", value="prefs"), c)
    apply(m.EditStep(name="s", format="yaml", file="c.yaml", op="set", key="deploy.replicas", value=2), c)
    apply(m.EditStep(name="d", format="yaml", file="c.yaml", op="delete", key="name"), c)
    assert (tmp_path / "c.yaml").read_text() == "services:\n- auth\n- prefs\ndeploy:\n  replicas: 2\n"


def test_edit_of_invalid_json_fails_the_step(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text("{oops")
    with pytest.raises(st.StepError, match="not valid JSON"):
        st.file_changes(
            m.EditStep(name="s", format="json", file="p.json", op="set", key="a", value=1),
            ctx(tmp_path),
            st.VirtualFS(tmp_path),
        )


def test_doc_append_creates_and_is_idempotent(tmp_path: Path) -> None:
    c = ctx(tmp_path, name="prefs")
    step = m.DocStep(name="d", file="docs/x.md", text="- {{ name }}")
    apply(step, c)
    apply(m.DocStep(name="d2", file="docs/x.md", text="- other"), c)
    assert apply(step, c) == []
    assert (tmp_path / "docs/x.md").read_text() == "- prefs\n- other\n"


def test_insert_before_after_anchor_idempotent_and_missing_anchor(tmp_path: Path) -> None:
    (tmp_path / "App.tsx").write_text("import A\n// ROUTES\n</Routes>")
    c = ctx(tmp_path, name="Prefs")
    after = m.InsertStep(name="i", text="import {{ name }}", file="App.tsx", where="after", anchor="import A")
    before = m.InsertStep(name="j", text="<Route {{ name }} />", file="App.tsx", where="before", anchor="</Routes>")
    apply(after, c)
    apply(before, c)
    assert apply(after, c) == [] and apply(before, c) == []
    assert (tmp_path / "App.tsx").read_text() == "import A\nimport Prefs\n// ROUTES\n<Route Prefs />\n</Routes>"
    with pytest.raises(st.StepError, match="anchor 'NOPE' not found"):
        st.file_changes(
            m.InsertStep(name="k", text="x", file="App.tsx", where="after", anchor="NOPE"),
            c,
            st.VirtualFS(tmp_path),
        )
    with pytest.raises(st.StepError, match="does not exist"):
        st.file_changes(
            m.InsertStep(name="k", text="x", file="nope.tsx", where="after", anchor="x"),
            c,
            st.VirtualFS(tmp_path),
        )


@pytest.mark.parametrize("target", ["../outside.ts", "a/../../outside.ts", "/etc/passwd", ".git/config", ""])
def test_paths_that_leave_the_worktree_are_refused(tmp_path: Path, target: str) -> None:
    root = tmp_path / "w"
    root.mkdir()
    step = m.RenderStep(name="r", template="service.ts.j2", to=target)
    with pytest.raises(UserError):
        st.file_changes(step, ctx(root), st.VirtualFS(root))
    assert not (tmp_path / "outside.ts").exists()


def test_symlink_escape_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "w"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, root / "link")
    with pytest.raises(UserError, match="symbolic link"):
        st.file_changes(m.DocStep(name="d", file="link/x.md", text="x"), ctx(root), st.VirtualFS(root))
    assert list(outside.iterdir()) == []
    (root / "inside").mkdir()
    os.symlink(root / "inside", root / "ok-link")
    assert st.safe_path(root, "ok-link/x.md") == "ok-link/x.md"


def test_run_uses_no_shell_and_reports_failures(tmp_path: Path) -> None:
    c = ctx(tmp_path, name="x; touch pwned")
    out = st.run_step(m.RunStep(name="e", argv=("echo", "{{ name }}")), c, "e")
    assert out.output == "x; touch pwned\n"
    assert not (tmp_path / "pwned").exists()
    with pytest.raises(st.StepError, match="exited with 3"):
        st.run_step(m.RunStep(name="f", argv=("python3", "-c", "import sys; sys.exit(3)")), c, "f")
    with pytest.raises(st.StepError, match="not found"):
        st.run_step(m.RunStep(name="g", argv=("no-such-program-xyz",)), c, "g")
    with pytest.raises(st.StepError, match="timed out"):
        st.run_step(m.RunStep(name="t", argv=("sleep", "5"), timeout_seconds=1), c, "t")
    with pytest.raises(UserError, match="leaves the worktree"):
        st.run_step(m.RunStep(name="c", argv=("true",), cwd=".."), c, "c")


def test_sql_without_target_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTINUOUS_TARGET_DATABASE_URL", raising=False)
    monkeypatch.delenv("CONTINUOUS_TEST_DATABASE_URL", raising=False)
    (tmp_path / "m.sql").write_text(
        "-- c; with semicolon\nCREATE TABLE a (id int, note text default 'x;y');\n"
        "CREATE FUNCTION f() RETURNS int AS $$ select 1; $$ LANGUAGE sql;\n"
    )
    c = ctx(tmp_path)
    out, pending = st.sql_step(m.SqlStep(name="t", action="test", file="m.sql"), c)
    assert "2 statement(s) parse; not applied: no scratch database" in out and not pending
    out, pending = st.sql_step(m.SqlStep(name="a", action="apply", file="m.sql"), c)
    assert pending and out.startswith("PENDING") and "NOT applied" in out
    (tmp_path / "bad.sql").write_text("CREATE TABLE a (id int;\n")
    with pytest.raises(st.StepError, match="not valid SQL"):
        st.sql_step(m.SqlStep(name="t", action="test", file="bad.sql"), c)
    (tmp_path / "prose.sql").write_text("this is not sql;\n")
    with pytest.raises(st.StepError, match="does not start with an SQL keyword"):
        st.sql_step(m.SqlStep(name="t", action="test", file="prose.sql"), c)


def test_sql_against_sqlite_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    db = tmp_path / "target.db"
    monkeypatch.setenv("CONTINUOUS_TARGET_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.delenv("CONTINUOUS_TEST_DATABASE_URL", raising=False)
    (tmp_path / "m.sql").write_text("CREATE TABLE things (id integer primary key);\n")
    c = ctx(tmp_path)
    out, _ = st.sql_step(m.SqlStep(name="t", action="test", file="m.sql"), c)
    assert "not applied: no scratch database" in out  # a test never runs on the target (live) database
    assert sqlite3.connect(db).execute("select name from sqlite_master").fetchall() == []
    st.sql_step(m.SqlStep(name="a", action="apply", file="m.sql"), c)
    assert sqlite3.connect(db).execute("select name from sqlite_master").fetchall() == [("things",)]
    with pytest.raises(st.StepError, match="rejected by the database"):
        st.sql_step(m.SqlStep(name="a", action="apply", file="m.sql"), c)


@pytest.mark.postgres
def test_sql_against_postgres_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str) -> None:
    import psycopg

    monkeypatch.setenv("CONTINUOUS_TARGET_DATABASE_URL", pg_url)
    table = f"engine_step_{os.getpid()}"
    (tmp_path / "m.sql").write_text(
        f"CREATE TABLE {table} (id uuid primary key default gen_random_uuid());\n"
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;\n"
    )
    c = ctx(tmp_path)
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    try:
        st.sql_step(m.SqlStep(name="a", action="apply", file="m.sql"), c)
        with psycopg.connect(plain) as conn:
            assert conn.execute("select to_regclass(%s)::text", (table,)).fetchone() == (table,)
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}")


@pytest.mark.postgres
def test_sql_test_applies_the_pair_on_the_scratch_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> None:
    import psycopg

    monkeypatch.setenv("CONTINUOUS_TEST_DATABASE_URL", pg_url)
    monkeypatch.delenv("CONTINUOUS_DATABASE_URL", raising=False)
    monkeypatch.delenv("CONTINUOUS_TARGET_DATABASE_URL", raising=False)
    live = f"engine_live_{os.getpid()}"
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {live} (id int)")
    new = f"engine_new_{os.getpid()}"
    (tmp_path / "m.sql").write_text(
        f"CREATE TABLE {new} (id uuid primary key default gen_random_uuid(), owner uuid default auth.uid());\n"
        f"ALTER TABLE {new} ENABLE ROW LEVEL SECURITY;\n"
        f"CREATE POLICY {new}_read ON {new} FOR SELECT TO authenticated USING (owner = auth.uid());\n"
    )
    (tmp_path / "m_down.sql").write_text(f"DROP TABLE {new};\n")
    c = ctx(tmp_path)
    try:
        out, pending = st.sql_step(m.SqlStep(name="t", action="test", file="m.sql"), c)
        assert "applied on the scratch database" in out and "dropped nothing that existed before" in out
        assert not pending and "rolled back" in out
        with psycopg.connect(plain) as conn:
            assert conn.execute("select to_regclass(%s)", (new,)).fetchone() == (None,)
        (tmp_path / "m_down.sql").write_text(f"DROP TABLE {new};\nDROP TABLE {live};\n")
        with pytest.raises(st.StepError, match=f"drops what existed before m.sql ran: .*relation public.{live}"):
            st.sql_step(m.SqlStep(name="t", action="test", file="m.sql"), c)
        with psycopg.connect(plain) as conn:
            assert conn.execute("select to_regclass(%s)::text", (live,)).fetchone() == (live,)
        (tmp_path / "m.sql").write_text(f"CREATE TABLE {live} (id int);\n")
        with pytest.raises(st.StepError, match="rejected by the scratch database"):
            st.sql_step(m.SqlStep(name="t", action="test", file="m.sql"), c)
        monkeypatch.setenv("CONTINUOUS_DATABASE_URL", pg_url)
        with pytest.raises(UserError, match="also the tracking database"):
            st.sql_step(m.SqlStep(name="t", action="test", file="m.sql"), c)
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {live}")


def test_dry_run_overlay_chains_steps_without_writing(tmp_path: Path) -> None:
    c = ctx(tmp_path)
    fs = st.VirtualFS(tmp_path)
    first = st.file_changes(m.DocStep(name="a", file="d.md", text="one"), c, fs)
    fs.apply(first)
    second = st.file_changes(m.InsertStep(name="b", text="zero", file="d.md", where="before", anchor="one"), c, fs)
    assert second[0].before == b"one\n" and second[0].after == b"zero\none\n"
    assert not (tmp_path / "d.md").exists()
    assert second[0].diff().startswith("--- a/d.md\n+++ b/d.md\n")


def test_a_diff_of_an_env_file_shows_only_the_change_and_no_existing_value() -> None:
    from continuous.engine.steps import FileChange

    before = b"# keys\nOPENAI_API_KEY=sk-live-123\nexport DB_URL = postgres://u:pw@h/db\nPORT=3001\n"
    added = FileChange(".env.example", before, before + b"GMAIL_CLIENT_ID=\n").diff()
    assert added.splitlines()[2:] == ["@@ -4,0 +5 @@", "+GMAIL_CLIENT_ID="]
    removed = FileChange("apps/web/.env", before, before.replace(b"export DB_URL = postgres://u:pw@h/db\n", b""))
    text = removed.diff()
    assert "-export DB_URL = ***" in text and "pw@h" not in text and "sk-live" not in text
    plain = FileChange("notes.txt", before, before + b"x\n").diff()
    assert " PORT=3001" in plain  # other files keep their context

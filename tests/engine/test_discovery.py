"""Discovery: globs, excludes, regex (multiline, a fact per match, path:line), json paths, field templates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from continuous.common.errors import UserError
from continuous.dsl.loader import build_rule_base
from continuous.engine.discovery import discover, glob_match, list_files


def rb_from(tmp_path: Path, text: str):
    (tmp_path / "d.scn").write_text(text)
    return build_rule_base([tmp_path / "d.scn"])


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("apps/*/package.json", "apps/dhg-hub/package.json", True),
        ("apps/*/package.json", "apps/a/b/package.json", False),
        ("**/*.ts", "index.ts", True),
        ("**/*.ts", "a/b/c.ts", True),
        ("src/**/*.tsx", "src/pages/x/Y.tsx", True),
        ("src/**/*.tsx", "srcx/Y.tsx", False),
        ("*.sql", "a/b.sql", False),
        ("file?.md", "file1.md", True),
        ("[ab].txt", "c.txt", False),
    ],
)
def test_glob_semantics(pattern: str, path: str, expected: bool) -> None:
    assert glob_match(pattern, path) is expected


def test_repository_facts(repo: Path, h) -> None:
    from continuous.engine.executor import Executor

    facts = Executor(repo).facts()
    by_type: dict[str, list] = {}
    for f in facts:
        by_type.setdefault(f.type, []).append(f)
    assert [f.fields for f in by_type["table"]] == [{"name": "sys_table_definitions"}]
    assert by_type["table"][0].source == "supabase/migrations/20240101000000_create_sys_table_definitions.sql:1"
    assert [f.fields for f in by_type["app"]] == [{"name": "dhg-hub", "dir": "apps/dhg-hub"}]
    assert sorted(f.fields["name"] for f in by_type["script"]) == ["dev", "old"]
    assert sorted((f.fields["owner"], f.fields["port"]) for f in by_type["port"]) == [
        ("audio", 3001),
        ("html", 3002),
    ]
    assert [f.fields for f in by_type["service"]] == [{"name": "auth"}]
    # node_modules is never read (it is ignored by git, and skipped without git)
    assert all("node_modules" not in (f.source or "") for f in facts)


def test_regex_multiline_one_fact_per_match_with_lines(tmp_path: Path) -> None:
    rb = rb_from(
        tmp_path,
        r"""
discover table {
  glob "db/**/*.sql"
  exclude "db/archive"
  regex "(?i)^create table (?:if not exists )?(?P<name>\\w+)"
  field name = "{{ name }}"
  field file = "{{ stem }}"
  field where = "{{ parts[1] }}"
}""",
    )
    root = tmp_path / "w"
    (root / "db" / "v1").mkdir(parents=True)
    (root / "db" / "archive").mkdir(parents=True)
    (root / "db" / "v1" / "001.sql").write_text(
        "-- x\nCREATE TABLE a (id int);\n\ncreate table if not exists b ();\n  create table not_at_line_start ();\n"
    )
    (root / "db" / "archive" / "old.sql").write_text("create table archived ();\n")
    facts = discover(rb, root)
    assert [(f.fields, f.source) for f in facts] == [
        ({"name": "a", "file": "001", "where": "v1"}, "db/v1/001.sql:2"),
        ({"name": "b", "file": "001", "where": "v1"}, "db/v1/001.sql:4"),
    ]


def test_json_wildcards_and_default_fields(tmp_path: Path) -> None:
    rb = rb_from(
        tmp_path,
        """
discover dep { glob "apps/*/package.json" json "dependencies.*" }
discover server { glob "servers.json" json "servers.*" field name = "{{ name }}" field port = "{{ port }}" }
""",
    )
    root = tmp_path / "w"
    (root / "apps" / "a").mkdir(parents=True)
    (root / "apps" / "a" / "package.json").write_text(
        json.dumps({"dependencies": {"react": "^18", "vite": "5"}}, indent=2)
    )
    (root / "servers.json").write_text(
        json.dumps({"servers": [{"name": "audio", "port": 3001}, {"name": "html", "port": 3002}]})
    )
    facts = discover(rb, root)
    deps = sorted((f.fields["key"], f.fields["value"]) for f in facts if f.type == "dep")
    assert deps == [("react", "^18"), ("vite", "5")]
    react = next(f for f in facts if f.type == "dep" and f.fields["key"] == "react")
    assert react.source == "apps/a/package.json:3"
    servers = sorted((f.fields["name"], f.fields["port"]) for f in facts if f.type == "server")
    assert servers == [("audio", 3001), ("html", 3002)]


def test_broken_json_is_skipped_and_unknown_field_variable_is_a_user_error(tmp_path: Path) -> None:
    root = tmp_path / "w"
    root.mkdir()
    (root / "a.json").write_text("{ not json")
    rb = rb_from(tmp_path, 'discover x { glob "*.json" json "a" }')
    assert discover(rb, root) == []
    (root / "b.txt").write_text("hello")
    rb = rb_from(tmp_path, 'discover y { glob "*.txt" field name = "{{ nope }}" }')
    with pytest.raises(UserError, match="unknown variable 'nope'"):
        discover(rb, root)


def test_untracked_files_are_listed_but_ignored_ones_are_not(git_repo: Path) -> None:
    (git_repo / ".gitignore").write_text("build/\n")
    (git_repo / "build").mkdir()
    (git_repo / "build" / "x.txt").write_text("x")
    (git_repo / "new.txt").write_text("n")
    files = set(list_files(git_repo))
    assert {"README.md", "new.txt", ".gitignore"} <= files
    assert "build/x.txt" not in files


def test_facts_command_json_and_type_filter(repo: Path, h) -> None:
    proc = h.cli(repo, "facts", "--type", "app", "--json", check=True)
    data = json.loads(proc.stdout)
    assert data == [
        {
            "type": "app",
            "fields": {"name": "dhg-hub", "dir": "apps/dhg-hub"},
            "source": "apps/dhg-hub/package.json:1",
        }
    ]
    bad = h.cli(repo, "facts", "--type", "tabel")
    assert bad.returncode == 2
    assert "did you mean 'table'" in bad.stderr
    assert "Traceback" not in bad.stderr

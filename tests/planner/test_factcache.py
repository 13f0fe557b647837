"""The cache of the repository's discovered facts (planner.factcache) in a real git repository: it answers from
disk while nothing changed and discovers again after every kind of change discovery could see."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from continuous.common import worktree_state
from continuous.dsl.loader import build_rule_base
from continuous.engine.discovery import discover
from continuous.planner import factcache

DSL = """
discover app {
  glob "apps/*/package.json"
  field name = "{{ path | under('apps') }}"
}
discover env_port {
  glob "apps/*/.env.example"
  regex "PORT=(?P<number>[0-9]+)"
  field number = "{{ number }}"
  field file = "{{ path }}"
}
"""


def git(root: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=env)


class Probe:
    """Discovers for real and counts how often it had to."""

    def __init__(self, root: Path, dsl: Path, cache: Path) -> None:
        self.root, self.dsl, self.cache, self.runs = root, dsl, cache, 0

    def facts(self) -> set[tuple[str, tuple[tuple[str, Any], ...]]]:
        rule_base = build_rule_base([self.dsl])

        def run() -> list[Any]:
            self.runs += 1
            return discover(rule_base, self.root)

        return {f.key() for f in factcache.cached(self.root, [str(self.dsl)], self.cache, run)}


@pytest.fixture
def probe(tmp_path: Path) -> Probe:
    root = tmp_path / "repo"
    (root / "apps" / "hub").mkdir(parents=True)
    (root / "apps" / "hub" / "package.json").write_text("{}")
    (root / ".gitignore").write_text(".env*\nnode_modules/\n")
    (root / "apps" / "hub" / ".env.example").write_text("PORT=3000\n")  # ignored, read because it is named
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    dsl = tmp_path / "discover.scn"
    dsl.write_text(DSL)
    return Probe(root, dsl, tmp_path / "cache")


def app(name: str) -> tuple[str, tuple[tuple[str, Any], ...]]:
    return ("app", (("name", name),))


def port(number: str, app_name: str = "hub") -> tuple[str, tuple[tuple[str, Any], ...]]:
    return ("env_port", (("file", f"apps/{app_name}/.env.example"), ("number", number)))


def test_unchanged_repository_is_answered_from_the_cache(probe: Probe) -> None:
    first = probe.facts()
    assert first == {app("hub"), port("3000")}
    assert probe.facts() == first
    assert probe.runs == 1


def test_every_change_discovery_could_see_discovers_again(probe: Probe) -> None:
    root = probe.root
    probe.facts()
    steps = [
        ("new untracked app", lambda: _write(root / "apps" / "admin" / "package.json", "{}"), {app("admin")}),
        ("its second edit", lambda: _write(root / "apps" / "admin" / "package.json", '{"a": 1}'), set()),
        ("committed", lambda: (git(root, "add", "-A"), git(root, "commit", "-q", "-m", "admin")), set()),
        (
            "an ignored file discovery names",
            lambda: _write(root / "apps" / "hub" / ".env.example", "PORT=4000\n"),
            {port("4000")},
        ),
        ("a tracked file deleted", lambda: git(root, "rm", "-q", "apps/admin/package.json"), set()),
        ("a path with a space", lambda: _write(root / "apps" / "my app" / "package.json", "{}"), {app("my app")}),
        ("the same file edited again", lambda: _write(root / "apps" / "my app" / "package.json", "{ }"), set()),
        ("the DSL", lambda: _write(probe.dsl, DSL.replace("apps/*/package.json", "apps/*/package.json*")), set()),
    ]
    runs = probe.runs
    for what, change, new in steps:
        before = probe.facts()
        change()
        after = probe.facts()
        assert probe.runs == runs + 1, f"not discovered again after: {what}"
        assert new <= after, what
        assert after == probe.facts() and probe.runs == runs + 1, f"not cached again after: {what}"
        runs = probe.runs
        if what == "an ignored file discovery names":
            assert port("3000") in before and port("3000") not in after
        if what == "a tracked file deleted":
            assert app("admin") not in after


def test_changes_inside_an_ignored_folder_keep_the_cache(probe: Probe) -> None:
    probe.facts()
    _write(probe.root / "node_modules" / "pkg" / "index.js", "x")
    probe.facts()
    runs = probe.runs
    _write(probe.root / "node_modules" / "pkg" / "index.js", "xy")
    probe.facts()
    assert probe.runs == runs  # discovery never enters an ignored folder, nor does the key


def test_outside_git_it_just_discovers(tmp_path: Path) -> None:
    (tmp_path / "apps" / "hub").mkdir(parents=True)
    (tmp_path / "apps" / "hub" / "package.json").write_text("{}")
    dsl = tmp_path / "discover.scn"
    dsl.write_text(DSL)
    probe = Probe(tmp_path, dsl, tmp_path / "cache")
    assert app("hub") in probe.facts()
    probe.facts()
    assert probe.runs == 2


def test_status_paths_are_parsed_whole() -> None:
    status = (
        b"# branch.oid abc\0"
        b"1 .M N... 100644 100644 100644 aaa bbb apps/my app/x.ts\0"
        b"2 R. N... 100644 100644 100644 aaa aaa R100 new name.ts\0old name.ts\0"
        b"u UU N... 100644 100644 100644 100644 a b c conflict.ts\0"
        b"? untracked file.ts\0"
        b"! .env\0"
        b"! node_modules/\0"
    )
    assert worktree_state.status_paths(status) == [
        "apps/my app/x.ts",
        "new name.ts",
        "conflict.ts",
        "untracked file.ts",
        ".env",
        "node_modules/",
    ]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)

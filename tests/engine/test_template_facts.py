"""Templates learn from the repository through `facts`: discovered facts, and those provided by earlier items."""

from __future__ import annotations

from pathlib import Path

import pytest
from continuous.engine.executor import Executor, Request

from ..conftest import init_repo

LIB = """
discover runner {
  glob "pkgs/*/package.json"
  json "scripts.test"
  field package = "{{ parts[1] }}"
  field command = "{{ value }}"
}

scenario make-note {
  object infra
  summary "A note that says which runner a package tests with"
  param package: kebab required position 1
  step "write note" render "note.txt.j2" to "notes/{{ package }}.txt"
  provides noted(package: "{{ package }}")
}

scenario note-twice {
  object infra
  summary "Reads a fact provided by an earlier item of the same plan"
  param package: kebab required position 1
  requires make-note(package: "{{ package }}") unless noted(package: "{{ package }}")
  step "write" render "twice.txt.j2" to "notes/{{ package }}-twice.txt"
}
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CONTINUOUS_DATABASE_URL", f"sqlite:///{tmp_path}/tracking.db")
    monkeypatch.setenv("CONTINUOUS_NOW", "2026-03-01T12:00:00+00:00")
    lib = tmp_path / "lib"
    (lib / "templates").mkdir(parents=True)
    (lib / "lib.scn").write_text(LIB)
    (lib / "templates/note.txt.j2").write_text(
        "{% set r = facts.first('runner', package=package) %}"
        "{{ package }}: {{ r.command if r else 'no test script' }}\n"
        "known: {{ facts.values('runner', 'package') | join(',') }}\n"
    )
    (lib / "templates/twice.txt.j2").write_text("noted before: {{ facts.has('noted', package=package) }}\n")
    root = tmp_path / "repo"
    (root / "pkgs/a").mkdir(parents=True)
    (root / "pkgs/b").mkdir(parents=True)
    (root / "pkgs/a/package.json").write_text('{"scripts": {"test": "jest --ci"}}\n')
    (root / "pkgs/b/package.json").write_text('{"scripts": {"build": "tsc"}}\n')
    (root / ".continuous.toml").write_text(f'scenario_paths = ["{lib}"]\ninclude_builtin = false\n')
    return init_repo(root, "init")


def test_a_template_reads_discovered_facts_in_dry_run_and_run(repo: Path) -> None:
    ex = Executor(repo)
    plan = ex.build_plan([Request("make-note", ("a",))])
    report = ex.dry_run(plan)
    predicted = {e.path: e.diff for e in report.files}
    assert "+a: jest --ci" in predicted["notes/a.txt"]
    result = ex.run(plan)
    assert result.ok, result.error
    assert (repo / "notes/a.txt").read_text() == "a: jest --ci\nknown: a\n"
    plan_b = Executor(repo).build_plan([Request("make-note", ("b",))])
    assert Executor(repo).run(plan_b).ok
    assert (repo / "notes/b.txt").read_text().startswith("b: no test script\n")


def test_a_template_sees_facts_provided_by_earlier_items(repo: Path) -> None:
    ex = Executor(repo)
    plan = ex.build_plan([Request("note-twice", ("a",))])
    assert [i.scenario for i in plan.items] == ["make-note", "note-twice"]
    report = ex.dry_run(plan)
    assert "+noted before: True" in {e.path: e.diff for e in report.files}["notes/a-twice.txt"]
    assert ex.run(plan).ok
    assert (repo / "notes/a-twice.txt").read_text() == "noted before: True\n"

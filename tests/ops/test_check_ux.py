"""`continuous check` as a team lives with it: warnings pass unless --strict, a baseline file accepts today's
violations so only new ones fail, `continuous: ignore RULE` comments in any comment syntax, and won't-fix tasks
that stay closed."""

from __future__ import annotations

import json
from pathlib import Path

from continuous.ops.checks import BASELINE_FILE

# A repository standard that finds TODO markers in several languages, so the ignore comments are tried in each
# language's own comment syntax.
STANDARDS = """
standard no-todo {
  severity error
  summary "No TODO markers"
  files "src/**"
  matching "TODO"
  message "{{ path }} has a TODO"
}

standard no-fixme {
  severity warning
  summary "No FIXME markers"
  files "src/**"
  matching "FIXME"
  message "{{ path }} has a FIXME"
}
"""

FILES = {
    "src/a.ts": "const a = 1; // TODO: same line  continuous: ignore no-todo\n"
    "// continuous: ignore no-todo, no-fixme -- the line below, two rules\n"
    "const b = 2; // TODO FIXME\n"
    "const c = 3; // TODO: not ignored\n",
    "src/b.sql": "-- continuous: ignore no-todo\nSELECT 1; -- TODO\n",
    "src/c.sh": "#!/bin/sh\n# continuous: ignore-file no-todo (generated)\necho TODO\necho TODO again\n",
    "src/d.html": "<!-- continuous: ignore no-todo -->\n<p>TODO</p>\n",
    "src/e.css": "/* continuous: ignore no-todo */ .x { } /* TODO */\n",
    "src/f.py": "x = 1  # TODO  continuous: ignore some-other-rule\n",
    "src/g.txt": "FIXME later\n",
}


def _setup(repo: Path, commit) -> None:
    (repo / "checks").mkdir()
    (repo / "checks" / "todo.scn").write_text(STANDARDS)
    (repo / ".continuous.toml").write_text('scenario_paths = ["checks"]\n')
    for rel, text in FILES.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    commit(repo, "todo standards")


def _check(invoke, repo: Path, *args: str) -> tuple[int, dict]:
    code, out = invoke("check", "-s", "no-todo", "-s", "no-fixme", "--json", "-C", str(repo), *args)
    return code, json.loads(out)


def _places(items: list[dict]) -> set[str]:
    return {f"{v['standard']}@{v['location']}" for v in items}


def test_ignore_comments_work_in_every_comment_syntax(example_repo: Path, commit, invoke) -> None:
    _setup(example_repo, commit)
    code, report = _check(invoke, example_repo)
    assert code == 1
    assert _places(report["violations"]) == {
        "no-todo@src/a.ts:4",
        "no-todo@src/f.py:1",
        "no-fixme@src/g.txt:1",
    }
    assert _places(report["ignored"]) == {
        "no-todo@src/a.ts:1",
        "no-todo@src/a.ts:3",
        "no-fixme@src/a.ts:3",
        "no-todo@src/b.sql:2",
        "no-todo@src/c.sh:3",
        "no-todo@src/c.sh:4",
        "no-todo@src/d.html:2",
        "no-todo@src/e.css:1",
    }
    code, out = invoke("check", "-s", "no-todo", "-C", str(example_repo))
    assert code == 1 and "8 ignored by comments" not in out and "ignored by comments" in out


def test_warnings_fail_only_with_strict(example_repo: Path, commit, invoke) -> None:
    _setup(example_repo, commit)
    code, report = invoke("check", "-s", "no-fixme", "-C", str(example_repo))
    assert code == 0 and "src/g.txt:1: warning: no-fixme" in report
    assert "1 violation (warnings only; --strict fails on them)" in report
    code, report = invoke("check", "-s", "no-fixme", "--strict", "-C", str(example_repo))
    assert code == 1
    code, data = _check(invoke, example_repo, "--strict")
    assert code == 1 and data["strict"] and data["failing"] == 3


def test_the_baseline_accepts_todays_violations_and_only_new_ones_fail(example_repo: Path, commit, invoke) -> None:
    _setup(example_repo, commit)
    code, report = _check(invoke, example_repo, "--baseline")
    assert code == 0 and report["baseline"]["written"]
    baseline = json.loads((example_repo / BASELINE_FILE).read_text())
    assert baseline["version"] == 1
    assert {(e["standard"], e["path"], e["line"]) for e in baseline["violations"]} == {
        ("no-todo", "src/a.ts", 4),
        ("no-todo", "src/f.py", 1),
        ("no-fixme", "src/g.txt", 1),
    }
    commit(example_repo, "baseline")

    code, report = _check(invoke, example_repo, "--strict")
    assert code == 0 and report["violations"] == [] and len(report["baselined"]) == 3

    # lines move above a baselined violation: it is still the same one
    a = example_repo / "src/a.ts"
    a.write_text("// header\n// more header\n" + a.read_text())
    code, report = _check(invoke, example_repo)
    assert code == 0 and _places(report["baselined"]) >= {"no-todo@src/a.ts:6"}

    # a new violation fails, and only it is reported as new
    (example_repo / "src/new.ts").write_text("// TODO new\n")
    code, report = _check(invoke, example_repo)
    assert code == 1 and _places(report["violations"]) == {"no-todo@src/new.ts:1"}
    code, out = invoke("check", "-s", "no-todo", "-s", "no-fixme", "-C", str(example_repo))
    assert "src/new.ts:1: error: no-todo" in out and "src/f.py" not in out and "3 in the baseline" in out

    # a second copy of a baselined line is new too: the baseline holds counts, not patterns
    f = example_repo / "src/f.py"
    f.write_text(f.read_text() + "y = 2  # TODO\n")
    (example_repo / "src/new.ts").unlink()
    code, report = _check(invoke, example_repo)
    assert code == 1 and _places(report["violations"]) == {"no-todo@src/f.py:2"}

    # fixed violations leave stale entries, which are reported
    f.write_text("x = 1\n")
    code, out = invoke("check", "-s", "no-todo", "-C", str(example_repo))
    assert code == 0 and "1 baseline entry no longer found" in out

    # re-baselining one standard keeps the entries of the others
    code, _ = invoke("check", "-s", "no-todo", "--baseline", "-C", str(example_repo))
    standards = [e["standard"] for e in json.loads((example_repo / BASELINE_FILE).read_text())["violations"]]
    assert sorted(standards) == ["no-fixme", "no-todo"]


def test_a_broken_baseline_is_one_clear_error(example_repo: Path, commit, run_cli) -> None:
    _setup(example_repo, commit)
    (example_repo / BASELINE_FILE).write_text("{not json")
    proc = run_cli(example_repo, "check", "-s", "no-todo")
    assert proc.returncode == 2 and "not a readable baseline" in proc.stderr
    assert "continuous check --baseline" in proc.stderr and "Traceback" not in proc.stderr


def test_a_task_closed_as_wont_fix_stays_closed(example_repo: Path, commit, invoke) -> None:
    _setup(example_repo, commit)
    repo = str(example_repo)
    code, report = _check(invoke, example_repo)
    opened = {t["dedup_key"]: t["id"] for t in report["tasks"]["opened"]}
    assert set(opened) == {"no-todo:src/a.ts:4", "no-todo:src/f.py:1", "no-fixme:src/g.txt:1"}

    code, out = invoke("tasks", "close", opened["no-todo:src/f.py:1"][:8], "--wont-fix", "-C", repo)
    assert code == 0 and "as won't fix" in out
    code, out = invoke("tasks", "close", opened["no-todo:src/a.ts:4"][:8], "--reason", "done, I think", "-C", repo)
    assert code == 0

    code, report = _check(invoke, example_repo)
    assert [t["dedup_key"] for t in report["tasks"]["wont_fix"]] == ["no-todo:src/f.py:1"]
    assert [t["dedup_key"] for t in report["tasks"]["opened"]] == ["no-todo:src/a.ts:4"]  # a plain close is not
    code, report = _check(invoke, example_repo)
    assert report["tasks"]["opened"] == [] and len(report["tasks"]["wont_fix"]) == 1

    code, out = invoke("tasks", "list", "--status", "wontfix", "--json", "-C", repo)
    assert [(t["dedup_key"], t["close_reason"]) for t in json.loads(out)] == [("no-todo:src/f.py:1", "won't fix")]
    code, out = invoke("tasks", "reopen", opened["no-todo:src/f.py:1"][:8], "-C", repo)
    assert code == 0 and "reopened" in out
    code, report = _check(invoke, example_repo)
    assert "no-todo:src/f.py:1" in {t["dedup_key"] for t in report["tasks"]["kept"]}

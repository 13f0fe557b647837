"""The DSL commands through typer's CliRunner, and once as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from continuous.cli.main import app
from typer.testing import CliRunner

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
GOOD = """scenario hello-world {
  object infra
  summary "Say hello"
  param name: kebab required position 1
  step "greet" doc "docs/hello.md" append "hello {{ name }}"
}
"""
BAD = """scenario hello-world {
  object infra
  summary "Say hello"
  requires create-tabel(name: "x")
  step "greet" doc "docs/hello.md" append "hello {{ nme }}"
}
"""


def invoke(*args: str, cwd: Path | None = None) -> object:
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return runner.invoke(app, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def test_validate_ok(tmp_path: Path) -> None:
    (tmp_path / "good.scn").write_text(GOOD)
    result = invoke("validate", str(tmp_path / "good.scn"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("ok: ")
    assert "scenarios" in result.stdout


def test_validate_reports_every_problem_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.scn").write_text(BAD)
    result = invoke("validate", "--no-builtin", str(tmp_path / "bad.scn"))
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert "bad.scn:4:12: scenario hello-world requires unknown scenario 'create-tabel'" in result.stderr
    assert "bad.scn:5:53: template variable 'nme' in text of step 'greet' is not a parameter" in result.stderr
    assert "2 problems found" in result.stderr


def test_validate_json(tmp_path: Path) -> None:
    (tmp_path / "bad.scn").write_text(BAD)
    result = invoke("validate", "--json", str(tmp_path / "bad.scn"))
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert [d["line"] for d in data["diagnostics"]] == [4, 5]
    assert data["diagnostics"][0]["hint"] == "did you mean create-table?"


def test_validate_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "broken.scn").write_text('scenario x {\n  object ui\n  sumary "x"\n}\n')
    result = invoke("validate", str(tmp_path / "broken.scn"))
    assert result.exit_code == 2
    assert "broken.scn:3:3: unexpected name 'sumary'" in result.stderr
    assert "did you mean 'summary'?" in result.stderr


def test_validate_missing_path_is_a_user_error(tmp_path: Path) -> None:
    result = invoke("validate", str(tmp_path / "nope.scn"))
    assert result.exit_code == 2
    assert "no such file or directory" in result.stderr


def test_validate_uses_repository_config(git_repo: Path) -> None:
    (git_repo / "dsl").mkdir()
    (git_repo / "dsl" / "bad.scn").write_text(BAD)
    (git_repo / ".continuous.toml").write_text('scenario_paths = ["dsl"]\n')
    result = invoke("validate", cwd=git_repo)
    assert result.exit_code == 2
    assert "unknown scenario 'create-tabel'" in result.stderr
    (git_repo / "dsl" / "bad.scn").write_text(GOOD)
    assert invoke("validate", cwd=git_repo).exit_code == 0


def test_fmt_check_and_write(tmp_path: Path) -> None:
    path = tmp_path / "messy.scn"
    path.write_text('scenario   a { object ui   summary "x" }  # done\n')
    result = invoke("fmt", "--check", str(path))
    assert result.exit_code == 1
    assert f"would reformat {path}" in result.stderr
    assert path.read_text() == 'scenario   a { object ui   summary "x" }  # done\n'
    result = invoke("fmt", str(path))
    assert result.exit_code == 0
    assert path.read_text() == 'scenario a {\n  object ui\n  summary "x"\n}  # done\n'
    assert invoke("fmt", "--check", str(path)).exit_code == 0


def test_fmt_syntax_error_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.scn"
    path.write_text("scenario a {\n")
    result = invoke("fmt", str(path))
    assert result.exit_code == 2
    assert "broken.scn:1:13: unexpected end of file" in result.stderr
    assert path.read_text() == "scenario a {\n"


def test_fmt_without_paths_outside_a_repository(tmp_path: Path) -> None:
    result = invoke("fmt", cwd=tmp_path)
    assert result.exit_code == 2
    assert "nothing to format" in result.stderr


def test_schema_is_the_rule_base_json_schema() -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "RuleBase"
    assert {"scenarios", "rules", "aliases", "discovers"} <= set(schema["properties"])
    assert "Scenario" in schema["$defs"]


def test_scenarios_list() -> None:
    result = invoke("scenarios", "list", "--object-type", "database", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert rows and {r["object_type"] for r in rows} == {"database"}
    assert "create-table" in {r["id"] for r in rows}
    text = invoke("scenarios", "list").stdout
    assert "create-service" in text and "create-table" in text


def test_scenarios_list_bad_object_type() -> None:
    result = invoke("scenarios", "list", "--object-type", "servce")
    assert result.exit_code == 2
    assert "unknown object type 'servce'" in result.stderr and "did you mean service?" in result.stderr


def test_scenarios_show_accepts_aliases() -> None:
    result = invoke("scenarios", "show", "create-proxy-endpoint")
    assert result.exit_code == 0
    assert result.stdout.startswith("add-proxy-endpoint (proxy)")
    assert "parameters:" in result.stdout and "steps:" in result.stdout
    data = json.loads(invoke("scenarios", "show", "create-table", "--json").stdout)
    assert data["id"] == "create-table" and data["params"][0]["name"] == "name"


def test_scenarios_show_unknown() -> None:
    result = invoke("scenarios", "show", "create-tabel")
    assert result.exit_code == 2
    assert "unknown scenario 'create-tabel'" in result.stderr
    assert "did you mean create-table?" in result.stderr


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_scenarios_graph(fmt: str) -> None:
    result = invoke("scenarios", "graph", "--format", fmt)
    assert result.exit_code == 0
    if fmt == "mermaid":
        assert result.stdout.startswith("flowchart LR")
        assert "s_create_table --> s_modify_schema" in result.stdout
    else:
        assert result.stdout.startswith("digraph scenarios {")
        assert '"create-table" -> "modify-schema";' in result.stdout


def test_scenarios_graph_json_and_bad_format() -> None:
    data = json.loads(invoke("scenarios", "graph", "--json").stdout)
    assert {"from": "create-table", "to": "modify-schema", "kind": "requires", "label": ""} in data["edges"]
    assert invoke("scenarios", "graph", "--format", "svg").exit_code == 2


def test_validate_as_a_real_process(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "continuous"
    (tmp_path / "bad.scn").write_text(BAD)
    (tmp_path / "good.scn").write_text(GOOD)
    bad = subprocess.run(
        [str(exe), "validate", str(tmp_path / "bad.scn")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert "unknown scenario 'create-tabel'" in bad.stderr and "^^^^" in bad.stderr
    good = subprocess.run(
        [str(exe), "validate", str(tmp_path / "good.scn")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("ok: ")

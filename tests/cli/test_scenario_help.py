"""`continuous run-scenario ID --help` ends with that scenario's parameters: types, required or default, ranges,
patterns, examples and docs, wrapped at words to the terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from continuous.cli.scenario_help import parameters_text
from continuous.dsl.loader import load_rule_base

GOLDEN = Path(__file__).parent / "golden"
EXE = str(Path(sys.executable).parent / "continuous")
UPDATE = os.environ.get("CONTINUOUS_UPDATE_GOLDEN") == "1"


def _help(*args: str, columns: int = 100) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1"}
    return subprocess.run(
        [EXE, "run-scenario", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


@pytest.mark.parametrize("scenario", ["create-table", "create-app"])
def test_parameters_match_the_golden_file(scenario: str) -> None:
    text = parameters_text(load_rule_base().scenarios[scenario], width=100)
    golden = GOLDEN / f"help-{scenario}.txt"
    if UPDATE:
        golden.write_text(text)
    assert text == golden.read_text()


def test_help_with_a_scenario_id_lists_its_parameters() -> None:
    proc = _help("create-table", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "--dry-run" in proc.stdout  # the command's own help comes first
    assert proc.stdout.rstrip().endswith((GOLDEN / "help-create-table.txt").read_text().rstrip())
    by_alias = _help("-h", "create-app")
    assert "port between 5000 and 5999, optional" in by_alias.stdout
    assert "examples:" in _help("create-table", "-h").stdout


def test_every_line_fits_a_narrow_terminal_and_no_word_is_cut() -> None:
    rb = load_rule_base()
    text = parameters_text(rb.scenarios["create-app"], width=60)
    for line in text.splitlines():
        assert len(line) <= 60 or " " not in line.strip(), line
    doc = rb.scenarios["create-app"].param("port").doc
    assert " ".join(doc.split()) in " ".join(text.split())


def test_an_unknown_scenario_id_gets_a_suggestion() -> None:
    proc = _help("creat-tabel", "--help")
    assert proc.returncode == 0
    assert "unknown scenario 'creat-tabel'; did you mean create-table?" in proc.stdout


def test_plain_help_does_not_load_the_rule_base() -> None:
    wrapper = (
        "import json, sys\nsys.argv = ['continuous', 'run-scenario', '--help']\n"
        "from continuous.cli.main import run\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('MODULES=' + json.dumps(sorted(sys.modules)) + '\\n')\n"
    )
    proc = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, check=True)
    modules = {m.split(".")[0] for m in json.loads(proc.stderr.split("MODULES=", 1)[1])}
    assert not {"lark", "jinja2", "sqlalchemy"} & modules  # (typer itself may load pydantic to coerce lists)
    assert "Parameters:" not in proc.stdout and "--dry-run" in proc.stdout

"""`continuous --help` must stay fast: no heavy library is imported to print the command list."""

from __future__ import annotations

import json
import subprocess
import sys

BANNED = (
    "torch",
    "sentence_transformers",
    "sqlalchemy",
    "duckdb",
    "sklearn",
    "pyarrow",
    "alembic",
    "lark",
    "pydantic",
    "jinja2",
    "git",
    "mcp",
    "mcp_types",
    "starlette",
    "anyio",
)

WRAPPER = """
import json, sys
sys.argv = ["continuous", "--help"]
try:
    from continuous.cli.main import run
    run()
except SystemExit as exc:
    code = exc.code
sys.stderr.write("MODULES=" + json.dumps(sorted(sys.modules)) + "\\n")
sys.stderr.write("EXIT=" + str(code) + "\\n")
"""


def loaded_by_help() -> tuple[list[str], str, str]:
    proc = subprocess.run([sys.executable, "-c", WRAPPER], capture_output=True, text=True, check=True)
    lines = dict(line.split("=", 1) for line in proc.stderr.splitlines() if line.startswith(("MODULES=", "EXIT=")))
    return json.loads(lines["MODULES"]), lines["EXIT"], proc.stdout


def test_help_imports_no_heavy_library() -> None:
    modules, exit_code, stdout = loaded_by_help()
    assert exit_code in ("0", "None")
    assert "validate" in stdout and "scenarios" in stdout
    heavy = sorted({m.split(".")[0] for m in modules if m.split(".")[0] in BANNED})
    assert heavy == [], f"`continuous --help` imports {heavy}"


def test_the_check_can_fail() -> None:
    """The wrapper really sees imports: importing pydantic first makes it show up."""
    proc = subprocess.run(
        [sys.executable, "-c", "import pydantic\n" + WRAPPER], capture_output=True, text=True, check=True
    )
    assert '"pydantic"' in proc.stderr

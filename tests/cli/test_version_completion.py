"""`continuous --version` and shell completion (installed into a real bash, completing commands and scenario
ids)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from continuous.cli.main import app
from typer.testing import CliRunner

EXE = str(Path(sys.executable).parent / "continuous")


def test_version_prints_the_installed_version() -> None:
    expected = f"continuous {importlib.metadata.version('continuous')}"
    for flag in ("--version", "-V"):
        proc = subprocess.run([EXE, flag], capture_output=True, text=True, check=False)
        assert proc.returncode == 0 and proc.stdout.strip() == expected, proc
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == expected


def test_version_is_as_cheap_as_help() -> None:
    wrapper = (
        "import json, sys\nsys.argv = ['continuous', '--version']\n"
        "from continuous.cli.main import run\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('MODULES=' + json.dumps(sorted(sys.modules)) + '\\n')\n"
    )
    proc = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, check=True)
    modules = json.loads(proc.stderr.split("MODULES=", 1)[1])
    heavy = {"sqlalchemy", "lark", "pydantic", "jinja2", "numpy", "mcp", "git"} & {m.split(".")[0] for m in modules}
    assert not heavy and proc.stdout.startswith("continuous ")


def _from_shell(shell: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run continuous as a child of `shell`, as a user does: the completion options detect the shell they are
    started from."""
    line = " ".join([EXE, *args]) + "; status=$?; exit $status"
    return subprocess.run([shell, "-c", line], capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_show_completion_prints_the_script_for_the_shell_it_runs_in() -> None:
    proc = _from_shell("bash", "--show-completion")
    assert proc.returncode == 0, proc.stderr
    assert "complete -o default -F _continuous_completion continuous" in proc.stdout


@pytest.mark.skipif(shutil.which("zsh") is None, reason="needs zsh")
def test_show_completion_in_zsh() -> None:
    proc = _from_shell("zsh", "--show-completion")
    assert proc.returncode == 0 and "compdef _continuous_completion continuous" in proc.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_install_completion_completes_commands_and_scenario_ids_in_bash(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "PATH": f"{Path(EXE).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = _from_shell("bash", "--install-completion", env=env)
    assert proc.returncode == 0, proc.stderr
    script = home / ".bash_completions" / "continuous.sh"
    assert script.is_file() and str(script) in (home / ".bashrc").read_text()

    def complete(*words: str) -> list[str]:
        quoted = " ".join(f"'{w}'" for w in words)
        program = (
            f"source {script}\nCOMP_WORDS=({quoted})\nCOMP_CWORD={len(words) - 1}\n"
            "_continuous_completion continuous\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
        )
        done = subprocess.run(
            ["bash", "--norc", "-c", program],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return [line for line in done.stdout.splitlines() if line]

    assert complete("continuous", "run-sc") == ["run-scenario"]
    assert "create-table" in complete("continuous", "run-scenario", "create-t")
    assert all(c.startswith("create-") for c in complete("continuous", "run-scenario", "create-"))
    assert complete("continuous", "run-scenario", "zzz-no-such") == []
    assert "--dry-run" in complete("continuous", "run-scenario", "create-table", "--dry")

"""Template resource limits: operators that could hang or exhaust memory are checked before they run, output is
capped, and a template's rendering time is bounded (issue 12 §3). Every refusal is a UserError (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from continuous.common.errors import UserError
from continuous.dsl.templating import render_string

EXE = str(Path(sys.executable).parent / "continuous")

HOSTILE = [
    "{{ 9**999999999 }}",
    "{{ 9**(9**9) }}",
    "{{ 2**(10**7) }}",
    "{{ 'a' * 10**10 }}",
    "{{ ['a'] * 10**10 }}",
    "{{ 10**10 * 'a' }}",
    "{{ ('a' * 1000000) * 1000 }}",
    "{{ 'x' | center(10**10) }}",
    "{{ 'x' | indent(10**10, true) }}",
    "{{ '%999999999d' % 1 }}",
    "{{ '%999999999d' | format(1) }}",
    "{{ ('a' * 1000000) | replace('a', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa') }}",
    "{{ range(100000) | join('a' * 100000) }}",
    "{{ lipsum(10**9) }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{{ 'a' * 1000 }}{% endfor %}",
]


@pytest.mark.parametrize("template", HOSTILE)
def test_hostile_expressions_are_refused(template: str) -> None:
    code = (
        "import sys\n"
        "from continuous.common.errors import UserError\n"
        "from continuous.dsl.templating import render_string\n"
        "try:\n"
        f"    render_string({template!r}, {{}})\n"
        "except UserError as exc:\n"
        "    print(exc.message); sys.exit(2)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CONTINUOUS_TEMPLATE_SECONDS": "3"},
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ 2**10 }}", "1024"),
        ("{{ 'ab' * 3 }}", "ababab"),
        ("{{ 3 * 'ab' }}", "ababab"),
        ("{{ port - 1000 }}", "4180"),
        ("{{ (n * 2) // 3 % 5 }}", "4"),
        ("{{ '%05d' % 42 }}", "00042"),
        ("{{ 'x' | center(5) }}", "  x  "),
        ("{{ [1, 2] | join(', ') }}", "1, 2"),
        ("{{ 'a-b' | replace('-', '_') }}", "a_b"),
    ],
)
def test_ordinary_expressions_still_work(template: str, expected: str) -> None:
    assert render_string(template, {"port": 5180, "n": 6}) == expected


def test_a_template_file_with_a_hostile_expression_fails_before_the_run(git_repo: Path, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    (lib / "templates").mkdir(parents=True)
    (lib / "templates" / "big.j2").write_text("{{ 'a' * 10**10 }}\n")
    (lib / "big.scn").write_text(
        'scenario big {\n  object infra\n  summary "x"\n  step "write" render "big.j2" to "big.txt"\n}\n'
    )
    (git_repo / ".continuous.toml").write_text(f'scenario_paths = ["{lib}"]\ninclude_builtin = false\n')
    subprocess.run(["git", "add", "-A"], cwd=git_repo, check=True)
    subprocess.run(["git", "commit", "-qm", "config"], cwd=git_repo, check=True)
    env = {**os.environ, "CONTINUOUS_DATABASE_URL": f"sqlite:///{tmp_path}/t.db"}
    proc = subprocess.run(
        [EXE, "run-scenario", "big", "--yes"], cwd=git_repo, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "too large" in proc.stderr
    assert not (git_repo / "big.txt").exists()


def test_output_is_capped() -> None:
    with pytest.raises(UserError, match="too large"):
        render_string("{% for i in range(100000) %}{{ 'a' * 1000 }}{% endfor %}", {})

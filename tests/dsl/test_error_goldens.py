"""Golden tests: every bad DSL input in fixtures/errors gives exactly the message in its .expected file.

Each fixture is `<name>.scn` (first line `# title: ...`) with `<name>.expected` beside it: the diagnostics
that `continuous validate --no-builtin <name>.scn` prints (parse errors, or else static validation problems),
with the fixture directory stripped from file names. Regenerate after an intended wording change with
`CONTINUOUS_UPDATE_GOLDENS=1 .venv/bin/pytest tests/dsl/test_error_goldens.py` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from continuous.dsl.validate import check_files

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "errors"
CASES = sorted(FIXTURES.glob("*.scn"))


def render(path: Path) -> str:
    _, diagnostics = check_files([path])
    text = "\n".join(d.render() for d in diagnostics)
    return text.replace(str(FIXTURES) + os.sep, "") + "\n"


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_error_message(path: Path) -> None:
    assert path.read_text(encoding="utf-8").startswith("# title: "), "first line must be `# title: ...`"
    actual = render(path)
    expected_path = path.with_suffix(".expected")
    if os.environ.get("CONTINUOUS_UPDATE_GOLDENS") == "1":
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.exists(), f"missing {expected_path.name}; run with CONTINUOUS_UPDATE_GOLDENS=1"
    assert actual.strip(), "a bad input must produce at least one diagnostic"
    assert actual == expected_path.read_text(encoding="utf-8")

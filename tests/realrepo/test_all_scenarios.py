"""Every built-in scenario on the real monorepo, with parameters a developer of that repository would pass.

One fresh copy per scenario. Each must: exit 0; put files where the repository keeps like files and change
nothing the dry-run did not predict; produce valid code (tsc in its package, SQL applying and reverting on
PostgreSQL with the Supabase stand-ins, `bash -n`, JSON); and roll back byte for byte (see measure.py).
The parameter table is kept in tests/realrepo/README.md; a test below keeps both the same.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .cases import CASES
from .conftest import INSTALLED
from .measure import Case, measure


def test_every_built_in_scenario_has_a_case() -> None:
    from continuous.dsl.loader import load_rule_base

    rule_base = load_rule_base()
    ids = {c.scenario for c in CASES}
    assert set(rule_base.scenarios) | set(rule_base.aliases) == ids


def test_the_readme_table_lists_every_case() -> None:
    readme = (Path(__file__).parent / "README.md").read_text()
    rows = {}
    for line in readme.splitlines():
        m = re.match(r"^\| `([a-z-]+)` \| `([^`]*)` \|", line)
        if m:
            rows.setdefault(m.group(1), m.group(2))
    assert rows == {c.scenario: c.shown() for c in CASES}


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_scenario_on_the_real_repository(case: Case, real_repo: Path, pristine_repo: Path, scratch_db: str) -> None:
    outcome = measure(case, real_repo, pristine_repo, scratch_url=scratch_db, env=dict(os.environ), installed=INSTALLED)
    report = "\n".join(f"{m}: {p}" for m, problems in outcome.problems.items() for p in problems)
    assert outcome.ran and outcome.placed and outcome.valid and outcome.rolled_back, report

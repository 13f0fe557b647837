"""Developer wordings the scenarios' examples teach in general forms (session 9, branch env9): a setting moved into
or read from an environment variable, a package lifecycle script (postinstall), a bump in dependabot's `build(deps)`
form. Each request here names other objects than any example, so a plan comes from the form, not from a memorised
text; before these examples the postinstall request was under the in-scope gate."""

from __future__ import annotations

from pathlib import Path

import pytest
from continuous.dsl.loader import load_rule_base
from continuous.planner.suggest import load_context, suggest

WORDINGS = [
    ("read the sendgrid api key from process.env rather than hardcoding it", "configure-environment"),
    ("move the oauth client settings into env vars", "configure-environment"),
    ("expose the thumbnail width as an environment variable", "configure-environment"),
    ("add a postinstall script that generates the icons", "add-pnpm-script"),
    ("build(deps): bump chalk from 5.2.0 to 5.3.0", "update-dependencies"),
]


@pytest.fixture
def example(example_monorepo: Path) -> Path:
    return example_monorepo


def test_no_wording_is_an_example() -> None:
    examples = {
        " ".join(str(e).lower().split())
        for s in load_rule_base([], include_builtin=True).scenarios.values()
        for e in getattr(s, "examples", ())
    }
    assert not [text for text, _ in WORDINGS if text in examples]


@pytest.mark.parametrize(("text", "scenario"), WORDINGS)
def test_a_general_wording_plans_its_scenario(example: Path, text: str, scenario: str) -> None:
    result = suggest(text, load_context(example))
    requested = [p.scenario for p in result.plan if p.role == "requested"]
    assert requested[:1] == [scenario], (requested, [(m.scenario, m.score) for m in result.matches[:3]])

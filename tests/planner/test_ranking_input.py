"""What the intent model is given for a request in a repository: names of existing objects become their kind,
unless the name is written only in the planner's own words (a repository whose commands are called "add",
"health-check" or "archive-docs" must not turn "add a health check" into "add a command": that made
add-cli-command an attractor in a repository with many commands); and when the rules veto every scenario, the
ranking still follows the model, not the order of the scenario ids."""

from __future__ import annotations

import numpy as np
import pytest
from continuous.engine.facts import Fact
from continuous.planner.ranking import rank_units
from continuous.planner.suggest import Context, _mask, load_context, suggest

FACTS = [
    Fact(type="pipeline", fields={"name": "ops"}),
    Fact(type="pipeline", fields={"name": "slideshows"}),
    Fact(type="command", fields={"pipeline": "ops", "name": "health-check"}),
    Fact(type="command", fields={"pipeline": "ops", "name": "add"}),
    Fact(type="command", fields={"pipeline": "ops", "name": "archive-docs"}),
    Fact(type="table", fields={"name": "crm_leads"}),
]


@pytest.fixture(scope="module")
def ctx() -> Context:
    return load_context(use_repo=False, facts=FACTS)


def test_names_in_the_planners_own_words_stay_words(ctx: Context) -> None:
    text = "add a health check for the billing proxy"
    assert "health check" in {text[m.start : m.end] for m in ctx.repo.mentioned(text)}  # the repository names it
    assert _mask(text, ctx) == text
    assert _mask("archive docs older than a year", ctx) == "archive docs older than a year"


def test_names_are_still_replaced_by_their_kind(ctx: Context) -> None:
    assert _mask("create a new slideshows pipeline", ctx) == "create a new pipeline"
    assert _mask("store a due date on crm_leads", ctx) == "store a due date on table"
    # a commit scope is the normaliser's to read, as written
    assert _mask("feat(slideshows): add a reminder column to crm_leads", ctx).startswith("feat(slideshows): ")


def test_a_command_named_like_the_request_does_not_attract_it(ctx: Context) -> None:
    assert suggest("add a health check for the billing proxy", ctx).matches[0].scenario == "setup-monitoring"
    assert suggest("archive docs older than a year", ctx).matches[0].scenario == "archive-path"


def test_every_scenario_vetoed_still_ranks_by_the_model(ctx: Context) -> None:
    text = "add a tooltip to the leads page"  # a part of a screen: no scenario makes one
    ranking = rank_units(ctx, [(text, _mask(text, ctx))])
    assert ranking.unvetoed is not None
    assert not ranking.probs[0].any()
    by_model = [ctx.index.scenario_ids[int(s)] for s in np.argsort(-ranking.unvetoed[0], kind="stable")[:3]]
    assert [sid for sid, _p in ranking.top(0, 3)] == by_model
    assert by_model[0] != ctx.index.scenario_ids[0] or ranking.unvetoed[0].argmax() == 0

"""Honest calibration: the off-topic data is grouped by source, cross-validation never splits a source or a set of
paraphrases, and the no-match threshold is the least expected cost on those held-out probabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from continuous.planner import training
from continuous.planner.index import offtopic_texts


def test_every_shipped_off_topic_line_has_a_source_and_no_source_dominates() -> None:
    texts = offtopic_texts()
    sources = training.offtopic_sources(texts)
    assert "unknown" not in sources
    counts = {s: sources.count(s) for s in set(sources)}
    # leave-sources-out needs several sources, none of them most of the data
    assert len(counts) >= 8
    assert max(counts.values()) < 0.25 * len(texts)


def test_source_blocks_are_read_in_order(tmp_path: Path) -> None:
    path = tmp_path / "off.txt"
    path.write_text(
        "# a comment\nbefore any source\n# source: one/repo\nfix: a\n# a comment inside\nfix: b\n"
        "# source: two/repo\nfix: c\nfix: a\n",
        encoding="utf-8",
    )
    got = training.offtopic_sources(["before any source", "fix: a", "fix: b", "fix: c", "missing"], path)
    # a line that occurs twice keeps its first source
    assert got == ["unknown", "one/repo", "one/repo", "two/repo", "unknown"]


def test_paraphrases_of_one_scenario_share_a_group_and_other_scenarios_never_do() -> None:
    emb = np.asarray([[1.0, 0.0], [0.99, 0.141], [0.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    scenario = np.asarray([0, 0, 0, 1])
    groups = training.paraphrase_groups(emb, scenario, 0.9)
    assert groups[0] == groups[1]  # near-identical documents of one scenario
    assert groups[2] != groups[0]  # a different wording
    assert groups[3] not in (groups[0], groups[2])  # the same wording of another scenario


def _case() -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    # 2 scenarios + none (label 2): positives score high, off-topic low, one off-topic request scores 0.7
    best = np.asarray([0.9, 0.8, 0.6, 0.3, 0.2, 0.7, 0.1])
    pick = np.asarray([0, 1, 0, 0, 1, 0, 1])
    labels = np.asarray([0, 1, 0, 2, 2, 2, 2])
    return best, pick, labels, 2


def test_the_threshold_trades_false_plans_against_missed_ones() -> None:
    best, pick, labels, n = _case()
    cheap = {"false_plan_cost": 1.0, "missed_plan_cost": 1.0, "wrong_plan_cost": 1.0, "min_threshold": 0.2}
    t_cheap = training.choose_threshold(best, pick, labels, n, cheap)
    # equal costs: planning the 0.6 positive (and accepting the 0.7 off-topic one) is as cheap as missing it;
    # either way the threshold plans the two confident positives and none of the clear off-topic requests
    assert 0.3 < t_cheap <= 0.8
    dear = {**cheap, "false_plan_cost": 10.0}
    t_dear = training.choose_threshold(best, pick, labels, n, dear)
    assert t_dear > 0.7  # a false plan costing ten missed ones: the 0.7 off-topic request is left unplanned
    assert training.threshold_cost(best, pick, labels, n, dear, t_dear) <= training.threshold_cost(
        best, pick, labels, n, dear, t_cheap
    )


def test_off_topic_weight_in_the_cost_does_not_depend_on_how_many_there_are() -> None:
    best, pick, labels, n = _case()
    cfg = {"false_plan_cost": 1.0, "missed_plan_cost": 1.0, "min_threshold": 0.2}
    one = training.threshold_cost(best, pick, labels, n, cfg, 0.5)
    doubled = training.threshold_cost(
        np.concatenate([best, best[labels == 2]]),
        np.concatenate([pick, pick[labels == 2]]),
        np.concatenate([labels, labels[labels == 2]]),
        n,
        cfg,
        0.5,
    )
    assert abs(one - doubled) < 1e-9


def test_the_report_names_each_held_out_source() -> None:
    best, pick, labels, n = _case()
    sources = ["", "", "", "a", "a", "b", "b"]
    report = training.cv_report(best, pick, labels, sources, n, 0.5)
    assert report["cv_offtopic_accepted_by_source"] == {"a": 0.0, "b": 0.5}
    assert report["cv_offtopic_accepted"] == 0.25


def test_a_commit_type_is_a_prior_on_making_things_not_a_veto() -> None:
    from continuous.dsl.loader import load_rule_base
    from continuous.planner import rules
    from continuous.planner.index import load_or_build

    built = load_or_build(load_rule_base([], include_builtin=True))
    s = built.scenario_ids.index("configure-environment")
    texts = ["docs: add REDIS_URL to .env.example", "chore: add REDIS_URL to .env.example"]
    probs = np.full((2, len(built.scenario_ids)), 0.9, dtype=np.float32)
    rules.apply_commit_odds(texts, probs, built)
    assert 0.5 < probs[0, s] < 0.9  # a docs commit lowers the odds of making something, and no more
    assert probs[1, s] == np.float32(0.9)  # a chore commit is left alone

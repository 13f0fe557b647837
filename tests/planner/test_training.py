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


# ---------------------------------------------------------------- labelled real requests (data/requests.txt)


def test_labelled_requests_are_read_by_source_and_a_line_without_a_label_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "requests.txt"
    path.write_text(
        "# header\n# source: one/repo\nadd-page\tfeat: add usage page\nnone\tfix: typo\n\n"
        "# source: two/repo\ncreate-table\tadd orgs table\n",
        encoding="utf-8",
    )
    got = training.labelled_requests(path)
    assert got == [
        training.Request("one/repo", "add-page", "feat: add usage page"),
        training.Request("one/repo", "none", "fix: typo"),
        training.Request("two/repo", "create-table", "add orgs table"),
    ]
    assert training.labelled_requests(tmp_path / "missing.txt") == []
    path.write_text("# source: one/repo\nfeat: add usage page\n", encoding="utf-8")
    try:
        training.labelled_requests(path)
    except ValueError as exc:
        assert "requests.txt:2" in str(exc)
    else:
        raise AssertionError("a line without LABEL<TAB> was accepted")


def test_every_shipped_labelled_request_names_a_scenario_and_every_source_has_both_kinds() -> None:
    from continuous.dsl.loader import load_rule_base

    ids = set(load_rule_base([], include_builtin=True).scenarios)
    requests = training.labelled_requests()
    assert len(requests) >= 500
    assert {r.label for r in requests} <= ids | {training.NONE_LABEL}
    assert "unknown" not in {r.source for r in requests}
    for source in {r.source for r in requests}:
        labels = {r.label for r in requests if r.source == source}
        # a source of only one kind would teach the model a repository's style as a class
        assert training.NONE_LABEL in labels and len(labels) > 1, source
    # none of them is also an off-topic line (one text, two classes)
    assert not {r.text for r in requests} & set(offtopic_texts())


def _built_in() -> tuple[object, list[training.Request], np.ndarray]:
    from continuous.dsl.loader import load_rule_base
    from continuous.planner.index import load_or_build

    built = load_or_build(load_rule_base([], include_builtin=True))
    requests = training.labelled_requests()
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(len(requests), built.emb.shape[1])).astype(np.float32)
    return built, requests, emb / np.linalg.norm(emb, axis=1, keepdims=True)


def test_the_training_set_holds_the_labelled_requests_with_their_labels_and_source_groups() -> None:
    built, requests, emb = _built_in()
    off = offtopic_texts()[:50]
    off_emb = np.zeros((len(off), emb.shape[1]), dtype=np.float32)
    cfg = training.config()
    data = training.training_set(built, off, off_emb, cfg, requests, emb)  # type: ignore[arg-type]
    none = len(built.scenario_ids)  # type: ignore[attr-defined]
    row_of = {t: i for i, t in enumerate(data.texts)}
    positives = [r for r in requests if r.label != training.NONE_LABEL]
    for req in positives:
        i = row_of[req.text]
        assert data.labels[i] == built.scenario_ids.index(req.label), req  # type: ignore[attr-defined]
        assert data.sources[i] == req.source
        assert data.exclude[i] == -1  # a request is no document: nothing to hide from its own features
        assert np.allclose(data.emb[i], emb[requests.index(req)])
    kept_none = [r for r in requests if r.label == training.NONE_LABEL and r.text in row_of]
    assert len(kept_none) > 0.8 * sum(r.label == training.NONE_LABEL for r in requests)  # most pass the vetoes
    for req in kept_none:
        assert data.labels[row_of[req.text]] == none
    # a repository's requests, in-scope and none alike, are one cross-validation group, and no other source's
    for source in {r.source for r in requests}:
        rows = [row_of[r.text] for r in requests if r.source == source and r.text in row_of]
        assert len({int(data.groups[i]) for i in rows}) == 1, source
    group_source = {int(data.groups[i]): data.sources[i] for i in range(len(data.texts)) if data.sources[i]}
    assert len(set(group_source.values())) == len(group_source)
    # weights from model.toml: a request of a scenario weighs kind_weight.request
    first = row_of[positives[0].text]
    assert data.weights[first] == float(cfg["kind_weight"]["request"])
    # without the kind "request" none of them is trained on
    without = training.training_set(
        built,  # type: ignore[arg-type]
        off,
        off_emb,
        {**cfg, "train_kinds": [k for k in cfg["train_kinds"] if k != "request"]},
        requests,
        emb,
    )
    assert not {r.text for r in requests} & set(without.texts)


def test_a_request_of_a_scenario_the_library_lacks_is_left_out() -> None:
    built, requests, emb = _built_in()
    reqs = [training.Request("x/repo", "no-such-scenario", "feat: add usage page"), *requests[:1]]
    data = training.training_set(built, [], np.zeros((0, emb.shape[1]), np.float32), None, reqs, emb[:2])  # type: ignore[arg-type]
    assert "feat: add usage page" not in data.texts


def test_the_shipped_index_was_trained_on_the_labelled_requests() -> None:
    from continuous.dsl.loader import load_rule_base
    from continuous.planner.index import load_or_build

    built = load_or_build(load_rule_base([], include_builtin=True))
    positives = [r for r in training.labelled_requests() if r.label != training.NONE_LABEL]
    assert built.report["requests"] == len(positives)
    assert 0.0 < built.report["cv_requests_recall_at_threshold"] <= built.report["cv_requests_top1"]


def test_the_index_key_changes_with_the_labelled_requests(tmp_path: Path, monkeypatch: object) -> None:
    from continuous.dsl.loader import load_rule_base
    from continuous.planner import index

    rule_base = load_rule_base([], include_builtin=True)
    before = index.planner_content(rule_base)
    changed = tmp_path / "requests.txt"
    changed.write_text(index.REQUESTS.read_text(encoding="utf-8") + "add-page\tfeat: add one more page\n", "utf-8")
    monkeypatch.setattr(index, "REQUESTS", changed)  # type: ignore[attr-defined]
    assert index.planner_content(rule_base) != before


def test_a_library_learns_from_the_labelled_requests_of_its_built_in_scenarios_only() -> None:
    from continuous.dsl.loader import load_rule_base
    from continuous.planner.index import builtin_ids

    requests = training.labelled_requests()
    builtin = load_rule_base([], include_builtin=True)
    assert training.usable_requests(requests, builtin_ids(builtin)) == requests
    # a custom library (here reusing built-in ids) learns its scenarios from their own examples alone
    mini = load_rule_base([Path(__file__).parent / "fixtures" / "mini.scn"], include_builtin=False)
    assert builtin_ids(mini) == set()
    assert training.usable_requests(requests, builtin_ids(mini)) == []
    some = training.usable_requests(requests, {"add-page"})
    assert {r.label for r in some} == {"add-page", training.NONE_LABEL}


def test_the_grouped_folds_are_scikit_learn_s_stratified_group_k_fold_fold_for_fold() -> None:
    import warnings

    from sklearn.model_selection import StratifiedGroupKFold

    rng = np.random.default_rng(5)
    compared = 0
    for _ in range(60):
        n = int(rng.integers(12, 400))
        labels = rng.integers(0, int(rng.integers(2, 9)), n)
        groups = rng.integers(0, int(rng.integers(6, n)), n)
        k, seed = int(rng.integers(2, 6)), int(rng.integers(0, 2**31))
        ours = training._stratified_group_folds(labels, groups, k, seed)
        if ours is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = list(StratifiedGroupKFold(k, shuffle=True, random_state=seed).split(labels, labels, groups))
        assert len(ours) == len(theirs) == k
        for (tr, te), (tr2, te2) in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(tr, tr2)
            np.testing.assert_array_equal(te, te2)
        compared += 1
    assert compared > 40
    # where scikit-learn refuses (fewer groups than folds), it is asked, for its error
    assert training._stratified_group_folds(np.asarray([0, 1, 0, 1]), np.asarray([0, 0, 1, 1]), 3, 0) is None


def test_the_vetoes_training_reads_once_are_what_the_rules_do_to_any_probabilities() -> None:
    """Training reads each text's vetoes once (`rules.vetoed`) for all its repeated splits: they must be what
    `rules.apply` does, whatever the probabilities (a veto reads the text, never them)."""
    from continuous.dsl.loader import load_rule_base
    from continuous.planner import rules
    from continuous.planner.index import load_or_build

    built = load_or_build(load_rule_base([], include_builtin=True))
    texts = offtopic_texts()[:150] + [r.text for r in training.labelled_requests()[:450]]
    mask = rules.vetoed(texts, built)
    assert 0 < mask.sum() < mask.size
    rng = np.random.default_rng(3)
    for _ in range(2):
        probs = rng.random((len(texts), len(built.scenario_ids))).astype(np.float32)
        probs[rng.random(probs.shape) < 0.2] = 0.0
        expected = probs.copy()
        rules.apply(texts, expected, built)
        probs[mask] = 0.0
        np.testing.assert_array_equal(probs, expected)

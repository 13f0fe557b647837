"""The numpy TF-IDF transform used at query time equals scikit-learn's, which fitted it."""

from __future__ import annotations

import numpy as np
import pytest
from continuous.planner.lexical import Space, char_features, fit

DOCS = [
    "create table for bookmarks",
    "new shared service",
    "add a page to the hub app",
    "row level security policy on a table",
    "regenerate typescript types",
]


@pytest.mark.parametrize("analyzer", ["word", "char"])
def test_transform_matches_sklearn(analyzer: str) -> None:
    from continuous.planner.lexical import word_features
    from sklearn.feature_extraction.text import TfidfVectorizer

    space = fit(DOCS, analyzer)
    vec = TfidfVectorizer(analyzer=word_features if analyzer == "word" else char_features, sublinear_tf=True)
    vec.fit(DOCS)
    queries = ["crete a tabel for bookmarks", "a service", "page page page", "nothing in common"]
    ours = space.transform(queries)
    theirs = vec.transform(queries).toarray()
    order = [space.vocabulary[t] for t in sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)]
    np.testing.assert_allclose(ours[:, order], theirs, atol=1e-6)


def test_char_ngrams_survive_typos() -> None:
    space = fit(DOCS, "char")
    scores = space.scores(["crete a tabel for bokmarks"])[0]
    assert int(scores.argmax()) == 0


def test_round_trip_through_arrays() -> None:
    space = fit(DOCS, "word")
    arrays = space.to_arrays("w")
    again = Space.from_arrays(arrays, "w", "word")
    np.testing.assert_allclose(again.scores(["a table"]), space.scores(["a table"]))
    assert arrays["w_terms"].dtype.kind == "U"  # loadable without pickle


def test_char_features_like_sklearn_char_wb() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).build_analyzer()
    for text in ("Crete a tabel", "x", "api/v1 endpoint"):
        assert char_features(text.replace("/", " ")) == analyzer(text.lower().replace("/", " "))


@pytest.mark.parametrize("analyzer", ["word", "char"])
def test_many_texts_score_as_each_alone(analyzer: str) -> None:
    """From `_SPARSE_FROM` texts at once the scores are one sparse product; they equal a query's own, and the
    cosines of `transform` against the documents."""
    from continuous.planner import lexical

    space = fit(DOCS, analyzer)
    queries = [f"{w} table for {x}" for w in ("crete a", "a", "drop the") for x in ("bookmarks", "hub app", "zzz")]
    queries = [*queries, "", "nothing in common", "page page page"] * 8
    assert len(queries) >= lexical._SPARSE_FROM
    together = space.scores(queries)
    alone = np.vstack([space.scores([q]) for q in queries])
    np.testing.assert_allclose(together, alone, atol=1e-6)
    np.testing.assert_allclose(together, space.transform(queries) @ space.transform(DOCS).T, atol=1e-5)
    assert together.shape == (len(queries), len(DOCS)) and together.dtype == np.float32

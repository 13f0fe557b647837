"""Train the intent model of an index (scikit-learn, imported only here, only when an index is built).

Training texts are every scenario's examples, summary, aliases and id words, the off-topic requests of
`data/offtopic.txt` as the class "none", and the labelled real requests of `data/requests.txt` (commit subjects of
public repositories, each labelled with the built-in scenario it asks for or "none"; document kind "request"), so
that every class, not only "none", is learned from requests as they are really written. A document never votes
for itself: its channel features are computed with it hidden, and stage B learns from stage A's cross-validated
probabilities, so the model learns how an unseen request looks rather than how its own examples do. The
hyperparameters are in `data/model.toml`.

Cross-validation holds out whole sources: the off-topic lines and labelled requests of one repository (`# source:`
blocks of offtopic.txt and requests.txt, in-scope and "none" alike) are never split between the folds that fit and
the fold that scores. Otherwise a commit subject of a repository would be scored by a model that learned that
repository's words from its siblings, stage B would trust stage A's "none" more than it deserves on a new
repository, and the calibration and the no-match threshold would be chosen on an optimistic picture
(`python -m continuous.planner.training` prints the per-source figures and compares settings).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from continuous.planner import features
from continuous.planner.index import MODEL_CONFIG, OFFTOPIC, REQUESTS
from continuous.planner.intent import IntentModel, calibrated, clears_floor, gate_inputs
from continuous.planner.parallel import pool, single_threaded_blas

if TYPE_CHECKING:
    from continuous.planner.index import Index

SOURCE_MARK = "# source:"
NONE_LABEL = "none"
# the tolerance of the stage-A fold fits warm-started from the final fit (`train`); the final fit keeps sklearn's 1e-4
FOLD_WARM_TOL = 5e-5
# the tolerance of the threshold loop's stage-B fits, started from the final stage B (`train`): two Newton steps that
# land within 2e-4 of each fold's optimum, closer than the fits from zero at sklearn's 1e-4 (within 5e-3)
FOLD_B_WARM_TOL = 1e-5


@dataclass(frozen=True)
class Request:
    """A labelled real request of requests.txt: its source block, its label (a scenario id or "none") and text."""

    source: str
    label: str
    text: str


def labelled_requests(path: Path = REQUESTS) -> list[Request]:
    """The labelled requests of requests.txt (`LABEL<TAB>REQUEST` lines in `# source: NAME` blocks); none when the
    file is missing. A line without a tab is a mistake of the file and raises ValueError with its line number."""
    if not path.exists():
        return []
    out: list[Request] = []
    for n, source, line in _source_lines(path):
        label, tab, text = line.partition("\t")
        if not tab or not label.strip() or not text.strip():
            raise ValueError(f"{path}:{n}: expected LABEL<TAB>REQUEST")
        out.append(Request(source, label.strip(), text.strip()))
    return out


def _source_lines(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line number, source, line) of each content line of a file of `# source: NAME` blocks; comments and blank
    lines are skipped, and a line before any block is of source "unknown"."""
    source = "unknown"
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith(SOURCE_MARK):
            source = line[len(SOURCE_MARK) :].strip() or "unknown"
        elif line.strip() and not line.startswith("#"):
            yield n, source, line


def config() -> dict[str, Any]:
    return tomllib.loads(MODEL_CONFIG.read_text(encoding="utf-8"))


def offtopic_sources(texts: list[str], path: Path = OFFTOPIC) -> list[str]:
    """The source block (`# source: NAME` in offtopic.txt) of each off-topic text; "unknown" for a text the
    file does not hold."""
    where: dict[str, str] = {}
    for _, source, line in _source_lines(path):
        where.setdefault(line.strip(), source)
    return [where.get(t, "unknown") for t in texts]


def usable_requests(requests: list[Request], builtin_ids: set[str]) -> list[Request]:
    """The labelled requests a library learns from: those of its built-in scenarios and those of "none"; none at
    all for a library without a built-in scenario. The labels name the built-in scenarios, and "none" means no
    built-in does it, so a custom scenario (even one that reuses a built-in's id) is learned from its own
    `examples` alone, as it would be without this file."""
    if not builtin_ids:
        return []
    return [r for r in requests if r.label == NONE_LABEL or r.label in builtin_ids]


@dataclass
class TrainingSet:
    texts: list[str]
    emb: np.ndarray
    labels: np.ndarray  # scenario index, or len(scenario_ids) for "none"
    weights: np.ndarray
    exclude: list[int]  # the document each row is (hidden from its own features), or -1
    # cross-validation groups: one per off-topic source; a scenario's documents that paraphrase each other form
    # one group (see `paraphrase_groups`)
    groups: np.ndarray
    sources: list[str]  # the source of each labelled or off-topic request, "" for a scenario document


def training_set(
    index: Index,
    offtopic: list[str],
    offtopic_emb: np.ndarray,
    cfg: dict[str, Any] | None = None,
    requests: list[Request] | None = None,
    requests_emb: np.ndarray | None = None,
) -> TrainingSet:
    """The documents, the labelled real requests (kind "request") and the off-topic requests. Off-topic texts and
    requests labelled "none" the rules already veto are left out (the model learns what passes the rules; a
    request about an index or a guide never reaches it); a request labelled with a scenario the rule base does not
    have is left out too (a library without that built-in says nothing about it)."""
    from continuous.planner.features import scenario_words
    from continuous.planner.rules import reasons_to_veto_all

    cfg = cfg or config()
    made = frozenset(o for sw in scenario_words(index) for o in sw.objects)
    keep = [i for i, t in enumerate(offtopic) if reasons_to_veto_all(t, made=made) is None]
    offtopic = [offtopic[i] for i in keep]
    offtopic_emb = offtopic_emb[keep]
    sources = offtopic_sources(list(offtopic))
    kinds = set(cfg["train_kinds"])
    kind_weight = cfg["kind_weight"]
    rows = [i for i, k in enumerate(index.doc_kind) if k in kinds]
    none = len(index.scenario_ids)
    pos_weights = [float(kind_weight.get(index.doc_kind[i], 1.0)) for i in rows]
    # labelled real requests: a scenario's become its rows (kind "request"), "none"'s join the off-topic ones
    req_rows: list[int] = []
    req_labels: list[int] = []
    position = {sid: s for s, sid in enumerate(index.scenario_ids)}
    req_none: list[int] = []
    if "request" in kinds and requests and requests_emb is not None:
        for i, req in enumerate(requests):
            if req.label == NONE_LABEL:
                if reasons_to_veto_all(req.text, made=made) is None:
                    req_none.append(i)
            elif req.label in position:
                req_rows.append(i)
                req_labels.append(position[req.label])
        offtopic = offtopic + [requests[i].text for i in req_none]
        offtopic_emb = np.concatenate([offtopic_emb, requests_emb[req_none]])
        sources = sources + [requests[i].source for i in req_none]
    req_weight = float(kind_weight.get("request", 1.0))
    pos_weights += [req_weight] * len(req_rows)
    # the off-topic requests weigh a fixed share of the scenarios' examples and requests, so "no match" has the
    # same prior in a library of 5 scenarios as in one of 30
    # (a labelled request of "none" counts `kind_weight.request_none` of an off-topic line)
    share = float(cfg.get("none_weight_share", 0.5))
    req_none_factor = float(kind_weight.get("request_none", 1.0))
    n_own_none = len(offtopic) - len(req_none)
    none_weight = share * sum(pos_weights) / max(n_own_none + req_none_factor * len(req_none), 1e-9)
    none_weights = [none_weight] * n_own_none + [none_weight * req_none_factor] * len(req_none)
    req_sources = [requests[i].source for i in req_rows] if requests else []
    names = sorted(set(sources) | set(req_sources))
    doc_groups = paraphrase_groups(index.emb[rows], index.doc_scenario[rows], float(cfg.get("paraphrase_cosine", 0.8)))
    # one group per source: a repository's requests, in-scope and off-topic, are held out together
    group_of = {name: len(rows) + g for g, name in enumerate(names)}
    groups = list(doc_groups) + [group_of[src] for src in req_sources] + [group_of[src] for src in sources]
    emb_parts = [index.emb[rows]]
    if req_rows and requests_emb is not None:
        emb_parts.append(requests_emb[req_rows])
    emb_parts.append(offtopic_emb)
    return TrainingSet(
        texts=[index.doc_text[i] for i in rows] + [requests[i].text for i in req_rows if requests] + list(offtopic),
        emb=np.concatenate(emb_parts).astype(np.float32),
        labels=np.asarray([int(index.doc_scenario[i]) for i in rows] + req_labels + [none] * len(offtopic)),
        weights=np.asarray(pos_weights + none_weights),
        exclude=rows + [-1] * len(req_rows) + [-1] * len(offtopic),
        groups=np.asarray(groups),
        sources=[""] * len(rows) + req_sources + sources,
    )


def paraphrase_groups(emb: np.ndarray, scenario: np.ndarray, cosine: float) -> np.ndarray:
    """Group ids of a scenario's documents: a document joins the first earlier group of its scenario whose
    first member it is at least `cosine` close to. Documents are written by one hand, often from one template
    ("add a sync command to the google pipeline", "add a cleanup command to the document pipeline"); holding
    out one while its paraphrase trains makes the held-out scenarios look easier to recognise than a stranger's
    request is, and the threshold too strict."""
    out = np.zeros(len(emb), dtype=np.int64)
    heads: list[int] = []
    for i in range(len(emb)):
        same = [g for g, h in enumerate(heads) if scenario[h] == scenario[i] and float(emb[h] @ emb[i]) >= cosine]
        if same:
            out[i] = same[0]
        else:
            out[i] = len(heads)
            heads.append(i)
    return out


def fold_seeds(seed: int, repeats: int) -> list[int]:
    """The seeds of `repeats` cross-validation splits: `seed` itself first (one repeat is the split of `seed`
    alone), then seeds drawn from it, so two base seeds share no split."""
    if repeats < 2:
        return [seed]
    return [seed] + [int(x) for x in np.random.SeedSequence([seed, 1]).generate_state(repeats - 1)]


def grouped_folds(labels: np.ndarray, groups: np.ndarray, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """k folds (train rows, test rows) that never split a group, stratified by label. A library too small to
    keep groups whole and still train on two classes in every fold (a few scenarios of near-identical examples)
    falls back to one group per row."""
    import warnings

    from sklearn.model_selection import StratifiedGroupKFold

    def split(g: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        fast = _stratified_group_folds(labels, g, k, seed)
        if fast is not None:
            return fast
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # classes with fewer groups than folds
            folds = StratifiedGroupKFold(k, shuffle=True, random_state=seed)
            return list(folds.split(np.zeros(len(labels)), labels, g))

    folds = split(groups)
    if any(len(np.unique(labels[tr])) < 2 or len(te) == 0 for tr, te in folds):
        folds = split(np.arange(len(labels)))
    return folds


def _stratified_group_folds(
    labels: np.ndarray, groups: np.ndarray, k: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """scikit-learn's `StratifiedGroupKFold(k, shuffle=True, random_state=seed).split`, fold for fold the same
    (`tests/planner/test_training.py` compares them), with each group's choice among the k folds computed in one
    array operation instead of k: scikit-learn's loop took a tenth of an index build's CPU. The same arithmetic in
    the same order: counts are whole numbers, the spread of each class over the folds is `np.std` along the folds,
    a tie (`np.isclose`) goes to the fold with fewer rows. None where scikit-learn would raise (fewer groups than
    folds, or every class smaller than k): the caller asks scikit-learn, for its error."""
    classes_inv, class_counts = np.unique(labels, return_inverse=True, return_counts=True)[1:]
    groups_inv, group_counts = np.unique(groups, return_inverse=True, return_counts=True)[1:]
    n_groups, n_classes = len(group_counts), len(class_counts)
    if n_groups < k or np.all(k > class_counts) or len(labels) < k:
        return None
    per_group = np.zeros((n_groups, n_classes))
    np.add.at(per_group, (groups_inv, classes_inv), 1)
    perm = np.arange(n_groups)
    np.random.RandomState(seed).shuffle(perm)
    per_group = per_group[perm]
    inv_perm = np.empty_like(perm)
    inv_perm[perm] = np.arange(perm.size)
    groups_inv = inv_perm[groups_inv]
    per_fold = np.zeros((k, n_classes))
    fold_of = np.zeros(n_groups, dtype=np.int64)
    trial = np.empty((k, k, n_classes))
    diagonal = np.arange(k)
    for g in np.argsort(-np.std(per_group, axis=1), kind="stable"):
        # trial[i]: the folds' class counts were the group in fold i
        trial[:] = per_fold
        trial[diagonal, diagonal] += per_group[g]
        spread = np.mean(np.std(trial / class_counts, axis=1), axis=1).tolist()
        sizes = per_fold.sum(axis=1).tolist()
        best, least, fewest = 0, float("inf"), float("inf")
        for i in range(k):
            close = least != float("inf") and abs(spread[i] - least) <= 1e-8 + 1e-5 * abs(least)
            if spread[i] < least or (close and sizes[i] < fewest):
                best, least, fewest = i, spread[i], sizes[i]
        per_fold[best] += per_group[g]
        fold_of[g] = best
    rows = np.arange(len(labels))
    in_fold = fold_of[groups_inv]
    return [(rows[in_fold != i], rows[in_fold == i]) for i in range(k)]


def _scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    return mean.astype(np.float32), scale.astype(np.float32)


def _proba_columns(est: Any, x: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros((x.shape[0], n_classes), dtype=np.float32)
    out[:, est.classes_] = est.predict_proba(x)
    return out


def _run_now(fn: Callable[..., Any], *args: Any) -> Future[Any]:
    """`fn(*args)` run now, as a finished future (the work of `train` without a pool: one core)."""
    done: Future[Any] = Future()
    try:
        done.set_result(fn(*args))
    except BaseException as exc:  # re-raised by .result(), as a pool's future would
        done.set_exception(exc)
    return done


@functools.cache
def _started_regression() -> type:
    """A scikit-learn logistic regression whose every fit starts from the coefficients `start` (coef, intercept):
    a fold's fit inside `CalibratedClassifierCV`, which clones its estimator (a clone keeps parameters, not a
    fitted state). scikit-learn is imported here, when an index is built, not with this module."""
    from sklearn.linear_model import LogisticRegression

    class Started(LogisticRegression):
        def __init__(
            self,
            start: tuple[np.ndarray, np.ndarray] | None = None,
            *,
            C: float = 1.0,
            solver: str = "newton-cholesky",
            max_iter: int = 100,
            tol: float = 1e-4,
        ) -> None:
            super().__init__(C=C, solver=solver, max_iter=max_iter, tol=tol, warm_start=True)
            self.start = start

        def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
            if self.start is not None:
                self.coef_, self.intercept_ = self.start[0].copy(), self.start[1].copy()
            return super().fit(X, y, sample_weight=sample_weight)

    return Started


@single_threaded_blas()  # the same arithmetic on any number of cores (`parallel`)
def train(
    index: Index,
    offtopic: list[str],
    offtopic_emb: np.ndarray,
    progress: Callable[[str], None] | None = None,
    debug: dict[str, Any] | None = None,
    cfg: dict[str, Any] | None = None,
    requests: list[Request] | None = None,
    requests_emb: np.ndarray | None = None,
) -> tuple[IntentModel, dict[str, Any]]:
    """The model and a report of its cross-validated quality (stored with the index). `debug` receives the
    scikit-learn estimators and their inputs (the test checks the numpy model against them); `cfg` replaces
    model.toml (comparing settings)."""
    import warnings

    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression

    cfg = cfg or config()
    data = training_set(index, offtopic, offtopic_emb, cfg, requests, requests_emb)
    n_scen = len(index.scenario_ids)
    n_classes = n_scen + 1
    lex = features.lexical(data.texts)
    xa_raw = np.concatenate([data.emb, lex], axis=1)
    a_mean, a_scale = _scale(xa_raw)
    xa = (xa_raw - a_mean) / a_scale
    k = int(cfg["folds"])

    def stage_a() -> Any:
        weight = cfg.get("stage_a_class_weight") or None
        return LogisticRegression(C=float(cfg["stage_a_c"]), solver="newton-cg", max_iter=500, class_weight=weight)

    if progress:
        progress("planner index: training the intent model (stage A)")
    # without "none", stage A only says which scenario a text is most like; no match is stage B's call
    fit_rows = np.arange(len(data.texts)) if cfg.get("stage_a_none", True) else np.flatnonzero(data.labels < n_scen)
    # `fold_repeats` splits, each of `folds` folds: the first (of `seed`) serves stage A's held-out probabilities
    # that the final stage B learns from and its calibration; all of them, pooled, the threshold and the gate
    seeds = fold_seeds(int(cfg["seed"]), int(cfg.get("fold_repeats", 1)))
    fold_sets = [grouped_folds(data.labels, data.groups, k, s) for s in seeds]
    folds = fold_sets[0]

    def fit_a(rows: np.ndarray) -> Any:
        return stage_a().fit(xa[rows], data.labels[rows], sample_weight=data.weights[rows])

    def fit_fold_a(rows: np.ndarray) -> Any:
        """A fold's stage A, started from the final fit's coefficients (of the classes the fold has) and run to a
        tighter tolerance (`FOLD_WARM_TOL`): the same strictly convex problem, so the same optimum, in about half
        the CPU of a cold start. Started from a model that has seen the held-out rows, the fit must go near the
        optimum, or it keeps some of what those rows taught (at the cold fits' tolerance, 1e-4, the mean held-out
        probability of the true class came out up to 0.008 higher than at the optimum; at 5e-5 it is within 0.0013
        of it, as close as the cold fits are). A fold of fewer than three classes starts cold."""
        y = data.labels[rows]
        present = np.unique(y)
        if len(present) < 3 or final_a.coef_.shape[0] != len(final_a.classes_):
            return fit_a(rows)
        est = stage_a().set_params(warm_start=True, tol=FOLD_WARM_TOL)
        at = np.searchsorted(final_a.classes_, present)
        est.coef_ = final_a.coef_[at].copy()
        est.intercept_ = final_a.intercept_[at].copy()
        return est.fit(xa[rows], y, sample_weight=data.weights[rows])

    from continuous.planner import rules

    fold_rows = [np.intersect1d(tr, fit_rows) for fs in fold_sets for tr, _ in fs]
    fold_b_start: tuple[np.ndarray, np.ndarray] | None = None

    def stage_b(splits: list[tuple[np.ndarray, np.ndarray]], *, warm: bool = False) -> Any:
        c = float(cfg["stage_b_c"])
        if warm and fold_b_start is not None:
            base = _started_regression()(fold_b_start, C=c, solver="newton-cholesky", max_iter=200, tol=FOLD_B_WARM_TOL)
        else:
            base = LogisticRegression(C=c, solver="newton-cholesky", max_iter=200)
        return CalibratedClassifierCV(base, method="sigmoid", cv=splits, ensemble=False)

    def pairs_of(texts: np.ndarray) -> np.ndarray:
        return (texts[:, None] * s_count + np.arange(s_count)[None, :]).reshape(-1)

    def group_splits(texts: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Folds over the pairs of `texts` (positions within them): a text's pairs stay together, and so do the
        texts of one group."""
        folds = grouped_folds(data.labels[texts], data.groups[texts], k, seed)
        return [(pairs_of(tr), pairs_of(te)) for tr, te in folds]

    def fit_b(job: tuple[int, np.ndarray] | None) -> Any:
        """Stage B calibrated on folds of the texts of `job` (repeat, texts), each of its fits started from the
        final stage B's coefficients (`FOLD_B_WARM_TOL`); None: the final stage B, of all the texts on the first
        repeat's folds, from zero."""
        if job is None:
            return stage_b([(pairs_of(tr), pairs_of(te)) for tr, te in folds]).fit(xbs, yb, sample_weight=wb)
        r, texts = job
        rows = pairs_of(texts)
        splits = group_splits(texts, seeds[r])
        return stage_b(splits, warm=True).fit(xbs_of[r][rows], yb[rows], sample_weight=wb[rows])

    def held_out_a(r: int) -> np.ndarray:
        """Stage A's held-out probabilities of repeat r (waits for its folds' fits)."""
        out = np.zeros((len(data.texts), n_classes), dtype=np.float32)
        for fit, (_, test_idx) in zip(fold_a_jobs[r * k : (r + 1) * k], fold_sets[r], strict=True):
            out[test_idx] = _proba_columns(fit.result(), xa[test_idx], n_classes)
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # classes with fewer examples than folds
        # one thread per core, single-threaded BLAS (`parallel`); without a pool each piece runs when it is asked for
        with pool(2) as executor:
            run: Callable[..., Future[Any]] = executor.submit if executor is not None else _run_now
            # the final fit first (the folds start from it), beside the pair features that stage B reads
            future = run(fit_a, fit_rows)
            pair = features.pairwise(index, data.texts, data.emb, exclude_docs=data.exclude)
            final_a = future.result()
            # the folds' fits are independent: side by side, one core each. Stage B of a repeat starts as soon as
            # that repeat's stage-A folds are done: the final stage B first (the threshold loop's start from it)
            fold_a_jobs = [run(fit_fold_a, rows) for rows in fold_rows[: 2 * k]]
            # the rules' vetoes read the texts alone: once, while the fits run
            vetoed = rules.vetoed(data.texts, index)
            oof_a = held_out_a(0)
            if progress:
                progress("planner index: training the intent model (stage B)")
            coef = np.zeros((n_classes, xa.shape[1]), dtype=np.float32)
            intercept = np.full(n_classes, -50.0, dtype=np.float32)
            coef[final_a.classes_] = final_a.coef_
            intercept[final_a.classes_] = final_a.intercept_
            model = IntentModel(
                a_mean=a_mean,
                a_scale=a_scale,
                a_coef=coef,
                a_intercept=intercept,
                a_columns=np.arange(n_scen),
                a_none=n_scen,
                b_mean=np.zeros(1, np.float32),
                b_scale=np.ones(1, np.float32),
                b_coef=np.zeros(1, np.float32),
                b_intercept=0.0,
                cal_a=-1.0,
                cal_b=0.0,
                threshold=0.5,
            )
            xb3 = model.pair_inputs(pair, oof_a)
            n, s_count, f_count = xb3.shape
            xb = xb3.reshape(n * s_count, f_count)
            yb = (data.labels[:, None] == np.arange(s_count)[None, :]).reshape(-1).astype(int)
            wb = np.repeat(data.weights, s_count)
            b_mean, b_scale = _scale(xb)
            xbs = (xb - b_mean) / b_scale
            final_b_job = run(fit_b, None)
            fold_a_jobs += [run(fit_fold_a, rows) for rows in fold_rows[2 * k :]]
            final_b = final_b_job.result()
            inner = final_b.calibrated_classifiers_[0]
            fold_b_start = (inner.estimator.coef_, inner.estimator.intercept_)
            # stage B's inputs in each repeat: stage A's held-out probabilities of that repeat's folds
            oof_as = [oof_a]
            xbs_of = [xbs]
            fold_b_jobs = []
            for r, fs in enumerate(fold_sets):
                if r:
                    oof_as.append(held_out_a(r))
                    xbs_of.append((model.pair_inputs(pair, oof_as[r]).reshape(n * s_count, f_count) - b_mean) / b_scale)
                fold_b_jobs += [run(fit_b, (r, tr)) for tr, _ in fs]
            fold_b = [job.result() for job in fold_b_jobs]
            fold_a = [job.result() for job in fold_a_jobs]
    model.b_mean, model.b_scale = b_mean, b_scale
    model.b_coef = inner.estimator.coef_[0].astype(np.float32)
    model.b_intercept = float(inner.estimator.intercept_[0])
    model.cal_a = float(inner.calibrators[0].a_)
    model.cal_b = float(inner.calibrators[0].b_)

    if progress:
        progress("planner index: calibrating the no-match threshold")
    # the threshold decides among what the rules let through, as at query time
    held_out = []
    for r, fs in enumerate(fold_sets):
        oof_p = np.zeros(len(yb), dtype=np.float32)
        for est, (_, test_texts) in zip(fold_b[r * k : (r + 1) * k], fs, strict=True):
            test_idx = pairs_of(test_texts)
            inner_est = est.calibrated_classifiers_[0]
            f = xbs_of[r][test_idx] @ inner_est.estimator.coef_[0] + inner_est.estimator.intercept_[0]
            oof_p[test_idx] = calibrated(f, float(inner_est.calibrators[0].a_), float(inner_est.calibrators[0].b_))
        probs_r = oof_p.reshape(n, s_count)
        rules.apply_commit_odds(data.texts, probs_r, index)
        probs_r[vetoed] = 0.0  # what `rules.apply` does to them
        held_out.append(probs_r)
    # every text once per repeat: the thresholds and the gate read all the repeats' held-out rows together
    repeats = len(fold_sets)
    probs = np.concatenate(held_out)
    oof_a_all = np.concatenate(oof_as)
    labels = np.tile(data.labels, repeats)
    sources = data.sources * repeats
    pooled_folds = [(tr + r * n, te + r * n) for r, fs in enumerate(fold_sets) for tr, te in fs]
    best = probs.max(axis=1)
    pick = probs.argmax(axis=1)
    is_none = labels == n_scen
    # what each held-out row weighs in the objective (`objective_weights`: scenario documents against real requests)
    weight = objective_weights(sources, labels, n_scen, cfg)
    threshold = choose_threshold(best, pick, labels, n_scen, cfg, weight)
    model.threshold = round(threshold, 4)
    score, cut = best, model.threshold
    gate_debug: dict[str, Any] = {}
    if cfg.get("gate", False):
        # the in-scope gate, fitted and its threshold chosen on the folds of the threshold (whole sources held out)
        if progress:
            progress("planner index: calibrating the in-scope gate")
        gate_x = gate_inputs(probs, oof_a_all, model.a_columns, model.a_none)
        oof_gate, final_gate = fit_gate(gate_x, labels, n_scen, pooled_folds, cfg, weight)
        floor, gate_cut = choose_gate_cut(best, oof_gate, pick, labels, n_scen, cfg, weight)
        score = np.where(clears_floor(best, floor), oof_gate, 0.0)
        model.gate_mean, model.gate_scale = final_gate["mean"], final_gate["scale"]
        model.gate_coef = final_gate["estimator"].coef_[0].astype(np.float32)
        model.gate_intercept = float(final_gate["estimator"].intercept_[0])
        model.gate_floor = floor
        model.gate_threshold = cut = round(gate_cut, 4)
        gate_debug = {"gate": final_gate["estimator"], "gate_x": gate_x, "gate_folds": pooled_folds}
        gate_debug["gate_oof"] = oof_gate
        gate_debug["gate_score"] = score
    if debug is not None:
        debug.update(
            texts=data.texts * repeats,
            labels=labels,
            probs=probs,
            oof_a=oof_a_all,
            stage_a=final_a,
            fold_a=fold_a,
            stage_b=final_b,
            fold_b=fold_b,
            xa=xa,
            xb=xbs,
            sources=sources,
            groups=np.tile(data.groups, repeats),
            seeds=seeds,
            fold_sets=fold_sets,
            weights=data.weights,
            lex=lex,
            emb=data.emb,
            **gate_debug,
        )
    report = cv_report(score, pick, labels, sources, n_scen, cut)
    report["threshold"] = model.threshold
    report["gated"] = model.gated
    report["fold_repeats"] = repeats
    # the labelled real requests alone: how the model does on requests as they are really written
    real = np.asarray([bool(src) for src in sources]) & ~is_none
    report["requests"] = int(real.sum()) // repeats
    report["cv_requests_top1"] = round(float((pick == labels)[real].mean()) if real.any() else 0.0, 4)

    def recall(s: np.ndarray, t: float) -> float:
        return round(float(((pick == labels) & (s >= t))[real].mean()) if real.any() else 0.0, 4)

    def cost(s: np.ndarray, t: float) -> float:
        return round(threshold_cost(s, pick, labels, n_scen, cfg, t, weight), 5)

    report["cv_requests_recall_at_threshold"] = recall(score, cut)
    report["cv_cost"] = cost(score, cut)
    # the same decision priced on the real requests alone (documents weigh 0), whatever the objective: comparable
    # between objectives
    real_only = objective_weights(sources, labels, n_scen, {**cfg, "eval_document_weight": 0.0})
    report["cv_requests_cost"] = round(threshold_cost(score, pick, labels, n_scen, cfg, cut, real_only), 5)
    if model.gated:
        report["gate_floor"] = model.gate_floor
        # what the gate changes, on the same held-out probabilities: the decision without it
        report["gate_threshold"] = model.gate_threshold
        report["cv_cost_without_gate"] = cost(best, model.threshold)
        report["cv_requests_recall_without_gate"] = recall(best, model.threshold)
    report["rows"] = int(n)
    report["offtopic"] = int(is_none.sum()) // repeats
    report["cv_brier"] = round(float(np.mean((probs - (labels[:, None] == np.arange(s_count))) ** 2)), 5)
    return model, report


def fit_gate(
    x: np.ndarray,
    labels: np.ndarray,
    n_scen: int,
    folds: list[tuple[np.ndarray, np.ndarray]],
    cfg: dict[str, Any],
    weight: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """The in-scope gate: a logistic regression of "some scenario" against "none" over `intent.GATE_FEATURES`.
    Returns its probabilities on `folds` (each row scored by a gate fitted without its fold: whole sources held
    out, as for the threshold) and the gate fitted on every row (its estimator, and the standardisation it
    reads). The rows weigh as `threshold_cost` weighs them (`weight`, each row's weight in the objective, and
    `eval_none_share` between the classes), whatever weight training gave them, so the gate answers the question
    the cost asks."""
    import warnings

    from sklearn.linear_model import LogisticRegression

    y = (labels != n_scen).astype(int)
    share = float(cfg.get("eval_none_share", 1.0))
    row = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)
    n_pos, n_none = max(float(row[y == 1].sum()), 1e-9), max(float(row[y == 0].sum()), 1e-9)
    w = row * np.where(y == 1, 1.0 / n_pos, share / n_none)
    w = w * len(y) / w.sum()
    mean, scale = _scale(x)
    xs = (x - mean) / scale

    def gate() -> Any:
        return LogisticRegression(C=float(cfg.get("gate_c", 0.01)), max_iter=1000)

    oof = np.zeros(len(y), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for train_idx, test_idx in folds:
            if len(np.unique(y[train_idx])) < 2:
                oof[test_idx] = float(y[train_idx].mean())
                continue
            est = gate().fit(xs[train_idx], y[train_idx], sample_weight=w[train_idx])
            oof[test_idx] = est.predict_proba(xs[test_idx])[:, 1]
        final = gate().fit(xs, y, sample_weight=w)
    return oof, {"estimator": final, "mean": mean, "scale": scale}


def objective_weights(sources: list[str], labels: np.ndarray, n_scen: int, cfg: dict[str, Any]) -> np.ndarray:
    """What each held-out row weighs in the objective that chooses the thresholds and fits the gate: a labelled
    real request or an off-topic line 1, a scenario's own document (an example, summary, alias or id: source "")
    `eval_document_weight`. Documents are what the library's author wrote, requests and off-topic lines what users
    type; at 0 the in-scope side of the cost is the real requests alone (the documents are still trained on). A
    library without labelled in-scope requests (a custom one) has only documents to price: they weigh 1."""
    w = np.ones(len(labels))
    docs = np.asarray([not s for s in sources], dtype=bool) & (labels != n_scen)
    if docs.any() and (~docs & (labels != n_scen)).any():
        w[docs] = float(cfg.get("eval_document_weight", 1.0))
    return w


def threshold_cost(
    best: np.ndarray,
    pick: np.ndarray,
    labels: np.ndarray,
    n_scen: int,
    cfg: dict[str, Any],
    t: float,
    weight: np.ndarray | None = None,
) -> float:
    """The expected cost of planning at threshold `t`, per request, on held-out probabilities: a plan for a
    request no scenario does costs `false_plan_cost`, no plan for one a scenario does `missed_plan_cost`, a plan
    of the wrong scenario `wrong_plan_cost`. Requests that no scenario does count as `eval_none_share` of those a
    scenario does, whatever weight training gave them, so settings that weigh "none" differently compare fairly;
    within each side a row counts its `weight` (`objective_weights`; all 1 without)."""
    fp, miss = float(cfg["false_plan_cost"]), float(cfg["missed_plan_cost"])
    wrong = float(cfg.get("wrong_plan_cost", fp))
    share = float(cfg.get("eval_none_share", 1.0))
    w = np.ones(len(labels)) if weight is None else weight
    is_none = labels == n_scen
    right = (pick == labels) & ~is_none
    planned = best >= t
    n_pos, n_none = max(float(w[~is_none].sum()), 1e-9), max(float(w[is_none].sum()), 1e-9)
    pos_cost = miss * w[~is_none & ~planned].sum() + wrong * w[~is_none & planned & ~right].sum()
    none_cost = fp * w[is_none & planned].sum()
    return float((pos_cost / n_pos + share * none_cost / n_none) / (1.0 + share))


def _smoothed_costs(
    score: np.ndarray,
    pick: np.ndarray,
    labels: np.ndarray,
    n_scen: int,
    cfg: dict[str, Any],
    weight: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The threshold grid (from `min_threshold` to 0.95) and the cost at each, averaged over `threshold_window`
    either side."""
    lo = float(cfg["min_threshold"])
    window = float(cfg.get("threshold_window", 0.05))
    grid = np.round(np.arange(lo, 0.951, 0.01), 4)
    costs = np.asarray([threshold_cost(score, pick, labels, n_scen, cfg, float(t), weight) for t in grid])
    smooth = np.asarray([costs[np.abs(grid - t) <= window + 1e-9].mean() for t in grid])
    return grid, smooth


def choose_threshold(
    best: np.ndarray,
    pick: np.ndarray,
    labels: np.ndarray,
    n_scen: int,
    cfg: dict[str, Any],
    weight: np.ndarray | None = None,
) -> float:
    """The no-match threshold with the least expected cost (`threshold_cost`) on the source-held-out
    probabilities, so it is as strict as a new repository's vocabulary needs, not as an already seen one allows.
    The cost is averaged over a window of thresholds (`threshold_window` either side) before its least is taken:
    the cost curve is flat near its bottom, and a single held-out request must not move the threshold by a tenth.
    Never below `min_threshold`."""
    grid, smooth = _smoothed_costs(best, pick, labels, n_scen, cfg, weight)
    return float(grid[int(np.argmin(smooth))])


def choose_gate_cut(
    best: np.ndarray,
    gate: np.ndarray,
    pick: np.ndarray,
    labels: np.ndarray,
    n_scen: int,
    cfg: dict[str, Any],
    weight: np.ndarray | None = None,
) -> tuple[float, float]:
    """The gate's floor on the best probability and its threshold on the in-scope probability `gate`: the floor
    is `gate_min_probability`, or, when `gate_floor_choices` lists floors, the one of them whose best threshold
    has the least smoothed cost (the two chosen together on the same held-out rows and cost)."""
    floors = [float(f) for f in cfg.get("gate_floor_choices") or [cfg.get("gate_min_probability", 0.0)]]
    out: tuple[float, float, float] | None = None
    for floor in floors:
        score = np.where(clears_floor(best, floor), gate, 0.0)
        grid, smooth = _smoothed_costs(score, pick, labels, n_scen, cfg, weight)
        i = int(np.argmin(smooth))
        if out is None or smooth[i] < out[0] - 1e-12:
            out = (float(smooth[i]), floor, float(grid[i]))
    assert out is not None
    return out[1], out[2]


def cv_report(
    best: np.ndarray, pick: np.ndarray, labels: np.ndarray, sources: list[str], n_scen: int, threshold: float
) -> dict[str, Any]:
    """Cross-validated quality at the threshold: top-1 and recall of the scenarios' documents, and the share of
    off-topic requests planned, overall and per held-out source."""
    is_none = labels == n_scen
    pos = ~is_none
    right = (pick == labels) & pos
    neg = best[is_none]
    per_source: dict[str, float] = {}
    src = np.asarray(sources)
    for name in sorted(set(src[is_none].tolist()) - {""}):
        rows = (src == name) & is_none
        per_source[name] = round(float((best[rows] >= threshold).mean()), 4)
    return {
        "threshold": threshold,
        "cv_top1": round(float(right.sum() / max(pos.sum(), 1)), 4),
        "cv_recall_at_threshold": round(float((right & (best >= threshold)).sum() / max(pos.sum(), 1)), 4),
        "cv_offtopic_accepted": round(float((neg >= threshold).mean()) if len(neg) else 0.0, 4),
        "cv_offtopic_accepted_by_source": per_source,
    }


def compare(settings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Train the built-in library's model under each setting (overrides of model.toml) and return its
    source-held-out report: how model.toml's values are chosen, never by the evaluation splits' scores."""
    from continuous.dsl.loader import load_rule_base
    from continuous.planner.index import build, index_key

    rule_base = load_rule_base([], include_builtin=True)
    built = build(rule_base, index_key(rule_base))
    from continuous.planner.index import EmbeddingCache, offtopic_texts

    offtopic = offtopic_texts()
    requests = labelled_requests()
    vecs = EmbeddingCache().encode([features.model_text(t) for t in offtopic + [r.text for r in requests]])
    off_emb, req_emb = vecs[: len(offtopic)], vecs[len(offtopic) :]
    out = []
    for override in settings:
        cfg = {**config(), **override}
        _model, report = train(built, offtopic, off_emb, cfg=cfg, requests=requests, requests_emb=req_emb)
        out.append({"setting": override, **report})
    return out


if __name__ == "__main__":
    import json
    import sys

    grid = [json.loads(arg) for arg in sys.argv[1:]] or [{}]
    for row in compare(grid):
        print(json.dumps(row))

"""Free text → ranked scenarios and an ordered, parameterised, dependency-complete plan.

The request is split into intents (`decompose`); each intent is ranked against every scenario by the learned
intent model (`ranking`), whose calibrated probability must clear the no-match threshold; the parameters of the
chosen scenario are filled from the intent and grounded in the repository (`slots`); sibling intents share their
objects (`compose`); and the engine's one resolver (`continuous.engine.resolution.resolve`) expands the
dependencies and rule consequences, orders everything and leaves out what already holds, saying so. Nothing here
writes to the repository or the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from continuous.common.errors import ContinuousError, UserError
from continuous.dsl.model import RuleBase
from continuous.planner import compose, decompose, language, slots
from continuous.planner.conventions import Conventions
from continuous.planner.conventions import default as default_conventions
from continuous.planner.grounding import Repo
from continuous.planner.index import Index, load_or_build
from continuous.planner.normalise import normalise
from continuous.planner.result import Match, NotFound, PlanStep, Skip, Suggestion
from continuous.planner.slots import names as slot_names


@dataclass
class Context:
    """What a suggestion is computed against: the rule base, its index, the repository's facts and objects."""

    rule_base: RuleBase
    index: Index
    facts: list[Any] = field(default_factory=list)
    repo: Repo = field(default_factory=Repo)
    worktree: Path | None = None
    conventions: Conventions = field(default_factory=default_conventions)
    _fact_set: Any = field(default=None, repr=False)
    _baseline: Any = field(default=None, repr=False)

    def fact_set(self) -> Any:
        """The facts the resolver can ever consult (types named by an `unless`, a precondition or a rule
        condition), indexed once: the rule engine settles over every fact it is given on each expansion."""
        if self._fact_set is None:
            from continuous.engine.facts import FactSet

            types: set[str] = set()
            for sc in self.rule_base.scenarios.values():
                types.update(p.type for p in sc.unless)
                types.update(p.type for d in sc.dependencies for p in d.unless)
                types.update(pre.pattern.type for pre in sc.preconditions if pre.pattern is not None)
            for rule in self.rule_base.rules.values():
                types.update(c.type for c in rule.conditions)
            self._fact_set = FactSet(f for f in self.facts if f.type in types)
        return self._fact_set

    def rule_baseline(self) -> Any:
        """The rules settled over `fact_set()` once, for every request planned in this context (see
        `continuous.engine.resolution.RuleBaseline`)."""
        if self._baseline is None:
            from continuous.engine.resolution import RuleBaseline

            self._baseline = RuleBaseline(self.rule_base, self.fact_set())
        return self._baseline


def load_context(
    worktree: Path | None = None,
    *,
    use_repo: bool = True,
    rule_base: RuleBase | None = None,
    facts: Sequence[Any] | None = None,
    index_cache: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Context:
    """The rule base of the worktree (built-in library plus `.continuous.toml` scenario_paths), its index and
    its facts. `progress` hears what a first build of the index is doing."""
    from continuous.common.config import load_config

    root: Path | None = None
    if use_repo:
        from continuous.common import gitinfo

        try:
            root = gitinfo.locate(worktree).worktree
        except UserError:
            root = None
    config = load_config(root)
    if rule_base is None:
        from continuous.dsl.loader import load_config_rule_base

        rule_base = load_config_rule_base(config, cached=True)
    if facts is None:
        facts = discover_facts(rule_base, root) if root is not None else []
    index = load_or_build(rule_base, memo=index_cache, progress=progress)
    conv = repository_conventions(config.conventions)
    repo = Repo.from_facts(facts, conv, ordinary=_ordinary_words())
    return Context(rule_base, index, list(facts), repo, root, conv)


def repository_conventions(layout: Any) -> Conventions:
    """The planner's conventions with the repository's layout (`Config.conventions`: the file's, else detected,
    else neutral) laid over the data file's: its app prefix, table domains and folders."""
    return _with_layout(layout)


@lru_cache(maxsize=8)
def _with_layout(layout: Any) -> Conventions:
    from continuous.planner.conventions import load

    return load(
        {
            "app_prefix": layout.app_prefix,
            "table_domains": list(layout.table_domains),
            "folders": {
                "app": f"{layout.apps_dir}/{{name}}",
                "service": f"{layout.services_dir}/{{name}}",
                "pipeline": f"{layout.pipelines_dir}/{{name}}",
            },
            "archive": {
                "app_folder": f"{layout.apps_dir}/.archived_apps/{{name}}.{{date}}",
            },
        }
    )


def _ordinary_words() -> Callable[[str], bool]:
    """Whole words of the model's WordPiece vocabulary count as ordinary English: "gmail" is a name, "hub" is
    a word that names something only as a noun phrase."""
    from continuous.planner import embedding

    vocab = embedding.vocabulary()
    return lambda w: w in vocab


def discover_facts(rule_base: RuleBase, root: Path) -> list[Any]:
    """The engine's discovery of the repository, cached while git says nothing changed (see factcache)."""
    try:
        from continuous.engine.discovery import discover
    except ModuleNotFoundError:
        return []
    from continuous.planner import embedding, factcache

    return factcache.cached(root, list(rule_base.files), embedding.cache_dir(), lambda: list(discover(rule_base, root)))


def suggest(
    text: str, ctx: Context, *, top: int = 5, explain: bool = False, params: Mapping[str, str] | None = None
) -> Suggestion:
    """One request; a request that cannot be planned raises (the CLI turns it into one line and exit 2)."""
    return suggest_many([text], ctx, top=top, explain=explain, params=params)[0]


def suggest_many(
    texts: Sequence[str],
    ctx: Context,
    *,
    top: int = 5,
    explain: bool = False,
    record_errors: bool = False,
    params: Mapping[str, str] | None = None,
) -> list[Suggestion]:
    """One Suggestion per request, in order; all texts are encoded in one batch. With `record_errors` a request
    that fails carries the error (message and hint) and an empty plan instead of stopping the batch, so every
    line has either a result or an error."""
    from continuous.planner.ranking import rank_units
    from continuous.planner.scoring import correct

    cleaned = [" ".join(str(raw).split()) for raw in texts]
    prepared: list[tuple[str, list[decompose.Clause], list[int]] | None] = []
    units: list[tuple[str, str]] = []
    positions: dict[tuple[str, str], int] = {}

    def unit(text: str) -> int:
        key = (text, _mask(text, ctx))
        if key not in positions:
            positions[key] = len(units)
            units.append(key)
        return positions[key]

    errors: dict[int, Suggestion] = {}
    for i, text in enumerate(cleaned):
        if not text:
            hint = 'say what you want, e.g. continuous suggest "a table for bookmarks"'
            if not record_errors:
                raise UserError("the request is empty", hint=hint)
            errors[i] = Suggestion.failed("", "the request is empty", hint)
            prepared.append(None)
            continue
        clauses = decompose.split(text, fix=lambda piece: correct(piece, ctx.index))
        ids = [unit(text)]
        if len(clauses) > 1:
            subject = slot_names.subject(text, ctx.repo, fix=lambda piece: correct(piece, ctx.index))
            ids += [unit(_resolve_pronouns(c.text, subject)) for c in clauses]
        prepared.append((text, clauses, ids))
    ranking = rank_units(ctx, units) if units else None
    out: list[Suggestion] = []
    for i, item in enumerate(prepared):
        if item is None:
            out.append(errors[i])
            continue
        text, clauses, ids = item
        assert ranking is not None
        try:
            out.append(_one(text, clauses, ids, ranking, ctx, top, explain, params))
        except ContinuousError as exc:
            if not record_errors:
                raise
            out.append(Suggestion.failed(text, exc.message, exc.hint))
        except Exception as exc:  # a bug must not look like "no match" in a batch
            if not record_errors:
                raise
            out.append(
                Suggestion.failed(
                    text,
                    f"internal error: {type(exc).__name__}: {exc}",
                    "plan this request alone with --debug to see the traceback, and report it",
                )
            )
    return out


_PRONOUN = re.compile(r"\b(?:it|them|they|those|these)\b", re.IGNORECASE)


def _resolve_pronouns(clause: str, subject: str | None) -> str:
    """For ranking, "show them in the hub" reads "show bookmarks in the hub" in a request about bookmarks."""
    return _PRONOUN.sub(lambda _m: subject or "", clause) if subject else clause


def _mask(text: str, ctx: Context) -> str:
    """The text with names of existing objects replaced by their kind, for ranking: the intent model sees what
    is asked ("create a new pipeline"), not which names the repository happens to use. A name right next to a
    word of its kind just goes ("the gmail pipeline" → "the pipeline", "in the hub" → "in the app")."""
    out = text
    seen: set[tuple[int, int]] = set()
    order = {k: i for i, k in enumerate(ctx.conventions.kinds.head_order)}
    body = normalise(text)
    for m in sorted(ctx.repo.mentioned(text), key=lambda m: (-m.start, order.get(m.kind, len(order)))):
        if m.span in seen or _own_words(text[m.start : m.end], m, ctx.conventions):
            continue
        if not body.derived and not (body.start <= m.start and m.end <= body.end):
            continue  # a commit scope ("supabase: ...") is read by the normaliser as it is written
        seen.add(m.span)
        # a name that modifies another object ("a new vite app") goes; one that is the object becomes its kind
        after = re.match(r"\s*([a-z0-9-]+)", text[m.end :].lower())
        modifier = after is not None and language.is_object_word(after.group(1))
        word = "" if m.next_to_kind or modifier else m.kind.replace("_", " ")
        out = out[: m.start] + word + out[m.end :]
    return " ".join(out.split())


def _own_words(span: str, mention: Any, conventions: Conventions) -> bool:
    """Whether a name is written only in the words the planner reads requests by and must stay as written for
    the ranking: a repository whose commands are called "add", "create", "health-check" or "archive-docs" must
    not turn "add a health check" into "add a command", nor one whose app is called "components" turn "a ui
    component" into "a ui" (the request's verb and object would become the name's kind). Only a name that says
    its own kind, next to a word of that kind, goes like any other ("the dashboard page" → "the page")."""
    if not re.fullmatch(r"[A-Za-z]+(?:\s+[A-Za-z]+)*", span):
        return False  # spelt as a name: dev_tasks, lint:ts, dhg-hub
    verbs = language.find(span, "verbs")
    objects = language.find(span, "objects")
    covered = [(s, e) for _c, s, e in verbs + objects]
    stop = language.words("stopwords")
    if not all(
        w.group(0).lower() in stop or any(s <= w.start() and w.end() <= e for s, e in covered)
        for w in re.finditer(r"[A-Za-z]+", span)
    ):
        return False
    says = {conventions.kinds.object_words.get(c, c) for c, _s, _e in objects}
    return bool(verbs) or not (mention.next_to_kind and mention.kind in says)


def _one(
    text: str,
    clauses: list[decompose.Clause],
    ids: list[int],
    ranking: Any,
    ctx: Context,
    top: int,
    explain: bool,
    overrides: Mapping[str, str] | None,
) -> Suggestion:
    from continuous.engine.resolution import PlanRequest
    from continuous.planner.rules import reasons_to_veto_all
    from continuous.planner.scoring import correct

    index = ctx.index
    matches = [Match(scenario=sid, score=round(score, 4)) for sid, score in ranking.top(ids[0], max(top, 1))]
    if reasons_to_veto_all(text, whole=True) is not None:
        intents, unmatched = [], [text]  # a revert, a question, a guide: no clause of it is a plan
    else:
        intents, unmatched = ranking.intents(ids, [c.text for c in clauses], text)
        matches = _planned_first(matches, intents, ids[0], ranking, max(top, 1))
    subject = slot_names.subject(text, ctx.repo, fix=lambda piece: correct(piece, ctx.index))
    requests: list[PlanRequest] = []
    filled_by: dict[str, tuple[str, slots.Filled, int, int]] = {}
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    sequenced = any(c.sequenced for c in clauses[1:])
    for clause, row, s in intents:
        sid = index.scenario_ids[s]
        scenario = ctx.rule_base.scenarios[sid]
        intent = slots.Intent(
            scenario,
            clause,
            text,
            ctx.repo,
            ctx.conventions,
            subject,
            ctx.worktree,
            grounded=bool(ctx.facts),
            rule_base=ctx.rule_base,
        )
        filled = slots.fill(intent)
        if overrides:
            _apply(filled, scenario, overrides)
        key = (sid, tuple(sorted((k, repr(v)) for k, v in filled.params.items())))
        if key in seen:
            continue
        seen.add(key)
        reason = f'asked for in "{clause}" (probability {ranking.score(row, s):.2f})'
        requests.append(PlanRequest(scenario=sid, params=filled.params, reason=reason))
        filled_by[sid] = (clause, filled, row, s)
    guessed = [filled_by[r.scenario][1].guessed() for r in requests]
    requests = compose.harmonise(requests, ctx.rule_base, ctx.conventions, guessed)
    given = {str(src.value) for _c, f, _r, _s in filled_by.values() for src in f.sources.values() if not src.guessed}
    requests = compose.with_table_domains(
        requests, ctx.rule_base, ctx.conventions, set(ctx.repo.by_kind.get("table", ())), text, given
    )
    if not sequenced:
        requests = compose.order(requests, ctx.rule_base, ctx.conventions)
    if overrides:
        _check_overrides(overrides, requests, ctx.rule_base)
    plan: list[PlanStep] = []
    skipped: list[Skip] = []
    items: list[Any] = []
    not_found = sorted({a for _c, f, _r, _s in filled_by.values() for a in f.not_found})
    facts = ctx.fact_set()
    if requests:
        resolution, requests = _resolve(ctx, requests, facts, filled_by)
        items = compose.without_unbound_dependencies(compose.without_nameless_twins(resolution.items))
        asked = {(r.scenario, _frozen(r.params)) for r in requests}
        for item in items:
            info = filled_by.get(item.scenario) if item.role == "requested" else None
            filled = info[1] if info is not None else None
            plan.append(
                PlanStep(
                    scenario=item.scenario,
                    params=dict(item.params),
                    role=item.role,
                    reason=item.reason,
                    after=item.after,
                    group=item.group,
                    missing=item.missing,
                    candidates={k: tuple(v) for k, v in filled.candidates.items()} if filled else {},
                    sources={k: v for k, v in filled.sources.items() if k in item.params} if filled else {},
                )
            )
        for sk in resolution.skipped:
            requested = any(
                sid == sk.scenario and all(sk.params.get(k) == v for k, v in params) for sid, params in asked
            )
            skipped.append(Skip(scenario=sk.scenario, params=dict(sk.params), reason=sk.reason, requested=requested))
    explanation = None
    if explain:
        from continuous.planner.explain import explanation as build

        explanation = build(text, clauses, subject, items, filled_by, ids, ranking, ctx, top)
    return Suggestion(
        request=text,
        matches=matches,
        plan=plan,
        unmatched=unmatched,
        skipped=skipped,
        not_found=[
            NotFound(kind=kind, name=name, reason="named in the request; the repository's facts do not show it")
            for kind, name in not_found
        ],
        explain=explanation,
    )


def _planned_first(
    matches: list[Match], intents: Sequence[tuple[str, int, int]], whole: int, ranking: Any, top: int
) -> list[Match]:
    """The ranking of a request planned from its clauses: each scenario a clause plans scores the better of its
    clause's probability and the whole request's. The whole text is read by its first verb alone, so "Fix CLI
    logout and add list-profiles command" would rank every scenario that adds something at 0 (fixing makes
    nothing) while its second clause plans add-cli-command at 0.99. The whole request's best scenario stays first
    when a clause plans it too ("add subscribers endpoint, use case and tests" asks for the endpoint first)."""
    planned: dict[str, float] = {}
    for _clause, row, s in intents:
        if row != whole:
            sid = ranking.scenario_ids[s]
            planned[sid] = max(planned.get(sid, 0.0), ranking.score(row, s))
    if not planned:
        return matches
    scored = [(sid, max(score, planned.get(sid, 0.0))) for sid, score in ranking.top(whole, top + len(planned))]
    scored += [(sid, score) for sid, score in planned.items() if sid not in {m for m, _s in scored}]
    best, p = ranking.best(whole)
    agreed = ranking.scenario_ids[best] if p > 0 and ranking.scenario_ids[best] in planned else None
    # stable: scenarios every rule vetoed stay in the model's order
    scored.sort(key=lambda m: (m[0] != agreed, -m[1]))
    return [Match(scenario=sid, score=round(score, 4)) for sid, score in scored[:top]]


def _frozen(params: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(params.items()))


def _resolve(ctx: Context, requests: list[Any], facts: Any, filled_by: dict[str, Any]) -> tuple[Any, list[Any]]:
    """The engine's resolution of the requests. A value that a dependency rejects (a kebab-case name bound to a
    snake_case parameter of a step it pulls in) is dropped and left missing: first the guessed values, then the
    values the error names. A real problem (a dependency cycle) fails every time and is raised."""
    from continuous.engine.resolution import resolve

    baseline = ctx.rule_baseline() if facts is ctx.fact_set() else None
    try:
        return resolve(ctx.rule_base, requests, facts, allow_missing=True, baseline=baseline), requests
    except UserError as first:
        error = first
    requests = [_explicit_only(r, filled_by) for r in requests]
    for _attempt in range(3):
        try:
            return resolve(ctx.rule_base, requests, facts, allow_missing=True, baseline=baseline), requests
        except UserError as exc:
            error = exc
            named = str(exc.message)
            dropped = [
                r.model_copy(update={"params": {k: v for k, v in r.params.items() if not _named_in(v, named)}})
                for r in requests
            ]
            if dropped == requests:
                break
            requests = dropped
    raise error


def _named_in(value: Any, message: str) -> bool:
    text = str(value)
    return bool(text) and (f"'{text}'" in message or f'"{text}"' in message or f" {text}:" in message)


def _explicit_only(request: Any, info: dict[str, tuple[str, slots.Filled, int, int]]) -> Any:
    entry = info.get(request.scenario)
    if entry is None:
        return request
    guessed = entry[1].guessed()
    keep = {k: v for k, v in request.params.items() if k not in guessed}
    return request.model_copy(update={"params": keep})


def _apply(filled: slots.Filled, scenario: Any, overrides: Mapping[str, str]) -> None:
    """`--param NAME=VALUE` (or SCENARIO.NAME=VALUE) fills a parameter of every requested item that has it,
    over anything the text gave."""
    from continuous.planner.result import ParamSource
    from continuous.planner.slots.text import convert

    for key, raw in overrides.items():
        sid, _, name = key.rpartition(".")
        if sid and sid != scenario.id:
            continue
        p = scenario.param(name)
        if p is None:
            continue
        value = convert(p, raw)
        if value is None:
            from continuous.dsl.params import check_value

            problem = check_value(p, raw) or "not a valid value"
            raise UserError(f"--param {key}={raw}: {problem}", hint=f"{scenario.id} takes {name} as {p.type}")
        filled.params[name] = value
        filled.sources[name] = ParamSource(value=value, source="given with --param")
        if name in filled.missing:
            filled.missing.remove(name)


def _check_overrides(overrides: Mapping[str, str], requests: Sequence[Any], rule_base: RuleBase) -> None:
    for key in overrides:
        sid, _, name = key.rpartition(".")
        fits = [
            r.scenario
            for r in requests
            if (not sid or r.scenario == sid) and rule_base.scenarios[r.scenario].param(name) is not None
        ]
        if not fits:
            planned = ", ".join(r.scenario for r in requests) or "nothing"
            raise UserError(
                f"--param {key}: no scenario of the plan takes a parameter {name!r}",
                hint=f"the plan asks for {planned}; `continuous scenarios show ID` lists a scenario's parameters",
            )

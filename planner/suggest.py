"""Free text → ranked scenarios and an ordered, parameterised, dependency-complete plan.

The request is split into intents (`decompose`), each intent is scored against every scenario (`scoring`), the
best scenario of each intent above the calibrated no-match threshold becomes a requested plan item with the
parameters `slots` finds, and the engine's one resolver (`continuous.engine.resolution.resolve`) expands the
dependencies and rule consequences, orders everything topologically and leaves out what already holds.
Nothing here writes to the repository or the database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from continuous.common.errors import UserError
from continuous.dsl.model import RuleBase, Scalar
from continuous.planner import decompose, lexicon, slots
from continuous.planner.index import Index, load_or_build


@dataclass
class Context:
    """What a suggestion is computed against: the rule base, its index and the repository's facts."""

    rule_base: RuleBase
    index: Index
    facts: list[Any] = field(default_factory=list)
    known: slots.Known = field(default_factory=slots.Known)
    worktree: Path | None = None
    _fact_set: Any = field(default=None, repr=False)

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


def load_context(
    worktree: Path | None = None,
    *,
    use_repo: bool = True,
    rule_base: RuleBase | None = None,
    facts: Sequence[Any] | None = None,
    index_cache: dict[str, Any] | None = None,
) -> Context:
    """The rule base of the worktree (built-in library plus `.continuous.toml` scenario_paths) and its
    facts."""
    from continuous.common.config import load_config

    root: Path | None = None
    if use_repo:
        from continuous.common import gitinfo

        try:
            root = gitinfo.locate(worktree).worktree
        except UserError:
            root = None
    if rule_base is None:
        from continuous.dsl.loader import load_config_rule_base

        rule_base = load_config_rule_base(load_config(root), cached=True)
    if facts is None:
        facts = discover_facts(rule_base, root) if root is not None else []
    index = load_or_build(rule_base, memo=index_cache)
    return Context(rule_base, index, list(facts), slots.Known.from_facts(facts), root)


def discover_facts(rule_base: RuleBase, root: Path) -> list[Any]:
    try:
        from continuous.engine.discovery import discover
    except ModuleNotFoundError:
        return []
    return list(discover(rule_base, root))


@dataclass
class _Unit:
    text: str
    struct_text: str


def _mask_known(text: str, known: slots.Known) -> tuple[str, str]:
    """The text with existing objects replaced, for scoring: by their kind where they are what is talked about
    ("refactor the formatter-service" → "refactor the service"), by "it" where they are only the place
    ("show them in the hub" → "show them in it"; the structural channel still sees "in the app"). Scoring then
    sees what is asked, not which names the library's examples happen to use."""
    emb = struct = text
    for kind, name, start, end in reversed(known.mentioned(text)):
        word = kind.replace("_", " ") if re.search(r"[-_]", name) or _is_tail(name, text[start:end]) else ""
        if word and _next_to_kind(text, start, end, kind):
            word = ""  # "the doc_files table" is "the table", not "the table table"
        before = re.findall(r"[a-z0-9_'-]+", text[:start].lower())[-2:]
        place = any(w in lexicon.CONTAINER_PREPOSITIONS for w in before)
        emb = emb[:start] + ("it" if place and word else word) + emb[end:]
        struct = struct[:start] + word + struct[end:]
    return emb, struct


def _with_implied_object(emb: str, struct: str) -> tuple[str, str]:
    """An action that names only a place ("show it in the hub", "list them in dhg-hub") asks for the object its
    verb implies (a page); the embedding channel is told so, as the structural channel already is."""
    from continuous.planner.scoring import implied_object

    noun = implied_object(struct)
    return (f"{emb}, {noun}" if noun else emb), struct


_PRONOUN = re.compile(r"\b(?:it|them|they|those|these)\b", re.IGNORECASE)


def _resolve_pronouns(clause: str, subject: str | None) -> str:
    """For scoring, "show them in the hub" reads "show bookmarks in the hub" in a request about bookmarks."""
    return _PRONOUN.sub(lambda _m: subject or "", clause) if subject else clause


def _next_to_kind(text: str, start: int, end: int, kind: str) -> bool:
    """The name stands next to a word of its own kind ("the doc_files table"), or an app's name qualifies a
    page ("a hub screen": a screen in the hub, not an app)."""
    words = slots.kind_words(kind)
    after = re.match(r"\s*([a-z]+)", text[end:].lower())
    before = re.search(r"([a-z]+)\s*$", text[:start].lower())
    if (after and after.group(1) in words) or (before and before.group(1) in words):
        return True
    return bool(kind == "app" and after and after.group(1) in slots.kind_words("page"))


def _is_tail(name: str, found: str) -> bool:
    return found.lower() != name.lower()


def suggest_many(
    texts: Sequence[str], ctx: Context, *, top: int = 5, explain: bool = False, record_errors: bool = False
) -> list[dict[str, Any]]:
    """One result object per request, in order; all texts are encoded in one batch. With `record_errors`, a
    request that fails (e.g. its plan runs into a dependency cycle) gets an empty plan and an "error" message
    instead of stopping the batch."""
    from continuous.planner.scoring import correct, score_parts

    prepared: list[tuple[str, list[decompose.Clause], list[int]]] = []
    units: list[_Unit] = []
    positions: dict[tuple[str, str], int] = {}

    def unit(text: str) -> int:
        key = _with_implied_object(*_mask_known(text, ctx.known))
        if key not in positions:
            positions[key] = len(units)
            units.append(_Unit(*key))
        return positions[key]

    existing = {n.lower() for names in ctx.known.by_kind.values() for n in names}
    for raw in texts:
        text = " ".join(str(raw).split())
        if not text:
            raise UserError(
                "the request is empty",
                hint='say what you want, e.g. continuous suggest "a table for bookmarks"',
            )
        clauses = decompose.split(text, fix=lambda piece: correct(piece, ctx.index))
        ids = [unit(text)]
        if len(clauses) > 1:
            subject = slots.subject(text, existing)
            ids += [unit(_resolve_pronouns(c.text, subject)) for c in clauses]
        prepared.append((text, clauses, ids))
    scores = (
        score_parts(
            ctx.index, ctx.rule_base, [u.text for u in units], struct_texts=[u.struct_text for u in units]
        )
        if units
        else None
    )
    out = []
    for text, clauses, ids in prepared:
        assert scores is not None
        try:
            out.append(_one(text, clauses, ids, scores, ctx, top, explain))
        except UserError as exc:
            if not record_errors:
                raise
            out.append({"request": text, "matches": [], "plan": [], "unmatched": [], "error": exc.message})
    return out


def suggest(text: str, ctx: Context, *, top: int = 5, explain: bool = False) -> dict[str, Any]:
    return suggest_many([text], ctx, top=top, explain=explain)[0]


def _one(
    text: str,
    clauses: list[decompose.Clause],
    ids: list[int],
    scores: Any,
    ctx: Context,
    top: int,
    explain: bool,
) -> dict[str, Any]:
    from continuous.engine.resolution import PlanRequest, resolve

    index = ctx.index
    threshold = index.threshold
    per_unit = scores.total[ids]
    best = per_unit.max(axis=0)
    order = np.argsort(-best, kind="stable")
    matches = [
        {"scenario": index.scenario_ids[s], "score": round(float(best[s]), 4)} for s in order[: max(top, 1)]
    ]

    intents: list[tuple[str, int, int]] = []  # clause text, unit row, scenario
    unmatched: list[str] = []
    if len(clauses) > 1:
        for clause, row in zip(clauses, ids[1:], strict=True):
            s = int(np.argmax(scores.total[row]))
            if scores.total[row, s] >= threshold:
                intents.append((clause.text, row, s))
            else:
                unmatched.append(clause.text)
        if not intents and scores.total[ids[0]].max() >= threshold:
            intents = [(text, ids[0], int(np.argmax(scores.total[ids[0]])))]
            unmatched = []
    else:
        s = int(np.argmax(scores.total[ids[0]]))
        if scores.total[ids[0], s] >= threshold:
            intents.append((text, ids[0], s))
        else:
            unmatched.append(text)

    existing = {n.lower() for names in ctx.known.by_kind.values() for n in names}
    subject = slots.subject(text, existing)
    requests: list[PlanRequest] = []
    request_info: dict[str, dict[str, Any]] = {}
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    sequenced = any(c.sequenced for c in clauses[1:])
    for clause, row, s in intents:
        sid = index.scenario_ids[s]
        scenario = ctx.rule_base.scenarios[sid]
        filled = slots.fill(scenario, clause, text, ctx.known, subject)
        key = (sid, tuple(sorted((k, repr(v)) for k, v in filled.params.items())))
        if key in seen:
            continue
        seen.add(key)
        score = float(scores.total[row, s])
        reason = f'asked for in "{clause}" (score {score:.2f})'
        requests.append(PlanRequest(scenario=sid, params=filled.params, reason=reason))
        request_info[sid] = {"clause": clause, "row": row, "s": s, "filled": filled}
    guessed = [
        {k for k, src in request_info[r.scenario]["filled"].sources.items() if src.startswith(_GUESSED)}
        for r in requests
    ]
    requests = _harmonise(requests, ctx.rule_base, guessed)
    if not sequenced:
        requests = _order(requests, ctx.rule_base)

    plan: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    explanation: list[dict[str, Any]] = []
    if requests:
        try:
            resolution = resolve(ctx.rule_base, requests, ctx.fact_set(), allow_missing=True)
        except UserError:
            # a guessed value (a name from the words before a noun) that a dependency rejects: plan again with
            # only what the request said outright; a real problem (a cycle) fails again and is raised
            requests = [_explicit_only(r, request_info) for r in requests]
            resolution = resolve(ctx.rule_base, requests, ctx.fact_set(), allow_missing=True)
        items = _without_nameless_twins(resolution.items)
        for i, item in enumerate(items):
            entry: dict[str, Any] = {
                "scenario": item.scenario,
                "params": _jsonable(item.params),
                "role": item.role,
                "reason": item.reason,
            }
            if item.missing:
                entry["missing"] = list(item.missing)
            plan.append(entry)
            if explain:
                explanation.append(_explain_item(i, item, items, request_info, scores, ctx))
        skipped = [
            {"scenario": sk.scenario, "params": _jsonable(sk.params), "reason": sk.reason}
            for sk in resolution.skipped
        ]
    result: dict[str, Any] = {"request": text, "matches": matches, "plan": plan, "unmatched": unmatched}
    if skipped:
        result["skipped"] = skipped
    if explain:
        from continuous.planner.explain import explain_matches

        result["explain"] = {
            "threshold": threshold,
            "subject": subject,
            "clauses": [c.text for c in clauses],
            "items": explanation,
            "matches": explain_matches(ids[0], scores, ctx, top),
        }
    return result


def _without_nameless_twins(items: Sequence[Any]) -> list[Any]:
    """The plan without an item that lacks parameters while another item of the same scenario plans the same
    thing with more of them known ("a cli pipeline called billing with a sync-invoices command" plans one
    pipeline, not billing plus a nameless second one). Items that differ in a value they both have stay. The
    item that stays takes over a dropped twin's place in `after` and, if the twin was asked for, its role."""

    def covers(j: int, i: int) -> bool:
        other, item = items[j], items[i]
        if j == i or other.scenario != item.scenario:
            return False
        if any(other.params.get(k, v) != v for k, v in item.params.items()):
            return False
        known_more = set(other.params) > set(item.params) or len(other.missing) < len(item.missing)
        same = set(other.params) == set(item.params) and tuple(other.missing) == tuple(item.missing)
        # of two identical twins the first one stays
        return known_more or (same and j < i)

    cover: dict[int, int] = {}
    for i, item in enumerate(items):
        if item.missing:
            j = next((j for j in range(len(items)) if covers(j, i)), None)
            if j is not None:
                cover[i] = j
    if not cover:
        return list(items)

    def final(i: int) -> int:
        seen = set()
        while i in cover and i not in seen:
            seen.add(i)
            i = cover[i]
        return i

    kept = [i for i in range(len(items)) if final(i) == i]
    position = {old: new for new, old in enumerate(kept)}
    out = []
    for i in kept:
        item = items[i]
        twins = [t for t in cover if final(t) == i and t != i]
        after = sorted(
            {position[final(a)] for k in (i, *twins) for a in items[k].after if final(a) != i}
        )
        update: dict[str, Any] = {"after": tuple(after)}
        asked = next((items[t] for t in twins if items[t].role == "requested"), None)
        if asked is not None and item.role != "requested":
            update.update(role="requested", reason=asked.reason)
        out.append(item.model_copy(update=update))
    return out


_GUESSED = (
    "derived from",
    "the words before",
    "the word next to",
    "the subject of",
    "the first object",
    "the second object",
)


def _explicit_only(request: Any, info: dict[str, dict[str, Any]]) -> Any:
    filled = info.get(request.scenario, {}).get("filled")
    if filled is None:
        return request
    keep = {
        k: v
        for k, v in request.params.items()
        if not any(filled.sources.get(k, "").startswith(g) for g in _GUESSED)
    }
    return request.model_copy(update={"params": keep})


def _explain_item(
    i: int, item: Any, items: Sequence[Any], info: dict[str, dict[str, Any]], scores: Any, ctx: Context
) -> dict[str, Any]:
    from continuous.planner.explain import explain_item

    return explain_item(
        i, item, items, info.get(item.scenario) if item.role == "requested" else None, scores, ctx
    )


def _jsonable(params: dict[str, Scalar]) -> dict[str, Scalar]:
    return {k: v for k, v in params.items()}


_ANCESTORS: list[tuple[RuleBase, dict[str, set[str]]]] = []
_TYPE_ORDER = {"database": 0, "service": 1, "cli": 2, "proxy": 3, "ui": 4, "infra": 5}


def _ancestors(rule_base: RuleBase) -> dict[str, set[str]]:
    """For each scenario, every scenario that must run before it: what it requires, the providers of facts its
    preconditions read, and the providers of facts that trigger a rule running it (table → generate-types),
    transitively."""
    if _ANCESTORS and _ANCESTORS[0][0] is rule_base:
        return _ANCESTORS[0][1]
    providers: dict[str, set[str]] = {}
    for sid, sc in rule_base.scenarios.items():
        for pattern in sc.provides:
            providers.setdefault(pattern.type, set()).add(sid)
    before: dict[str, set[str]] = {sid: set() for sid in rule_base.scenarios}
    for sid, sc in rule_base.scenarios.items():
        for dep in sc.dependencies:
            before[sid].add(rule_base.resolve_id(dep.scenario))
        for pre in sc.preconditions:
            if pre.kind == "fact" and pre.pattern is not None:
                before[sid].update(providers.get(pre.pattern.type, set()))

    def type_rank(sid: str) -> int:
        return _TYPE_ORDER.get(rule_base.scenarios[sid].object_type, 5)

    for rule in rule_base.rules.values():
        sources = {p for c in rule.conditions if not c.negated for p in providers.get(c.type, set())}
        for action in rule.actions:
            target = getattr(action, "scenario", None)
            if target is None or rule_base.resolve_id(target) not in before:
                continue
            target = rule_base.resolve_id(target)
            # a rule that backfills a lower layer (a service's table) does not put the layer above it first
            before[target].update(
                src for src in sources if src != target and type_rank(src) <= type_rank(target)
            )
    closure: dict[str, set[str]] = {}
    for sid in before:
        seen: set[str] = set()
        stack = list(before[sid])
        while stack:
            prev = stack.pop()
            if prev in seen or prev == sid:
                continue
            seen.add(prev)
            stack.extend(before.get(prev, ()))
        closure[sid] = seen
    _ANCESTORS[:] = [(rule_base, closure)]
    return closure


def _order(requests: list[Any], rule_base: RuleBase) -> list[Any]:
    """Intents the user did not sequence, in a workable order: a scenario goes after those that must precede
    it and after lower layers (data before services before proxies before UI); else the user's order stays."""
    anc = _ancestors(rule_base)

    def type_rank(sid: str) -> int:
        sc = rule_base.scenarios.get(sid)
        return _TYPE_ORDER.get(sc.object_type, 5) if sc else 5

    def precedes(a: str, b: str) -> bool:
        if a in anc.get(b, ()):
            return True
        if b in anc.get(a, ()):
            return False
        return type_rank(a) < type_rank(b)

    remaining = list(requests)
    out = []
    while remaining:
        pick = next(
            (
                i
                for i, r in enumerate(remaining)
                if not any(precedes(o.scenario, r.scenario) for j, o in enumerate(remaining) if j != i)
            ),
            0,
        )
        out.append(remaining.pop(pick))
    return out


# kinds of objects other objects live in: a page's app, a command's pipeline, an endpoint's proxy
_PARENT_KINDS = frozenset({"app", "pipeline", "proxy"})


def _harmonise(
    requests: list[Any], rule_base: RuleBase, guessed: Sequence[set[str]] | None = None
) -> list[Any]:
    """One request talks about one set of objects: a page that manages data shows the table, service and
    proxy its sibling intents create ("store user preferences, expose them through an API and show them in
    the hub"), lives in the app a sibling creates ("an analytics app with a usage page"), and an endpoint next
    to such a page is backed by the page's service and table. Only values the request left open are set."""
    from continuous.dsl.params import bind_params
    from continuous.dsl.templating import builtin_context
    from continuous.engine.resolution import provided_facts, render_pattern

    found: dict[str, list[str]] = {"table": [], "service": [], "app": [], "proxy": []}
    for r in requests:
        sc = rule_base.scenarios[r.scenario]
        bound = bind_params(sc, named=r.params, allow_missing=True)
        for fact in provided_facts(sc, bound):
            value = fact.fields.get("proxy" if fact.type == "endpoint" else "name")
            kind = "proxy" if fact.type == "endpoint" else fact.type
            if kind in found and isinstance(value, str) and value not in found[kind]:
                found[kind].append(value)
        table = r.params.get("table")
        if isinstance(table, str) and table not in found["table"]:
            found["table"].append(table)

    def only(kind: str) -> str | None:
        return found[kind][0] if len(found[kind]) == 1 else None

    # objects the intents create, by kind, with the intent that creates each: the parents of sibling intents
    created: dict[str, list[tuple[str, int]]] = {}
    for i, r in enumerate(requests):
        sc = rule_base.scenarios[r.scenario]
        bound = bind_params(sc, named=r.params, allow_missing=True)
        context = {**builtin_context(), **bound}
        for pattern in sc.provides:
            if pattern.type not in _PARENT_KINDS or "name" not in pattern.fields or pattern.negated:
                continue
            # only the name matters: a proxy whose port is allocated later is still the proxy "billing-proxy"
            only_name = pattern.model_copy(update={"fields": {"name": pattern.fields["name"]}})
            rendered = render_pattern(only_name, context)
            value = rendered[1].get("name") if rendered is not None else None
            if isinstance(value, str) and value:
                created.setdefault(pattern.type, []).append((value, i))

    out = []
    entity: str | None = None
    for i, r in enumerate(requests):
        sc = rule_base.scenarios[r.scenario]
        params = dict(r.params)
        for p in sc.params:
            kind = slots.KIND_ALIASES.get(p.name, p.name)
            if kind not in _PARENT_KINDS or p.name in params:
                continue
            # "a cli pipeline called billing with a sync-invoices command": the command goes in billing
            parents = {v for v, j in created.get(kind, ()) if j != i}
            if len(parents) == 1:
                parent = next(iter(parents))
                params[p.name] = parent
                # a name only guessed from the request's subject was the parent's ("called billing")
                if (
                    guessed is not None
                    and "name" in guessed[i]
                    and slots.to_snake(str(params.get("name", ""))) == slots.to_snake(parent)
                ):
                    del params["name"]
        if sc.param("app") is not None and "app" not in params and only("app"):
            params["app"] = only("app")
        if sc.param("entity") is not None:
            if "entity" not in params and only("table"):
                params["entity"] = only("table")
                if (
                    sc.param("name") is not None
                    and slots.to_snake(str(params.get("name", ""))) == params["entity"]
                ):
                    params["name"] = slots.pascal(str(params["entity"]))
            if "entity" in params:
                entity = str(params["entity"])
                for kind in ("service", "proxy"):
                    if sc.param(kind) is not None and kind not in params and only(kind):
                        params[kind] = only(kind)
        out.append(r.model_copy(update={"params": params}) if params != r.params else r)
    if entity is None:
        return out
    backed = []
    for r in out:
        sc = rule_base.scenarios[r.scenario]
        params = dict(r.params)
        if sc.param("entity") is None and sc.param("service") is not None and sc.param("table") is not None:
            params.setdefault("service", only("service") or slots.to_kebab(entity))
            params.setdefault("table", entity)
        backed.append(r.model_copy(update={"params": params}) if params != r.params else r)
    return backed

"""How the intents of one request fit together before the engine's resolver expands them.

One request talks about one set of objects: a page that manages data shows the table, service and proxy its
sibling intents create; a child object goes in the parent a sibling creates ("a cli pipeline called billing
with a sync-invoices command"); intents the user did not sequence run data before services before proxies before
UI. After resolution, an item that lacks parameters while a twin of the same scenario has them is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from continuous.dsl.model import RuleBase
from continuous.planner.conventions import Conventions
from continuous.planner.grounding import pascal, to_kebab, to_snake

_ANCESTORS: list[tuple[RuleBase, dict[str, set[str]]]] = []


def ancestors(rule_base: RuleBase, conv: Conventions) -> dict[str, set[str]]:
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

    def rank(sid: str) -> int:
        return conv.layer_rank(rule_base.scenarios[sid].object_type)

    for rule in rule_base.rules.values():
        sources = {p for c in rule.conditions if not c.negated for p in providers.get(c.type, set())}
        for action in rule.actions:
            target = getattr(action, "scenario", None)
            if target is None or rule_base.resolve_id(target) not in before:
                continue
            target = rule_base.resolve_id(target)
            # a rule that backfills a lower layer (a service's table) does not put the layer above it first
            before[target].update(src for src in sources if src != target and rank(src) <= rank(target))
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


def order(requests: list[Any], rule_base: RuleBase, conv: Conventions) -> list[Any]:
    """Intents the user did not sequence, in a workable order: a scenario goes after those that must precede
    it and after lower layers; else the user's order stays."""
    anc = ancestors(rule_base, conv)

    def rank(sid: str) -> int:
        sc = rule_base.scenarios.get(sid)
        return conv.layer_rank(sc.object_type) if sc else len(conv.layers.get("order", ()))

    def precedes(a: str, b: str) -> bool:
        if a in anc.get(b, ()):
            return True
        if b in anc.get(a, ()):
            return False
        return rank(a) < rank(b)

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


def harmonise(
    requests: list[Any], rule_base: RuleBase, conv: Conventions, guessed: Sequence[set[str]] | None = None
) -> list[Any]:
    """Share the objects of sibling intents: a page that manages data shows the table, service and proxy its
    siblings create ("store user preferences, expose them through an API and show them in the hub"), lives in
    the app a sibling creates ("an analytics app with a usage page"), and an endpoint next to such a page is
    backed by the page's service and table. Only values the request left open are set."""
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

    parents = conv.kinds.parents
    # objects the intents create, by kind, with the intent that creates each: the parents of sibling intents
    created: dict[str, list[tuple[str, int]]] = {}
    for i, r in enumerate(requests):
        sc = rule_base.scenarios[r.scenario]
        bound = bind_params(sc, named=r.params, allow_missing=True)
        context = {**builtin_context(), **bound}
        for pattern in sc.provides:
            if pattern.type not in parents or "name" not in pattern.fields or pattern.negated:
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
            kind = conv.kind(p.name)
            if kind not in parents or p.name in params:
                continue
            # "a cli pipeline called billing with a sync-invoices command": the command goes in billing
            siblings = {v for v, j in created.get(kind, ()) if j != i}
            if len(siblings) == 1:
                parent = next(iter(siblings))
                params[p.name] = parent
                # a name only guessed from the request's subject was the parent's ("called billing")
                if (
                    guessed is not None
                    and "name" in guessed[i]
                    and to_snake(str(params.get("name", ""))) == to_snake(parent)
                ):
                    del params["name"]
        if sc.param("app") is not None and "app" not in params and only("app"):
            params["app"] = only("app")
        if sc.param("entity") is not None:
            if "entity" not in params and only("table"):
                params["entity"] = only("table")
                if sc.param("name") is not None and to_snake(str(params.get("name", ""))) == params["entity"]:
                    params["name"] = pascal(str(params["entity"]))
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
            params.setdefault("service", only("service") or to_kebab(entity))
            params.setdefault("table", entity)
        backed.append(r.model_copy(update={"params": params}) if params != r.params else r)
    return backed


def without_nameless_twins(items: Sequence[Any]) -> list[Any]:
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
        after = sorted({position[final(a)] for k in (i, *twins) for a in items[k].after if final(a) != i})
        update: dict[str, Any] = {"after": tuple(after)}
        asked = next((items[t] for t in twins if items[t].role == "requested"), None)
        if asked is not None and item.role != "requested":
            update.update(role="requested", reason=asked.reason)
        out.append(item.model_copy(update=update))
    return out


def without_unbound_dependencies(items: Sequence[Any]) -> list[Any]:
    """The plan without dependencies that lack a parameter: they exist only because an item they serve names
    nothing yet (a page whose app is still missing pulls in a nameless create-app). Once the user gives the
    value, the dependency comes back if the object is really new."""
    drop = {i for i, item in enumerate(items) if item.role == "dependency" and item.missing}
    if not drop:
        return list(items)
    position = {old: new for new, old in enumerate(i for i in range(len(items)) if i not in drop)}
    return [
        item.model_copy(update={"after": tuple(position[a] for a in item.after if a in position)})
        for i, item in enumerate(items)
        if i not in drop
    ]


def with_table_domains(
    requests: list[Any], rule_base: RuleBase, conv: Conventions, existing: set[str], text: str, given: set[str]
) -> list[Any]:
    """New tables the plan names get one of the repository's table domains (`conventions.table_domains`), so
    planned names pass the table-prefix standard: the domain the request names, else the one most existing tables
    carry (ties: the configured order); no guess without such evidence. Every table reference to the new name in
    the plan, and the services and routes named after it, follow, so the plan keeps one set of objects (a page
    keeps the request's words). A name the user `given` is never rewritten (the scenario refuses it if it breaks
    the convention)."""
    from collections import Counter

    domains = conv.table_domains
    if not domains:
        return requests
    words = set(re.findall(r"[a-z]+", text.lower()))
    counts = Counter(t.split("_", 1)[0] for t in existing if "_" in t)
    evidence = [d for d in domains if d in words] or sorted((d for d in domains if counts[d]), key=lambda d: -counts[d])
    if not evidence:
        return requests

    def table_params(sid: str) -> list[str]:
        sc = rule_base.scenarios[sid]
        names = [p.name for p in sc.params if conv.kind(p.name) == "table" or p.name == "entity"]
        if sc.provides and any(pt.type == "table" and "name" in pt.fields for pt in sc.provides):
            names.append("name")
        return names

    renamed: dict[str, str] = {}
    for r in requests:
        for key in table_params(r.scenario):
            value = r.params.get(key)
            if (
                isinstance(value, str)
                and value
                and value not in existing
                and value not in given
                and value.split("_", 1)[0] not in domains
                and re.fullmatch(r"[a-z][a-z0-9_]*", value)
            ):
                renamed.setdefault(value, f"{evidence[0]}_{value}")
    if not renamed:
        return requests
    services = {to_kebab(old): to_kebab(new) for old, new in renamed.items()}
    out = []
    for r in requests:
        keys = table_params(r.scenario)
        params = {
            k: v
            if not isinstance(v, str)
            else renamed.get(v, v)
            if k in keys
            else services.get(v, v)
            if conv.kind(k) == "service"
            else v
            for k, v in r.params.items()
        }
        for k in conv.params.routes:  # a route named after the data: /api/user-preferences
            path = params.get(k)
            if isinstance(path, str) and "/" in path and path.rsplit("/", 1)[1] in services:
                head, last = path.rsplit("/", 1)
                params[k] = f"{head}/{services[last]}"
        out.append(r.model_copy(update={"params": params}) if params != r.params else r)
    return out

"""A Rete production system in pure Python.

Design choices, all for speed in CPython:
- a fact (`WME`) is a slotted object whose fields live in a plain dict; a token is a plain tuple of WMEs
  (one per positive pattern), so partial matches cost no objects of their own;
- every join node keeps its own hashed left and right memories, keyed by the values of the variables the two
  sides share; each rule's nodes are generated as Python source with the downstream nodes inlined as nested
  loops (no per-token interpretation, no call per node);
- retraction re-runs the same joins to find the tokens to remove ("rematch"), so tokens need no bookkeeping,
  and when the removed fact is a node's only input everything below the node is cleared wholesale;
- the agenda is one dict per salience: insertion order gives recency, `popitem()` takes the newest activation
  (depth) in O(1) and removing a retracted activation is an O(1) `del`.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from continuous.engine.rete.network import _Agenda, _clear_rule, _Counter, _Feed, _Gen, _Spec, _Terminal
from continuous.engine.rete.terms import _MISSING, Condition, Fact, _compile, _tuple_expr
from continuous.engine.rete.terms import WME as WME
from continuous.engine.rete.terms import Activation as Activation
from continuous.engine.rete.terms import Ne as Ne
from continuous.engine.rete.terms import Pattern as Pattern
from continuous.engine.rete.terms import Rule as Rule
from continuous.engine.rete.terms import Strategy as Strategy
from continuous.engine.rete.terms import Test as Test
from continuous.engine.rete.terms import V as V

__all__ = ["WME", "Activation", "Engine", "Fact", "Ne", "Pattern", "Rule", "Strategy", "Test", "V"]

# ---------------------------------------------------------------- alpha network


class _AlphaMemory:
    """Facts of one type passing the same constant tests; feeds the join nodes that use that pattern."""

    __slots__ = ("filt", "succ")

    def __init__(self, filt: Callable[[dict[str, Any]], bool] | None) -> None:
        self.filt = filt
        self.succ: list[Any] = []


class _AlphaGroup:
    """The alpha memories of one fact type testing the same constant fields, hashed by their values."""

    __slots__ = ("fields", "getter", "table")

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.getter = _compile(f"lambda v: {_tuple_expr([f'v.get({f!r}, _M)' for f in fields])}", {"_M": _MISSING})
        self.table: dict[Any, dict[Any, _AlphaMemory]] = {}


# ---------------------------------------------------------------- the engine


class Engine:
    """Working memory, a Rete network of rules and an agenda.

    Adding or removing a fact only visits the alpha memories of its type whose constant fields it matches and,
    in each join, only the bucket of partial matches sharing its variable values: the work is proportional to
    what the fact affects, whatever the number of unrelated facts or rules.
    """

    def __init__(self, strategy: Strategy = "depth", *, stats: bool = False, pause_gc: bool = True) -> None:
        if strategy not in ("depth", "breadth"):
            raise ValueError(f"unknown strategy {strategy!r}: use 'depth' or 'breadth'")
        self.strategy: Strategy = strategy
        self.rules: dict[str, Rule] = {}
        self._alpha: dict[str, list[_AlphaGroup]] = {}
        self._wm: dict[tuple[str, frozenset[tuple[str, Any]]], WME] = {}
        self._agenda = _Agenda(strategy)
        self._counter = _Counter()
        self._stats = stats
        # Tokens are tuples and memories dicts: many container objects and no reference cycles, so the cyclic
        # garbage collector only costs time (a quarter of a Miss Manners run); `run` pauses it.
        self._pause_gc = pause_gc
        self._tag = 0
        self._halted = False
        self.fired = 0
        # While an action runs, the facts it asserts are propagated when it returns, after its retractions: a
        # `modify` of one fact followed by the retraction of another then never builds matches that die at
        # once. A retraction that could unblock a `not` propagates the pending assertions first, so the agenda
        # order is the same as with immediate propagation.
        self._deferring = False
        self._queue: list[WME] = []
        self._negated_types: set[str] = set()
        self._routes: dict[str, Any] = {}

    # -- rules

    def add_rule(
        self,
        name: str,
        conditions: Iterable[Condition],
        action: Callable[[Activation], Any],
        salience: int = 0,
    ) -> Rule:
        """Compile a rule into the network; facts already in working memory are matched against it at once."""
        if name in self.rules:
            raise ValueError(f"rule {name!r} is already defined")
        conds = tuple(conditions)
        first = conds[0] if conds else None
        if not conds or not (isinstance(conds[0], Pattern) and not conds[0].negated):
            conds = (Pattern(_INITIAL), *conds)
            self._ensure_initial()
        rule = Rule(name, conds, action, salience, len(self.rules))
        rule.initial = conds[0] is not first
        self._agenda.level(salience)
        self._flush()
        self._routes.clear()
        feeds = _build(rule, self._counter, self._agenda, self._stats)
        self._negated_types.update(p.type for p, _ in feeds if p.negated)
        self.rules[name] = rule
        new_alphas: list[tuple[_AlphaMemory, Any]] = []
        for pattern, node in feeds:
            mem = self._alpha_memory(pattern)
            mem.succ.append(node)
            mem.succ.sort(key=lambda n: n.order)
            new_alphas.append((mem, node))
        for wme in sorted(self._wm.values(), key=lambda w: w.tag):
            for (pattern, node), (mem, _) in zip(feeds, new_alphas, strict=True):
                if wme.type == pattern.type and self._alpha_accepts(pattern, mem, wme):
                    node.right_add(wme)
        return rule

    def _ensure_initial(self) -> None:
        if not any(w.type == _INITIAL for w in self._wm.values()):
            self.assert_fact(_INITIAL, {})

    def _alpha_accepts(self, pattern: Pattern, mem: _AlphaMemory, wme: WME) -> bool:
        consts = _constants(pattern)
        if any(wme.v.get(f, _MISSING) != c for f, c in consts.items()):
            return False
        return mem.filt is None or mem.filt(wme.v)

    def _alpha_memory(self, pattern: Pattern) -> _AlphaMemory:
        consts = _constants(pattern)
        fields = tuple(sorted(consts))
        groups = self._alpha.setdefault(pattern.type, [])
        group = next((g for g in groups if g.fields == fields), None)
        if group is None:
            group = _AlphaGroup(fields)
            groups.append(group)
        key = group.getter(consts)
        filt_src, filt_key = _alpha_filter(pattern)
        mems = group.table.setdefault(key, {})
        mem = mems.get(filt_key)
        if mem is None:
            mem = _AlphaMemory(_compile(filt_src, {"_M": _MISSING}) if filt_src else None)
            mems[filt_key] = mem
        return mem

    # -- working memory

    def assert_fact(self, type: str, fields: Mapping[str, Any] | None = None) -> WME | None:
        """Add a fact; returns its handle, or None if an identical fact is already present."""
        v = dict(fields) if fields else {}
        key = (type, frozenset(v.items()))
        wm = self._wm
        if key in wm:
            return None
        self._tag += 1
        w = WME(type, v, self._tag)
        wm[key] = w
        if self._deferring:
            self._queue.append(w)
            return w
        groups = self._alpha.get(type)
        if groups:
            self._dispatch(groups, w, True)
        return w

    def _flush(self) -> None:
        """Propagate the facts an action asserted (see `run`)."""
        while self._queue:
            queue, self._queue = self._queue, []
            for w in queue:
                if w.alive:
                    groups = self._alpha.get(w.type)
                    if groups:
                        self._dispatch(groups, w, True)

    def retract(self, wme: WME) -> bool:
        """Remove a fact and everything that depended on it; False if it was not in working memory."""
        if not wme.alive:
            return False
        key = (wme.type, frozenset(wme.v.items()))
        if id(self._wm.get(key)) != id(wme):  # identity, without narrowing wme to the lookup's Optional
            return False
        del self._wm[key]
        if self._queue:
            if wme.type in self._negated_types:
                self._flush()
            elif wme in self._queue:
                # asserted and retracted within one action: it never reached the network
                self._queue.remove(wme)
                wme.alive = False
                return True
        wme.alive = False
        groups = self._alpha.get(wme.type)
        if groups:
            self._dispatch(groups, wme, False)
        return True

    def modify(self, wme: WME, **changes: Any) -> WME | None:
        """Retract a fact and assert a copy with some fields changed (a new fact, so rules see it as new)."""
        self.retract(wme)
        return self.assert_fact(wme.type, {**wme.v, **changes})

    def _dispatch(self, groups: list[_AlphaGroup], w: WME, adding: bool) -> None:
        v = w.v
        route = self._routes.get(w.type)
        if route is None:
            route = self._routes[w.type] = _direct_route(groups)
        if route is not False:
            if adding:
                for filt, node in route:
                    if filt is None or filt(v):
                        node.right_add(w)
            else:
                for filt, node in route:
                    if filt is None or filt(v):
                        node.right_remove(w)
            return
        succ: list[Any] | None = None
        many = False
        for g in groups:
            mems = g.table.get(g.getter(v))
            if not mems:
                continue
            for mem in mems.values():
                if mem.filt is not None and not mem.filt(v):
                    continue
                if succ is None:
                    succ = mem.succ
                else:
                    if not many:
                        succ = list(succ)
                        many = True
                    succ.extend(mem.succ)
        if succ is None:
            return
        if many:
            succ.sort(key=lambda n: n.order)
        if adding:
            for node in succ:
                node.right_add(w)
        else:
            for node in succ:
                node.right_remove(w)

    def facts(self, type: str | None = None) -> list[WME]:
        out = [w for w in self._wm.values() if type is None or w.type == type]
        out.sort(key=lambda w: w.tag)
        return [w for w in out if w.type != _INITIAL]

    def find(self, type: str, fields: Mapping[str, Any]) -> WME | None:
        """The fact with exactly these fields, if present."""
        return self._wm.get((type, frozenset(dict(fields).items())))

    def __len__(self) -> int:
        return sum(1 for w in self._wm.values() if w.type != _INITIAL)

    def reset(self) -> None:
        """Retract every fact (rules stay)."""
        for w in sorted(self._wm.values(), key=lambda w: -w.tag):
            if w.type != _INITIAL:
                self.retract(w)

    @property
    def last_tag(self) -> int:
        """The tag of the newest fact asserted so far: a mark for `retract_since`."""
        return self._tag

    def retract_since(self, tag: int) -> None:
        """Retract every fact asserted after `tag`, newest first, and drop the activations that leaves pending.

        After a `run` that emptied the agenda at `tag`, this brings working memory and every join memory back to
        what they were then; a match the retractions re-create (a `not` unblocked again) had fired before `tag`,
        so it is dropped instead of firing twice."""
        self._flush()
        for w in sorted((w for w in self._wm.values() if w.tag > tag), key=lambda w: -w.tag):
            self.retract(w)
        self._agenda.clear()

    # -- agenda

    def agenda(self) -> list[Activation]:
        """Pending activations in the order they would fire."""
        self._flush()
        return [Activation(term.rule, t) for term, t in self._agenda.pending()]

    def halt(self) -> None:
        """Stop `run` after the current firing."""
        self._halted = True

    def run(self, limit: int | None = None) -> int:
        """Fire activations until the agenda is empty, `limit` firings happened or an action called `halt`."""
        self._halted = False
        fired = 0
        pop = self._agenda.pop
        resume_gc = self._pause_gc and gc.isenabled()
        if resume_gc:
            gc.disable()
        try:
            fired = self._run(pop, limit)
        finally:
            if resume_gc:
                gc.enable()
        self.fired += fired
        return fired

    def _run(self, pop: Callable[[], tuple[_Terminal, tuple[WME, ...]] | None], limit: int | None) -> int:
        fired = 0
        while limit is None or fired < limit:
            item = pop()
            if item is None:
                break
            term, t = item
            fired += 1
            self._deferring = True
            try:
                term.rule.action(Activation(term.rule, t))
            finally:
                self._deferring = False
                if self._queue:
                    self._flush()
            if self._halted:
                break
        return fired

    @property
    def join_ops(self) -> int:
        """Node visits so far (counted with `Engine(stats=True)` only): a machine-independent work measure."""
        return self._counter.ops


_INITIAL = "__initial__"


def _direct_route(groups: list[_AlphaGroup]) -> list[tuple[Any, Any]] | Literal[False]:
    """For a fact type whose patterns test no constant field, the fixed (filter, node) list every fact of it
    visits, in dispatch order; False when constants decide which memories a fact reaches."""
    if any(g.fields for g in groups):
        return False
    route = [
        (mem.filt, node) for g in groups for mems in g.table.values() for mem in mems.values() for node in mem.succ
    ]
    route.sort(key=lambda fn: fn[1].order)
    return route


def _constants(pattern: Pattern) -> dict[str, Any]:
    return {f: t for f, t in pattern.fields.items() if not isinstance(t, V | Ne)}


def _alpha_filter(pattern: Pattern) -> tuple[str | None, tuple[Any, ...]]:
    """Source of the per-fact test that hashing cannot do: field presence, `~const`, repeated variables."""
    parts: list[str] = []
    key: list[Any] = []
    seen: dict[str, str] = {}
    for f, t in pattern.fields.items():
        if isinstance(t, V):
            parts.append(f"{f!r} in v")
            key.append(("has", f))
            if t.name in seen:
                parts.append(f"v[{f!r}] == v[{seen[t.name]!r}]")
                key.append(("eq", f, seen[t.name]))
            else:
                seen[t.name] = f
        elif isinstance(t, Ne) and not isinstance(t.term, V):
            parts.append(f"v.get({f!r}, _M) != {t.term!r}")
            key.append(("ne", f, repr(t.term)))
        elif isinstance(t, Ne):
            parts.append(f"{f!r} in v")
            key.append(("has", f))
    if not parts:
        return None, ()
    return "lambda v: " + " and ".join(parts), tuple(key)


# Engines built from the same rules (the DSL adapter builds one per question) share the compiled node code.
_CODE_CACHE: dict[tuple[str, str], Any] = {}

_Ref = Callable[[int, str], str]
_TestSrc = Callable[[_Ref, str], str]


def _ne_bound(f: str, j: int, g: str) -> _TestSrc:
    def src(ref: _Ref, wv: str) -> str:
        return f"{wv}.v[{f!r}] != {ref(j, g)}"

    return src


def _ne_local(f: str, lf: str) -> _TestSrc:
    def src(ref: _Ref, wv: str) -> str:
        return f"{wv}.v[{f!r}] != {wv}.v[{lf!r}]"

    return src


def _call_test(fn_name: str, local: dict[str, str], bindings: Callable[[_Ref, str, dict[str, str]], str]) -> _TestSrc:
    def src(ref: _Ref, wv: str) -> str:
        return f"{fn_name}({bindings(ref, wv, local)})"

    return src


def _build(rule: Rule, counter: _Counter, agenda: _Agenda, stats: bool) -> list[tuple[Pattern, _Feed]]:
    """Compile a rule's conditions into generated code; returns the (pattern, feed) pairs of its inputs."""
    varmap: dict[str, tuple[int, str]] = {}
    specs: list[_Spec] = []
    env: dict[str, Any] = {"C": counter}
    patterns: list[tuple[int, Pattern]] = []
    tlen = 0

    def bindings_src(ref: Callable[[int, str], str], wv: str, local: dict[str, str]) -> str:
        items = [f"{name!r}: {ref(i, f)}" for name, (i, f) in varmap.items() if name not in local]
        items += [f"{name!r}: {wv}.v[{f!r}]" for name, f in local.items()]
        return "{" + ", ".join(items) + "}"

    for pos, cond in enumerate(rule.conditions):
        if isinstance(cond, Test):
            spec = _Spec("test", tlen)
            fn_name = f"F{pos}"
            env[fn_name] = cond.fn
            env[f"T{pos}"] = _compile(
                f"lambda t: {fn_name}({bindings_src(lambda j, f: f't[{j}].v[{f!r}]', 'w', {})})", env
            )
            specs.append(spec)
            continue
        kind = "not" if cond.negated else ("root" if tlen == 0 else "join")
        spec = _Spec(kind, tlen)
        local: dict[str, str] = {}
        for f, term in cond.fields.items():
            if isinstance(term, V):
                if term.name in varmap:
                    spec.lkey.append(varmap[term.name])
                    spec.rkey.append(f)
                elif term.name not in local:
                    local[term.name] = f
            elif isinstance(term, Ne) and isinstance(term.term, V):
                name = term.term.name
                if name in varmap:
                    j, g = varmap[name]
                    spec.refs.append((j, g))
                    spec.tests.append(_ne_bound(f, j, g))
                elif name in local:
                    lf = local[name]
                    spec.tests.append(_ne_local(f, lf))
                else:
                    raise ValueError(f"rule {rule.name}: ~?{name} in {cond!r} uses a variable not bound before it")
        if cond.test is not None:
            fn_name = f"P{pos}"
            env[fn_name] = cond.test
            snapshot = dict(local)
            spec.tests.append(_call_test(fn_name, snapshot, bindings_src))
        specs.append(spec)
        patterns.append((len(specs) - 1, cond))
        if not cond.negated:
            for name, lf in local.items():
                varmap[name] = (tlen, lf)
            tlen += 1
    gen = _Gen(specs, agenda.strategy == "breadth", stats)
    for i, spec in enumerate(specs):
        if spec.kind != "root":
            gen.left_entry(i, True)
            gen.left_entry(i, False)
        if spec.kind != "test":
            gen.right_entry(i, True)
            gen.right_entry(i, False)
    terminal = _Terminal(rule)
    level = agenda.level(rule.salience)
    env.update(TERM=terminal, LV=level, AGADD=agenda.add, CLEAR=_clear_rule)
    for i in range(len(specs)):
        env[f"L{i}"] = defaultdict(dict)
        env[f"R{i}"] = {}
    source = "\n".join(gen.lines)
    code = _CODE_CACHE.get((rule.name, source))
    if code is None:
        if len(_CODE_CACHE) > 1024:
            _CODE_CACHE.clear()
        code = _CODE_CACHE[(rule.name, source)] = compile(source, f"<rule {rule.name}>", "exec")
    exec(code, env)
    rule.varmap = varmap
    rule.terminal = terminal
    rule.memories = [(env[f"L{i}"], env[f"R{i}"]) for i in range(len(specs))]
    order_base = -rule.index * 1000
    return [(cond, _Feed(env[f"RA{i}"], env[f"RD{i}"], order_base - i)) for i, cond in patterns]

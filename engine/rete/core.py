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
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

Strategy = Literal["depth", "breadth"]

_MISSING = object()


class V:
    """A pattern variable: binds on its first positive use in a rule and must agree on every later use."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError("a variable needs a non-empty name")
        self.name = name

    def __invert__(self) -> Ne:
        return Ne(self)

    def __repr__(self) -> str:
        return f"?{self.name}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, V) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("V", self.name))


class Ne:
    """A field constraint `~x`: the field must differ from a constant or from an already bound variable."""

    __slots__ = ("term",)

    def __init__(self, term: Any) -> None:
        self.term = term

    def __repr__(self) -> str:
        return f"~{self.term!r}"


class Pattern:
    """A condition on one fact: its type, field constraints and an optional test on the bindings.

    Field values are constants, `V("x")` or `~V("x")` / `Ne(value)`. `negated=True` makes it a `not`
    condition. `test(bindings) -> bool` sees every variable bound so far, including this pattern's.
    """

    __slots__ = ("fields", "negated", "test", "type")

    def __init__(
        self,
        type: str,
        fields: Mapping[str, Any] | None = None,
        *,
        negated: bool = False,
        test: Callable[[Mapping[str, Any]], bool] | None = None,
    ) -> None:
        self.type = type
        self.fields = dict(fields or {})
        self.negated = negated
        self.test = test

    def __invert__(self) -> Pattern:
        return Pattern(self.type, self.fields, negated=not self.negated, test=self.test)

    def __repr__(self) -> str:
        body = ", ".join(f"{k}: {v!r}" for k, v in self.fields.items())
        return f"{'not ' if self.negated else ''}{self.type}({body})"


class Test:
    """A condition that is a predicate over the variables bound by the conditions before it."""

    __slots__ = ("fn",)
    __test__ = False  # not a pytest class

    def __init__(self, fn: Callable[[Mapping[str, Any]], bool]) -> None:
        self.fn = fn


Condition = Pattern | Test


class WME:
    """A fact in working memory. `type` and `fields` never change; `modify` retracts and asserts a new one."""

    __slots__ = ("alive", "tag", "type", "v")

    def __init__(self, type: str, fields: dict[str, Any], tag: int) -> None:
        self.type = type
        self.v = fields
        self.tag = tag
        self.alive = True

    @property
    def fields(self) -> dict[str, Any]:
        return self.v

    def __getitem__(self, name: str) -> Any:
        return self.v[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.v.get(name, default)

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self.v.items())
        return f"<f-{self.tag} {self.type}({body})>"


Fact = WME


class Rule:
    __slots__ = (
        "action",
        "conditions",
        "index",
        "initial",
        "memories",
        "name",
        "salience",
        "terminal",
        "varmap",
    )

    def __init__(
        self,
        name: str,
        conditions: tuple[Condition, ...],
        action: Callable[[Activation], Any],
        salience: int,
        index: int,
    ) -> None:
        self.name = name
        self.conditions = conditions
        self.action = action
        self.salience = salience
        self.index = index
        self.varmap: dict[str, tuple[int, str]] = {}
        self.terminal: _Terminal | None = None
        self.initial = (
            False  # matched against the internal initial fact (first condition not a positive pattern)
        )
        self.memories: list[tuple[dict[Any, Any], dict[Any, Any]]] = []

    def __repr__(self) -> str:
        return f"<rule {self.name}>"


class Activation:
    """A rule instantiation handed to an action: its bindings and the facts its positive patterns matched."""

    __slots__ = ("_bindings", "_token", "rule")

    def __init__(self, rule: Rule, token: tuple[WME, ...]) -> None:
        self.rule = rule
        self._token = token
        self._bindings: dict[str, Any] | None = None

    @property
    def facts(self) -> tuple[WME, ...]:
        """The matched facts, one per positive pattern, in the rule's order."""
        return self._token[1:] if self.rule.initial else self._token

    @property
    def bindings(self) -> dict[str, Any]:
        if self._bindings is None:
            token = self._token
            self._bindings = {name: token[i].v[f] for name, (i, f) in self.rule.varmap.items()}
        return self._bindings

    def __getitem__(self, name: str) -> Any:
        i, f = self.rule.varmap[name]
        return self._token[i].v[f]

    def __repr__(self) -> str:
        return f"<activation {self.rule.name} {self.bindings}>"


# ---------------------------------------------------------------- network nodes
#
# A rule compiles to a chain of nodes: positive joins, `not` nodes and test nodes, then its terminal. Each
# node's left memory holds the tokens it has seen, each join or `not` node's right memory the facts of its
# alpha memory, both hashed on the values of the variables the two sides share. The chain is generated as
# Python source, with the downstream nodes inlined as nested loops, so propagating a token costs no function
# call per node. A removal re-runs the same joins against the same memories ("rematch"), so it reaches exactly
# the tokens the addition produced.


class _Counter:
    __slots__ = ("ops",)

    def __init__(self) -> None:
        self.ops = 0


class _Terminal:
    __slots__ = ("rule",)

    def __init__(self, rule: Rule) -> None:
        self.rule = rule


class _Feed:
    """Where an alpha memory delivers a fact: the right input of one node of one rule."""

    __slots__ = ("order", "right_add", "right_remove")

    def __init__(
        self, right_add: Callable[[WME], None], right_remove: Callable[[WME], None], order: int
    ) -> None:
        self.right_add = right_add
        self.right_remove = right_remove
        self.order = order


class _Spec:
    """One compiled condition: its kind, join keys, per-pair tests and the token length it receives."""

    __slots__ = ("kind", "lkey", "refs", "rkey", "tests", "tlen")

    def __init__(self, kind: str, tlen: int) -> None:
        self.kind = kind  # "root" | "join" | "not" | "test"
        self.tlen = tlen
        self.lkey: list[tuple[int, str]] = []
        self.rkey: list[str] = []
        self.tests: list[Callable[[Callable[[int, str], str], str], str]] = []
        self.refs: list[tuple[int, str]] = []  # token fields the tests read


_MAX_LOOPS = 12


class _Ctx:
    """During code generation: how to reach each token position's fact and the fields already in locals."""

    __slots__ = ("fld", "pos")

    def __init__(self, pos: list[str], fld: dict[tuple[int, str], str]) -> None:
        self.pos = pos
        self.fld = fld

    def ref(self, j: int, f: str) -> str:
        return self.fld.get((j, f)) or f"{self.pos[j]}.v[{f!r}]"

    def token(self) -> str:
        return "(" + "".join(f"{p}, " for p in self.pos) + ")"


class _Gen:
    def __init__(self, specs: list[_Spec], breadth: bool, stats: bool) -> None:
        self.specs = specs
        self.breadth = breadth
        self.stats = stats
        self.lines: list[str] = []
        # fields of each token position read by some node (hoisted into locals when a loop binds the position)
        self.used: dict[int, list[str]] = {}
        for spec in specs:
            for j, f in spec.lkey + spec.refs:
                if f not in self.used.setdefault(j, []):
                    self.used[j].append(f)

    def lkey(self, i: int, ctx: _Ctx) -> str:
        return _tuple_expr([ctx.ref(j, f) for j, f in self.specs[i].lkey])

    def rkey(self, i: int, wv: str) -> str:
        return _tuple_expr([f"{wv}.v[{f!r}]" for f in self.specs[i].rkey])

    def test(self, i: int, ctx: _Ctx, wv: str) -> str | None:
        tests = self.specs[i].tests
        return " and ".join(f"({t(ctx.ref, wv)})" for t in tests) if tests else None

    def bind(self, ctx: _Ctx, wv: str, pad: str) -> _Ctx:
        """The context after the next position is bound to the fact in variable `wv`."""
        p = len(ctx.pos)
        fld = dict(ctx.fld)
        for n, f in enumerate(self.used.get(p, ())):
            name = f"v{p}_{n}"
            self.lines.append(f"{pad}{name} = {wv}.v[{f!r}]")
            fld[(p, f)] = name
        return _Ctx([*ctx.pos, wv], fld)

    def emit(self, i: int, tv: str, ctx: _Ctx, add: bool, ind: int, loops: int) -> None:
        out = self.lines
        pad = "    " * ind
        if self.stats:
            out.append(f"{pad}C.ops += 1")
        if i == len(self.specs):
            if not add:
                out.append(f"{pad}LV.pop((TERM, {tv}), None)")
            elif self.breadth:
                out.append(f"{pad}AGADD(TERM, {tv})")
            else:
                out.append(f"{pad}LV[(TERM, {tv})] = None")
            return
        if loops >= _MAX_LOOPS:
            out.append(f"{pad}{'A' if add else 'D'}{i}({tv})")
            return
        s = self.specs[i]
        if s.kind == "test":
            out.append(f"{pad}if T{i}({tv}):")
            self.emit(i + 1, tv, ctx, add, ind + 1, loops)
            return
        key = self.lkey(i, ctx)
        if key != "()":
            out.append(f"{pad}k{i} = {key}")
            key = f"k{i}"
        if add:
            out.append(f"{pad}L{i}[{key}][{tv}] = None")
        else:
            out += [
                f"{pad}b = L{i}[{key}]",
                f"{pad}del b[{tv}]",
                f"{pad}if not b:",
                f"{pad}    del L{i}[{key}]",
            ]
        if s.kind == "not":
            test = self.test(i, ctx, "x")
            if test is None:
                out.append(f"{pad}if {key} not in R{i}:")
            else:
                out.append(f"{pad}ws{i} = R{i}.get({key})")
                out.append(f"{pad}if not ws{i} or not any({test} for x in ws{i}):")
            self.emit(i + 1, tv, ctx, add, ind + 1, loops)
            return
        out += [f"{pad}ws{i} = R{i}.get({key})", f"{pad}if ws{i}:", f"{pad}    for w{i} in ws{i}:"]
        inner = ind + 2
        test = self.test(i, ctx, f"w{i}")
        if test is not None:
            out.append(f"{pad}        if {test}:")
            inner += 1
        ipad = "    " * inner
        nctx = self.bind(ctx, f"w{i}", ipad)
        nv = f"t{i + 1}"
        out.append(f"{ipad}{nv} = {nctx.token()}")
        self.emit(i + 1, nv, nctx, add, inner, loops + 1)

    def left_entry(self, i: int, add: bool) -> None:
        self.lines.append(f"def {'A' if add else 'D'}{i}(t{i}):")
        ctx = _Ctx([f"t{i}[{j}]" for j in range(self.specs[i].tlen)], {})
        self.emit(i, f"t{i}", ctx, add, 1, 0)

    def right_entry(self, i: int, add: bool) -> None:
        s = self.specs[i]
        out = self.lines
        name = f"{'RA' if add else 'RD'}{i}"
        out.append(f"def {name}(w):")
        if self.stats:
            out.append("    C.ops += 1")
        if s.kind == "root":
            if add:
                out.append("    R0[w] = None")
            else:
                self.bulk(i, "len(R0) == 1")
                out.append("    del R0[w]")
            test = self.test(i, _Ctx([], {}), "w")
            ind = 1
            if test is not None:
                out.append(f"    if {test}:")
                ind = 2
            pad = "    " * ind
            ctx = self.bind(_Ctx([], {}), "w", pad)
            out.append(f"{pad}t1 = (w,)")
            self.emit(i + 1, "t1", ctx, add, ind, 1)
            return
        out.append(f"    k = {self.rkey(i, 'w')}")
        if add:
            out += [
                f"    bucket = R{i}.get(k)",
                "    if bucket is None:",
                f"        R{i}[k] = bucket = {{}}",
                "        first = True",
                "    else:",
                "        first = False",
            ]
        else:
            if s.kind == "join":
                self.bulk(i, f"len(R{i}) == 1 and len(R{i}[k]) == 1")
            out += [
                f"    bucket = R{i}[k]",
                "    del bucket[w]",
                "    if not bucket:",
                f"        del R{i}[k]",
            ]
        out.append(f"    ts = L{i}.get(k)")
        tctx = _Ctx([f"tok[{j}]" for j in range(s.tlen)], {})
        if s.kind == "join":
            if add:
                out.append("    bucket[w] = None")
            out += ["    if ts:", "        for tok in list(ts):"]
            ind = 3
            test = self.test(i, tctx, "w")
            if test is not None:
                out.append(f"            if {test}:")
                ind = 4
            pad = "    " * ind
            nctx = self.bind(tctx, "w", pad)
            nv = f"t{i + 1}"
            out.append(f"{pad}{nv} = {nctx.token()}")
            self.emit(i + 1, nv, nctx, add, ind, 1)
            return
        # a `not` node: adding a fact may block tokens, removing one may unblock them
        test_w = self.test(i, tctx, "w")
        test_x = self.test(i, tctx, "x")
        if test_w is None:
            cond = "first" if add else "not bucket"
            out += [f"    if ts and {cond}:", "        for tok in list(ts):"]
            self.emit(i + 1, "tok", tctx, not add, 3, 1)
        else:
            out += [
                "    if ts:",
                "        for tok in list(ts):",
                f"            if {test_w} and not any({test_x} for x in bucket):",
            ]
            self.emit(i + 1, "tok", tctx, not add, 4, 1)
        if add:
            out.append("    bucket[w] = None")

    def bulk(self, i: int, cond: str) -> None:
        """When the fact being removed is the only input of node i, every token below node i contains it:
        clear the memories below wholesale (and the rule's activations) instead of re-running the joins."""
        below = [j for j in range(i + 1, len(self.specs)) if self.specs[j].kind != "test"]
        size = " + ".join(f"len(L{j})" for j in below) or "0"
        out = self.lines
        out.append(f"    if {cond} and len(LV) <= 4 * ({size}) + 64:")
        if self.stats:
            out.append("        C.ops += 1")
        out += [f"        L{j}.clear()" for j in below]
        out.append("        CLEAR(LV, TERM)")
        if self.specs[i].kind == "root":
            out.append("        del R0[w]")
        else:
            out += [
                f"        bucket = R{i}[k]",
                "        del bucket[w]",
                "        if not bucket:",
                f"            del R{i}[k]",
            ]
        out.append("        return")


def _clear_rule(level: dict[tuple[_Terminal, tuple[WME, ...]], int | None], term: _Terminal) -> None:
    kept = {key: seq for key, seq in level.items() if key[0] is not term}
    if len(kept) != len(level):
        level.clear()
        level.update(kept)


class _Agenda:
    """Pending activations by salience. Depth: newest first (dict LIFO); breadth: oldest first (FIFO)."""

    def __init__(self, strategy: Strategy) -> None:
        self.strategy = strategy
        self.levels: dict[int, dict[tuple[_Terminal, tuple[WME, ...]], int | None]] = {}
        self.order: list[int] = []
        self.queues: dict[int, deque[tuple[int, tuple[_Terminal, tuple[WME, ...]]]]] = {}
        self.seq = 0

    def level(self, salience: int) -> dict[tuple[_Terminal, tuple[WME, ...]], int | None]:
        if salience not in self.levels:
            self.levels[salience] = {}
            self.queues[salience] = deque()
            self.order = sorted(self.levels, reverse=True)
        return self.levels[salience]

    def add(self, term: _Terminal, t: tuple[WME, ...]) -> None:
        sal = term.rule.salience
        level = self.levels[sal]
        self.seq += 1
        key = (term, t)
        level[key] = self.seq
        if self.strategy == "breadth":
            self.queues[sal].append((self.seq, key))

    def pop(self) -> tuple[_Terminal, tuple[WME, ...]] | None:
        levels = self.levels
        for sal in self.order:
            level = levels[sal]
            if not level:
                continue
            if self.strategy == "depth":
                return level.popitem()[0]
            queue = self.queues[sal]
            while queue:
                seq, key = queue.popleft()
                if level.get(key) == seq:
                    del level[key]
                    return key
        return None

    def __len__(self) -> int:
        return sum(len(level) for level in self.levels.values())

    def pending(self) -> list[tuple[_Terminal, tuple[WME, ...]]]:
        out: list[tuple[_Terminal, tuple[WME, ...]]] = []
        for sal in self.order:
            level = self.levels[sal]
            if self.strategy == "depth":
                out.extend(reversed(level))
            else:
                out.extend(sorted(level, key=lambda k: level[k] or 0))
        return out


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
        self.getter = _compile(
            f"lambda v: {_tuple_expr([f'v.get({f!r}, _M)' for f in fields])}", {"_M": _MISSING}
        )
        self.table: dict[Any, dict[Any, _AlphaMemory]] = {}


def _tuple_expr(parts: list[str]) -> str:
    if not parts:
        return "()"
    if len(parts) == 1:
        return parts[0]
    return "(" + ", ".join(parts) + ",)"


def _compile(src: str, env: dict[str, Any] | None = None) -> Any:
    return eval(src, dict(env or {}))


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
        if self._wm.get(key) is not wme:
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
        (mem.filt, node)
        for g in groups
        for mems in g.table.values()
        for mem in mems.values()
        for node in mem.succ
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


def _call_test(
    fn_name: str, local: dict[str, str], bindings: Callable[[_Ref, str, dict[str, str]], str]
) -> _TestSrc:
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
                    raise ValueError(
                        f"rule {rule.name}: ~?{name} in {cond!r} uses a variable not bound before it"
                    )
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

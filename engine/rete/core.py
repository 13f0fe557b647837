"""A Rete production system in pure Python.

Design choices, all for speed in CPython:
- a fact (`WME`) is a slotted object whose fields live in a plain dict; a token is a plain tuple of WMEs (one per
  positive pattern), so partial matches cost no objects of their own;
- every join node keeps its own hashed left and right memories keyed by the values of the variables the two sides
  share, and its key functions are generated Python lambdas (no per-token interpretation of the pattern);
- retraction re-runs the same joins to find the tokens to remove ("rematch"), so no per-token bookkeeping exists;
- the agenda is one dict per salience: insertion order gives recency, `popitem()` takes the newest activation
  (depth) in O(1) and removing a retracted activation is an O(1) `del`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
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

    Field values are constants, `V("x")` or `~V("x")` / `Ne(value)`. `negated=True` makes it a `not` condition.
    `test(bindings) -> bool` sees every variable bound so far, including this pattern's.
    """

    __slots__ = ("fields", "negated", "test", "type")

    def __init__(self, type: str, fields: Mapping[str, Any] | None = None, *, negated: bool = False,
                 test: Callable[[Mapping[str, Any]], bool] | None = None) -> None:
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
    __slots__ = ("action", "conditions", "index", "name", "salience", "terminal", "varmap")

    def __init__(self, name: str, conditions: tuple[Condition, ...], action: Callable[[Activation], Any],
                 salience: int, index: int) -> None:
        self.name = name
        self.conditions = conditions
        self.action = action
        self.salience = salience
        self.index = index
        self.varmap: dict[str, tuple[int, str]] = {}
        self.terminal: _Terminal | None = None

    def __repr__(self) -> str:
        return f"<rule {self.name}>"


class Activation:
    """A rule instantiation handed to an action: the bindings and the facts matched by the positive patterns."""

    __slots__ = ("_bindings", "facts", "rule")

    def __init__(self, rule: Rule, facts: tuple[WME, ...]) -> None:
        self.rule = rule
        self.facts = facts
        self._bindings: dict[str, Any] | None = None

    @property
    def bindings(self) -> dict[str, Any]:
        if self._bindings is None:
            facts = self.facts
            self._bindings = {name: facts[i].v[f] for name, (i, f) in self.rule.varmap.items()}
        return self._bindings

    def __getitem__(self, name: str) -> Any:
        i, f = self.rule.varmap[name]
        return self.facts[i].v[f]

    def __repr__(self) -> str:
        return f"<activation {self.rule.name} {self.bindings}>"


# ---------------------------------------------------------------- network nodes
#
# Every beta node has `left_add(token)` / `left_remove(token)`; nodes fed by an alpha memory also have
# `right_add(wme)` / `right_remove(wme)`. A node's memories reflect exactly the inputs it has seen, so a removal
# re-runs the join and reaches exactly the tokens the corresponding addition produced.


class _Counter:
    __slots__ = ("ops",)

    def __init__(self) -> None:
        self.ops = 0


class _Join:
    __slots__ = ("child", "counter", "lkey", "lmem", "order", "rkey", "rmem", "test")

    def __init__(self, lkey: Callable[[tuple[WME, ...]], Any], rkey: Callable[[WME], Any],
                 test: Callable[[tuple[WME, ...], WME], bool] | None, counter: _Counter, order: int) -> None:
        self.lkey = lkey
        self.rkey = rkey
        self.test = test
        self.lmem: dict[Any, dict[tuple[WME, ...], None]] = {}
        self.rmem: dict[Any, dict[WME, None]] = {}
        self.child: Any = None
        self.counter = counter
        self.order = order

    def left_add(self, t: tuple[WME, ...]) -> None:
        k = self.lkey(t)
        bucket = self.lmem.get(k)
        if bucket is None:
            self.lmem[k] = {t: None}
        else:
            bucket[t] = None
        ws = self.rmem.get(k)
        self.counter.ops += 1
        if ws:
            add = self.child.left_add
            test = self.test
            if test is None:
                for w in ws:
                    add((*t, w))
            else:
                for w in ws:
                    if test(t, w):
                        add((*t, w))

    def left_remove(self, t: tuple[WME, ...]) -> None:
        k = self.lkey(t)
        bucket = self.lmem[k]
        del bucket[t]
        if not bucket:
            del self.lmem[k]
        ws = self.rmem.get(k)
        self.counter.ops += 1
        if ws:
            rem = self.child.left_remove
            test = self.test
            if test is None:
                for w in ws:
                    rem((*t, w))
            else:
                for w in ws:
                    if test(t, w):
                        rem((*t, w))

    def right_add(self, w: WME) -> None:
        k = self.rkey(w)
        bucket = self.rmem.get(k)
        if bucket is None:
            self.rmem[k] = {w: None}
        else:
            bucket[w] = None
        ts = self.lmem.get(k)
        self.counter.ops += 1
        if ts:
            add = self.child.left_add
            test = self.test
            if test is None:
                for t in list(ts):
                    add((*t, w))
            else:
                for t in list(ts):
                    if test(t, w):
                        add((*t, w))

    def right_remove(self, w: WME) -> None:
        k = self.rkey(w)
        bucket = self.rmem[k]
        del bucket[w]
        if not bucket:
            del self.rmem[k]
        ts = self.lmem.get(k)
        self.counter.ops += 1
        if ts:
            rem = self.child.left_remove
            test = self.test
            if test is None:
                for t in list(ts):
                    rem((*t, w))
            else:
                for t in list(ts):
                    if test(t, w):
                        rem((*t, w))


class _Root(_Join):
    """The first positive pattern: a join against the single empty token."""

    def __init__(self, counter: _Counter, order: int, test: Callable[[tuple[WME, ...], WME], bool] | None) -> None:
        super().__init__(_unit_key, _unit_key, test, counter, order)
        self.lmem[()] = {(): None}

    def right_add(self, w: WME) -> None:
        self.counter.ops += 1
        if self.test is None or self.test((), w):
            self.child.left_add((w,))

    def right_remove(self, w: WME) -> None:
        self.counter.ops += 1
        if self.test is None or self.test((), w):
            self.child.left_remove((w,))


def _unit_key(_: object) -> tuple[()]:
    return ()


class _Not:
    """`not` pattern: a token passes while no fact in its key's bucket matches it."""

    __slots__ = ("child", "counter", "lkey", "lmem", "order", "rkey", "rmem", "test")

    def __init__(self, lkey: Callable[[tuple[WME, ...]], Any], rkey: Callable[[WME], Any],
                 test: Callable[[tuple[WME, ...], WME], bool] | None, counter: _Counter, order: int) -> None:
        self.lkey = lkey
        self.rkey = rkey
        self.test = test
        self.lmem: dict[Any, dict[tuple[WME, ...], None]] = {}
        self.rmem: dict[Any, dict[WME, None]] = {}
        self.child: Any = None
        self.counter = counter
        self.order = order

    def _blocked(self, t: tuple[WME, ...], ws: dict[WME, None] | None) -> bool:
        if not ws:
            return False
        test = self.test
        if test is None:
            return True
        return any(test(t, w) for w in ws)

    def left_add(self, t: tuple[WME, ...]) -> None:
        k = self.lkey(t)
        bucket = self.lmem.get(k)
        if bucket is None:
            self.lmem[k] = {t: None}
        else:
            bucket[t] = None
        self.counter.ops += 1
        ws = self.rmem.get(k)
        if not ws or (self.test is not None and not self._blocked(t, ws)):
            self.child.left_add(t)

    def left_remove(self, t: tuple[WME, ...]) -> None:
        k = self.lkey(t)
        bucket = self.lmem[k]
        del bucket[t]
        if not bucket:
            del self.lmem[k]
        self.counter.ops += 1
        ws = self.rmem.get(k)
        if not ws or (self.test is not None and not self._blocked(t, ws)):
            self.child.left_remove(t)

    def right_add(self, w: WME) -> None:
        k = self.rkey(w)
        bucket = self.rmem.get(k)
        self.counter.ops += 1
        test = self.test
        if bucket is None:
            self.rmem[k] = {w: None}
            ts = self.lmem.get(k)
            if ts:
                rem = self.child.left_remove
                for t in list(ts):
                    if test is None or test(t, w):
                        rem(t)
            return
        ts = self.lmem.get(k)
        if ts and test is not None:
            rem = self.child.left_remove
            for t in list(ts):
                if test(t, w) and not self._blocked(t, bucket):
                    rem(t)
        bucket[w] = None

    def right_remove(self, w: WME) -> None:
        k = self.rkey(w)
        bucket = self.rmem[k]
        del bucket[w]
        self.counter.ops += 1
        test = self.test
        if not bucket:
            del self.rmem[k]
        ts = self.lmem.get(k)
        if not ts:
            return
        add = self.child.left_add
        if test is None:
            if not bucket:
                for t in list(ts):
                    add(t)
            return
        for t in list(ts):
            if test(t, w) and not self._blocked(t, bucket):
                add(t)


class _TestNode:
    __slots__ = ("child", "counter", "fn", "order")

    def __init__(self, fn: Callable[[tuple[WME, ...]], bool], counter: _Counter, order: int) -> None:
        self.fn = fn
        self.child: Any = None
        self.counter = counter
        self.order = order

    def left_add(self, t: tuple[WME, ...]) -> None:
        self.counter.ops += 1
        if self.fn(t):
            self.child.left_add(t)

    def left_remove(self, t: tuple[WME, ...]) -> None:
        self.counter.ops += 1
        if self.fn(t):
            self.child.left_remove(t)


class _Terminal:
    __slots__ = ("agenda", "rule")

    def __init__(self, rule: Rule, agenda: _Agenda) -> None:
        self.rule = rule
        self.agenda = agenda

    def left_add(self, t: tuple[WME, ...]) -> None:
        self.agenda.add(self, t)

    def left_remove(self, t: tuple[WME, ...]) -> None:
        self.agenda.discard(self, t)


class _Agenda:
    """Pending activations by salience. Depth: newest first (dict LIFO); breadth: oldest first (FIFO queue)."""

    def __init__(self, strategy: Strategy) -> None:
        self.strategy = strategy
        self.levels: dict[int, dict[tuple[_Terminal, tuple[WME, ...]], int]] = {}
        self.order: list[int] = []
        self.queues: dict[int, deque[tuple[int, tuple[_Terminal, tuple[WME, ...]]]]] = {}
        self.seq = 0

    def level(self, salience: int) -> dict[tuple[_Terminal, tuple[WME, ...]], int]:
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

    def discard(self, term: _Terminal, t: tuple[WME, ...]) -> None:
        self.levels[term.rule.salience].pop((term, t), None)

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
            items = sorted(self.levels[sal].items(), key=lambda kv: kv[1],
                           reverse=self.strategy == "depth")
            out.extend(k for k, _ in items)
        return out


# ---------------------------------------------------------------- alpha network


class _AlphaMemory:
    """Facts of one type passing the same constant tests; feeds the join nodes that use that pattern."""

    __slots__ = ("filt", "succ")

    def __init__(self, filt: Callable[[dict[str, Any]], bool] | None) -> None:
        self.filt = filt
        self.succ: list[Any] = []


class _AlphaGroup:
    """The alpha memories of one fact type that test the same constant fields, hashed by those fields' values."""

    __slots__ = ("fields", "getter", "table")

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.getter = _compile(
            f"lambda v: {_tuple_expr([f'v.get({f!r}, _M)' for f in fields])}", {"_M": _MISSING})
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

    Adding or removing a fact only visits the alpha memories of its type whose constant fields it matches and, in
    each join, only the bucket of partial matches sharing its variable values: the work is proportional to what the
    fact affects, whatever the number of unrelated facts or rules.
    """

    def __init__(self, strategy: Strategy = "depth") -> None:
        if strategy not in ("depth", "breadth"):
            raise ValueError(f"unknown strategy {strategy!r}: use 'depth' or 'breadth'")
        self.strategy: Strategy = strategy
        self.rules: dict[str, Rule] = {}
        self._alpha: dict[str, list[_AlphaGroup]] = {}
        self._wm: dict[tuple[str, frozenset[tuple[str, Any]]], WME] = {}
        self._agenda = _Agenda(strategy)
        self._counter = _Counter()
        self._tag = 0
        self._halted = False
        self.fired = 0

    # -- rules

    def add_rule(self, name: str, conditions: Iterable[Condition], action: Callable[[Activation], Any],
                 salience: int = 0) -> Rule:
        """Compile a rule into the network; facts already in working memory are matched against it at once."""
        if name in self.rules:
            raise ValueError(f"rule {name!r} is already defined")
        conds = tuple(conditions)
        if not any(isinstance(c, Pattern) and not c.negated for c in conds):
            conds = (Pattern(_INITIAL), *conds)
            self._ensure_initial()
        rule = Rule(name, conds, action, salience, len(self.rules))
        self._agenda.level(salience)
        feeds = _build(rule, self._counter, self._agenda)
        self.rules[name] = rule
        new_alphas: list[tuple[_AlphaMemory, Any]] = []
        for pattern, node in feeds:
            mem = self._alpha_memory(pattern)
            mem.succ.append(node)
            mem.succ.sort(key=lambda n: -n.order)
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
        groups = self._alpha.get(type)
        if groups:
            self._dispatch(groups, w, True)
        return w

    def retract(self, wme: WME) -> bool:
        """Remove a fact and everything that depended on it; False if it was not in working memory."""
        if not wme.alive:
            return False
        key = (wme.type, frozenset(wme.v.items()))
        if self._wm.get(key) is not wme:
            return False
        del self._wm[key]
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
            succ.sort(key=lambda n: -n.order)
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
            self.retract(w)

    # -- agenda

    def agenda(self) -> list[Activation]:
        """Pending activations in the order they would fire."""
        return [Activation(term.rule, t) for term, t in self._agenda.pending()]

    def halt(self) -> None:
        """Stop `run` after the current firing."""
        self._halted = True

    def run(self, limit: int | None = None) -> int:
        """Fire activations until the agenda is empty, `limit` firings happened or an action called `halt`."""
        self._halted = False
        fired = 0
        pop = self._agenda.pop
        while limit is None or fired < limit:
            item = pop()
            if item is None:
                break
            term, t = item
            fired += 1
            term.rule.action(Activation(term.rule, t))
            if self._halted:
                break
        self.fired += fired
        return fired

    @property
    def join_ops(self) -> int:
        """Node activations so far: a machine-independent measure of matching work."""
        return self._counter.ops


_INITIAL = "__initial__"


def _constants(pattern: Pattern) -> dict[str, Any]:
    return {f: t for f, t in pattern.fields.items() if not isinstance(t, V | Ne)}


def _alpha_filter(pattern: Pattern) -> tuple[str | None, tuple[Any, ...]]:
    """Source of the per-fact test that constants cannot hash: field presence, `~const`, repeated variables."""
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


def _build(rule: Rule, counter: _Counter, agenda: _Agenda) -> list[tuple[Pattern, Any]]:
    """Compile a rule's conditions into a chain of beta nodes; returns (pattern, node) pairs fed by alpha memories."""
    varmap: dict[str, tuple[int, str]] = {}
    feeds: list[tuple[Pattern, Any]] = []
    nodes: list[Any] = []
    index = 0
    order_base = -rule.index * 1000

    def ref(name: str) -> str:
        i, f = varmap[name]
        return f"t[{i}].v[{f!r}]"

    def bindings_src(extra: dict[str, str]) -> str:
        items = [f"{name!r}: {ref(name)}" for name in varmap if name not in extra]
        items += [f"{name!r}: {expr}" for name, expr in extra.items()]
        return "{" + ", ".join(items) + "}"

    for pos, cond in enumerate(rule.conditions):
        order = order_base - pos
        if isinstance(cond, Test):
            src = f"lambda t: _fn({bindings_src({})})"
            nodes.append(_TestNode(_compile(src, {"_fn": cond.fn}), counter, order))
            continue
        left: list[str] = []
        right: list[str] = []
        tests: list[str] = []
        local: dict[str, str] = {}
        for f, term in cond.fields.items():
            if isinstance(term, V):
                if term.name in varmap:
                    left.append(ref(term.name))
                    right.append(f"w.v[{f!r}]")
                elif term.name not in local:
                    local[term.name] = f
            elif isinstance(term, Ne) and isinstance(term.term, V):
                name = term.term.name
                if name in varmap:
                    tests.append(f"w.v[{f!r}] != {ref(name)}")
                elif name in local:
                    tests.append(f"w.v[{f!r}] != w.v[{local[name]!r}]")
                else:
                    raise ValueError(f"rule {rule.name}: ~?{name} in {cond!r} uses a variable not bound before it")
        env: dict[str, Any] = {}
        if cond.test is not None:
            env["_fn"] = cond.test
            tests.append(f"_fn({bindings_src({n: f'w.v[{lf!r}]' for n, lf in local.items()})})")
        test = _compile(f"lambda t, w: {' and '.join(tests)}", env) if tests else None
        lkey = _compile(f"lambda t: {_tuple_expr(left)}")
        rkey = _compile(f"lambda w: {_tuple_expr(right)}")
        node: Any
        if cond.negated:
            node = _Not(lkey, rkey, test, counter, order)
        elif index == 0:
            node = _Root(counter, order, test)
        else:
            node = _Join(lkey, rkey, test, counter, order)
        if not cond.negated:
            for name, lf in local.items():
                varmap[name] = (index, lf)
            index += 1
        nodes.append(node)
        feeds.append((cond, node))
    terminal = _Terminal(rule, agenda)
    for a, b in zip(nodes, [*nodes[1:], terminal], strict=True):
        a.child = b
    rule.varmap = varmap
    rule.terminal = terminal
    return feeds


def iter_facts(engine: Engine) -> Iterator[WME]:
    return iter(engine.facts())

"""The Rete network's join chain, generated as Python source per rule, and the agenda (see `core`)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from continuous.engine.rete.terms import WME, Rule, Strategy, _tuple_expr

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

    def __init__(self, right_add: Callable[[WME], None], right_remove: Callable[[WME], None], order: int) -> None:
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

    def clear(self) -> None:
        """Drop every pending activation (in place: the generated rule code holds the level dicts)."""
        for level in self.levels.values():
            level.clear()
        for queue in self.queues.values():
            queue.clear()

    def pending(self) -> list[tuple[_Terminal, tuple[WME, ...]]]:
        out: list[tuple[_Terminal, tuple[WME, ...]]] = []
        for sal in self.order:
            level = self.levels[sal]
            if self.strategy == "depth":
                out.extend(reversed(level))
            else:
                out.extend(sorted(level, key=lambda k: level[k] or 0))
        return out

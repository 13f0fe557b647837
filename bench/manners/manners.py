"""Miss Manners, the classic OPS5 benchmark: rules, generator and result check for our core, CLIPS, experta.

The rules are the CLIPS port of the OPS5 original (Brant/Miranker); only the syntax differs between engines.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

HOBBIES = 3


def generate(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """Guest facts: `n` guests, half of each sex, each with 2–3 of 3 hobbies (a fact per guest and hobby)."""
    if n % 2:
        raise ValueError("Miss Manners needs an even number of guests")
    rng = random.Random(seed)
    sexes = ["m"] * (n // 2) + ["f"] * (n // 2)
    rng.shuffle(sexes)
    facts = []
    for i, sex in enumerate(sexes, start=1):
        hobbies = rng.sample(range(1, HOBBIES + 1), rng.randint(2, 3))
        for h in sorted(hobbies):
            facts.append({"name": f"n{i}", "sex": sex, "hobby": f"h{h}"})
    return facts


def expected_firings(n: int) -> int:
    return 1 + 3 * (n - 1) + n * (n - 1) // 2 + n + 1


def check_seating(guests: list[dict[str, Any]], seats: list[tuple[int, str]], n: int) -> list[str]:
    """Problems with a final seating (empty when every seat is valid): each guest once, sexes alternate,
    neighbours share a hobby."""
    problems: list[str] = []
    sex = {g["name"]: g["sex"] for g in guests}
    hobbies: dict[str, set[str]] = {}
    for g in guests:
        hobbies.setdefault(g["name"], set()).add(g["hobby"])
    order = [name for _, name in sorted(seats)]
    if sorted(s for s, _ in seats) != list(range(1, n + 1)):
        problems.append(f"seats are {sorted(s for s, _ in seats)[:10]}..., expected 1..{n}")
    if len(set(order)) != len(order) or len(order) != n:
        problems.append("a guest is seated twice or missing")
    for a, b in itertools.pairwise(order):
        if sex.get(a) == sex.get(b):
            problems.append(f"{a} and {b} sit together and have the same sex")
        if not hobbies.get(a, set()) & hobbies.get(b, set()):
            problems.append(f"{a} and {b} sit together and share no hobby")
    return problems


# ---------------------------------------------------------------- our core


def run_core(guests: list[dict[str, Any]], n: int, strategy: str = "depth") -> tuple[int, list[tuple[int, str]]]:
    """Run Manners on continuous.engine.rete; returns (firings, [(seat, name)])."""
    from continuous.engine.rete import Engine, Pattern, V

    eng = Engine(strategy="breadth" if strategy == "breadth" else "depth")
    printed: list[tuple[int, str]] = []

    def assign_first_seat(a: Any) -> None:
        ctx, _, count = a.facts
        c = a["c"]
        eng.assert_fact(
            "seating",
            {"seat1": 1, "name1": a["n"], "name2": a["n"], "seat2": 1, "id": c, "pid": 0, "path_done": "yes"},
        )
        eng.assert_fact("path", {"id": c, "name": a["n"], "seat": 1})
        eng.modify(count, c=c + 1)
        eng.modify(ctx, state="assign_seats")

    def find_seating(a: Any) -> None:
        ctx = a.facts[0]
        count = a.facts[4]
        b = a.bindings
        c, seat2 = b["c"], b["seat2"]
        eng.assert_fact(
            "seating",
            {
                "seat1": seat2,
                "name1": b["n2"],
                "name2": b["g2"],
                "seat2": seat2 + 1,
                "id": c,
                "pid": b["id"],
                "path_done": "no",
            },
        )
        eng.assert_fact("path", {"id": c, "name": b["g2"], "seat": seat2 + 1})
        eng.assert_fact("chosen", {"id": b["id"], "name": b["g2"], "hobby": b["h1"]})
        eng.modify(count, c=c + 1)
        eng.modify(ctx, state="make_path")

    def make_path(a: Any) -> None:
        eng.assert_fact("path", {"id": a["id"], "name": a["n1"], "seat": a["s"]})

    def path_done(a: Any) -> None:
        ctx, seating = a.facts
        eng.modify(seating, path_done="yes")
        eng.modify(ctx, state="check_done")

    def are_we_done(a: Any) -> None:
        eng.modify(a.facts[0], state="print_results")

    def continue_(a: Any) -> None:
        eng.modify(a.facts[0], state="assign_seats")

    def print_results(a: Any) -> None:
        path = a.facts[3]
        eng.retract(path)
        printed.append((a["s"], a["n"]))

    def all_done(a: Any) -> None:
        eng.halt()

    P = Pattern
    eng.add_rule(
        "assign_first_seat",
        [
            P("context", {"state": "start"}),
            P("guest", {"name": V("n")}),
            P("count", {"c": V("c")}),
        ],
        assign_first_seat,
    )
    eng.add_rule(
        "find_seating",
        [
            P("context", {"state": "assign_seats"}),
            P(
                "seating",
                {
                    "seat1": V("seat1"),
                    "seat2": V("seat2"),
                    "name2": V("n2"),
                    "id": V("id"),
                    "pid": V("pid"),
                    "path_done": "yes",
                },
            ),
            P("guest", {"name": V("n2"), "sex": V("s1"), "hobby": V("h1")}),
            P("guest", {"name": V("g2"), "sex": ~V("s1"), "hobby": V("h1")}),
            P("count", {"c": V("c")}),
            P("path", {"id": V("id"), "name": V("g2")}, negated=True),
            P("chosen", {"id": V("id"), "name": V("g2"), "hobby": V("h1")}, negated=True),
        ],
        find_seating,
    )
    eng.add_rule(
        "make_path",
        [
            P("context", {"state": "make_path"}),
            P("seating", {"id": V("id"), "pid": V("pid"), "path_done": "no"}),
            P("path", {"id": V("pid"), "name": V("n1"), "seat": V("s")}),
            P("path", {"id": V("id"), "name": V("n1")}, negated=True),
        ],
        make_path,
    )
    eng.add_rule("path_done", [P("context", {"state": "make_path"}), P("seating", {"path_done": "no"})], path_done)
    eng.add_rule(
        "are_we_done",
        [
            P("context", {"state": "check_done"}),
            P("last_seat", {"seat": V("l_seat")}),
            P("seating", {"seat2": V("l_seat")}),
        ],
        are_we_done,
    )
    eng.add_rule("continue", [P("context", {"state": "check_done"})], continue_)
    eng.add_rule(
        "print_results",
        [
            P("context", {"state": "print_results"}),
            P("seating", {"id": V("id"), "seat2": V("s2")}),
            P("last_seat", {"seat": V("s2")}),
            P("path", {"id": V("id"), "name": V("n"), "seat": V("s")}),
        ],
        print_results,
    )
    eng.add_rule("all_done", [P("context", {"state": "print_results"})], all_done)

    for g in guests:
        eng.assert_fact("guest", g)
    eng.assert_fact("last_seat", {"seat": n})
    eng.assert_fact("count", {"c": 1})
    eng.assert_fact("context", {"state": "start"})
    fired = eng.run()
    return fired, printed


# ---------------------------------------------------------------- CLIPS

CLIPS_PROGRAM = """
(deftemplate guest (slot name) (slot sex) (slot hobby))
(deftemplate last_seat (slot seat))
(deftemplate seating
   (slot seat1) (slot name1) (slot name2) (slot seat2) (slot id) (slot pid) (slot path_done))
(deftemplate context (slot state))
(deftemplate path (slot id) (slot name) (slot seat))
(deftemplate chosen (slot id) (slot name) (slot hobby))
(deftemplate count (slot c))
(deftemplate result (slot name) (slot seat))

(defrule assign_first_seat
   ?f1 <- (context (state start))
   (guest (name ?n))
   ?f3 <- (count (c ?c))
   =>
   (assert (seating (seat1 1) (name1 ?n) (name2 ?n) (seat2 1) (id ?c) (pid 0) (path_done yes)))
   (assert (path (id ?c) (name ?n) (seat 1)))
   (modify ?f3 (c (+ ?c 1)))
   (modify ?f1 (state assign_seats)))

(defrule find_seating
   ?f1 <- (context (state assign_seats))
   (seating (seat1 ?seat1) (seat2 ?seat2) (name2 ?n2) (id ?id) (pid ?pid) (path_done yes))
   (guest (name ?n2) (sex ?s1) (hobby ?h1))
   (guest (name ?g2) (sex ~?s1) (hobby ?h1))
   ?f5 <- (count (c ?c))
   (not (path (id ?id) (name ?g2)))
   (not (chosen (id ?id) (name ?g2) (hobby ?h1)))
   =>
   (assert (seating (seat1 ?seat2) (name1 ?n2) (name2 ?g2) (seat2 (+ ?seat2 1))
                    (id ?c) (pid ?id) (path_done no)))
   (assert (path (id ?c) (name ?g2) (seat (+ ?seat2 1))))
   (assert (chosen (id ?id) (name ?g2) (hobby ?h1)))
   (modify ?f5 (c (+ ?c 1)))
   (modify ?f1 (state make_path)))

(defrule make_path
   (context (state make_path))
   (seating (id ?id) (pid ?pid) (path_done no))
   (path (id ?pid) (name ?n1) (seat ?s))
   (not (path (id ?id) (name ?n1)))
   =>
   (assert (path (id ?id) (name ?n1) (seat ?s))))

(defrule path_done
   ?f1 <- (context (state make_path))
   ?f2 <- (seating (path_done no))
   =>
   (modify ?f2 (path_done yes))
   (modify ?f1 (state check_done)))

(defrule are_we_done
   ?f1 <- (context (state check_done))
   (last_seat (seat ?l_seat))
   (seating (seat2 ?l_seat))
   =>
   (modify ?f1 (state print_results)))

(defrule continue
   ?f1 <- (context (state check_done))
   =>
   (modify ?f1 (state assign_seats)))

(defrule print_results
   (context (state print_results))
   (seating (id ?id) (seat2 ?s2))
   (last_seat (seat ?s2))
   ?f4 <- (path (id ?id) (name ?n) (seat ?s))
   =>
   (retract ?f4)
   (assert (result (name ?n) (seat ?s))))

(defrule all_done
   (context (state print_results))
   =>
   (halt))
"""


def run_clips(guests: list[dict[str, Any]], n: int) -> tuple[int, list[tuple[int, str]]]:
    import clips

    env = clips.Environment()
    env.strategy = clips.Strategy.DEPTH
    for construct in _clips_constructs(CLIPS_PROGRAM):
        env.build(construct)
    for g in guests:
        env.assert_string(f"(guest (name {g['name']}) (sex {g['sex']}) (hobby {g['hobby']}))")
    env.assert_string(f"(last_seat (seat {n}))")
    env.assert_string("(count (c 1))")
    env.assert_string("(context (state start))")
    fired = env.run()
    seats = [(int(f["seat"]), str(f["name"])) for f in env.facts() if f.template.name == "result"]
    return fired, seats


def _clips_constructs(program: str) -> list[str]:
    out, depth, start = [], 0, None
    for i, ch in enumerate(program):
        if ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and start is not None:
                out.append(program[start : i + 1])
    return out


# ---------------------------------------------------------------- experta


def run_experta(guests: list[dict[str, Any]], n: int) -> tuple[int, list[tuple[int, str]]]:
    from experta import AS, MATCH, NOT, TEST, Fact, KnowledgeEngine, Rule

    class Context(Fact):
        pass

    class Guest(Fact):
        pass

    class LastSeat(Fact):
        pass

    class Seating(Fact):
        pass

    class Path(Fact):
        pass

    class Chosen(Fact):
        pass

    class Count(Fact):
        pass

    printed: list[tuple[int, str]] = []
    counter = {"fired": 0}

    class Manners(KnowledgeEngine):
        @Rule(AS.f1 << Context(state="start"), Guest(name=MATCH.n), AS.f3 << Count(c=MATCH.c))
        def assign_first_seat(self, f1: Any, f3: Any, n: Any, c: Any) -> None:
            counter["fired"] += 1
            self.declare(Seating(seat1=1, name1=n, name2=n, seat2=1, id=c, pid=0, path_done="yes"))
            self.declare(Path(id=c, name=n, seat=1))
            self.modify(f3, c=c + 1)
            self.modify(f1, state="assign_seats")

        @Rule(
            AS.f1 << Context(state="assign_seats"),
            Seating(
                seat1=MATCH.seat1,
                seat2=MATCH.seat2,
                name2=MATCH.n2,
                id=MATCH.id,
                pid=MATCH.pid,
                path_done="yes",
            ),
            Guest(name=MATCH.n2, sex=MATCH.s1, hobby=MATCH.h1),
            Guest(name=MATCH.g2, sex=MATCH.s2, hobby=MATCH.h1),
            TEST(lambda s1, s2: s1 != s2),
            AS.f5 << Count(c=MATCH.c),
            NOT(Path(id=MATCH.id, name=MATCH.g2)),
            NOT(Chosen(id=MATCH.id, name=MATCH.g2, hobby=MATCH.h1)),
        )
        def find_seating(
            self, f1: Any, f5: Any, seat2: Any, n2: Any, g2: Any, id: Any, h1: Any, c: Any, **_: Any
        ) -> None:
            counter["fired"] += 1
            self.declare(Seating(seat1=seat2, name1=n2, name2=g2, seat2=seat2 + 1, id=c, pid=id, path_done="no"))
            self.declare(Path(id=c, name=g2, seat=seat2 + 1))
            self.declare(Chosen(id=id, name=g2, hobby=h1))
            self.modify(f5, c=c + 1)
            self.modify(f1, state="make_path")

        @Rule(
            Context(state="make_path"),
            Seating(id=MATCH.id, pid=MATCH.pid, path_done="no"),
            Path(id=MATCH.pid, name=MATCH.n1, seat=MATCH.s),
            NOT(Path(id=MATCH.id, name=MATCH.n1)),
        )
        def make_path(self, id: Any, n1: Any, s: Any, **_: Any) -> None:
            counter["fired"] += 1
            self.declare(Path(id=id, name=n1, seat=s))

        @Rule(AS.f1 << Context(state="make_path"), AS.f2 << Seating(path_done="no"))
        def path_done(self, f1: Any, f2: Any) -> None:
            counter["fired"] += 1
            self.modify(f2, path_done="yes")
            self.modify(f1, state="check_done")

        @Rule(AS.f1 << Context(state="check_done"), LastSeat(seat=MATCH.l_seat), Seating(seat2=MATCH.l_seat))
        def are_we_done(self, f1: Any, **_: Any) -> None:
            counter["fired"] += 1
            self.modify(f1, state="print_results")

        @Rule(AS.f1 << Context(state="check_done"))
        def continue_(self, f1: Any) -> None:
            counter["fired"] += 1
            self.modify(f1, state="assign_seats")

        @Rule(
            Context(state="print_results"),
            Seating(id=MATCH.id, seat2=MATCH.s2),
            LastSeat(seat=MATCH.s2),
            AS.f4 << Path(id=MATCH.id, name=MATCH.n, seat=MATCH.s),
        )
        def print_results(self, f4: Any, n: Any, s: Any, **_: Any) -> None:
            counter["fired"] += 1
            self.retract(f4)
            printed.append((s, n))

        @Rule(Context(state="print_results"))
        def all_done(self) -> None:
            counter["fired"] += 1
            self.halt()

    eng = Manners()
    eng.reset()
    for g in guests:
        eng.declare(Guest(**g))
    eng.declare(LastSeat(seat=n))
    eng.declare(Count(c=1))
    eng.declare(Context(state="start"))
    eng.run()
    return counter["fired"], printed

"""The Rete core: joins, negation, tests, agenda order, refraction, retraction and incremental cost."""

from __future__ import annotations

import random
from typing import Any

import pytest
from continuous.engine.rete import Activation, Engine, Ne, Pattern, Test, V


def collector(eng: Engine, log: list[Any], name: str | None = None) -> Any:
    def action(act: Activation) -> None:
        log.append((name or act.rule.name, dict(act.bindings)))

    return action


def test_join_on_shared_variable_and_constants() -> None:
    eng = Engine()
    log: list[Any] = []
    eng.add_rule(
        "owner",
        [
            Pattern("service", {"name": V("s"), "kind": "business"}),
            Pattern("team", {"service": V("s"), "name": V("t")}),
        ],
        collector(eng, log),
    )
    eng.assert_fact("service", {"name": "billing", "kind": "business"})
    eng.assert_fact("service", {"name": "metrics", "kind": "utility"})
    eng.assert_fact("team", {"service": "billing", "name": "payments"})
    eng.assert_fact("team", {"service": "metrics", "name": "ops"})
    eng.assert_fact("team", {"service": "search", "name": "discovery"})
    assert eng.run() == 1
    assert log == [("owner", {"s": "billing", "t": "payments"})]


def test_duplicate_fact_is_refused_and_missing_field_never_matches() -> None:
    eng = Engine()
    log: list[Any] = []
    eng.add_rule("r", [Pattern("a", {"x": V("x")})], collector(eng, log))
    assert eng.assert_fact("a", {"x": 1}) is not None
    assert eng.assert_fact("a", {"x": 1}) is None
    eng.assert_fact("a", {"y": 2})
    assert eng.run() == 1
    assert len(eng.facts("a")) == 2


def test_repeated_variable_in_one_pattern_means_equality() -> None:
    eng = Engine()
    log: list[Any] = []
    eng.add_rule("loop", [Pattern("edge", {"from": V("x"), "to": V("x")})], collector(eng, log))
    eng.assert_fact("edge", {"from": 1, "to": 2})
    eng.assert_fact("edge", {"from": 3, "to": 3})
    eng.run()
    assert log == [("loop", {"x": 3})]


def test_not_blocks_when_a_fact_arrives_later_and_unblocks_on_retraction() -> None:
    eng = Engine()
    log: list[Any] = []
    eng.add_rule(
        "untyped",
        [Pattern("table", {"name": V("t")}), Pattern("types", {"table": V("t")}, negated=True)],
        collector(eng, log),
    )
    eng.assert_fact("table", {"name": "users"})
    eng.assert_fact("table", {"name": "orders"})
    assert len(eng.agenda()) == 2
    blocker = eng.assert_fact("types", {"table": "users"})
    assert [a.bindings for a in eng.agenda()] == [{"t": "orders"}]
    assert blocker is not None
    eng.retract(blocker)
    assert sorted(a["t"] for a in eng.agenda()) == ["orders", "users"]
    eng.assert_fact("types", {"table": "users"})
    eng.assert_fact("types", {"table": "users", "extra": 1})
    assert eng.run() == 1
    assert log == [("untyped", {"t": "orders"})]


def test_not_with_two_blockers_needs_both_gone() -> None:
    eng = Engine()
    log: list[Any] = []
    eng.add_rule("r", [Pattern("a", {"k": V("k")}), Pattern("b", {"k": V("k")}, negated=True)], collector(eng, log))
    eng.assert_fact("a", {"k": 1})
    b1 = eng.assert_fact("b", {"k": 1, "n": 1})
    b2 = eng.assert_fact("b", {"k": 1, "n": 2})
    assert b1 and b2
    eng.retract(b1)
    assert eng.agenda() == []
    eng.retract(b2)
    assert len(eng.agenda()) == 1


def test_not_with_test_on_bound_variables() -> None:
    # "the oldest person": nobody is older
    eng = Engine()
    log: list[Any] = []
    eng.add_rule(
        "oldest",
        [
            Pattern("person", {"name": V("n"), "age": V("a")}),
            Pattern("person", {"age": V("b")}, negated=True, test=lambda b: b["b"] > b["a"]),
        ],
        collector(eng, log),
    )
    for name, age in [("ann", 30), ("bob", 50), ("cy", 40)]:
        eng.assert_fact("person", {"name": name, "age": age})
    assert [a["n"] for a in eng.agenda()] == ["bob"]
    bob = eng.find("person", {"name": "bob", "age": 50})
    assert bob is not None
    eng.retract(bob)
    assert [a["n"] for a in eng.agenda()] == ["cy"]


def test_inequality_and_test_conditions() -> None:
    eng = Engine()
    log: list[Any] = []
    eng.add_rule(
        "pair",
        [
            Pattern("guest", {"name": V("a"), "sex": V("s")}),
            Pattern("guest", {"name": V("b"), "sex": ~V("s")}),
            Test(lambda b: b["a"] < b["b"]),
        ],
        collector(eng, log),
    )
    eng.add_rule(
        "not-bob",
        [Pattern("guest", {"name": Ne("bob")})],
        lambda act: log.append(("not-bob", act.facts[0]["name"])),
    )
    for name, sex in [("ann", "f"), ("bob", "m"), ("cat", "f")]:
        eng.assert_fact("guest", {"name": name, "sex": sex})
    eng.run()
    pairs = sorted((b["a"], b["b"]) for r, b in log if r == "pair")
    assert pairs == [("ann", "bob"), ("bob", "cat")]
    assert sorted(name for r, name in log if r == "not-bob") == ["ann", "cat"]


def test_salience_then_recency_depth_and_breadth() -> None:
    for strategy, expected in [("depth", ["high", "c", "b", "a"]), ("breadth", ["high", "a", "b", "c"])]:
        eng = Engine(strategy=strategy)
        order: list[str] = []
        eng.add_rule("low", [Pattern("item", {"name": V("n")})], lambda act, order=order: order.append(act["n"]))
        eng.add_rule("hi", [Pattern("urgent", {})], lambda act, order=order: order.append("high"), salience=10)
        for name in ["a", "b", "c"]:
            eng.assert_fact("item", {"name": name})
        eng.assert_fact("urgent", {})
        eng.run()
        assert order == expected, strategy


def test_refraction_fires_each_activation_once() -> None:
    eng = Engine()
    count = {"n": 0}

    def touch(act: Activation) -> None:
        count["n"] += 1
        eng.assert_fact("noise", {"i": count["n"]})  # changes memory but not this rule's match

    eng.add_rule("r", [Pattern("a", {"x": V("x")})], touch)
    eng.assert_fact("a", {"x": 1})
    assert eng.run() == 1
    assert eng.run() == 0
    # a retracted and re-asserted fact is a new match and fires again
    eng.retract(eng.facts("a")[0])
    eng.assert_fact("a", {"x": 1})
    assert eng.run() == 1


def test_retraction_removes_dependent_activations_and_modify_reactivates() -> None:
    eng = Engine()
    fired: list[Any] = []
    eng.add_rule(
        "r",
        [Pattern("ctx", {"state": "go"}), Pattern("job", {"id": V("i")})],
        lambda act: fired.append(act["i"]),
    )
    ctx = eng.assert_fact("ctx", {"state": "go"})
    for i in range(5):
        eng.assert_fact("job", {"id": i})
    assert len(eng.agenda()) == 5
    assert ctx is not None
    stopped = eng.modify(ctx, state="stop")
    assert eng.agenda() == []
    assert stopped is not None
    eng.modify(stopped, state="go")
    assert eng.run(limit=2) == 2
    assert eng.run() == 3
    assert sorted(fired) == [0, 1, 2, 3, 4]


def test_retraction_of_one_of_many_keeps_the_rest() -> None:
    eng = Engine()
    eng.add_rule("r", [Pattern("ctx", {}), Pattern("job", {"id": V("i")})], lambda act: None)
    c1 = eng.assert_fact("ctx", {"n": 1})
    eng.assert_fact("ctx", {"n": 2})
    jobs = [eng.assert_fact("job", {"id": i}) for i in range(3)]
    assert len(eng.agenda()) == 6
    assert c1 is not None and jobs[0] is not None
    eng.retract(c1)
    assert len(eng.agenda()) == 3
    eng.retract(jobs[0])
    assert len(eng.agenda()) == 2
    assert not eng.retract(c1)


def test_rule_added_after_facts_sees_them() -> None:
    eng = Engine()
    eng.assert_fact("a", {"x": 1})
    eng.assert_fact("b", {"x": 1})
    seen: list[Any] = []
    eng.add_rule("late", [Pattern("a", {"x": V("x")}), Pattern("b", {"x": V("x")})], lambda act: seen.append(1))
    assert eng.run() == 1


def test_rule_with_only_negation_uses_the_initial_fact() -> None:
    eng = Engine()
    seen: list[Any] = []
    eng.add_rule("empty", [Pattern("task", {}, negated=True)], lambda act: seen.append(1))
    assert len(eng.agenda()) == 1
    t = eng.assert_fact("task", {"id": 1})
    assert eng.agenda() == []
    assert t is not None
    eng.retract(t)
    assert eng.run() == 1
    assert eng.facts() == []


def test_halt_stops_the_run() -> None:
    eng = Engine()
    eng.add_rule("r", [Pattern("a", {"x": V("x")})], lambda act: eng.halt() if act["x"] == 2 else None)
    for i in range(4):
        eng.assert_fact("a", {"x": i})
    assert eng.run() == 2  # depth: 3, then 2 halts


def test_adding_a_fact_touches_only_related_memories() -> None:
    def work(noise: int) -> int:
        eng = Engine(stats=True)
        eng.add_rule(
            "join",
            [
                Pattern("edge", {"from": V("x"), "to": V("y")}),
                Pattern("path", {"from": V("y"), "to": V("z")}),
            ],
            lambda act: None,
        )
        eng.add_rule(
            "other",
            [Pattern("service", {"name": V("s")}), Pattern("port", {"service": V("s")})],
            lambda act: None,
        )
        for i in range(noise):
            eng.assert_fact("service", {"name": f"s{i}"})
            eng.assert_fact("port", {"service": f"s{i}", "n": i})
            eng.assert_fact("edge", {"from": i + 1000, "to": i + 2000})
        eng.assert_fact("edge", {"from": 1, "to": 2})
        before = eng.join_ops
        eng.assert_fact("path", {"from": 2, "to": 3})
        return eng.join_ops - before

    small, large = work(10), work(2000)
    assert small == large
    assert small <= 4


def test_join_cost_follows_the_matching_bucket_not_the_memory() -> None:
    eng = Engine(stats=True)
    eng.add_rule("join", [Pattern("a", {"k": V("k"), "i": V("i")}), Pattern("b", {"k": V("k")})], lambda act: None)
    for i in range(1000):
        eng.assert_fact("a", {"k": i % 100, "i": i})
    before = eng.join_ops
    eng.assert_fact("b", {"k": 7})
    assert eng.join_ops - before <= 1 + 10 * 2
    assert len(eng.agenda()) == 10


def _closure_engine(edges: list[tuple[int, int]], strategy: str) -> Engine:
    eng = Engine(strategy=strategy)
    eng.add_rule(
        "base",
        [Pattern("edge", {"from": V("x"), "to": V("y")})],
        lambda a: eng.assert_fact("path", {"from": a["x"], "to": a["y"]}),
    )
    eng.add_rule(
        "step",
        [Pattern("edge", {"from": V("x"), "to": V("y")}), Pattern("path", {"from": V("y"), "to": V("z")})],
        lambda a: eng.assert_fact("path", {"from": a["x"], "to": a["z"]}),
    )
    for a, b in edges:
        eng.assert_fact("edge", {"from": a, "to": b})
    return eng


def _plain_closure(edges: list[tuple[int, int]], n: int) -> set[tuple[int, int]]:
    succ: dict[int, set[int]] = {i: set() for i in range(n)}
    for a, b in edges:
        succ[a].add(b)
    reach: dict[int, set[int]] = {}
    for i in reversed(range(n)):
        r = set(succ[i])
        for j in succ[i]:
            r |= reach[j]
        reach[i] = r
    return {(i, j) for i, r in reach.items() for j in r}


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("strategy", ["depth", "breadth"])
def test_transitive_closure_matches_plain_python(seed: int, strategy: str) -> None:
    rng = random.Random(seed)
    n = 60
    edges = sorted({(i, j) for i in range(n) for j in rng.sample(range(i + 1, n), min(n - i - 1, rng.randint(0, 3)))})
    eng = _closure_engine(edges, strategy)
    eng.run()
    got = {(w["from"], w["to"]) for w in eng.facts("path")}
    assert got == _plain_closure(edges, n)
    # retracting an edge and re-running keeps derived paths (no truth maintenance), but the rule network stays
    # consistent: a new edge still derives through the existing paths
    eng.assert_fact("edge", {"from": n, "to": 0})
    eng.run()
    assert {(w["from"], w["to"]) for w in eng.facts("path") if w["from"] == n} == {(n, 0)} | {
        (n, j) for (i, j) in got if i == 0
    }


def test_retract_every_fact_leaves_memories_empty() -> None:
    rng = random.Random(7)
    eng = Engine()
    eng.add_rule(
        "r",
        [
            Pattern("a", {"k": V("k")}),
            Pattern("b", {"k": V("k"), "v": V("v")}),
            Pattern("c", {"v": V("v")}, negated=True),
        ],
        lambda act: None,
    )
    facts = []
    for _ in range(300):
        kind = rng.choice("abc")
        fields = (
            {"k": rng.randint(0, 5)}
            if kind == "a"
            else ({"k": rng.randint(0, 5), "v": rng.randint(0, 5)} if kind == "b" else {"v": rng.randint(0, 5)})
        )
        f = eng.assert_fact(kind, fields)
        if f is not None:
            facts.append(f)
    rng.shuffle(facts)
    for f in facts:
        eng.retract(f)
    assert eng.agenda() == []
    rule = eng.rules["r"]
    assert all(not left for left, _ in rule.memories[1:])
    assert all(not right for _, right in rule.memories)


@pytest.mark.parametrize("seed", range(4))
def test_agenda_equals_brute_force_matches_after_random_changes(seed: int) -> None:
    """Differential check: after any sequence of asserts and retracts, the pending activations are exactly the
    matches a brute-force evaluation of the conditions finds."""
    rng = random.Random(seed)
    eng = Engine()
    eng.add_rule(
        "r",
        [
            Pattern("a", {"k": V("k"), "s": V("s")}),
            Pattern("b", {"k": V("k"), "v": V("v"), "s": ~V("s")}),
            Pattern("c", {"v": V("v")}, negated=True),
            Test(lambda b: b["v"] != 3),
        ],
        lambda act: None,
    )
    live: list[Any] = []
    for _ in range(400):
        if live and rng.random() < 0.35:
            w = live.pop(rng.randrange(len(live)))
            assert eng.retract(w)
        else:
            kind = rng.choice("abc")
            if kind == "a":
                fields = {"k": rng.randint(0, 4), "s": rng.choice("mf")}
            elif kind == "b":
                fields = {"k": rng.randint(0, 4), "v": rng.randint(0, 4), "s": rng.choice("mf")}
            else:
                fields = {"v": rng.randint(0, 4)}
            w = eng.assert_fact(kind, fields)
            if w is not None:
                live.append(w)
        facts = eng.facts()
        expected = {
            (a.tag, b.tag)
            for a in facts
            if a.type == "a"
            for b in facts
            if b.type == "b"
            if a["k"] == b["k"]
            and a["s"] != b["s"]
            and b["v"] != 3
            and not any(c.type == "c" and c["v"] == b["v"] for c in facts)
        }
        got = {(act.facts[0].tag, act.facts[1].tag) for act in eng.agenda()}
        assert got == expected


def test_failing_action_propagates_and_leaves_the_engine_usable() -> None:
    import gc

    eng = Engine()

    def boom(act: Activation) -> None:
        eng.assert_fact("seen", {"x": act["x"]})
        raise RuntimeError("action failed")

    seen: list[Any] = []
    eng.add_rule("boom", [Pattern("a", {"x": V("x")})], boom)
    eng.add_rule("after", [Pattern("seen", {"x": V("x")})], lambda act: seen.append(act["x"]), salience=5)
    eng.assert_fact("a", {"x": 1})
    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="action failed"):
        eng.run()
    assert gc.isenabled()
    # the fact the failing action asserted was propagated, and the engine keeps working
    assert eng.run() == 1
    assert seen == [1]


def test_rules_matched_by_the_same_fact_fire_in_definition_order_under_depth() -> None:
    eng = Engine()
    order: list[str] = []
    eng.add_rule("first", [Pattern("ctx", {"state": "go"})], lambda act: order.append("first"))
    eng.add_rule("second", [Pattern("ctx", {})], lambda act: order.append("second"))
    eng.add_rule("third", [Pattern("ctx", {"state": "go"})], lambda act: order.append("third"))
    eng.assert_fact("ctx", {"state": "go"})
    eng.run()
    assert order == ["first", "second", "third"]


def test_reset_empties_working_memory_and_rules_keep_working() -> None:
    eng = Engine()
    eng.add_rule("idle", [Pattern("job", {}, negated=True)], lambda act: None)
    eng.add_rule("r", [Pattern("job", {"id": V("i")})], lambda act: None)
    for i in range(3):
        eng.assert_fact("job", {"id": i})
    assert [a.rule.name for a in eng.agenda()] == ["r", "r", "r"]
    eng.reset()
    assert len(eng) == 0
    assert [a.rule.name for a in eng.agenda()] == ["idle"]


def test_fact_asserted_and_retracted_in_one_action_never_matches() -> None:
    eng = Engine(stats=True)
    seen: list[Any] = []
    eng.add_rule("temp", [Pattern("go", {})], lambda act: eng.retract(eng.assert_fact("tmp", {"n": 1})))
    eng.add_rule("sees-tmp", [Pattern("tmp", {"n": V("n")})], lambda act: seen.append(act["n"]))
    eng.assert_fact("go", {})
    assert eng.run() == 1
    assert seen == [] and eng.facts("tmp") == []


def test_activation_facts_are_the_positive_matches_only() -> None:
    eng = Engine()
    got: list[Any] = []
    eng.add_rule(
        "r",
        [Pattern("x", {}, negated=True), Pattern("a", {"n": V("n")})],
        lambda act: got.append([f.type for f in act.facts]),
    )
    eng.assert_fact("a", {"n": 1})
    eng.run()
    assert got == [["a"]]

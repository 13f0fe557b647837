"""The vocabulary of the Rete engine: variables, patterns, tests, facts (`WME`), rules and activations."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from continuous.engine.rete.network import _Terminal

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
        self.initial = False  # matched against the internal initial fact (first condition not a positive pattern)
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


def _tuple_expr(parts: list[str]) -> str:
    if not parts:
        return "()"
    if len(parts) == 1:
        return parts[0]
    return "(" + ", ".join(parts) + ",)"


def _compile(src: str, env: dict[str, Any] | None = None) -> Any:
    return eval(src, dict(env or {}))

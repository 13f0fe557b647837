"""Facts about a repository, as discovery finds them and scenarios provide them.

A `FactSet` answers "does a fact matching this partial pattern hold?" in O(1) per pattern via an index on
(type, field, value); the Rete network in `continuous.engine.rete` is the incremental matcher for rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping

from continuous.dsl.model import Model, Scalar
from pydantic import Field


class Fact(Model):
    type: str
    fields: dict[str, Scalar] = Field(default_factory=dict)
    source: str | None = None

    def key(self) -> tuple[str, tuple[tuple[str, Scalar], ...]]:
        return (self.type, tuple(sorted(self.fields.items())))

    def to_json(self) -> dict[str, object]:
        return {"type": self.type, "fields": dict(self.fields), "source": self.source}


class FactSet:
    """A de-duplicated set of facts with an index for partial-match lookups."""

    def __init__(self, facts: Iterable[Fact] = ()) -> None:
        self._facts: dict[tuple[str, tuple[tuple[str, Scalar], ...]], Fact] = {}
        self._by_type: dict[str, set[tuple[str, tuple[tuple[str, Scalar], ...]]]] = defaultdict(set)
        self._by_value: dict[tuple[str, str, Scalar], set[tuple[str, tuple[tuple[str, Scalar], ...]]]] = defaultdict(
            set
        )
        for f in facts:
            self.add(f)

    def add(self, fact: Fact) -> bool:
        k = fact.key()
        if k in self._facts:
            return False
        self._facts[k] = fact
        self._by_type[fact.type].add(k)
        for name, value in fact.fields.items():
            self._by_value[(fact.type, name, _norm(value))].add(k)
        return True

    def remove(self, fact: Fact) -> bool:
        k = fact.key()
        if k not in self._facts:
            return False
        del self._facts[k]
        self._by_type[fact.type].discard(k)
        for name, value in fact.fields.items():
            self._by_value[(fact.type, name, _norm(value))].discard(k)
        return True

    def match(self, fact_type: str, fields: Mapping[str, Scalar] | None = None) -> list[Fact]:
        """Facts of `fact_type` whose fields include all of `fields` (string comparison is exact)."""
        fields = dict(fields or {})
        if not fields:
            return [self._facts[k] for k in self._by_type.get(fact_type, ())]
        candidates: set[tuple[str, tuple[tuple[str, Scalar], ...]]] | None = None
        for name, value in fields.items():
            keys = self._by_value.get((fact_type, name, _norm(value)), set())
            candidates = set(keys) if candidates is None else candidates & keys
            if not candidates:
                return []
        return [self._facts[k] for k in candidates or ()]

    def holds(self, fact_type: str, fields: Mapping[str, Scalar] | None = None) -> bool:
        return bool(self.match(fact_type, fields))

    def types(self) -> list[str]:
        return sorted(t for t, keys in self._by_type.items() if keys)

    def __iter__(self) -> Iterator[Fact]:
        return iter(list(self._facts.values()))

    def __len__(self) -> int:
        return len(self._facts)


def _norm(value: Scalar) -> Scalar:
    # "3000" and 3000 are the same port whether it came from JSON or a regex capture.
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    return value


class FactQuery:
    """Read-only view of the facts that templates see as `facts`.

    Scenarios learn from the repository they run in (its test runner, a registry's shape, a service's real exports)
    through discovered facts rather than Python literals, so templates and paths may ask questions such as
    `facts.first('test_runner', package=app)`. The set is built on first use: most templates never ask, and
    discovery on a big monorepo is not free. Only plain data leaves this object, so the sandbox sees no internals.
    """

    def __init__(self, load: Callable[[], FactSet] | None = None) -> None:
        self._load = load
        self._set: FactSet | None = None if load is not None else FactSet()

    def _facts(self) -> FactSet:
        if self._set is None:
            assert self._load is not None
            self._set = self._load()
        return self._set

    def all(self, fact_type: str, **fields: Scalar) -> list[dict[str, Scalar]]:
        """Fields of every matching fact, in a stable order (sorted by their items)."""
        found = [dict(f.fields) for f in self._facts().match(fact_type, fields)]
        return sorted(found, key=lambda d: sorted((k, str(v)) for k, v in d.items()))

    def first(self, fact_type: str, **fields: Scalar) -> dict[str, Scalar] | None:
        found = self.all(fact_type, **fields)
        return found[0] if found else None

    def has(self, fact_type: str, **fields: Scalar) -> bool:
        return self._facts().holds(fact_type, fields)

    def values(self, fact_type: str, field: str, **fields: Scalar) -> list[Scalar]:
        """The distinct values of one field over the matching facts, sorted."""
        out = {f[field] for f in self.all(fact_type, **fields) if field in f}
        return sorted(out, key=str)


class LazyFactSet:
    """A FactSet loaded on first use, that records additions made before it was loaded."""

    def __init__(self, load: Callable[[], Iterable[Fact]]) -> None:
        self._load = load
        self._set: FactSet | None = None
        self._pending: list[Fact] = []

    def get(self) -> FactSet:
        if self._set is None:
            self._set = FactSet(self._load())
            for f in self._pending:
                self._set.add(f)
            self._pending = []
        return self._set

    def add(self, fact: Fact) -> None:
        if self._set is None:
            self._pending.append(fact)
        else:
            self._set.add(fact)

    def query(self) -> FactQuery:
        return FactQuery(self.get)

"""Facts about a repository, as discovery finds them and scenarios provide them.

A `FactSet` answers "does a fact matching this partial pattern hold?" in O(1) per pattern via an index on
(type, field, value); the Rete network in `continuous.engine.rete` is the incremental matcher for rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping

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
        self._by_value: dict[tuple[str, str, Scalar], set[tuple[str, tuple[tuple[str, Scalar], ...]]]] = (
            defaultdict(set)
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

"""A repository's naming conventions as the planner reads them: the defaults of `planner/data/conventions.toml`,
optionally overridden key by key (a `[conventions]` table of `.continuous.toml`, once the configuration carries
one).

This is the single place the planner learns what a repository assumes: the app name prefix, the table-prefix
domains, the words that only repeat a kind ("-service"), which parameters name existing objects, the order of
layers and where archived things go. Nothing in planner/*.py spells one of these out.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DATA = Path(__file__).resolve().parent / "data" / "conventions.toml"


class Kinds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    object_kinds: tuple[str, ...]
    aliases: dict[str, str]
    parents: frozenset[str]
    head_order: tuple[str, ...] = ()
    object_words: dict[str, str] = Field(default_factory=dict)
    words: dict[str, tuple[str, ...]]


class ParamRoles(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    references: dict[str, str]
    commands: frozenset[str]
    routes: frozenset[str]
    names: frozenset[str]
    parts: frozenset[str] = frozenset()
    named_by_purpose: frozenset[str] = frozenset()


class Archive(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    app_folder: str
    markers: tuple[str, ...]
    origins: dict[str, str] = Field(default_factory=dict)


class Conventions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    app_prefix: str = ""
    table_domains: tuple[str, ...] = ()
    kind_suffixes: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    kinds: Kinds
    layers: dict[str, tuple[str, ...]]
    params: ParamRoles
    archive: Archive
    folders: dict[str, str] = Field(default_factory=dict)

    def kind(self, name: str) -> str:
        """The kind a fact type or parameter name stands for (`server` → proxy, `domain` → pipeline)."""
        return self.kinds.aliases.get(name, name)

    def layer_rank(self, object_type: str) -> int:
        order = self.layers.get("order", ())
        return order.index(object_type) if object_type in order else len(order)


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


@cache
def _defaults() -> dict[str, Any]:
    return tomllib.loads(DATA.read_text(encoding="utf-8"))


def load(override: Mapping[str, Any] | None = None) -> Conventions:
    """The defaults, with `override` (same keys as the data file) laid over them."""
    data = _merge(_defaults(), override) if override else _defaults()
    return Conventions.model_validate(data)


@cache
def default() -> Conventions:
    return load()

"""Moved to `continuous.dsl.cache` (the rule-base cache belongs to the DSL); kept so planner code that still
imports it works. Load a repository's rule base with `continuous.dsl.loader.load_config_rule_base(config,
cached=True)`."""

from __future__ import annotations

from continuous.dsl.cache import load, load_sources

__all__ = ["load", "load_sources"]

"""Sandboxed Jinja2 rendering shared by every part that expands DSL templates.

StrictUndefined turns a misspelt variable into an error instead of an empty string, and the sandbox keeps a template
from reaching Python internals. The filters are the naming conventions of the monorepo (snake, kebab, Pascal, camel).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from continuous.common.errors import UserError

if TYPE_CHECKING:
    from continuous.dsl.model import Scenario
    from jinja2.sandbox import SandboxedEnvironment

# Names every template may use besides the scenario's parameters.
# `facts` is a read-only query over the repository's facts (engine.facts.FactQuery).
BUILTIN_VARIABLES = frozenset({"timestamp", "date", "year", "scenario_id", "worktree_name", "facts"})
TEMPLATE_EXPR = re.compile(r"\{\{|\{%")


def words(text: str) -> list[str]:
    """Split any identifier style into lowercase words: userPreferences, user-preferences, UserPreferences."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(text))
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+", text) if w]


def snake(text: str) -> str:
    return "_".join(words(text))


def kebab(text: str) -> str:
    return "-".join(words(text))


def pascal(text: str) -> str:
    return "".join(w.capitalize() for w in words(text))


def camel(text: str) -> str:
    p = pascal(text)
    return p[:1].lower() + p[1:]


def title(text: str) -> str:
    return " ".join(w.capitalize() for w in words(text))


def upper_snake(text: str) -> str:
    return snake(text).upper()


def singular(text: str) -> str:
    """English singular of the last word, good enough for table → row type names."""
    if text.endswith("ies"):
        return text[:-3] + "y"
    if text.endswith(("sses", "xes", "ches", "shes")):
        return text[:-2]
    if text.endswith("s") and not text.endswith("ss"):
        return text[:-1]
    return text


FILTERS = {
    "snake": snake,
    "kebab": kebab,
    "pascal": pascal,
    "camel": camel,
    "title": title,
    "upper_snake": upper_snake,
    "singular": singular,
}


class TemplateFailure(Exception):
    """`{{ fail("...") }}` in a template: the repository lacks something the scenario needs, said in words."""


def _fail(message: str) -> str:
    raise TemplateFailure(message)


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.globals["fail"] = _fail
    return env


def builtin_context(now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    return {
        "timestamp": now.strftime("%Y%m%d%H%M%S"),
        "date": now.strftime("%Y-%m-%d"),
        "year": now.strftime("%Y"),
    }


@lru_cache(maxsize=4096)
def _compiled(template: str) -> Any:
    # compiling is ~1 ms; the planner and the resolver render the same few fact templates thousands of times
    return environment().from_string(template)


def render_string(template: str, context: Mapping[str, Any], *, where: str = "template") -> str:
    """Render a DSL string (a path, an argument, a fact field). Plain strings come back unchanged, fast."""
    if not TEMPLATE_EXPR.search(template):
        return template
    from jinja2 import TemplateError

    try:
        return _compiled(template).render(**context)
    except TemplateFailure as exc:
        raise UserError(f"{where}: {exc}") from None
    except TemplateError as exc:
        raise UserError(f"cannot render {where} {template!r}: {exc}") from None


def template_path(scenario: Scenario, name: str) -> Path:
    """Templates live in `templates/` beside the DSL file that declares the scenario."""
    return Path(scenario.source).resolve().parent / "templates" / name


def render_file(path: Path, context: Mapping[str, Any]) -> str:
    from jinja2 import TemplateError

    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"template {path} does not exist") from None
    try:
        return environment().from_string(source).render(**context)
    except TemplateFailure as exc:
        raise UserError(f"{path.name}: {exc}") from None
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f"{path}:{line}" if line else str(path)
        raise UserError(f"{where}: cannot render template: {exc}") from None


def referenced_variables(source: str) -> set[str]:
    """Free variables of a template, for static validation (no rendering)."""
    from jinja2 import meta

    ast = environment().parse(source)
    return set(meta.find_undeclared_variables(ast))

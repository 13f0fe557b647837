"""Sandboxed Jinja2 rendering shared by every part that expands DSL templates.

StrictUndefined turns a misspelt variable into an error instead of an empty string, and the sandbox keeps a template
from reaching Python internals. The filters are the naming conventions of the monorepo (snake, kebab, Pascal, camel).

Template files come only from the scenario's template folders (`templates/` beside its DSL file): a name is a
relative path without `..`, and what it resolves to (symbolic links followed) must stay inside the folder. The same
holds for `{% include %}`, `{% import %}` and `{% extends %}`, whose loader only answers inside a file render.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from continuous.common.errors import UserError
from continuous.dsl.escape import ESCAPE_FILTERS

if TYPE_CHECKING:
    from continuous.dsl.model import Scenario
    from jinja2.sandbox import SandboxedEnvironment

# Names every template may use besides the scenario's parameters.
# `facts` is a read-only query over the repository's facts (engine.facts.FactQuery); `note("...")` adds a line to
# the dry-run's notes (what the scenario adapted to, what the repository lacks) and renders as nothing.
BUILTIN_VARIABLES = frozenset(
    {"timestamp", "date", "year", "scenario_id", "worktree_name", "facts", "note", "conventions"}
)
TEMPLATE_EXPR = re.compile(r"\{\{|\{%")
TOO_DEEP = "brackets are nested too deeply"


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
    """The singular of the last word, for table → row type names (`doc_statuses` → `doc_status`)."""
    from continuous.common.words import singular as singular_of

    return singular_of(text)


def plural(text: str) -> str:
    """The plural of the last word (`doc_status` → `doc_statuses`)."""
    from continuous.common.words import plural as plural_of

    return plural_of(text)


def under(path: str, folder: str, index: int = 0) -> str:
    """The `index`-th folder of `path` below `folder` (`apps/web-x/src/a.tsx | under("apps")` → "web-x"): what
    discovery reads from a path whatever the depth of the configured folder."""
    head = folder.strip("/") + "/"
    if not path.startswith(head):
        return ""
    parts = path[len(head) :].split("/")
    return parts[index] if index < len(parts) else ""


def relpath(target: str, start: str) -> str:
    """`target` relative to the folder `start`, both relative to the repository root, in posix form
    (`"packages/shared" | relpath("apps/dhg-x")` → "../../packages/shared")."""
    import posixpath

    return posixpath.relpath(target.strip("/") or ".", start.strip("/") or ".")


def import_path(target: str, start: str) -> str:
    """A TypeScript import of the file `target` from the folder `start`: relative, without its extension."""
    rel = re.sub(r"\.(d\.)?tsx?$", "", relpath(target, start))
    return rel if rel.startswith(".") else "./" + rel


def name_like(neighbours: Sequence[Mapping[str, Any]], new: str, default: str, *, folder: str = "folder") -> str:
    """The package name a new folder gets when it follows its neighbours: each neighbour's name with its folder
    (in any case) replaced by `{}` gives a pattern, and the most common pattern wins; ties go to the shortest
    (`@acme/cli-pipeline-email`, `@acme/cli-pipeline-media` → `@acme/cli-pipeline-<new>`). Without a neighbour
    whose name contains its folder, `default`."""
    from collections import Counter

    patterns: Counter[str] = Counter()
    for item in neighbours:
        name, where = str(item.get("name") or ""), str(item.get(folder) or "")
        for form in dict.fromkeys((where, kebab(where), snake(where))):
            if form and form in name:
                patterns[name.replace(form, "{}", 1)] += 1
                break
    if not patterns:
        return default
    best = max(patterns, key=lambda pat: (patterns[pat], -len(pat), pat))
    return best.replace("{}", new)


FILTERS = {
    **ESCAPE_FILTERS,
    "name_like": name_like,
    "under": under,
    "relpath": relpath,
    "import_path": import_path,
    "snake": snake,
    "kebab": kebab,
    "pascal": pascal,
    "camel": camel,
    "title": title,
    "upper_snake": upper_snake,
    "singular": singular,
    "plural": plural,
    "re_escape": re.escape,
}


class TemplateFailure(Exception):
    """`{{ fail("...") }}` in a template: the repository lacks something the scenario needs, said in words."""


def _fail(message: str) -> str:
    raise TemplateFailure(message)


def with_conventions(context: Mapping[str, Any]) -> Mapping[str, Any]:
    """Every DSL string and template sees the repository's layout as `conventions` (`.continuous.toml`)."""
    if "conventions" in context:
        return context
    from continuous.common.config import template_conventions

    return {**context, "conventions": template_conventions()}


# The folders `{% include %}` may read from while a template file renders (none while a DSL string renders).
_FOLDERS: ContextVar[tuple[Path, ...]] = ContextVar("continuous_template_folders", default=())
TEMPLATE_NAME_HINT = 'name a file under the scenario\'s templates/ folder, e.g. render "pages/page.tsx.j2"'


def template_name_problem(name: str) -> str | None:
    """What makes `name` something other than a relative path inside a template folder, or None."""
    if not name or not name.strip():
        return "is empty"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "contains a control character"
    if "\\" in name:
        return "uses a backslash; separate folders with /"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "is absolute; template names are relative to the templates/ folder"
    parts = name.split("/")
    if ".." in parts:
        return "leaves the templates/ folder (..)"
    if any(p in ("", ".") for p in parts):
        return "has an empty or . part; write a plain relative path"
    return None


def locate_template(folders: Sequence[Path], name: str) -> Path:
    """The file `name` stands for in the first of `folders` that has it; UserError when the name is not a plain
    relative path or resolves (through a symbolic link) outside its folder. A missing file gives the path it
    would have in the first folder."""
    problem = template_name_problem(name)
    if problem:
        raise UserError(f"template name {name!r} {problem}", hint=TEMPLATE_NAME_HINT)
    for folder in folders:
        candidate = folder / name
        try:
            real_folder = folder.resolve()
            resolved = candidate.resolve()
        except (OSError, RuntimeError) as exc:
            raise UserError(f"template {name!r} cannot be resolved: {exc}") from None
        if not resolved.is_relative_to(real_folder) or resolved == real_folder:
            raise UserError(
                f"template {name!r} resolves outside the template folder {folder} (to {resolved})",
                hint="a template must be a file inside the folder, not a symbolic link out of it",
            )
        if resolved.is_file():
            return resolved
        if resolved.exists():
            raise UserError(f"template {name!r} in {folder} is not a file", hint=TEMPLATE_NAME_HINT)
    return (folders[0] / name) if folders else Path(name)


def _confined_loader() -> Any:
    from jinja2 import BaseLoader, TemplateNotFound

    class ConfinedLoader(BaseLoader):
        """`{% include %}` and friends: the rendering file's template folders, nothing else."""

        def get_source(self, environment: Any, template: str) -> tuple[str, str, Any]:
            folders = _FOLDERS.get()
            if not folders:
                raise TemplateNotFound(f"{template} (only template files can include other templates)")
            path = locate_template(folders, template)
            try:
                source = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise TemplateNotFound(template) from None
            except (OSError, UnicodeDecodeError) as exc:
                raise UserError(f"template {path}: cannot read it: {exc}") from None
            return source, str(path), lambda: False

    return ConfinedLoader()


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    from continuous.dsl.sandbox import limit, limited_environment_class
    from jinja2 import StrictUndefined

    env = limited_environment_class()(
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        loader=_confined_loader(),
        cache_size=0,  # one name means different files for scenarios of different folders
    )
    env.filters.update(FILTERS)
    env.globals["fail"] = _fail
    limit(env)
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


# `{{ name }}` alone: most fact patterns, discover fields and edit values are just a variable; Jinja keywords are
# literals, not variables
SIMPLE_VARIABLE = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")
_LITERALS = frozenset({"true", "false", "none", "True", "False", "None"})


def render_string(template: str, context: Mapping[str, Any], *, where: str = "template") -> str:
    """Render a DSL string (a path, an argument, a fact field). Plain strings come back unchanged, fast, and so
    does a bare `{{ name }}` of a text or integer value (what Jinja would print: the resolver renders thousands)."""
    if not TEMPLATE_EXPR.search(template):
        return template
    bare = SIMPLE_VARIABLE.fullmatch(template)
    if bare is not None and bare.group(1) not in _LITERALS:
        value = context.get(bare.group(1))
        if type(value) is str or type(value) is int:
            return str(value)
    from continuous.dsl.sandbox import collect, deadline
    from jinja2 import TemplateError

    try:
        with deadline("{%" in template):
            return collect(_compiled(template).generate(**with_conventions(context)))
    except TemplateFailure as exc:
        raise UserError(f"{where}: {exc}") from None
    except UserError as exc:
        raise UserError(f"cannot render {where} {_short(template)}: {exc.message}", hint=exc.hint) from None
    except (TemplateError, ArithmeticError, TypeError, ValueError) as exc:
        raise UserError(f"cannot render {where} {_short(template)}: {exc}") from None
    except RecursionError:
        raise UserError(f"cannot render {where} {_short(template)}: {TOO_DEEP}") from None


def _short(template: str) -> str:
    return repr(template) if len(template) <= 80 else repr(template[:77]) + "..."


def template_folders(scenario: Scenario) -> tuple[Path, ...]:
    """Where a scenario's templates live: `templates/` beside the DSL file that declares it."""
    return (Path(scenario.source).resolve().parent / "templates",)


def template_path(scenario: Scenario, name: str) -> Path:
    """The template file `name` of a scenario (see locate_template for what is refused)."""
    return locate_template(template_folders(scenario), name)


def render_template(scenario: Scenario, name: str, context: Mapping[str, Any]) -> str:
    """Render a scenario's template file; its includes are looked up in the same folders."""
    folders = template_folders(scenario)
    return render_file(locate_template(folders, name), context, folders=folders)


def render_file(path: Path, context: Mapping[str, Any], *, folders: Sequence[Path] = ()) -> str:
    from jinja2 import TemplateError

    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"template {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"template {path}: cannot read it: {exc}") from None
    from continuous.dsl.sandbox import collect, deadline

    token = _FOLDERS.set(tuple(folders))
    try:
        with deadline("{%" in source):
            return collect(environment().from_string(source).generate(**with_conventions(context)))
    except TemplateFailure as exc:
        raise UserError(f"{path.name}: {exc}") from None
    except UserError as exc:
        raise UserError(f"{path}: cannot render template: {exc.message}", hint=exc.hint) from None
    except (TemplateError, ArithmeticError, TypeError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        where = f"{path}:{line}" if line else str(path)
        raise UserError(f"{where}: cannot render template: {exc}") from None
    except RecursionError:
        raise UserError(f"{path}: cannot render template: {TOO_DEEP}") from None
    finally:
        _FOLDERS.reset(token)


def referenced_variables(source: str) -> set[str]:
    """Free variables of a template, for static validation (no rendering)."""
    from jinja2 import meta

    ast = environment().parse(source)
    return set(meta.find_undeclared_variables(ast))

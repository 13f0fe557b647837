"""Parameter values are checked against their declared types before anything uses them.

This is the first line of the security model: a `snake` name can never carry `; rm -rf ~` or `../..` into a path,
a template or an argument list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from continuous.common.errors import UserError
from continuous.dsl.model import Param, Scalar, Scenario

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_PATH_PART = re.compile(r"^[A-Za-z0-9_.@+\-\[\]]+$")
_INT = re.compile(r"^-?\d+$")
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}
MAX_STRING = 500


def check_value(param: Param, value: Any) -> str | None:
    """What is wrong with `value` for `param`, or None. `value` is already of the declared Python type."""
    t = param.type
    if t == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"expected a whole number, got {value!r}"
    elif t == "bool":
        if not isinstance(value, bool):
            return f"expected true or false, got {value!r}"
    else:
        if not isinstance(value, str):
            return f"expected text, got {value!r}"
        if t == "snake" and not SNAKE.match(value):
            return f"{value!r} is not a snake_case identifier (lowercase letters, digits and _, starting with a letter)"
        if t == "kebab" and not KEBAB.match(value):
            return f"{value!r} is not a kebab-case identifier (lowercase letters and digits joined by -)"
        if t == "enum" and value not in param.choices:
            return f"{value!r} is not one of: {', '.join(param.choices)}"
        if t == "path":
            problem = _path_problem(value)
            if problem:
                return problem
        if t == "string":
            if len(value) > MAX_STRING:
                return f"is longer than {MAX_STRING} characters"
            if any(ord(ch) < 32 and ch not in "\t" for ch in value):
                return "contains control characters"
    if param.pattern and isinstance(value, str):
        try:
            matched = re.fullmatch(param.pattern, value)
        except re.error:  # the parser reports the invalid pattern itself
            return None
        if not matched:
            return f"{value!r} does not match the pattern {param.pattern}"
    return None


def _path_problem(value: str) -> str | None:
    if not value:
        return "the path is empty"
    if value.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", value):
        return f"{value!r} is absolute; give a path relative to the repository"
    parts = value.replace("\\", "/").split("/")
    if ".." in parts:
        return f"{value!r} leaves the worktree (..)"
    for part in parts:
        if part and not _PATH_PART.match(part):
            return f"{value!r} has unusual characters in {part!r}"
    return None


def coerce(param: Param, raw: Scalar) -> Scalar:
    """Turn command-line text into the declared type, or raise a UserError naming the parameter."""
    value: Scalar = raw
    if isinstance(raw, str):
        if param.type == "int":
            if not _INT.match(raw.strip()):
                raise UserError(f"parameter {param.name}: expected a whole number, got {raw!r}")
            value = int(raw.strip())
        elif param.type == "bool":
            low = raw.strip().lower()
            if low not in _TRUE | _FALSE:
                raise UserError(f"parameter {param.name}: expected true or false, got {raw!r}")
            value = low in _TRUE
    problem = check_value(param, value)
    if problem:
        hint = None
        if param.type == "snake" and isinstance(value, str):
            hint = f"try {re.sub(r'[^a-z0-9_]+', '_', value.lower()).strip('_')!r}"
        elif param.type == "kebab" and isinstance(value, str):
            hint = f"try {re.sub(r'[^a-z0-9]+', '-', value.lower()).strip('-')!r}"
        raise UserError(f"parameter {param.name}: {problem}", hint=hint)
    return value


def bind_params(
    scenario: Scenario,
    positional: Sequence[str] = (),
    named: Mapping[str, Scalar] | None = None,
    *,
    allow_missing: bool = False,
) -> dict[str, Scalar]:
    """Map positional and named values onto the scenario's parameters, apply defaults, and validate every value."""
    named = dict(named or {})
    slots = scenario.positional_params()
    if len(positional) > len(slots):
        names = " ".join(p.name.upper() for p in slots) or "(none)"
        raise UserError(
            f"{scenario.id} takes {len(slots)} positional parameter(s) ({names}), got {len(positional)}",
            hint="pass the others as --param NAME=VALUE",
        )
    for param, raw in zip(slots, positional, strict=False):
        if param.name in named:
            raise UserError(f"parameter {param.name} is given both by position and as --param")
        named[param.name] = raw
    known = {p.name for p in scenario.params}
    unknown = sorted(set(named) - known)
    if unknown:
        from continuous.dsl.suggest import closest

        guess = closest(unknown[0], known)
        raise UserError(
            f"{scenario.id} has no parameter {unknown[0]!r}; its parameters are: {', '.join(sorted(known)) or 'none'}",
            hint=f"did you mean {guess!r}?" if guess else None,
        )
    out: dict[str, Scalar] = {}
    missing = []
    for param in scenario.params:
        if param.name in named:
            out[param.name] = coerce(param, named[param.name])
        elif param.default is not None:
            out[param.name] = param.default
        elif param.required:
            missing.append(param.name)
        elif param.type == "bool":
            out[param.name] = False
    if missing and not allow_missing:
        raise UserError(
            f"{scenario.id} needs parameter(s): {', '.join(missing)}",
            hint="pass them by position or as --param NAME=VALUE; `continuous scenarios show "
            f"{scenario.id}` lists them",
        )
    return out

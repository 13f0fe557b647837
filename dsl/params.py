"""Parameter values are checked against their declared types before anything uses them.

This is the first line of the security model: a `snake` name can never carry `; rm -rf ~` or `../..` into a path,
a template or an argument list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from continuous.common.errors import UserError
from continuous.dsl.model import NUMBER_TYPES, Param, Scalar, Scenario

# Every pattern is applied with fullmatch: `$` would also match before a trailing newline.
SNAKE = re.compile(r"[a-z][a-z0-9_]*")
KEBAB = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
_PATH_PART = re.compile(r"[A-Za-z0-9_.@+\-\[\]]+")
_INT = re.compile(r"-?\d+")
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}
MAX_STRING = 500
MAX_DIGITS = 20  # longer numbers are refused before int() parses them (Python refuses 4,300+ digits itself)
# A snake or kebab name becomes table, column, file and type names; PostgreSQL cuts identifiers at 63 bytes.
MAX_NAME = 63
NAME_MAX = 255  # bytes in one path component (ext4, APFS, NTFS)
PATH_MAX = 1024
# Unicode categories Cc (C0, DEL, C1), Zl and Zp, and the bidirectional overrides that make code read
# differently from how it runs ("Trojan source"): never part of single-line text.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def control_problem(value: str) -> str | None:
    """What is wrong with a single-line text because of an invisible character, or None."""
    found = CONTROL.search(value)
    if found is None:
        return None
    return f"contains a control character or line break (U+{ord(found.group()):04X})"


def is_git_dir_name(part: str) -> bool:
    """`.git` in any case: case-insensitive file systems reach the same directory through `.GIT`."""
    return part.casefold() == ".git"


def check_value(param: Param, value: Any) -> str | None:
    """What is wrong with `value` for `param`, or None. `value` is already of the declared Python type."""
    t = param.type
    if t in NUMBER_TYPES:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"expected a whole number, got {_short(value)}"
        low, high = param.bounds()
        if not low <= value <= high:
            return f"expected a whole number between {low} and {high}, got {_short(value)}"
    elif t == "bool":
        if not isinstance(value, bool):
            return f"expected true or false, got {value!r}"
    else:
        if not isinstance(value, str):
            return f"expected text, got {value!r}"
        problem = control_problem(value)
        if problem:
            return problem
        if t in ("snake", "kebab") and len(value) > MAX_NAME:
            return f"is longer than {MAX_NAME} characters (names become file, table and type names)"
        if t == "snake" and not SNAKE.fullmatch(value):
            return f"{value!r} is not a snake_case identifier (lowercase letters, digits and _, starting with a letter)"
        if t == "kebab" and not KEBAB.fullmatch(value):
            return f"{value!r} is not a kebab-case identifier (lowercase letters and digits joined by -)"
        if t == "enum" and value not in param.choices:
            return f"{value!r} is not one of: {', '.join(param.choices)}"
        if t == "path":
            problem = _path_problem(value)
            if problem:
                return problem
        if t == "string" and len(value) > MAX_STRING:
            return f"is longer than {MAX_STRING} characters"
    if param.pattern and isinstance(value, str):
        pattern = param_pattern(param)
        assert pattern is not None
        try:
            matched = re.fullmatch(pattern, value)
        except re.error:
            return f"its pattern {pattern!r} is not a valid regular expression"
        if not matched:
            settings = convention_settings(param.pattern)
            if settings:
                from continuous.common.config import active_conventions

                conv = active_conventions()
                stated = ", ".join(f"conventions.{k} = {getattr(conv, k)!r}" for k in settings)
                return (
                    f"{value!r} does not follow the repository's conventions ({stated}): it must match {pattern}; "
                    f"the setting is [conventions] {settings[0]} in .continuous.toml"
                )
            return f"{value!r} does not match the pattern {pattern}"
    return None


_CONVENTION_REF = re.compile(r"\bconventions\.([a-z_]+)")


def convention_settings(text: str | None) -> list[str]:
    """The `conventions.*` settings a DSL string reads, in order."""
    return list(dict.fromkeys(_CONVENTION_REF.findall(text or ""))) if text and "{{" in text else []


def param_pattern(param: Param) -> str | None:
    """The parameter's pattern as it applies in this repository: a pattern may read the layout settings
    (`pattern "{{ conventions.app_prefix | re_escape }}[a-z0-9-]+"`)."""
    if not param.pattern or "{{" not in param.pattern:
        return param.pattern
    from continuous.dsl.templating import render_string

    return render_string(param.pattern, {}, where=f"pattern of parameter {param.name}")


def _path_problem(value: str) -> str | None:
    if not value:
        return "the path is empty"
    if value.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", value):
        return f"{value!r} is absolute; give a path relative to the repository"
    if len(value.encode()) > PATH_MAX:
        return f"is longer than {PATH_MAX} bytes"
    parts = value.replace("\\", "/").split("/")
    if ".." in parts:
        return f"{value!r} leaves the worktree (..)"
    for part in parts:
        if part and not _PATH_PART.fullmatch(part):
            return f"{value!r} has unusual characters in {part!r}"
        if len(part.encode()) > NAME_MAX:
            return f"{value!r} has a name longer than {NAME_MAX} bytes ({part[:20]}...)"
        if is_git_dir_name(part):
            return f"{value!r} is inside .git"
    return None


def static_path_problem(value: str) -> str | None:
    """What makes a path written in the DSL (a constant, not a template) leave the worktree or reach `.git`."""
    problem = control_problem(value)
    if problem:
        return problem
    text = value.replace("\\", "/")
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        return "is absolute; scenario paths are relative to the worktree"
    parts = text.split("/")
    if ".." in parts:
        return "leaves the worktree (..)"
    if any(is_git_dir_name(p) for p in parts):
        return "is inside .git"
    return None


def coerce(param: Param, raw: Scalar) -> Scalar:
    """Turn command-line text into the declared type, or raise a UserError naming the parameter."""
    value: Scalar = raw
    if isinstance(raw, str):
        if param.type in NUMBER_TYPES:
            text = raw.strip()
            if not _INT.fullmatch(text):
                raise UserError(f"parameter {param.name}: expected a whole number, got {_short(raw)}")
            if len(text) > MAX_DIGITS:
                low, high = param.bounds()
                raise UserError(
                    f"parameter {param.name}: expected a whole number between {low} and {high}, got {_short(raw)}"
                )
            value = int(text)
        elif param.type == "bool":
            low = raw.strip().lower()
            if low not in _TRUE | _FALSE:
                raise UserError(f"parameter {param.name}: expected true or false, got {raw!r}")
            value = low in _TRUE
    problem = check_value(param, value)
    if problem:
        hint = None
        guess = None
        if param.type == "snake" and isinstance(value, str):
            guess = re.sub(r"[^a-z0-9_]+", "_", value.lower()).strip("_")
        elif param.type == "kebab" and isinstance(value, str):
            guess = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
        if guess and guess != value and check_value(param, guess) is None:
            hint = f"try {guess!r}"
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

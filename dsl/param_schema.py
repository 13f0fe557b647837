"""A scenario's parameters as JSON Schema, for machines that fill them in (the MCP server's tool schemas).

The schema says what `dsl.params.check_value` accepts, built from the same rules, so that a client that
validates before calling and the engine that validates again agree (tests/dsl/test_param_schema.py checks
both on the whole built-in library). `int`, `port` and `bool` parameters are published as JSON integers (with
their range) and booleans; the engine still accepts their text forms ("42", "yes"), as it does on the command
line. A repository's `port_range` is checked by the engine when it plans, not by the schema.
"""

from __future__ import annotations

from typing import Any

from continuous.dsl.model import Param, Scenario
from continuous.dsl.params import CONTROL, KEBAB, MAX_NAME, MAX_STRING, NAME_MAX, PATH_MAX, SNAKE

# The end of a value is written `(?![\s\S])`, not `$`: Python's `$` also matches before a final newline, ECMA's
# does not, and this form means the same in both.
_END = r"(?![\s\S])"
# `check_value` for `path`: relative, no `..` or `.git` part (in any case), names of at most NAME_MAX bytes (the
# allowed characters are ASCII), each part of the allowed characters (/ and \ both separate).
PATH_PATTERN = (
    r"^(?![/\\])(?!(?:.*[/\\])?\.\.(?![^/\\]))(?!(?:.*[/\\])?\.[gG][iI][tT](?![^/\\]))"
    rf"(?!.*[^/\\]{{{NAME_MAX + 1}}})[A-Za-z0-9_.@+\[\]/\\-]+{_END}"
)
# `check_value` for single-line text: none of the characters dsl.params.CONTROL refuses.
TEXT_PATTERN = "^[^" + CONTROL.pattern[1:-1] + "]*" + _END

_BASE: dict[str, dict[str, Any]] = {
    "string": {"type": "string", "maxLength": MAX_STRING, "pattern": TEXT_PATTERN},
    "snake": {"type": "string", "maxLength": MAX_NAME, "pattern": f"^(?:{SNAKE.pattern}){_END}"},
    "kebab": {"type": "string", "maxLength": MAX_NAME, "pattern": f"^(?:{KEBAB.pattern}){_END}"},
    "path": {"type": "string", "maxLength": PATH_MAX, "pattern": PATH_PATTERN},
    "int": {"type": "integer"},
    "port": {"type": "integer"},
    "bool": {"type": "boolean"},
}


def param_schema(param: Param) -> dict[str, Any]:
    """One parameter: its type, declared pattern, default, examples and doc."""
    if param.type == "enum":
        schema: dict[str, Any] = {"type": "string", "enum": list(param.choices)}
    else:
        schema = dict(_BASE[param.type])
    if param.type in ("int", "port"):
        schema["minimum"], schema["maximum"] = param.bounds()
    if param.pattern:
        # One pattern (agents read it more easily than an allOf): the type's rule as a lookahead, then the
        # declared pattern matched whole, as re.fullmatch does.
        from continuous.dsl.params import param_pattern

        whole = f"(?:{param_pattern(param)})(?![\\s\\S])"
        base = schema.get("pattern")
        schema["pattern"] = f"^(?={base}){whole}" if base else f"^{whole}"
    if param.doc:
        schema["description"] = param.doc
    default = param.default
    if default is None and param.type == "bool" and not param.required:
        default = False  # what bind_params fills in
    if default is not None:
        schema["default"] = default
    if param.examples:
        schema["examples"] = list(param.examples)
    return schema


def required_params(scenario: Scenario) -> list[str]:
    return [p.name for p in scenario.params if p.required and p.default is None]


def params_schema(scenario: Scenario) -> dict[str, Any]:
    """The object of named parameters a scenario takes (positions are a command-line convenience only)."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {p.name: param_schema(p) for p in scenario.params},
        "additionalProperties": False,
    }
    required = required_params(scenario)
    if required:
        schema["required"] = required
    return schema

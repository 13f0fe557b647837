"""Missing parameters: asked for when a person is at a terminal, listed (exit 2) otherwise.

One helper for every command that fills scenario parameters (run-scenario, run-plan, plan, suggest), so each asks
and explains the same way and the user never has to rephrase a request to fill a parameter:

    if can_prompt(as_json):
        values = ask_all([(scenario_id, param), ...])      # {(scenario_id, name): text as typed}
    else:
        raise missing_error([(scenario_id, param), ...], command="continuous run-scenario create-table")

`param` is the DSL's `Param` when the caller has the rule base (the answer is then checked against its type, and
asked again until it fits), or a bare parameter name when it has not (suggest's answers come from the daemon).
Only the standard library and typer at module level.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import typer
from continuous.cli.output import count

if TYPE_CHECKING:
    from continuous.common.errors import UserError
    from continuous.dsl.model import Param, Scenario

NO_PROMPT_ENV = "CONTINUOUS_NO_PROMPT"

Wanted = tuple[str, "Param | str"]


def can_prompt(as_json: bool = False) -> bool:
    """A person can answer: stdin and stdout are terminals, the output is not --json, and CONTINUOUS_NO_PROMPT is
    unset (scripts and CI set it to get the list instead of a question)."""
    if as_json or os.environ.get(NO_PROMPT_ENV, "") not in ("", "0"):
        return False
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def describe_type(param: Param) -> str:
    """The kind of value, with its choices or range: "snake_case name", "port between 3000 and 3099"."""
    kind = {
        "snake": "snake_case name",
        "kebab": "kebab-case name",
        "int": "whole number",
        "port": "port",
        "bool": "true or false",
        "path": "path in the repository",
        "string": "text",
        "enum": "one of " + ", ".join(param.choices),
    }.get(param.type, param.type)
    return kind + param.range_text()


def describe(param: Param | str) -> str:
    """What a value must look like, in one line: type, choices or range, pattern, default and examples."""
    if isinstance(param, str):
        return "text"
    parts = [describe_type(param)]
    if param.pattern:
        parts.append(f"matching {param.pattern}")
    if param.default not in (None, ""):
        parts.append(f"default {_scalar(param.default)}")
    if param.examples:
        parts.append("e.g. " + ", ".join(_scalar(e) for e in param.examples))
    return "; ".join(parts)


def missing_params(
    scenario: Scenario, positional: Sequence[str] = (), named: Mapping[str, Any] | None = None
) -> list[Param]:
    """The scenario's required parameters that neither a position nor a NAME=VALUE gives (and no default fills).
    Values that are given are not checked here: the engine checks them, with its own messages."""
    given = set(named or {})
    given |= {p.name for p in scenario.positional_params()[: len(positional)]}
    return [p for p in scenario.params if p.required and p.default is None and p.name not in given]


def ask(
    name: Param | str,
    *,
    scenario: str,
    candidates: Sequence[str] = (),
    allow_empty: bool = False,
) -> str | None:
    """Ask for one parameter until the answer fits its declared type (when `name` is a Param). Returns the text as
    typed; None for an empty answer when `allow_empty`. Ctrl-C or end of input stops the command (exit 130)."""
    from continuous.common.errors import UserError

    pname = name if isinstance(name, str) else name.name
    hint = describe(name) if not isinstance(name, str) else ""
    if candidates:
        hint = (hint + "; " if hint else "") + "in this repository: " + ", ".join(candidates)
    label = f"{scenario} {pname}" + (f" ({hint})" if hint else "")
    while True:
        try:
            answer = typer.prompt(label, default="", show_default=False).strip()
        except typer.Abort:
            sys.stderr.write("\ninterrupted\n")
            raise typer.Exit(130) from None
        if not answer:
            if allow_empty:
                return None
            sys.stderr.write(f"  {pname} is required; Ctrl-C stops\n")
            continue
        if isinstance(name, str):
            return answer
        from continuous.dsl.params import coerce

        try:
            coerce(name, answer)
        except UserError as exc:
            sys.stderr.write("  " + exc.render().rstrip().replace("\n", "\n  ") + "\n")
            continue
        return answer


def ask_all(
    wanted: Sequence[Wanted],
    *,
    candidates: Mapping[tuple[str, str], Sequence[str]] | None = None,
    allow_empty: bool = False,
) -> dict[tuple[str, str], str]:
    """Ask for each (scenario id, parameter) in turn; the answers keyed by (scenario id, parameter name). With
    `allow_empty`, an empty answer leaves that parameter out of the result."""
    if not wanted:
        return {}
    scenarios = {s for s, _ in wanted}
    n = len(wanted)
    what = next(iter(scenarios)) if len(scenarios) == 1 else "the plan"
    sys.stderr.write(f"{what} needs {count(n, 'more parameter')}:\n")
    sys.stderr.flush()
    out: dict[tuple[str, str], str] = {}
    for scenario, param in wanted:
        pname = param if isinstance(param, str) else param.name
        value = ask(
            param,
            scenario=scenario,
            candidates=(candidates or {}).get((scenario, pname), ()),
            allow_empty=allow_empty,
        )
        if value is not None:
            out[(scenario, pname)] = value
    return out


def missing_error(wanted: Sequence[Wanted], *, command: str) -> UserError:
    """The exit-2 error without a terminal: every missing parameter with what it takes, and the command line
    that passes them."""
    from continuous.common.errors import UserError

    several = len({s for s, _ in wanted}) > 1
    lines = []
    example = []
    for scenario, param in wanted:
        pname = param if isinstance(param, str) else param.name
        key = f"{scenario}.{pname}" if several else pname
        lines.append(f"  {key}: {describe(param)}")
        sample = param.examples[0] if not isinstance(param, str) and param.examples else "VALUE"
        example.append(f"--param {key}={_quote(_scalar(sample))}")
    n = len(wanted)
    return UserError(
        f"missing {count(n, 'required parameter')}:\n" + "\n".join(lines),
        hint=f"pass {'them' if n != 1 else 'it'} with --param NAME=VALUE: {command} "
        + " ".join(example)
        + " (on a terminal you are asked instead)",
    )


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)

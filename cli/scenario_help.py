"""`continuous run-scenario ID --help`: the command's help, then that scenario's own parameters; and the shell
completion of scenario ids.

Loading the rule base costs a parse, so it happens only when a scenario id is on the command line with --help (or
when the shell asks for completions), never for a plain `--help`.
"""

from __future__ import annotations

import shutil
import textwrap
from typing import TYPE_CHECKING, Any

from typer.core import TyperCommand

if TYPE_CHECKING:
    from continuous.dsl.model import RuleBase, Scenario

_META_KEY = "continuous.help_scenario"
HELP_OPTIONS = ("--help", "-h")


def current_rule_base() -> RuleBase:
    """The built-in library plus the current repository's scenario paths and packs."""
    from continuous.cli.dsl_commands import load

    return load(None)


def complete_scenario_id(incomplete: str) -> list[tuple[str, str]]:
    """Scenario ids and aliases starting with `incomplete`, each with its summary (zsh and fish show it)."""
    try:
        rb = current_rule_base()
    except Exception:  # completion must never print an error into the user's shell
        return []
    out = []
    for sid in sorted(rb.scenarios):
        if sid.startswith(incomplete):
            out.append((sid, rb.scenarios[sid].summary))
    for alias in sorted(rb.aliases):
        target = rb.aliases[alias]
        if alias.startswith(incomplete) and alias not in rb.scenarios:
            out.append((alias, f"alias of {target}"))
    return out


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parameters_text(scenario: Scenario, *, command: str = "continuous run-scenario", width: int | None = None) -> str:
    """The scenario's usage line and one entry per parameter: type, required or default, range, pattern,
    examples and its doc, wrapped at words to `width` (the terminal's by default)."""
    from continuous.cli.prompting import describe_type

    width = width or max(shutil.get_terminal_size((100, 24)).columns, 60)
    slots = scenario.positional_params()
    usage = [command, scenario.id, *(p.name.upper() if p.required else f"[{p.name.upper()}]" for p in slots)]
    if any(p.position is None for p in scenario.params):
        usage.append("[--param NAME=VALUE ...]")
    lines = [f"Scenario {scenario.id} ({scenario.object_type}): {scenario.summary}", ""]
    lines += textwrap.wrap(
        " ".join(usage),
        width=width,
        initial_indent="  ",
        subsequent_indent="      ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    lines.append("")
    if not scenario.params:
        lines.append("Parameters: none")
        return "\n".join(lines) + "\n"
    lines.append("Parameters:")
    name_width = min(max(len(p.name) for p in scenario.params), 24)
    indent = " " * (4 + name_width + 2)
    for p in scenario.params:
        kind = describe_type(p)
        status = "required" if p.required and p.default is None else "optional"
        entries = [f"{kind}, {status}" + (f", position {p.position}" if p.position is not None else "")]
        if p.doc:
            entries.append(p.doc.strip())
        if p.default is not None:
            entries.append("default: " + (_scalar(p.default) if p.default != "" else '""'))
        if p.pattern:
            from continuous.dsl.params import param_pattern

            entries.append(f"pattern: {param_pattern(p)}")
        if p.examples:
            entries.append("examples: " + ", ".join(_scalar(e) for e in p.examples))
        head = f"    {p.name:<{name_width}}  "
        if len(p.name) > name_width:
            lines.append(f"    {p.name}")
            head = indent
        for entry in entries:
            lines.extend(
                textwrap.wrap(
                    entry,
                    width=width,
                    initial_indent=head,
                    subsequent_indent=indent,
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
            head = indent
    return "\n".join(lines) + "\n"


class ScenarioHelpCommand(TyperCommand):
    """A command whose first argument is a scenario id: its --help ends with that scenario's parameters."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's own (vendored) click types
        if any(a in HELP_OPTIONS for a in args):
            first = next((a for a in args if not a.startswith("-")), None)
            if first is not None:
                ctx.meta[_META_KEY] = first
        return super().parse_args(ctx, args)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        super().format_help(ctx, formatter)
        scenario_id = ctx.meta.get(_META_KEY)
        if scenario_id:
            formatter.write("\n" + scenario_section(scenario_id))


def scenario_section(scenario_id: str) -> str:
    from continuous.common.errors import ContinuousError

    try:
        rb = current_rule_base()
    except ContinuousError as exc:
        return f"(cannot show the parameters of {scenario_id}: {exc.render()})\n"
    scenario = rb.scenario(scenario_id)
    if scenario is None:
        from continuous.dsl.suggest import did_you_mean

        guess = did_you_mean(scenario_id, [*rb.scenarios, *rb.aliases])
        return (
            f"unknown scenario {scenario_id!r}"
            + (f"; {guess}" if guess else "")
            + ("\n  `continuous scenarios list` shows every scenario\n")
        )
    return parameters_text(scenario)

"""Which modules contribute commands. Adding a command group = adding its module name here."""

from __future__ import annotations

import importlib

import typer

COMMAND_MODULES = (
    "continuous.cli.dsl_commands",
    "continuous.cli.init_commands",
    "continuous.cli.db_commands",
    "continuous.cli.engine_commands",
    "continuous.cli.planner_commands",
    "continuous.cli.analytics_commands",
    "continuous.cli.ops_commands",
    "continuous.cli.pack_commands",
    "continuous.cli.mcp_commands",
    "continuous.cli.model_commands",
)


def register_all(app: typer.Typer) -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # a command group that is not written yet
            raise
        module.register(app)

"""`continuous mcp`: serve the Model Context Protocol over stdio for coding agents (see docs/mcp.md).

Only typer here; the server (continuous.cli.mcp_server) and the `mcp` SDK load when the command runs.
"""

from __future__ import annotations

from pathlib import Path

import typer
from continuous.cli.output import command


def register(app: typer.Typer) -> None:
    app.command(
        "mcp",
        help="Serve the Model Context Protocol over stdio, for coding agents (Claude Code, Cursor, ...): "
        "suggest, plan, run, roll back and inspect scenarios in this worktree.",
    )(mcp_cmd)


@command
def mcp_cmd(
    repo: Path | None = typer.Option(None, "--repo", "-C", help="Worktree to serve (default: the current directory)."),
) -> None:
    from continuous.cli.mcp_server import serve

    serve(repo)

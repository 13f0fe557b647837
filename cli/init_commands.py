"""`continuous init`: write the project config into a worktree, or create the example monorepo."""

from __future__ import annotations

from pathlib import Path

import typer
from continuous.cli.output import command


def register(app: typer.Typer) -> None:
    app.command("init")(init)


@command
def init(
    example: Path | None = typer.Option(
        None,
        "--example",
        metavar="DIR",
        help="Create the example monorepo in DIR (new or empty), as a git repository with one commit.",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Write .continuous.toml into the current git worktree, with the layout conventions detected from its files
    (app prefix, folders, migrations, types file, test runner), or create the example monorepo with --example."""
    from continuous.cli.output import console, print_json
    from continuous.common.example_repo import create_example, write_config
    from continuous.common.gitinfo import locate

    if example is not None:
        repo = create_example(example)
        if json_out:
            print_json(
                {
                    "created": str(repo.path),
                    "commit": repo.commit,
                    "files": list(repo.files),
                    "apps": list(repo.apps),
                    "config": str(repo.path / ".continuous.toml"),
                }
            )
            return
        out = console()
        out.print(
            f"Created the example monorepo in {repo.path} ({len(repo.files)} files, commit {(repo.commit or '')[:10]})."
        )
        out.print(f"  apps: {', '.join(repo.apps)}")
        out.print("  config: .continuous.toml")
        out.print(f"Next: cd {repo.path} && continuous scenarios list")
        return
    from continuous.common.layout import detect

    location = locate(Path.cwd())
    findings = detect(location.worktree)
    path = write_config(location.worktree, findings)
    if json_out:
        print_json(
            {
                "config": str(path),
                "worktree": str(location.worktree),
                "conventions": {f.key: f.value for f in findings},
                "evidence": {f.key: f.evidence for f in findings},
            }
        )
        return
    from rich.markup import escape

    out = console()
    out.print(f"Wrote {path}")
    out.print("Conventions (edit [conventions] in it where they are wrong; see docs/conventions.md):")
    for f in findings:
        value = ", ".join(f.value) if isinstance(f.value, list) else (f.value or '""')
        out.print(f"  {f.key} = {escape(str(value))}  [dim]({escape(f.evidence)})[/dim]", highlight=False)

"""`continuous init`: write the project config into a worktree, or create the example monorepo;
`continuous conventions`: the conventions every command uses in this worktree, and where each came from."""

from __future__ import annotations

from pathlib import Path

import typer
from continuous.cli.output import command


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("conventions")(conventions)


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
    from rich.text import Text

    out = console()
    out.print(f"Wrote {path}")
    out.print("Conventions (edit [conventions] in it where they are wrong; see docs/conventions.md):")
    for f in findings:
        out.print(Text.assemble(f"  {f.key} = {_shown(f.value)}  ", (f"({f.evidence})", "dim")))


def _shown(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) if value else "[]"
    return str(value) if value else '""'


@command
def conventions(json_out: bool = typer.Option(False, "--json", help="Print the result as JSON.")) -> None:
    """Show the layout conventions of this worktree as every command uses them, and where each came from: set in
    .continuous.toml (file), read from the repository's files (detected), or the neutral default (default).
    Changes nothing."""
    from continuous.cli.output import console, print_json
    from continuous.common.config import CONFIG_NAME, load_config
    from continuous.common.gitinfo import locate

    root = locate(Path.cwd()).worktree
    config = load_config(root)
    values = {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.conventions.as_dict().items()}
    if json_out:
        print_json(
            {
                "worktree": str(root),
                "config": str(root / CONFIG_NAME) if (root / CONFIG_NAME).exists() else None,
                "conventions": {
                    k: {"value": values[k], "source": source, "evidence": evidence}
                    for k, (source, evidence) in config.convention_sources.items()
                },
            }
        )
        return
    from rich.text import Text

    out = console()
    out.print(f"Conventions of {root} (file > detected > default; see docs/conventions.md):")
    for key, (source, evidence) in config.convention_sources.items():
        out.print(Text.assemble(f"  {key} = {_shown(values[key])}  ", (source, "bold"), " ", (f"({evidence})", "dim")))

"""`name_like`: a new folder's package name follows how its neighbours name theirs, not a scope written into the
library."""

from __future__ import annotations

from pathlib import Path

from continuous.dsl.templating import name_like, render_string

from ..conftest import cli


def _pkgs(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"folder": folder, "name": name} for folder, name in pairs]


def test_the_most_common_pattern_wins() -> None:
    neighbours = _pkgs(
        ("email", "@acme/cli-pipeline-email"),
        ("media_processing", "@acme/cli-pipeline-media-processing"),
        ("auth", "auth-cli"),
    )
    assert name_like(neighbours, "backups", "x") == "@acme/cli-pipeline-backups"


def test_folder_forms_snake_and_kebab_are_both_recognised() -> None:
    neighbours = _pkgs(("dev_tasks", "dev-tasks-cli"), ("google_sync", "google_sync-cli"), ("a", "@s/a"))
    assert name_like(neighbours, "backups", "x") == "backups-cli"


def test_without_a_usable_neighbour_the_default_is_used() -> None:
    assert name_like([], "backups", "cli-pipeline-backups") == "cli-pipeline-backups"
    assert name_like(_pkgs(("email", "mailer")), "backups", "dflt") == "dflt"


def test_a_tie_goes_to_the_shorter_pattern() -> None:
    neighbours = _pkgs(("a", "a-cli"), ("b", "@x/pipeline-b"))
    assert name_like(neighbours, "new", "d") == "new-cli"


def test_usable_from_a_sandboxed_template() -> None:
    out = render_string(
        '{{ pkgs | name_like(name, "cli-" ~ name) | tojson }}',
        {"pkgs": _pkgs(("email", "@acme/email-cli")), "name": "reports"},
    )
    assert out == '"@acme/reports-cli"'


def test_create_cli_pipeline_follows_the_example_repositorys_scope(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    cli(tmp_path, "init", "--example", str(repo), check=True)
    pkg = repo / "scripts" / "cli-pipeline" / "document" / "package.json"
    pkg.write_text(pkg.read_text().replace("@dhg/cli-pipeline-document", "@acme/document-tools"))
    proc = cli(repo, "run-scenario", "create-cli-pipeline", "backups", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert '"name": "@acme/backups-tools"' in proc.stdout

"""Overriding by rank (repository over packs over built-in), and `continuous scenarios eject`."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
from continuous.cli.main import app
from continuous.common.errors import DslError
from continuous.dsl.eject import scenario_text
from continuous.dsl.loader import BUILTIN_LIBRARY, build_rule_base, load_rule_base
from continuous.dsl.parser import parse_text
from continuous.dsl.sources import Source, builtin_source
from typer.testing import CliRunner

runner = CliRunner()


def invoke(*args: str, cwd: Path) -> Any:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(app, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def scn(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def note_scenario(sid: str, summary: str, template: str = "note.md.j2", extra: str = "") -> str:
    return (
        f'scenario {sid} {{\n  object infra\n  summary "{summary}"\n  param name: kebab required position 1\n'
        f'  step "write" render "{template}" to "notes/{{{{ name }}}}.md"\n{extra}}}\n'
    )


RULE = 'rule notes-{tag} {{\n  when table(name: ?t) then task "{tag} {{{{ t }}}}"\n}}\n'
STANDARD = 'standard readme-{tag} {{\n  summary "{tag}"\n  files "README.md" matching "x"\n}}\n'


def layer(kind: str, label: str, *files: Path, pin: str | None = None) -> Source:
    return Source(kind, label, tuple(files), pack=label.split()[1].split("@")[0] if kind == "pack" else None, pin=pin)  # type: ignore[arg-type]


def test_higher_rank_overrides_by_id_and_records_it(tmp_path: Path) -> None:
    base = scn(
        tmp_path / "base/lib.scn",
        note_scenario("write-note", "built-in note")
        + note_scenario("other-note", "kept")
        + "alias jot = other-note\n"
        + RULE.format(tag="a")
        + STANDARD.format(tag="a")
        + 'discover table {\n  glob "db/*.sql"\n  regex "create table (?P<name>\\\\w+)"\n}\n',
    )
    mine = scn(
        tmp_path / "mine/lib.scn",
        note_scenario("write-note", "my note")
        + note_scenario("jot", "a scenario where an alias was")
        + RULE.format(tag="a").replace('task "a', 'task "mine')
        + STANDARD.format(tag="a").replace('summary "a"', 'summary "mine"')
        + 'discover table {\n  glob "sql/*.sql"\n  regex "create table (?P<name>\\\\w+)"\n}\n',
    )
    rb = build_rule_base([layer("builtin", "built-in", base), layer("repository", "repository", mine)])
    assert rb.scenarios["write-note"].summary == "my note"
    assert rb.scenarios["other-note"].summary == "kept"
    assert rb.origins == {"write-note": "repository", "other-note": "built-in", "jot": "repository"}
    assert "jot" not in rb.aliases  # the repository's scenario took the alias's name
    assert rb.rules["notes-a"].actions != build_rule_base([base]).rules["notes-a"].actions
    assert rb.standards["readme-a"].summary == "mine"
    assert len(rb.discovers) == 2  # discovers add up, they never replace
    kinds = sorted((o.kind, o.id, o.origin, o.replaced) for o in rb.overrides)
    assert kinds == [
        ("alias", "jot", "repository", "built-in"),
        ("rule", "notes-a", "repository", "built-in"),
        ("scenario", "write-note", "repository", "built-in"),
        ("standard", "readme-a", "repository", "built-in"),
    ]
    write = next(o for o in rb.overrides if o.id == "write-note")
    assert write.loc is not None and write.loc.file == str(mine.resolve())
    assert write.replaced_loc is not None and write.replaced_loc.file == str(base.resolve())
    assert rb.content_hash() != build_rule_base([base]).content_hash()


def test_duplicates_within_one_source_stay_errors(tmp_path: Path) -> None:
    one = scn(tmp_path / "mine/a.scn", note_scenario("write-note", "a"))
    two = scn(tmp_path / "mine/b.scn", note_scenario("write-note", "b"))
    base = scn(tmp_path / "base/lib.scn", note_scenario("write-note", "built-in"))
    with pytest.raises(DslError) as caught:
        build_rule_base([layer("builtin", "built-in", base), layer("repository", "repository", one, two)])
    assert "duplicate scenario id 'write-note' (first defined at" in str(caught.value)
    with pytest.raises(DslError, match="duplicate scenario id 'x-y'"):
        load_rule_base([scn(tmp_path / "dup.scn", note_scenario("x-y", "a") + note_scenario("x-y", "b"))])


def test_two_packs_clash_unless_the_repository_decides(tmp_path: Path) -> None:
    a = scn(tmp_path / "a/lib.scn", note_scenario("write-note", "from a"))
    b = scn(tmp_path / "b/lib.scn", note_scenario("write-note", "from b"))
    packs = [layer("pack", "pack a@1", a, pin="sha256:a"), layer("pack", "pack b@2", b, pin="sha256:b")]
    with pytest.raises(DslError) as caught:
        build_rule_base(packs)
    message = str(caught.value)
    assert "scenario 'write-note' is defined by both pack a@1" in message and "and pack b@2" in message
    assert "define scenario 'write-note' in the repository's scenario_paths to choose" in message
    mine = scn(tmp_path / "mine/lib.scn", note_scenario("write-note", "mine"))
    rb = build_rule_base([*packs, layer("repository", "repository", mine)])
    assert rb.scenarios["write-note"].summary == "mine"
    assert rb.packs == {"a": "sha256:a", "b": "sha256:b"}


def test_an_alias_may_not_hide_a_lower_scenario(tmp_path: Path) -> None:
    base = scn(tmp_path / "base/lib.scn", note_scenario("write-note", "built-in"))
    mine = scn(tmp_path / "mine/lib.scn", note_scenario("my-note", "mine") + "alias write-note = my-note\n")
    with pytest.raises(DslError) as caught:
        build_rule_base([layer("builtin", "built-in", base), layer("repository", "repository", mine)])
    assert "alias write-note has the same name as the scenario write-note from built-in" in str(caught.value)
    assert "scenarios eject write-note" in str(caught.value)


def test_overriding_scenario_renders_its_own_templates(git_repo: Path) -> None:
    """A pack-ranked folder and the repository both define write-note; a real run uses the repository's copy and
    the template beside it, never the one beside the scenario it replaced."""
    pack = git_repo / "vendor/notes"
    scn(pack / "notes.scn", note_scenario("write-note", "pack note"))
    scn(pack / "templates/note.md.j2", "pack template {{ name }}\n")
    scn(pack / "continuous-pack.toml", 'name = "notes"\nversion = "1.0.0"\nrequires-continuous = ">=0.1"\n')
    scn(git_repo / "mine/notes.scn", note_scenario("write-note", "my note"))
    scn(git_repo / "mine/templates/note.md.j2", "my template {{ name }}\n")
    scn(git_repo / ".continuous.toml", 'include_builtin = false\nscenario_paths = ["mine"]\n')
    added = invoke("packs", "add", "vendor/notes", cwd=git_repo)
    assert added.exit_code == 0, added.stderr
    assert "its scenario write-note is overridden by the repository" in added.stdout
    subprocess_git(git_repo, "add", "-A")
    subprocess_git(git_repo, "commit", "-q", "-m", "scenarios")
    shown = invoke("scenarios", "show", "write-note", cwd=git_repo)
    assert "from:        repository" in shown.stdout
    assert "overrides:   the pack notes (folder vendor/notes) scenario at vendor/notes/notes.scn:1" in shown.stdout
    run = invoke("run-scenario", "write-note", "hello", "-y", cwd=git_repo)
    assert run.exit_code == 0, run.stderr + run.stdout
    assert (git_repo / "notes/hello.md").read_text() == "my template hello\n"
    assert "note: scenario write-note from the repository (mine/notes.scn:1) overrides the pack notes" in run.stderr


def subprocess_git(cwd: Path, *args: str) -> None:
    import subprocess

    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


# ---------------------------------------------------------------- eject


def _meaning(scenario: Any) -> dict[str, Any]:
    from continuous.dsl.model import _strip_locations

    data = scenario.model_dump(mode="json")
    _strip_locations(data)
    return data


def test_every_builtin_scenario_text_parses_back_to_the_same_scenario() -> None:
    rb = build_rule_base([builtin_source()])
    assert len(rb.scenarios) > 20
    for scenario in rb.scenarios.values():
        text = scenario_text(scenario)
        items = parse_text(text, "copy.scn")
        assert len(items) == 1, scenario.id
        assert _meaning(items[0]) == _meaning(scenario), scenario.id


def _render_templates(scenario: Any) -> set[str]:
    return {step.template for step in (*scenario.steps, *scenario.rollback) if step.kind == "render"}


def test_eject_copies_the_scenario_and_only_its_templates(git_repo: Path) -> None:
    config = git_repo / ".continuous.toml"
    config.write_text('# my settings\n# database_url = "sqlite:///x.db"\n')
    builtin = build_rule_base([builtin_source()]).scenarios["create-table"]
    result = invoke("scenarios", "eject", "create-table", "--json", cwd=git_repo)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    folder = git_repo / ".continuous/scenarios"
    assert data["file"] == ".continuous/scenarios/create-table.scn" and data["config_changed"] is True
    copied = {p.relative_to(folder / "templates").as_posix() for p in (folder / "templates").rglob("*") if p.is_file()}
    assert copied == _render_templates(builtin) and copied
    for name in copied:
        assert (folder / "templates" / name).read_bytes() == (BUILTIN_LIBRARY / "templates" / name).read_bytes()
    text = config.read_text()
    assert text.startswith('scenario_paths = [".continuous/scenarios"]\n# my settings\n')
    assert tomllib.loads(text) == {"scenario_paths": [".continuous/scenarios"]}
    shown = invoke("scenarios", "show", "create-table", cwd=git_repo)
    assert "from:        repository" in shown.stdout
    assert "overrides:   the built-in scenario at" in shown.stdout
    checked = invoke("validate", cwd=git_repo)
    assert checked.exit_code == 0, checked.stderr
    assert "note: scenario create-table from the repository (.continuous/scenarios/create-table.scn:4) overrides" in (
        checked.stderr
    )
    again = invoke("scenarios", "eject", "create-table", cwd=git_repo)
    assert again.exit_code == 2
    assert "is already the repository's own" in again.stderr


def test_eject_into_the_first_scenario_folder_and_refuse_to_overwrite(git_repo: Path) -> None:
    (git_repo / ".continuous.toml").write_text('scenario_paths = ["single.scn", "mine"]\n')
    scn(git_repo / "single.scn", note_scenario("my-note", "mine", template="mine.md.j2"))
    scn(git_repo / "templates/mine.md.j2", "{{ name }}\n")
    builtin = build_rule_base([builtin_source()]).scenarios["create-cli-pipeline"]
    blocker = git_repo / "mine/templates" / sorted(_render_templates(builtin))[0]
    scn(blocker, "mine, not yours\n")
    refused = invoke("scenarios", "eject", "create-cli-pipeline", cwd=git_repo)
    assert refused.exit_code == 2
    assert "eject would overwrite mine/templates/" in refused.stderr
    assert not (git_repo / "mine/create-cli-pipeline.scn").exists()
    assert blocker.read_text() == "mine, not yours\n"
    blocker.unlink()
    ok = invoke("scenarios", "eject", "create-cli-pipeline", cwd=git_repo)
    assert ok.exit_code == 0, ok.stderr
    assert "ejected create-cli-pipeline from the built-in to mine/create-cli-pipeline.scn" in ok.stdout
    by_alias = invoke("scenarios", "eject", "create-proxy-endpoint", cwd=git_repo)
    assert by_alias.exit_code == 0, by_alias.stderr
    assert "ejected add-proxy-endpoint from the built-in to mine/add-proxy-endpoint.scn" in by_alias.stdout
    assert (git_repo / ".continuous.toml").read_text() == 'scenario_paths = ["single.scn", "mine"]\n'
    unknown = invoke("scenarios", "eject", "create-tabel", cwd=git_repo)
    assert unknown.exit_code == 2 and "did you mean" in unknown.stderr


def test_eject_to_a_chosen_folder_adds_it_to_the_configuration(git_repo: Path) -> None:
    result = invoke("scenarios", "eject", "create-cli-pipeline", "--to", "custom", cwd=git_repo)
    assert result.exit_code == 0, result.stderr
    assert tomllib.loads((git_repo / ".continuous.toml").read_text())["scenario_paths"] == ["custom"]
    shown = invoke("scenarios", "show", "create-cli-pipeline", "--json", cwd=git_repo)
    data = json.loads(shown.stdout)
    assert data["origin"] == "repository" and data["overrides"]["replaced"] == "built-in"
    assert data["source"] == str((git_repo / "custom/create-cli-pipeline.scn").resolve())

"""Scenario packs: from a local bare git repository as the remote, from a folder, and from a Python package's entry
point (a real dist-info on sys.path). Real git throughout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from continuous.cli.main import app
from continuous.common.config import load_config
from continuous.common.errors import UserError
from continuous.dsl import packs
from continuous.dsl.loader import load_config_rule_base
from typer.testing import CliRunner

from ..conftest import git

runner = CliRunner()
MANIFEST = 'name = "{name}"\nversion = "{version}"\nrequires-continuous = "{requires}"\ndescription = "notes"\n'
SCENARIO = """scenario {sid} {{
  object infra
  summary "Write a note"
  param name: kebab required position 1
  step "write" render "note.md.j2" to "notes/{{{{ name }}}}.md"
}}
"""


def invoke(*args: str, cwd: Path) -> Any:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(app, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def write_pack(
    folder: Path,
    *,
    name: str = "acme",
    version: str = "1.0.0",
    requires: str = ">=0.1",
    sid: str = "write-acme-note",
    template: str = "acme v1 {{ name }}\n",
) -> None:
    (folder / "templates").mkdir(parents=True, exist_ok=True)
    (folder / "continuous-pack.toml").write_text(MANIFEST.format(name=name, version=version, requires=requires))
    (folder / "notes.scn").write_text(SCENARIO.format(sid=sid))
    (folder / "templates/note.md.j2").write_text(template)


class Remote:
    """A pack's source repository and the bare repository it is pushed to, which packs fetch from."""

    def __init__(self, base: Path) -> None:
        self.work = base / "pack-src"
        self.bare = base / "acme.git"
        self.work.mkdir()
        git(self.work, "init", "-q", "-b", "main")
        git(self.work, "config", "user.email", "p@example.com")
        git(self.work, "config", "user.name", "P")
        write_pack(self.work)
        self.commit("v1", tag="v1")
        git(base, "clone", "-q", "--bare", str(self.work), str(self.bare))
        git(self.work, "remote", "add", "origin", str(self.bare))

    def commit(self, message: str, tag: str | None = None) -> str:
        git(self.work, "add", "-A")
        git(self.work, "commit", "-q", "-m", message)
        if tag:
            git(self.work, "tag", tag)
        return git(self.work, "rev-parse", "HEAD")

    def push(self) -> None:
        git(self.work, "push", "-q", "--tags", "origin", "main")


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    return Remote(tmp_path)


def rule_base(root: Path) -> Any:
    return load_config_rule_base(load_config(root))


def lock(root: Path) -> dict[str, Any]:
    return tomllib.loads((root / "continuous.lock").read_text())


def test_git_pack_installs_is_pinned_and_is_refused_when_its_content_changes(git_repo: Path, remote: Remote) -> None:
    v1 = git(remote.bare, "rev-parse", "main")
    added = invoke("packs", "add", f"{remote.bare}@main", cwd=git_repo)
    assert added.exit_code == 0, added.stderr
    assert "added pack acme 1.0.0 (git, " in added.stdout and "scenarios: write-acme-note" in added.stdout
    pin = lock(git_repo)["pack"][0]
    assert pin["commit"] == v1 and pin["ref"] == "main" and pin["source"] == str(remote.bare)
    stored = git_repo / ".git/continuous/packs/acme" / v1
    assert pin["content-hash"] == packs.content_hash(stored)
    assert git(git_repo, "status", "--porcelain") == "?? continuous.lock"  # the pack itself is not in the tree
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "pin acme")

    rb = rule_base(git_repo)
    assert rb.origins["write-acme-note"] == f"pack acme@{v1[:12]}"
    assert rb.packs == {"acme": pin["content-hash"]}
    run = invoke("run-scenario", "write-acme-note", "first", "-y", cwd=git_repo)
    assert run.exit_code == 0, run.stderr + run.stdout
    assert (git_repo / "notes/first.md").read_text() == "acme v1 first\n"

    # Upstream moves on: the pin holds until `packs update`.
    (remote.work / "templates/note.md.j2").write_text("acme v2 {{ name }}\n")
    (remote.work / "continuous-pack.toml").write_text(MANIFEST.format(name="acme", version="1.1.0", requires=">=0.1"))
    v2 = remote.commit("v2")
    remote.push()
    assert rule_base(git_repo).origins["write-acme-note"] == f"pack acme@{v1[:12]}"
    hash_v1 = rb.content_hash()

    # Someone edits the fetched copy: every load refuses it, with the way out.
    (stored / "templates/note.md.j2").write_text("sneaky {{ name }}\n")
    refused = invoke("scenarios", "list", cwd=git_repo)
    assert refused.exit_code == 2
    assert "pack acme" in refused.stderr and "does not match continuous.lock" in refused.stderr
    assert "hint: review what changed; `continuous packs update acme`" in refused.stderr
    listed = invoke("packs", "list", "--json", cwd=git_repo)
    assert listed.exit_code == 2 and json.loads(listed.stdout)["packs"][0]["status"] == "modified"

    updated = invoke("packs", "update", "acme", cwd=git_repo)
    assert updated.exit_code == 0, updated.stderr
    assert f"acme: 1.0.0 ({v1[:12]} (main)) -> 1.1.0 ({v2[:12]} (main))" in updated.stdout
    assert lock(git_repo)["pack"][0]["commit"] == v2
    assert rule_base(git_repo).content_hash() != hash_v1  # saved plans made with v1 are now stale
    run = invoke("run-scenario", "write-acme-note", "second", "-y", cwd=git_repo)
    assert run.exit_code == 0, run.stderr + run.stdout
    assert (git_repo / "notes/second.md").read_text() == "acme v2 second\n"


def test_refusal_is_exit_2_from_a_real_process(git_repo: Path, remote: Remote) -> None:
    packs.add(git_repo, f"{remote.bare}@v1", cwd=git_repo)
    pin = lock(git_repo)["pack"][0]
    text = (git_repo / "continuous.lock").read_text().replace(pin["content-hash"], "sha256:" + "0" * 64)
    (git_repo / "continuous.lock").write_text(text)
    exe = Path(sys.executable).parent / "continuous"
    proc = subprocess.run(
        [str(exe), "scenarios", "show", "write-acme-note"], cwd=git_repo, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: pack acme (")
    assert "Traceback" not in proc.stderr
    assert "`continuous packs update acme`" in proc.stderr


def test_fresh_clone_installs_from_the_lock_and_worktrees_share_the_store(
    git_repo: Path, remote: Remote, tmp_path: Path
) -> None:
    packs.add(git_repo, str(remote.bare), cwd=git_repo)  # no ref: the remote's default branch
    assert lock(git_repo)["pack"][0].get("ref") is None
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "pin acme")
    worktree = tmp_path / "second-worktree"
    git(git_repo, "worktree", "add", "-q", str(worktree), "-b", "other")
    assert "write-acme-note" in rule_base(worktree).scenarios  # same git common dir, same store

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(git_repo), str(clone))
    missing = invoke("scenarios", "list", cwd=clone)
    assert missing.exit_code == 2
    assert "not fetched into this clone" in missing.stderr and "continuous packs install" in missing.stderr
    installed = invoke("packs", "install", cwd=clone)
    assert installed.exit_code == 0, installed.stderr
    assert "acme: fetched" in installed.stdout
    assert rule_base(clone).scenarios["write-acme-note"]
    assert "acme: present" in invoke("packs", "install", cwd=clone).stdout


def test_tag_pin_survives_a_moved_branch_and_update_ref_switches(git_repo: Path, remote: Remote) -> None:
    v1 = git(remote.bare, "rev-parse", "v1")
    packs.add(git_repo, f"{remote.bare}@v1", cwd=git_repo)
    (remote.work / "templates/note.md.j2").write_text("acme v2 {{ name }}\n")
    v2 = remote.commit("v2", tag="v2")
    remote.push()
    changes = packs.update(git_repo, [])
    assert [c.action for c in changes] == ["unchanged"] and lock(git_repo)["pack"][0]["commit"] == v1
    changes = packs.update(git_repo, ["acme"], ref="v2")
    assert changes[0].action == "updated"
    assert lock(git_repo)["pack"][0]["commit"] == v2 and lock(git_repo)["pack"][0]["ref"] == "v2"
    with pytest.raises(UserError, match="has no branch, tag or commit 'v9'"):
        packs.update(git_repo, ["acme"], ref="v9")
    assert lock(git_repo)["pack"][0]["commit"] == v2


def test_incompatible_or_invalid_pack_is_refused_and_nothing_is_pinned(git_repo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "future"
    write_pack(folder, requires=">=99")
    result = invoke("packs", "add", str(folder), cwd=git_repo)
    assert result.exit_code == 2
    assert "pack acme 1.0.0 (folder " in result.stderr
    assert "needs continuous >=99, but this is continuous" in result.stderr
    assert not (git_repo / "continuous.lock").exists()

    (folder / "continuous-pack.toml").write_text(
        MANIFEST.format(name="acme", version="1", requires=">=0.1") + 'homepage = "x"\n'
    )
    result = invoke("packs", "add", str(folder), cwd=git_repo)
    assert result.exit_code == 2 and "continuous-pack.toml: homepage: unknown key" in result.stderr
    (folder / "continuous-pack.toml").write_text(MANIFEST.format(name="Acme!", version="x.y", requires="soon"))
    result = invoke("packs", "add", str(folder), cwd=git_repo)
    assert result.exit_code == 2
    for part in ("name: String should match pattern", "'x.y' is not a version", "'soon' is not a version specifier"):
        assert part in result.stderr
    (folder / "continuous-pack.toml").unlink()
    result = invoke("packs", "add", str(folder), cwd=git_repo)
    assert result.exit_code == 2 and "is not a scenario pack: it has no continuous-pack.toml" in result.stderr
    assert not (git_repo / "continuous.lock").exists()


def test_folder_pack_is_pinned_by_content(git_repo: Path) -> None:
    write_pack(git_repo / "vendor/acme")
    result = invoke("packs", "add", "vendor/acme", cwd=git_repo)
    assert result.exit_code == 0, result.stderr
    pin = lock(git_repo)["pack"][0]
    assert pin["kind"] == "folder" and pin["source"] == "vendor/acme" and "commit" not in pin
    assert rule_base(git_repo).origins["write-acme-note"] == "pack acme (folder vendor/acme)"
    (git_repo / "vendor/acme/notes.scn").write_text(SCENARIO.format(sid="write-acme-note").replace("Write", "Send"))
    with pytest.raises(UserError, match=r"does not match continuous\.lock"):
        rule_base(git_repo)
    assert invoke("packs", "update", "acme", cwd=git_repo).exit_code == 0
    assert rule_base(git_repo).scenarios["write-acme-note"].summary == "Send a note"
    assert invoke("packs", "add", "vendor/acme@main", cwd=git_repo).exit_code == 2


def test_a_clashing_pack_is_not_pinned_and_remove_unpins(git_repo: Path, tmp_path: Path) -> None:
    write_pack(tmp_path / "one")
    write_pack(tmp_path / "two", name="other")
    assert invoke("packs", "add", str(tmp_path / "one"), cwd=git_repo).exit_code == 0
    before = (git_repo / "continuous.lock").read_text()
    clash = invoke("packs", "add", str(tmp_path / "two"), cwd=git_repo)
    assert clash.exit_code == 2
    assert "scenario 'write-acme-note' is defined by both pack acme" in clash.stderr
    assert (git_repo / "continuous.lock").read_text() == before
    same_name = tmp_path / "three"
    write_pack(same_name, sid="write-third-note")
    result = invoke("packs", "add", str(same_name), cwd=git_repo)
    assert result.exit_code == 2 and "a pack named acme is already added" in result.stderr
    removed = invoke("packs", "remove", "acme", cwd=git_repo)
    assert removed.exit_code == 0
    assert not (git_repo / "continuous.lock").exists()
    assert "write-acme-note" not in rule_base(git_repo).scenarios
    assert invoke("packs", "remove", "acme", cwd=git_repo).exit_code == 2


def test_python_entry_point_pack(git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    write_pack(site / "acme_scenarios", name="acme-py")
    (site / "acme_scenarios/__init__.py").write_text("")
    dist = site / "acme_scenarios-2.0.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-scenarios\nVersion: 2.0.0\n")
    (dist / "entry_points.txt").write_text("[continuous.packs]\nacme-py = acme_scenarios\n")
    monkeypatch.syspath_prepend(str(site))
    listed = invoke("packs", "list", cwd=git_repo)
    assert "installed Python packs not added yet: acme-py (acme-scenarios 2.0.0)" in listed.stdout
    added = invoke("packs", "add", "python:acme-py", cwd=git_repo)
    assert added.exit_code == 0, added.stderr
    pin = lock(git_repo)["pack"][0]
    assert pin["kind"] == "python" and pin["commit"] == "acme-scenarios==2.0.0" and pin["source"] == "acme-py"
    assert rule_base(git_repo).origins["write-acme-note"] == "pack acme-py@1.0.0 (acme-scenarios==2.0.0)"
    (site / "acme_scenarios/templates/note.md.j2").write_text("upgraded {{ name }}\n")
    with pytest.raises(UserError, match=r"pack acme-py .* does not match continuous\.lock"):
        rule_base(git_repo)
    (dist / "entry_points.txt").write_text("[continuous.packs]\nacme-py = acme_scenarios:PACK\n")
    with pytest.raises(UserError, match="names a package"):
        packs.update(git_repo, ["acme-py"])
    assert invoke("packs", "add", "python:nothing-here", cwd=git_repo).exit_code == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://user@host.example/org/pack.git@v1.2", ("https://user@host.example/org/pack.git", "v1.2")),
        ("https://host.example/org/pack.git", ("https://host.example/org/pack.git", None)),
        ("git@host.example:org/pack.git@release/2", ("git@host.example:org/pack.git", "release/2")),
        ("git@host.example:org/pack.git", ("git@host.example:org/pack.git", None)),
        ("../packs/acme.git@main", ("../packs/acme.git", "main")),
    ],
)
def test_source_and_ref_are_split_where_the_at_is_not_a_user(text: str, expected: tuple[str, str | None]) -> None:
    assert packs._split_ref(text) == expected


def test_a_url_with_a_password_is_refused(git_repo: Path) -> None:
    with pytest.raises(UserError, match=r"https://me:\*\*\*@host.example/p.git: a pack URL may not carry a password"):
        packs.parse_spec("https://me:secret@host.example/p.git", git_repo, git_repo)


def test_symbolic_links_are_refused(git_repo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "linked"
    write_pack(folder)
    (folder / "templates/other.j2").symlink_to("/etc/hostname")
    result = invoke("packs", "add", str(folder), cwd=git_repo)
    assert result.exit_code == 2 and "may not contain symbolic links" in result.stderr

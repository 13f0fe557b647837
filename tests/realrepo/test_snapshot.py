"""The tier's own ground: the copy is a committed git work tree and discovery sees its apps."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import cli, git, snapshot


def test_the_copy_is_committed_and_clean(real_repo: Path) -> None:
    assert git(real_repo, "status", "--porcelain") == ""
    assert len(snapshot(real_repo)) > 1000


def test_discovery_finds_every_app_of_the_snapshot(real_repo: Path) -> None:
    proc = cli(real_repo, "facts", "--type", "app", "--json")
    assert proc.returncode == 0, proc.stderr
    found = {f["fields"]["name"] for f in json.loads(proc.stdout)}
    on_disk = {p.parent.name for p in real_repo.glob("apps/*/package.json")}
    assert on_disk and found == on_disk

"""A finished run refreshes the repository's living inventory (where the repository keeps one)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ..conftest import cli, git


def run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli(repo, *args)


@pytest.mark.slow  # create-table runs generate-types with node
def test_run_refreshes_existing_inventory(example_repo: Path) -> None:
    built = run(example_repo, "docs", "build")
    assert built.returncode == 0, built.stderr
    inventory = example_repo / "docs" / "continuously-updated" / "inventory.md"
    assert inventory.exists()
    assert "bookmark_items" not in inventory.read_text()
    git(example_repo, "add", "-A")
    git(example_repo, "commit", "-q", "-m", "living docs")

    result = run(example_repo, "run-scenario", "create-table", "bookmark_items", "--yes", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert "docs/continuously-updated/inventory.md" in data["refreshed"]
    assert "bookmark_items" in inventory.read_text()


@pytest.mark.slow  # create-table runs generate-types with node
def test_run_without_inventory_writes_none(example_repo: Path) -> None:
    result = run(example_repo, "run-scenario", "create-table", "bookmark_items", "--yes", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["refreshed"] == []
    assert not (example_repo / "docs" / "continuously-updated" / "inventory.md").exists()

"""Defect 9: package.json edits keep every byte outside the change and put a new script beside like entries.

The snapshot's root package.json groups its scripts under `"// Group": "..."` keys separated by blank lines (that
carry trailing spaces). A scenario that adds a script inserts one line there, in the right group, and changes
nothing else.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import cli


def committed(root: Path, rel: str) -> str:
    return subprocess.run(["git", "show", f"HEAD:{rel}"], cwd=root, capture_output=True, text=True, check=True).stdout


def inserted(before: str, after: str) -> tuple[int, str]:
    """The one line `after` adds to `before` (and its index); the line before it may only have gained a comma."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(new) == len(old) + 1
    at = next(i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b)
    if old[at].rstrip("\n") + "," == new[at].rstrip("\n"):  # the last entry of its object gained a comma
        at += 1
        assert new[: at - 1] == old[: at - 1] and new[at + 1 :] == old[at:]
    else:
        assert new[:at] == old[:at] and new[at + 1 :] == old[at:]
    return at, new[at]


@pytest.mark.parametrize(
    ("args", "key", "after_key"),
    [
        (("add-pnpm-script", "gmail", "./scripts/cli-pipeline/gmail/gmail-cli.sh"), "gmail", "maintenance"),
        (("add-pnpm-script", "lint:fix", "turbo run lint -- --fix"), "lint:fix", "lint"),
        (("create-proxy-server", "pdf-proxy", "--param", "port=3011"), "server:pdf-proxy", "servers"),
        (("create-app", "dhg-reports", "--param", "port=5195"), "dev:reports", "dev:research"),
        (("setup-monitoring", "google_sync", "pipeline"), "monitor:google-sync", "monitoring"),
    ],
)
def test_a_new_script_is_one_line_beside_its_like_entries(
    real_repo: Path, args: tuple[str, ...], key: str, after_key: str
) -> None:
    proc = cli(real_repo, "run-scenario", *args, "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    before = committed(real_repo, "package.json")
    after = (real_repo / "package.json").read_text()
    at, line = inserted(before, after)
    assert line.startswith(f'    "{key}": ')
    previous = after.splitlines()[at - 1].strip()
    assert previous.startswith(f'"{after_key}":')
    assert json.loads(after)["scripts"][key]


def test_an_existing_script_is_changed_in_place(real_repo: Path) -> None:
    proc = cli(real_repo, "run-scenario", "consolidate-pipelines", "prompt_service", "ai", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    before = committed(real_repo, "package.json").splitlines(keepends=True)
    after = (real_repo / "package.json").read_text().splitlines(keepends=True)
    # the root script that ran the prompt_service wrapper ("prompt") now goes through the ai wrapper
    diff = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert diff == [
        (
            '    "prompt": "./scripts/cli-pipeline/prompt_service/prompt-service-cli.sh",\n',
            '    "prompt": "./scripts/cli-pipeline/ai/ai-cli.sh prompt-service",\n',
        )
    ]

"""Golden files of generated code: a change to a template shows up as a reviewed diff of these files.

Regenerate after an intended change with CONTINUOUS_UPDATE_GOLDEN=1 pytest tests/scenarios/test_golden.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Applied, clock

GOLDEN = Path(__file__).resolve().parent / "golden"
FILES = [
    "supabase/migrations/20260102030406_create_doc_notes.sql",
    "supabase/migrations/20260102030406_create_doc_notes_down.sql",
    "packages/shared/services/notes/notes.ts",
    "packages/shared/services/notes/index.ts",
    "packages/shared/services/index.ts",
    "apps/dhg-hub/src/pages/NotesPage.tsx",
    "apps/dhg-hub/src/App.tsx",
    "scripts/cli-pipeline/notes/notes-cli.sh",
    "scripts/cli-pipeline/notes/commands/list-notes.ts",
    "scripts/cli-pipeline/proxies/notes-proxy-server.ts",
    "scripts/start-all-servers.js",
]


def test_generated_files_match_golden(example_copy: Path, apply: Callable[..., Applied]) -> None:
    tick = clock()
    apply(
        example_copy, "create-table", tick(), name="doc_notes", columns="title:text,body:text", access="owner"
    )
    apply(example_copy, "create-service", tick(), name="notes", table="doc_notes")
    apply(example_copy, "add-page", tick(), app="dhg-hub", name="Notes")
    apply(example_copy, "create-cli-pipeline", tick(), name="notes")
    apply(
        example_copy, "add-cli-command", tick(), pipeline="notes", name="list-notes", description="List notes"
    )
    apply(example_copy, "create-proxy-server", tick(), name="notes-proxy", port=3020)
    apply(
        example_copy, "add-proxy-endpoint", tick(), proxy="notes-proxy", method="GET", path="/api/notes/:id"
    )
    update = os.environ.get("CONTINUOUS_UPDATE_GOLDEN") == "1"
    mismatched = []
    for rel in FILES:
        golden = GOLDEN / rel.replace("/", "__")
        actual = (example_copy / rel).read_text(encoding="utf-8")
        if update:
            golden.parent.mkdir(exist_ok=True)
            golden.write_text(actual, encoding="utf-8")
        elif not golden.exists() or golden.read_text(encoding="utf-8") != actual:
            mismatched.append(rel)
    if mismatched:
        pytest.fail(
            f"generated files differ from tests/scenarios/golden: {', '.join(mismatched)} "
            "(CONTINUOUS_UPDATE_GOLDEN=1 regenerates them)"
        )


def test_file_steps_are_idempotent(example_copy: Path, apply: Callable[..., Applied]) -> None:
    """Applying the same scenario twice (a resumed run) changes nothing the second time."""
    tick = clock()
    runs = [
        ("add-page", {"app": "dhg-hub", "name": "Notes"}),
        ("add-cli-command", {"pipeline": "document", "name": "link-check", "wrapper": "doc-cli.sh"}),
        ("add-shared-component", {"name": "NoteCard", "area": "theme"}),
        ("add-pnpm-script", {"name": "notes", "command": "echo notes"}),
        ("configure-environment", {"name": "NOTES_KEY", "scope": "both"}),
    ]
    now = tick()
    for sid, params in runs:
        apply(example_copy, sid, now, **params)
    snapshot = {p: p.read_bytes() for p in example_copy.rglob("*") if p.is_file() and ".git" not in p.parts}
    for sid, params in runs:
        apply(example_copy, sid, now, **params)
    again = {p: p.read_bytes() for p in example_copy.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert again == snapshot

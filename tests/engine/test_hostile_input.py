"""Hostile input is refused before anything runs: exit 2, one clear line, nothing written (issue 12, section 3).

Every test drives the real `continuous` program (or the executor) on a real git repository, with a small scenario
library written by the test next to the executor tests' library.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from continuous.store import open_store

LIB = Path(__file__).resolve().parent / "data" / "lib"

HOSTILE_LIB = r'''
scenario say {
  object infra
  summary "Writes a note and echoes text"
  param name: snake required position 1
  param description: string default "plain"
  step "note" doc "docs/{{ name }}.md" append "{{ description }}"
  step "echo" run ["python3", "-c", "print('[/x] [bold]done[/bold] [/]')"]
}

scenario fail-loud {
  object infra
  summary "A command fails with markup-looking output"
  param name: snake required position 1
  step "note" doc "docs/{{ name }}.md" append "started"
  step "fail" run ["python3", "-c", "import sys; print('[/x] closing tag [red]'); sys.exit(3)"]
}
'''


@pytest.fixture
def hrepo(repo: Path, tmp_path: Path, h) -> Iterator[Path]:
    """The executor tests' repository with the hostile-input library added."""
    lib = tmp_path / "hlib"
    h.write(lib, "hostile.scn", HOSTILE_LIB)
    h.write(repo, ".continuous.toml", f'scenario_paths = ["{LIB}", "{lib}"]\ninclude_builtin = false\n')
    h.git(repo, "commit", "-qam", "hostile library")
    yield repo


def _running_rows(db_url: str) -> list[str]:
    with open_store(db_url) as store:
        return [r.id for r in store.list_executions(limit=100) if r.status == "running"]


# ---------------------------------------------------------------- rich markup


def test_markup_in_a_parameter_is_printed_as_text(hrepo: Path, db_url: str, h) -> None:
    proc = h.cli(hrepo, "run-scenario", "say", "notes", "--param", "description=[/x] [bold]b[/bold]", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "internal error" not in proc.stderr
    assert "[/x]" in proc.stdout  # printed literally, never interpreted
    assert (hrepo / "docs/notes.md").read_text() == "[/x] [bold]b[/bold]\n"
    assert _running_rows(db_url) == []


def test_markup_in_a_failing_commands_output_rolls_back_cleanly(hrepo: Path, db_url: str, h) -> None:
    before = h.snapshot(hrepo)
    proc = h.cli(hrepo, "run-scenario", "fail-loud", "notes", "--yes")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "internal error" not in proc.stderr
    assert "[/x] closing tag [red]" in proc.stdout + proc.stderr
    assert h.snapshot(hrepo) == before
    assert _running_rows(db_url) == []


def test_a_failing_progress_display_never_breaks_a_run(hrepo: Path, db_url: str) -> None:
    from continuous.engine.executor import Executor, Request

    def display(kind: str, data: dict[str, object]) -> None:
        raise ValueError(f"display broke on {kind}")

    ex = Executor(hrepo, on_event=display)
    try:
        result = ex.run(ex.build_plan([Request("fail-loud", ("notes",))]))
    finally:
        ex.close()
    assert not result.ok and "exited with 3" in (result.error or "")
    assert not (hrepo / "docs/notes.md").exists()
    assert _running_rows(db_url) == []


def test_console_tables_and_notes_print_markup_as_text() -> None:
    from continuous.cli.output import console
    from rich.table import Table

    out = console()
    table = Table(title="[/title]")
    table.add_column("[/col]")
    table.add_row("[/x] [bold]cell")
    with out.capture() as captured:
        out.print(table)
        out.print("[/note]")
    text = captured.get()
    assert "[/title]" in text and "[/col]" in text and "[/x] [bold]cell" in text and "[/note]" in text

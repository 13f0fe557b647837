"""Slot grounding against the real monorepo's facts: a table named by the head noun of a longer table's name is
a new table, and a tsconfig import alias (`@pages`) names no app."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import cli


def _plan(root: Path, request: str) -> list[dict[str, object]]:
    proc = cli(root, "suggest", "--json", request)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    return [*out["plan"], *out["skipped"]]


def test_plan_a_column_on_a_table_named_like_the_end_of_a_longer_one(real_repo: Path) -> None:
    # the fixture has learn_media_topic_segments; "the segments table" is another, new table
    plan = _plan(real_repo, "add a project_id column to the segments table")
    tables = {str(p["params"].get("table")) for p in plan if p["scenario"] == "modify-schema"}  # type: ignore[union-attr]
    assert tables and "learn_media_topic_segments" not in tables
    assert all(t.endswith("segments") for t in tables)


def test_plan_a_page_names_no_app_through_an_import_alias(real_repo: Path) -> None:
    # dhg-audio's tsconfig has "@pages/*", "@components/*": no name of the app
    plan = _plan(real_repo, "add a pricing page")
    assert any(p["scenario"] == "add-page" for p in plan)
    assert not [p for p in plan if p["params"].get("app") == "dhg-audio"]  # type: ignore[union-attr]
    assert not [p for p in plan if p["scenario"] == "create-app"]

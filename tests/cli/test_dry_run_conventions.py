"""A dry-run says which layout conventions its files read that `.continuous.toml` does not set, and where each
came from (detected, with what it was read from, or the default), before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

from continuous.common.config import load_config, recording_conventions, template_conventions
from continuous.dsl.templating import render_string

from .conftest import git
from .test_missing_params import _golden


def _section(text: str) -> str:
    """The dry-run from its file list to the systems: the paths and the conventions, without the head commit."""
    return text[text.index("Files (") : text.index("Systems affected:")]


def _only(repo: Path, toml: str) -> None:
    (repo / ".continuous.toml").write_text(toml)
    git(repo, "commit", "-qam", "conventions")


def test_the_conventions_a_plan_reads_and_their_sources(example_repo: Path, piped) -> None:
    # the file sets the apps folder only: the prefix and the test runner are read from the apps
    _only(example_repo, '[conventions]\napps_dir = "apps"\n')
    proc = piped(example_repo, "run-scenario", "create-app", "dhg-reports", "--dry-run", "--no-diff")
    assert proc.returncode == 0, proc.stderr
    _golden("dry-run-conventions-create-app.txt", _section(proc.stdout))
    # a service: its folder detected from the services there, the types file it imports
    proc = piped(example_repo, "run-scenario", "create-service", "bookmark-service", "--dry-run", "--no-diff")
    assert proc.returncode == 0, proc.stderr
    _golden("dry-run-conventions-create-service.txt", _section(proc.stdout))
    # --json lists every convention read, those of the file too
    proc = piped(example_repo, "run-scenario", "create-app", "dhg-reports", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    used = {c["key"]: c for c in json.loads(proc.stdout)["conventions"]}
    assert used["apps_dir"] == {
        "key": "apps_dir",
        "value": "apps",
        "source": "file",
        "evidence": "[conventions] of .continuous.toml",
    }
    assert used["app_prefix"]["source"] == "detected" and used["app_prefix"]["value"] == "dhg-"
    assert "services_dir" not in used


def test_conventions_all_set_in_the_file_are_not_repeated(example_repo: Path, piped) -> None:
    from continuous.common.layout import conventions_table, detect

    _only(example_repo, conventions_table(detect(example_repo)))  # what `continuous init` writes
    proc = piped(example_repo, "run-scenario", "create-app", "dhg-reports", "--dry-run", "--no-diff")
    assert proc.returncode == 0, proc.stderr
    assert "Conventions used" not in proc.stdout and "apps/dhg-reports/package.json" in proc.stdout


def test_reading_the_repository_is_not_what_a_plan_reads(example_repo: Path) -> None:
    # discovery reads the conventions too, but only when its facts are not cached: never recorded
    from continuous.dsl.loader import load_config_rule_base
    from continuous.engine.discovery import discover

    rule_base = load_config_rule_base(load_config(example_repo))
    with recording_conventions() as read:
        assert discover(rule_base, example_repo)
        assert read == set()
        assert render_string("{{ conventions.services_dir }}/x", {}) == "packages/shared/services/x"
        assert template_conventions()["migrations_dir"] == "supabase/migrations"
    assert read == {"services_dir", "migrations_dir"}

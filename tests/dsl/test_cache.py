"""The parsed rule base is cached (dsl/cache.py) by file stamps and reparsed when any file changes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from continuous.common.config import load_config
from continuous.dsl import cache
from continuous.dsl.loader import load_config_rule_base


def test_cache_hit_and_invalidation(tmp_path: Path) -> None:
    dsl = tmp_path / "lib.scn"
    dsl.write_text('scenario one-thing {\n  object infra\n  summary "First"\n}\n')
    first = cache.load([dsl], include_builtin=False, cache_dir=tmp_path / "c")
    assert list(first.scenarios) == ["one-thing"]
    assert list((tmp_path / "c" / "rulebase").glob("*.pickle"))
    again = cache.load([dsl], include_builtin=False, cache_dir=tmp_path / "c")
    assert again == first
    time.sleep(0.01)
    dsl.write_text('scenario other-thing {\n  object infra\n  summary "Second"\n}\n')
    changed = cache.load([dsl], include_builtin=False, cache_dir=tmp_path / "c")
    assert list(changed.scenarios) == ["other-thing"]


def test_a_new_file_in_a_library_directory_is_seen(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "a.scn").write_text('scenario a-thing {\n  object infra\n  summary "A"\n}\n')
    assert list(cache.load([lib], include_builtin=False, cache_dir=tmp_path / "c").scenarios) == ["a-thing"]
    (lib / "b.scn").write_text('scenario b-thing {\n  object infra\n  summary "B"\n}\n')
    assert sorted(cache.load([lib], include_builtin=False, cache_dir=tmp_path / "c").scenarios) == [
        "a-thing",
        "b-thing",
    ]


def test_the_one_loader_reads_the_cache_and_builds_the_same_rule_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    repo = tmp_path / "repo"
    (repo / "lib").mkdir(parents=True)
    (repo / "lib" / "a.scn").write_text('scenario a-thing {\n  object infra\n  summary "A"\n}\n')
    (repo / ".continuous.toml").write_text('scenario_paths = ["lib"]\n')
    config = load_config(repo)
    built = load_config_rule_base(config)
    assert "a-thing" in built.scenarios and len(built.scenarios) > 1  # the built-in library too
    assert load_config_rule_base(config, cached=True) == built
    assert list((tmp_path / "xdg" / "continuous" / "rulebase").glob("*.pickle"))

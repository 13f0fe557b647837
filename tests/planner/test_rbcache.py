"""The parsed rule base is cached by file stamps and reparsed when any file changes."""

from __future__ import annotations

import time
from pathlib import Path

from continuous.planner import rbcache


def test_cache_hit_and_invalidation(tmp_path: Path) -> None:
    dsl = tmp_path / "lib.scn"
    dsl.write_text('scenario one-thing {\n  object infra\n  summary "First"\n}\n')
    first = rbcache.load([dsl], include_builtin=False, cache_dir=tmp_path / "c")
    assert list(first.scenarios) == ["one-thing"]
    assert list((tmp_path / "c" / "rulebase").glob("*.pickle"))
    again = rbcache.load([dsl], include_builtin=False, cache_dir=tmp_path / "c")
    assert again == first
    time.sleep(0.01)
    dsl.write_text('scenario other-thing {\n  object infra\n  summary "Second"\n}\n')
    changed = rbcache.load([dsl], include_builtin=False, cache_dir=tmp_path / "c")
    assert list(changed.scenarios) == ["other-thing"]


def test_a_new_file_in_a_library_directory_is_seen(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "a.scn").write_text('scenario a-thing {\n  object infra\n  summary "A"\n}\n')
    assert list(rbcache.load([lib], include_builtin=False, cache_dir=tmp_path / "c").scenarios) == ["a-thing"]
    (lib / "b.scn").write_text('scenario b-thing {\n  object infra\n  summary "B"\n}\n')
    assert sorted(rbcache.load([lib], include_builtin=False, cache_dir=tmp_path / "c").scenarios) == [
        "a-thing",
        "b-thing",
    ]

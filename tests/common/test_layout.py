"""What `init` reads from a repository's files: where several files could be the record, the right one."""

from __future__ import annotations

import subprocess
from pathlib import Path

from continuous.common.layout import detect

TYPES = "export type Database = { public: { Tables: {} } }\n"


def _repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    return root


def _found(root: Path) -> dict[str, object]:
    return {f.key: f.value for f in detect(root)}


def test_the_types_file_beside_the_migrations_wins_over_an_apps_copy(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "apps/aaa-web/src/integrations/supabase/types.ts": TYPES,
            "db/migrations/20250101000000_create_x.sql": "create table team_x (id int);\n",
            "db/types.ts": TYPES,
        },
    )
    assert _found(root)["types_file"] == "db/types.ts"


def test_without_migrations_the_shallowest_types_file_wins(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"apps/web/src/lib/types.ts": TYPES, "src/types.ts": TYPES})
    assert _found(root)["types_file"] == "src/types.ts"


def test_a_types_file_that_declares_no_database_is_not_taken(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"src/types.ts": "export type User = {}\n"})
    found = next(f for f in detect(root) if f.key == "types_file")
    assert "not found" in found.evidence

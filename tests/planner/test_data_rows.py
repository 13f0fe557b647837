"""The labelled real-request splits and the planner's training text stay consistent: every row of every split
(tune, test and the seven never-tuned fresh splits) names real scenarios and parameters with acceptable values, no
request is in two splits, and no never-tuned request is trained on. `check_rows.py` reports held-out problems by id
and count only, so running it here reveals no label."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHECK = REPO / "bench" / "data" / "planner" / "check_rows.py"


def test_every_split_and_training_file_passes_check_rows() -> None:
    result = subprocess.run([sys.executable, str(CHECK)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout
    assert "0 problem(s)" in result.stderr
    for split in ("tune", "test", "fresh", "fresh2", "fresh3", "fresh4", "fresh5", "fresh6", "fresh7"):
        assert f"{split}.jsonl: " in result.stderr


def test_check_rows_refuses_a_missing_file(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(CHECK), str(tmp_path / "nope.jsonl")], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 2 and "no such file" in result.stderr

"""Two `create-app` in a row never share a port: app ports go through the port registry like proxy ports
(issue 12 §4), and port parameters refuse values outside 1-65535 (§3)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXE = str(Path(sys.executable).parent / "continuous")


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTINUOUS_DATABASE_URL": f"sqlite:///{root.parent}/track.db"}
    return subprocess.run([EXE, *args], cwd=root, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "mono"
    proc = subprocess.run([EXE, "init", "--example", str(root)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return root


def _ports(root: Path, app: str) -> tuple[int, int]:
    text = (root / f"apps/{app}/vite.config.ts").read_text()
    found = [int(p) for p in re.findall(r"port: (\d+)", text)]
    return found[0], found[1]


def test_two_create_app_in_a_row_take_different_ports(example: Path) -> None:
    for name in ("dhg-one", "dhg-two"):
        proc = _cli(example, "run-scenario", "create-app", name, "--yes")
        assert proc.returncode == 0, proc.stdout + proc.stderr
    one, two = _ports(example, "dhg-one"), _ports(example, "dhg-two")
    assert one[0] != two[0] and one[1] != two[1], (one, two)
    assert one == (5180, 4180)


def test_an_app_port_out_of_range_is_refused(example: Path) -> None:
    for port in ("70000", "9" * 40):
        proc = _cli(example, "run-scenario", "create-app", "dhg-one", "--param", f"port={port}", "--yes")
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "between" in proc.stderr
    assert not (example / "apps/dhg-one").exists()

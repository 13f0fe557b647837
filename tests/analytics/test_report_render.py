"""The HTML report renders in headless Chromium with visible charts (a screenshot full of colour)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from continuous.analytics import duck
from continuous.analytics import queries as q
from continuous.analytics.report import build_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_report_renders_in_headless_chromium(exported: Path, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (.ci/chromium.sh installs Debian's package)")
    from PIL import Image

    report = build_report(duck.connect(exported), q.Filters(), tmp_path / "report.html")
    shot = tmp_path / "out.png"
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--window-size=1280,1600",
                "--hide-scrollbars",
                f"--screenshot={shot}",
                report.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    with Image.open(shot) as img:
        rgb = img.convert("RGB")
        assert rgb.size == (1280, 1600)
        colours = rgb.getcolors(maxcolors=1 << 20) or []
    # a blank or unstyled page has a handful of colours; four anti-aliased charts have hundreds
    assert len(colours) > 300, len(colours)
    counts = {c: n for n, c in colours}
    success_green = sum(n for c, n in counts.items() if c[1] > 100 and c[0] < 80 and c[2] < 80)
    assert success_green > 2000  # the bars of successful executions are drawn

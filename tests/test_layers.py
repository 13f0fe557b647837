"""The layers of docs/architecture.md are enforced: import-linter's contract in pyproject.toml is what the table
says, the package keeps it, and an upward (or sideways) import breaks it — a real `lint-imports` run on a copy of
the package with one import injected."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .conftest import REPO_ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _contract() -> dict[str, object]:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c for c in contracts if c["type"] == "layers"]
    return layers


def _allowed_by_contract() -> dict[str, tuple[int, set[str]]]:
    """package -> (layer number from the top, the packages it may import)."""
    layers = _contract()["layers"]
    assert isinstance(layers, list)
    groups = [(re.split(r"\s*[|:]\s*", layer.strip()), ":" in layer) for layer in layers]
    out: dict[str, tuple[int, set[str]]] = {}
    for n, (names, siblings_may_import) in enumerate(groups, 1):
        below = {name for lower, _ in groups[n:] for name in lower}
        for name in names:
            peers = {p for p in names if p != name} if siblings_may_import else set()
            out[name] = (n, below | peers)
    return out


def _table() -> dict[str, tuple[int, set[str]]]:
    """package -> (layer, may import) from the table of docs/architecture.md."""
    text = (REPO_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    out: dict[str, tuple[int, set[str]]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not cells[0].isdigit():
            continue
        folder = re.fullmatch(r"`(\w+)/`", cells[2])
        assert folder, f"docs/architecture.md: folder cell {cells[2]!r} is not `name/`"
        may = set() if cells[4] == "—" else set(re.findall(r"`(\w+)`", cells[4]))
        out[folder.group(1)] = (int(cells[0]), may)
    return out


def test_the_architecture_table_is_the_contract() -> None:
    table, contract = _table(), _allowed_by_contract()
    assert table == contract, "docs/architecture.md's layer table and pyproject.toml's import-linter contract differ"


def test_every_package_is_in_a_layer() -> None:
    packages = {p.parent.name for p in REPO_ROOT.glob("*/__init__.py")}
    assert packages == set(_allowed_by_contract())


def _lint(site: Path) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: import-linter is in the dev extra (make install)")
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(REPO_ROOT / "pyproject.toml"), "--no-cache"],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _copy_package(dest: Path) -> Path:
    """The package's Python code (root module and every package folder) as `continuous` under dest."""
    pkg = dest / "continuous"
    pkg.mkdir(parents=True)
    shutil.copy2(REPO_ROOT / "__init__.py", pkg / "__init__.py")
    for init in REPO_ROOT.glob("*/__init__.py"):
        shutil.copytree(init.parent, pkg / init.parent.name, ignore=shutil.ignore_patterns("__pycache__", "data"))
    return pkg


def test_the_package_keeps_the_contract(tmp_path: Path) -> None:
    _copy_package(tmp_path)
    proc = _lint(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 kept, 0 broken" in proc.stdout


@pytest.mark.parametrize(
    ("module", "injected", "message"),
    [
        (
            "dsl/model.py",
            "from continuous.engine import facts",
            "continuous.dsl is not allowed to import continuous.engine",
        ),
        (
            "engine/executor.py",
            "from continuous.analytics import estimates",
            "continuous.engine is not allowed to import continuous.analytics",
        ),
        (
            "store/url.py",
            "from continuous.cli import output",
            "continuous.store is not allowed to import continuous.cli",
        ),
    ],
)
def test_an_upward_or_sideways_import_breaks_the_contract(
    tmp_path: Path, module: str, injected: str, message: str
) -> None:
    pkg = _copy_package(tmp_path)
    target = pkg / module
    with target.open("a", encoding="utf-8") as fh:
        fh.write(f"\n\ndef _injected_by_the_test() -> None:\n    {injected}\n")
    proc = _lint(tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "0 kept, 1 broken" in proc.stdout
    assert message in proc.stdout
    assert "continuous." + module.removesuffix(".py").replace("/", ".") in proc.stdout

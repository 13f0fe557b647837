"""The wheel installs exactly one top-level name, `continuous`, with its data files; nothing generic leaks out."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
        text=True,
    )
    (found,) = out.glob("continuous-*.whl")
    return found


@pytest.mark.slow
def test_wheel_holds_only_the_continuous_namespace(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"continuous", next(t for t in tops if t.endswith(".dist-info"))}
    for required in (
        "continuous/__init__.py",
        "continuous/grammar.lark",
        "continuous/dsl/parser.py",
        "continuous/engine/resolution.py",
        "continuous/migrations/env.py",
    ):
        assert required in names, required
    assert any(n.startswith("continuous/scenarios/") and n.endswith(".scn") for n in names)
    sources = {
        "continuous/" + init.relative_to(REPO).as_posix()
        for init in REPO.rglob("__init__.py")
        if not set(init.relative_to(REPO).parts) & {"tests", "bench", ".venv", "build", ".cache", "scenarios"}
    }
    assert sources - set(names) == set(), "packages missing from pyproject's [tool.setuptools] packages"
    data = {
        "continuous/" + f.relative_to(REPO).as_posix()
        for folder in REPO.glob("*/data")
        if (folder.parent / "__init__.py").is_file()
        for f in folder.iterdir()
        if f.is_file()
    }
    assert "continuous/common/data/layout.toml" in data
    assert data - set(names) == set(), "data files missing from pyproject's [tool.setuptools.package-data]"
    assert not any(n.startswith(("continuous/tests/", "continuous/bench/", "continuous/.venv")) for n in names)


@pytest.mark.slow
def test_non_editable_install_in_fresh_venv(tmp_path: Path) -> None:
    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", str(REPO)],
        check=True,
        capture_output=True,
        text=True,
    )
    site = Path(
        subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    ours = {p.name for p in site.iterdir()} - {
        "pip",
        "setuptools",
        "_distutils_hack",
        "distutils-precedence.pth",
        "pkg_resources",
        "__pycache__",
    }
    ours = {n for n in ours if not n.startswith(("pip-", "setuptools-"))}
    assert {n for n in ours if not n.endswith(".dist-info")} == {"continuous"}
    # Dependencies come from the development environment; the package itself from the fresh install.
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    probe = subprocess.run(
        [
            str(py),
            "-c",
            "import continuous, continuous.dsl.loader as l; "
            "rb = l.load_rule_base(); print(continuous.__file__, len(rb.scenarios))",
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    path, count = probe.stdout.split()
    assert Path(path).is_relative_to(site)
    assert int(count) >= 25

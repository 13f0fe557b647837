"""`.continuous.toml` is validated: wrong types, unknown keys and scenario paths that reach outside the
repository are refused with one clear message (issue 12 §3)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from continuous.common.config import CONVENTION_DEFAULTS, Conventions, load_config
from continuous.common.errors import UserError

EXE = str(Path(sys.executable).parent / "continuous")


def _write(root: Path, text: str) -> None:
    (root / ".continuous.toml").write_text(text)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('include_builtin = "yes"', ["include_builtin", "true or false"]),
        ("include_builtin = 1", ["include_builtin", "true or false"]),
        ('scenario_paths = "lib"', ["scenario_paths", "list"]),
        ("scenario_paths = [1]", ["scenario_paths", "string"]),
        ('scenario_paths = ["../../.."]', ["../../..", "leaves the repository"]),
        ('scenario_paths = ["lib/../../x"]', ["lib/../../x", "leaves the repository"]),
        ('scenario_paths = ["/"]', ["'/'", "contains the repository"]),
        ('scenario_paths = [""]', ["empty"]),
        ('scenario_paths = [".git/x"]', [".git"]),
        ("database_url = 5", ["database_url", "string"]),
        ('databse_url = "sqlite:///x"', ["unknown key", "databse_url", "database_url"]),
        ("port_range = [5000]", ["port_range", "[low, high]"]),
        ("port_range = [6000, 5000]", ["port_range", "[low, high]"]),
        ("port_range = [0, 70000]", ["port_range", "[low, high]"]),
        ('port_range = ["1", "2"]', ["port_range"]),
        (
            '[conventions]\ntable_domains = ["Billing"]',
            ["conventions.table_domains", "'Billing' is not a lowercase word"],
        ),
        ('[conventions]\ntest_runner = "Mocha"', ["conventions.test_runner", "must be one of: vitest, jest"]),
        ("[conventions]\napps_dir = 5", ["conventions.apps_dir", "input should be a valid string"]),
    ],
)
def test_bad_configuration_is_refused(git_repo: Path, text: str, words: list[str]) -> None:
    _write(git_repo, text + "\n")
    with pytest.raises(UserError) as info:
        load_config(git_repo)
    message = info.value.render()
    assert ".continuous.toml" in message
    for word in words:
        assert word in message, message


def test_an_ancestor_given_as_an_absolute_path_is_refused(git_repo: Path) -> None:
    _write(git_repo, f'scenario_paths = ["{git_repo.parent}"]\n')
    with pytest.raises(UserError, match="contains the repository"):
        load_config(git_repo)


def test_good_configuration_loads(git_repo: Path, tmp_path: Path) -> None:
    lib = tmp_path / "shared-lib"
    lib.mkdir()
    (lib / "x.scn").write_text("")
    _write(git_repo, f'scenario_paths = ["mine", "{lib}"]\ninclude_builtin = false\nport_range = [3000, 5999]\n')
    config = load_config(git_repo)
    assert config.scenario_paths == (git_repo / "mine", lib)
    assert config.include_builtin is False
    assert config.port_range == (3000, 5999)


def test_a_folder_elsewhere_without_scenarios_is_refused(git_repo: Path, tmp_path: Path) -> None:
    _write(git_repo, 'scenario_paths = ["/etc"]\n')
    with pytest.raises(UserError, match=r"no \.scn"):
        load_config(git_repo)
    (git_repo / "mine").mkdir()  # the repository's own folder may be empty (eject writes there)
    _write(git_repo, 'scenario_paths = ["mine"]\n')
    assert load_config(git_repo).scenario_paths == (git_repo / "mine",)


@pytest.mark.parametrize(
    "text", ['scenario_paths = ["/etc"]', 'scenario_paths = ["../../.."]', 'include_builtin = "yes"']
)
def test_the_cli_refuses_a_bad_configuration(git_repo: Path, text: str) -> None:
    _write(git_repo, text + "\n")
    proc = subprocess.run([EXE, "scenarios", "list"], cwd=git_repo, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


def _app(root: Path, name: str) -> None:
    (root / "apps" / name).mkdir(parents=True)
    (root / "apps" / name / "index.html").write_text("<html></html>\n")
    (root / "apps" / name / "package.json").write_text(json.dumps({"name": name, "devDependencies": {"jest": "1"}}))


def test_the_file_wins_then_detection_then_the_neutral_default(git_repo: Path) -> None:
    from continuous.common.config import active_conventions

    _app(git_repo, "shop-web")
    _app(git_repo, "shop-admin")
    _write(git_repo, '[conventions]\ntest_runner = "vitest"\n')
    config = load_config(git_repo)
    conv, sources = config.conventions, config.convention_sources
    assert conv.test_runner == "vitest" and sources["test_runner"][0] == "file"  # the apps say jest
    assert conv.app_prefix == "shop-" and sources["app_prefix"] == ("detected", sources["app_prefix"][1])
    assert "shop-admin" in sources["app_prefix"][1]
    assert conv.table_domains == () and sources["table_domains"][0] == "default"  # no tables anywhere
    assert list(sources) == list(CONVENTION_DEFAULTS)
    assert active_conventions() == conv  # what scenarios, templates and discovery read


def test_without_a_repository_or_evidence_the_defaults_name_no_repository(git_repo: Path) -> None:
    for config in (load_config(None), load_config(git_repo)):
        assert config.conventions == Conventions()
        assert {s for s, _ in config.convention_sources.values()} == {"default"}
    assert CONVENTION_DEFAULTS["app_prefix"] == "" and CONVENTION_DEFAULTS["table_domains"] == []


def test_a_detected_value_the_file_could_not_hold_keeps_the_default(git_repo: Path) -> None:
    _app(git_repo, "Shop_Web-a")
    _app(git_repo, "Shop_Web-b")
    config = load_config(git_repo)
    assert config.conventions.app_prefix == ""
    assert config.convention_sources["app_prefix"] == ("default", "detected 'Shop_Web-' is not valid")

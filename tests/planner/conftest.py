"""Planner fixtures: a private cache directory for the whole session and a small git repository whose rule base is
tests/planner/fixtures/mini.scn (so mechanism tests do not depend on the built-in library's wording)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from continuous.planner import language
from continuous.planner.features import ScenarioWords

from ..conftest import init_repo

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MINI = FIXTURES / "mini.scn"


@pytest.fixture(scope="session")
def planner_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("planner-cache")


@pytest.fixture(autouse=True)
def _planner_env(planner_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(planner_cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("CONTINUOUS_NO_DAEMON", "1")  # test_daemon.py turns it on in its own cache
    yield


def make_repo(root: Path, dsl: Path = MINI) -> Path:
    """A git repo with an app dhg-hub and a table orders, using only `dsl` as its rule base; its config states
    the app prefix (a package.json alone does not show an app)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "apps" / "dhg-hub").mkdir(parents=True)
    (root / "apps" / "dhg-hub" / "package.json").write_text('{"name": "dhg-hub"}\n')
    (root / "db").mkdir()
    (root / "db" / "001.sql").write_text("create table orders (id int);\n")
    (root / ".continuous.toml").write_text(
        f'include_builtin = false\nscenario_paths = ["{dsl}"]\n[conventions]\napp_prefix = "dhg-"\n'
    )
    return init_repo(root, "init")


@pytest.fixture
def mini_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = make_repo(tmp_path / "repo")
    monkeypatch.chdir(repo)
    return repo


def scenario_words_of(*ids: str) -> list[ScenarioWords]:
    """The built-in scenarios' canonical words, as the rules read them, for veto tests without an index."""
    out = []
    for sid in ids:
        vs, os_ = language.canonical_words(sid)
        pol = next((language.polarity(v) for v in sorted(vs) if language.polarity(v)), None)
        out.append(ScenarioWords(frozenset(vs), frozenset(os_), pol))
    return out


@pytest.fixture(scope="module")
def example_monorepo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example monorepo, made once per test module: tests that only plan in it share one (`init` costs a git
    repository and a commit); tests that run scenarios make their own."""
    from continuous.cli.main import app
    from typer.testing import CliRunner

    repo = tmp_path_factory.mktemp("example") / "mono"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("CONTINUOUS_DATABASE_URL", raising=False)
        result = CliRunner().invoke(app, ["init", "--example", str(repo)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return repo

"""The warm daemon answers exactly what the in-process planner answers, and is started on demand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from continuous.planner import daemon


@pytest.mark.slow
def test_daemon_answers_like_the_in_process_planner(mini_repo: Path, tmp_path: Path, planner_cache: Path) -> None:
    exe = str(Path(sys.executable).parent / "continuous")
    cache = tmp_path / "cache"
    (cache / "continuous").mkdir(parents=True)
    # reuse the session's index and weights so the daemon starts fast
    for sub in ("index", "weights"):
        src = planner_cache / "continuous" / sub
        if src.exists():
            os.symlink(src, cache / "continuous" / sub)
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "CONTINUOUS_DAEMON_TRACE": "1"}
    env.pop("CONTINUOUS_NO_DAEMON", None)
    request = ["suggest", "a service to manage user preferences", "--json"]
    try:
        first = subprocess.run([exe, *request], cwd=mini_repo, env=env, capture_output=True, text=True, timeout=300)
        assert first.returncode == 0, first.stderr
        assert "planner daemon" not in first.stderr
        sock = cache / "continuous" / "run" / "planner.sock"
        for _ in range(600):
            if sock.exists():
                break
            time.sleep(0.1)
        assert sock.exists(), "the first suggest did not start a daemon"
        assert oct(sock.parent.stat().st_mode & 0o777) == "0o700"
        second = subprocess.run([exe, *request], cwd=mini_repo, env=env, capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr
        assert "answered by the planner daemon" in second.stderr
        assert json.loads(second.stdout) == json.loads(first.stdout)
        empty = subprocess.run([exe, "suggest", ""], cwd=mini_repo, env=env, capture_output=True, text=True)
        assert empty.returncode == 2
    finally:
        os.environ["XDG_CACHE_HOME"] = str(cache)
        try:
            daemon.stop()
        finally:
            os.environ["XDG_CACHE_HOME"] = str(planner_cache)
    assert not (cache / "continuous" / "run" / "planner.sock").exists()


def test_no_daemon_means_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUOUS_NO_DAEMON", "1")
    assert daemon.ask({"cwd": ".", "text": "x"}) is None


@pytest.mark.slow
def test_an_idle_daemon_exits_and_frees_its_memory(tmp_path: Path, planner_cache: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "continuous").mkdir(parents=True)
    src = planner_cache / "continuous" / "weights"
    if src.exists():
        os.symlink(src, cache / "continuous" / "weights")
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "CONTINUOUS_DAEMON_IDLE": "2"}
    env.pop("CONTINUOUS_NO_DAEMON", None)
    proc = subprocess.Popen([sys.executable, "-m", "continuous.planner.daemon"], env=env)
    sock = cache / "continuous" / "run" / "planner.sock"
    try:
        for _ in range(600):
            if sock.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert sock.exists()
        proc.wait(timeout=60)
        assert proc.returncode == 0
        assert not sock.exists() and not sock.with_suffix(".lock").exists()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_idle_time_is_short_and_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTINUOUS_DAEMON_IDLE", raising=False)
    assert daemon.idle_seconds() <= 300
    monkeypatch.setenv("CONTINUOUS_DAEMON_IDLE", "30")
    assert daemon.idle_seconds() == 30.0

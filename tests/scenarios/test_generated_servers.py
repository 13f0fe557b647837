"""Generated proxy servers really serve: compiled with tsc and started with node, they answer /health, their
added endpoints (with :params and JSON bodies), and forward unrouted requests to the proxy they absorbed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import Applied, clock, tsc_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(url: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def wait_until_up(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            request(url)
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not come up")


@pytest.fixture
def servers(example_copy: Path, apply: Callable[..., Applied], tmp_path: Path) -> Iterator[dict[str, int]]:
    tsc = tsc_path()
    if tsc is None:
        pytest.fail("TypeScript is not installed: run .ci/node-tools.sh (make test does)")
    tick = clock()
    apply(example_copy, "create-proxy-server", tick(), name="prefs", port=3010)
    apply(example_copy, "add-proxy-endpoint", tick(), proxy="prefs", method="GET", path="/api/preferences")
    apply(
        example_copy,
        "create-proxy-endpoint",
        tick(),
        proxy="prefs",
        method="PATCH",
        path="/api/preferences/:id",
    )
    apply(example_copy, "create-proxy-server", tick(), name="audio", port=3011)
    apply(example_copy, "add-proxy-endpoint", tick(), proxy="audio", method="GET", path="/api/audio/:file")
    apply(example_copy, "consolidate-proxies", tick(), source="audio", target="prefs", source_port=3011)
    out = tmp_path / "js"
    sources = [str(example_copy / f"scripts/cli-pipeline/proxies/{n}-server.ts") for n in ("prefs", "audio")]
    types = tsc.parent.parent / "@types"
    compiled = subprocess.run(
        [
            str(tsc),
            "--outDir",
            str(out),
            "--module",
            "commonjs",
            "--target",
            "es2020",
            "--strict",
            "--skipLibCheck",
            "--typeRoots",
            str(types),
            "--types",
            "node",
            *sources,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    ports = {"prefs": free_port(), "audio": free_port()}
    env = {**os.environ, "PREFS_PORT": str(ports["prefs"]), "AUDIO_PORT": str(ports["audio"])}
    procs = [
        subprocess.Popen(
            ["node", str(out / f"{n}-server.js")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in ports
    ]
    try:
        for name, proc in zip(ports, procs, strict=True):
            wait_until_up(f"http://127.0.0.1:{ports[name]}/health", proc)
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.mark.slow
def test_generated_proxy_serves_health_endpoints_and_fallbacks(servers: dict[str, int]) -> None:
    base = f"http://127.0.0.1:{servers['prefs']}"
    status, body = request(base + "/health")
    assert (
        status == 200
        and body["status"] == "ok"
        and body["server"] == "prefs"
        and body["port"] == servers["prefs"]
    )
    status, body = request(base + "/api/preferences")
    assert (status, body["endpoint"]) == (200, "GET /api/preferences")
    status, body = request(base + "/api/preferences/42", "PATCH", {"theme": "dark"})
    assert status == 200 and body["params"] == {"id": "42"} and body["body"] == {"theme": "dark"}
    # no route in prefs: forwarded to the absorbed audio proxy
    status, body = request(base + "/api/audio/talk.mp3")
    assert (
        status == 200
        and body["endpoint"] == "GET /api/audio/:file"
        and body["params"] == {"file": "talk.mp3"}
    )
    status, body = request(base + "/nowhere")
    assert status == 404
    status, body = request(base + "/api/preferences", "DELETE")
    assert status == 404

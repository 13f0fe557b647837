"""Health: registered ports are probed on 127.0.0.1 only; pipeline health-check scripts run; results kept."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from continuous.dsl.loader import load_rule_base
from continuous.engine.facts import Fact
from continuous.ops.health import Target, port_targets, probe_port, run_health
from continuous.store import open_store
from continuous.store.ops_models import OpsDB


class _Handler(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str]] = []

    def do_GET(self) -> None:
        _Handler.seen.append((self.path, self.headers.get("Host", "")))
        code = 200 if self.path == "/health" else 404
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b'{"status":"ok"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def _register(repo: Path, port: int, health: str = "/health") -> None:
    registry = repo / "scripts/start-all-servers.js"
    text = registry.read_text()
    entry = f"  {{ name: 'probe', script: 'x.js', port: {port}, health: '{health}' }},\n"
    registry.write_text(text.replace("const SERVERS = [\n", "const SERVERS = [\n" + entry))


def test_health_probes_registered_ports_runs_scripts_and_records(example_repo: Path, server: int, run_cli) -> None:
    _register(example_repo, server)
    ok = example_repo / "scripts/cli-pipeline/google_sync/health-check.sh"
    ok.write_text("#!/usr/bin/env bash\necho google_sync healthy\n")
    bad = example_repo / "scripts/cli-pipeline/document/health-check.sh"
    bad.write_text("#!/usr/bin/env bash\necho missing env >&2\nexit 3\n")
    _Handler.seen.clear()
    proc = run_cli(example_repo, "health", "--json", "--timeout", "2")
    assert proc.returncode == 1, proc.stderr  # the document pipeline fails, md-server (3001) is not running
    results = {r["target"]: r for r in json.loads(proc.stdout)["results"]}
    assert results[f"127.0.0.1:{server}"]["status"] == "ok"
    assert results["google_sync"]["status"] == "ok"
    assert results["document"]["status"] == "fail" and "exited 3" in results["document"]["detail"]
    assert results["127.0.0.1:3001"]["status"] in ("down", "fail", "timeout")
    assert ("/health", f"127.0.0.1:{server}") in _Handler.seen
    with open_store(repo=example_repo) as store:
        stored = OpsDB(store.engine).list_health()
    assert {r["target"] for r in stored} == set(results)


def test_probe_only_targets_loopback(server: int) -> None:
    _Handler.seen.clear()
    assert probe_port(Target("port", "p", server, "/health"), 2).status == "ok"
    evil = probe_port(Target("port", "p", server, "http://example.com/health"), 2)
    assert evil.status == "error" and "plain path" in evil.detail
    assert probe_port(Target("port", "p", server, "//example.com/x"), 2).status == "error"
    assert [h for _, h in _Handler.seen] == [f"127.0.0.1:{server}"]


def test_port_targets_come_from_the_registry_and_the_store() -> None:
    facts = [
        Fact(type="std_registered_port", fields={"port": "3005", "health": "/status"}, source="s:1"),
        Fact(type="std_port", fields={"port": "3999", "kind": "server", "owner": "x"}, source="x:1"),
    ]
    targets = port_targets(facts, [(3010, "proxy:a"), (3005, "dup")])
    assert [(t.port, t.path) for t in targets] == [(3005, "/status"), (3010, "/health")]


def test_run_health_times_out_a_hanging_script(example_repo: Path) -> None:
    (example_repo / "scripts/cli-pipeline/google_sync/health-check.sh").write_text("sleep 5\n")
    results = run_health(load_rule_base(), example_repo, timeout=0.5, script_timeout=0.5)
    hang = next(r for r in results if r.target == "google_sync")
    assert hang.status == "timeout"

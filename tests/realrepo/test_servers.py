"""Defect 4: server scenarios keep `pnpm servers` working and know the servers the repository already has.

The snapshot registers ten servers in scripts/start-all-servers.js under display names ("Git API Server
(dhg-admin-code)") with `command`, `args` and `cwd` fields that its start loop passes to spawn(). A new entry must
have the same fields, the CLAUDE.md row must go into the table of servers and ports, and a server must be found by
the name of its script or its display name.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import cli, git

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


def registry(root: Path) -> list[dict[str, object]]:
    """The SERVERS array as the start script sees it: evaluated by node, with paths resolved against the copy."""
    src = (root / "scripts/start-all-servers.js").read_text()
    array = re.search(r"const SERVERS = (\[[\s\S]*?\n\]);", src)
    assert array, "SERVERS array not found"
    code = f"const path = require('path'); console.log(JSON.stringify({array.group(1)}));"
    proc = subprocess.run([NODE or "node", "-e", code], cwd=root, capture_output=True, text=True, check=True)
    return list(json.loads(proc.stdout))


def committed(root: Path, rel: str) -> str:
    return subprocess.run(["git", "show", f"HEAD:{rel}"], cwd=root, capture_output=True, text=True, check=True).stdout


def changed_paths(root: Path) -> list[str]:
    out = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
    return sorted(line[3:] for line in out.splitlines())


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = cli(root, "run-scenario", *args, "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def dry_run(root: Path, *args: str) -> dict[str, object]:
    proc = cli(root, "run-scenario", *args, "--dry-run", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dict(json.loads(proc.stdout))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@contextmanager
def started(root: Path, cwd: str, args: list[str], env: dict[str, str], port: int) -> Iterator[None]:
    """One server process, stopped by its own pid."""
    import os

    proc = subprocess.Popen(
        [NODE or "node", *args],
        cwd=root / cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {proc.stdout.read() if proc.stdout else ''}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@needs_node
def test_a_new_server_is_registered_like_its_neighbours_and_starts(real_repo: Path) -> None:
    before = registry(real_repo)
    run(real_repo, "create-proxy-server", "pdf-proxy", "--param", "port=3011")
    after = registry(real_repo)
    assert after[:-1] == before
    new = after[-1]
    # every field the start loop reads, shaped like the neighbour whose script lives nearest (the viewers)
    assert set(new) == {"name", "port", "command", "args", "cwd", "env", "description"}
    assert new["command"] == "node" and new["port"] == 3011
    assert new["args"] == ["scripts/cli-pipeline/proxies/pdf-proxy-server.js"]
    assert new["cwd"] == str(real_repo)
    assert new["env"] == {"PDF_PROXY_PORT": "3011"}
    script = real_repo / str(new["cwd"]) / new["args"][0]  # type: ignore[index]
    assert script.is_file()  # start-all-servers.js skips entries whose file is missing
    check = subprocess.run([NODE or "node", "--check", "scripts/start-all-servers.js"], cwd=real_repo)
    assert check.returncode == 0
    # the registered command starts the server, which answers /health on the port the entry gives it
    port = free_port()
    with started(real_repo, ".", list(new["args"]), {"PDF_PROXY_PORT": str(port)}, port):  # type: ignore[arg-type]
        status, body = get(f"http://127.0.0.1:{port}/health")
    assert status == 200 and json.loads(body)["server"] == "pdf-proxy"
    # CLAUDE.md: a row of the table of servers and ports, in port order; the other tables are untouched
    claude = (real_repo / "CLAUDE.md").read_text()
    assert "| 3010 | Worktree Switcher |" in claude
    row = "| 3011 | Pdf Proxy Server | `scripts/cli-pipeline/proxies/pdf-proxy-server.js` |\n"
    assert claude.index("| 3010 | Worktree Switcher |") < claude.index(row) < claude.index("**Vite App Ports**")
    assert claude.replace(row, "") == committed(real_repo, "CLAUDE.md")
    # the start script sits beside `servers` in the package.json group of server utilities
    lines = (real_repo / "package.json").read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if '"server:pdf-proxy"' in line)
    assert '"servers": "node scripts/start-all-servers.js"' in lines[at - 1]
    # the new server is a fact under its key, so a second run (or another plan) does not create it again
    again = dry_run(real_repo, "create-proxy-server", "pdf-proxy")
    assert again["items"] == [] and "server_name(key=pdf-proxy)" in json.dumps(again["skipped"])


@pytest.mark.parametrize(
    ("name", "port"),
    [("audio-proxy", "3006"), ("git-api", "3009"), ("git-api-server", "3009"), ("dhg-audio-server", "3006")],
)
def test_existing_servers_are_found_by_script_or_display_name(real_repo: Path, name: str, port: str) -> None:
    proc = cli(real_repo, "facts", "--type", "server_name", "--json")
    assert proc.returncode == 0, proc.stderr
    keys = {f["fields"]["key"]: str(f["fields"]["port"]) for f in json.loads(proc.stdout)}
    key = name[:-7] if name.endswith("-server") else name
    assert keys.get(key) == port
    report = dry_run(real_repo, "create-proxy-server", name)
    assert report["items"] == [], f"{name} would be created a second time"
    assert git(real_repo, "status", "--porcelain") == ""


@needs_node
def test_an_endpoint_on_an_existing_express_server_goes_into_that_server(real_repo: Path) -> None:
    run(real_repo, "add-proxy-endpoint", "git-api", "GET", "/api/git/status")
    assert changed_paths(real_repo) == ["apps/dhg-admin-code/git-api-server.cjs"]  # no new proxy, no registry
    text = (real_repo / "apps/dhg-admin-code/git-api-server.cjs").read_text()
    assert text.index("app.get('/api/git/status'") < text.index("app.listen(")
    assert (
        subprocess.run([NODE or "node", "--check", "apps/dhg-admin-code/git-api-server.cjs"], cwd=real_repo).returncode
        == 0
    )
    facts = cli(real_repo, "facts", "--type", "endpoint", "--json")
    found = {(f["fields"]["proxy"], f["fields"]["path"]) for f in json.loads(facts.stdout)}
    assert ("git-api", "/api/git/status") in found


@needs_node
def test_consolidating_into_a_plain_http_server_forwards_what_it_does_not_route(real_repo: Path) -> None:
    run(real_repo, "consolidate-proxies", "simple-script-server", "simple-md-server")  # port from the registry
    text = (real_repo / "scripts/cli-pipeline/viewers/simple-md-server.js").read_text()
    assert "forwardTo(req, res, process.env.SIMPLE_SCRIPT_PORT || 3002);" in text
    md, script = free_port(), free_port()
    viewers = "scripts/cli-pipeline/viewers"
    src = (real_repo / viewers / "simple-md-server.js").read_text().replace("const PORT = 3001;", f"const PORT = {md};")
    (real_repo / viewers / "simple-md-server.js").write_text(src)
    other = (real_repo / viewers / "simple-script-server.js").read_text()
    (real_repo / viewers / "simple-script-server.js").write_text(
        other.replace("const PORT = 3002;", f"const PORT = {script};")
    )
    with (
        started(real_repo, viewers, ["simple-script-server.js"], {}, script),
        started(real_repo, viewers, ["simple-md-server.js"], {"SIMPLE_SCRIPT_PORT": str(script)}, md),
    ):
        own_status, _ = get(f"http://127.0.0.1:{md}/api/markdown-file")
        status, body = get(f"http://127.0.0.1:{md}/api/script-file")
    assert own_status == 400  # the markdown server still answers its own routes
    assert status == 400 and "path" in body.lower()  # the script server answered this one


def test_monitoring_a_server_probes_its_registered_port(real_repo: Path) -> None:
    run(real_repo, "setup-monitoring", "git-api", "server")
    monitor = (real_repo / "scripts/cli-pipeline/monitoring/monitor-git-api.ts").read_text()
    assert "Number(process.env.GIT_API_PORT || 3009)" in monitor
    wrapper = (real_repo / "scripts/cli-pipeline/monitoring/monitoring-cli.sh").read_text()
    assert re.search(r"^    monitor-git-api\)$", wrapper, re.M)
    assert (
        subprocess.run(["bash", "-n", "scripts/cli-pipeline/monitoring/monitoring-cli.sh"], cwd=real_repo).returncode
        == 0
    )

"""`continuous health`: probe registered server ports and run pipeline health-check scripts.

Probes only ever connect to 127.0.0.1: the host is never taken from the repository, and a health path that
tries to name another host is refused. Scripts run as argument lists (no shell) with a timeout, from the
worktree root."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from continuous.dsl.model import RuleBase
from continuous.engine.facts import Fact

LOOPBACK = "127.0.0.1"
PIPELINE_GLOB = "scripts/cli-pipeline/*/health-check.sh"
DEFAULT_PATH = "/health"


@dataclass(frozen=True)
class Target:
    kind: str  # "port" | "pipeline"
    name: str
    port: int | None = None
    path: str = DEFAULT_PATH
    script: str | None = None


@dataclass
class HealthResult:
    kind: str
    target: str
    status: str  # ok | fail | down | timeout | error
    latency_ms: int | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def port_targets(facts: Iterable[Fact], registered: Iterable[tuple[int, str]] = ()) -> list[Target]:
    """Ports from the repository's registry (discovered) and the store's port registry, one target each."""
    out: dict[int, Target] = {}
    for f in facts:
        if f.type != "std_registered_port":
            continue
        try:
            port = int(str(f.fields.get("port")))
        except ValueError:
            continue
        path = str(f.fields.get("health") or DEFAULT_PATH)
        out.setdefault(port, Target("port", f"{LOOPBACK}:{port}", port, path))
    for port, owner in registered:
        out.setdefault(int(port), Target("port", f"{LOOPBACK}:{port} ({owner})", int(port)))
    return [out[p] for p in sorted(out)]


def pipeline_targets(worktree: Path, files: Iterable[str]) -> list[Target]:
    from continuous.engine.discovery import glob_match

    return [Target("pipeline", p.split("/")[2], script=p) for p in sorted(files) if glob_match(PIPELINE_GLOB, p)]


def safe_health_path(path: str) -> str:
    from continuous.common.errors import UserError

    if not path.startswith("/") or path.startswith("//") or "://" in path or any(c in path for c in "\r\n @"):
        raise UserError(
            f"health path {path!r} must be a plain path starting with '/'",
            hint="probes always go to 127.0.0.1; the path cannot name another host",
        )
    return path


def probe_port(target: Target, timeout: float) -> HealthResult:
    import http.client

    from continuous.common.errors import UserError

    assert target.port is not None
    try:
        path = safe_health_path(target.path)
    except UserError as exc:
        return HealthResult("port", target.name, "error", None, exc.message)
    start = time.monotonic()
    conn = http.client.HTTPConnection(LOOPBACK, target.port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"User-Agent": "continuous-health"})
        resp = conn.getresponse()
        resp.read(4096)
        ms = int((time.monotonic() - start) * 1000)
        status = "ok" if 200 <= resp.status < 400 else "fail"
        return HealthResult("port", target.name, status, ms, f"GET {path} -> HTTP {resp.status}")
    except TimeoutError:
        return HealthResult("port", target.name, "timeout", None, f"GET {path}: no answer within {timeout:g}s")
    except ConnectionRefusedError:
        return HealthResult("port", target.name, "down", None, f"GET {path}: connection refused")
    except (OSError, http.client.HTTPException) as exc:
        return HealthResult("port", target.name, "error", None, f"GET {path}: {exc}")
    finally:
        conn.close()


def run_pipeline_check(worktree: Path, target: Target, timeout: float) -> HealthResult:
    from continuous.engine.steps import safe_path

    assert target.script is not None
    rel = safe_path(worktree, target.script, what="health-check script")
    start = time.monotonic()
    try:
        proc = subprocess.run(
            ["bash", rel],
            cwd=worktree,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return HealthResult("pipeline", target.name, "timeout", None, f"{rel}: still running after {timeout:g}s")
    except OSError as exc:
        return HealthResult("pipeline", target.name, "error", None, f"{rel}: {exc}")
    ms = int((time.monotonic() - start) * 1000)
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [""]
    status = "ok" if proc.returncode == 0 else "fail"
    return HealthResult("pipeline", target.name, status, ms, f"{rel} exited {proc.returncode}: {tail[0][:300]}")


def run_health(
    rule_base: RuleBase,
    worktree: Path,
    *,
    registered: Iterable[tuple[int, str]] = (),
    timeout: float = 3.0,
    script_timeout: float = 60.0,
    facts: list[Fact] | None = None,
) -> list[HealthResult]:
    from concurrent.futures import ThreadPoolExecutor

    from continuous.engine.discovery import discover, list_files

    worktree = Path(worktree).resolve()
    files = list_files(worktree)
    if facts is None:
        facts = discover(rule_base, worktree, files=files)
    ports = port_targets(facts, registered)
    pipelines = pipeline_targets(worktree, files)
    with ThreadPoolExecutor(max_workers=8) as pool:
        port_results = list(pool.map(lambda t: probe_port(t, timeout), ports))
        pipe_results = list(pool.map(lambda t: run_pipeline_check(worktree, t, script_timeout), pipelines))
    return port_results + pipe_results

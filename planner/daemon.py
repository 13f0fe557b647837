"""A warm planner process, like dmypy: `continuous suggest` asks it over a unix socket when it runs.

A Python process that imports numpy, pydantic and the rule base and maps the model spends ~0.5 s before it plans
anything; the daemon has all of that loaded, so a repeated `continuous suggest` costs the CLI start plus one round
trip. The first `suggest` that finds no daemon answers in-process and starts one. The daemon serves one JSON
request per connection, revalidates the rule base by file stamps and discovers the repository's facts again for
every request, and exits after two idle minutes (CONTINUOUS_DAEMON_IDLE seconds) or as soon as its code or data
changed on disk. CONTINUOUS_NO_DAEMON=1 turns it off. The socket lives in a directory only the user can enter;
the daemon never writes to a repository or the database.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PROTOCOL = 2
IDLE_SECONDS = 120.0
_PACKAGE = Path(__file__).resolve().parent.parent


def run_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")  # as embedding.cache_dir(), no numpy
    return Path(base) / "continuous" / "run"


def socket_path() -> Path:
    return run_dir() / "planner.sock"


def enabled() -> bool:
    return os.environ.get("CONTINUOUS_NO_DAEMON", "") in ("", "0") and hasattr(socket, "AF_UNIX")


def ask(payload: dict[str, Any], timeout: float = 30.0) -> dict[str, Any] | None:
    """The daemon's answer, or None when there is no (usable) daemon; the caller then plans in-process."""
    if not enabled():
        return None
    path = socket_path()
    if not path.exists():
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(json.dumps({"protocol": PROTOCOL, **payload}).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    try:
        answer = json.loads(data)
    except ValueError:
        return None
    if not isinstance(answer, dict) or answer.get("protocol") != PROTOCOL or answer.get("fallback"):
        return None
    return answer


def start() -> None:
    """Start a daemon in the background (detached; its output goes nowhere)."""
    if not enabled():
        return
    try:
        run_dir().mkdir(parents=True, exist_ok=True)
        os.chmod(run_dir(), 0o700)
        subprocess.Popen(
            [sys.executable, "-m", "continuous.planner.daemon"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
            env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
        )
    except OSError:
        pass


def stop() -> bool:
    """Stop the daemon of this cache directory (the process its lock file names); True if one ran."""
    import signal

    lock = socket_path().with_suffix(".lock")
    try:
        pid = int(lock.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return False
    if b"continuous.planner.daemon" not in cmdline:
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return False
    for _ in range(50):
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.05)
    socket_path().unlink(missing_ok=True)
    lock.unlink(missing_ok=True)
    return True


def idle_seconds() -> float:
    """How long a daemon waits for the next request before it exits (CONTINUOUS_DAEMON_IDLE, default 120 s): a
    burst of suggestions stays warm, an idle machine gets its memory back."""
    raw = os.environ.get("CONTINUOUS_DAEMON_IDLE", "")
    try:
        return max(float(raw), 1.0) if raw else IDLE_SECONDS
    except ValueError:
        return IDLE_SECONDS


def _code_stamp() -> float:
    newest = 0.0
    for sub, pattern in (
        ("planner", "*.py"),
        ("planner", "*.toml"),
        ("planner", "*.txt"),
        ("engine", "*.py"),
        ("dsl", "*.py"),
        ("common", "*.py"),
    ):
        for path in (_PACKAGE / sub).rglob(pattern):
            try:
                newest = max(newest, path.stat().st_mtime)
            except OSError:
                continue
    return newest


def _handle(request: dict[str, Any], contexts: dict[str, Any]) -> dict[str, Any]:
    from continuous.common import worktree_state
    from continuous.common.errors import ContinuousError
    from continuous.planner.suggest import load_context, suggest

    try:
        with worktree_state.memoised():  # one request reads the worktree's git status once
            ctx = load_context(Path(request["cwd"]), index_cache=contexts)
        result = suggest(
            str(request["text"]),
            ctx,
            top=int(request.get("top", 5)),
            explain=bool(request.get("explain", False)),
            params=dict(request.get("params") or {}),
        )
        return {"protocol": PROTOCOL, "ok": True, "result": result.to_json()}
    except ContinuousError as exc:
        return {
            "protocol": PROTOCOL,
            "ok": False,
            "error": exc.message,
            "hint": exc.hint,
            "exit_code": exc.exit_code,
        }
    except Exception:  # a bug: let the client plan in-process, where --debug shows the traceback
        return {"protocol": PROTOCOL, "fallback": True}


def serve(idle: float | None = None) -> None:
    idle_for = idle if idle is not None else idle_seconds()
    path = socket_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    lock = path.with_suffix(".lock")
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        # another daemon is starting or running; a stale lock (its process is gone) is taken over
        try:
            pid = int(lock.read_text() or "0")
            os.kill(pid, 0)
            return
        except (ValueError, ProcessLookupError, PermissionError, OSError):
            lock.unlink(missing_ok=True)
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    stamp = _code_stamp()
    started = time.time()
    contexts: dict[str, Any] = {}
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        path.unlink(missing_ok=True)
        server.bind(str(path))
        os.chmod(path, 0o600)
        server.listen(8)
        server.settimeout(idle_for)
        from continuous.planner import embedding

        embedding.encoder()  # warm: weights mapped, tokenizer loaded
        while True:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                break
            with conn:
                conn.settimeout(30)
                data = b""
                while not data.endswith(b"\n"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                try:
                    request = json.loads(data)
                except ValueError:
                    continue
                if not isinstance(request, dict) or request.get("protocol") != PROTOCOL:
                    continue
                if _code_stamp() > max(stamp, started):
                    break  # the client plans in-process and starts a daemon running the new code
                answer = _handle(request, contexts)
                try:
                    conn.sendall(json.dumps(answer).encode() + b"\n")
                except OSError:
                    continue
    finally:
        server.close()
        path.unlink(missing_ok=True)
        lock.unlink(missing_ok=True)


if __name__ == "__main__":
    serve()

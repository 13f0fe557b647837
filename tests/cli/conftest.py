"""The CLI as people meet it: a real pseudo-terminal for what happens at a terminal (prompts, colour, the pager),
plain pipes for scripts, typer's CliRunner for the rest. No isatty is mocked: the child process finds a terminal
or does not."""

from __future__ import annotations

import errno
import fcntl
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "scenarios" / "example-monorepo"
EXE = str(Path(sys.executable).parent / "continuous")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "CONTINUOUS_DATABASE_URL",
            "CONTINUOUS_PAGER",
            "PAGER",
            "NO_COLOR",
            "CONTINUOUS_NO_PROMPT",
            "LESS",
            "COLUMNS",
            "LINES",
        )
    }
    env.update({"TERM": "xterm-256color", **extra})
    return env


class Terminal:
    """`continuous ARGS` on a pseudo-terminal of `cols` columns: stdin, stdout and stderr are its terminal, and it
    is the controlling terminal of the child's session (so /dev/tty works, as for a pager)."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str], cols: int = 100, rows: int = 40) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

        def controlling_tty() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            [EXE, *args],
            cwd=cwd,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            preexec_fn=controlling_tty,
            close_fds=True,
        )
        os.close(slave)
        self.raw = b""

    @property
    def text(self) -> str:
        """Everything printed so far, escape codes and carriage returns removed."""
        return ANSI.sub("", self.raw.decode("utf-8", "replace"))

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError as exc:  # EIO: the child closed the terminal
            if exc.errno == errno.EIO:
                return False
            raise
        if not chunk:
            return False
        self.raw += chunk
        return True

    def expect(self, pattern: str, timeout: float = 120) -> re.Match[str]:
        """Wait until the terminal shows `pattern` (a regular expression over the plain text)."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.text)
            if found:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._read(min(remaining, 1.0)):
                raise AssertionError(f"{pattern!r} never appeared; the terminal shows:\n{self.text}")

    def wait_reading(self, timeout: float = 60) -> None:
        """Wait until the command is blocked reading its terminal. A Ctrl-C typed between the prompt's text and
        the read that follows it is lost (CPython checks for signals before it blocks, not after), so a test
        that types at once can hang where no person, who reads the prompt first, ever would. Linux shows the
        blocking call in /proc: its first argument is the file descriptor, 0 for the terminal."""
        deadline = time.monotonic() + timeout
        proc_file = Path(f"/proc/{self.proc.pid}/syscall")
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                fields = proc_file.read_text().split()
            except OSError:
                return  # no /proc here: nothing to wait for
            if len(fields) > 1 and fields[1] == "0x0" and fields[0] not in ("running", "-1"):
                return
            self._read(0.05)

    def send(self, line: str) -> None:
        os.write(self.master, (line + "\r").encode())

    def finish(self, timeout: float = 180) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(1.0):
            if self.proc.poll() is not None:
                while self._read(0.2):
                    pass
                break
        code = self.proc.wait(timeout=max(deadline - time.monotonic(), 1))
        os.close(self.master)
        return code


@pytest.fixture
def terminal() -> Iterator[Callable[..., Terminal]]:
    started: list[Terminal] = []

    def start(cwd: Path, *args: str, env: dict[str, str] | None = None, cols: int = 100) -> Terminal:
        t = Terminal(list(args), cwd, env or clean_env(), cols=cols)
        started.append(t)
        return t

    yield start
    for t in started:
        if t.proc.poll() is None:
            t.proc.kill()
            t.proc.wait()


@pytest.fixture
def clean() -> Callable[..., dict[str, str]]:
    """The environment of a user's shell (no pager, prompt or colour settings of ours), plus `extra`."""
    return clean_env


@pytest.fixture
def piped() -> Callable[..., subprocess.CompletedProcess[str]]:
    """`continuous ARGS` with pipes (no terminal anywhere), as a script or CI runs it."""

    def run(
        cwd: Path, *args: str, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [EXE, *args],
            cwd=cwd,
            env=env or clean_env(),
            capture_output=True,
            text=True,
            input=input if input is not None else "",
            timeout=timeout,
            check=False,
        )

    return run


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    """The example monorepo as its own committed git repository, with its own SQLite store."""
    repo = tmp_path / "monorepo"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("node_modules", ".git"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "example monorepo")
    return repo


@pytest.fixture
def recording_pager(tmp_path: Path) -> tuple[str, Path]:
    """A pager program that records what it was given (and shows it): (command for CONTINUOUS_PAGER, log file)."""
    log = tmp_path / "pager.log"
    script = tmp_path / "pager.py"
    script.write_text(
        "import sys\n"
        "data = sys.stdin.buffer.read()\n"
        f"open({str(log)!r}, 'ab').write(data)\n"
        "sys.stdout.buffer.write(b'[pager]\\n' + data)\n"
    )
    return f"{sys.executable} {script}", log

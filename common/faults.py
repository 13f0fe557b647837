"""Named fault points: the places where the fault-injection harness may kill, fail or pause a run.

A run passes through a point before and after every change it makes (journal writes, store writes, git commands,
file writes, checkpoints, the commit, lock releases). Normally a point costs one boolean test. With
`CONTINUOUS_FAULT` set, the process acts at the chosen point, the way SQLite's crash tests and FoundationDB's
simulation stop a real process at a chosen instant:

    CONTINUOUS_FAULT="journal.save.after@3"          SIGKILL the process the 3rd time it passes that point
    CONTINUOUS_FAULT="store.finish_step.before:raise" raise OSError(ENOSPC) there (a disk-full stand-in)
    CONTINUOUS_FAULT="files.write.before@3:raise=store."
                                                     raise there, and at every `store.` point from then on
                                                     (the disk stays full)
    CONTINUOUS_FAULT="resume.state.after:pause=/tmp/go"
                                                     create /tmp/go.waiting, then wait until /tmp/go exists

Several specs are separated by commas. `CONTINUOUS_FAULT_TRACE=FILE` appends the name of every point passed to
FILE, one a line, which is how the harness learns every kill point of a clean run.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

FAULT_ENV = "CONTINUOUS_FAULT"
TRACE_ENV = "CONTINUOUS_FAULT_TRACE"
PAUSE_LIMIT_SECONDS = 120.0


@dataclass(frozen=True)
class Fault:
    name: str
    occurrence: int = 1
    action: str = "kill"  # kill | raise | pause
    argument: str = ""


def parse(spec: str) -> list[Fault]:
    faults = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        where, _, action = part.partition(":")
        name, _, nth = where.partition("@")
        verb, _, argument = (action or "kill").partition("=")
        if verb not in ("kill", "raise", "pause"):
            raise ValueError(f"{FAULT_ENV}: unknown action {verb!r} in {part!r} (kill, raise or pause=FILE)")
        faults.append(Fault(name=name, occurrence=int(nth or 1), action=verb, argument=argument))
    return faults


class _State:
    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.trace: Path | None = None
        self.observer: Callable[[str, int], None] | None = None
        self.counts: dict[str, int] = {}
        self.broken: list[str] = []
        self.active = False

    def configure(
        self, spec: str | None, trace: str | None, observer: Callable[[str, int], None] | None = None
    ) -> None:
        self.faults = parse(spec) if spec else []
        self.trace = Path(trace) if trace else None
        self.observer = observer
        self.counts = {}
        self.broken = []
        self.active = bool(self.faults or self.trace or self.observer)


_STATE = _State()
_STATE.configure(os.environ.get(FAULT_ENV), os.environ.get(TRACE_ENV))


def configure(
    spec: str | None = None,
    trace: str | Path | None = None,
    observer: Callable[[str, int], None] | None = None,
) -> None:
    """Set the faults of this process (the harness calls this in a forked child); `observer(name, n)` is
    called at every point passed (the harness copies the state a kill there would leave)."""
    _STATE.configure(spec, str(trace) if trace else None, observer)


def point(name: str) -> None:
    """Pass the fault point `name`."""
    if not _STATE.active:
        return
    count = _STATE.counts.get(name, 0) + 1
    _STATE.counts[name] = count
    if _STATE.trace is not None:
        with open(_STATE.trace, "a", encoding="utf-8") as fh:
            fh.write(name + "\n")
    if _STATE.observer is not None:
        _STATE.observer(name, count)
    if any(name.startswith(prefix) for prefix in _STATE.broken):
        raise OSError(errno.ENOSPC, f"No space left on device (injected at {name})")
    for fault in _STATE.faults:
        if fault.name == name and fault.occurrence == count:
            _act(fault)


@contextmanager
def around(name: str) -> Iterator[None]:
    """`name.before`, the body, then `name.after` (not reached when the body raises)."""
    point(name + ".before")
    yield
    point(name + ".after")


def _act(fault: Fault) -> None:
    if fault.action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(10)  # the signal is delivered asynchronously; never run past the point
    if fault.action == "raise":
        if fault.argument:
            _STATE.broken.append(fault.argument)
        raise OSError(errno.ENOSPC, f"No space left on device (injected at {fault.name})")
    if fault.action == "pause":
        release = Path(fault.argument)
        Path(str(release) + ".waiting").write_text(str(os.getpid()), encoding="utf-8")
        deadline = time.monotonic() + PAUSE_LIMIT_SECONDS
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.02)

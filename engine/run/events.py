"""Run events: what a run tells its observer (the CLI's progress lines, MCP progress notifications, an API user).

Each event is a frozen dataclass; an observer subclasses `RunObserver` and overrides the methods it shows. The
engine only ever calls an observer through `guarded`, so a display that fails never interrupts a run or its
rollback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from continuous.dsl.model import Scalar
    from continuous.engine.results import ExecutionResult


@dataclass(frozen=True)
class ItemStarted:
    """A plan item starts (or continues, on resume)."""

    index: int
    total: int
    scenario: str
    params: dict[str, Scalar]
    execution_id: str
    steps: int


@dataclass(frozen=True)
class StepStarted:
    item: int
    number: int
    global_number: int
    name: str
    kind: str
    scenario: str


@dataclass(frozen=True)
class StepDone:
    item: int
    number: int
    global_number: int
    name: str
    seconds: float
    checkpoint: str
    paths: list[str] = field(default_factory=list)
    output: str = ""


@dataclass(frozen=True)
class Validated:
    item: int
    label: str


@dataclass(frozen=True)
class RollingBack:
    """A step failed; the run is being undone."""

    message: str


@dataclass(frozen=True)
class Restored:
    restored: list[str]
    removed: list[str]


@dataclass(frozen=True)
class RolledBack:
    execution_id: str
    restored: list[str]
    removed: list[str]


@dataclass(frozen=True)
class Resumed:
    execution_id: str
    completed: int


@dataclass(frozen=True)
class Warned:
    message: str


@dataclass(frozen=True)
class Finished:
    result: ExecutionResult


RunEvent = (
    ItemStarted | StepStarted | StepDone | Validated | RollingBack | Restored | RolledBack | Resumed | Warned | Finished
)


class RunObserver:
    """Receives a run's events; every method does nothing unless overridden."""

    def item_started(self, event: ItemStarted) -> None:
        pass

    def step_started(self, event: StepStarted) -> None:
        pass

    def step_done(self, event: StepDone) -> None:
        pass

    def validated(self, event: Validated) -> None:
        pass

    def rolling_back(self, event: RollingBack) -> None:
        pass

    def restored(self, event: Restored) -> None:
        pass

    def rolled_back(self, event: RolledBack) -> None:
        pass

    def resumed(self, event: Resumed) -> None:
        pass

    def warned(self, event: Warned) -> None:
        pass

    def finished(self, event: Finished) -> None:
        pass


class Guarded(RunObserver):
    """An observer whose failures are swallowed: progress display is best-effort."""

    def __init__(self, inner: RunObserver | None) -> None:
        self.inner = inner or RunObserver()

    def _call(self, method: Callable[[Any], None], event: RunEvent) -> None:
        with contextlib.suppress(Exception):  # the display's problem, never the run's
            method(event)

    def item_started(self, event: ItemStarted) -> None:
        self._call(self.inner.item_started, event)

    def step_started(self, event: StepStarted) -> None:
        self._call(self.inner.step_started, event)

    def step_done(self, event: StepDone) -> None:
        self._call(self.inner.step_done, event)

    def validated(self, event: Validated) -> None:
        self._call(self.inner.validated, event)

    def rolling_back(self, event: RollingBack) -> None:
        self._call(self.inner.rolling_back, event)

    def restored(self, event: Restored) -> None:
        self._call(self.inner.restored, event)

    def rolled_back(self, event: RolledBack) -> None:
        self._call(self.inner.rolled_back, event)

    def resumed(self, event: Resumed) -> None:
        self._call(self.inner.resumed, event)

    def warned(self, event: Warned) -> None:
        self._call(self.inner.warned, event)

    def finished(self, event: Finished) -> None:
        self._call(self.inner.finished, event)

"""How the dry-run learns from history without the engine importing analytics.

The engine sits below analytics, so the estimate from the execution history comes in from outside: whoever
builds the `Executor` (the CLI, the MCP server, a Python caller) may pass an `Estimator`, and the CLI passes the
analytics one (`continuous.analytics.estimates.estimate`). Without one, the dry-run falls back to the store's
median per scenario, else the scenario's declared `estimate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from continuous.dsl.model import Scenario


class Estimate(Protocol):
    """What the dry-run reads of an estimate."""

    @property
    def seconds(self) -> float | None: ...

    @property
    def failure_rate(self) -> float | None: ...

    @property
    def reasons(self) -> Sequence[str]: ...

    @property
    def source(self) -> str: ...


class History(Protocol):
    """The part of the tracking store an estimator may read."""

    def scenario_stats(self, scenario_id: str) -> Any: ...


class Estimator(Protocol):
    """How long a scenario should take and how often it fails; None when nothing is known.

    Called once per plan item of a dry-run, with the tracking store when it exists (else a stand-in with no
    history, so that an estimate never creates a database). An estimator that raises is ignored."""

    def __call__(self, scenario_id: str, *, repo: Path, store: History, scenario: Scenario) -> Estimate | None: ...

"""The statuses of an execution, a step and a run journal: one vocabulary for the engine, the store and analytics.

An execution row (a run or one of its scenario items) ends `success`, `failed`, `rolled_back`, `interrupted` or
`skipped`; the journal of a run also knows `rolling_back` (a rollback under way, finished by `continuous rollback`).
"""

from __future__ import annotations

from typing import Literal, get_args

ExecutionStatus = Literal["running", "success", "failed", "rolled_back", "interrupted", "skipped"]
StepStatus = Literal["running", "success", "failed", "interrupted", "rolled_back", "skipped"]
RunStatus = Literal["running", "interrupted", "rolling_back", "success", "rolled_back"]

EXECUTION_STATUSES: tuple[ExecutionStatus, ...] = get_args(ExecutionStatus)
FINISHED: tuple[ExecutionStatus, ...] = ("success", "failed", "rolled_back", "interrupted")
FAILED: tuple[ExecutionStatus, ...] = ("failed", "rolled_back", "interrupted")
OK: tuple[ExecutionStatus, ...] = ("success", "skipped")
RESUMABLE: tuple[RunStatus, ...] = ("running", "interrupted")
SETTLED: tuple[RunStatus, ...] = ("success", "rolled_back")

"""continuous: declarative, checkable, recoverable development scenarios for a monorepo.

The public Python API is loaded lazily so that `import continuous` (and so the CLI's `--help`) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from continuous.common.version import __version__

__all__ = [
    "ContinuousError",
    "DslError",
    "RunFailed",
    "ScenarioExecutor",
    "UserError",
    "__version__",
    "load_rule_base",
]

if TYPE_CHECKING:
    from continuous.common.errors import ContinuousError, DslError, RunFailed, UserError
    from continuous.dsl.loader import load_rule_base
    from continuous.engine.api import ScenarioExecutor

_LAZY = {
    "ContinuousError": "continuous.common.errors",
    "DslError": "continuous.common.errors",
    "RunFailed": "continuous.common.errors",
    "UserError": "continuous.common.errors",
    "load_rule_base": "continuous.dsl.loader",
    "ScenarioExecutor": "continuous.engine.api",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'continuous' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)

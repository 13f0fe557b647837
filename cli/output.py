"""Shared output helpers: the error handler, JSON printing and the rich console.

Every command body runs inside `handle_errors()`: a ContinuousError prints as one plain message on stderr and exits
with its code (2 bad input, 1 failed run); with --debug (or CONTINUOUS_DEBUG=1) the exception is re-raised.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer

P = ParamSpec("P")
R = TypeVar("R")


def debug_enabled() -> bool:
    return os.environ.get("CONTINUOUS_DEBUG", "") not in ("", "0")


@contextmanager
def handle_errors() -> Iterator[None]:
    from continuous.common.errors import ContinuousError

    try:
        yield
    except ContinuousError as exc:
        if debug_enabled():
            raise
        sys.stderr.write("error: " + exc.render().rstrip() + "\n")
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        if debug_enabled():
            raise
        sys.stderr.write("interrupted\n")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as exc:  # a bug, not bad input: still one line, the traceback behind --debug
        if debug_enabled():
            raise
        sys.stderr.write(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "  hint: this is a bug in continuous; rerun with --debug for the traceback and report it\n"
        )
        raise typer.Exit(1) from None


def command(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of handle_errors for command functions."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with handle_errors():
            return fn(*args, **kwargs)

    return wrapper


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def console(stderr: bool = False) -> Any:
    """A console that never reads markup: every string printed through it is shown as written (table cells,
    titles and notes carry user and repository text). Styling is given with rich `Text`, never `[tags]`."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False, markup=False, emoji=False)

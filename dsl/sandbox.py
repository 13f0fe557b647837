"""Resource limits of the template sandbox.

Jinja's sandbox keeps templates away from Python internals, but not from the arithmetic and string operators:
`{{ 9**999999999 }}` computes for hours in C, `{{ 'a' * 10**10 }}` allocates ten gigabytes. Each operator and
filter that can grow a value is checked *before* it runs (size estimates, never the result), output is collected
with a cap, and templates with statements (`{% for %}`) get a wall-clock budget on the main thread. Every limit
raises `TemplateLimit`, a UserError: a hostile template is bad input (exit 2), refused before anything is written.
"""

from __future__ import annotations

import os
import re
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from continuous.common.errors import UserError

MAX_OUTPUT = 8 * 1024 * 1024  # characters of one rendered template (the largest generated file is ~50 KB)
MAX_INT_BITS = 1 << 16  # 65,536 bits: about 20,000 decimal digits
MAX_WIDTH = 10_000  # a %-format width or a center/indent width
DEFAULT_SECONDS = 10.0
SECONDS_ENV = "CONTINUOUS_TEMPLATE_SECONDS"
_FORMAT_WIDTH = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


class TemplateLimit(UserError):
    """A template asked for more than the sandbox gives (a huge number, string or output, or too much time)."""


class _OutOfTime(BaseException):
    """Raised by the alarm; a BaseException so that no `except Exception` in template code swallows it."""


def _too_large(what: str) -> TemplateLimit:
    return TemplateLimit(
        f"the template's {what} is too large (limit {MAX_OUTPUT:,} characters)",
        hint="templates build source files; a value this large means the template or a value is wrong",
    )


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int)


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse an operation whose result would be too large, before computing it."""
    if operator == "**":
        if _is_int(left) and _is_int(right) and right > 0:
            bits = max(abs(int(left)).bit_length(), 1) * int(right)
            if abs(int(left)) > 1 and bits > MAX_INT_BITS:
                raise TemplateLimit(
                    f"the template computes {left} ** {right}, a number of about {bits:,} bits (limit {MAX_INT_BITS:,})"
                )
    elif operator == "*":
        for seq, times in ((left, right), (right, left)):
            size = _size(seq)
            if size is not None and _is_int(times) and size * max(int(times), 0) > MAX_OUTPUT:
                raise _too_large("repeated text or list")
        if _is_int(left) and _is_int(right):
            bits = abs(int(left)).bit_length() + abs(int(right)).bit_length()
            if bits > MAX_INT_BITS:
                raise TemplateLimit(f"the template multiplies numbers of {bits:,} bits (limit {MAX_INT_BITS:,})")
    elif operator == "+":
        a, b = _size(left), _size(right)
        if a is not None and b is not None and a + b > MAX_OUTPUT:
            raise _too_large("joined text or list")
    elif operator == "%" and isinstance(left, str):
        check_format(left, right)


def check_format(spec: str, args: Any) -> None:
    """`'%999999999d' % 1` allocates a gigabyte: widths and precisions are checked first."""
    values = list(args) if isinstance(args, tuple) else [args]
    for match in _FORMAT_WIDTH.finditer(spec):
        for part in match.groups():
            if part == "*":
                if any(_is_int(v) and abs(int(v)) > MAX_WIDTH for v in values):
                    raise TemplateLimit(f"a %-format width in the template is larger than {MAX_WIDTH:,}")
            elif part is not None and int(part) > MAX_WIDTH:
                raise TemplateLimit(f"the %-format width {part} in the template is larger than {MAX_WIDTH:,}")


def _limited_filters(filters: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Jinja's filters that can grow a value, each preceded by a size estimate."""
    from jinja2 import pass_eval_context

    center, indent, fmt = filters["center"], filters["indent"], filters["format"]
    join, replace = filters["join"], filters["replace"]

    def limited_center(value: Any, width: int = 80) -> Any:
        if _is_int(width) and width > MAX_WIDTH:
            raise TemplateLimit(f"center({width}) in the template is wider than {MAX_WIDTH:,}")
        return center(value, width)

    def limited_indent(s: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> Any:
        step = len(width) if isinstance(width, str) else int(width)
        if step > MAX_WIDTH or (str(s).count("\n") + 1) * step > MAX_OUTPUT:
            raise TemplateLimit(f"indent({step}) in the template is wider than {MAX_WIDTH:,}")
        return indent(s, width, first, blank)

    def limited_format(value: Any, *args: Any, **kwargs: Any) -> Any:
        check_format(str(value), tuple(args))
        return fmt(value, *args, **kwargs)

    @pass_eval_context
    def limited_join(eval_ctx: Any, value: Iterable[Any], d: str = "", attribute: Any = None) -> Any:
        items = list(value)
        if attribute is None:
            total = len(str(d)) * max(len(items) - 1, 0) + sum(len(str(i)) for i in items)
            if total > MAX_OUTPUT:
                raise _too_large("joined text")
        return join(eval_ctx, items, d, attribute)

    @pass_eval_context
    def limited_replace(eval_ctx: Any, s: Any, old: str, new: str, count: int | None = None) -> Any:
        text = str(s)
        hits = (len(text) + 1 if old == "" else text.count(str(old))) if count is None else max(int(count), 0)
        if len(text) + hits * max(len(str(new)) - len(str(old)), 0) > MAX_OUTPUT:
            raise _too_large("replaced text")
        return replace(eval_ctx, s, old, new, count)

    return {
        "center": limited_center,
        "indent": limited_indent,
        "format": limited_format,
        "join": limited_join,
        "replace": limited_replace,
    }


def limited_environment_class() -> type:
    from jinja2.sandbox import SandboxedEnvironment

    class LimitedEnvironment(SandboxedEnvironment):
        """The sandbox with its operators checked (they are then never folded at compile time either)."""

        intercepted_binops = frozenset({"*", "**", "+", "%"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            check_binop(operator, left, right)
            return super().call_binop(context, operator, left, right)

    return LimitedEnvironment


def limit(env: Any) -> None:
    """Apply the filter limits to an environment and drop the globals nobody needs (lipsum loops on demand)."""
    env.filters.update(_limited_filters(env.filters))
    env.globals.pop("lipsum", None)


def collect(chunks: Iterator[str]) -> str:
    """The rendered output, refused as soon as it grows past the cap."""
    out: list[str] = []
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > MAX_OUTPUT:
            raise _too_large("output")
        out.append(chunk)
    return "".join(out)


def _budget() -> float:
    try:
        return float(os.environ.get(SECONDS_ENV, DEFAULT_SECONDS))
    except ValueError:
        return DEFAULT_SECONDS


@contextmanager
def deadline(active: bool) -> Iterator[None]:
    """Bound the wall-clock time of a render (loops of loops); only on the main thread and when no other
    interval timer runs, since SIGALRM is process-wide."""
    seconds = _budget()
    if (
        not active
        or seconds <= 0
        or threading.current_thread() is not threading.main_thread()
        or signal.getitimer(signal.ITIMER_REAL)[0] > 0
    ):
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _OutOfTime:
        raise TemplateLimit(
            f"the template took longer than {seconds:g} s to render",
            hint=f"a loop in it runs too long; {SECONDS_ENV} sets the budget",
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

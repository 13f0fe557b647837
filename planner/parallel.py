"""Work spread over the cores by threads, each with a single-threaded BLAS.

The planner's matrices (a batch of 30 short texts, a fold of 2,800 training rows) are too small for BLAS to share
one product between cores without the threads waiting on each other: on a busy machine two BLAS threads made an
index build 3-10x slower than one. Independent pieces of work (encoder batches, cross-validation fits) run side
by side instead; numpy releases the GIL in its products, so the threads use the cores. A fit that runs here also
gets the same arithmetic on any machine, whatever its number of cores.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

MAX_WORKERS = 4


def workers() -> int:
    """The cores this process may use (its CPU affinity), at most `MAX_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """BLAS and OpenMP held to one thread while the block runs; without threadpoolctl (a dependency of
    scikit-learn) the block runs as it is."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1):
        yield


@contextlib.contextmanager
def pool(tasks: int) -> Iterator[ThreadPoolExecutor | None]:
    """A pool of one thread per core (at most `tasks`) with a single-threaded BLAS, or None when there is one
    task or one core: the caller runs the work itself, and a cold query imports neither threads nor
    threadpoolctl."""
    n = min(workers(), tasks)
    if n < 2:
        yield None
        return
    from concurrent.futures import ThreadPoolExecutor

    with single_threaded_blas(), ThreadPoolExecutor(n) as executor:
        yield executor

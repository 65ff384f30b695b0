"""Threads of the numerical work: how many a local pass may use, and one BLAS thread for a while,
safely when several threads ask at once.

``threadpoolctl.threadpool_limits`` sets a process-wide limit and restores what it found: two
overlapping uses from two threads can leave the process on one BLAS thread for good (the second
restores the first's limit). Here the first user sets the limit and the last one restores it
(:class:`matcher._shared.SharedSetting`).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from typing import TypeVar

from matcher._shared import SharedSetting

T = TypeVar("T")

__all__ = ["MAX_THREADS", "in_parts", "local_threads", "one_blas_thread"]

# Most threads a local pass runs: each block pass holds one block's signals and scores (about 100 MB
# at 2 million cells), so more would push the 100,000 x 10,000 run's peak memory up; taskset limits them further.
MAX_THREADS = 4


def local_threads() -> int:
    """Threads a local pass uses: the CPUs this process may run on, at most :data:`MAX_THREADS`."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, MAX_THREADS))


def in_parts(fn: Callable[[int, int], T], n: int, min_part: int, threads: int | None = None, work=None) -> list[T]:
    """``fn(a, b)`` over consecutive ranges that cover ``0..n``, one per thread (up to ``threads``,
    default :func:`local_threads`), each range at least ``min_part`` units of work, the results in
    range order; one range on the calling thread when only one fits. A unit is an item, or with
    ``work`` (``n + 1`` cumulative amounts, such as a CSR matrix's ``indptr``) what ``work`` counts,
    and the ranges are then cut where they hold about as much of it. For compiled kernels that
    leave the GIL."""
    total = n if work is None else int(work[-1])
    limit = local_threads() if threads is None else max(1, int(threads))
    parts = max(1, min(limit, n, total // max(min_part, 1)))
    if parts == 1:
        return [fn(0, n)]
    from concurrent.futures import ThreadPoolExecutor

    if work is None:
        cuts = [n * i // parts for i in range(parts + 1)]
    else:
        import numpy as np

        cuts = [0, *np.searchsorted(work, np.linspace(0, total, parts + 1)[1:-1]).tolist(), n]
    with ThreadPoolExecutor(max_workers=parts, thread_name_prefix="matcher-part") as pool:
        done = [pool.submit(fn, a, b) for a, b in itertools.pairwise(cuts)]
        return [d.result() for d in done]


def _one_thread():
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, user_api="blas")


_ONE_BLAS_THREAD = SharedSetting(_one_thread, lambda limit: limit.restore_original_limits())


def one_blas_thread():
    """BLAS on one thread inside the block (for the block passes' own threads, and for LAPACK
    calls whose rounding depends on the thread count); the previous limits come back when the
    last overlapping user leaves (:class:`matcher._shared.SharedSetting`)."""
    return _ONE_BLAS_THREAD.held()

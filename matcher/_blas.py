"""One BLAS thread for a while, safely when several threads ask at once.

``threadpoolctl.threadpool_limits`` sets a process-wide limit and restores what it found: two
overlapping uses from two threads can leave the process on one BLAS thread for good (the second
restores the first's limit). Here the first user sets the limit and the last one restores it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["one_blas_thread"]

_lock = threading.Lock()
_users = 0
_limit = None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS on one thread inside the block (for the block passes' own threads, and for LAPACK
    calls whose rounding depends on the thread count); the previous limits come back when the
    last overlapping user leaves."""
    global _users, _limit
    with _lock:
        if _users == 0:
            from threadpoolctl import threadpool_limits

            _limit = threadpool_limits(1, user_api="blas")
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                _limit.restore_original_limits()
                _limit = None

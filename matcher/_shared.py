"""Process-wide settings held by overlapping users: the first one applies it, the last one restores it.

BLAS thread limits (threadpoolctl) and the garbage collector's switch belong to the whole process.
Two overlapping users that each restore what they found can leave it in the wrong state for good
(the second restores the first's setting); here the first user applies the setting and the last
one to leave restores what the first found.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["SharedSetting"]


class SharedSetting:
    """A setting ``apply()`` makes (returning what it found) and ``restore(found)`` undoes, held by
    any number of overlapping users (threads) through :meth:`held`."""

    def __init__(self, apply: Callable[[], Any], restore: Callable[[Any], None]) -> None:
        self.apply = apply
        self.restore = restore
        self._lock = threading.Lock()
        self._users = 0
        self._found: Any = None

    @contextmanager
    def held(self) -> Iterator[None]:
        """The setting in force inside the block (a decorator too)."""
        with self._lock:
            if self._users == 0:
                self._found = self.apply()
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    found, self._found = self._found, None
                    self.restore(found)

"""Python's cyclic garbage collector paused while a stage builds its many small objects.

Fitting and ranking 12,000 profiles allocate millions of strings, tuples and lists that live until
the run ends. The collector, started every 700 allocations, walks them again and again: half a
second of a six-second 10,000 x 2,000 batch run, to find under 2,000 objects in cycles at the end.
Reference counting frees everything else as before. The collector comes back on when the last
overlapping user leaves, if it was on when the first one came (threads may overlap;
:class:`matcher._shared.SharedSetting`).
"""

from __future__ import annotations

import gc

from matcher._shared import SharedSetting

__all__ = ["gc_paused"]


def _pause() -> bool:
    was_enabled = gc.isenabled()
    gc.disable()
    return was_enabled


def _resume(was_enabled: bool) -> None:
    if was_enabled:
        gc.enable()


_PAUSED = SharedSetting(_pause, _resume)


def gc_paused():
    """The cyclic collector off inside the block (or the decorated function); as it was before once the last user leaves."""
    return _PAUSED.held()

"""Parameter checks at the boundary of the numeric stages: every problem is collected, then one
:class:`~matcher.errors.ParameterError` lists them (one problem keeps its message unchanged)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from matcher.errors import ParameterError


def is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value)


class ParamChecks:
    """Collects the problems of one call's parameters."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.messages: list[str] = []

    def require(self, ok: bool, message: str) -> bool:
        if not ok:
            self.messages.append(message)
        return ok

    def done(self) -> None:
        if len(self.messages) == 1:
            raise ParameterError(self.messages[0])
        if self.messages:
            raise ParameterError(f"{len(self.messages)} problems with the parameters of {self.what}:\n  " + "\n  ".join(self.messages))


def shape_of(x: Any) -> tuple[int, ...]:
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else np.shape(x)

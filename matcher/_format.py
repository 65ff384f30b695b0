"""Floats as fixed-point text with array operations, the text Python's ``%.Nf`` gives.

Used by the CSV writer (every float column), by the explanations' summary lines (similarities
to two places) and by details.json's pairs (rounded values as JSON writes them); a private module
so that no two stages import each other.
"""

from __future__ import annotations

import re

__all__ = ["FIXED_FORMAT", "fixed_point_cells", "json_float_cells"]

# The float formats fixed_point_cells writes: "%.0f" to "%.9f".
FIXED_FORMAT = re.compile(r"%\.([0-9])f")


def fixed_point_cells(values, digits: int):
    """``"%.{digits}f" % v`` of each float64 value as Arrow strings, NaN as an empty cell,
    the same text, rounding included: see :func:`_decimal_cells`. Values of ``10**digits * |v|``
    from 2**52 up (and infinities) are formatted one by one, as Python does."""
    import numpy as np
    import pyarrow as pa

    v = np.asarray(values, dtype=np.float64)
    cells, nan, big = _decimal_cells(v, digits, strip=False)
    if nan.any() or big.any():
        cells = cells.to_pylist()
        for i in np.flatnonzero(nan).tolist():
            cells[i] = ""
        for i in np.flatnonzero(big).tolist():
            cells[i] = f"%.{digits}f" % float(v[i])
        cells = pa.array(cells, pa.string())
    return cells


def _decimal_cells(v, digits: int, strip: bool):
    """Each float64 value of ``v`` rounded to ``digits`` places as Python's ``%.Nf`` rounds (the
    exact binary value, half to even) and written by a compiled pass
    (:func:`matcher._kernels.decimal_cells`; ``strip``: trailing zeros off, as JSON writes it);
    also where ``v`` is NaN and where it is too big for the rounding here (``10**digits * |v|``
    from 2**52 up, and the infinities), whose cells the caller writes. ``v * 10**digits`` is taken
    exactly as a sum ``p + e`` of two floats (Dekker's product), ``p`` rounded half to even, and a
    half that ``e`` tips is moved. The cells are Arrow strings (large strings past 2 GiB)."""
    import numpy as np
    import pyarrow as pa

    from matcher import _kernels

    scale = 10.0**digits
    nan = np.isnan(v)
    with np.errstate(over="ignore"):  # a huge value times the scale is inf: formatted one by one
        big = ~nan & ~(np.abs(v) * scale < 2.0**52)
    w = np.where(nan | big, 0.0, v)
    # Dekker's exact product: w * scale == p + e (Veltkamp's split of w; scale splits into itself).
    p = w * scale
    t = 134217729.0 * w  # 2**27 + 1
    hi = t - (t - w)
    lo = w - hi
    e = -((p - hi * scale) - lo * scale)
    r = np.rint(p)
    d = p - r  # exact: -0.5 <= d <= 0.5
    n = r + ((d == 0.5) & (e > 0)) - ((d == -0.5) & (e < 0))
    offsets, data = _kernels.decimal_cells(np.abs(n).astype(np.int64), np.signbit(w), digits, strip)
    small = offsets[-1] < 2**31
    kind, offsets = (pa.string(), offsets.astype(np.int32)) if small else (pa.large_string(), offsets)
    cells = pa.Array.from_buffers(kind, len(v), [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    return cells, nan, big


def json_float_cells(values, places: int):
    """``json.dumps(round(v, places))`` of each float64 value as Arrow strings: the shortest text
    that reads back as the rounded value (Python's float repr), with array operations. Where
    ``1e-4 <= |round(v)| < 1e15`` and neighbouring doubles are less than half of ``10**-places``
    apart (no shorter decimal reads back as the same double), that text is ``"%.{places}f"`` (the
    rounded value's own digits) less its trailing zeros, one kept after the point; other values
    (near zero, which repr writes with an exponent; large ones; NaN and the infinities) are written
    one by one, as json does."""
    import numpy as np
    import pyarrow as pa

    v = np.asarray(values, dtype=np.float64)
    cells, _, _ = _decimal_cells(v, places, strip=True)  # NaN and big values are among the odd ones below
    with np.errstate(invalid="ignore", over="ignore"):  # NaN and the infinities: one by one
        # One by one: near zero (an exponent), 1e15 and up, and where the doubles are so far apart
        # that a shorter decimal reads back as the same value (70368744177664.125 is "...664.12").
        odd = ~(np.abs(v) < 1e15) | ((v != 0) & (np.abs(v) < 2e-4)) | ~(2 * np.spacing(np.abs(v)) < 10.0**-places)
    if odd.any():
        cells = cells.to_pylist()
        for i in np.flatnonzero(odd).tolist():
            x = float(v[i])
            cells[i] = "NaN" if x != x else ("Infinity" if x > 0 else "-Infinity") if abs(x) == float("inf") else repr(round(x, places))
        cells = pa.array(cells, pa.string())
    return cells

"""Write stage: atomic file writes and the batch job's output files.

Every file is written to a temporary file in the same folder and renamed over the target, so a
reader never sees half a file and a failed run leaves the previous outputs in place.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from matcher.errors import OutputError

__all__ = ["atomic_write_bytes", "atomic_write_json", "atomic_write_text", "check_writable", "frame_to_csv", "frame_to_parquet", "write_run"]


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    """UTF-8 text with ``\\n`` line ends, written atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> Path:
    """Pretty JSON with sorted keys, written atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def check_writable(folder: Path) -> Path:
    """Fail before any work if ``folder`` cannot be created or written."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-probe.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(
            f"output folder {str(folder)!r} cannot be written ({exc.strerror or exc}); choose another --out folder"
        ) from exc
    return folder


def frame_to_csv(frame) -> str:
    """A DataFrame as CSV text with fixed float formatting, so equal input gives equal bytes."""
    return frame.to_csv(index=False, float_format="%.6f", lineterminator="\n")


FORMATS = ("csv", "parquet")


def frame_to_parquet(frame) -> bytes:
    """A DataFrame as Parquet bytes (pyarrow), the same columns as the CSV; equal input gives equal bytes."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise OutputError("--format parquet needs pyarrow; install it with: pip install 'matcher[parquet]'") from exc
    import io

    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buf, compression="zstd")
    return buf.getvalue()


def write_run(out: Path, frames: dict, run_info: dict, extra_json: dict | None = None, fmt: str = "csv") -> dict[str, Path]:
    """Write every table of a batch run (``name.csv``, or ``name.parquet`` with ``fmt="parquet"``)
    and any extra JSON, then ``run.json`` last, each atomically."""
    out = Path(out)
    if fmt not in FORMATS:
        raise OutputError(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    written = {}
    for name, frame in frames.items():
        if fmt == "parquet":
            name = str(Path(name).with_suffix(".parquet"))
            written[name] = atomic_write_bytes(out / name, frame_to_parquet(frame))
        else:
            written[name] = atomic_write_text(out / name, frame_to_csv(frame))
    for name, obj in (extra_json or {}).items():
        written[name] = atomic_write_text(out / name, json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n")
    written["run.json"] = atomic_write_json(out / "run.json", run_info)
    return written

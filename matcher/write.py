"""Write stage: atomic file writes and the batch job's output files.

Every file is written to a temporary file in the same folder and renamed over the target, so a
reader never sees half a file and a failed run leaves the previous outputs in place.

A batch run's files go together (:class:`OutputStage`): each is written into a hidden staging
folder inside the output folder while the run holds a lock on that staging folder; once all are
written, the run takes a lock on the output folder and renames them into place, ``run.json`` last.
Concurrent runs therefore commit one after another, each leaving a complete set; a run that fails,
is interrupted or killed before its renames leaves the previous outputs untouched. The renames take
microseconds; a run killed by SIGKILL among them leaves a commit record, and the next run writing
to the folder completes that commit first (roll forward). Staging folders of dead runs are removed
by the next run.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from matcher._format import FIXED_FORMAT, fixed_point_cells
from matcher.errors import OutputError

__all__ = [
    "STAGE_PREFIX",
    "OutputStage",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "check_writable",
    "compact_json",
    "csv_bytes",
    "csv_text",
    "frame_to_csv",
    "frame_to_parquet",
    "json_pieces",
    "recover_output",
    "write_run",
    "write_schedule",
]

log = logging.getLogger(__name__)

STAGE_PREFIX = ".matcher-stage-"
COMMIT_RECORD = ".commit.json"


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write_bytes(path: Path, data: bytes | Iterable[bytes]) -> Path:
    """Write ``data`` (bytes, or pieces of bytes written in turn) to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            for piece in [data] if isinstance(data, (bytes, bytearray, memoryview)) else data:
                fh.write(piece)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# Compact JSON with sorted keys: ``json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))``.
compact_json = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode


def json_pieces(obj: Any, group: int = 4096) -> Iterator[str]:
    """:data:`compact_json` of ``obj`` (``json.dumps`` with sorted keys, no ASCII escapes, no spaces) in pieces
    whose concatenation is that text (a test checks it): a dict with string keys is written key by
    key, and a large dict (or dict value) in groups of ``group`` entries, so no piece holds a whole
    large file and no piece is a small one."""

    def str_keyed(o: Any) -> bool:
        return isinstance(o, dict) and bool(o) and all(type(k) is str for k in o)

    def grouped(value: dict) -> Iterator[str]:  # a large dict: its entries in groups, each group at once
        keys = sorted(value)
        yield "{"
        for start in range(0, len(keys), group):
            yield ("," if start else "") + compact_json({k: value[k] for k in keys[start : start + group]})[1:-1]
        yield "}"

    if not str_keyed(obj):
        yield compact_json(obj)
        return
    if len(obj) > group:
        yield from grouped(obj)
        return
    yield "{"
    for n, key in enumerate(sorted(obj)):
        yield ("," if n else "") + compact_json(key) + ":"
        value = obj[key]
        yield from grouped(value) if str_keyed(value) and len(value) > group else [compact_json(value)]
    yield "}"


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


# Floats in the written tables: six places, fixed, so equal input gives equal bytes.
CSV_FLOAT_FORMAT = "%.6f"


def frame_to_csv(frame, header: bool = True) -> str:
    """A DataFrame as CSV text with fixed float formatting, so equal input gives equal bytes;
    ``header=False`` leaves out the header line (for the pieces after the first)."""
    return csv_text(frame, float_format=CSV_FLOAT_FORMAT, header=header)


def table_pieces(table, fmt: str = "csv") -> Iterator[bytes]:
    """The bytes of one table, piece by piece: ``table`` is a DataFrame or an Arrow table, or an
    iterable of such pieces with the same columns (at least one). CSV pieces concatenate to the
    CSV of the whole table; Parquet gets one row group per piece. Only one piece is held at a
    time; the CSV pieces are the lines' buffers as assembled (bytes-like), not copied again."""
    chunks = [table] if hasattr(table, "columns") else table
    if fmt == "parquet":
        yield from _parquet_pieces(chunks)
        return
    for n, frame in enumerate(chunks):
        yield from _csv_parts(frame, CSV_FLOAT_FORMAT, "\n", n == 0)


def _parquet_pieces(chunks) -> Iterator[bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    written: list[bytes] = []

    class Sink:  # what pyarrow needs of a file: write, flush, closed
        closed = False

        def write(self, data) -> int:
            written.append(bytes(data))
            return len(data)

        def flush(self) -> None:
            pass

    sink, writer = Sink(), None
    for frame in chunks:
        table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(sink, table.schema, compression="zstd")
        writer.write_table(table)
        yield b"".join(written)
        written.clear()
    if writer is not None:
        writer.close()
    yield b"".join(written)


def csv_text(frame, float_format: str | None = None, lineterminator: str = "\n", header: bool = True) -> str:
    """``frame.to_csv(index=False, float_format=..., lineterminator=...)``, the same text (tests
    compare the two); ``frame`` is a DataFrame or an Arrow table (written as its ``to_pandas()``).
    Each column's cells as Arrow strings (numbers formatted with array operations), the lines
    quoted and joined by one compiled pass; pandas formats and quotes cell by cell through the csv
    module, seconds for a 100,000-row table. Tables with a column of another kind (not float64,
    integer, bool or text), a single column or text Arrow cannot hold go to pandas."""
    got = _arrow_csv(frame, float_format, lineterminator, header)
    return _pandas_csv(frame, float_format, lineterminator, header) if got is None else b"".join(got).decode("utf-8")


def csv_bytes(frame, float_format: str | None = None, lineterminator: str = "\n", header: bool = True) -> bytes:
    """:func:`csv_text` as UTF-8 bytes, assembled from Arrow's buffers (no Python string per line)."""
    return b"".join(_csv_parts(frame, float_format, lineterminator, header))


def _csv_parts(frame, float_format: str | None, lineterminator: str, header: bool) -> list:
    """The UTF-8 bytes of :func:`csv_text` in consecutive parts (bytes-like): the compiled writer's, or pandas' text."""
    got = _arrow_csv(frame, float_format, lineterminator, header)
    return [_pandas_csv(frame, float_format, lineterminator, header).encode("utf-8")] if got is None else got


def _pandas_csv(frame, float_format: str | None, lineterminator: str, header: bool) -> str:
    """pandas' own CSV text, for what the Arrow writer leaves to it."""
    frame = frame.to_pandas() if hasattr(frame, "schema") else frame
    return frame.to_csv(index=False, float_format=float_format, lineterminator=lineterminator, header=header)


def _arrow_csv(frame, float_format: str | None, lineterminator: str, header: bool) -> list | None:
    """The CSV bytes of :func:`csv_text` in consecutive parts (uint8 arrays), or None where pandas must write it."""
    import pyarrow as pa

    if frame.shape[1] < 2 or set(lineterminator) - {"\r", "\n"} or not lineterminator:
        return None
    try:
        cells = _csv_columns(frame, float_format)
        if cells is None:
            return None
        names = frame.column_names if isinstance(frame, pa.Table) else [str(c) for c in frame.columns]
        return _csv_join(cells, lineterminator, names if header else None)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):  # e.g. lone surrogates, which UTF-8 cannot hold
        return None


# Rows per thread at least when the CSV lines of a long table are assembled on several threads.
CSV_PART_ROWS = 10_000


def _csv_join(columns: list, lineterminator: str, header: list[str] | None = None) -> list:
    """The CSV lines of Arrow string columns of one length (no nulls), ``header`` (the column
    names) first when given, quoted as pandas' writer does, as consecutive parts (uint8 arrays).
    Each column is read in place from its UTF-8 buffer by compiled passes (:func:`_csv_lines`);
    a long table's rows go in parts on several threads (:func:`matcher._blas.in_parts`)."""
    import numpy as np
    import pyarrow as pa

    from matcher._blas import in_parts

    cells = []
    for column in columns:
        column = (column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column).cast(pa.large_string())
        at = np.frombuffer(column.buffers()[1], dtype=np.int64)[column.offset : column.offset + len(column) + 1]
        buffer = column.buffers()[2]
        cells.append((np.frombuffer(buffer, dtype=np.uint8) if buffer is not None else np.zeros(0, np.uint8), at))
    cr, end = "\r" in lineterminator, np.frombuffer(lineterminator.encode("ascii"), dtype=np.uint8)
    parts = []
    if header is not None:  # the names as a table of one row
        names = [np.frombuffer(name.encode("utf-8"), dtype=np.uint8) for name in header]
        parts.append(_csv_lines([(name, np.array([0, len(name)], dtype=np.int64)) for name in names], 0, 1, cr, end))
    n_rows = len(cells[0][1]) - 1
    return parts + in_parts(lambda a, b: _csv_lines(cells, a, b, cr, end), n_rows, CSV_PART_ROWS)


def _csv_lines(cells: list, a: int, b: int, cr: bool, end):
    """The lines of rows ``a..b`` of columns given as (UTF-8 bytes, cell offsets) pairs, as one uint8
    array: each column's cells sized (:func:`matcher._kernels.csv_cell_sizes`), then, the lines'
    starts known, written in place column by column (:func:`matcher._kernels.csv_put_cells`)."""
    import numpy as np

    from matcher import _kernels

    n = b - a
    extras, line = [], np.full(n, len(cells) - 1 + len(end), dtype=np.int64)  # commas and line end
    for data, at in cells:
        extra, size = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
        _kernels.csv_cell_sizes(data, at, a, b, cr, extra, size)
        extras.append(extra)
        line += size
    pos = np.zeros(n, dtype=np.int64)
    np.cumsum(line[:-1], out=pos[1:])
    out = np.empty(int(pos[-1] + line[-1]) if n else 0, dtype=np.uint8)
    comma = np.array([44], dtype=np.uint8)
    for c, (data, at) in enumerate(cells):
        _kernels.csv_put_cells(data, at, a, b, extras[c], out, pos, end if c == len(cells) - 1 else comma)
    return out


def _csv_columns(frame, float_format: str | None) -> list | None:
    """Each column's cells as pandas writes them, before quoting (Arrow strings), NaN and None as
    empty cells; None when a column is of a kind this writer does not handle. An Arrow table's
    columns are read as they are; a DataFrame's are taken into Arrow first (:func:`_arrow_column`)."""
    import pyarrow as pa

    columns = frame.columns if isinstance(frame, pa.Table) else (_arrow_column(col) for _, col in frame.items())
    out = []
    for col in columns:
        cells = None if col is None else _column_cells(col, float_format)
        if cells is None:
            return None
        out.append(cells)
    return out


def _arrow_column(col):
    """A DataFrame column as an Arrow array of the kinds :func:`_column_cells` writes (numbers,
    bools and text, missing text as null), or None for any other column."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    dtype = col.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
        return pa.array(col.to_numpy())
    if isinstance(dtype, pd.StringDtype):  # text kept in Arrow (or as str objects) by pandas: no conversion per cell
        return pa.array(col.array).cast(pa.string())
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        values = col.to_numpy(dtype=object)
        missing = col.isna().to_numpy()
        if missing.any():
            values = values.copy()
            values[missing] = None
        if not set(map(type, values.tolist())) <= {str, type(None)}:
            return None
        return pa.array(values, pa.string())
    return None


def _column_cells(col, float_format: str | None):
    """One Arrow column's cells as pandas writes them (Arrow strings): float64 by ``float_format``
    (``"%.Nf"`` with array operations; none: Python's ``str`` of each value), NaN and null as
    empty cells; integers in decimal; bools as True/False; text as it is. None for another type."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    kind = col.type
    if pa.types.is_float64(kind):
        values = col.to_numpy(zero_copy_only=False)  # null as NaN
        fixed = None if float_format is None else FIXED_FORMAT.fullmatch(float_format)
        if fixed is not None:  # "%.Nf": formatted with array operations, the same text
            return pc.fill_null(fixed_point_cells(values, int(fixed.group(1))), "")
        # Without a format, pandas' own conversion of a float column; with one, the format per value.
        cells = values.astype(str).tolist() if float_format is None else [float_format % v for v in values.tolist()]
        for i in np.flatnonzero(np.isnan(values)).tolist():
            cells[i] = ""
        return pa.array(cells, pa.string())
    if pa.types.is_integer(kind):
        return pc.fill_null(pc.cast(col, pa.string()), "")
    if pa.types.is_boolean(kind):
        return pc.fill_null(pc.if_else(col, "True", "False"), "")
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pc.fill_null(col.cast(pa.string()), "")
    return None


FORMATS = ("csv", "parquet")


def frame_to_parquet(frame) -> bytes:
    """A DataFrame as Parquet bytes (pyarrow), the same columns as the CSV; equal input gives equal bytes."""
    return b"".join(_parquet_pieces([frame]))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on a folder (flock on the folder itself: no lock file is left behind)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block ends (main thread only), so a commit is not cut short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    saved = {sig: signal.signal(sig, lambda signum, frame: caught.append(signum)) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        for sig in dict.fromkeys(caught):
            signal.raise_signal(sig)


def _stale_stages(out: Path, own: Path | None = None) -> Iterator[Path]:
    """Staging folders in ``out`` whose run is gone (nobody holds their lock)."""
    for stage in sorted(out.glob(f"{STAGE_PREFIX}*")):
        if stage == own or not stage.is_dir():
            continue
        try:
            fd = os.open(stage, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live run is writing there
        finally:
            os.close(fd)
        yield stage


def _recover_locked(out: Path, own: Path | None = None) -> list[str]:
    finished: list[str] = []
    for stage in _stale_stages(out, own):
        record = stage / COMMIT_RECORD
        if record.is_file():  # killed among its renames: complete them
            try:
                names = json.loads(record.read_text(encoding="utf-8"))["files"]
            except (OSError, ValueError, KeyError, TypeError):
                names = []
            for name in names:
                if (stage / name).is_file():
                    os.replace(stage / name, out / name)
                    finished.append(name)
            log.warning("completed the interrupted commit of an earlier run in %s (%s)", out, ", ".join(names))
        shutil.rmtree(stage, ignore_errors=True)
    if finished:
        _fsync_dir(out)
    return finished


def recover_output(out: str | Path) -> list[str]:
    """Complete any commit a killed run left half done in ``out`` and remove dead runs' staging
    folders; returns the names of the files moved into place. Runs do this themselves."""
    out = Path(out)
    if not out.is_dir():
        return []
    with _locked(out):
        return _recover_locked(out)


class OutputStage:
    """The files of one run, staged in a hidden folder inside ``out`` and committed together.

    Use as a context manager: write with :meth:`write_text` (or write into :meth:`path` and
    :meth:`add`), then :meth:`commit`. Leaving the block without committing removes the stage.
    """

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.dir: Path | None = None
        self.names: list[str] = []
        self._fd: int | None = None

    def __enter__(self) -> OutputStage:
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            self.dir = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=self.out))
            self._fd = os.open(self.dir, os.O_RDONLY)
        except OSError as exc:
            raise OutputError(f"output folder {str(self.out)!r} cannot be written ({exc.strerror or exc}); choose another --out folder") from exc
        fcntl.flock(self._fd, fcntl.LOCK_EX)  # held while this run lives: its stage is not stale
        return self

    def __exit__(self, *exc_info) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def path(self, name: str) -> Path:
        """Where the staged file ``name`` goes (plain names only: the files land in ``out``)."""
        if self.dir is None:
            raise OutputError("the output stage is not open; use it in a with block")
        if not name or "/" in name or name.startswith("."):
            raise OutputError(f"output file names are plain, visible names; got {name!r}")
        return self.dir / name

    def add(self, name: str) -> Path:
        """Register a file written into :meth:`path` by other code."""
        path = self.path(name)
        if not path.is_file():
            raise OutputError(f"staged file {name!r} was not written")
        if name not in self.names:
            self.names.append(name)
        return path

    def write_bytes(self, name: str, data: bytes | Iterable[bytes], add: bool = True) -> Path:
        """Stage ``name`` with ``data``; ``add=False`` leaves registering it to a later :meth:`add`
        (files written on other threads are registered in a fixed order)."""
        path = atomic_write_bytes(self.path(name), data)
        return self.add(name) if add else path

    def write_text(self, name: str, text: str) -> Path:
        return self.write_bytes(name, text.encode("utf-8"))

    def commit(self, last: tuple[str, ...] = ("run.json",)) -> dict[str, Path]:
        """Move every staged file into ``out`` (``last`` ones last) under the folder's lock."""
        stage = self.dir
        if stage is None:
            raise OutputError("the output stage is not open; use it in a with block")
        order = [n for n in self.names if n not in last] + [n for n in last if n in self.names]
        with _locked(self.out), _signals_deferred():
            _recover_locked(self.out, own=stage)
            atomic_write_json(stage / COMMIT_RECORD, {"files": order})
            for name in order:
                os.replace(stage / name, self.out / name)
            _fsync_dir(self.out)
            shutil.rmtree(stage, ignore_errors=True)
            self.dir = None
        return {name: self.out / name for name in order}


def _hashed(pieces: Iterable[bytes], digest, pool) -> Iterator[bytes]:
    """``pieces`` passed through, each added to ``digest`` on the one thread of ``pool`` while the
    next is made and this one written (hashlib leaves the GIL for large data); pieces are added in
    order, each before the next is passed on."""
    pending = None
    for piece in pieces:
        if pending is not None:
            pending.result()
        pending = pool.submit(digest.update, piece)
        yield piece
    if pending is not None:
        pending.result()


def write_run(
    out: Path,
    frames: dict,
    run_info: dict | Callable[[], dict],
    extra: dict[str, Iterable[bytes]] | None = None,
    before_commit: Callable[[OutputStage], None] | None = None,
    fmt: str = "csv",
) -> dict[str, Path]:
    """Write every table of a batch run (``name.csv``, or ``name.parquet`` with ``fmt="parquet"``;
    each a DataFrame or an Arrow table, or an iterable of its pieces, see :func:`table_pieces`),
    any extra file (``extra``: name -> its bytes, piece by piece; details.json) and ``run.json``
    as one commit (see :class:`OutputStage`);
    ``before_commit(stage)`` may stage more files (the HTML report). ``run.json`` is ``run_info``
    (or what it returns, called once the tables are written) with ``outputs_sha256``: the SHA-256
    of the tables' bytes as written, in table order.

    The extra files are made and written on a second thread while this one writes the tables
    (much of both is compiled or Arrow work, outside the GIL); the tables' hash is taken on a
    third, a piece behind. The files are staged in the order given either way."""
    from concurrent.futures import ThreadPoolExecutor

    if fmt not in FORMATS:
        raise OutputError(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    digest = hashlib.sha256()
    stop = threading.Event()

    def until_stopped(name: str, pieces: Iterable[bytes]) -> Iterator[bytes]:  # a failed or interrupted run does not wait for the whole file
        for piece in pieces:
            if stop.is_set():
                raise OutputError(f"the run stopped before {name} was written")
            yield piece

    with OutputStage(out) as stage:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="matcher-extra") as maker, ThreadPoolExecutor(max_workers=1, thread_name_prefix="matcher-hash") as hasher:
            extras = {name: maker.submit(stage.write_bytes, name, until_stopped(name, pieces), add=False) for name, pieces in (extra or {}).items()}
            try:
                for name, table in frames.items():
                    stage.write_bytes(str(Path(name).with_suffix(".parquet")) if fmt == "parquet" else name, _hashed(table_pieces(table, fmt), digest, hasher))
            except BaseException:
                stop.set()
                raise
            for name, done in extras.items():
                done.result()
                stage.add(name)
        info = run_info() if callable(run_info) else run_info
        stage.write_text("run.json", json.dumps({**info, "outputs_sha256": digest.hexdigest()}, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        if before_commit is not None:
            before_commit(stage)
        return stage.commit()


SCHEDULE_FILES = ("meetings.csv", "agendas.csv", "agenda.html", "schedule.json")


def write_schedule(schedule, out: str | Path) -> dict[str, Path]:
    """Write a :class:`~matcher.schedule.Schedule` into ``out`` as one commit (see
    :class:`OutputStage`): ``meetings.csv``, ``agendas.csv``, ``agenda.html`` and, last,
    ``schedule.json``. The same schedule gives the same bytes."""
    from matcher.report import render_agenda_html

    with OutputStage(Path(out)) as stage:
        stage.write_text("meetings.csv", frame_to_csv(schedule.meetings))
        stage.write_text("agendas.csv", frame_to_csv(schedule.agendas))
        stage.write_text("agenda.html", render_agenda_html(schedule))
        stage.write_text("schedule.json", json.dumps(schedule.summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        return stage.commit(last=("schedule.json",))

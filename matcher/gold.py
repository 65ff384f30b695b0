"""Gold files: known EU-Canada agreements, read and checked against a corpus.

A gold file is a CSV with ``eu_id`` and ``ca_id`` columns, and optionally ``kind`` (``mou``,
``agreement``, ``network``), ``year``, ``source`` and ``note``. Gold is only ever used to flag
known partners and to evaluate; it is never a ranking feature.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from matcher._resources import bundled_path
from matcher.corpus import Corpus, Problem, _decode, _format, unknown_id_message
from matcher.errors import GoldError

__all__ = ["GOLD_KINDS", "SIGNED_KINDS", "GoldPair", "default_gold_path", "load_gold"]

log = logging.getLogger(__name__)

GOLD_KINDS = {
    "mou": "memorandum of understanding",
    "agreement": "signed cooperation or partnership agreement",
    "network": "co-membership of a network",
}
SIGNED_KINDS = ("mou", "agreement")
REQUIRED_COLUMNS = ("eu_id", "ca_id")


@dataclass(frozen=True, slots=True)
class GoldPair:
    """One known EU-Canada pairing."""

    eu_id: str
    ca_id: str
    kind: str = "agreement"
    year: int | None = None
    source: str = ""
    line: int | None = None


def default_gold_path() -> Path:
    """The bundled gold file of agreements named in the seed document."""
    return bundled_path("gold") / "seed_agreements.csv"


def load_gold(
    path: str | Path | None,
    corpus: Corpus,
    kinds: Iterable[str] | None = None,
) -> tuple[GoldPair, ...]:
    """Read a gold CSV and check every pair against ``corpus``.

    ``kinds`` keeps only pairs of those kinds (all kinds when None). Raises one
    :class:`GoldError` listing unknown ids (with the closest ids), pairs of two profiles of the
    same side, unknown kinds and missing columns; duplicate rows are kept once, with a warning.
    """
    path = Path(path) if path is not None else default_gold_path()
    display = str(path)
    if not path.is_file():
        raise GoldError(f"gold file {display!r} does not exist; expected a CSV with columns eu_id, ca_id[, kind, year, source]")
    problems: list[Problem] = []
    text = _decode(path.read_bytes(), display, problems)
    if text is None:
        raise GoldError(_format(problems, f"gold file {display!r}"), problems)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames or []
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise GoldError(f"gold file {display!r} lacks column(s) {', '.join(missing)}; found {columns}; expected eu_id, ca_id[, kind, year, source]")
    wanted = None if kinds is None else tuple(kinds)
    if wanted is not None:
        for k in wanted:
            if k not in GOLD_KINDS:
                raise GoldError(f"gold kind {k!r} is not one of: {', '.join(GOLD_KINDS)}")
    pairs: list[GoldPair] = []
    seen: dict[tuple[str, str], int] = {}
    line = 2
    for row in reader:
        eu_id = (row.get("eu_id") or "").strip()
        ca_id = (row.get("ca_id") or "").strip()
        kind = (row.get("kind") or "agreement").strip()
        year_text = (row.get("year") or "").strip()
        rec = f"{eu_id}/{ca_id}"
        row_ok = True
        for col, pid, side in (("eu_id", eu_id, "eu"), ("ca_id", ca_id, "ca")):
            if pid not in corpus.by_id:
                problems.append(Problem(display, rec, line, col, pid, unknown_id_message(pid, corpus.by_id).replace(f"unknown profile id {pid!r}", "a profile id of the corpus")))
                row_ok = False
            elif corpus.by_id[pid].side != side:
                problems.append(
                    Problem(display, rec, line, col, pid, f"a profile of side {side!r} (it is {corpus.by_id[pid].side!r}): a gold pair joins one European and one Canadian profile")
                )
                row_ok = False
        if kind not in GOLD_KINDS:
            problems.append(Problem(display, rec, line, "kind", kind, f"one of: {', '.join(GOLD_KINDS)}"))
            row_ok = False
        year = None
        if year_text:
            if year_text.isdecimal() and len(year_text) <= 4:  # not isdigit(): it accepts '²', which int() refuses
                year = int(year_text)
            else:
                problems.append(Problem(display, rec, line, "year", year_text, "a year such as 2017, or empty"))
                row_ok = False
        if row_ok:
            key = (eu_id, ca_id)
            if key in seen:
                log.warning("%s:%d duplicates the gold pair on line %d (%s); counted once", display, line, seen[key], rec)
            elif wanted is None or kind in wanted:
                seen[key] = line
                pairs.append(GoldPair(eu_id, ca_id, kind, year, (row.get("source") or "").strip(), line))
        line = reader.line_num + 1
    if problems:
        raise GoldError(_format(problems, f"gold file {display!r}"), problems)
    if not pairs:
        which = "" if wanted is None else f" of kind {', '.join(wanted)}"
        raise GoldError(f"gold file {display!r} has no pair{which}; expected at least one eu_id, ca_id row")
    return tuple(pairs)

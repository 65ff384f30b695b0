"""Gold files: known EU-Canada agreements, read and checked against a corpus.

A gold file is a CSV with ``eu_id`` and ``ca_id`` columns, where every row says where the pair is
documented (``source_url``, a public address, or ``source``, a reference such as a section of the
seed document) and what that source says (``evidence``, or ``note``). Optional columns: ``kind``
(see :data:`GOLD_KINDS`), ``year``, ``confidence`` (``high``: a signed document or both parties'
announcements; ``medium``: one party's or a third party's report), and ``eu_name``/``ca_name`` for
readers. Gold is only ever used to flag known partners and to evaluate; it is never a ranking
feature.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from matcher._resources import bundled_path
from matcher.corpus import Corpus, Problem, _decode, _format, unknown_id_message
from matcher.errors import GoldError

__all__ = [
    "CONFIDENCES",
    "GOLD_KINDS",
    "SIGNED_KINDS",
    "GoldPair",
    "default_gold_path",
    "default_gold_paths",
    "load_gold",
    "load_gold_files",
]

log = logging.getLogger(__name__)

GOLD_KINDS = {
    "mou": "memorandum of understanding or letter of intent",
    "agreement": "signed cooperation or partnership agreement",
    "joint_programme": "joint programme, call or event series run together under an agreement",
    "network": "co-membership of a network",
}
# Kinds that document a bilateral commitment; evaluation counts these by default.
SIGNED_KINDS = ("mou", "agreement", "joint_programme")
CONFIDENCES = {
    "high": "a signed document or both parties' announcements",
    "medium": "one party's or a third party's report",
}
REQUIRED_COLUMNS = ("eu_id", "ca_id")
# Each pair of columns is "either one": a row needs a non-empty value in one of them.
SOURCE_COLUMNS = ("source_url", "source")
EVIDENCE_COLUMNS = ("evidence", "note")
KNOWN_COLUMNS = (*REQUIRED_COLUMNS, "eu_name", "ca_name", "kind", "year", *SOURCE_COLUMNS, *EVIDENCE_COLUMNS, "confidence")
_URL = re.compile(r"https?://[^\s/]+\.[^\s]+")
EXPECTED_SHAPE = "a CSV with columns eu_id, ca_id, source_url (or source), evidence (or note)[, kind, year, confidence]"


@dataclass(frozen=True, slots=True)
class GoldPair:
    """One known EU-Canada pairing and where it is documented."""

    eu_id: str
    ca_id: str
    kind: str = "agreement"
    year: int | None = None
    source: str = ""
    line: int | None = None
    evidence: str = ""
    confidence: str = ""
    file: str = ""


def default_gold_path() -> Path:
    """The bundled gold file of agreements named in the seed document."""
    return bundled_path("gold") / "seed_agreements.csv"


def default_gold_paths() -> tuple[Path, ...]:
    """Every bundled gold file: the seed's agreements and the documented agreements found since."""
    return tuple(sorted(bundled_path("gold").glob("*.csv")))


def load_gold(
    path: str | Path | None,
    corpus: Corpus,
    kinds: Iterable[str] | None = None,
    suggest: bool = True,
) -> tuple[GoldPair, ...]:
    """Read one gold CSV and check every row against ``corpus``.

    ``path`` None reads the bundled seed file. ``kinds`` keeps only pairs of those kinds (all kinds
    when None). Raises one :class:`GoldError` listing every problem: unknown ids (with the closest
    ids), pairs of two profiles of the same side, unknown kinds and confidences, malformed years and
    addresses, rows without a source or evidence, and pairs listed twice. ``suggest=False`` leaves
    the closest ids out of the messages (a quick check: the search is slow on large corpora).
    """
    path = Path(path) if path is not None else default_gold_path()
    display = str(path)
    if not path.is_file():
        raise GoldError(f"gold file {display!r} does not exist; expected {EXPECTED_SHAPE}")
    problems: list[Problem] = []
    text = _decode(path.read_bytes(), display, problems)
    if text is None:
        raise GoldError(_format(problems, f"gold file {display!r}"), problems)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip() for c in reader.fieldnames or []]
    reader.fieldnames = columns
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    missing += [" or ".join(group) for group in (SOURCE_COLUMNS, EVIDENCE_COLUMNS) if not any(c in columns for c in group)]
    if missing:
        raise GoldError(f"gold file {display!r} lacks column(s) {', '.join(missing)}; found {', '.join(columns) or 'no header'}; expected {EXPECTED_SHAPE}")
    for extra in (c for c in columns if c not in KNOWN_COLUMNS):
        log.warning("gold file %s: column %r is not read (known columns: %s)", display, extra, ", ".join(KNOWN_COLUMNS))
    wanted = None if kinds is None else tuple(kinds)
    if wanted is not None:
        for k in wanted:
            if k not in GOLD_KINDS:
                raise GoldError(f"gold kind {k!r} is not one of: {', '.join(GOLD_KINDS)}")
    pairs: list[GoldPair] = []
    seen: dict[tuple[str, str], int] = {}
    line = 2
    for row in _rows(reader, display):
        cell = {c: (row.get(c) or "").strip() for c in KNOWN_COLUMNS}
        eu_id, ca_id, kind = cell["eu_id"], cell["ca_id"], cell["kind"] or "agreement"
        rec = f"{eu_id}/{ca_id}"
        n_before = len(problems)

        def problem(field: str, value: str, expected: str) -> None:
            problems.append(Problem(display, rec, line, field, value, expected))  # noqa: B023

        for col, pid, side in (("eu_id", eu_id, "eu"), ("ca_id", ca_id, "ca")):
            if pid not in corpus.by_id:
                expected = "a profile id of the corpus"
                if suggest:
                    expected = unknown_id_message(pid, corpus.by_id).replace(f"unknown profile id {pid!r}", expected)
                problem(col, pid, expected)
            elif corpus.by_id[pid].side != side:
                problem(col, pid, f"a profile of side {side!r} (it is {corpus.by_id[pid].side!r}): a gold pair joins one European and one Canadian profile")
        if kind not in GOLD_KINDS:
            problem("kind", kind, f"one of: {', '.join(GOLD_KINDS)}")
        year = None
        if cell["year"]:
            if cell["year"].isdecimal() and cell["year"].isascii() and len(cell["year"]) == 4:
                year = int(cell["year"])
            else:
                problem("year", cell["year"], "a year such as 2017, or empty")
        source = cell["source_url"] or cell["source"]
        if cell["source_url"] and not _URL.fullmatch(cell["source_url"]):
            problem("source_url", cell["source_url"], "a public address starting with http:// or https://")
        if not source:
            problem(SOURCE_COLUMNS[0] if SOURCE_COLUMNS[0] in columns else SOURCE_COLUMNS[1], "", "where the agreement is documented (the public address of the source)")
        evidence = cell["evidence"] or cell["note"]
        if not evidence:
            problem(EVIDENCE_COLUMNS[0] if EVIDENCE_COLUMNS[0] in columns else EVIDENCE_COLUMNS[1], "", "what the source says about the agreement, in a sentence")
        if "confidence" in columns and cell["confidence"] not in CONFIDENCES:
            problem("confidence", cell["confidence"], f"one of: {', '.join(CONFIDENCES)}")
        key = (eu_id, ca_id)
        if key in seen:
            problem("eu_id", rec, f"each pair once; the pair is already on line {seen[key]}")
        elif len(problems) == n_before:
            seen[key] = line
            if wanted is None or kind in wanted:
                pairs.append(GoldPair(eu_id, ca_id, kind, year, source, line, evidence, cell["confidence"], path.name))
        line = reader.line_num + 1
    if problems:
        raise GoldError(_format(problems, f"gold file {display!r}"), problems)
    if not pairs:
        which = "" if wanted is None else f" of kind {', '.join(wanted)}"
        raise GoldError(f"gold file {display!r} has no pair{which}; expected at least one eu_id, ca_id row")
    return tuple(pairs)


def _rows(reader: csv.DictReader, display: str):
    """The reader's rows; a field over the csv module's limit is a GoldError naming its line."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise GoldError(f"gold file {display!r}:{reader.line_num + 1}: got a field the CSV reader refuses ({exc}); expected fields of at most {csv.field_size_limit():,} characters") from None


def load_gold_files(paths: Sequence[str | Path] | None, corpus: Corpus, kinds: Iterable[str] | None = None, suggest: bool = True) -> tuple[GoldPair, ...]:
    """Gold pairs from several files (every bundled gold file when ``paths`` is None).

    A pair found in two files is kept once, from the first file, with a note in the log. A file
    with no pair of the selected kinds contributes nothing; no pair at all is a :class:`GoldError`.
    """
    files = list(paths) if paths else list(default_gold_paths())
    wanted = None if kinds is None else tuple(kinds)
    seen: dict[tuple[str, str], GoldPair] = {}
    for path in files:
        for g in load_gold(path, corpus, suggest=suggest):
            first = seen.setdefault((g.eu_id, g.ca_id), g)
            if first is not g:
                log.info("%s:%s repeats the gold pair %s/%s of %s; counted once", path, g.line, g.eu_id, g.ca_id, first.file)
    pairs = tuple(g for g in seen.values() if wanted is None or g.kind in wanted)
    if not pairs:
        which = "" if wanted is None else f" of kind {', '.join(wanted)}"
        raise GoldError(f"gold files {', '.join(str(p) for p in files)} have no pair{which}")
    return pairs

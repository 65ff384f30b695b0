"""An event's participant list: corpus ids or newcomers' profile rows, each with an optional
``max_meetings``, read from a CSV file or given as a list and checked against the corpus.

Every problem is collected, then one :class:`~matcher.errors.ParticipantsError` lists them, each
naming the file, the line (or the item number of a list), the participant and the field.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from matcher.corpus import ALL_FIELDS, Corpus, Problem, Profile, _decode, _format, unknown_id_message, validate_profile
from matcher.errors import CorpusError, ParticipantsError

__all__ = ["PARTICIPANT_FIELDS", "Participant", "read_participants"]

# The columns of a participant row besides a newcomer's profile fields.
PARTICIPANT_FIELDS = ("id", "max_meetings")
_FIELDS = (*PARTICIPANT_FIELDS, *(f for f in ALL_FIELDS if f != "id"))
_COUNT = re.compile(r"\s*[0-9]{1,9}\s*")
MAX_MEETINGS_EXPECTED = "a non-negative integer (the most meetings this participant takes; empty: one per slot)"
PROFILE_EXPECTED = "a corpus id, or a newcomer's full profile row (name, side, country, kind, sectors, description)"


@dataclass(frozen=True)
class Participant:
    """One participant: its profile, whether it is a newcomer (not in the corpus), and its
    ``max_meetings`` (None: as many as there are slots)."""

    profile: Profile
    max_meetings: int | None = None
    newcomer: bool = False

    @property
    def id(self) -> str:
        return self.profile.id

    @property
    def side(self) -> str:
        return self.profile.side


def _file_rows(path: Path, display: str, problems: list[Problem]) -> list[tuple[int, dict[str, Any]]]:
    """(line, non-empty values) of each row of a participants CSV; header problems appended."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(display, None, None, None, exc.strerror or str(exc), "a readable CSV file"))
        return []
    if path.suffix.lower() != ".csv":
        problems.append(Problem(display, None, None, None, path.suffix or "no suffix", "a .csv file with a column 'id' and optionally 'max_meetings'"))
        return []
    text = _decode(data, display, problems)
    if text is None:
        return []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header, line = None, 0
        for row in reader:
            if any(v.strip() for v in row):
                header = [h.strip() for h in row]
                line = reader.line_num
                break
        if header is None:
            problems.append(Problem(display, None, 1, None, "an empty file", "a header line with a column 'id' (and optionally 'max_meetings' and a newcomer's profile fields)"))
            return []
        bad_header = False
        if "id" not in header:
            problems.append(Problem(display, None, line, "header", ", ".join(header), "a column 'id'"))
            bad_header = True
        for name in dict.fromkeys(h for h in header if h not in _FIELDS):
            close = difflib.get_close_matches(name, _FIELDS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(Problem(display, None, line, "header", name, f"a known column{hint}: {', '.join(_FIELDS)}"))
            bad_header = True
        for name in sorted({h for h in header if header.count(h) > 1}):
            problems.append(Problem(display, None, line, "header", name, f"each column once; {name!r} appears {header.count(name)} times"))
            bad_header = True
        if bad_header:
            return []
        out, start = [], line + 1
        for row in reader:
            if any(v.strip() for v in row):
                if len(row) > len(header):
                    problems.append(Problem(display, row[header.index("id")].strip() or None, start, None, row[len(header):], f"at most {len(header)} columns"))
                out.append((start, {h: v.strip() for h, v in zip(header, row, strict=False) if v.strip()}))
            start = reader.line_num + 1
        return out
    except csv.Error as exc:
        problems.append(Problem(display, None, reader.line_num, None, str(exc), "valid CSV"))
        return []


def _item_rows(items: Sequence[object], problems: list[Problem], corpus: Corpus) -> list[tuple[int, dict[str, Any] | Profile]]:
    out: list[tuple[int, dict[str, Any] | Profile]] = []
    for n, item in enumerate(items, start=1):
        if isinstance(item, str):
            out.append((n, {"id": item}))
        elif isinstance(item, Profile):
            out.append((n, item))
        elif isinstance(item, Mapping):
            out.append((n, {str(k): v for k, v in item.items() if v is not None and v != ""}))
        else:
            problems.append(Problem("participants", None, n, None, item, "a corpus id, a mapping with 'id' (and 'max_meetings', or a newcomer's profile fields) or a Profile"))
    return out


def _max_meetings(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and _COUNT.fullmatch(value):
        return int(value)
    return None


def read_participants(source: str | Path | Sequence[object], corpus: Corpus) -> tuple[Participant, ...]:
    """The participants of an event, checked against ``corpus``, in the order given.

    ``source`` is a CSV file (columns ``id``, optional ``max_meetings``, and a newcomer's profile
    fields in the corpus schema, lists separated by ``;``) or a list of corpus ids, mappings of the
    same fields, or :class:`~matcher.corpus.Profile` objects. A row with only ``id`` (and
    ``max_meetings``) names a corpus profile; a row with profile fields is a newcomer, validated as
    ``matcher match`` validates a profile. Raises one :class:`ParticipantsError` listing every
    problem: unknown ids (with the closest ids), duplicates, bad ``max_meetings``, invalid newcomer
    rows, and a list whose participants are all on one side.
    """
    problems: list[Problem] = []
    if isinstance(source, (str, Path)):
        display = str(source)
        rows = _file_rows(Path(source), display, problems)
        what = f"participants file {display!r}"
    else:
        display = "participants"
        rows = _item_rows(list(source), problems, corpus)
        what = "the participant list"
    out: list[Participant] = []
    seen: dict[str, int] = {}
    sides: list[str | None] = []
    for line, values in rows:
        if isinstance(values, Profile):
            pid, record, count = values.id, values, None
            newcomer = corpus.by_id.get(pid) != values
        else:
            pid = str(values.get("id", "")).strip()
            record = {k: v for k, v in values.items() if k != "max_meetings"}
            count = values.get("max_meetings")
            newcomer = bool(set(record) - {"id"})
        before = len(problems)
        if not pid:
            problems.append(Problem(display, None, line, "id", "", PROFILE_EXPECTED))
        elif pid in seen:
            where = "line" if isinstance(source, (str, Path)) else "item"
            problems.append(Problem(display, pid, line, "id", pid, f"each participant once; {pid!r} is already on {where} {seen[pid]}"))
        if count is not None and _max_meetings(count) is None:
            problems.append(Problem(display, pid or None, line, "max_meetings", count, MAX_MEETINGS_EXPECTED))
        side, profile = None, None
        if not pid:
            pass
        elif pid in corpus.by_id:
            side = corpus.by_id[pid].side
            if newcomer:
                problems.append(Problem(display, pid, line, "id", pid, f"a new id for a newcomer's profile ({pid!r} is in the corpus: give only its id and max_meetings)"))
            else:
                profile = corpus.by_id[pid]
        elif not newcomer:
            hint = unknown_id_message(pid, corpus.by_id).partition("; ")[2]
            problems.append(Problem(display, pid, line, "id", pid, PROFILE_EXPECTED + (f" ({hint})" if hint else "")))
        else:
            try:
                profile = validate_profile(record, corpus.taxonomy, source=display)
                side = profile.side
            except CorpusError as exc:
                problems.extend(replace(p, line=line) for p in exc.problems)
                side = record.get("side") if record.get("side") in ("eu", "ca") else None
        sides.append(side)
        if pid and pid not in seen:
            seen[pid] = line
        if len(problems) == before and profile is not None:
            out.append(Participant(profile, None if count is None else _max_meetings(count), newcomer))
    if not rows and not problems:
        problems.append(Problem(display, None, None, None, "no participants", "at least one European and one Canadian participant"))
    elif sides and all(s is not None for s in sides) and len(set(sides)) == 1:
        name = {"eu": "European", "ca": "Canadian"}[sides[0]]
        other = "Canadian" if sides[0] == "eu" else "European"
        problems.append(Problem(display, None, None, "side", f"only {name} participants ({len(sides)})", f"at least one {other} participant as well: meetings pair a European with a Canadian cluster"))
    if problems:
        problems.sort(key=lambda p: (p.line is None, p.line or 0))  # by line; problems of the whole list last
        raise ParticipantsError(_format(problems, what), problems)
    return tuple(out)

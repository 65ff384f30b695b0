"""Corpus stage: read profiles, taxonomy and partnerships, validate them, build frozen records.

Validation happens here, at the boundary, and only here: every problem in every file is collected
and raised together as one :class:`CorpusError` whose message lists file, line, record id, field,
value and what was expected. Everything downstream can trust a :class:`Corpus`.
"""

from __future__ import annotations

import csv
import datetime as _dt
import difflib
import hashlib
import io
import json
import logging
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from matcher._resources import bundled_path
from matcher.errors import CorpusError, MatcherError, UnknownIdError

__all__ = [
    "MAX_FIELD_CHARS",
    "Corpus",
    "Partnership",
    "Problem",
    "Profile",
    "Sector",
    "Taxonomy",
    "corpus_stats",
    "load_corpus",
    "load_related",
    "load_taxonomy",
    "profiles_to_frame",
    "write_profiles_csv",
]

log = logging.getLogger(__name__)

SIDES: Mapping[str, str] = MappingProxyType(
    {
        "eu": "Europe as the European Cluster Collaboration Platform covers it",
        "ca": "Canada",
    }
)
KINDS: Mapping[str, str] = MappingProxyType(
    {
        "cluster_organisation": "cluster organisation",
        "supercluster": "supercluster / global innovation cluster",
        "research_consortium": "research consortium",
        "industry_association": "industry association",
        "network": "network or partnership of organisations (cluster networks, chambers, trade networks)",
        "innovation_agency": "public or public-private agency that funds or runs innovation, investment or internationalisation programmes (regional development and trade agencies)",
        "technology_centre": "research and technology organisation, centre of excellence or technology-transfer centre doing applied R&D for industry",
        "innovation_hub": "innovation park, technopole, technology hub, incubator or accelerator that hosts and supports firms",
        "cluster_partnership": "cross-border or multi-cluster partnership with its own identity (meta-clusters, European strategic cluster partnerships)",
    }
)
REQUIRED_FIELDS = ("id", "name", "side", "country", "kind", "sectors", "description")
OPTIONAL_FIELDS = (
    "aliases",
    "region",
    "region_code",
    "city",
    "keywords",
    "languages",
    "founded",
    "members",
    "website",
    "target_markets",
    "sources",
    "reviewed",
)
ALL_FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
LIST_FIELDS = frozenset({"aliases", "region_code", "sectors", "keywords", "languages", "target_markets", "sources"})
LIST_SEPARATOR = ";"
DESCRIPTION_WORDS = (80, 250)
PROFILE_SUFFIXES = (".yaml", ".yml", ".json", ".csv")
RELATED_FILE = "related_sectors.yaml"
RESERVED_FILES = frozenset({"taxonomy.yaml", "partnerships.yaml", RELATED_FILE})

ISO_COUNTRIES = frozenset(
    ["AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW"]
)
# EU member states, EEA/EFTA, the UK, Switzerland and the COSME participating countries.
EUROPEAN_COUNTRIES = frozenset(
    ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "GB", "NO", "IS", "LI", "CH", "TR", "AL", "AM", "BA", "ME", "MK", "MD", "RS", "UA"]
)
SIDE_COUNTRIES: Mapping[str, frozenset[str]] = MappingProxyType(
    {"eu": EUROPEAN_COUNTRIES, "ca": frozenset({"CA"})}
)
# target_markets may also name the whole EU.
MARKET_CODES = ISO_COUNTRIES | {"EU"}

# libyaml's C loader when PyYAML has it (tens of times faster); same nodes, marks and values.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ID_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_LANG_RE = re.compile(r"[a-z]{2}")
_URL_RE = re.compile(r"https?://[^\s]+")
# Region codes: ISO 3166-2 subdivisions for Canada; NUTS 2 codes for Europe (NUTS 2021; the UK keeps its
# NUTS 2016 codes, the last version that covers it). NUTS writes Greece as EL and the UK as UK.
CA_REGION_CODES = frozenset(["CA-AB", "CA-BC", "CA-MB", "CA-NB", "CA-NL", "CA-NS", "CA-NT", "CA-NU", "CA-ON", "CA-PE", "CA-QC", "CA-SK", "CA-YT"])
NUTS_PREFIX: Mapping[str, str] = MappingProxyType({"GR": "EL", "GB": "UK"})
_NUTS2_RE = re.compile(r"[A-Z]{2}[0-9A-Z]{2}")
_NUTS_PREFIX_RE = re.compile(r"[A-Z]{2}[0-9A-Z]{0,2}")


REGION_FILTER_EXPECTED = (
    f"ISO 3166-2 Canadian codes ({', '.join(sorted(CA_REGION_CODES))}) or NUTS codes or prefixes of 2 to 4 characters such as FR, FR1, FR10"
)


def region_filter_ok(code: str) -> bool:
    """Whether ``code`` can select regions: a Canadian ISO 3166-2 code, or a NUTS code or prefix (FR, FR1, FR10)."""
    return code in CA_REGION_CODES or (not code.startswith("CA-") and bool(_NUTS_PREFIX_RE.fullmatch(code)))


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation problem: where it is, what was found and what was expected."""

    file: str
    record: str | None
    line: int | None
    field: str | None
    value: Any
    expected: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        rec = f" [{self.record}]" if self.record else ""
        fld = f" {self.field}:" if self.field else ""
        return f"{where}{rec}{fld} got {_short(self.value)}; expected {self.expected}"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True, slots=True)
class Sector:
    """A fine sector code with its label, level (traded / emerging) and priority areas."""

    code: str
    label: str
    level: str
    areas: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    """Two-level sector taxonomy: fine sectors and the coarse priority areas they map to."""

    sectors: Mapping[str, Sector]
    areas: Mapping[str, str]
    sources: tuple[str, ...] = ()
    version: int = 1
    # Documented links between different fine sectors: (code, code) in taxonomy order -> strength in (0, 1].
    related: Mapping[tuple[str, str], float] = field(default_factory=lambda: MappingProxyType({}))
    related_sources: tuple[str, ...] = ()

    def relatedness(self, a: str, b: str) -> float:
        """Documented relatedness of two different fine sectors (0 when unlinked or equal)."""
        return self.related_to.get(a, {}).get(b, 0.0)

    @cached_property
    def related_to(self) -> Mapping[str, Mapping[str, float]]:
        """Each fine sector's documented links, both key orders: ``related_to[a][b]`` is the
        relatedness of ``a`` and ``b`` (absent when unlinked)."""
        out: dict[str, dict[str, float]] = {}
        for (a, b), w in self.related.items():  # one key order is stored
            if a != b:
                out.setdefault(a, {})[b] = out.setdefault(b, {})[a] = float(w)
        return MappingProxyType({a: MappingProxyType(links) for a, links in out.items()})

    def areas_of(self, codes: Iterable[str]) -> tuple[str, ...]:
        """Priority areas of a set of fine codes, in taxonomy order (found once per tuple of codes)."""
        key = codes if isinstance(codes, tuple) else tuple(codes)
        got = self._areas_found.get(key)
        if got is None:
            wanted = {a for c in key for a in self.sectors[c].areas}
            got = self._areas_found[key] = tuple(a for a in self.areas if a in wanted)
        return got

    @cached_property
    def sector_order(self) -> Mapping[str, int]:
        """Each fine sector's position in taxonomy order."""
        return MappingProxyType({c: j for j, c in enumerate(self.sectors)})

    @cached_property
    def _areas_found(self) -> dict[tuple[str, ...], tuple[str, ...]]:
        return {}  # the taxonomy is immutable, so what areas_of found stays true

    def label(self, code: str) -> str:
        """Human label of a fine sector or a priority area."""
        if code in self.sectors:
            return self.sectors[code].label
        return self.areas[code]


@dataclass(frozen=True, slots=True)
class Profile:
    """One organisation, validated. Lists are tuples so the record is immutable and hashable."""

    id: str
    name: str
    side: str
    country: str
    kind: str
    sectors: tuple[str, ...]
    description: str
    aliases: tuple[str, ...] = ()
    region: str | None = None
    region_code: tuple[str, ...] = ()
    city: str | None = None
    keywords: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    founded: int | None = None
    members: int | None = None
    website: str | None = None
    target_markets: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    reviewed: _dt.date | None = None
    file: str = field(default="", compare=False, repr=False)

    def to_record(self) -> dict[str, Any]:
        """The profile as a plain dict of its data fields (lists as lists, date as ISO text)."""
        out: dict[str, Any] = {}
        for name in ALL_FIELDS:
            value = getattr(self, name)
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, _dt.date):
                value = value.isoformat()
            out[name] = value
        return out


@dataclass(frozen=True, slots=True)
class Partnership:
    """A cluster partnership (e.g. an ESCP-4i) with its member ids and target countries."""

    id: str
    name: str
    kind: str
    members: tuple[str, ...]
    target_countries: tuple[str, ...]
    sources: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Corpus:
    """Validated profiles plus the taxonomy and partnerships they refer to."""

    profiles: tuple[Profile, ...]
    taxonomy: Taxonomy
    partnerships: tuple[Partnership, ...] = ()
    path: str = ""
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @cached_property
    def by_id(self) -> Mapping[str, Profile]:
        return MappingProxyType({p.id: p for p in self.profiles})

    @property
    def eu(self) -> tuple[Profile, ...]:
        return tuple(p for p in self.profiles if p.side == "eu")

    @property
    def ca(self) -> tuple[Profile, ...]:
        return tuple(p for p in self.profiles if p.side == "ca")

    def get(self, profile_id: str) -> Profile:
        """The profile with this id; an error naming the closest ids otherwise."""
        try:
            return self.by_id[profile_id]
        except KeyError:
            raise UnknownIdError(unknown_id_message(profile_id, self.by_id)) from None

    @cached_property
    def declared_targets(self) -> Mapping[str, frozenset[str]]:
        """Per profile id, the markets it declares: its own plus its partnerships' targets."""
        targets = {p.id: set(p.target_markets) for p in self.profiles}
        for part in self.partnerships:
            for member in part.members:
                targets[member].update(part.target_countries)
        return MappingProxyType({k: frozenset(v) for k, v in targets.items()})

    def targets_canada(self, profile_id: str) -> bool:
        """Whether the profile, or a partnership it belongs to, names Canada as a target."""
        return "CA" in self.declared_targets[profile_id]

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical content: the same corpus gives the same hash."""
        payload = {
            "profiles": [p.to_record() for p in sorted(self.profiles, key=lambda p: p.id)],
            "partnerships": [
                {f.name: getattr(pt, f.name) for f in fields(Partnership)} for pt in self.partnerships
            ],
            "taxonomy": {c: [s.label, s.level, list(s.areas)] for c, s in self.taxonomy.sectors.items()},
            "related": sorted([a, b, w] for (a, b), w in self.taxonomy.related.items()),
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=list)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def unknown_id_message(profile_id: str, known: Iterable[str], what: str = "profile id") -> str:
    close = difflib.get_close_matches(str(profile_id), list(known), n=3, cutoff=0.5)
    hint = f"; closest ids: {', '.join(close)}" if close else ""
    return f"unknown {what} {profile_id!r}{hint}"


# --------------------------------------------------------------------------------------------
# Reading files


@dataclass
class _Raw:
    """A record as read from a file, with the lines of its fields where the format gives them.

    ``absent`` names required columns a CSV header lacks: reported once for the file, not per row.
    """

    file: str
    index: int
    values: dict[str, Any]
    line: int | None = None
    field_lines: dict[str, int] = field(default_factory=dict)
    absent: frozenset[str] = frozenset()

    def line_of(self, name: str | None) -> int | None:
        return self.field_lines.get(name, self.line) if name else self.line


@dataclass
class _Checks:
    """Where validation results go. ``strict`` applies the bundled corpus's rules: what is only a
    warning for a user's corpus (``soft``) is then a problem like any other."""

    strict: bool
    problems: list[Problem] = field(default_factory=list)
    notes: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)

    def soft(self, problem: Problem, what: str, tail: str = "", detail: str | None = None) -> None:
        """A rule of the bundled corpus: a problem when strict, else a warning grouped under ``what``."""
        if self.strict:
            self.problems.append(problem)
        else:
            self.notes.append((what, tail, problem.record, detail))

    def summaries(self, limit: int = 5) -> tuple[str, ...]:
        """One line per kind of warning: what, how many profiles, the first few ids."""
        groups: dict[tuple[str, str], list[tuple[str | None, str | None]]] = {}
        for what, tail, record, detail in self.notes:
            groups.setdefault((what, tail), []).append((record, detail))
        lines = []
        for (what, tail), items in groups.items():
            named = [f"{rec} ({detail})" if detail else str(rec) for rec, detail in items if rec is not None]
            if not named:
                lines.append(f"{what}{tail}")
                continue
            shown = ", ".join(named[:limit]) + (f" and {len(named) - limit} more" if len(named) > limit else "")
            lines.append(f"{what} in {len(named)} profile{'s' if len(named) != 1 else ''}{tail}: {shown}")
        return tuple(lines)


class _Absent:
    """The value shown for a column a CSV header lacks."""

    def __repr__(self) -> str:
        return "no such column"


def _decode(data: bytes, display: str, problems: list[Problem]) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start : exc.start + 4]
        problems.append(
            Problem(display, None, line, "encoding", bad, f"UTF-8 text (byte {exc.start} is not); re-save the file as UTF-8")
        )
        return None


def _record_label(value: Any, index: int) -> str:
    text = str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""
    if not text:
        return f"#{index + 1}"
    return text if len(text) <= 60 else text[:57] + "..."


def _profile_nodes(node: yaml.Node | None) -> list[yaml.Node]:
    """The nodes of the profile records: a list, ``{profiles: [...]}`` or one mapping."""
    if node is None:
        return []
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        lists = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == "profiles" and isinstance(v, yaml.SequenceNode)]
        if lists:
            return list(lists[-1].value)  # YAML keeps the last of repeated keys
    return [node]


_TOO_DEEP = "nesting deeper than the recursion limit"


def _value_error_text(exc: Exception) -> str:
    text = str(exc)
    if "integer string conversion" in text:
        return f"an integer longer than {sys.get_int_max_str_digits():,} digits"
    return text.splitlines()[0] if text else type(exc).__name__


def _bad_yaml_value(loader, item_node: yaml.Node, display: str, exc: Exception) -> Problem:
    """The field (and line) of the value a YAML record could not be built from."""
    expected = "a valid value (dates as YYYY-MM-DD, numbers of ordinary size)"
    if isinstance(item_node, yaml.MappingNode):
        for key, value in item_node.value:
            try:
                loader.construct_document(value)
            except (ValueError, OverflowError) as inner:
                rec = None
                for k, v in item_node.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == "id" and isinstance(v, yaml.ScalarNode):
                        rec = _record_label(v.value, 0)
                name = str(key.value) if isinstance(key, yaml.ScalarNode) else None
                return Problem(display, rec, value.start_mark.line + 1, name, _value_error_text(inner), expected)
    return Problem(display, None, item_node.start_mark.line + 1, None, _value_error_text(exc), expected)


def _yaml_records(text: str, display: str, checks: _Checks) -> list[_Raw]:
    problems = checks.problems
    loader = _YAML_LOADER(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else None
            problems.append(Problem(display, None, line, None, str(exc).splitlines()[0], "valid YAML"))
            return []
        except RecursionError:
            problems.append(Problem(display, None, None, None, _TOO_DEEP, "valid YAML of profile records"))
            return []
        out = []
        for i, item_node in enumerate(_profile_nodes(node)):
            line = item_node.start_mark.line + 1
            try:
                item = loader.construct_document(item_node)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                problems.append(Problem(display, None, mark.line + 1 if mark else line, None, str(exc).splitlines()[0], "valid YAML"))
                continue
            except (ValueError, OverflowError) as exc:  # e.g. a timestamp like 2026-13-45, an integer of 5,000 digits
                problems.append(_bad_yaml_value(loader, item_node, display, exc))
                continue
            except RecursionError:
                problems.append(Problem(display, None, line, None, _TOO_DEEP, "a mapping of profile fields"))
                continue
            if not isinstance(item, dict):
                problems.append(Problem(display, None, line, None, item, "a mapping of profile fields"))
                continue
            field_lines = {}
            if isinstance(item_node, yaml.MappingNode):
                field_lines = {str(k.value): k.start_mark.line + 1 for k, _ in item_node.value}
            out.append(_Raw(display, i, {str(k): v for k, v in item.items()}, line, field_lines))
        return out
    finally:
        loader.dispose()


def _json_records(text: str, display: str, checks: _Checks) -> list[_Raw]:
    problems = checks.problems
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(Problem(display, None, exc.lineno, None, exc.msg, "valid JSON"))
        return []
    except ValueError as exc:  # an integer of more digits than Python converts
        problems.append(Problem(display, None, None, None, _value_error_text(exc), "valid JSON with numbers of ordinary size"))
        return []
    except RecursionError:
        problems.append(Problem(display, None, None, None, _TOO_DEEP, "valid JSON of profile records"))
        return []
    if isinstance(data, dict) and isinstance(data.get("profiles"), list):
        data = data["profiles"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        problems.append(Problem(display, None, 1, None, data, 'a JSON list of profile objects, one object, or {"profiles": [...]}'))
        return []
    out = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            problems.append(Problem(display, f"#{i + 1}", None, None, item, "a JSON object of profile fields"))
            continue
        out.append(_Raw(display, i, dict(item)))
    return out


# The csv module's limit on one field (131,072 characters by default), raised to this when matcher
# is imported (never lowered; the limit is process-wide), so corpus and gold CSVs read fields of any
# ordinary size. A corpus field above it is a CorpusError naming the line and the column.
MAX_FIELD_CHARS = 10_000_000
if csv.field_size_limit() < MAX_FIELD_CHARS:
    csv.field_size_limit(MAX_FIELD_CHARS)
# One field of the excel dialect: quoted (with doubled quotes inside, and what the reader keeps after
# the closing quote) or bare. Used only to find the column of a field the reader refused.
_CSV_FIELD = re.compile(r'"[^"]*(?:""[^"]*)*"?[^,\r\n]*|[^,\r\n]*')


def _csv_scan(text: str, start: int) -> tuple[list[tuple[int, int]], int]:
    """Spans of the fields of the record starting at offset ``start`` and the offset after it."""
    spans = []
    i = start
    while True:
        m = _CSV_FIELD.match(text, i)
        spans.append((m.start(), m.end()))
        i = m.end()
        if i < len(text) and text[i] == ",":
            i += 1
            continue
        if text.startswith("\r\n", i):
            return spans, i + 2
        return spans, min(i + 1, len(text))


def _line_offset(text: str, line: int) -> int:
    """Character offset of a 1-based line, counting line ends as the csv module does (\\n, \\r, \\r\\n)."""
    offset = 0
    for n, chunk in enumerate(io.StringIO(text, newline=""), start=1):
        if n == line:
            break
        offset += len(chunk)
    return offset


def _csv_rows(text: str, display: str, problems: list[Problem], known: list[list[str]]):
    """(line, row) for every row, resuming after any field over ``MAX_FIELD_CHARS`` (reported);
    ``known`` holds the header (the column names) once the caller has read it, for those reports."""
    if csv.field_size_limit() < MAX_FIELD_CHARS:
        csv.field_size_limit(MAX_FIELD_CHARS)
    offset, base = 0, 0
    while True:
        reader = csv.reader(io.StringIO(text[offset:], newline=""))
        before = 0
        try:
            for row in reader:
                yield base + before + 1, row
                before = reader.line_num
            return
        except csv.Error as exc:
            line = base + before + 1
            start = offset + _line_offset(text[offset:], before + 1)
            spans, end = _csv_scan(text, start)
            long = [j for j, (a, b) in enumerate(spans) if b - a > MAX_FIELD_CHARS]
            if not long:
                problems.append(Problem(display, None, line, None, str(exc), "valid CSV"))
                return
            j = long[0]
            header = known[0] if known else None
            names = header or []
            column = "header" if header is None else (names[j] if j < len(names) else f"column {j + 1}")
            rec = None
            if "id" in names and names.index("id") < len(spans):
                a, b = spans[names.index("id")]
                rec = _record_label(text[a:b].strip('"'), 0) if b - a <= 200 else None
            size = spans[j][1] - spans[j][0]
            problems.append(
                Problem(display, rec, line, column, f"{size:,} characters", f"at most {MAX_FIELD_CHARS:,} characters in one field")
            )
            base = line + _lines_in(text, start, end) - 1
            offset = end
            if header is None:
                return


def _lines_in(text: str, start: int, end: int) -> int:
    """How many lines (as the csv module counts them) the text between two offsets spans."""
    return sum(1 for _ in io.StringIO(text[start:end], newline="")) or 1


def _csv_records(text: str, display: str, checks: _Checks) -> list[_Raw]:
    problems = checks.problems
    known: list[list[str]] = []
    rows = _csv_rows(text, display, problems, known)  # one reader: the header, then the records
    header_line, header = next(((n, r) for n, r in rows if r), (None, None))
    if header is None:
        if not any(p.file == display for p in problems):
            problems.append(Problem(display, None, 1, None, "an empty file", f"a header line naming the columns, at least {', '.join(REQUIRED_FIELDS)}"))
        return []
    header = [h.strip() for h in header]
    known.append(header)
    for name in sorted({h for h in header if header.count(h) > 1}):
        problems.append(Problem(display, None, header_line, "header", name, f"each column once; {name!r} appears {header.count(name)} times"))
    absent = frozenset(c for c in REQUIRED_FIELDS if c not in header)
    found = ", ".join(h if h else "''" for h in header)
    for name in REQUIRED_FIELDS:
        if name in absent:
            problems.append(Problem(display, None, header_line, name, _Absent(), f"a column {name!r}: the field is required; the header has {len(header)} column{'s' if len(header) != 1 else ''}: {found}"))
    for name in dict.fromkeys(h for h in header if h not in ALL_FIELDS):
        close = difflib.get_close_matches(name, ALL_FIELDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        checks.soft(
            Problem(display, None, header_line, "header", name, f"one of the known fields{hint}: {', '.join(ALL_FIELDS)}"),
            f"unknown column {name!r} in {display}", f" is ignored{hint}",
        )
    # The known fields' columns, last first: where a name repeats, its first non-empty cell is the one kept.
    columns = [(j, name) for j, name in reversed(list(enumerate(header))) if name in ALL_FIELDS]
    out = []
    for i, (line, row) in enumerate((n, r) for n, r in rows if r):
        if len(row) > len(header):
            rec = _record_label(row[header.index("id")], i) if "id" in header else None
            problems.append(Problem(display, rec, line, None, row[len(header):], f"at most {len(header)} columns"))
        values = {name: row[j] for j, name in columns if j < len(row) and row[j] != ""}
        out.append(_Raw(display, i, values, line, absent=absent))
    return out


_READERS = {".yaml": _yaml_records, ".yml": _yaml_records, ".json": _json_records, ".csv": _csv_records}


def _read_records(path: Path, display: str, checks: _Checks) -> list[_Raw]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        checks.problems.append(Problem(display, None, None, None, exc.strerror or str(exc), "a readable file"))
        return []
    text = _decode(data, display, checks.problems)
    if text is None:
        return []
    return _READERS[path.suffix.lower()](text, display, checks)


# --------------------------------------------------------------------------------------------
# Validation


def _utf8(text: str) -> bool:
    """Whether UTF-8 can hold the text (Python strings can hold lone surrogates; UTF-8 cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_text(value: Any) -> bool:
    return isinstance(value, (str, int, float, _dt.date)) and not isinstance(value, bool)


def _as_list(value: Any) -> list[Any] | None:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(LIST_SEPARATOR) if v.strip()]
    if isinstance(value, (list, tuple)):
        return list(value)
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]{1,12}\s*", value):
        return int(value)
    return None


DESCRIPTION_NOTE = " (kept: a description of any length is embedded in 150-word windows)"


def _build_profile(raw: _Raw, taxonomy: Taxonomy, checks: _Checks) -> Profile | None:
    v = raw.values
    rec = _record_label(v.get("id"), raw.index)
    problems = checks.problems
    before = len(problems)

    def bad(name: str | None, value: Any, expected: str) -> None:
        problems.append(Problem(raw.file, rec, raw.line_of(name), name, value, expected))

    def soft(name: str | None, value: Any, expected: str, what: str, tail: str = "", detail: str | None = None) -> None:
        checks.soft(Problem(raw.file, rec, raw.line_of(name), name, value, expected), what, tail, detail)

    for name in sorted(set(v) - set(ALL_FIELDS)):
        close = difflib.get_close_matches(name, ALL_FIELDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        soft(name, v[name], f"one of the known fields{hint}: {', '.join(ALL_FIELDS)}", f"unknown field {_short(name, 40)}", f", ignored{hint}")

    clean: dict[str, Any] = {}
    typed_bad: set[str] = set()
    for name in ALL_FIELDS:
        value = v.get(name)
        if name in LIST_FIELDS:
            if isinstance(value, str):  # text separated by ';' (a CSV cell): its stripped, non-empty items, as _as_list gives them
                clean[name] = tuple(filter(None, map(str.strip, value.split(LIST_SEPARATOR))))
                continue
            items = _as_list(value)
            if items is not None and set(map(type, items)) <= {str}:  # the common case, without a per-item check
                clean[name] = tuple(filter(None, map(str.strip, items)))
                continue
            if items is None or not all(_is_text(x) and not isinstance(x, _dt.date) for x in items):
                bad(name, value, f"a list of text items (or text separated by '{LIST_SEPARATOR}')")
                typed_bad.add(name)
                items = []
            clean[name] = tuple(t for t in (str(x).strip() for x in items) if t)
        elif name in ("founded", "members"):
            if value in (None, ""):
                clean[name] = None
            else:
                number = _as_int(value)
                if name == "founded":
                    this_year = _dt.date.today().year
                    if number is None or not 1800 <= number <= this_year:
                        bad(name, value, f"a year between 1800 and {this_year}, or empty if unknown")
                elif number is None or number < 0:
                    bad(name, value, "a non-negative member count, or empty if not documented")
                clean[name] = number
        elif name == "reviewed":
            if value in (None, ""):
                clean[name] = None
            elif isinstance(value, _dt.datetime):
                clean[name] = value.date()
            elif isinstance(value, _dt.date):
                clean[name] = value
            else:
                try:
                    clean[name] = _dt.date.fromisoformat(str(value).strip())
                except ValueError:
                    bad(name, value, "a date as YYYY-MM-DD")
                    clean[name] = None
        elif value is None:
            clean[name] = None
        elif not _is_text(value):
            bad(name, value, "text")
            typed_bad.add(name)
            clean[name] = None
        else:
            clean[name] = str(value).strip() or None
    for name, value in clean.items():  # the outputs are UTF-8: a lone surrogate (JSON's "\ud800") cannot be written
        if isinstance(value, str) and not value.isascii() and not _utf8(value):
            bad(name, value, "text that UTF-8 can hold (no lone surrogate code point such as \\ud800)")
        elif isinstance(value, tuple) and value and not (joined := "".join(value)).isascii() and not _utf8(joined):  # joined: UTF-8 holds all or it fails on one
            bad(name, value, "text items that UTF-8 can hold (no lone surrogate code point such as \\ud800)")
    for name in REQUIRED_FIELDS:
        if name not in raw.absent and name not in typed_bad and clean[name] in (None, ()):
            bad(name, v.get(name), "a value: this field is required")

    pid = clean["id"]
    if pid and not _ID_RE.fullmatch(pid):
        bad("id", pid, "a slug of lowercase letters, digits and single hyphens, e.g. 'aero-montreal'")
    side = clean["side"]
    if side and side not in SIDES:
        bad("side", side, f"one of: {', '.join(SIDES)}")
    country = clean["country"]
    if country:
        if country not in ISO_COUNTRIES:
            upper = country.upper()
            hint = f" (did you mean {upper!r}?)" if upper in ISO_COUNTRIES else ""
            bad("country", country, f"an ISO 3166-1 alpha-2 code such as 'FR' or 'CA'{hint}")
        elif side in SIDE_COUNTRIES and country not in SIDE_COUNTRIES[side]:
            if side == "ca":
                expected = "'CA' for side 'ca'"
            else:
                expected = "a European country for side 'eu' (EU, EEA, UK, CH, TR, COSME countries)"
            bad("country", country, f"{expected}; or fix the side")
    kind = clean["kind"]
    if kind and kind not in KINDS:
        bad("kind", kind, f"one of: {', '.join(KINDS)}")
    for code in clean["sectors"]:
        if code not in taxonomy.sectors:
            close = difflib.get_close_matches(code, list(taxonomy.sectors), n=3, cutoff=0.4)
            hint = f"; closest: {', '.join(close)}" if close else ""
            bad("sectors", code, f"a sector code of the taxonomy{hint}")
    if len(set(clean["sectors"])) != len(clean["sectors"]):
        bad("sectors", list(clean["sectors"]), "each sector code once")
    desc = clean["description"]
    if desc:
        words = len(desc.split())
        lo, hi = DESCRIPTION_WORDS
        if not lo <= words <= hi:
            soft("description", f"{words} words", f"between {lo} and {hi} words", f"description outside {lo}-{hi} words", DESCRIPTION_NOTE, f"{words} word{'s' if words != 1 else ''}")
    for code in clean["region_code"]:
        if side == "ca" and code not in CA_REGION_CODES:
            bad("region_code", code, "an ISO 3166-2 code of a Canadian province or territory such as 'CA-QC' or 'CA-ON'")
        elif side == "eu" and country:
            prefix = NUTS_PREFIX.get(country, country)
            if not (_NUTS2_RE.fullmatch(code) and code.startswith(prefix)):
                bad("region_code", code, f"a NUTS 2 code: {prefix} followed by two letters or digits, such as '{prefix}10'")
    if len(set(clean["region_code"])) != len(clean["region_code"]):
        bad("region_code", list(clean["region_code"]), "each region code once")
    for code in clean["languages"]:
        if not _LANG_RE.fullmatch(code):
            bad("languages", code, "ISO 639-1 two-letter lowercase codes such as 'en', 'fr'")
    for code in clean["target_markets"]:
        if code not in MARKET_CODES:
            bad("target_markets", code, "ISO 3166-1 alpha-2 country codes, or 'EU'")
    for url in (*clean["sources"], *([clean["website"]] if clean["website"] else [])):
        if not _URL_RE.fullmatch(url):
            name = "sources" if url in clean["sources"] else "website"
            soft(name, url, "an http(s):// address", "source or website that is not an http(s):// address (not linked in the report)", detail=_short(url, 40))
    if not clean["sources"]:
        soft("sources", [], "at least one public address the facts come from (every bundled profile cites its sources)", "no sources")
    if clean["reviewed"] is None:
        soft("reviewed", None, "the date the profile was last checked, as YYYY-MM-DD", "no review date")

    if len(problems) > before or raw.absent:
        return None
    return Profile(**clean, file=raw.file)


def _display(path: Path, root: Path, root_display: str) -> str:
    try:
        rel = path.relative_to(root)
    except ValueError:
        return str(path)
    return str(Path(root_display) / rel) if str(rel) != "." else root_display


def _read_yaml(path: Path, what: str, expected: str) -> tuple[yaml.Node | None, Any, list[Problem]]:
    """Read and parse one YAML file (``what`` names it in messages), once: its node (for line
    numbers), its data, and the decoding problems found (data None then). An unreadable file or
    invalid YAML raises one :class:`CorpusError` at once."""
    display = str(path)
    problems: list[Problem] = []
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{what} file {display!r} cannot be read ({exc.strerror or exc}); expected {expected}") from exc
    text = _decode(raw, display, problems)
    if text is None:
        return None, None, problems
    loader = _YAML_LOADER(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(Problem(display, None, mark.line + 1 if mark else None, None, str(exc).splitlines()[0], "valid YAML"))
        raise CorpusError(_format(problems, what), problems) from None
    except (ValueError, RecursionError) as exc:
        problems.append(Problem(display, None, None, None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__, "valid YAML"))
        raise CorpusError(_format(problems, what), problems) from None
    finally:
        loader.dispose()
    return node, data, problems


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read a taxonomy file (the bundled ``corpus/taxonomy.yaml`` when no path is given)."""
    path = Path(path) if path is not None else bundled_path("corpus") / "taxonomy.yaml"
    display = str(path)
    _, data, problems = _read_yaml(path, "taxonomy", "a YAML file with 'areas' and 'sectors'")
    if not isinstance(data, dict) or not isinstance(data.get("sectors"), dict) or not isinstance(data.get("areas"), dict):
        problems.append(Problem(display, None, None, None, type(data).__name__, "a mapping with 'areas' and 'sectors'"))
        raise CorpusError(_format(problems, "taxonomy"), problems)
    areas = {str(k): str(v) for k, v in data["areas"].items()}
    sectors = {}
    for code, spec in data["sectors"].items():
        spec = spec or {}
        spec_areas = spec.get("areas", []) if isinstance(spec, dict) else None
        if not isinstance(spec_areas, list):
            problems.append(Problem(display, str(code), None, "areas", spec_areas if isinstance(spec, dict) else spec, f"a mapping with a label and a list of areas among: {', '.join(areas)}"))
            continue
        bad_areas = [a for a in spec_areas if a not in areas]
        if bad_areas or "label" not in spec:
            problems.append(Problem(display, str(code), None, "areas", bad_areas or spec, f"a label and areas among: {', '.join(areas)}"))
            continue
        sectors[str(code)] = Sector(str(code), str(spec["label"]), str(spec.get("level", "traded")), tuple(str(a) for a in spec_areas))
    version = _as_int(data.get("version", 1))
    if version is None:
        problems.append(Problem(display, None, None, "version", data.get("version"), "an integer version"))
    sources = _as_list(data.get("sources"))
    if sources is None:
        problems.append(Problem(display, None, None, "sources", data.get("sources"), "a list of addresses"))
    if problems:
        raise CorpusError(_format(problems, "taxonomy"), problems)
    taxonomy = Taxonomy(MappingProxyType(sectors), MappingProxyType(areas), tuple(str(s) for s in sources), version)
    related = path.parent / RELATED_FILE
    return load_related(related, taxonomy) if related.is_file() else taxonomy


_LINK_KEYS = frozenset({"a", "b", "source", "url", "note", "strength", "tier"})
_RELATED_EXPECTED = "a YAML mapping with 'version', 'sources' (name: {title, url}) and 'links' (a list of {a, b, source, url, note})"


def load_related(path: str | Path, taxonomy: Taxonomy) -> Taxonomy:
    """``taxonomy`` with the related-sector links of ``path`` (``related_sectors.yaml``, read
    beside the taxonomy file by :func:`load_taxonomy`). Every link names two different fine sectors
    of the taxonomy, a declared source and the address that states the link; ``strength``, when
    given, is in (0, 1] (1 otherwise). Every problem is raised together as one :class:`CorpusError`."""
    path = Path(path)
    display = str(path)
    node, data, problems = _read_yaml(path, "related sectors", _RELATED_EXPECTED)
    if problems:
        raise CorpusError(_format(problems, "related sectors"), problems)
    if not isinstance(data, dict) or not isinstance(data.get("links"), list) or not isinstance(data.get("sources"), dict):
        problems.append(Problem(display, None, None, None, type(data).__name__ if not isinstance(data, dict) else sorted(map(str, data)), _RELATED_EXPECTED))
        raise CorpusError(_format(problems, "related sectors"), problems)
    lines: list[int | None] = [None] * len(data["links"])
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == "links" and isinstance(value, yaml.SequenceNode):
                lines = [item.start_mark.line + 1 for item in value.value]
    sources = {}
    for name, spec in data["sources"].items():
        url = spec.get("url") if isinstance(spec, dict) else None
        if not isinstance(url, str) or not _URL_RE.fullmatch(url):
            problems.append(Problem(display, str(name), None, "sources", spec, "a mapping with a title and an http(s) url"))
        else:
            sources[str(name)] = url
    order = {c: j for j, c in enumerate(taxonomy.sectors)}
    links: dict[tuple[str, str], float] = {}
    first_line: dict[tuple[str, str], int | None] = {}
    for n, (link, line) in enumerate(zip(data["links"], lines, strict=True)):
        rec = f"link {n + 1}"
        if not isinstance(link, dict):
            problems.append(Problem(display, rec, line, None, link, "a mapping with a, b, source, url and note"))
            continue
        ok = True
        for key in sorted(set(map(str, link)) - _LINK_KEYS):
            problems.append(Problem(display, rec, line, key, link[key], f"only the keys {', '.join(sorted(_LINK_KEYS))}"))
            ok = False
        codes = []
        for name in ("a", "b"):
            code = link.get(name)
            if not isinstance(code, str) or code not in order:
                close = difflib.get_close_matches(str(code), list(order), n=3, cutoff=0.4)
                hint = f" (closest: {', '.join(close)})" if close else ""
                problems.append(Problem(display, rec, line, name, code, f"a fine sector code of the taxonomy{hint}"))
                ok = False
            codes.append(code)
        if ok and codes[0] == codes[1]:
            problems.append(Problem(display, rec, line, "b", codes[1], "a sector different from a (same-sector pairs are scored by sector overlap)"))
            ok = False
        if link.get("source") not in sources:
            problems.append(Problem(display, rec, line, "source", link.get("source"), f"one of the declared sources: {', '.join(sorted(sources)) or '(none declared)'}"))
            ok = False
        url = link.get("url")
        if not isinstance(url, str) or not _URL_RE.fullmatch(url):
            problems.append(Problem(display, rec, line, "url", url, "the http(s) address of the page that states the link"))
            ok = False
        if not isinstance(link.get("note"), str) or not link["note"].strip():
            problems.append(Problem(display, rec, line, "note", link.get("note"), "what the source says about the link"))
            ok = False
        strength = link.get("strength", 1.0)
        if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0 < strength <= 1:
            problems.append(Problem(display, rec, line, "strength", strength, "a number in (0, 1]"))
            ok = False
        if not ok:
            continue
        key = tuple(sorted(codes, key=order.__getitem__))
        if key in links:
            problems.append(Problem(display, rec, line, "b", codes[1], f"a pair not listed before (the same pair is at line {first_line[key]})"))
            continue
        links[key] = float(strength)
        first_line[key] = line
    if problems:
        raise CorpusError(_format(problems, "related sectors"), problems)
    ordered = dict(sorted(links.items(), key=lambda kv: (order[kv[0][0]], order[kv[0][1]])))
    return replace(taxonomy, related=MappingProxyType(ordered), related_sources=tuple(sorted(set(sources.values()))))


def _load_partnerships(path: Path, display: str, known: Mapping[str, Profile], checks: _Checks) -> tuple[Partnership, ...]:
    problems = checks.problems
    records = _read_records(path, display, checks)
    out = []
    for raw in records:
        v = raw.values
        rec = _record_label(v.get("id"), raw.index)
        ok = True
        lists = {}
        for name in ("members", "target_countries", "sources"):
            items = _as_list(v.get(name))
            if items is None or not all(_is_text(x) for x in items):
                problems.append(Problem(display, rec, raw.line_of(name), name, v.get(name), "a list of text items"))
                ok = False
                items = []
            lists[name] = tuple(str(x) for x in items)
        for name in ("id", "name", "kind"):
            if not v.get(name) or not _is_text(v.get(name)):
                problems.append(Problem(display, rec, raw.line_of(name), name, v.get(name), "a value: this field is required"))
                ok = False
        for m in lists["members"]:
            if m not in known:
                problems.append(Problem(display, rec, raw.line_of("members"), "members", m, unknown_id_message(m, known).replace(f"unknown profile id {m!r}", "a profile id of the corpus")))
                ok = False
        for t in lists["target_countries"]:
            if t not in MARKET_CODES:
                problems.append(Problem(display, rec, raw.line_of("target_countries"), "target_countries", t, "ISO 3166-1 alpha-2 country codes"))
                ok = False
        if ok:
            note = v.get("note")
            out.append(
                Partnership(
                    id=str(v["id"]),
                    name=str(v["name"]),
                    kind=str(v["kind"]),
                    members=lists["members"],
                    target_countries=lists["target_countries"],
                    sources=lists["sources"],
                    note=None if note is None else str(note),
                )
            )
    return tuple(out)


def _format(problems: Sequence[Problem], what: str) -> str:
    head = f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {what}:"
    return "\n  ".join([head, *(str(p) for p in problems)])


def _is_bundled(root: Path) -> bool:
    try:
        return root.resolve() == bundled_path("corpus").resolve()
    except (OSError, MatcherError):
        return False


def load_corpus(path: str | Path | None = None, taxonomy: Taxonomy | None = None, strict: bool | None = None) -> Corpus:
    """Load and validate a corpus; the bundled one when ``path`` is None.

    ``path`` may be a folder (every .yaml/.yml/.json/.csv file under it, plus its own
    ``taxonomy.yaml`` and ``partnerships.yaml`` when present) or a single CSV, JSON or YAML
    file with the same fields. Raises one :class:`CorpusError` listing every problem found.

    ``strict`` applies the bundled corpus's own rules (descriptions of 80-250 words, sources, a review
    date, no unknown field); by default only the bundled corpus gets them. Otherwise those rules are
    warnings: logged once per kind with a count and the first ids, and kept in ``Corpus.warnings``.
    The checks that protect the engine (ids, sides, countries, kinds, sector codes, field types,
    non-empty text) are errors either way.
    """
    if path is None:
        root = bundled_path("corpus")
        root_display = "corpus"
    else:
        root = Path(path)
        root_display = str(path)
        if not root.exists():
            raise CorpusError(f"corpus path {root_display!r} does not exist; expected a folder or a .csv, .json or .yaml file")
    if strict is None:
        strict = path is None or _is_bundled(root)
    checks = _Checks(strict=bool(strict))
    problems = checks.problems
    if root.is_dir():
        files = sorted(
            p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in PROFILE_SUFFIXES and p.name not in RESERVED_FILES
        )
        tax_file = root / "taxonomy.yaml"
        part_file = root / "partnerships.yaml"
    elif root.suffix.lower() in PROFILE_SUFFIXES:
        files = [root]
        tax_file = part_file = None
    else:
        raise CorpusError(
            f"corpus file {root_display!r} has suffix {root.suffix!r}; expected one of {', '.join(PROFILE_SUFFIXES)} or a folder"
        )
    if taxonomy is None:
        taxonomy = load_taxonomy(tax_file if tax_file is not None and tax_file.exists() else None)

    profiles: list[Profile] = []
    seen: dict[str, Profile] = {}
    records = 0
    for f in files:
        display = _display(f, root, root_display)
        for raw in _read_records(f, display, checks):
            records += 1
            prof = _build_profile(raw, taxonomy, checks)
            if prof is None:
                continue
            if prof.id in seen:
                problems.append(
                    Problem(display, prof.id, raw.line_of("id"), "id", prof.id, f"a unique id; already used in {seen[prof.id].file}")
                )
                continue
            seen[prof.id] = prof
            profiles.append(prof)
    if not files:
        problems.append(Problem(root_display, None, None, None, "no profile files", f"at least one {', '.join(PROFILE_SUFFIXES)} file"))
    elif not records and not problems:
        problems.append(Problem(root_display, None, None, None, "no profile records", "at least one profile"))
    partnerships: tuple[Partnership, ...] = ()
    if part_file is not None and part_file.exists():
        partnerships = _load_partnerships(part_file, _display(part_file, root, root_display), seen, checks)
    warnings = checks.summaries()
    for line in warnings:
        log.warning("corpus %r: %s", root_display, line)
    if problems:
        raise CorpusError(_format(problems, f"corpus {root_display!r}"), problems)
    profiles.sort(key=lambda p: p.id)
    log.info("loaded %d profiles (%d eu, %d ca) from %s", len(profiles), sum(p.side == "eu" for p in profiles), sum(p.side == "ca" for p in profiles), root_display)
    return Corpus(tuple(profiles), taxonomy, partnerships, root_display, warnings)


def validate_profile(record: Mapping[str, Any] | Profile, taxonomy: Taxonomy, source: str = "profile") -> Profile:
    """A :class:`Profile` from a mapping in the corpus schema, checked as the loader checks a file's
    records (the same messages); raises :class:`CorpusError`. A Profile is returned unchanged."""
    if isinstance(record, Profile):
        return record
    checks = _Checks(strict=False)  # a draft profile is user data: the bundled corpus's editorial rules only warn
    prof = _build_profile(_Raw(source, 0, dict(record)), taxonomy, checks)
    for line in checks.summaries():
        log.warning("profile %r: %s", source, line)
    if checks.problems or prof is None:
        raise CorpusError(_format(checks.problems, f"profile {source!r}"), checks.problems)
    return prof


# --------------------------------------------------------------------------------------------
# Export and statistics


def profiles_to_frame(profiles: Iterable[Profile]):
    """Profiles as a pandas DataFrame, one column per field, lists joined with ``'; '``."""
    import pandas as pd

    rows = []
    for p in profiles:
        row = {}
        for name, value in p.to_record().items():
            if isinstance(value, list):
                for item in value:
                    if LIST_SEPARATOR in item:
                        raise CorpusError(
                            f"profile {p.id!r} field {name!r} item {item!r} contains {LIST_SEPARATOR!r}; expected items without it for CSV export"
                        )
                value = f"{LIST_SEPARATOR} ".join(value)
            row[name] = value
        rows.append(row)
    return pd.DataFrame(rows, columns=list(ALL_FIELDS)).astype({"founded": "Int64", "members": "Int64"})


def write_profiles_csv(profiles: Iterable[Profile], path: str | Path) -> Path:
    """Write profiles to a CSV that :func:`load_corpus` reads back unchanged (atomic write)."""
    from matcher.write import atomic_write_text

    frame = profiles_to_frame(profiles)
    return atomic_write_text(Path(path), frame.to_csv(index=False, lineterminator="\n"))


def corpus_stats(corpus: Corpus) -> dict[str, Any]:
    """Counts by side, country, kind, sector and priority area, and how often each field is empty."""
    tax = corpus.taxonomy
    out: dict[str, Any] = {"profiles": len(corpus.profiles), "partnerships": len(corpus.partnerships)}
    for side in SIDES:
        group = [p for p in corpus.profiles if p.side == side]
        out[side] = {
            "profiles": len(group),
            "countries": dict(sorted(Counter(p.country for p in group).items(), key=lambda kv: (-kv[1], kv[0]))),
            "kinds": dict(sorted(Counter(p.kind for p in group).items(), key=lambda kv: (-kv[1], kv[0]))),
            # Main region (the first code) of each profile that has one.
            "regions": dict(sorted(Counter(p.region_code[0] for p in group if p.region_code).items(), key=lambda kv: (-kv[1], kv[0]))),
            "without_region_code": sum(not p.region_code for p in group),
            "sectors": dict(sorted(Counter(s for p in group for s in p.sectors).items(), key=lambda kv: (-kv[1], kv[0]))),
            "areas": {a: sum(a in tax.areas_of(p.sectors) for p in group) for a in tax.areas},
            "targets_canada": sum(corpus.targets_canada(p.id) for p in group) if side == "eu" else None,
        }
    out["empty_fields"] = {
        name: sum(getattr(p, name) in (None, "", ()) for p in corpus.profiles) for name in OPTIONAL_FIELDS
    }
    return out

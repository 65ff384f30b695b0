"""Explain stage: why a pair is proposed, in parts that add up to its score.

Like a Splink waterfall chart, each signal contributes ``weight x value``; the bias plus the
contributions equals the fused score exactly. Evidence sentence pairs and matching terms let a
person check the proposal in a minute.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa

from matcher.corpus import Profile, Taxonomy
from matcher.score import SIGNALS

__all__ = [
    "CA_TO_EU",
    "DIRECTIONS",
    "EU_TO_CA",
    "Contribution",
    "Direction",
    "Evidence",
    "ExplainedPairs",
    "Explanation",
    "evidence_pairs",
    "explain_batch",
    "explain_pair",
    "explain_pairs",
    "matching_terms",
    "related_labels",
    "summary_lines",
]


@dataclass(frozen=True, slots=True)
class Direction:
    """Which side asks and which is ranked: ``eu_to_ca`` (European queries) or ``ca_to_eu``."""

    name: str
    query: str
    candidate: str

    def pair(self, query, candidate):
        """``(european, canadian)`` of a query and one of its candidates."""
        return (query, candidate) if self.query == "eu" else (candidate, query)


EU_TO_CA = Direction("eu_to_ca", "eu", "ca")
CA_TO_EU = Direction("ca_to_eu", "ca", "eu")
DIRECTIONS = {d.name: d for d in (EU_TO_CA, CA_TO_EU)}


@dataclass(frozen=True, slots=True)
class Contribution:
    """One signal's part of the score: ``weight * value``."""

    signal: str
    label: str
    weight: float
    value: float
    contribution: float


@dataclass(frozen=True, slots=True)
class Evidence:
    """A sentence from each profile and the similarity of the two."""

    eu_sentence: str
    ca_sentence: str
    similarity: float


@dataclass(frozen=True)
class Explanation:
    """Everything said about one European-Canadian pair."""

    eu_id: str
    ca_id: str
    eu_name: str
    ca_name: str
    score: float
    bias: float
    contributions: tuple[Contribution, ...]
    shared_sectors: tuple[str, ...]
    shared_areas: tuple[str, ...]
    related_sectors: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    terms: tuple[str, ...]
    summary: str
    rank_eu_to_ca: int
    rank_ca_to_eu: int
    known_partner: str | None = None

    def total(self) -> float:
        """Bias plus contributions; equals ``score``."""
        return self.bias + sum(c.contribution for c in self.contributions)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


def evidence_pairs(eu_sentences: Sequence[str], ca_sentences: Sequence[str], eu_vecs: np.ndarray, ca_vecs: np.ndarray, n: int = 3) -> tuple[Evidence, ...]:
    """The ``n`` most similar sentence pairs, each sentence used at most once, best first (see
    :func:`_evidence_picks`, which finds them for many pairs at once)."""
    if not len(eu_sentences) or not len(ca_sentences):
        return ()
    at = np.zeros(1, dtype=np.int64)
    rows, cols, vals = _evidence_picks([eu_vecs], at, [ca_vecs], at, n)
    return _evidence_of(eu_sentences, ca_sentences, rows[0], cols[0], vals[0])


def _evidence_picks(eu_vecs: Sequence[np.ndarray], ei: np.ndarray, ca_vecs: Sequence[np.ndarray], ci: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each pair ``(ei[p], ci[p])``, the picks among the similarities of the sentence vectors
    ``eu_vecs[ei[p]]`` and ``ca_vecs[ci[p]]``: rows, columns and similarities (pairs x ``n``,
    ``-inf`` for no pick), by one compiled pass (:func:`matcher._kernels.evidence_picks`: each
    similarity a float64 dot product in a fixed order, rounded to float32, so a pair's values do
    not depend on the other pairs) over the profiles' vectors gathered once, pairs in parts on threads."""
    from matcher import _kernels
    from matcher._blas import in_parts

    ei, ci = np.asarray(ei, dtype=np.int64), np.asarray(ci, dtype=np.int64)
    if not len(ei):
        return np.zeros((0, n), np.int64), np.zeros((0, n), np.int64), np.zeros((0, n))
    gathered = []
    for vecs, idx in ((eu_vecs, ei), (ca_vecs, ci)):
        rows, inverse = np.unique(idx, return_inverse=True)
        picked = [np.asarray(vecs[i], dtype=np.float32) for i in rows.tolist()]
        ptr = np.concatenate([[0], np.cumsum([len(v) for v in picked])]).astype(np.int64)
        gathered.append((ptr, np.ascontiguousarray(np.concatenate(picked)), inverse.astype(np.int64).reshape(-1)))
    (e_ptr, e_flat, e_at), (c_ptr, c_flat, c_at) = gathered
    parts = in_parts(lambda a, b: _kernels.evidence_picks(e_ptr, e_flat, c_ptr, c_flat, e_at[a:b], c_at[a:b], n), len(ei), EVIDENCE_PART_PAIRS)
    return tuple(np.concatenate(got) for got in zip(*parts, strict=True)) if len(parts) > 1 else parts[0]


# Places an evidence similarity is shown to, in Explanations and in details.json alike.
EVIDENCE_PLACES = 4


def _evidence_of(eu_sentences: Sequence[str], ca_sentences: Sequence[str], rows, cols, vals) -> tuple[Evidence, ...]:
    """Evidence of one pair's picks (see :func:`_evidence_picks`)."""
    return tuple(
        Evidence(eu_sentences[i], ca_sentences[j], round(v, EVIDENCE_PLACES))
        for i, j, v in zip(rows.tolist(), cols.tolist(), vals.tolist(), strict=True)
        if v != -np.inf
    )


def matching_terms(eu_row, ca_row, lexicon, eu: Profile, ca: Profile, n: int = 8) -> tuple[str, ...]:
    """Shared keywords first, then the terms that add most to the lexical similarity (ties by
    term order), up to ``n``, no word listed twice: a term is left out when it is a listed keyword,
    a bigram of one word twice, or holds a word of a keyword or of a picked bigram; a bigram holding
    words picked before on their own takes the first one's place ("supply", "chain" become
    "supply chain").

    ``eu_row`` and ``ca_row`` are ``(term indices, TF-IDF weights)`` of the two profiles;
    ``lexicon`` the fitted :class:`~matcher.features.TfidfIndex` (its vocabulary, index and term words).
    """
    from scipy import sparse

    rows = [sparse.csr_matrix((np.asarray(r[1], dtype=np.float64), np.asarray(r[0]), [0, len(r[0])]), shape=(1, len(lexicon.vocabulary_))) for r in (eu_row, ca_row)]
    at = np.zeros(1, dtype=np.int64)
    return _pick_terms(rows[0], at, rows[1], at, [eu], [ca], lexicon, n)[0]


def _pick_terms(eu_lex, ei: np.ndarray, ca_lex, ci: np.ndarray, eu_profiles, ca_profiles, lexicon, n: int, keywords: dict | None = None) -> list[tuple[str, ...]]:
    """The matching terms of pairs ``(ei[p], ci[p])`` of two CSR TF-IDF matrices, profiles
    ``eu_profiles[ei[p]]`` and ``ca_profiles[ci[p]]`` (see :func:`matching_terms`); the picks run in
    one compiled pass (:func:`matcher._kernels.pick_terms`). ``keywords`` caches lower-cased keyword sets."""
    from matcher import _kernels
    from matcher._blas import in_parts

    keywords = {} if keywords is None else keywords
    index, vocab = lexicon.index_, lexicon.vocabulary_
    ei_list, ci_list = ei.tolist(), ci.tolist()
    # Each profile's lower-cased keyword set, found once (per side: row -> set).
    sets = []
    for side, rows, profiles in (("eu", ei_list, eu_profiles), ("ca", ci_list, ca_profiles)):
        known = keywords.setdefault(side, {})
        for i in set(rows).difference(known):
            known[i] = frozenset(k.lower() for k in profiles[i].keywords)
        sets.append(known)
    eu_kw, ca_kw = sets
    none: tuple[str, ...] = ()
    shared = [tuple(sorted(both)) if (both := eu_kw[i] & ca_kw[j]) else none for i, j in zip(ei_list, ci_list, strict=True)]
    # Per pair: the shared keywords that are terms, and the words they ban (pointers into flat lists).
    kw_terms, ban_words = [], []
    kw_count, ban_count = np.zeros(len(shared), np.int64), np.zeros(len(shared), np.int64)
    for p in (p for p, both in enumerate(shared) if both):
        for kw in shared[p]:
            t = index.get(kw)
            if t is not None:
                kw_terms.append(t)
                kw_count[p] += 1
            words = [w for w in (index.get(x) for x in kw.split()) if w is not None]
            ban_words.extend(words)
            ban_count[p] += len(words)
    kw_ptr, ban_ptr = (np.concatenate([[0], np.cumsum(c)]).astype(np.int64) for c in (kw_count, ban_count))
    e, c = (x if x.has_sorted_indices else x.sorted_indices() for x in (eu_lex, ca_lex))
    limit = n - np.fromiter(map(len, shared), dtype=np.int64, count=len(shared))
    ei, ci, kw_terms, ban_words = (np.asarray(x, np.int64) for x in (ei, ci, kw_terms, ban_words))

    def pick(a: int, b: int) -> np.ndarray:  # pairs a..b (the pointer arrays index the whole flat lists)
        return _kernels.pick_terms(
            e.indptr, e.indices, e.data, c.indptr, c.indices, c.data, ei[a:b], ci[a:b], lexicon.term_words_,
            kw_ptr[a : b + 1], kw_terms, ban_ptr[a : b + 1], ban_words, limit[a:b], n,
        )

    parts = in_parts(pick, len(ei), TERMS_PART_PAIRS)
    picks = parts[0] if len(parts) == 1 else np.concatenate(parts)
    got = picks >= 0
    names = iter(vocab[picks[got]].tolist())  # the picked terms, row by row in pick order
    return [kw[:n] + tuple(itertools.islice(names, m)) for kw, m in zip(shared, got.sum(axis=1).tolist(), strict=True)]


def summarise(
    eu: Profile, ca: Profile, parts: Mapping[str, tuple[float, float]], shared_sectors: Sequence[str], shared_areas: Sequence[str],
    terms: Sequence[str], interest: Mapping[str, bool], related: Sequence[str] = (),
) -> str:
    """One readable line: what the two have in common, strongest signals first. ``parts`` holds
    each signal's ``(value, contribution)``, the semantic and lexical ones at least; the line of
    :func:`summary_lines` for one pair."""
    return summary_lines(
        [eu.name], [eu.country], [ca.name],
        {name: np.array([parts[name][0]], np.float64) for name in ("semantic", "lexical")},
        {name: np.array([parts[name][1]], np.float64) for name in ("semantic", "lexical")},
        [(tuple(shared_sectors), tuple(shared_areas), tuple(related))], [tuple(terms)],
        np.array([bool(interest.get("eu"))]), np.array([bool(interest.get("ca"))]),
    )[0].as_py()


def summary_lines(
    eu_names: Sequence[str], eu_countries: Sequence[str], ca_names: Sequence[str], values: Mapping[str, np.ndarray],
    contributions: Mapping[str, np.ndarray], labels: Sequence[tuple], terms: Sequence[Sequence[str]],
    interest_eu: np.ndarray, interest_ca: np.ndarray,
) -> pa.StringArray:
    """The summary line of each pair ``p`` (an Arrow string array): "EU NAME (COUNTRY) and CA NAME (CA): " and then, joined by
    "; ", the shared sectors (or else priority areas), the strongest related sector pair, the semantic
    and lexical similarities to two places (the larger contribution first; semantic on a tie), up to
    five shared terms, and each side's declared interest in the other. ``labels[p]`` holds the
    pair's (shared sectors, shared areas, related sector pairs); ``values`` and ``contributions``
    the semantic and lexical signals' arrays. Built with Arrow's string kernels, a line per pair
    without a Python format per pair."""
    import pyarrow.compute as pc

    from matcher._format import fixed_point_cells

    join = pc.binary_join_element_wise
    null = pa.scalar(None, pa.string())
    # Label parts are found once per distinct labels tuple (pairs with the same sector lists share one).
    made: dict[int, tuple[str | None, str | None]] = {}
    sector_part, related_part = [], []
    for got in labels:
        part = made.get(id(got))
        if part is None:
            sectors, areas, related = got
            first = f"same sector: {', '.join(sectors)}" if sectors else f"same priority area: {', '.join(areas)}" if areas else None
            part = made[id(got)] = (first, f"related sectors: {related[0]}" if related else None)
        sector_part.append(part[0])
        related_part.append(part[1])
    eu_name, eu_country, ca_name = (pa.array(list(x), pa.string()) for x in (eu_names, eu_countries, ca_names))
    said = {name: join(pa.scalar(f"{SIGNALS[name]} "), fixed_point_cells(np.asarray(values[name], np.float64), 2), "") for name in ("semantic", "lexical")}
    lexical_first = pa.array(np.asarray(contributions["lexical"], np.float64) > np.asarray(contributions["semantic"], np.float64))
    similarity = pc.if_else(lexical_first, join(said["lexical"], said["semantic"], "; "), join(said["semantic"], said["lexical"], "; "))
    shared_terms = pa.array([f"shared terms: {', '.join(t[:5])}" if t else None for t in terms], pa.string())
    eu_wants = pc.if_else(pa.array(np.asarray(interest_eu, bool)), join(eu_name, pa.scalar(" declares Canada a target"), ""), null)
    ca_wants = pc.if_else(pa.array(np.asarray(interest_ca, bool)), join(ca_name, pa.scalar(" declares "), eu_country, pa.scalar(" a target"), ""), null)
    body = join(pa.array(sector_part, pa.string()), pa.array(related_part, pa.string()), similarity, shared_terms, eu_wants, ca_wants, "; ", null_handling="skip")
    return join(eu_name, pa.scalar(" ("), eu_country, pa.scalar(") and "), ca_name, pa.scalar(" (CA): "), body, "")


def contributions_of(signal_values: Mapping[str, float], weights: Mapping[str, float]) -> tuple[Contribution, ...]:
    """One Contribution per signal, in the fixed signal order."""
    return tuple(
        Contribution(name, label, float(weights[name]), float(signal_values[name]), float(weights[name]) * float(signal_values[name]))
        for name, label in SIGNALS.items()
    )


def shared_labels(eu: Profile, ca: Profile, taxonomy: Taxonomy) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Labels of the fine sectors and of the priority areas the two profiles share."""
    sectors = tuple(taxonomy.label(s) for s in eu.sectors if s in ca.sectors)
    eu_areas, ca_areas = taxonomy.areas_of(eu.sectors), set(taxonomy.areas_of(ca.sectors))
    areas = tuple(taxonomy.label(a) for a in eu_areas if a in ca_areas)
    return sectors, areas


def related_labels(eu: Profile, ca: Profile, taxonomy: Taxonomy, n: int = 3) -> tuple[str, ...]:
    """The ``n`` strongest documented related sector pairs of the two profiles, "European sector /
    Canadian sector", strongest first (then taxonomy order); pairs of the same sector are left out."""
    order, links = taxonomy.sector_order, taxonomy.related_to
    pairs = [(w, s, t) for s in eu.sectors if (row := links.get(s)) for t in ca.sectors if (w := row.get(t, 0.0)) > 0]
    pairs.sort(key=lambda p: (-p[0], order[p[1]], order[p[2]]))
    return tuple(f"{taxonomy.label(s)} / {taxonomy.label(t)}" for _, s, t in pairs[:n])


def explain_pair(
    eu,
    i: int,
    ca,
    j: int,
    score: float,
    values: Mapping[str, float],
    ranks: tuple[int, int],
    weights: Mapping[str, float],
    bias: float,
    taxonomy: Taxonomy,
    lexicon,
    known_partner: str | None = None,
) -> Explanation:
    """Explain European row ``i`` of ``eu`` and Canadian row ``j`` of ``ca`` (two
    :class:`~matcher.features.SideFeatures`) from the pair's score, signal values and ranks as the
    scorer gave them: a pure function, called only for pairs that are shown or written."""
    e, c = eu.profiles[i], ca.profiles[j]
    contributions = contributions_of(values, weights)
    sectors, areas = shared_labels(e, c, taxonomy)
    related = related_labels(e, c, taxonomy)
    evidence = evidence_pairs(eu.sentences[i], ca.sentences[j], eu.sentence_vectors[i], ca.sentence_vectors[j])
    terms = matching_terms(eu.lexical_row(i), ca.lexical_row(j), lexicon, e, c)
    interest = {"eu": bool(eu.targets[i] @ ca.country[j] > 0), "ca": bool(eu.country[i] @ ca.targets[j] > 0)}
    summary = summarise(e, c, {x.signal: (x.value, x.contribution) for x in contributions}, sectors, areas, terms, interest, related)
    return _explanation(e, c, score, bias, contributions, (sectors, areas, related), evidence, terms, summary, ranks, known_partner)


def _explanation(e: Profile, c: Profile, score, bias, contributions, labels, evidence, terms, summary, ranks, known_partner) -> Explanation:
    """The Explanation of one pair from its parts (``labels``: shared sectors, shared areas, related
    sector pairs): the one place both :func:`explain_pair` and :class:`ExplainedPairs` build it."""
    sectors, areas, related = labels
    return Explanation(
        eu_id=e.id,
        ca_id=c.id,
        eu_name=e.name,
        ca_name=c.name,
        score=float(score),
        bias=float(bias),
        contributions=contributions,
        shared_sectors=sectors,
        shared_areas=areas,
        related_sectors=related,
        evidence=evidence,
        terms=terms,
        summary=summary,
        rank_eu_to_ca=int(ranks[0]),
        rank_ca_to_eu=int(ranks[1]),
        known_partner=known_partner,
    )


# Pairs per thread at least when the matching terms of a chunk are picked on several threads.
TERMS_PART_PAIRS = 2048
# Pairs explained together by explain_batch: the intermediate arrays are one chunk's at a time.
PAIR_CHUNK = 8192
# Pairs per thread at least when the evidence of a chunk is picked on several threads.
EVIDENCE_PART_PAIRS = 2048


@dataclass(frozen=True, eq=False)
class ExplainedPairs:
    """The explanations of many pairs, column by column: pair ``p`` is European row ``eu_idx[p]``
    of ``eu`` and Canadian row ``ca_idx[p]`` of ``ca`` (two SideFeatures). What the batch writes is
    read from the columns; :meth:`explanation` gives one pair's :class:`Explanation`, the same as
    :func:`explain_pair`'s (a test checks every pair).

    ``label_set[label_code[p]]``: pair ``p``'s (shared sectors, shared areas, related sector pairs),
    one tuple per distinct pair of sector lists; ``evidence``: the
    sentence picks (rows, columns, similarities, pairs x 3, ``-inf`` for no pick) or None;
    ``summary``: the summary lines, an Arrow large-string column, chunk by chunk as built (never
    copied whole; pandas' own string storage, so the tables take it as it is).
    """

    eu: object
    ca: object
    eu_idx: np.ndarray
    ca_idx: np.ndarray
    score: np.ndarray
    values: dict[str, np.ndarray]
    weights: dict[str, float]
    bias: float
    label_code: np.ndarray
    label_set: list
    terms: list[tuple[str, ...]]
    evidence: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    summary: pa.ChunkedArray
    rank_eu_to_ca: np.ndarray
    rank_ca_to_eu: np.ndarray
    known: list[str | None]

    def __len__(self) -> int:
        return len(self.eu_idx)

    def contribution(self, name: str) -> np.ndarray:
        """``weight x value`` of one signal for every pair (float64, as :func:`contributions_of`)."""
        return float(self.weights[name]) * self.values[name].astype(np.float64)

    @functools.cached_property
    def label_texts(self) -> tuple[pa.Array, pa.Array]:
        """The shared sectors and the related sector pairs of each of ``label_set``, joined by "; "
        (Arrow strings: the tables take a row's from its ``label_code``)."""
        return tuple(pa.array(["; ".join(x[part]) for x in self.label_set], pa.large_string()) for part in (0, 2))

    def summary_at(self, at: np.ndarray) -> pa.Array:
        """The summary lines of the pairs at positions ``at``, in that order, taken chunk by chunk:
        a ChunkedArray's own take gathers across the whole column on every call (1.2 s for 100,000
        rows of a million-pair column, against 0.05 s here), while this reads each chunk for the
        positions in it, then puts the rows in the asked order (only the rows taken are copied)."""
        at = np.asarray(at, dtype=np.int64)
        chunks = self.summary.chunks
        starts = np.concatenate([[0], np.cumsum([len(c) for c in chunks], dtype=np.int64)])
        order = np.argsort(at, kind="stable")
        ascending = at[order]
        cut = np.searchsorted(ascending, starts).tolist()
        parts = [
            chunk.take(pa.array(ascending[a:b] - first)) for chunk, first, a, b in zip(chunks, starts[:-1].tolist(), cut[:-1], cut[1:], strict=True) if b > a
        ]
        gathered = pa.concat_arrays(parts) if parts else pa.array([], self.summary.type)
        back = np.empty_like(order)
        back[order] = np.arange(len(order), dtype=np.int64)
        return gathered.take(pa.array(back))

    def position(self, eu_idx: np.ndarray, ca_idx: np.ndarray) -> np.ndarray:
        """Positions of the pairs ``(eu_idx[q], ca_idx[q])`` among these (each must be one of them)."""
        key = self.eu_idx * (len(self.ca) + 1) + self.ca_idx
        order = np.argsort(key, kind="stable")
        want = np.asarray(eu_idx, dtype=np.int64) * (len(self.ca) + 1) + np.asarray(ca_idx, dtype=np.int64)
        at = order[np.searchsorted(key, want, sorter=order)] if len(key) else np.zeros(0, np.int64)
        return at

    def explanations(self) -> list[Explanation]:
        """Every pair's :class:`Explanation`, in pair order (equal values share one Contribution)."""
        made: dict = {}
        return [self._explanation(p, made) for p in range(len(self))]

    def explanation(self, p: int) -> Explanation:
        """Pair ``p``'s :class:`Explanation`."""
        return self._explanation(p, {})

    def by_ids(self) -> dict[tuple[str, str], Explanation]:
        """``{(eu_id, ca_id): Explanation}`` of every pair."""
        return {(ex.eu_id, ex.ca_id): ex for ex in self.explanations()}

    def _explanation(self, p: int, made: dict) -> Explanation:
        i, j = int(self.eu_idx[p]), int(self.ca_idx[p])
        e, c = self.eu.profiles[i], self.ca.profiles[j]
        contributions = []
        for name, label in SIGNALS.items():
            w = float(self.weights[name])
            x = float(self.values[name][p])
            key = (name, x, math.copysign(1.0, x))  # -0.0 and 0.0 stay apart
            if key not in made:
                made[key] = Contribution(name, label, w, x, w * x)
            contributions.append(made[key])
        evidence: tuple[Evidence, ...] = ()
        if self.evidence is not None:
            rows, cols, vals = (a[p] for a in self.evidence)
            evidence = _evidence_of(self.eu.sentences[i], self.ca.sentences[j], rows, cols, vals)
        ranks = (self.rank_eu_to_ca[p], self.rank_ca_to_eu[p])
        return _explanation(e, c, self.score[p], self.bias, tuple(contributions), self.label_set[self.label_code[p]], evidence, self.terms[p], self.summary[p].as_py(), ranks, self.known[p])


def explain_pairs(*args, **kwargs) -> list[Explanation]:
    """:func:`explain_pair` of every pair ``(eu_idx[p], ca_idx[p])`` at once, the same
    Explanations (a test checks each against the one-pair function): :func:`explain_batch`'s
    parameters, its :class:`ExplainedPairs` as a list of :class:`Explanation`."""
    return explain_batch(*args, **kwargs).explanations()


def explain_batch(
    eu,
    eu_idx: np.ndarray,
    ca,
    ca_idx: np.ndarray,
    scores: np.ndarray,
    values: Mapping[str, np.ndarray],
    ranks: tuple[np.ndarray, np.ndarray],
    weights: Mapping[str, float],
    bias: float,
    taxonomy: Taxonomy,
    lexicon,
    known: Sequence[str | None] | None = None,
    evidence: bool = True,
) -> ExplainedPairs:
    """The :class:`ExplainedPairs` of the pairs ``(eu_idx[p], ca_idx[p])``: contributions are the
    signal value arrays times the weights, shared labels are found once per distinct pair of
    sector lists, matching terms come from one elementwise product of the TF-IDF rows, evidence
    from one masked stack of sentence similarities, chunk by chunk (:data:`PAIR_CHUNK` pairs).
    ``values`` holds each signal's value per pair; ``known`` each pair's ``known_partner``.
    ``evidence=False`` leaves the evidence out, for outputs that do not show it (the CSVs)."""
    eu_idx, ca_idx = np.asarray(eu_idx, dtype=np.int64), np.asarray(ca_idx, dtype=np.int64)
    n = len(eu_idx)
    values = {name: np.asarray(values[name]) if name in values else np.zeros(n, np.float32) for name in SIGNALS} if n else {name: np.zeros(0, np.float32) for name in SIGNALS}
    weights = {name: float(weights[name]) for name in SIGNALS}
    terms: list = []
    summary: list = []
    picks = [np.zeros((n, 3), np.int64), np.zeros((n, 3), np.int64), np.full((n, 3), -np.inf)] if evidence else None
    label_code, label_set = _label_codes(eu, eu_idx, ca, ca_idx, taxonomy)
    keywords: dict = {}
    for start in range(0, n, PAIR_CHUNK):
        part = slice(start, min(start + PAIR_CHUNK, n))
        ei, ci = eu_idx[part], ca_idx[part]
        got_labels = [label_set[c] for c in label_code[part].tolist()]
        got_terms, got_summary = _explain_chunk(eu, ei, ca, ci, {name: v[part] for name, v in values.items()}, weights, got_labels, lexicon, keywords)
        terms.extend(got_terms)
        summary.append(got_summary)
        if picks is not None:
            for whole, got in zip(picks, _evidence_chunk(eu, ei, ca, ci), strict=True):
                whole[part] = got
    return ExplainedPairs(
        eu, ca, eu_idx, ca_idx, np.asarray(scores, dtype=np.float64), values, weights, float(bias), label_code, label_set, terms,
        None if picks is None else tuple(picks), pa.chunked_array([c.cast(pa.large_string()) for c in summary], type=pa.large_string()), np.asarray(ranks[0], dtype=np.int64), np.asarray(ranks[1], dtype=np.int64),
        [None] * n if known is None else list(known),
    )


def _label_codes(eu, eu_idx: np.ndarray, ca, ca_idx: np.ndarray, taxonomy: Taxonomy) -> tuple[np.ndarray, list]:
    """Each pair's place in a list of (shared sectors, shared areas, related sector pairs): the
    labels depend only on the two sector lists, so they are found once per distinct pair of lists
    (numbered with array operations)."""
    numbered = []
    for side, idx in ((eu, eu_idx), (ca, ca_idx)):
        rows, inverse = np.unique(idx, return_inverse=True)
        lists: dict[tuple[str, ...], int] = {}
        numbered.append((np.array([lists.setdefault(side.profiles[i].sectors, len(lists)) for i in rows.tolist()], dtype=np.int64)[inverse], len(lists)))
    (e_list, _), (c_list, n_ca) = numbered
    _, first, codes = np.unique(e_list * max(n_ca, 1) + c_list, return_index=True, return_inverse=True)
    label_set = []
    for p in first.tolist():
        e, c = eu.profiles[int(eu_idx[p])], ca.profiles[int(ca_idx[p])]
        label_set.append((*shared_labels(e, c, taxonomy), related_labels(e, c, taxonomy)))
    return codes.astype(np.int64).reshape(-1), label_set


def _explain_chunk(eu, ei, ca, ci, values, weights, shared, lexicon, keywords) -> tuple[list, pa.StringArray]:
    """Matching terms and summary line of each pair of a chunk, ``shared`` holding their labels."""
    interest_eu = (eu.targets[ei] * ca.country[ci]).sum(axis=1) > 0
    interest_ca = (eu.country[ei] * ca.targets[ci]).sum(axis=1) > 0
    terms = _terms_chunk(eu, ei, ca, ci, lexicon, keywords)
    v = {name: values[name].astype(np.float64) for name in ("semantic", "lexical")}
    e_rows, c_rows = [eu.profiles[i] for i in ei.tolist()], [ca.profiles[j] for j in ci.tolist()]
    summary = summary_lines(
        [e.name for e in e_rows], [e.country for e in e_rows], [c.name for c in c_rows], v,
        {name: float(weights[name]) * x for name, x in v.items()}, shared, terms, interest_eu, interest_ca,
    )
    return terms, summary


def _terms_chunk(eu, ei, ca, ci, lexicon, keywords, n: int = 8) -> list[tuple[str, ...]]:
    """:func:`matching_terms` of each pair of a chunk."""
    return _pick_terms(eu.lexical, ei, ca.lexical, ci, eu.profiles, ca.profiles, lexicon, n, keywords)


def _evidence_chunk(eu, ei, ca, ci, n: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`evidence_pairs`' picks of each pair of a chunk (rows, columns, similarities; pairs x ``n``, ``-inf`` for no pick)."""
    return _evidence_picks(eu.sentence_vectors, ei, ca.sentence_vectors, ci, n)

"""Explain stage: why a pair is proposed, in parts that add up to its score.

Like a Splink waterfall chart, each signal contributes ``weight x value``; the bias plus the
contributions equals the fused score exactly. Evidence sentence pairs and matching terms let a
person check the proposal in a minute.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from matcher.corpus import Profile, Taxonomy
from matcher.score import SIGNALS

__all__ = ["CA_TO_EU", "DIRECTIONS", "EU_TO_CA", "Contribution", "Direction", "Evidence", "Explanation", "evidence_pairs", "explain_pair", "matching_terms", "related_labels"]


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
    """The ``n`` most similar sentence pairs, each sentence used at most once, best first."""
    if not len(eu_sentences) or not len(ca_sentences):
        return ()
    sim = eu_vecs @ ca_vecs.T
    order = np.lexsort((np.arange(sim.size), -sim.ravel()))
    used_e, used_c, out = set(), set(), []
    for flat in order:
        i, j = divmod(int(flat), sim.shape[1])
        if i in used_e or j in used_c:
            continue
        used_e.add(i)
        used_c.add(j)
        out.append(Evidence(eu_sentences[i], ca_sentences[j], round(float(sim[i, j]), 4)))
        if len(out) == n:
            break
    return tuple(out)


def matching_terms(eu_row, ca_row, vocabulary: np.ndarray, eu: Profile, ca: Profile, n: int = 8) -> tuple[str, ...]:
    """Shared keywords first, then the terms that add most to the lexical similarity.

    ``eu_row`` and ``ca_row`` are ``(term indices, TF-IDF weights)`` of the two profiles.
    """
    shared_kw = sorted({k.lower() for k in eu.keywords} & {k.lower() for k in ca.keywords})
    idx, ie, ic = np.intersect1d(eu_row[0], ca_row[0], assume_unique=True, return_indices=True)
    prod = eu_row[1][ie] * ca_row[1][ic]
    order = np.lexsort((idx, -prod))
    idx = idx[order]
    terms = list(shared_kw)
    # A term is left out when it is already listed or is a word of a listed term (a unigram of a bigram).
    listed, words = set(terms), {w for t in terms for w in t.split()}
    for j in idx:
        if len(terms) >= n:
            break
        term = str(vocabulary[j])
        if term not in listed and term not in words:
            terms.append(term)
            listed.add(term)
            words.update(term.split())
    return tuple(terms[:n])


def summarise(
    eu: Profile, ca: Profile, contributions: Sequence[Contribution], shared_sectors: Sequence[str], shared_areas: Sequence[str],
    terms: Sequence[str], interest: Mapping[str, bool], related: Sequence[str] = (),
) -> str:
    """One readable line: what the two have in common, strongest signals first."""
    parts = []
    if shared_sectors:
        parts.append(f"same sector: {', '.join(shared_sectors)}")
    elif shared_areas:
        parts.append(f"same priority area: {', '.join(shared_areas)}")
    if related:
        parts.append(f"related sectors: {related[0]}")
    by_size = sorted((c for c in contributions if c.signal in ("semantic", "lexical")), key=lambda c: -c.contribution)
    for c in by_size:
        parts.append(f"{c.label} {c.value:.2f}")
    if terms:
        parts.append(f"shared terms: {', '.join(terms[:5])}")
    if interest.get("eu"):
        parts.append(f"{eu.name} declares Canada a target")
    if interest.get("ca"):
        parts.append(f"{ca.name} declares {eu.country} a target")
    return f"{eu.name} ({eu.country}) and {ca.name} (CA): " + "; ".join(parts)


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
    order = {c: j for j, c in enumerate(taxonomy.sectors)}
    pairs = [(taxonomy.relatedness(s, t), s, t) for s in eu.sectors for t in ca.sectors if s != t]
    pairs = sorted((p for p in pairs if p[0] > 0), key=lambda p: (-p[0], order[p[1]], order[p[2]]))
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
    vocabulary: np.ndarray,
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
    terms = matching_terms(eu.lexical_row(i), ca.lexical_row(j), vocabulary, e, c)
    interest = {"eu": bool(eu.targets[i] @ ca.country[j] > 0), "ca": bool(eu.country[i] @ ca.targets[j] > 0)}
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
        summary=summarise(e, c, contributions, sectors, areas, terms, interest, related),
        rank_eu_to_ca=int(ranks[0]),
        rank_ca_to_eu=int(ranks[1]),
        known_partner=known_partner,
    )

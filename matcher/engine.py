"""The public engine: fit on a corpus, then rank, pair and explain.

``Matcher`` follows scikit-learn's conventions: ``__init__`` stores its parameters unchanged,
``fit`` learns everything and stores it in attributes ending in ``_``, and methods that need a
fitted engine raise :class:`NotFittedError` before it is fitted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from matcher.corpus import (
    CA_REGION_CODES,
    ISO_COUNTRIES,
    KINDS,
    Corpus,
    Profile,
    load_corpus,
    region_filter_ok,
    unknown_id_message,
)
from matcher.embed import EmbeddingCache, cache_dir, embed_documents, make_backend
from matcher.errors import CorpusError, GoldError, NotFittedError, ParameterError, UnknownIdError
from matcher.explain import Explanation, contributions_of, evidence_pairs, matching_terms, shared_labels, summarise
from matcher.features import (
    TfidfIndex,
    area_matrix,
    interest_inputs,
    language_matrix,
    lexical_text,
    sector_matrix,
    split_sentences,
)
from matcher.gold import GoldPair, load_gold, load_gold_files
from matcher.rank import rank_matrix, reciprocal_score, top_k
from matcher.score import (
    SIGNALS,
    FusedScorer,
    cosine_similarity,
    declared_interest,
    fuse,
    language_overlap,
    lexical_similarity,
    sector_overlap,
)
from matcher.weights import Weights, load_weights

__all__ = ["FILTERS", "Matcher", "check_filters", "check_k"]

log = logging.getLogger(__name__)

FILTERS = {
    "countries": "ISO country codes; restricts only the side(s) whose countries are named",
    "regions": "region codes (CA-QC, or a NUTS code or its prefix such as FR1 or FR10); restricts only the side(s) whose regions are named",
    "sectors": "fine sector codes; a profile passes if it has any of them",
    "areas": "priority-area codes; a profile passes if its sectors map to any of them",
    "kinds": f"organisation kinds among {', '.join(KINDS)}",
    "exclude": "profile ids to leave out",
}


def _as_tuple(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(value)


def check_filters(filters: Mapping[str, object], corpus: Corpus | None = None) -> None:
    """Raise for unknown filter names and, given the corpus, for values it does not know
    (sectors, areas, kinds, countries, region codes, excluded ids): callers can check before any scoring work."""
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        allowed = "; ".join(f"{k} ({v})" for k, v in FILTERS.items())
        raise ParameterError(f"unknown filter(s) {unknown}; allowed filters: {allowed}")
    countries = _as_tuple(filters.get("countries"))
    bad = [c for c in countries or () if c not in ISO_COUNTRIES]
    if bad:
        raise ParameterError(f"filter 'countries' got unknown value(s) {bad}; expected ISO 3166-1 alpha-2 codes such as 'FR', 'CA'")
    bad = [r for r in _as_tuple(filters.get("regions")) or () if not region_filter_ok(r)]
    if bad:
        raise ParameterError(
            f"filter 'regions' got malformed code(s) {bad}; expected ISO 3166-2 Canadian codes "
            f"({', '.join(sorted(CA_REGION_CODES))}) or NUTS codes or prefixes of 2 to 4 characters (FR, FR1, FR10)"
        )
    if corpus is None:
        return
    tax = corpus.taxonomy
    for name, table in (("sectors", tax.sectors), ("areas", tax.areas), ("kinds", KINDS)):
        bad = [v for v in _as_tuple(filters.get(name)) or () if v not in table]
        if bad:
            raise ParameterError(f"filter {name!r} got unknown value(s) {bad}; allowed: {', '.join(table)}")
    for pid in sorted(set(_as_tuple(filters.get("exclude")) or ())):
        if pid not in corpus.by_id:
            raise UnknownIdError("filter 'exclude': " + unknown_id_message(pid, corpus.by_id))


class Matcher:
    """Rank European x Canadian cluster pairings and explain each one.

    Parameters
    ----------
    backend : {"sentence-transformers", "tfidf"}
        Embedding backend for the semantic signal.
    model : path or None
        A sentence-transformers model folder; None uses the bundled all-MiniLM-L6-v2.
    weights : path, mapping, Weights or None
        Fusion weights; None reads the default file in ``models/weights/``.
    gold : path, sequence of GoldPair, False or None
        Known agreements, used only to flag ``known_partner``. None uses every bundled gold file
        (the seed's agreements and the documented ones) when every id they name is in the corpus;
        False flags nothing.
    cache : bool
        Keep encoded sentences in the on-disk cache (``cache_path`` or the user cache folder).
    show_progress : bool
        Show a progress bar while encoding (the CLI turns it on; library calls stay quiet).
    """

    def __init__(
        self,
        backend: str = "sentence-transformers",
        model: str | Path | None = None,
        weights: str | Path | Mapping[str, float] | Weights | None = None,
        gold: str | Path | Sequence[GoldPair] | bool | None = None,
        cache: bool = True,
        cache_path: str | Path | None = None,
        show_progress: bool = False,
    ) -> None:
        self.backend = backend
        self.model = model
        self.weights = weights
        self.gold = gold
        self.cache = cache
        self.cache_path = cache_path
        self.show_progress = show_progress

    # ------------------------------------------------------------------ fitting

    def fit(self, corpus: Corpus | str | Path | None = None) -> Matcher:
        """Embed the corpus and compute every signal for every European x Canadian pair."""
        t0 = time.perf_counter()
        weights = load_weights(self.weights)  # parameters first: a bad file fails before any corpus work
        backend = make_backend(self.backend, self.model, self.show_progress)
        if not isinstance(corpus, Corpus):
            corpus = load_corpus(corpus)
        eu, ca = corpus.eu, corpus.ca
        for side, group in (("European", eu), ("Canadian", ca)):
            if not group:
                raise CorpusError(f"corpus {corpus.path!r} has no {side} profiles; the matcher needs at least one profile on each side")
        profiles = (*eu, *ca)
        descriptions = [p.description for p in profiles]
        backend.fit(descriptions)
        cache = None
        if self.cache and backend.name != "tfidf":
            cache = EmbeddingCache(Path(self.cache_path) if self.cache_path else cache_dir() / "embeddings", backend.identity)
        sentences = [split_sentences(d) for d in descriptions]
        docs, sent_vecs, stats = embed_documents(backend, sentences, cache)
        log.info("encoded %d new sentences, %d from cache, in %.2fs", stats.encoded, stats.cached, stats.seconds)

        index = TfidfIndex()
        lex = index.fit_transform([lexical_text(p) for p in profiles])
        n_eu = len(eu)
        tax = corpus.taxonomy
        fine, areas = sector_matrix(profiles, tax), area_matrix(profiles, tax)
        lang_eu, lang_ca, lang_common = language_matrix(eu, ca)
        eu_flag, eu_country, ca_targets = interest_inputs(corpus, eu, ca)
        signals = {
            "sector": sector_overlap(fine[:n_eu], fine[n_eu:], areas[:n_eu], areas[n_eu:]),
            "semantic": cosine_similarity(docs[:n_eu], docs[n_eu:]),
            "lexical": lexical_similarity(lex[:n_eu], lex[n_eu:]),
            "language": language_overlap(lang_eu, lang_ca, lang_common),
            "interest": declared_interest(eu_flag, eu_country, ca_targets),
        }
        self.corpus_ = corpus
        self.eu_ = eu
        self.ca_ = ca
        self.eu_index_ = {p.id: i for i, p in enumerate(eu)}
        self.ca_index_ = {p.id: i for i, p in enumerate(ca)}
        self.weights_ = weights
        self.backend_ = backend
        self.signals_ = signals
        self.scores_ = fuse(signals, weights.weights, weights.bias)
        self.sentences_ = sentences
        self.sentence_vectors_ = sent_vecs
        self.lexical_ = lex
        self.vocabulary_ = index.vocabulary_
        # Row views of the sparse TF-IDF matrix and rank matrices, looked up per explanation.
        self._lex_rows = [(lex.indices[lex.indptr[r] : lex.indptr[r + 1]], lex.data[lex.indptr[r] : lex.indptr[r + 1]]) for r in range(lex.shape[0])]
        self._rank_ec = rank_matrix(self.scores_)
        self._rank_ce = rank_matrix(self.scores_.T).T
        self._explained: dict[tuple[str, str], Explanation] = {}
        self.interest_flags_ = (eu_flag, eu_country, ca_targets)
        self.embeddings_ = docs
        self._scorer_inputs = (
            docs[:n_eu], docs[n_eu:], fine[:n_eu], fine[n_eu:], areas[:n_eu], areas[n_eu:],
            lang_eu, lang_ca, lex[:n_eu], lex[n_eu:], eu_flag, eu_country, ca_targets, lang_common,
        )
        self.known_ = self._load_known(corpus)
        self.encode_stats_ = stats
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def fused_scorer(self, **options) -> FusedScorer:
        """The blocked scorer over this corpus's inputs: the scale path, giving the same scores as
        ``scores_``; ``options`` go to :class:`~matcher.score.FusedScorer` (``block_cols``, ``dense_density``)."""
        self._check_fitted()
        return FusedScorer(self.weights_.weights, self.weights_.bias, *self._scorer_inputs, **options)

    def _load_known(self, corpus: Corpus) -> dict[tuple[str, str], str]:
        if self.gold is False:
            return {}
        if self.gold is None:
            try:
                pairs = load_gold_files(None, corpus)
            except GoldError:
                log.info("the bundled gold files name ids outside this corpus; no pair is flagged known_partner")
                return {}
        elif isinstance(self.gold, (str, Path)):
            pairs = load_gold(self.gold, corpus)
        else:
            pairs = tuple(self.gold)
        return {(g.eu_id, g.ca_id): g.kind for g in pairs}

    def _check_fitted(self) -> None:
        if not hasattr(self, "scores_"):
            raise NotFittedError("this Matcher is not fitted yet; call fit(corpus) before rank, pairings or explain")

    # ------------------------------------------------------------------ filters

    def _mask(self, profiles: Sequence[Profile], filters: Mapping[str, object]) -> np.ndarray:
        check_filters(filters, self.corpus_)
        tax = self.corpus_.taxonomy
        countries = _as_tuple(filters.get("countries"))
        regions = _as_tuple(filters.get("regions"))
        sectors = _as_tuple(filters.get("sectors"))
        areas = _as_tuple(filters.get("areas"))
        kinds = _as_tuple(filters.get("kinds"))
        exclude = set(_as_tuple(filters.get("exclude")) or ())
        side_countries = {p.country for p in profiles}
        # Region codes name their side: CA-xx codes restrict the Canadian side, NUTS codes the European one.
        side = profiles[0].side if profiles else None
        side_regions = tuple(r for r in regions or () if (r.startswith("CA-")) == (side == "ca"))
        country_set = set(countries or ()) if countries and side_countries & set(countries) else None

        def passes(p: Profile) -> bool:
            return (
                (not side_regions or any(code.startswith(r) for code in p.region_code for r in side_regions))
                and (country_set is None or p.country in country_set)
                and (not sectors or bool(set(p.sectors) & set(sectors)))
                and (not areas or bool(set(tax.areas_of(p.sectors)) & set(areas)))
                and (not kinds or p.kind in kinds)
                and p.id not in exclude
            )

        mask = np.array([passes(p) for p in profiles], dtype=bool)
        return mask

    def _masked_scores(self, filters: Mapping[str, object]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        eu_mask = self._mask(self.eu_, filters)
        ca_mask = self._mask(self.ca_, filters)
        scores = np.where(eu_mask[:, None] & ca_mask[None, :], self.scores_, -np.inf)
        return scores, eu_mask, ca_mask

    # ------------------------------------------------------------------ queries

    def _side_of(self, profile_id: str) -> str:
        return self.corpus_.get(profile_id).side  # an unknown id raises with the closest ids

    def rank(self, profile_id: str, k: int = 10, **filters: object) -> pd.DataFrame:
        """Top-``k`` candidates from the other side for one profile, best first.

        Filters (``countries``, ``sectors``, ``areas``, ``kinds``, ``exclude``) apply to the
        candidates before the top-k; see ``FILTERS``.
        """
        self._check_fitted()
        side = self._side_of(profile_id)
        if side == "eu":
            row = np.where(self._mask(self.ca_, filters), self.scores_[self.eu_index_[profile_id]], -np.inf)
        else:
            row = np.where(self._mask(self.eu_, filters), self.scores_[:, self.ca_index_[profile_id]], -np.inf)
        return self._direction_frame(side, [profile_id], row[None, :], check_k(k))

    def rankings(self, direction: str = "eu_to_ca", k: int = 10, **filters: object) -> pd.DataFrame:
        """Top-``k`` for every query of one direction (``eu_to_ca`` or ``ca_to_eu``), filters applied."""
        self._check_fitted()
        if direction not in ("eu_to_ca", "ca_to_eu"):
            raise ParameterError(f"direction must be 'eu_to_ca' or 'ca_to_eu'; got {direction!r}")
        scores, eu_mask, ca_mask = self._masked_scores(filters)
        if direction == "eu_to_ca":
            ids = [p.id for p, keep in zip(self.eu_, eu_mask, strict=True) if keep]
            matrix = scores[eu_mask]
            return self._direction_frame("eu", ids, matrix, check_k(k))
        ids = [p.id for p, keep in zip(self.ca_, ca_mask, strict=True) if keep]
        matrix = scores.T[ca_mask]
        return self._direction_frame("ca", ids, matrix, check_k(k))

    def _direction_frame(self, side: str, query_ids: Sequence[str], matrix: np.ndarray, k: int) -> pd.DataFrame:
        queries = self.eu_ if side == "eu" else self.ca_
        cands = self.ca_ if side == "eu" else self.eu_
        qindex = self.eu_index_ if side == "eu" else self.ca_index_
        cols, vals = top_k(matrix, k) if len(query_ids) else (np.empty((0, 0), int), np.empty((0, 0)))
        rows = []
        for qi, qid in enumerate(query_ids):
            q = queries[qindex[qid]]
            for r, (c, v) in enumerate(zip(cols[qi], vals[qi], strict=True), start=1):
                if not np.isfinite(v):
                    break
                cand = cands[c]
                e, a = (q, cand) if side == "eu" else (cand, q)
                rows.append(self._pair_row(e, a, rank=r, query=q, candidate=cand))
        return _frame(rows, _direction_columns())

    def _pair_values(self, e: Profile, c: Profile) -> tuple[float, dict[str, float]]:
        i, j = self.eu_index_[e.id], self.ca_index_[c.id]
        values = {name: float(self.signals_[name][i, j]) for name in SIGNALS}
        return float(self.scores_[i, j]), values

    def _pair_row(self, e: Profile, c: Profile, rank: int, query: Profile, candidate: Profile) -> dict:
        ex = self.explain(e.id, c.id)
        row = {
            "query_id": query.id,
            "query_name": query.name,
            "query_country": query.country,
            "rank": rank,
            "candidate_id": candidate.id,
            "candidate_name": candidate.name,
            "candidate_country": candidate.country,
            "score": ex.score,
        }
        for con in ex.contributions:
            row[f"contrib_{con.signal}"] = con.contribution
        row["shared_sectors"] = "; ".join(ex.shared_sectors)
        row["known_partner"] = ex.known_partner or ""
        row["why"] = ex.summary
        return row

    def pairings(self, k: int = 10, **filters: object) -> pd.DataFrame:
        """Every pair proposed in either direction's top-``k``, with both ranks and the reciprocal score.

        Sorted by reciprocal score (``2 / (rank_eu_to_ca + rank_ca_to_eu)``), then score, then ids.
        Ranks are among the candidates left by the filters.
        """
        self._check_fitted()
        k = check_k(k)
        scores, eu_mask, ca_mask = self._masked_scores(filters)
        r_ec = rank_matrix(scores)  # rank of each Canadian candidate for each European query
        r_ce = rank_matrix(scores.T).T  # rank of each European candidate for each Canadian query
        proposed = ((r_ec <= k) | (r_ce <= k)) & eu_mask[:, None] & ca_mask[None, :]
        recip = reciprocal_score(r_ec, r_ce)
        rows = []
        for i, j in zip(*np.nonzero(proposed), strict=True):
            e, c = self.eu_[i], self.ca_[j]
            ex = self.explain(e.id, c.id)
            rows.append(
                {
                    "eu_id": e.id,
                    "eu_name": e.name,
                    "eu_country": e.country,
                    "ca_id": c.id,
                    "ca_name": c.name,
                    "reciprocal_score": float(recip[i, j]),
                    "score": ex.score,
                    "rank_eu_to_ca": int(r_ec[i, j]),
                    "rank_ca_to_eu": int(r_ce[i, j]),
                    "shared_sectors": "; ".join(ex.shared_sectors),
                    "known_partner": ex.known_partner or "",
                    "why": ex.summary,
                }
            )
        frame = _frame(rows, _pairing_columns())
        if len(frame):
            frame = frame.sort_values(["reciprocal_score", "score", "eu_id", "ca_id"], ascending=[False, False, True, True], kind="mergesort")
            frame = frame.reset_index(drop=True)
        return frame

    def explain(self, eu_id: str, ca_id: str) -> Explanation:
        """Why ``eu_id`` and ``ca_id`` score what they do: contributions that add up, evidence, terms."""
        self._check_fitted()
        if eu_id in self.ca_index_ and ca_id in self.eu_index_:
            eu_id, ca_id = ca_id, eu_id
        cached = self._explained.get((eu_id, ca_id))
        if cached is not None:
            return cached
        e = self.corpus_.get(eu_id)
        c = self.corpus_.get(ca_id)
        if e.side != "eu" or c.side != "ca":
            raise ParameterError(f"explain needs one European and one Canadian id; got {eu_id!r} ({e.side}) and {ca_id!r} ({c.side})")
        i, j = self.eu_index_[e.id], self.ca_index_[c.id]
        n_eu = len(self.eu_)
        score, values = self._pair_values(e, c)
        contributions = contributions_of(values, self.weights_.weights)
        sectors, areas = shared_labels(e, c, self.corpus_.taxonomy)
        evidence = evidence_pairs(self.sentences_[i], self.sentences_[n_eu + j], self.sentence_vectors_[i], self.sentence_vectors_[n_eu + j])
        terms = matching_terms(self._lex_rows[i], self._lex_rows[n_eu + j], self.vocabulary_, e, c)
        eu_flag, eu_country, ca_targets = self.interest_flags_
        interest = {"eu": bool(eu_flag[i]), "ca": bool((eu_country[i] @ ca_targets[j]) > 0)}
        rank_ec, rank_ce = int(self._rank_ec[i, j]), int(self._rank_ce[i, j])
        ex = Explanation(
            eu_id=e.id,
            ca_id=c.id,
            eu_name=e.name,
            ca_name=c.name,
            score=score,
            bias=self.weights_.bias,
            contributions=contributions,
            shared_sectors=sectors,
            shared_areas=areas,
            evidence=evidence,
            terms=terms,
            summary=summarise(e, c, contributions, sectors, areas, terms, interest),
            rank_eu_to_ca=rank_ec,
            rank_ca_to_eu=rank_ce,
            known_partner=self.known_.get((e.id, c.id)),
        )
        self._explained[(e.id, c.id)] = ex
        return ex

    def signal_matrix(self, name: str) -> np.ndarray:
        """The ``n_eu x n_ca`` matrix of one signal, rows and columns in id order."""
        self._check_fitted()
        if name not in self.signals_:
            raise ParameterError(f"signal must be one of {', '.join(SIGNALS)}; got {name!r}")
        return self.signals_[name]


def check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ParameterError(f"k must be a positive integer; got {k!r}")
    return int(k)


def _direction_columns() -> list[str]:
    return [
        "query_id",
        "query_name",
        "query_country",
        "rank",
        "candidate_id",
        "candidate_name",
        "candidate_country",
        "score",
        *(f"contrib_{s}" for s in SIGNALS),
        "shared_sectors",
        "known_partner",
        "why",
    ]


def _pairing_columns() -> list[str]:
    return [
        "eu_id",
        "eu_name",
        "eu_country",
        "ca_id",
        "ca_name",
        "reciprocal_score",
        "score",
        "rank_eu_to_ca",
        "rank_ca_to_eu",
        "shared_sectors",
        "known_partner",
        "why",
    ]


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)

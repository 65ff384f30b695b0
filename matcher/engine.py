"""The public engine: fit on a corpus, then rank, pair and explain.

``Matcher`` follows scikit-learn's conventions: ``__init__`` stores its parameters unchanged,
``fit`` learns everything and stores it in attributes ending in ``_``, and methods that need a
fitted engine raise :class:`NotFittedError` before it is fitted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from matcher._gc import gc_paused
from matcher.corpus import (
    ISO_COUNTRIES,
    KINDS,
    REGION_FILTER_EXPECTED,
    Corpus,
    Profile,
    load_corpus,
    region_filter_ok,
    unknown_id_message,
    validate_profile,
)
from matcher.diversify import check_diversity, diversified_top_k, diversify_top
from matcher.embed import EmbeddingCache, cache_dir, embed_documents, make_backend
from matcher.errors import CorpusError, GoldError, NotFittedError, ParameterError, UnknownIdError
from matcher.explain import CA_TO_EU, DIRECTIONS, EU_TO_CA, Direction, ExplainedPairs, Explanation, explain_batch
from matcher.features import FeatureSpace, SideFeatures, profile_words, split_sentences
from matcher.gold import GoldPair, load_gold, load_gold_files
from matcher.participants import Participant, read_participants
from matcher.rank import BlockRunner, PairStats, listed_pairs, pair_stats, reciprocal_score, top_k, top_k_both_ways
from matcher.schedule import TIE_BREAK, Schedule, assign_slots, plan_meetings
from matcher.score import SIGNALS, Scorer
from matcher.weights import Weights, load_weights

if TYPE_CHECKING:  # pandas is imported where a frame is made (the batch job's tables are Arrow tables)
    import pandas as pd

__all__ = ["FILTERS", "Matcher", "Proposals", "Schedule", "check_filters", "check_k"]

log = logging.getLogger(__name__)

# Rows per piece when a table is built for writing (see Matcher.direction_chunks).
TABLE_CHUNK = 100_000

FILTERS = {
    "countries": "ISO country codes; restricts only the side(s) whose countries are named",
    "regions": "region codes (CA-QC, or a NUTS code or its prefix such as FR1 or FR10); restricts only the side(s) whose regions are named",
    "sectors": "fine sector codes; a profile passes if it has any of them",
    "areas": "priority-area codes; a profile passes if its sectors map to any of them",
    "kinds": f"organisation kinds among {', '.join(KINDS)}",
    "exclude": "profile ids to leave out",
    "exclude_known": "True leaves out every pair with a documented agreement in the gold files (known_partner) before the top-k, so the lists hold new names",
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
    if not isinstance(filters.get("exclude_known", False), (bool, np.bool_)):
        raise ParameterError(f"filter 'exclude_known' must be True or False; got {filters['exclude_known']!r}")
    countries = _as_tuple(filters.get("countries"))
    bad = [c for c in countries or () if c not in ISO_COUNTRIES]
    if bad:
        raise ParameterError(f"filter 'countries' got unknown value(s) {bad}; expected ISO 3166-1 alpha-2 codes such as 'FR', 'CA'")
    bad = [r for r in _as_tuple(filters.get("regions")) or () if not region_filter_ok(r)]
    if bad:
        raise ParameterError(f"filter 'regions' got malformed code(s) {bad}; expected {REGION_FILTER_EXPECTED}")
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


@dataclass(frozen=True)
class Proposals:
    """What a ranking emits: the top-k lists both ways and the explanations of every listed pair
    (:class:`~matcher.explain.ExplainedPairs`, pairs sorted by index), among the profiles the filters keep; ``diversity`` > 0: the
    lists are in MMR order (:mod:`matcher.diversify`)."""

    k: int
    top: object  # matcher.rank.TopK
    eu_mask: np.ndarray
    ca_mask: np.ndarray
    pairs: ExplainedPairs
    diversity: float = 0.0

    @property
    def explanations(self) -> dict[tuple[str, str], Explanation]:
        """``{(eu_id, ca_id): Explanation}`` of every listed pair (built on each access)."""
        return self.pairs.by_ids()


class Matcher:
    """Rank European x Canadian cluster pairings and explain each one.

    A thin facade: ``fit`` builds each side's features once (:class:`~matcher.features.SideFeatures`)
    and the one :class:`~matcher.score.Scorer`; ranking goes through the blockwise exact ranks of
    :mod:`matcher.rank`; explanations come from :func:`~matcher.explain.explain_pairs`, only for the
    pairs a method returns.

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
        Show progress bars while encoding and over row blocks (the CLI turns it on; library calls stay quiet).
    client : distributed.Client or None
        Run encoding batches and scoring blocks on this Dask cluster; results are identical.
    block_rows : int or None
        European rows per scoring block (default: about 2 million score cells per block).
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
        client=None,
        block_rows: int | None = None,
    ) -> None:
        self.backend = backend
        self.model = model
        self.weights = weights
        self.gold = gold
        self.cache = cache
        self.cache_path = cache_path
        self.show_progress = show_progress
        self.client = client
        self.block_rows = block_rows

    # ------------------------------------------------------------------ fitting

    @gc_paused()
    def fit(self, corpus: Corpus | str | Path | None = None) -> Matcher:
        """Embed the corpus and build both sides' features and the scorer (no pair is scored yet)."""
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
        # The words are found once: the tfidf backend counts the descriptions', the lexical signal the lexical texts'.
        description_words, lexical_words = profile_words(profiles)
        space = FeatureSpace()
        # The lexical TF-IDF (compiled counting and scipy's sparse work, mostly outside the GIL) is
        # built on a second thread while this one fits the backend and embeds the sentences.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="matcher-fit") as pool:
            lexical = pool.submit(space.fit_transform, corpus, words=lexical_words)
            backend.fit(descriptions, words=description_words)
            cache = None
            if self.cache and backend.name != "tfidf":
                cache = EmbeddingCache(Path(self.cache_path) if self.cache_path else cache_dir() / "embeddings", backend.identity)
            sentences = [split_sentences(d) for d in descriptions]
            docs, sent_vecs, stats = embed_documents(backend, sentences, cache, client=self.client)
            log.info("encoded %d new sentences, %d from cache, in %.2fs", stats.encoded, stats.cached, stats.seconds)
            lex = lexical.result()
        del description_words, lexical_words
        targets = corpus.declared_targets
        n_eu = len(eu)
        eu_f = space.side(eu, [targets[p.id] for p in eu], docs[:n_eu], sentences[:n_eu], sent_vecs[:n_eu], lex[:n_eu])
        ca_f = space.side(ca, [targets[p.id] for p in ca], docs[n_eu:], sentences[n_eu:], sent_vecs[n_eu:], lex[n_eu:])
        self.corpus_ = corpus
        self.eu_ = eu
        self.ca_ = ca
        self.eu_index_ = {p.id: i for i, p in enumerate(eu)}
        self.ca_index_ = {p.id: i for i, p in enumerate(ca)}
        self.weights_ = weights
        self.backend_ = backend
        self.embedding_cache_ = cache
        self.features_ = space
        self.eu_features_ = eu_f
        self.ca_features_ = ca_f
        self.scorer_ = self._scorer(eu_f, ca_f, self.block_rows)
        self.known_ = self._load_known(corpus)
        self.encode_stats_ = stats
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _scorer(self, eu: SideFeatures, ca: SideFeatures, block_rows: int | None) -> Scorer:
        return Scorer(
            eu, ca, self.weights_.weights, self.weights_.bias, self.features_.lingua_franca_, block_rows=block_rows, relatedness=self.features_.related_
        )

    def _runner(self, desc: str = "scoring") -> BlockRunner:
        return BlockRunner(self.client, self.show_progress, desc)

    def signal_matrices(self) -> dict[str, np.ndarray]:
        """Every signal for every pair (``n_eu x n_ca`` each, id order), from the scorer: dense, for the evaluation."""
        self._check_fitted()
        return self.scorer_.signal_matrices()

    def score_matrix(self) -> np.ndarray:
        """The fused score of every pair (``n_eu x n_ca``), from the scorer: dense, for the evaluation."""
        self._check_fitted()
        return self.scorer_.score_matrix()

    def signal_matrix(self, name: str) -> np.ndarray:
        """The ``n_eu x n_ca`` matrix of one signal, rows and columns in id order."""
        self._check_fitted()
        if name not in SIGNALS:
            raise ParameterError(f"signal must be one of {', '.join(SIGNALS)}; got {name!r}")
        return self.scorer_.signal_matrices()[name]

    def _load_known(self, corpus: Corpus) -> dict[tuple[str, str], str]:
        if self.gold is False:
            return {}
        if self.gold is None:
            try:
                pairs = load_gold_files(None, corpus, suggest=False)  # a user corpus: no search for closest ids
            except GoldError:
                log.info("the bundled gold files name ids outside this corpus; no pair is flagged known_partner")
                return {}
        elif isinstance(self.gold, (str, Path)):
            pairs = load_gold(self.gold, corpus)
        else:
            pairs = tuple(self.gold)
        return {(g.eu_id, g.ca_id): g.kind for g in pairs}

    def _check_fitted(self) -> None:
        if not hasattr(self, "scorer_"):
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

    # ------------------------------------------------------------------ queries

    def _side_of(self, profile_id: str) -> str:
        return self.corpus_.get(profile_id).side  # an unknown id raises with the closest ids

    def _explain_stats(self, scorer: Scorer, eu_idx, ca_idx, stats: PairStats, evidence: bool = True) -> ExplainedPairs:
        """Explanations of the pairs ``(eu_idx[p], ca_idx[p])`` from their stats (``evidence=False``: without evidence sentences)."""
        eu, ca = scorer.eu, scorer.ca
        known = None
        if self.known_:
            known = [self.known_.get((eu.profiles[i].id, ca.profiles[j].id)) for i, j in zip(np.asarray(eu_idx).tolist(), np.asarray(ca_idx).tolist(), strict=True)]
        return explain_batch(
            eu, eu_idx, ca, ca_idx, stats.score, stats.signals, (stats.rank_eu_to_ca, stats.rank_ca_to_eu),
            self.weights_.weights, self.weights_.bias, self.corpus_.taxonomy, self.features_.tfidf_, known, evidence,
        )

    @gc_paused()
    def propose(
        self, k: int = 10, directions: Sequence[str] = ("eu_to_ca", "ca_to_eu"), diversity: float = 0.0, evidence: bool = True, **filters: object
    ) -> Proposals:
        """Top-``k`` both ways among the profiles the filters keep, and the explanation of every pair
        listed in ``directions``: exact ranks, computed block by block (no all-pairs matrix).
        ``diversity`` (LAMBDA >= 0) re-ranks the lists of ``directions`` by maximal marginal relevance
        (:mod:`matcher.diversify`); 0 is the plain ranking. ``evidence=False`` skips the evidence
        sentence pairs, which only details.json shows."""
        self._check_fitted()
        k = check_k(k)
        diversity = check_diversity(diversity)
        eu_mask, ca_mask = self._mask(self.eu_, filters), self._mask(self.ca_, filters)
        exclude = self._excluded(filters)
        top = top_k_both_ways(self.scorer_, k, eu_mask, ca_mask, self._runner("top-k"), exclude, keep_blocks=not diversity)
        if diversity:
            rows = np.flatnonzero(eu_mask) if "eu_to_ca" in directions else None
            cols = np.flatnonzero(ca_mask) if "ca_to_eu" in directions else None
            top = diversify_top(self.scorer_, top, diversity, eu_mask, ca_mask, self._runner("diversity"), exclude, rows, cols)
        eu_idx, ca_idx, score, signals = listed_pairs(top, eu_mask, ca_mask, "eu_to_ca" in directions, "ca_to_eu" in directions)
        known = None if signals is None else (score, signals)  # the lists' own scores and signals: no pass to find them
        stats = pair_stats(self.scorer_, eu_idx, ca_idx, eu_mask, ca_mask, self._runner("ranks"), exclude, known, top.blocks)
        top = replace(top, blocks=None)  # the kept score blocks are not needed past the ranks
        return Proposals(k, top, eu_mask, ca_mask, self._explain_stats(self.scorer_, eu_idx, ca_idx, stats, evidence), diversity)

    def rank(self, profile_id: str, k: int = 10, diversity: float = 0.0, **filters: object) -> pd.DataFrame:
        """Top-``k`` candidates from the other side for one profile, best first.

        Filters (``countries``, ``sectors``, ``areas``, ``kinds``, ``exclude``) apply to the
        candidates before the top-k; see ``FILTERS``. ``diversity`` > 0 re-ranks the list by
        maximal marginal relevance (:mod:`matcher.diversify`) and adds the ``score_rank`` column.
        """
        self._check_fitted()
        direction = EU_TO_CA if self._side_of(profile_id) == "eu" else CA_TO_EU
        k = check_k(k)
        diversity = check_diversity(diversity)
        return self._query_frame(self.scorer_, direction, self._index(direction.query)[profile_id], k, filters, diversity)

    def _excluded(self, filters: Mapping[str, object]) -> tuple[np.ndarray, np.ndarray] | None:
        """The known pairs as (European rows, Canadian columns) when ``exclude_known`` asks for it."""
        if not filters.get("exclude_known"):
            return None
        pairs = sorted((self.eu_index_[e], self.ca_index_[c]) for e, c in self.known_ if e in self.eu_index_ and c in self.ca_index_)
        return np.array([i for i, _ in pairs], dtype=np.int64), np.array([j for _, j in pairs], dtype=np.int64)

    def _index(self, side: str) -> dict[str, int]:
        return self.eu_index_ if side == "eu" else self.ca_index_

    def _query_frame(self, scorer: Scorer, direction: Direction, q: int, k: int, filters: Mapping[str, object], diversity: float = 0.0) -> pd.DataFrame:
        """Top-``k`` of query row ``q`` of ``direction.query``'s side of ``scorer``, as a frame
        (in MMR order when ``diversity`` > 0)."""
        cand_profiles = scorer.ca.profiles if direction.query == "eu" else scorer.eu.profiles
        cand_mask = self._mask(cand_profiles, filters)
        n_query = scorer.shape[0] if direction.query == "eu" else scorer.shape[1]
        query_mask = np.zeros(n_query, dtype=bool)
        query_mask[q] = True
        eu_mask, ca_mask = direction.pair(query_mask, cand_mask)
        exclude = self._excluded(filters)
        if direction.query == "eu" and diversity:
            cands, best = diversified_top_k(_masked_row(scorer, scorer.block_of(q), q, ca_mask, exclude)[0], k, diversity, scorer.ca.embeddings, scorer.ca.country)
        elif direction.query == "eu":
            idx, val = top_k(_masked_row(scorer, scorer.block_of(q), q, ca_mask, exclude), k)
            best, cands = val[0], idx[0]
        else:
            top = top_k_both_ways(scorer, k, eu_mask, ca_mask, self._runner("top-k"), exclude)
            if diversity:
                top = diversify_top(scorer, top, diversity, eu_mask, ca_mask, self._runner("diversity"), exclude, cols=np.array([q]))
            best, cands = top.col_val[q], top.col_idx[q]
        cands = cands[np.isfinite(best)]
        eu_idx, ca_idx = direction.pair(np.full(len(cands), q, dtype=np.int64), cands.astype(np.int64))
        # Ranks in the query's direction among the filtered candidates; in the other, among all.
        stats = pair_stats(scorer, eu_idx, ca_idx, eu_mask if direction.query == "ca" else None, ca_mask if direction.query == "eu" else None, self._runner("ranks"), exclude)
        explained = self._explain_stats(scorer, eu_idx, ca_idx, stats)
        query_profiles = scorer.eu.profiles if direction.query == "eu" else scorer.ca.profiles
        n = len(cands)
        score_rank = (explained.rank_eu_to_ca if direction.query == "eu" else explained.rank_ca_to_eu) if diversity else None
        rows = np.arange(n, dtype=np.int64)
        query_side, cand_side = _side_columns([query_profiles[q]]), _side_columns([cand_profiles[c] for c in cands.tolist()])
        return _direction_table(query_side, np.zeros(n, dtype=np.int64), rows, cand_side, rows, explained, rows, score_rank).to_pandas()

    def rankings(self, direction: str = "eu_to_ca", k: int = 10, diversity: float = 0.0, **filters: object) -> pd.DataFrame:
        """Top-``k`` for every query of one direction (``eu_to_ca`` or ``ca_to_eu``), filters applied;
        ``diversity`` as in :meth:`rank`."""
        self._check_fitted()
        if direction not in DIRECTIONS:
            raise ParameterError(f"direction must be 'eu_to_ca' or 'ca_to_eu'; got {direction!r}")
        return self.direction_frame(self.propose(k, (direction,), diversity, **filters), direction)

    def direction_frame(self, proposals: Proposals, direction: str) -> pd.DataFrame:
        """One direction's ranked rows (query, rank, candidate, score, contributions, why) of ``proposals``.

        With diversity, ``rank`` is the position in the MMR list and ``score_rank`` (a column added
        after it) the candidate's exact rank by score for the query, as in the pairings.
        Built column by column from the explanations' columns."""
        return next(iter(self.direction_chunks(proposals, direction, None))).to_pandas()

    def direction_chunks(self, proposals: Proposals, direction: str, rows: int | None = TABLE_CHUNK) -> Iterator[pa.Table]:
        """:meth:`direction_frame` in consecutive pieces of at most ``rows`` rows (None: one piece),
        as Arrow tables (``to_pandas()`` gives the frame's piece), so a writer never holds the whole
        table; always at least one piece (empty when no row)."""
        d = DIRECTIONS[direction]
        top, pairs = proposals.top, proposals.pairs
        mask = proposals.eu_mask if d.query == "eu" else proposals.ca_mask
        idx, val = (top.row_idx, top.row_val) if d.query == "eu" else (top.col_idx, top.col_val)
        q, r = np.nonzero(np.isfinite(val) & mask[:, None])  # lists are best first, -inf only at their end
        cand = idx[q, r]
        at = pairs.position(*d.pair(q, cand))
        query_side, cand_side = (_side_columns(self.eu_), _side_columns(self.ca_))[:: 1 if d.query == "eu" else -1]
        score_rank = (pairs.rank_eu_to_ca if d.query == "eu" else pairs.rank_ca_to_eu)[at] if proposals.diversity else None
        for part in _pieces(len(q), rows):
            yield _direction_table(query_side, q[part], r[part], cand_side, cand[part], pairs, at[part], None if score_rank is None else score_rank[part])

    def pairings(self, k: int = 10, diversity: float = 0.0, **filters: object) -> pd.DataFrame:
        """Every pair proposed in either direction's top-``k``, with both ranks and the reciprocal score.

        Sorted by reciprocal score (``2 / (rank_eu_to_ca + rank_ca_to_eu)``), then score, then ids.
        Ranks are among the candidates left by the filters. ``diversity`` changes which pairs are
        listed (the MMR lists of :meth:`rank`), not how their ranks are measured: the ranks stay
        the exact ranks by score both ways.
        """
        return self.pairing_frame(self.propose(k, diversity=diversity, **filters))

    def pairing_frame(self, proposals: Proposals) -> pd.DataFrame:
        """The pairings table of ``proposals`` (see :meth:`pairings`)."""
        return next(iter(self.pairing_chunks(proposals, None))).to_pandas()

    def pairing_chunks(self, proposals: Proposals, rows: int | None = TABLE_CHUNK) -> Iterator[pa.Table]:
        """:meth:`pairing_frame` in consecutive pieces of at most ``rows`` rows (None: one piece),
        as Arrow tables, always at least one. The order (reciprocal score, then score, descending, then ids) is
        found on the arrays first, so each piece is built on its own."""
        pairs = proposals.pairs
        recip = reciprocal_score(pairs.rank_eu_to_ca, pairs.rank_ca_to_eu)
        eu_rank, ca_rank = (_id_order(side) for side in (self.eu_, self.ca_))
        order = np.lexsort((ca_rank[pairs.ca_idx], eu_rank[pairs.eu_idx], -pairs.score, -recip))
        eu_side, ca_side = _side_columns(self.eu_), _side_columns(self.ca_)
        for part in _pieces(len(order), rows):
            at = order[part]
            eu = _profile_columns("eu", eu_side, pairs.eu_idx[at])
            ca = _profile_columns("ca", ca_side, pairs.ca_idx[at])
            columns = {
                "eu_id": eu["eu_id"], "eu_name": eu["eu_name"], "eu_country": eu["eu_country"], "ca_id": ca["ca_id"], "ca_name": ca["ca_name"],
                "reciprocal_score": recip[at], "score": pairs.score[at], "rank_eu_to_ca": pairs.rank_eu_to_ca[at], "rank_ca_to_eu": pairs.rank_ca_to_eu[at],
                **_explained_columns(pairs, at),
            }
            yield pa.table({name: columns[name] for name in _pairing_columns()})

    def explain(self, eu_id: str, ca_id: str) -> Explanation:
        """Why ``eu_id`` and ``ca_id`` score what they do: contributions that add up, evidence, terms."""
        self._check_fitted()
        if eu_id in self.ca_index_ and ca_id in self.eu_index_:
            eu_id, ca_id = ca_id, eu_id
        e = self.corpus_.get(eu_id)
        c = self.corpus_.get(ca_id)
        if e.side != "eu" or c.side != "ca":
            raise ParameterError(f"explain needs one European and one Canadian id; got {eu_id!r} ({e.side}) and {ca_id!r} ({c.side})")
        i, j = np.array([self.eu_index_[e.id]]), np.array([self.ca_index_[c.id]])
        stats = pair_stats(self.scorer_, i, j, runner=self._runner("ranks"))
        return self._explain_stats(self.scorer_, i, j, stats).explanation(0)

    # ------------------------------------------------------------------ profiles outside the corpus

    def profile_features(self, profiles: Sequence[Profile]) -> SideFeatures:
        """Features of profiles that are not in the fitted corpus, on the fitted columns: their text
        is embedded (through the cache as usual) and projected on the fitted TF-IDF vocabulary."""
        self._check_fitted()
        sentences = [split_sentences(p.description) for p in profiles]
        docs, sent_vecs, _ = embed_documents(self.backend_, sentences, self.embedding_cache_, client=self.client)
        return self.features_.side(profiles, [p.target_markets for p in profiles], docs, sentences, sent_vecs)

    def rank_profile(self, profile: Profile | Mapping[str, object], k: int = 10, diversity: float = 0.0, **filters: object) -> pd.DataFrame:
        """Top-``k`` candidates of the fitted corpus's other side for a profile that is not in it
        (a :class:`~matcher.corpus.Profile` or a mapping in the corpus schema), without refitting.

        The same columns as :meth:`rank`; filters apply to the candidates; ``diversity`` as in
        :meth:`rank`. Declared interest uses the profile's own ``target_markets`` (it belongs to no
        partnership of the corpus).
        """
        return self.rank_profiles([profile], k, diversity, **filters)

    def rank_profiles(self, profiles: Sequence[Profile | Mapping[str, object]], k: int = 10, diversity: float = 0.0, **filters: object) -> pd.DataFrame:
        """:meth:`rank_profile` for several profiles (each ranked as the only new one), rows concatenated."""
        self._check_fitted()
        k = check_k(k)
        diversity = check_diversity(diversity)
        checked = [validate_profile(p, self.corpus_.taxonomy) for p in profiles]
        feats = self.profile_features(checked)
        frames = []
        for n, prof in enumerate(checked):
            one = _take(feats, n)
            if prof.side == "eu":
                scorer = self._scorer(self.eu_features_.append(one), self.ca_features_, self.scorer_.block_rows)
                direction, q = EU_TO_CA, len(self.eu_)
            else:
                scorer = self._scorer(self.eu_features_, self.ca_features_.append(one), self.scorer_.block_rows)
                direction, q = CA_TO_EU, len(self.ca_)
            frames.append(self._query_frame(scorer, direction, q, k, filters, diversity))
        if not frames:
            return _frame([], _direction_columns(bool(diversity)))
        import pandas as pd

        return pd.concat(frames, ignore_index=True)

    # ------------------------------------------------------------------ brokerage events

    def schedule(
        self,
        participants: str | Path | Sequence[object],
        slots: int,
        tables: int | None = None,
        min_score: float | None = None,
        exclude_known: bool = False,
    ) -> Schedule:
        """The meeting plan of a brokerage event with the largest total score, in ``slots`` time slots.

        ``participants`` is a CSV file or a list of corpus ids, newcomers' profile mappings or
        Profiles, each with an optional ``max_meetings`` (see
        :func:`~matcher.participants.read_participants`). Each European-Canadian pair meets at most
        once, nobody has more than ``min(max_meetings, slots)`` meetings or two at once, pairs
        scoring 0 or below ``min_score`` are never planned, ``exclude_known`` leaves out pairs with
        a documented agreement, and with ``tables`` at most that many meetings run in one slot.
        Scores come from the one scorer over the participants' features (newcomers embedded as in
        :meth:`rank_profiles`); the plan is exact (:func:`~matcher.schedule.plan_meetings`) and the
        slots balanced (:func:`~matcher.schedule.assign_slots`). Explanations are built for the
        planned meetings only. An event where no pair is eligible gets an empty schedule and a warning.
        """
        self._check_fitted()
        _check_schedule(slots, tables, min_score, exclude_known)
        people = read_participants(participants, self.corpus_)
        eu_p = sorted((p for p in people if p.side == "eu"), key=lambda p: p.id)
        ca_p = sorted((p for p in people if p.side == "ca"), key=lambda p: p.id)
        new = [p.profile for p in (*eu_p, *ca_p) if p.newcomer]
        new_feats = self.profile_features(new) if new else None
        new_row = {prof.id: n for n, prof in enumerate(new)}
        eu_f = _event_side(eu_p, self.eu_features_, self.eu_index_, new_feats, new_row)
        ca_f = _event_side(ca_p, self.ca_features_, self.ca_index_, new_feats, new_row)
        scorer = self._scorer(eu_f, ca_f, None)
        scores = scorer.score_matrix()
        allowed = None
        if exclude_known:
            allowed = np.ones(scores.shape, dtype=bool)
            eu_at, ca_at = {p.id: i for i, p in enumerate(eu_p)}, {p.id: j for j, p in enumerate(ca_p)}
            for e, c in self.known_:
                if e in eu_at and c in ca_at:
                    allowed[eu_at[e], ca_at[c]] = False
        caps = [np.array([slots if p.max_meetings is None else min(p.max_meetings, slots) for p in side], dtype=np.int64) for side in (eu_p, ca_p)]
        plan = plan_meetings(scores, caps[0], caps[1], min_score, None if tables is None else tables * slots, allowed)
        if plan.eligible == 0:
            floor = "above 0" if min_score is None else f"at least {min_score:g} (and above 0)"
            log.warning("no pair of the event's %d European and %d Canadian participants scores %s%s: the schedule is empty", len(eu_p), len(ca_p), floor, " among new partners" if exclude_known else "")
        slot = assign_slots(plan.eu, plan.ca, slots, tables)
        explained = {}
        if len(plan):
            stats = pair_stats(scorer, plan.eu, plan.ca, runner=self._runner("ranks"))
            explained = self._explain_stats(scorer, plan.eu, plan.ca, stats).by_ids()
        meetings = []
        for i, j, k in zip(plan.eu.tolist(), plan.ca.tolist(), slot.tolist(), strict=True):
            ex = explained[(eu_p[i].id, ca_p[j].id)]
            row = {"slot": k + 1, "eu_id": ex.eu_id, "eu_name": ex.eu_name, "ca_id": ex.ca_id, "ca_name": ex.ca_name, "score": ex.score}
            row.update({f"contrib_{c.signal}": c.contribution for c in ex.contributions})
            row["why"] = ex.summary
            meetings.append(row)
        meetings_frame = _frame(meetings, _meeting_columns())
        if len(meetings_frame):
            meetings_frame = meetings_frame.sort_values(["slot", "eu_id", "ca_id"], kind="mergesort").reset_index(drop=True)
        agendas = _agenda_rows(meetings_frame, eu_p, ca_p, slots)
        degree = [np.bincount(plan.eu, minlength=len(eu_p)), np.bincount(plan.ca, minlength=len(ca_p))]
        summary = {
            "total_score": round(plan.total, 6),
            "solver": {"status": plan.status, "certificate": plan.certificate, "tie_break": TIE_BREAK},
            "parameters": {"slots": slots, "tables": tables, "min_score": min_score, "new_only": bool(exclude_known)},
            "counts": {
                "participants": {"eu": len(eu_p), "ca": len(ca_p), "newcomers": len(new)},
                "meetings": len(plan),
                "meetings_per_slot": np.bincount(slot, minlength=slots).tolist() if len(plan) else [0] * slots,
                "slots": slots,
                "tables": tables,
                "pairs": len(eu_p) * len(ca_p),
                "pairs_eligible": plan.eligible,
                "capacity": {"eu": int(caps[0].sum()), "ca": int(caps[1].sum())},
                "unmet_capacity": {"eu": int((caps[0] - degree[0]).sum()), "ca": int((caps[1] - degree[1]).sum())},
                "participants_without_meeting": int((degree[0] == 0).sum() + (degree[1] == 0).sum()),
            },
            "backend": self.backend_.name,
            "weights": self.weights_.name,
            "corpus": {"path": self.corpus_.path, "sha256": self.corpus_.fingerprint},
        }
        return Schedule(meetings_frame, agendas, summary)


def _take(side: SideFeatures, i: int) -> SideFeatures:
    """Row ``i`` of ``side`` as a one-row SideFeatures."""
    return SideFeatures(
        side.profiles[i : i + 1], side.embeddings[i : i + 1], side.fine[i : i + 1], side.areas[i : i + 1], side.languages[i : i + 1],
        side.lexical[i : i + 1], side.country[i : i + 1], side.targets[i : i + 1], side.sentences[i : i + 1], side.sentence_vectors[i : i + 1],
    )


def _take_rows(side: SideFeatures, idx: Sequence[int]) -> SideFeatures:
    """Rows ``idx`` of ``side``, in that order, as a SideFeatures."""
    idx = np.asarray(idx, dtype=np.int64)
    pick = idx.tolist()
    return SideFeatures(
        tuple(side.profiles[i] for i in pick), side.embeddings[idx], side.fine[idx], side.areas[idx], side.languages[idx],
        side.lexical[idx], side.country[idx], side.targets[idx], tuple(side.sentences[i] for i in pick), tuple(side.sentence_vectors[i] for i in pick),
    )


def _event_side(people: Sequence[Participant], corpus_side: SideFeatures, index: Mapping[str, int], new_feats: SideFeatures | None, new_row: Mapping[str, int]) -> SideFeatures:
    """The features of one side's participants, in their order: corpus rows and newcomers' rows."""
    old = [n for n, p in enumerate(people) if not p.newcomer]
    fresh = [n for n, p in enumerate(people) if p.newcomer]
    both = _take_rows(corpus_side, [index[people[n].id] for n in old])
    if fresh:
        both = both.append(_take_rows(new_feats, [new_row[people[n].id] for n in fresh]))
    order = np.argsort(np.array(old + fresh, dtype=np.int64), kind="stable")
    return _take_rows(both, order)


def _check_schedule(slots, tables, min_score, exclude_known) -> None:
    from matcher._checks import ParamChecks, is_int, is_number

    checks = ParamChecks("schedule")
    checks.require(is_int(slots) and slots >= 1, f"slots must be a positive integer (time slots of the event); got {slots!r}")
    checks.require(tables is None or (is_int(tables) and tables >= 1), f"tables must be a positive integer (meetings that can run at once) or None; got {tables!r}")
    checks.require(min_score is None or is_number(min_score), f"min_score must be a finite number or None; got {min_score!r}")
    checks.require(isinstance(exclude_known, (bool, np.bool_)), f"exclude_known must be True or False; got {exclude_known!r}")
    checks.done()


def _meeting_columns() -> list[str]:
    return ["slot", "eu_id", "eu_name", "ca_id", "ca_name", "score", *(f"contrib_{s}" for s in SIGNALS), "why"]


AGENDA_COLUMNS = ["participant_id", "participant_name", "side", "slot", "status", "partner_id", "partner_name", "score", "why"]


def _agenda_rows(meetings: pd.DataFrame, eu_p: Sequence[Participant], ca_p: Sequence[Participant], slots: int) -> pd.DataFrame:
    """One row per participant (Europeans then Canadians, by id) per slot; a slot without a meeting is free."""
    booked: dict[tuple[str, int], tuple[str, str, float, str]] = {}
    for m in meetings.itertuples(index=False):
        booked[(m.eu_id, m.slot)] = (m.ca_id, m.ca_name, m.score, m.why)
        booked[(m.ca_id, m.slot)] = (m.eu_id, m.eu_name, m.score, m.why)
    rows = []
    for p in (*eu_p, *ca_p):
        for k in range(1, slots + 1):
            partner = booked.get((p.id, k))
            base = {"participant_id": p.id, "participant_name": p.profile.name, "side": p.side, "slot": k}
            if partner is None:
                rows.append(base | {"status": "free", "partner_id": "", "partner_name": "", "score": np.nan, "why": ""})
            else:
                rows.append(base | {"status": "meeting", "partner_id": partner[0], "partner_name": partner[1], "score": partner[2], "why": partner[3]})
    return _frame(rows, AGENDA_COLUMNS)


def _masked_row(scorer: Scorer, rows: slice, q: int, ca_mask: np.ndarray, exclude=None) -> np.ndarray:
    """Scores of European row ``q`` (scored within its block) against the candidates ``ca_mask``
    keeps, ``-inf`` at the pairs ``exclude`` lists."""
    scores = np.where(ca_mask, scorer.scores(rows)[q - rows.start], -np.inf)
    if exclude is not None:
        scores[exclude[1][exclude[0] == q]] = -np.inf
    return scores[None, :]


def _pieces(n: int, rows: int | None) -> list[slice]:
    """Consecutive slices of at most ``rows`` of ``n`` table rows (None: one slice); at least one, empty when ``n`` is 0."""
    step = max(n, 1) if rows is None else rows
    return [slice(start, start + step) for start in range(0, max(n, 1), step)]


def _id_order(profiles: Sequence[Profile]) -> np.ndarray:
    """Each profile's position in id order (the order a sort by id gives)."""
    order = sorted(range(len(profiles)), key=lambda i: profiles[i].id)
    out = np.empty(len(profiles), dtype=np.int64)
    out[order] = np.arange(len(profiles))
    return out


def _side_columns(profiles: Sequence[Profile]) -> tuple[pa.Array, pa.Array, pa.Array]:
    """The ids, names and countries of ``profiles`` as Arrow strings, to be taken by row."""
    return tuple(pa.array([getattr(p, name) for p in profiles], pa.large_string()) for name in ("id", "name", "country"))


def _profile_columns(prefix: str, side: tuple[pa.Array, pa.Array, pa.Array], rows: np.ndarray) -> dict[str, pa.Array]:
    """``PREFIX_id``, ``PREFIX_name`` and ``PREFIX_country`` of rows ``rows`` of a side's :func:`_side_columns`."""
    take = pa.array(np.asarray(rows, dtype=np.int64))
    return {f"{prefix}_{name}": column.take(take) for name, column in zip(("id", "name", "country"), side, strict=True)}


def _explained_columns(pairs: ExplainedPairs, at: np.ndarray) -> dict[str, object]:
    """The explanation columns of the pairs at positions ``at``: contributions, shared and related
    sectors, known partner, why."""
    at_list = np.asarray(at).tolist()
    # Each distinct label list joined once, then taken for the rows (Arrow strings, no text per row).
    codes = pa.array(pairs.label_code[at])
    shared, related = (texts.take(codes) for texts in pairs.label_texts)
    return {
        **{f"contrib_{name}": pairs.contribution(name)[at] for name in SIGNALS},
        "shared_sectors": shared,
        "related_sectors": related,
        "known_partner": pa.array([pairs.known[p] or "" for p in at_list], pa.large_string()),
        "why": pairs.summary_at(at),  # Arrow's strings, not copied per row
    }


def _direction_table(query_side, q, r, cand_side, cand, pairs: ExplainedPairs, at, score_rank=None) -> pa.Table:
    """Ranked rows as an Arrow table: query ``q[n]`` of ``query_side`` (a side's
    :func:`_side_columns`), position ``r[n]`` (0-based) in its list, candidate ``cand[n]`` of
    ``cand_side``, explained by pair ``at[n]`` of ``pairs``; ``score_rank`` (for MMR lists) adds that column."""
    columns = {
        **_profile_columns("query", query_side, q),
        "rank": np.asarray(r, dtype=np.int64) + 1,
        **({} if score_rank is None else {"score_rank": np.asarray(score_rank, dtype=np.int64)}),
        **_profile_columns("candidate", cand_side, cand),
        "score": pairs.score[at],
        **_explained_columns(pairs, at),
    }
    return pa.table({name: columns[name] for name in _direction_columns(score_rank is not None)})


def check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ParameterError(f"k must be a positive integer; got {k!r}")
    return int(k)


def _direction_columns(diversified: bool = False) -> list[str]:
    return [
        "query_id",
        "query_name",
        "query_country",
        "rank",
        *(["score_rank"] if diversified else []),
        "candidate_id",
        "candidate_name",
        "candidate_country",
        "score",
        *(f"contrib_{s}" for s in SIGNALS),
        "shared_sectors",
        "related_sectors",
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
        "related_sectors",
        "known_partner",
        "why",
    ]


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)

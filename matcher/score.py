"""Score stage: pure, vectorised signal functions over all European x Canadian pairs at once.

Each function takes plain arrays (rows = European profiles, columns = Canadian profiles in the
result) and returns a float32 matrix in [0, 1]. No model, no I/O, no loop over pairs.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import sparse
from scipy.linalg.blas import sgemm  # imported here so that blocked_top_k's BLAS thread limit covers it

from matcher._checks import ParamChecks, is_int, is_number, shape_of
from matcher.errors import ParameterError

__all__ = [
    "SIGNALS",
    "FusedScorer",
    "cosine_similarity",
    "declared_interest",
    "fuse",
    "language_overlap",
    "lexical_similarity",
    "normalize_rows",
    "sector_overlap",
]

# The signals, in the order they are reported, with the label shown in explanations.
SIGNALS: Mapping[str, str] = {
    "sector": "sector overlap",
    "semantic": "semantic similarity",
    "lexical": "lexical similarity",
    "language": "shared working language",
    "interest": "declared interest",
}
# Value of the language signal when the only shared languages are lingua francas.
COMMON_ONLY = 0.5
# Weight of the fine-sector part of the sector signal; the priority-area part gets the rest.
FINE_SHARE = 2.0 / 3.0


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (all-zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def _pair_shapes(what: str, **pairs: tuple) -> None:
    """Each (left, right) pair: 2-D matrices with the same number of columns."""
    checks = ParamChecks(what)
    for name, (left, right) in pairs.items():
        ls, rs = shape_of(left), shape_of(right)
        if checks.require(len(ls) == 2 and len(rs) == 2, f"{what}: {name} must be two 2-D matrices; got shapes {ls} and {rs}"):
            checks.require(ls[1] == rs[1], f"{what}: {name} must have the same number of columns on both sides; got {ls[1]} and {rs[1]}")
    checks.done()


def cosine_similarity(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Cosine similarity of every left row with every right row, clipped to [0, 1]."""
    _pair_shapes("cosine_similarity", rows=(left, right))
    sim = normalize_rows(left) @ normalize_rows(right).T
    return np.clip(sim, 0.0, 1.0, out=sim)


def sector_overlap(eu_fine: np.ndarray, ca_fine: np.ndarray, eu_area: np.ndarray, ca_area: np.ndarray) -> np.ndarray:
    """Sector overlap graded by the taxonomy: same fine sector > same priority area > none.

    ``2/3 * cosine(fine sector sets) + 1/3 * cosine(priority-area sets)``: two profiles with the
    same single sector score 1, profiles sharing only a priority area at most 1/3, others 0.
    """
    _pair_shapes("sector_overlap", fine_sectors=(eu_fine, ca_fine), areas=(eu_area, ca_area))
    fine = cosine_similarity(eu_fine, ca_fine)
    area = cosine_similarity(eu_area, ca_area)
    return (FINE_SHARE * fine + (1.0 - FINE_SHARE) * area).astype(np.float32)


def lexical_similarity(eu_tfidf: sparse.spmatrix | np.ndarray, ca_tfidf: sparse.spmatrix | np.ndarray) -> np.ndarray:
    """Cosine of TF-IDF rows (the rows are expected L2-normalised, as scikit-learn makes them)."""
    _pair_shapes("lexical_similarity", tfidf=(eu_tfidf, ca_tfidf))
    prod = eu_tfidf @ ca_tfidf.T
    dense = prod.toarray() if sparse.issparse(prod) else np.asarray(prod)
    return np.clip(dense, 0.0, 1.0).astype(np.float32)


def language_overlap(eu_lang: np.ndarray, ca_lang: np.ndarray, common: np.ndarray | None = None) -> np.ndarray:
    """Shared working language: 1 when the two share a language that is not a lingua franca,
    ``COMMON_ONLY`` when they share only a lingua franca (``common`` marks those columns, e.g.
    English, which almost every cluster lists), 0 when they share none.
    """
    _pair_shapes("language_overlap", languages=(eu_lang, ca_lang))
    eu_lang = np.asarray(eu_lang, dtype=np.float32)
    ca_lang = np.asarray(ca_lang, dtype=np.float32)
    if common is None:
        common = np.zeros(eu_lang.shape[1], dtype=bool)
    common = np.asarray(common, dtype=bool)
    if common.shape != (eu_lang.shape[1],):
        raise ParameterError(f"language_overlap: common must mark each of the {eu_lang.shape[1]} language columns; got shape {common.shape}")
    any_shared = (eu_lang @ ca_lang.T) > 0
    own_shared = (eu_lang[:, ~common] @ ca_lang[:, ~common].T) > 0
    return np.where(own_shared, 1.0, np.where(any_shared, COMMON_ONLY, 0.0)).astype(np.float32)


def declared_interest(eu_targets_ca: np.ndarray, eu_country: np.ndarray, ca_targets: np.ndarray) -> np.ndarray:
    """Half a point per direction in which a side has declared the other as a target.

    ``eu_targets_ca``: 0/1 per European profile (it, or its partnership, targets Canada);
    ``eu_country``: one-hot country per European profile; ``ca_targets``: 0/1 per Canadian profile
    and country (it targets that European country).
    """
    checks = ParamChecks("declared_interest")
    n_eu, country, targets = len(np.asarray(eu_targets_ca).reshape(-1)), shape_of(eu_country), shape_of(ca_targets)
    if checks.require(len(country) == 2 and len(targets) == 2, f"declared_interest: eu_country and ca_targets must be 2-D; got shapes {country} and {targets}"):
        checks.require(country[0] == n_eu, f"declared_interest: eu_country must have one row per European profile ({n_eu}); got {country[0]}")
        checks.require(country[1] == targets[1], f"declared_interest: eu_country and ca_targets must have the same country columns; got {country[1]} and {targets[1]}")
    checks.done()
    eu_part = 0.5 * np.asarray(eu_targets_ca, dtype=np.float32)[:, None]
    ca_part = 0.5 * (eu_country @ ca_targets.T)
    return (eu_part + ca_part).astype(np.float32)


def fuse(signals: Mapping[str, np.ndarray], weights: Mapping[str, float], bias: float = 0.0) -> np.ndarray:
    """Weighted sum ``bias + sum_k w_k * signal_k``; the score explanations decompose."""
    names = [n for n in SIGNALS if n in signals]
    checks = ParamChecks("fuse")
    if checks.require(bool(names), f"fuse needs at least one of the signals {', '.join(SIGNALS)}; got {sorted(map(str, signals))}"):
        shapes = {n: shape_of(signals[n]) for n in names}
        checks.require(len(set(shapes.values())) == 1, f"fuse needs signal matrices of one shape; got {shapes}")
    for name in names:
        w = weights.get(name, 0.0)
        checks.require(is_number(w), f"fuse: the weight of {name!r} must be a finite number; got {w!r}")
    checks.require(is_number(bias), f"fuse: bias must be a finite number; got {bias!r}")
    checks.done()
    total = np.full_like(signals[names[0]], bias, dtype=np.float64)
    for name in names:
        total += float(weights.get(name, 0.0)) * signals[name].astype(np.float64)
    return total


class FusedScorer:
    """The fused score, block by block, for corpora too large for one matrix per signal.

    Gives the same values as :func:`fuse` over the five signal functions above (a test checks it),
    computing a block of rows at a time so memory stays flat as sizes grow. Each block costs the
    semantic matrix product (the weight folded into the rows, then clipped), one more product for
    the features many pairs share, and one compiled pass for the rest: shared language through
    bit masks, declared interest through a per-country row, and the sparse features (fine sectors,
    rare lexical terms) through an inverted index. A feature column goes to the product when the
    share of pairs holding it on both sides exceeds ``dense_density``, where a dense product costs
    less than visiting those pairs one by one.
    """

    def __init__(
        self,
        weights: Mapping[str, float],
        bias: float,
        eu_emb: np.ndarray,
        ca_emb: np.ndarray,
        eu_fine: np.ndarray,
        ca_fine: np.ndarray,
        eu_area: np.ndarray,
        ca_area: np.ndarray,
        eu_lang: np.ndarray,
        ca_lang: np.ndarray,
        eu_lex,
        ca_lex,
        eu_targets_ca: np.ndarray,
        eu_country: np.ndarray,
        ca_targets: np.ndarray,
        lang_common: np.ndarray | None = None,
        dense_density: float = 0.01,
        block_cols: int = 2048,
    ) -> None:
        _check_scorer(weights, bias, dense_density, block_cols, eu_emb, ca_emb, eu_fine, ca_fine, eu_area, ca_area, eu_lang, ca_lang, eu_lex, ca_lex, eu_targets_ca, eu_country, ca_targets, lang_common)
        w = {name: float(weights.get(name, 0.0)) for name in SIGNALS}
        self.bias = float(bias)
        self.w = w
        self.dense_density = dense_density
        # clip(w * cos, 0, w) == w * clip(cos, 0, 1) for w >= 0: the weight is folded into the rows.
        self.eu_emb = w["semantic"] * normalize_rows(eu_emb)
        ca_emb_t = normalize_rows(ca_emb).T
        n_eu, n_ca = self.eu_emb.shape[0], ca_emb_t.shape[1]
        self.shape = (n_eu, n_ca)

        # Linear features: weight on the European side, split between the dense product and the
        # inverted index by how many pairs share each column.
        eu_parts = [
            w["sector"] * FINE_SHARE * normalize_rows(eu_fine),
            w["sector"] * (1 - FINE_SHARE) * normalize_rows(eu_area),
            w["lexical"] * sparse.csr_matrix(eu_lex, dtype=np.float32),
        ]
        ca_parts = [normalize_rows(ca_fine), normalize_rows(ca_area), sparse.csr_matrix(ca_lex, dtype=np.float32)]
        eu_feat = sparse.hstack([sparse.csc_matrix(x, dtype=np.float32) for x in eu_parts], format="csc")
        ca_feat = sparse.hstack([sparse.csc_matrix(x, dtype=np.float32) for x in ca_parts], format="csc")
        eu_feat.eliminate_zeros()
        density = (np.diff(eu_feat.indptr) / max(n_eu, 1)) * (np.diff(ca_feat.indptr) / max(n_ca, 1))
        dense = np.flatnonzero(density > dense_density)
        rare = np.flatnonzero((density <= dense_density) & (density > 0))
        self.eu_dense = np.ascontiguousarray(eu_feat[:, dense].toarray(), dtype=np.float32)
        eu_rare = eu_feat[:, rare].tocsr()
        self.eu_rare = (eu_rare.indptr.astype(np.int64), eu_rare.indices.astype(np.int64), eu_rare.data.astype(np.float32))
        ca_dense = ca_feat[:, dense].toarray().astype(np.float32)
        ca_rare = ca_feat[:, rare].tocsr()

        # Shared working language: one bit per language; lingua francas count COMMON_ONLY.
        n_lang = np.asarray(eu_lang).shape[1]
        common = np.zeros((1, n_lang)) if lang_common is None else np.asarray(lang_common, dtype=float)[None, :]
        mask_type = next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64) if np.iinfo(t).bits >= n_lang)  # narrow = faster pass
        self.eu_lang, ca_lang_mask = _bitmask(eu_lang).astype(mask_type), _bitmask(ca_lang).astype(mask_type)
        self.own_langs = mask_type(~_bitmask(common)[0] & np.uint64(np.iinfo(mask_type).max))
        self.w_lang = (np.float32(w["language"]), np.float32(w["language"] * COMMON_ONLY))

        # Declared interest: half a point for a European profile targeting Canada (with the bias, a
        # per-row constant), half for a Canadian profile targeting its country (a row per pattern).
        flag = np.asarray(eu_targets_ca, dtype=np.float64)
        self.row_const = (w["interest"] * 0.5 * flag + self.bias).astype(np.float32)
        country = np.asarray(eu_country, dtype=np.float32).reshape(n_eu, -1)
        if country.shape[1] == 0 or n_eu == 0:
            patterns, eu_pattern = np.zeros((1, country.shape[1]), np.float32), np.zeros(n_eu, np.int64)
        else:
            patterns, eu_pattern = np.unique(country, axis=0, return_inverse=True)
        self.eu_target_pattern = eu_pattern.reshape(-1).astype(np.int64)
        target_tab = (w["interest"] * 0.5 * (patterns @ np.asarray(ca_targets, dtype=np.float32).T)).astype(np.float32)

        # The Canadian side cut into column tiles, each laid out as its kernel and BLAS want it.
        self.block_cols = block_cols
        self.column_tiles = [slice(c, min(c + block_cols, n_ca)) for c in range(0, n_ca, block_cols)] or [slice(0, 0)]
        self._tiles = {}
        for cols in self.column_tiles:
            postings = ca_rare[cols].tocsc()
            self._tiles[cols.start] = (
                np.ascontiguousarray(ca_emb_t[:, cols]),
                np.asfortranarray(ca_dense[cols]),
                np.ascontiguousarray(ca_lang_mask[cols]),
                np.ascontiguousarray(target_tab[:, cols]),
                (postings.indptr.astype(np.int64), postings.indices.astype(np.int64), postings.data.astype(np.float32)),
            )

    def score_into(self, rows: slice, cols: slice, out: np.ndarray) -> None:
        """Write the fused scores of a slice of European rows against one of ``column_tiles`` into
        ``out`` (float32, C-contiguous, ``rows`` by ``cols`` long)."""
        from matcher import _kernels

        emb_t, dense, lang, target_tab, postings = self._tiles[cols.start]
        np.matmul(self.eu_emb[rows], emb_t, out=out)
        np.clip(out, 0.0, self.w["semantic"], out=out)
        if self.eu_dense.shape[1]:
            # Accumulate into ``out`` (BLAS beta=1), seen column-major as its transpose.
            res = sgemm(1.0, dense, self.eu_dense[rows].T, beta=1.0, c=out.T, overwrite_c=True)
            if not np.shares_memory(res, out):  # pragma: no cover - BLAS copied instead of accumulating
                out[...] = res.T
        _kernels.add_row_terms(
            out, rows.start or 0, self.row_const, self.eu_lang, lang, self.own_langs, *self.w_lang,
            target_tab, self.eu_target_pattern, *self.eu_rare, *postings,
        )

    def __call__(self, rows: slice) -> np.ndarray:
        """Fused scores of a slice of European rows against every Canadian column (float32)."""
        start, stop, _ = rows.indices(self.shape[0])
        n = max(stop - start, 0)
        out = np.empty((n, self.shape[1]), dtype=np.float32)
        for cols in self.column_tiles:
            tile = np.empty((n, cols.stop - cols.start), dtype=np.float32)
            self.score_into(slice(start, start + n), cols, tile)
            out[:, cols] = tile
        return out

    def top_k(self, k: int, block_rows: int = 256, columns: bool = True, n_jobs: int | None = -1):
        """Exact top-k in both directions (see :func:`matcher.rank.blocked_top_k`), all cores by default."""
        from matcher.rank import blocked_top_k

        return blocked_top_k(self, self.shape[0], self.shape[1], k, block_rows=block_rows, columns=columns, n_jobs=n_jobs)


def _check_scorer(weights, bias, dense_density, block_cols, eu_emb, ca_emb, eu_fine, ca_fine, eu_area, ca_area, eu_lang, ca_lang, eu_lex, ca_lex, eu_targets_ca, eu_country, ca_targets, lang_common) -> None:
    """Every problem of FusedScorer's parameters, raised together."""
    checks = ParamChecks("FusedScorer")
    unknown = sorted(set(map(str, weights)) - set(SIGNALS))
    checks.require(not unknown, f"FusedScorer: unknown signal(s) {unknown} in weights; allowed signals: {', '.join(SIGNALS)}")
    w = {name: weights.get(name, 0.0) for name in SIGNALS}
    checks.require(all(is_number(v) and v >= 0 for v in w.values()), f"FusedScorer needs non-negative weights; got {w}")
    checks.require(is_number(bias), f"FusedScorer: bias must be a finite number; got {bias!r}")
    checks.require(is_number(dense_density) and 0 <= dense_density <= 1, f"dense_density must be a number in [0, 1]; got {dense_density!r}")
    checks.require(is_int(block_cols) and block_cols >= 1, f"block_cols must be a positive int; got {block_cols!r}")
    eu = {"eu_emb": eu_emb, "eu_fine": eu_fine, "eu_area": eu_area, "eu_lang": eu_lang, "eu_lex": eu_lex, "eu_country": eu_country}
    ca = {"ca_emb": ca_emb, "ca_fine": ca_fine, "ca_area": ca_area, "ca_lang": ca_lang, "ca_lex": ca_lex, "ca_targets": ca_targets}
    shapes = {k: shape_of(v) for k, v in (*eu.items(), *ca.items())}
    flat = [k for k, s in shapes.items() if len(s) != 2]
    checks.require(not flat, f"FusedScorer: {', '.join(flat)} must be 2-D matrices; got shapes {[shapes[k] for k in flat]}")
    if not flat:
        for side in (eu, ca):
            rows = {k: shapes[k][0] for k in side}
            checks.require(len(set(rows.values())) == 1, f"FusedScorer: every matrix of one side needs one row per profile; got rows {rows}")
        for a, b in (("eu_emb", "ca_emb"), ("eu_fine", "ca_fine"), ("eu_area", "ca_area"), ("eu_lang", "ca_lang"), ("eu_lex", "ca_lex"), ("eu_country", "ca_targets")):
            checks.require(shapes[a][1] == shapes[b][1], f"FusedScorer: {a} and {b} must have the same number of columns; got {shapes[a][1]} and {shapes[b][1]}")
        checks.require(shapes["eu_lang"][1] <= 64, f"at most 64 working languages are supported; got {shapes['eu_lang'][1]}")
        n_eu = shapes["eu_emb"][0]
        checks.require(np.asarray(eu_targets_ca).reshape(-1).shape == (n_eu,), f"FusedScorer: eu_targets_ca needs one value per European profile ({n_eu}); got shape {shape_of(eu_targets_ca)}")
        if lang_common is not None:
            checks.require(shape_of(lang_common) == (shapes["eu_lang"][1],), f"FusedScorer: lang_common must mark each of the {shapes['eu_lang'][1]} language columns; got shape {shape_of(lang_common)}")
    checks.done()


def _bitmask(indicator: np.ndarray) -> np.ndarray:
    """0/1 rows of up to 64 columns packed into one unsigned integer per row."""
    indicator = np.asarray(indicator) > 0
    if indicator.shape[1] > 64:
        raise ParameterError(f"at most 64 working languages are supported; got {indicator.shape[1]}")
    weights = np.left_shift(np.uint64(1), np.arange(indicator.shape[1], dtype=np.uint64))
    return (indicator.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)

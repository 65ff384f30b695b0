"""Score stage: pure, vectorised signal functions over all European x Canadian pairs at once.

Each function takes plain arrays (rows = European profiles, columns = Canadian profiles in the
result) and returns a float32 matrix in [0, 1]. No model, no I/O, no loop over pairs.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import sparse

from matcher._checks import ParamChecks, is_number, shape_of
from matcher.errors import ParameterError

__all__ = [
    "SIGNALS",
    "Scorer",
    "cosine_similarity",
    "declared_interest",
    "fuse",
    "language_overlap",
    "lexical_similarity",
    "normalize_rows",
    "related_sectors",
    "row_dots",
    "sector_overlap",
]

# The signals, in the order they are reported, with the label shown in explanations.
SIGNALS: Mapping[str, str] = {
    "sector": "sector overlap",
    "semantic": "semantic similarity",
    "lexical": "lexical similarity",
    "language": "shared working language",
    "interest": "declared interest",
    "related": "related sectors",
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


def row_dots(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``left @ right.T`` of float32 rows, multiplied in float64 and rounded once to float32.

    BLAS picks its kernel and summation order by the shapes and by where a row falls in its tiles,
    so a float32 product can differ in the last bit when the same row sits in another block, a new
    profile is appended to a side, or another CPU runs another kernel. In float64 those differences
    are about 1e-16; rounding to float32 erases them except for a value within that distance of a
    float32 rounding boundary (a few cells in 10^8): a pair's value does not depend on which other
    rows are scored with it, nor on the CPU.
    """
    out = np.asarray(left, dtype=np.float64) @ np.asarray(right, dtype=np.float64).T
    return out.astype(np.float32)


def cosine_similarity(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Cosine similarity of every left row with every right row, clipped to [0, 1]."""
    _pair_shapes("cosine_similarity", rows=(left, right))
    sim = row_dots(normalize_rows(left), normalize_rows(right))
    return np.clip(sim, 0.0, 1.0, out=sim)


def sector_overlap(eu_fine: np.ndarray, ca_fine: np.ndarray, eu_area: np.ndarray, ca_area: np.ndarray) -> np.ndarray:
    """Sector overlap graded by the taxonomy: same fine sector > same priority area > none.

    ``2/3 * cosine(fine sector sets) + 1/3 * cosine(priority-area sets)``: two profiles with the
    same single sector score 1, profiles sharing only a priority area at most 1/3, others 0.
    """
    _pair_shapes("sector_overlap", fine_sectors=(eu_fine, ca_fine), areas=(eu_area, ca_area))
    fine = cosine_similarity(eu_fine, ca_fine)
    area = cosine_similarity(eu_area, ca_area)
    out = np.multiply(fine, FINE_SHARE, out=fine)  # float32 in place: FINE_SHARE * fine + (1 - FINE_SHARE) * area, no copies
    out += (1.0 - FINE_SHARE) * area
    return out


def _share_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to sum to 1 (all-zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    sums = x.sum(axis=1, keepdims=True)
    return np.divide(x, sums, out=np.zeros_like(x), where=sums > 0)


def related_sectors(eu_fine: np.ndarray, ca_fine: np.ndarray, relatedness: np.ndarray) -> np.ndarray:
    """Complementarity: the mean documented relatedness over every (European sector, Canadian
    sector) pair of the two profiles, ``relatedness`` being a symmetric fine x fine matrix in [0, 1]
    with a zero diagonal (``corpus/related_sectors.yaml``). Only pairs of different sectors count:
    a shared sector is sector overlap's part. One aerospace profile and one IT profile whose sectors
    are linked score 1; a pair of identical single-sector profiles scores 0.
    """
    _pair_shapes("related_sectors", fine_sectors=(eu_fine, ca_fine))
    n = shape_of(eu_fine)[1]
    checks = ParamChecks("related_sectors")
    checks.require(shape_of(relatedness) == (n, n), f"related_sectors: relatedness must be a {n} x {n} matrix over the fine sectors; got shape {shape_of(relatedness)}")
    checks.done()
    ca_related = _share_rows(ca_fine).astype(np.float64) @ np.asarray(relatedness, dtype=np.float64)
    sim = row_dots(_share_rows(eu_fine), ca_related)
    return np.clip(sim, 0.0, 1.0, out=sim)


def lexical_similarity(eu_tfidf: sparse.spmatrix | np.ndarray, ca_tfidf: sparse.spmatrix | np.ndarray, ca_by_term=None) -> np.ndarray:
    """Cosine of TF-IDF rows (the rows are expected L2-normalised, as scikit-learn makes them),
    clipped to [0, 1]. Sparse rows go through one compiled pass that writes the dense block
    directly (the values of scipy's sparse product); ``ca_by_term`` is ``ca_tfidf.T`` as CSR, when
    the caller keeps it (the scorer transposes the Canadian rows once, not once per block)."""
    _pair_shapes("lexical_similarity", tfidf=(eu_tfidf, ca_tfidf))
    if sparse.issparse(eu_tfidf) and sparse.issparse(ca_tfidf):
        from matcher import _kernels

        a = sparse.csr_matrix(eu_tfidf, dtype=np.float64)
        b = ca_by_term if ca_by_term is not None else by_term(ca_tfidf)
        return _kernels.sparse_dot_clipped(a.indptr, a.indices, a.data, b.indptr, b.indices, b.data, b.shape[1])
    prod = eu_tfidf @ ca_tfidf.T
    dense = prod.toarray() if sparse.issparse(prod) else np.asarray(prod)
    return np.clip(dense, 0.0, 1.0).astype(np.float32)


def by_term(tfidf: sparse.spmatrix):
    """The transpose of TF-IDF rows as CSR (terms x rows), float64, what :func:`lexical_similarity` multiplies by."""
    return sparse.csr_matrix(tfidf, dtype=np.float64).T.tocsr()


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
    out = np.where(any_shared, np.float32(COMMON_ONLY), np.float32(0.0))  # float32 throughout: no float64 block
    out[own_shared] = 1.0
    return out


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
    from matcher import _kernels

    # bias + w * value, in float64 and in the signal order, cell by cell in one compiled pass.
    shape = np.shape(signals[names[0]])
    flat = [np.ascontiguousarray(signals[name]).reshape(-1) for name in names]
    w = np.array([float(weights.get(name, 0.0)) for name in names], dtype=np.float64)
    slots = flat + [flat[0]] * (len(SIGNALS) - len(flat))
    return _kernels.weighted_sum(float(bias), w, len(flat), *slots).reshape(shape)


# Rows and columns of every matrix product are at least this many: BLAS then takes the same kernel
# whatever the block, so a pair's score does not depend on how the rows were cut into blocks.
MIN_BLOCK = 64
# Score cells per row block (rows x candidates): memory stays flat as the corpus grows. Two million
# (16 MB of float64 scores): blocks of four million measured 0.1-0.2 s slower at 10,000 x 2,000, their
# large temporaries paged in anew for every block.
BLOCK_CELLS = 2_000_000


def _padded(x: np.ndarray, n: int = MIN_BLOCK) -> np.ndarray:
    """``x`` with zero rows appended up to ``n`` rows (the padding is sliced off the results)."""
    if x.shape[0] >= n:
        return x
    return np.vstack([x, np.zeros((n - x.shape[0], *x.shape[1:]), dtype=x.dtype)])


class Scorer:
    """The one scorer: every signal of a block of European rows against every Canadian column, and
    the fused score. Batch ranking both ways, ``Matcher.rank``/``rankings``/``pairings``/``explain``,
    ``rank_profile``, the evaluation and the benchmark all go through :meth:`signals`.

    ``eu`` and ``ca`` are :class:`~matcher.features.SideFeatures`; ``lingua_franca`` marks the
    language columns that count :data:`COMMON_ONLY`. Rows are cut into fixed blocks of
    ``block_rows`` (default: about :data:`BLOCK_CELLS` cells per block), the same for every caller.
    """

    def __init__(
        self, eu, ca, weights: Mapping[str, float], bias: float = 0.0, lingua_franca: np.ndarray | None = None,
        block_rows: int | None = None, relatedness: np.ndarray | None = None,
    ) -> None:
        _check_scorer(eu, ca, weights, bias, block_rows, relatedness)
        self.eu = eu
        self.ca = ca
        self.weights = {name: float(weights.get(name, 0.0)) for name in SIGNALS}
        self.bias = float(bias)
        n_lang = np.asarray(eu.languages).shape[1]
        self.lingua_franca = np.zeros(n_lang, dtype=bool) if lingua_franca is None else np.asarray(lingua_franca, dtype=bool)
        self.shape = (len(eu), len(ca))
        if block_rows is None:
            block_rows = max(MIN_BLOCK, BLOCK_CELLS // max(self.shape[1], 1))
        self.block_rows = int(block_rows)
        # The Canadian side, padded once for the products (see MIN_BLOCK).
        self._ca = {
            "embeddings": _padded(ca.embeddings), "fine": _padded(ca.fine), "areas": _padded(ca.areas),
            "languages": _padded(ca.languages), "lexical": ca.lexical, "targets": _padded(ca.targets),
        }
        self._ca_by_term = by_term(ca.lexical) if sparse.issparse(ca.lexical) else None
        n_fine = np.asarray(eu.fine).shape[1]
        self.relatedness = np.zeros((n_fine, n_fine), np.float32) if relatedness is None else np.asarray(relatedness, np.float32)
        # A European profile's declared interest in Canada: its target in the country column(s) Canadian profiles hold.
        self._canada = (np.asarray(ca.country).sum(axis=0) > 0).astype(np.float32)

    def blocks(self) -> list[slice]:
        """The row blocks, in order; their union is every European row."""
        n, b = self.shape[0], self.block_rows
        return [slice(s, min(s + b, n)) for s in range(0, n, b)]

    def block_of(self, row: int) -> slice:
        """The block holding European row ``row``."""
        start = (row // self.block_rows) * self.block_rows
        return slice(start, min(start + self.block_rows, self.shape[0]))

    def signals(self, rows: slice) -> dict[str, np.ndarray]:
        """Each signal (float32, ``rows`` x every Canadian column), from the formulas above."""
        eu, ca = self.eu, self._ca
        n, m = rows.stop - rows.start, self.shape[1]
        out = {
            "sector": sector_overlap(_padded(eu.fine[rows]), ca["fine"], _padded(eu.areas[rows]), ca["areas"]),
            "semantic": cosine_similarity(_padded(eu.embeddings[rows]), ca["embeddings"]),
            "lexical": lexical_similarity(eu.lexical[rows], ca["lexical"], self._ca_by_term),
            "language": language_overlap(_padded(eu.languages[rows]), ca["languages"], self.lingua_franca),
            "interest": declared_interest(_padded(eu.targets[rows]) @ self._canada, _padded(eu.country[rows]), ca["targets"]),
            "related": related_sectors(_padded(eu.fine[rows]), ca["fine"], self.relatedness),
        }
        return {name: np.ascontiguousarray(v[:n, :m]) for name, v in out.items()}

    def scores(self, rows: slice, signals: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """Fused scores (float64) of a block of rows; ``signals`` when already computed."""
        return fuse(signals if signals is not None else self.signals(rows), self.weights, self.bias)

    def signal_matrices(self) -> dict[str, np.ndarray]:
        """Every signal for every pair, block by block: dense, for the evaluation's corpus sizes."""
        parts = [self.signals(rows) for rows in self.blocks()]
        if not parts:
            return {name: np.zeros(self.shape, dtype=np.float32) for name in SIGNALS}
        return {name: np.vstack([p[name] for p in parts]) for name in SIGNALS}

    def score_matrix(self) -> np.ndarray:
        """The fused score of every pair (dense; for evaluation and tests)."""
        return fuse(self.signal_matrices(), self.weights, self.bias)


def _check_scorer(eu, ca, weights, bias, block_rows, relatedness=None) -> None:
    """Every problem of the Scorer's parameters, raised together."""
    checks = ParamChecks("Scorer")
    unknown = sorted(set(map(str, weights)) - set(SIGNALS))
    checks.require(not unknown, f"Scorer: unknown signal(s) {unknown} in weights; allowed signals: {', '.join(SIGNALS)}")
    w = {name: weights.get(name, 0.0) for name in SIGNALS}
    checks.require(all(is_number(v) and v >= 0 for v in w.values()), f"Scorer needs finite non-negative weights; got {w}")
    checks.require(is_number(bias), f"Scorer: bias must be a finite number; got {bias!r}")
    checks.require(
        block_rows is None or (not isinstance(block_rows, bool) and isinstance(block_rows, (int, np.integer)) and block_rows >= 1),
        f"block_rows must be a positive int; got {block_rows!r}",
    )
    for name in ("embeddings", "fine", "areas", "languages", "lexical"):
        a, b = shape_of(getattr(eu, name)), shape_of(getattr(ca, name))
        checks.require(len(a) == 2 and len(b) == 2 and a[1] == b[1], f"Scorer: the two sides' {name} must be matrices with the same number of columns; got shapes {a} and {b}")
    if relatedness is not None:
        n = shape_of(eu.fine)[1] if len(shape_of(eu.fine)) == 2 else None
        r = np.asarray(relatedness) if shape_of(relatedness) == (n, n) else None
        checks.require(
            r is not None and bool(np.all(np.isfinite(r))) and bool(np.all((r >= 0) & (r <= 1))) and np.array_equal(r, r.T) and not np.any(np.diag(r)),
            f"Scorer: relatedness must be a symmetric {n} x {n} matrix over the fine sectors with values in [0, 1] and a zero diagonal",
        )
    checks.done()

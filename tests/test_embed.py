"""Embed stage: cache behaviour, long-text pooling, backends and model-path errors."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import ModelError, ParameterError
from matcher.embed import EmbeddingCache, SentenceTransformerBackend, TfidfBackend, embed_documents, make_backend, split_long


class CountingBackend:
    """Deterministic fake model: a vector from the text's hash; records what it was asked to encode."""

    name = "fake"
    identity = "fake:1"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def encode(self, texts):
        self.calls.extend(texts)
        out = []
        for t in texts:
            rng = np.random.default_rng(abs(hash(t)) % (2**32))
            v = rng.normal(size=8).astype(np.float32)
            out.append(v / np.linalg.norm(v))
        return np.stack(out)


def test_cache_reencodes_only_what_changed(tmp_path):
    docs = [["Aircraft engines.", "Supply chain for SMEs."], ["Plant protein.", "Food processing."]]
    backend = CountingBackend()
    cache = EmbeddingCache(tmp_path, backend.identity)
    first, _, stats1 = embed_documents(backend, docs, cache)
    assert stats1.encoded == 4 and len(backend.calls) == 4
    backend.calls.clear()
    again, _, stats2 = embed_documents(backend, docs, cache)
    assert backend.calls == [] and stats2.cached == 4
    np.testing.assert_array_equal(first, again)
    changed = [docs[0], ["Plant protein.", "Fermentation."]]
    embed_documents(backend, changed, cache)
    assert backend.calls == ["Fermentation."]


def test_cache_is_keyed_by_model_identity(tmp_path):
    a = EmbeddingCache(tmp_path, "model-a")
    a.put("text", np.ones(3, dtype=np.float32))
    assert EmbeddingCache(tmp_path, "model-b").get("text") is None
    np.testing.assert_array_equal(a.get("text"), np.ones(3))


def test_concurrent_writers_never_leave_torn_entries(tmp_path):
    cache = EmbeddingCache(tmp_path, "m")
    vec = np.arange(4096, dtype=np.float32)
    seen_bad = []

    def writer():
        for _ in range(30):
            cache.put("same text", vec)

    def reader():
        for _ in range(200):
            got = cache.get("same text")
            if got is not None and not np.array_equal(got, vec):
                seen_bad.append(got)

    threads = [threading.Thread(target=writer) for _ in range(3)] + [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen_bad == []
    assert [p.name for p in tmp_path.rglob("*.tmp")] == []


def test_long_sentences_are_windowed_not_truncated():
    sentence = " ".join(f"w{i}" for i in range(400))
    windows = split_long(sentence, limit=150, overlap=30)
    assert [len(w.split()) for w in windows] == [150, 150, 150, 40]
    assert windows[-1].split()[-1] == "w399"
    assert split_long("short one") == ["short one"]


def test_document_vector_is_word_weighted_mean_of_pieces(tmp_path):
    backend = CountingBackend()
    docs, sents, _ = embed_documents(backend, [["one two three.", "four."]], None)
    v = backend.encode(["one two three.", "four."])
    expected = 3 * v[0] + 1 * v[1]
    np.testing.assert_allclose(docs[0], expected / np.linalg.norm(expected), rtol=1e-5)
    assert sents[0].shape == (2, 8)


def test_document_and_sentence_vectors_equal_a_loop_over_the_pieces_bit_for_bit():
    # Repeated sentences, a long one windowed into three pieces, an empty document.
    long = " ".join(f"w{i}" for i in range(300))
    docs_in = [["one two three.", "four.", "one two three."], [long, "five six."], [], ["four."]]
    backend = CountingBackend()
    docs, sents, _ = embed_documents(backend, docs_in, None)
    # The oracle: each piece added in turn, as the encoder's pieces come.
    dim = 8
    want_docs = np.zeros((len(docs_in), dim), np.float32)
    for d, sentences in enumerate(docs_in):
        want_sents = np.zeros((len(sentences), dim), np.float32)
        for s, sentence in enumerate(sentences):
            for piece in split_long(sentence):
                vec = backend.encode([piece])[0]
                want_docs[d] += np.float32(len(piece.split())) * vec
                want_sents[s] += vec
        norms = np.linalg.norm(want_sents, axis=1, keepdims=True)
        want_sents = np.divide(want_sents, norms, out=np.zeros_like(want_sents), where=norms > 0)
        assert sents[d].dtype == np.float32 and sents[d].shape == (len(sentences), dim)
        assert np.array_equal(sents[d], want_sents)
    norms = np.linalg.norm(want_docs, axis=1, keepdims=True)
    assert np.array_equal(docs, np.divide(want_docs, norms, out=np.zeros_like(want_docs), where=norms > 0))
    assert not docs[2].any()


def test_tfidf_backend_vectors_do_not_depend_on_the_blas_thread_count(bundled):
    from threadpoolctl import threadpool_limits

    texts = [p.description for p in (*bundled.eu, *bundled.ca)]
    got = []
    for threads in (1, 2, 4):
        with threadpool_limits(threads, user_api="blas"):
            got.append(TfidfBackend().fit(texts).encode(texts))
    assert all(np.array_equal(got[0], z) for z in got[1:])


def test_tfidf_backend_is_tfidf_vectorizer_and_truncated_svd_bit_for_bit(bundled):
    """The backend counts the words the lexical signal found; a plain scikit-learn pipeline on the
    same texts is the reference: the same TF-IDF rows (values and storage order) and the same vectors."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from threadpoolctl import threadpool_limits

    from matcher.features import words_of

    profiles = bundled.profiles
    texts = [p.description for p in profiles]
    ref = TfidfVectorizer(strip_accents="unicode", sublinear_tf=True, stop_words="english", dtype=np.float32)
    x = ref.fit_transform(texts)
    with threadpool_limits(1, user_api="blas"):
        svd = TruncatedSVD(n_components=128, random_state=0, algorithm="randomized", n_iter=5).fit(x)
    n = len(profiles)
    words = words_of([*texts, *(" ".join(p.keywords) for p in profiles)])
    for backend in (TfidfBackend().fit(texts), TfidfBackend().fit(texts, words=words.joined(range(n)))):
        assert sorted(backend.index_, key=backend.index_.get) == list(ref.get_feature_names_out())
        assert np.array_equal(backend.components_, svd.components_)
        pieces = [*texts[:30], "Électrique et numérique, the ocean", "nothing known here zzzz"]
        want = svd.transform(ref.transform(pieces)).astype(np.float32)
        want = want / np.linalg.norm(want, axis=1, keepdims=True)
        assert np.array_equal(backend.encode(pieces), np.nan_to_num(want))


def test_model_path_errors(tmp_path):
    with pytest.raises(ModelError, match="does not exist or is not a folder"):
        _ = SentenceTransformerBackend(tmp_path / "missing").identity
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match=r"is not a sentence-transformers folder: it has no modules.json"):
        _ = SentenceTransformerBackend(tmp_path / "empty").identity


def test_unknown_backend_lists_allowed():
    with pytest.raises(ParameterError, match=r"backend must be one of 'sentence-transformers' .*'tfidf'.*; got 'bert'"):
        make_backend("bert")


def test_tfidf_backend_vectors_are_unit_length():
    texts = ["aircraft engines and avionics", "plant protein and food", "batteries for electric vehicles", "ocean sensors"]
    z = TfidfBackend(n_components=2).fit(texts).encode(texts)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, rtol=1e-5)


@pytest.mark.slow
def test_bundled_model_loads_offline_and_encodes(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    backend = SentenceTransformerBackend()
    vecs = backend.encode(["Aircraft engines and avionics.", "Avionics and aircraft engines.", "Plant protein ingredients."])
    assert vecs.shape == (3, 384)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]
    assert backend.identity.startswith("st:all-MiniLM-L6-v2")


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 60), st.integers(1, 8), st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_add_rows_at_is_numpys_add_at_bit_for_bit(n, m, d, seed):
    """The document and sentence sums: np.add.at's additions in its order (signed zeros included)."""
    from matcher._kernels import add_rows_at

    rng = np.random.default_rng(seed)
    idx = rng.integers(0, m, n)
    rows = rng.standard_normal((n, d)).astype(np.float32) * np.float32(10.0) ** rng.integers(-30, 30, (n, 1)).astype(np.float32)
    rows[rng.random((n, d)) < 0.2] = -0.0
    want, got = np.zeros((m, d), np.float32), np.zeros((m, d), np.float32)
    np.add.at(want, idx, rows)
    add_rows_at(got, idx, rows)
    assert got.tobytes() == want.tobytes()

"""Features stage: sentences, TF-IDF weighting (checked against scikit-learn), indicator matrices."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.features import STOP_WORDS, TfidfIndex, area_matrix, sector_matrix, split_sentences, tokenize


def _split_by_regex(text: str) -> list[str]:
    """The rule as a regular expression (the previous implementation): a split at whitespace after
    . ! or ? and before an upper-case letter, digit or opening quote; abbreviations joined back."""
    import re

    abbreviations = ("e.g.", "i.e.", "etc.", "approx.", "incl.", "St.", "Dr.", "Inc.", "Ltd.", "Co.", "No.")
    out: list[str] = []
    for part in re.split(r"(?<=[.!?])\s+(?=[\"“«(A-ZÀ-ÖØ-Þ0-9])", " ".join(text.split())):
        if out and out[-1].endswith(abbreviations):
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return [p for p in (s.strip() for s in out) if p]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["a", "B", "é", "É", "Ø", "×", "Þ", "ß", "7", ".", "!", "?", " ", "  ", "\n", "\t", "\u00a0", '"', "“", "«", "(", "e.g.", "St.", "x"]), max_size=40).map("".join))
def test_split_sentences_follows_the_rule(text):
    assert split_sentences(text) == _split_by_regex(text)


def test_split_sentences_keeps_abbreviations():
    text = "It serves SMEs, e.g. Tier 2 suppliers. It was set up in 2006! Does it export? Yes."
    assert split_sentences(text) == ["It serves SMEs, e.g. Tier 2 suppliers.", "It was set up in 2006!", "Does it export?", "Yes."]


def test_tokenize_folds_accents_and_adds_bigrams():
    assert tokenize("Pôle de la Mer and the ocean") == ["pole", "de", "la", "mer", "ocean", "pole de", "de la", "la mer", "mer ocean"]


def test_tfidf_index_matches_scikit_learn():
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["Électric vehicles and batteries", "batteries for aircraft; aircraft engines", "plant protein for food", "food and drink"]
    ours = TfidfIndex().fit_transform(texts)
    ref = TfidfVectorizer(
        strip_accents="unicode", ngram_range=(1, 2), sublinear_tf=True, stop_words=sorted(STOP_WORDS), token_pattern=r"(?u)\b\w\w+\b"
    )
    theirs = ref.fit_transform(texts)
    index = TfidfIndex()
    x = index.fit_transform(texts)
    assert list(index.vocabulary_) == list(ref.get_feature_names_out())
    np.testing.assert_allclose(x.toarray(), theirs.toarray(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.toarray(), theirs.toarray(), rtol=1e-12, atol=1e-12)


def test_sector_and_area_matrices(bundled):
    tax = bundled.taxonomy
    profiles = [bundled.get("aero-montreal"), bundled.get("valorial")]
    fine = sector_matrix(profiles, tax)
    areas = area_matrix(profiles, tax)
    codes = list(tax.sectors)
    assert fine[0, codes.index("aerospace_vehicles_defence")] == 1
    assert fine.sum(axis=1).tolist() == [len(p.sectors) for p in profiles]
    assert areas[1, list(tax.areas).index("agri_food")] == 1


def _reference_counts(texts, index=None):
    """Counts of tokenize's terms, text by text (the rule term_counts must follow)."""
    from collections import Counter

    docs = [Counter(tokenize(t)) for t in texts]
    if index is None:
        vocab = sorted({tok for d in docs for tok in d})
        index = {tok: j for j, tok in enumerate(vocab)}
    else:
        vocab = None
    dense = np.zeros((len(texts), len(index)))
    for i, d in enumerate(docs):
        for tok, n in d.items():
            if tok in index:
                dense[i, index[tok]] = n
    return dense, vocab


def _same_counts(texts, index=None):
    from matcher.features import term_counts

    counts, vocab = term_counts(texts, index)
    dense, ref_vocab = _reference_counts(texts, index)
    assert vocab == ref_vocab
    assert counts.has_canonical_format and counts.dtype == np.float64
    np.testing.assert_array_equal(counts.toarray(), dense)


def test_term_counts_are_tokenize_counts_on_the_bundled_texts(bundled, monkeypatch):
    from matcher import features
    from matcher.features import lexical_text

    texts = [lexical_text(p) for p in bundled.profiles]
    _same_counts(texts)
    monkeypatch.setattr(features, "TOKEN_CHUNK", 7)  # words numbered across chunks
    _same_counts(texts)
    index = TfidfIndex().fit(texts[::2]).index_
    _same_counts(texts[1::2], index)  # unknown terms dropped


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=30), st.lists(st.sampled_from([*"ab cé\u0301ÉßİǅŉﬁⅫ①_-.'1", "the", "and", " of "]), max_size=12).map("".join)), max_size=5))
def test_term_counts_follow_tokenize_on_random_text(texts):
    _same_counts(texts)
    _same_counts(texts, {"ab": 0, "ab ab": 1, "ce": 2, "ss": 3})


def _words_as_text(words):
    return [[words.vocab[c] for c in words.codes[a:b].tolist()] for a, b in zip(words.starts[:-1].tolist(), words.starts[1:].tolist(), strict=True)]


_TEXT = st.one_of(st.text(max_size=30), st.lists(st.sampled_from([*"ab cé\u0301ÉßİǅŉﬁⅫ①_-.'1Σ", "the", "and", " of "]), max_size=12).map("".join))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_TEXT, st.lists(_TEXT, max_size=3)), max_size=5))
def test_joined_words_are_the_words_of_the_joined_texts(pairs):
    from matcher.features import words_of

    heads = [h for h, _ in pairs]
    tails = [" ".join(t) for _, t in pairs]
    words = words_of([*heads, *tails])
    n = len(pairs)
    assert _words_as_text(words.joined(range(n), range(n, 2 * n))) == _words_as_text(words_of([" ".join([h, *t]) for h, t in pairs]))
    assert _words_as_text(words.joined(range(n))) == _words_as_text(words_of(heads))


def test_counts_from_shared_words_equal_counts_from_the_texts(bundled):
    from matcher.features import FeatureSpace, lexical_text, profile_words, term_counts

    profiles = (*bundled.eu, *bundled.ca)  # FeatureSpace's row order
    descriptions, lexical = profile_words(profiles)
    assert (term_counts(None, words=descriptions)[0] != term_counts([p.description for p in profiles])[0]).nnz == 0
    a, vocab_a = term_counts([lexical_text(p) for p in profiles])
    b, vocab_b = term_counts(None, words=lexical)
    assert vocab_a == vocab_b and (a != b).nnz == 0
    x, y = FeatureSpace().fit_transform(bundled), FeatureSpace().fit_transform(bundled, words=lexical)
    assert np.array_equal(x.indptr, y.indptr) and np.array_equal(x.indices, y.indices) and np.array_equal(x.data, y.data)


def test_seen_order_is_count_vectorizers_order_of_a_rows_terms():
    from sklearn.feature_extraction.text import CountVectorizer

    from matcher.features import term_counts

    texts = ["zeta alpha beta alpha", "gamma zeta delta", "beta omega zeta alpha"]
    ref = CountVectorizer(ngram_range=(1, 2), stop_words=sorted(STOP_WORDS)).fit_transform(texts)
    counts, _, seen = term_counts(texts, seen_order=True)
    for row in range(len(texts)):
        theirs = ref.indices[ref.indptr[row] : ref.indptr[row + 1]]  # CountVectorizer's storage order
        ours = counts.indices[counts.indptr[row] : counts.indptr[row + 1]]
        assert ours[np.argsort(seen[ours], kind="stable")].tolist() == theirs.tolist()


@given(st.text(max_size=40))
def test_fold_drops_combining_marks_then_lowers(text):
    import unicodedata

    from matcher.features import _fold

    decomposed = unicodedata.normalize("NFKD", text)
    assert _fold(text) == "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _regex_words(texts):
    """The reference: each folded text's matches of the regular expression, numbered in first-seen order."""
    from matcher.features import _TOKEN, _fold

    found = [_TOKEN.findall(_fold(t)) for t in texts]
    return found, list(dict.fromkeys(w for ws in found for w in ws))


_WORDY = st.one_of(_TEXT, st.lists(st.sampled_from(["\x00", "Σ", "ΑΣ", "ab", "ba", "é", "e\u0301", "İ", "\n", "𝔘𝔫", "٣٤", "x"]), max_size=10).map("".join))


@settings(max_examples=200, deadline=None)
@given(st.lists(_WORDY, max_size=8), st.sampled_from([0xFFFFFFFFFFFFFFFF, 0x3, 0x0]), st.integers(1, 4))
def test_words_of_is_the_regular_expression_in_first_seen_order(texts, mask, chunk):
    """The compiled tokenizer against the regular expression, also when distinct words share a
    hash (``mask`` keeps 2 bits or none) and across chunks of texts."""
    from unittest import mock

    from matcher import features

    with mock.patch.object(features, "_HASH_MASK", np.uint64(mask)), mock.patch.object(features, "TOKEN_CHUNK", chunk):
        words = features.words_of(texts)
    found, vocab = _regex_words(texts)
    assert words.vocab == vocab
    assert _words_as_text(words) == found


def test_words_of_the_bundled_texts_are_the_regular_expressions(bundled):
    from matcher.features import words_of

    texts = [*(p.description for p in bundled.profiles), *(" ".join(p.keywords) for p in bundled.profiles), *(p.name for p in bundled.profiles)]
    words = words_of(texts)
    found, vocab = _regex_words(texts)
    assert words.vocab == vocab and _words_as_text(words) == found


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 9), st.sampled_from([np.float32, np.float64]), st.integers(0, 2**32 - 1))
def test_tfidf_weighting_is_scikit_learns_bit_for_bit(n_rows, n_cols, dtype, seed):
    """smooth_idf and sublinear_tfidf against TfidfTransformer(sublinear_tf=True), in both precisions, empty rows included."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfTransformer

    from matcher.features import smooth_idf, sublinear_tfidf

    rng = np.random.default_rng(seed)
    dense = rng.integers(0, 4, (n_rows, n_cols)) * (rng.random((n_rows, n_cols)) < 0.5)
    counts = sparse.csr_matrix(dense.astype(dtype))
    ref = TfidfTransformer(sublinear_tf=True).fit(counts)
    idf = smooth_idf(counts, dtype)
    assert idf.dtype == dtype and np.array_equal(idf, ref.idf_)
    ours, theirs = sublinear_tfidf(counts, idf), ref.transform(counts)
    assert ours.dtype == dtype
    assert np.array_equal(ours.indptr, theirs.indptr) and np.array_equal(ours.indices, theirs.indices) and np.array_equal(ours.data, theirs.data)
    assert np.array_equal(counts.toarray(), dense)  # the counts are left as they were


def test_english_stop_words_are_scikit_learns(monkeypatch):
    import importlib.util

    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from matcher.features import english_stop_words

    assert english_stop_words() == ENGLISH_STOP_WORDS  # read from the module file
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert english_stop_words.__wrapped__() == ENGLISH_STOP_WORDS  # the file not found: imported


def test_the_tfidf_batch_path_does_not_import_scikit_learn(tiny_corpus):
    """Fitting and ranking with the tfidf backend leave scikit-learn unimported (its import costs the batch job most of a second)."""
    import subprocess
    import sys

    code = (
        "import sys; from matcher import Matcher; m = Matcher(backend='tfidf').fit(sys.argv[1]); m.pairings(k=2); "
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'sklearn'))"
    )
    got = subprocess.run([sys.executable, "-c", code, str(tiny_corpus)], check=True, capture_output=True, text=True)
    assert got.stdout.strip() == "[]"

"""Features stage: sentences, TF-IDF weighting (checked against scikit-learn), indicator matrices."""

from __future__ import annotations

import numpy as np

from matcher.features import STOP_WORDS, TfidfIndex, area_matrix, sector_matrix, split_sentences, tokenize


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

"""Features stage: turn validated profiles into texts, sentences and indicator matrices.

Nothing here touches a model; every output is plain text or a numpy array, rows in profile order.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

import numpy as np

from matcher.corpus import EUROPEAN_COUNTRIES, Corpus, Profile, Taxonomy

__all__ = [
    "LINGUA_FRANCA",
    "STOP_WORDS",
    "TfidfIndex",
    "area_matrix",
    "country_matrix",
    "interest_inputs",
    "language_matrix",
    "lexical_text",
    "sector_matrix",
    "split_sentences",
    "tokenize",
]

# A sentence ends at . ! or ? followed by space and an upper-case letter, digit or opening quote.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“«(A-ZÀ-ÖØ-Þ0-9])")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "approx.", "incl.", "St.", "Dr.", "Inc.", "Ltd.", "Co.", "No.")


def split_sentences(text: str) -> list[str]:
    """Split a description into sentences, keeping common abbreviations intact."""
    text = " ".join(text.split())
    parts = _SENTENCE_END.split(text)
    out: list[str] = []
    for part in parts:
        if out and out[-1].endswith(_ABBREVIATIONS):
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return [p for p in (s.strip() for s in out) if p]


def lexical_text(profile: Profile) -> str:
    """Text for lexical matching: the description plus the keywords (where acronyms and product names sit)."""
    return " ".join([profile.description, *profile.keywords])


def sector_matrix(profiles: Sequence[Profile], taxonomy: Taxonomy) -> np.ndarray:
    """0/1 matrix, one row per profile, one column per fine sector code (taxonomy order)."""
    codes = {c: j for j, c in enumerate(taxonomy.sectors)}
    out = np.zeros((len(profiles), len(codes)), dtype=np.float32)
    for i, p in enumerate(profiles):
        out[i, [codes[c] for c in p.sectors]] = 1.0
    return out


def area_matrix(profiles: Sequence[Profile], taxonomy: Taxonomy) -> np.ndarray:
    """0/1 matrix, one row per profile, one column per priority area its sectors map to."""
    areas = {a: j for j, a in enumerate(taxonomy.areas)}
    out = np.zeros((len(profiles), len(areas)), dtype=np.float32)
    for i, p in enumerate(profiles):
        cols = [areas[a] for a in taxonomy.areas_of(p.sectors)]
        out[i, cols] = 1.0
    return out


# Working languages that nearly every cluster lists; sharing only these says little.
LINGUA_FRANCA = frozenset({"en"})


def language_matrix(left: Sequence[Profile], right: Sequence[Profile]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """0/1 working-language matrices for both sides over their joint language vocabulary, and a
    0/1 vector marking which of those languages are lingua francas."""
    vocab = sorted({lang for p in (*left, *right) for lang in p.languages})
    index = {lang: j for j, lang in enumerate(vocab)}

    def build(profiles: Sequence[Profile]) -> np.ndarray:
        m = np.zeros((len(profiles), len(vocab)), dtype=np.float32)
        for i, p in enumerate(profiles):
            m[i, [index[lang] for lang in p.languages]] = 1.0
        return m

    common = np.array([lang in LINGUA_FRANCA for lang in vocab], dtype=bool)
    return build(left), build(right), common


def country_matrix(profiles: Sequence[Profile], countries: Sequence[str]) -> np.ndarray:
    """One-hot country of each profile over ``countries``."""
    index = {c: j for j, c in enumerate(countries)}
    out = np.zeros((len(profiles), len(countries)), dtype=np.float32)
    for i, p in enumerate(profiles):
        out[i, index[p.country]] = 1.0
    return out


def interest_inputs(corpus: Corpus, eu: Sequence[Profile], ca: Sequence[Profile]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs of the declared-interest signal.

    Returns ``eu_targets_ca`` (one 0/1 per European profile: it or its partnership names Canada),
    ``eu_country`` (one-hot country of each European profile) and ``ca_targets`` (one 0/1 row per
    Canadian profile over the same countries: it names that country, or the EU as a whole).
    """
    countries = sorted({p.country for p in eu})
    targets = corpus.declared_targets
    eu_flag = np.array([1.0 if "CA" in targets[p.id] else 0.0 for p in eu], dtype=np.float32)
    ca_targets = np.zeros((len(ca), len(countries)), dtype=np.float32)
    for i, p in enumerate(ca):
        named = set(targets[p.id])
        if "EU" in named:
            named |= EUROPEAN_COUNTRIES
        ca_targets[i] = [1.0 if c in named else 0.0 for c in countries]
    return eu_flag, country_matrix(eu, countries), ca_targets


# A short English stop-word list (articles, pronouns, auxiliaries, prepositions, conjunctions).
STOP_WORDS = frozenset(
    ["a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours"]
)
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def _fold(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def tokenize(text: str) -> list[str]:
    """Lower-cased, accent-folded words of two or more characters, stop words dropped, plus bigrams."""
    words = [w for w in _TOKEN.findall(_fold(text)) if w not in STOP_WORDS]
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


class TfidfIndex:
    """TF-IDF rows for lexical matching: sublinear tf, smooth idf, L2-normalised rows.

    The same weighting as scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` (a test checks it),
    written with numpy and scipy only so the batch job does not pay scikit-learn's import time.
    """

    def fit_transform(self, texts: Sequence[str]):
        from scipy import sparse

        docs = [tokenize(t) for t in texts]
        vocab = sorted({tok for d in docs for tok in d})
        index = {tok: j for j, tok in enumerate(vocab)}
        rows, cols, counts = [], [], []
        for i, doc in enumerate(docs):
            tally: dict[int, int] = {}
            for tok in doc:
                j = index[tok]
                tally[j] = tally.get(j, 0) + 1
            for j, n in sorted(tally.items()):
                rows.append(i)
                cols.append(j)
                counts.append(n)
        tf = sparse.csr_matrix((np.array(counts, dtype=np.float64), (rows, cols)), shape=(len(docs), len(vocab)))
        df = np.bincount(tf.indices, minlength=len(vocab))
        idf = np.log((1 + len(docs)) / (1 + df)) + 1.0
        tf.data = 1.0 + np.log(tf.data)
        x = tf.multiply(idf[None, :]).tocsr()
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        x = sparse.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)) @ x
        self.vocabulary_ = np.array(vocab, dtype=object)
        self.idf_ = idf
        return x.tocsr()

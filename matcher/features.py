"""Features stage: turn validated profiles into texts, sentences and indicator matrices.

Nothing here touches a model; every output is plain text or a numpy array, rows in profile order.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from matcher.corpus import EUROPEAN_COUNTRIES, Corpus, Profile, Taxonomy

__all__ = [
    "LINGUA_FRANCA",
    "STOP_WORDS",
    "FeatureSpace",
    "SideFeatures",
    "TfidfIndex",
    "Words",
    "area_matrix",
    "english_stop_words",
    "lexical_text",
    "profile_words",
    "sector_matrix",
    "smooth_idf",
    "split_sentences",
    "sublinear_tfidf",
    "term_counts",
    "tokenize",
    "words_of",
]

# A sentence ends at . ! or ? followed by space and an upper-case letter, digit or opening quote.
_SENTENCE_STARTS = frozenset('"“«(0123456789' + "".join(map(chr, [*range(0x41, 0x5B), *range(0xC0, 0xD7), *range(0xD8, 0xDF)])))  # A-Z À-Ö Ø-Þ
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "approx.", "incl.", "St.", "Dr.", "Inc.", "Ltd.", "Co.", "No.")


def split_sentences(text: str) -> list[str]:
    """Split a description into sentences, keeping common abbreviations intact.

    Whitespace is first made single spaces, so a sentence ends at each ". ", "! " or "? " whose
    next character starts a sentence (found by ``str.find``, not a regular expression per position)."""
    text = " ".join(text.split())
    cuts = []  # the spaces between sentences
    for mark in (". ", "! ", "? "):
        at = text.find(mark)
        while at >= 0:
            if text[at + 2 : at + 3] in _SENTENCE_STARTS:
                cuts.append(at + 1)
            at = text.find(mark, at + 1)
    cuts.sort()
    parts = [text[a + 1 : b] for a, b in zip([-1, *cuts], [*cuts, len(text)], strict=True)]
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


def related_matrix(taxonomy: Taxonomy) -> np.ndarray:
    """Symmetric fine sector x fine sector matrix of documented relatedness (taxonomy order), zero
    on the diagonal: a same-sector pair is sector overlap's, not relatedness's."""
    codes = {c: j for j, c in enumerate(taxonomy.sectors)}
    out = np.zeros((len(codes), len(codes)), dtype=np.float32)
    for (a, b), strength in taxonomy.related.items():
        out[codes[a], codes[b]] = out[codes[b], codes[a]] = strength
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


# A short English stop-word list (articles, pronouns, auxiliaries, prepositions, conjunctions).
STOP_WORDS = frozenset(
    ["a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours"]
)
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def _fold(text: str) -> str:
    """Accents and other combining marks removed (NFKD, then the marks dropped), lower-cased."""
    if text.isascii():  # nothing to fold: NFKD leaves ASCII unchanged
        return text.lower()
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    # The marks dropped as code points (a few distinct ones, found once), then lower-cased.
    chars = np.frombuffer(decomposed.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    wide = np.unique(chars[chars > 0x7F])
    marks = [c for c in wide.tolist() if unicodedata.combining(chr(c))]
    if marks:
        decomposed = chars[~np.isin(chars, marks)].tobytes().decode("utf-32-le", "surrogatepass")
    return decomposed.lower()


def tokenize(text: str) -> list[str]:
    """Lower-cased, accent-folded words of two or more characters, stop words dropped, plus bigrams."""
    words = [w for w in _TOKEN.findall(_fold(text)) if w not in STOP_WORDS]
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


# Texts tokenized together by term_counts: the word lists of one chunk are held at a time.
TOKEN_CHUNK = 2048


@dataclass(frozen=True, eq=False)
class Words:
    """The words of some texts (:func:`tokenize`'s, before stop words and bigrams), numbered:
    text ``t``'s words are ``vocab[codes[starts[t]:starts[t + 1]]]``. Found once, they serve every
    TF-IDF over the same texts (the lexical signal's and the tfidf backend's); see :func:`words_of`."""

    vocab: list[str]  # distinct words, in first-seen order
    codes: np.ndarray  # every text's words, one text after another (int64)
    starts: np.ndarray  # len(texts) + 1 offsets into codes

    def __len__(self) -> int:
        return len(self.starts) - 1

    def joined(self, *parts: Sequence[int]) -> Words:
        """New texts, the ``t``-th made of text ``parts[0][t]``'s words, then ``parts[1][t]``'s, ...:
        the words :func:`words_of` finds in the texts joined with spaces (a space ends a word, and
        folding works character by character)."""
        rows = np.stack([np.asarray(p, dtype=np.int64).reshape(-1) for p in parts], axis=1) if parts else np.zeros((0, 0), np.int64)
        first, lens = self.starts[rows].ravel(), (self.starts[rows + 1] - self.starts[rows]).ravel()
        offsets = np.concatenate([[0], np.cumsum(lens)])
        at = np.repeat(first - offsets[:-1], lens) + np.arange(offsets[-1])
        per_text = lens.reshape(len(rows), -1).sum(axis=1) if len(rows) else np.zeros(0, np.int64)
        return Words(self.vocab, self.codes[at], np.concatenate([[0], np.cumsum(per_text)]).astype(np.int64))


# Hash bits the tokenizer keeps (all 64): a test narrows it to make distinct words share hashes.
_HASH_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _word_chars(codes: Iterable[int]) -> list[bool]:
    """Whether each code point is a word character of Python's re (``\\w``: ``str.isalnum()`` or "_")."""
    return [chr(c).isalnum() or c == 0x5F for c in codes]


# The word characters among the first 256 code points (every ASCII text's table).
_BYTE_IS_WORD = np.array(_word_chars(range(256)), dtype=bool)


def words_of(texts: Sequence[str]) -> Words:
    """The :class:`Words` of ``texts``: the matches of ``(?u)\\b\\w\\w+\\b`` in each folded text
    (:func:`tokenize`'s words), each distinct word numbered once, in first-seen order.

    A chunk of :data:`TOKEN_CHUNK` texts at a time is joined by NUL characters (a NUL inside a text
    becomes a space: neither is a word character), folded at once (folding and lower-casing work
    character by character, and a NUL stops the final-sigma rule as a space does), and read as
    code points by one compiled pass (:func:`matcher._kernels.word_spans`) that finds the runs of
    word characters and hashes them. A word's string is taken once per distinct hash; a word whose
    characters differ from the first one with its hash (a collision) is looked up by its own
    string, so the result is exact. A test checks it against the regular expression."""
    from matcher import _kernels

    word_id: dict[str, int] = {}
    words: list[str] = []
    code_parts, len_parts = [], []
    for start in range(0, len(texts), TOKEN_CHUNK):
        chunk = texts[start : start + TOKEN_CHUNK]
        joined = _fold("\x00".join(t.replace("\x00", " ") if "\x00" in t else t for t in chunk))
        if joined.isascii():
            chars, is_word = np.frombuffer(joined.encode("ascii"), dtype=np.uint8), _BYTE_IS_WORD
        else:
            chars = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            present = np.flatnonzero(_kernels.char_table(chars))
            is_word = np.zeros(int(present[-1]) + 1, dtype=bool)
            is_word[present] = _word_chars(present.tolist())
        spans, ends, hashes = _kernels.word_spans(chars, is_word, _HASH_MASK)
        group, first = _kernels.first_seen_groups(hashes)
        rep = first[group]  # each word's first word with its hash
        differ = _kernels.spans_differ(chars, spans, ends, rep)
        # New strings are met at a hash's first word or at a colliding word: number them in text order.
        code_at = np.full(len(spans), -1, dtype=np.int64)
        for t in (np.union1d(first, np.flatnonzero(differ)) if differ.any() else first).tolist():
            word = joined[spans[t] : ends[t]]
            code = word_id.get(word)
            if code is None:
                code = word_id[word] = len(words)
                words.append(word)
            code_at[t] = code
        codes = code_at[rep]
        codes[differ] = code_at[differ]
        code_parts.append(codes)
        text_of = np.searchsorted(np.flatnonzero(chars == 0), spans)  # NULs before a word: its text
        len_parts.append(np.bincount(text_of, minlength=len(chunk)).astype(np.int64))
    codes = np.concatenate(code_parts) if code_parts else np.zeros(0, np.int64)
    lens = np.concatenate(len_parts) if len_parts else np.zeros(0, np.int64)
    return Words(words, codes, np.concatenate([[0], np.cumsum(lens)]).astype(np.int64))


def profile_words(profiles: Sequence[Profile]) -> tuple[Words, Words]:
    """The :class:`Words` of each profile's description and of its :func:`lexical_text`
    (description, then keywords), from one pass of the tokenizer over descriptions and keyword lists."""
    n = len(profiles)
    words = words_of([*(p.description for p in profiles), *(" ".join(p.keywords) for p in profiles)])
    return words.joined(range(n)), words.joined(range(n), range(n, 2 * n))


def term_counts(
    texts: Sequence[str] | None, index: Mapping[str, int] | None = None, stop_words: frozenset[str] = STOP_WORDS, words: Words | None = None,
    seen_order: bool = False, bigrams: bool = True,
):
    """How often each term of :func:`tokenize` occurs in each text, without a per-token Python loop.

    Words are found by :func:`words_of` (or given as ``words``, the texts' :class:`Words`; then
    ``texts`` is not read); ``stop_words`` (default :data:`STOP_WORDS`), bigrams and counts are
    array operations. With ``index`` (term -> column) terms outside it are dropped; without, the
    vocabulary is every term seen, sorted. ``bigrams=False`` counts the words alone. Returns the
    CSR counts (float64, canonical) and the vocabulary (a list, column order); with ``seen_order``
    (and no ``index``) also each term's place in the order a scan of the texts first meets it
    (text by text, its words, then its bigrams): the order scikit-learn's ``CountVectorizer`` keeps
    a row's terms in.
    """
    counts, vocab, _, order = _count_terms(texts, index, stop_words, words, seen_order, bigrams)
    return (counts, vocab, order) if seen_order else (counts, vocab)


def _count_terms(
    texts: Sequence[str] | None, index: Mapping[str, int] | None = None, stop_words: frozenset[str] = STOP_WORDS, words: Words | None = None,
    seen_order: bool = False, bigrams: bool = True,
):
    """:func:`term_counts`, plus (without ``index``) each vocabulary term's words as columns: a
    ``len(vocab) x 2`` array, ``[-1, -1]`` for a word, the columns of its two words for a bigram;
    and (``seen_order``, without ``index``) the first-seen order, else None."""
    from scipy import sparse

    from matcher import _kernels

    found = words_of(texts) if words is None else words
    words = found.vocab
    doc = np.repeat(np.arange(len(found), dtype=np.int64), np.diff(found.starts))
    code = found.codes
    stop = np.fromiter((w in stop_words for w in words), dtype=bool, count=len(words))
    keep = ~stop[code] if len(code) else np.zeros(0, bool)
    doc, code = doc[keep], code[keep]
    # Bigrams: consecutive kept words of the same text.
    same = doc[1:] == doc[:-1] if bigrams else np.zeros(max(len(doc) - 1, 0), dtype=bool)
    n_words = max(len(words), 1)
    pairs = code[:-1][same] * n_words + code[1:][same]
    pair_of, first = _kernels.first_seen_groups(pairs.astype(np.uint64))  # distinct pairs by a hash table, not a sort
    pair_key = pairs[first]
    pair_terms = [f"{words[a]} {words[b]}" for a, b in zip((pair_key // n_words).tolist(), (pair_key % n_words).tolist(), strict=True)]
    used = np.zeros(len(words), dtype=bool)
    used[code] = True
    unigrams = [w for w, u in zip(words, used.tolist(), strict=True) if u]
    fitted = index is None
    if fitted:
        vocab = sorted([*unigrams, *pair_terms])
        index = {t: j for j, t in enumerate(vocab)}
    else:
        vocab = None
    word_col = np.full(len(words), -1, dtype=np.int64)
    word_col[used] = [index.get(w, -1) for w in unigrams]
    pair_col = np.array([index.get(b, -1) for b in pair_terms], dtype=np.int64)
    rows = np.concatenate([doc, doc[1:][same]])
    cols = np.concatenate([word_col[code], pair_col[pair_of]])
    inside = cols >= 0
    counts = sparse.csr_matrix((np.ones(int(inside.sum())), (rows[inside], cols[inside])), shape=(len(found), len(index)))
    counts.sum_duplicates()
    term_words = order = None
    if fitted:
        term_words = np.full((len(vocab), 2), -1, dtype=np.int64)
        term_words[pair_col, 0] = word_col[pair_key // n_words]
        term_words[pair_col, 1] = word_col[pair_key % n_words]
    if fitted and seen_order:
        # A text's words come before its bigrams in rows/cols, each in text order: a stable sort by text is the scan.
        scan = cols[np.argsort(rows, kind="stable")]
        terms, first = np.unique(scan, return_index=True)
        order = np.empty(len(vocab), dtype=np.int64)
        order[terms[np.argsort(first)]] = np.arange(len(terms))
    return counts, vocab, term_words, order


@functools.cache
def english_stop_words() -> frozenset[str]:
    """scikit-learn's English stop-word list (``TfidfVectorizer(stop_words="english")``), read from
    its module file without importing scikit-learn (whose import costs the batch job most of a
    second); imported the usual way where that file is not found."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("sklearn")  # locates the package without running its __init__
    path = Path(spec.origin).parent / "feature_extraction" / "_stop_words.py" if spec is not None and spec.origin else None
    if path is not None and path.is_file():
        module = importlib.util.module_from_spec(importlib.util.spec_from_file_location("matcher._sklearn_stop_words", path))
        module.__spec__.loader.exec_module(module)
        return frozenset(module.ENGLISH_STOP_WORDS)
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def smooth_idf(counts, dtype=np.float64) -> np.ndarray:
    """Smooth inverse document frequency ``log((1 + n) / (1 + df)) + 1`` of the columns of a CSR
    count matrix (``n`` rows; ``df`` the rows holding a column), computed in ``dtype`` step by
    step as scikit-learn's ``TfidfTransformer`` computes it: its ``idf_`` bit for bit."""
    df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(dtype)
    df += 1.0
    idf = np.full_like(df, counts.shape[0] + 1, dtype=dtype)
    idf /= df
    np.log(idf, out=idf)
    idf += 1.0
    return idf


def sublinear_tfidf(counts, idf: np.ndarray):
    """TF-IDF rows of a CSR count matrix: ``(1 + log tf) x idf``, rows L2-normalised
    (:func:`matcher._kernels.normalize_rows_l2`), in the counts' precision: the values of
    scikit-learn's ``TfidfTransformer(sublinear_tf=True).transform`` bit for bit. One weighting
    serves both TF-IDFs (the lexical signal's, in float64, and the tfidf backend's, in float32)."""
    from matcher import _kernels

    x = counts.tocsr(copy=True)
    np.log(x.data, out=x.data)
    x.data += 1.0
    x.data *= idf[x.indices]
    _kernels.normalize_rows_l2(x.indptr, x.data)
    return x


class TfidfIndex:
    """TF-IDF rows for lexical matching: sublinear tf, smooth idf, L2-normalised rows.

    The same weighting as scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` (a test checks it),
    written with numpy and scipy only so the batch job does not pay scikit-learn's import time.
    ``transform`` projects new texts on the fitted vocabulary and idf (unknown terms are dropped).
    Fitted: ``vocabulary_`` (terms, column order), ``index_`` (term -> column), ``idf_`` and
    ``term_words_`` (each bigram's two words as columns, ``-1`` for a word).
    """

    def fit(self, texts: Sequence[str]) -> TfidfIndex:
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: Sequence[str] | None, words: Words | None = None):
        """Fit and return the TF-IDF rows of ``texts`` (or of their :class:`Words`, when given)."""
        tf, vocab, term_words, _ = _count_terms(texts, words=words)
        self.vocabulary_ = np.array(vocab, dtype=object)
        self.term_words_ = term_words  # a bigram's two words as columns; -1 for a word (explanations' term picks)
        self.index_ = {tok: j for j, tok in enumerate(vocab)}
        self.idf_ = smooth_idf(tf)
        return sublinear_tfidf(tf, self.idf_)

    def transform(self, texts: Sequence[str]):
        """TF-IDF rows of new texts over the fitted vocabulary; the same values ``fit_transform`` gives a text it saw."""
        if not hasattr(self, "idf_"):
            from matcher.errors import NotFittedError

            raise NotFittedError("TfidfIndex is not fitted; call fit(texts) first")
        return sublinear_tfidf(term_counts(texts, self.index_)[0], self.idf_)


@dataclass(frozen=True, eq=False)
class SideFeatures:
    """Everything the signals and explanations need of one side's profiles, rows in profile order.

    Built once per side (:meth:`FeatureSpace.side`); every matrix is a plain array over the
    columns of the fitted :class:`FeatureSpace`.
    """

    profiles: tuple[Profile, ...]
    embeddings: np.ndarray  # n x dim, unit rows
    fine: np.ndarray  # n x fine sectors, 0/1
    areas: np.ndarray  # n x priority areas, 0/1
    languages: np.ndarray  # n x working languages, 0/1
    lexical: object  # n x terms, scipy CSR TF-IDF rows
    country: np.ndarray  # n x countries, one-hot
    targets: np.ndarray  # n x countries, 0/1: declared target markets
    sentences: tuple[tuple[str, ...], ...]
    sentence_vectors: tuple[np.ndarray, ...]

    def __len__(self) -> int:
        return len(self.profiles)

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.profiles]

    def lexical_row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """``(term indices, weights)`` of row ``i``'s TF-IDF vector."""
        x = self.lexical
        return x.indices[x.indptr[i] : x.indptr[i + 1]], x.data[x.indptr[i] : x.indptr[i + 1]]

    def append(self, other: SideFeatures) -> SideFeatures:
        """These rows followed by ``other``'s (same feature space)."""
        from scipy import sparse

        return SideFeatures(
            self.profiles + other.profiles,
            np.vstack([self.embeddings, other.embeddings]),
            np.vstack([self.fine, other.fine]),
            np.vstack([self.areas, other.areas]),
            np.vstack([self.languages, other.languages]),
            sparse.vstack([self.lexical, other.lexical], format="csr"),
            np.vstack([self.country, other.country]),
            np.vstack([self.targets, other.targets]),
            self.sentences + other.sentences,
            self.sentence_vectors + other.sentence_vectors,
        )


class FeatureSpace:
    """The columns every side's features share, learned from a corpus (scikit-learn style).

    ``fit`` learns the sector and area codes, the working-language vocabulary (with its lingua
    franca mask), the countries of declared interest and the TF-IDF vocabulary; ``side`` builds a
    :class:`SideFeatures` for any validated profiles, in the corpus or not.
    """

    def fit(self, corpus: Corpus) -> FeatureSpace:
        self.fit_transform(corpus)
        return self

    def fit_transform(self, corpus: Corpus, words: Words | None = None):
        """Fit on ``corpus`` and return the TF-IDF rows of its profiles (European then Canadian);
        ``words``: the :class:`Words` of their :func:`lexical_text`, when already found."""
        profiles = (*corpus.eu, *corpus.ca)
        self.taxonomy_ = corpus.taxonomy
        self.related_ = related_matrix(corpus.taxonomy)
        self.languages_ = tuple(sorted({lang for p in profiles for lang in p.languages}))
        self.lingua_franca_ = np.array([lang in LINGUA_FRANCA for lang in self.languages_], dtype=bool)
        # Countries a European profile can be from, and Canada: both directions of declared interest.
        self.countries_ = tuple(sorted(EUROPEAN_COUNTRIES | {p.country for p in corpus.eu} | {"CA"}))
        self.tfidf_ = TfidfIndex()
        return self.tfidf_.fit_transform(None if words is not None else [lexical_text(p) for p in profiles], words=words)

    def side(
        self,
        profiles: Sequence[Profile],
        targets: Sequence[Iterable[str]],
        embeddings: np.ndarray,
        sentences: Sequence[Sequence[str]],
        sentence_vectors: Sequence[np.ndarray],
        lexical=None,
    ) -> SideFeatures:
        """Features of ``profiles`` with their declared target markets, document and sentence
        vectors; ``lexical`` rows are projected on the fitted vocabulary unless given."""
        langs = {lang: j for j, lang in enumerate(self.languages_)}
        countries = {c: j for j, c in enumerate(self.countries_)}
        lang = np.zeros((len(profiles), len(langs)), dtype=np.float32)
        country = np.zeros((len(profiles), len(countries)), dtype=np.float32)
        target = np.zeros((len(profiles), len(countries)), dtype=np.float32)
        for i, (p, named) in enumerate(zip(profiles, targets, strict=True)):
            lang[i, [langs[x] for x in p.languages if x in langs]] = 1.0
            if p.country in countries:
                country[i, countries[p.country]] = 1.0
            named = set(named)
            if p.side == "ca" and "EU" in named:
                named |= EUROPEAN_COUNTRIES
            target[i, [countries[c] for c in sorted(named) if c in countries]] = 1.0
        if lexical is None:
            lexical = self.tfidf_.transform([lexical_text(p) for p in profiles])
        lexical = lexical.tocsr()
        if not lexical.has_sorted_indices:  # explanations intersect rows by merging sorted term indices
            lexical = lexical.sorted_indices()
        return SideFeatures(
            tuple(profiles),
            np.asarray(embeddings, dtype=np.float32),
            sector_matrix(profiles, self.taxonomy_),
            area_matrix(profiles, self.taxonomy_),
            lang,
            lexical,
            country,
            target,
            tuple(tuple(s) for s in sentences),
            tuple(sentence_vectors),
        )

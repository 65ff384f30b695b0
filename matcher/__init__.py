"""matcher: rank and explain partnerships between European and Canadian cluster organisations.

Library use::

    import matcher
    corpus = matcher.load_corpus()             # the bundled profiles
    m = matcher.Matcher().fit(corpus)
    m.rank("aero-montreal", k=10)              # DataFrame of European candidates
    m.explain("skywin", "aero-montreal")       # contributions that add up to the score
"""

from matcher.corpus import Corpus, Partnership, Profile, Taxonomy, corpus_stats, load_corpus, write_profiles_csv
from matcher.engine import Matcher
from matcher.errors import (
    CorpusError,
    GoldError,
    MatcherError,
    ModelError,
    NotFittedError,
    OutputError,
    ParameterError,
    ParticipantsError,
    ResourceError,
    RunFolderError,
    SolverError,
    UnknownIdError,
    WeightsError,
)
from matcher.explain import Explanation
from matcher.gold import GoldPair, load_gold

__version__ = "0.1.0"

__all__ = [
    "Corpus",
    "CorpusError",
    "Explanation",
    "GoldError",
    "GoldPair",
    "Matcher",
    "MatcherError",
    "ModelError",
    "NotFittedError",
    "OutputError",
    "ParameterError",
    "ParticipantsError",
    "Partnership",
    "Profile",
    "ResourceError",
    "RunFolderError",
    "SolverError",
    "Taxonomy",
    "UnknownIdError",
    "WeightsError",
    "corpus_stats",
    "load_corpus",
    "load_gold",
    "write_profiles_csv",
]

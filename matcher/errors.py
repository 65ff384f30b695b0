"""The one exception family: every error the library raises on purpose is a ``MatcherError``.

Each class also derives from the built-in that fits it, so callers can catch either.
"""

from __future__ import annotations

__all__ = [
    "CorpusError",
    "GoldError",
    "MatcherError",
    "ModelError",
    "NotFittedError",
    "OutputError",
    "ParameterError",
    "ParticipantsError",
    "ResourceError",
    "RunFolderError",
    "SolverError",
    "UnknownIdError",
    "WeightsError",
]


class MatcherError(Exception):
    """Base class of every error raised by matcher."""


class CorpusError(MatcherError, ValueError):
    """A corpus, taxonomy or partnership file is malformed or fails validation.

    ``problems`` holds one :class:`matcher.corpus.Problem` per issue found.
    """

    def __init__(self, message: str, problems: tuple = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class GoldError(CorpusError):
    """A gold file of known agreements is malformed or names unknown or same-side ids."""


class ParameterError(MatcherError, ValueError):
    """A parameter has a value outside what is allowed."""


class WeightsError(ParameterError):
    """A weights file (or mapping) is malformed: ``problems`` holds one :class:`matcher.corpus.Problem` per issue."""

    def __init__(self, message: str, problems: tuple = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class UnknownIdError(MatcherError, LookupError):
    """A profile id is not in the corpus."""


class ModelError(MatcherError, OSError):
    """An embedding model path is missing or is not a sentence-transformers folder."""


class NotFittedError(MatcherError, AttributeError):
    """A method needs ``fit`` to have been called first."""


class OutputError(MatcherError, OSError):
    """An output folder or file cannot be written."""


class RunFolderError(MatcherError, FileNotFoundError):
    """A batch-run folder lacks a file a later step (such as the HTML report) needs."""


class ResourceError(MatcherError, FileNotFoundError):
    """A bundled resource (corpus, gold files, model weights) is missing from the installation."""


class ParticipantsError(CorpusError):
    """An event's participant list is malformed or names unknown ids: ``problems`` holds one
    :class:`matcher.corpus.Problem` per issue found."""


class SolverError(MatcherError, RuntimeError):
    """The optimisation solver did not return the exact plan it should (a solver failure, not bad input)."""

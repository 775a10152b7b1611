"""Exception and warning hierarchy of lpengine.

Every exception also subclasses the matching builtin, so ``except ValueError``
keeps working for callers that do not know lpengine's types.
"""

from __future__ import annotations

__all__ = [
    "LPEngineError",
    "InvalidNetworkError",
    "InvalidDomainError",
    "InvalidProblemError",
    "InvalidOptionError",
    "BackendNotAvailable",
    "SolverError",
    "IncompleteCountError",
    "CheckpointError",
    "LPEngineWarning",
    "InaccurateSolutionWarning",
    "IterationLimitWarning",
    "AmbiguousPatternWarning",
    "RankDeficiencyWarning",
]


class LPEngineError(Exception):
    """Base class of every error raised by lpengine."""


class InvalidNetworkError(LPEngineError, ValueError):
    """A network's weights or biases are malformed (shape, dtype, NaN/inf, empty layer)."""


class InvalidDomainError(LPEngineError, ValueError):
    """An input domain (box or polytope) is malformed or empty."""


class InvalidProblemError(LPEngineError, ValueError):
    """A problem file or problem specification is malformed; the message names the field."""


class InvalidOptionError(LPEngineError, ValueError):
    """An option was rejected by a solver backend or by lpengine itself."""


class BackendNotAvailable(LPEngineError, ImportError):
    """The requested LP backend cannot be imported on this machine."""


class SolverError(LPEngineError, RuntimeError):
    """The LP backend crashed or returned something that cannot be interpreted."""


class IncompleteCountError(LPEngineError, RuntimeError):
    """An exact count was asked for, but the enumeration did not finish or left patterns undecided.

    ``result`` holds the partial :class:`~lpengine.regions.RegionEnumeration`
    (its ``count_lower``, ``count_upper`` and ``undecided_patterns``).
    """

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result


class CheckpointError(LPEngineError, ValueError):
    """A checkpoint file cannot be resumed: missing, not a checkpoint, another format version, or another search."""


class LPEngineWarning(UserWarning):
    """Base class of lpengine's warnings."""


class InaccurateSolutionWarning(LPEngineWarning):
    """An LP reported optimal, but its recomputed residual exceeds the tolerance."""


class IterationLimitWarning(LPEngineWarning):
    """An iterative method stopped at its iteration, region or time budget."""


class AmbiguousPatternWarning(LPEngineWarning):
    """A pre-activation lies within the activation tolerance of zero."""


class RankDeficiencyWarning(LPEngineWarning):
    """A design matrix is rank deficient: some coefficients are aliased and held at zero."""

"""The LP layer: every LP in lpengine goes through here.

>>> from lpengine.lp import LinearProgram, solve
>>> res = solve(LinearProgram(c=[1.0, 1.0], A=[[1.0, 2.0]], row_lower=[2.0], col_lower=0.0))
>>> res.status.value, round(res.fun, 9)
('optimal', 1.0)
"""

from __future__ import annotations

from typing import Any

from ..tolerances import Tolerances
from .backends import available_backends, get_backend
from .backends.base import LPBackend, WarmSolver
from .problem import LinearProgram
from .result import BasisStatus, LPBasis, LPCounters, LPResult, LPStatus

__all__ = [
    "LinearProgram",
    "LPResult",
    "LPStatus",
    "LPBasis",
    "BasisStatus",
    "LPCounters",
    "LPBackend",
    "WarmSolver",
    "solve",
    "open_solver",
    "available_backends",
    "get_backend",
]


def solve(
    lp: LinearProgram, *, backend: Any = "highs", options: dict[str, Any] | None = None, tol: Tolerances | None = None
) -> LPResult:
    """Solve one LP with the named backend."""
    return get_backend(backend).solve(lp, options=options, tol=tol)


def open_solver(
    lp: LinearProgram, *, backend: Any = "highs", options: dict[str, Any] | None = None, tol: Tolerances | None = None
) -> WarmSolver:
    """Open a persistent solver on ``lp`` (a context manager) for hot re-solves."""
    return get_backend(backend).open(lp, options=options, tol=tol)

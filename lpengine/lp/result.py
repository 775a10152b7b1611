"""LP results: status enum, result dataclass, basis snapshot, counters."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["LPStatus", "LPResult", "LPBasis", "LPCounters", "BasisStatus"]


class LPStatus(enum.Enum):
    """Outcome of an LP solve.  Infeasible and unbounded are answers, not errors."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    #: The solver stopped at the ``objective_bound`` option: the optimum is proven no better than it.
    OBJECTIVE_BOUND = "objective_bound"
    ITERATION_LIMIT = "iteration_limit"
    TIME_LIMIT = "time_limit"
    #: Reported optimal, but the recomputed residual exceeds ``Tolerances.feasibility``.
    INACCURATE = "inaccurate"
    ERROR = "error"


class BasisStatus(enum.IntEnum):
    """Status of a column or row in a simplex basis (lpengine's own codes)."""

    LOWER = 0
    BASIC = 1
    UPPER = 2
    ZERO = 3
    NONBASIC = 4


@dataclass(frozen=True)
class LPBasis:
    """A simplex basis snapshot: one :class:`BasisStatus` code per column and row."""

    col_status: NDArray[np.int8]
    row_status: NDArray[np.int8]


@dataclass(frozen=True)
class LPResult:
    """Result of one LP solve (field names follow ``scipy.optimize.OptimizeResult``).

    Attributes
    ----------
    x : ndarray, shape (n,) or None
        Primal solution (``None`` unless a primal point is available).
    fun : float
        Objective value at ``x`` (``nan`` when there is none).
    status : LPStatus
    success : bool
        True iff ``status is LPStatus.OPTIMAL``.
    message : str
        Human-readable status including the backend's native code.
    nit : int
        Simplex iterations of this solve.
    row_activity : ndarray, shape (m,) or None
        ``A @ x``.
    row_duals, col_duals : ndarray or None
        Dual values (HiGHS sign convention: for a minimisation, the dual of an
        active lower bound is >= 0).
    farkas : ndarray, shape (m,) or None
        For infeasible LPs when the backend provides one: a dual ray ``y`` that
        certifies infeasibility (``y @ A`` with row bounds gives a contradiction).
    residual : float
        Recomputed largest primal bound/row violation at ``x``.
    """

    x: NDArray[np.float64] | None
    fun: float
    status: LPStatus
    message: str
    nit: int = 0
    row_activity: NDArray[np.float64] | None = None
    row_duals: NDArray[np.float64] | None = None
    col_duals: NDArray[np.float64] | None = None
    farkas: NDArray[np.float64] | None = None
    residual: float = float("nan")

    @property
    def success(self) -> bool:
        """True iff the LP was solved to optimality within tolerance."""
        return self.status is LPStatus.OPTIMAL


@dataclass
class LPCounters:
    """Running totals of LP work (mutable; one per solver or enumeration)."""

    solves: int = 0
    iterations: int = 0
    seconds: float = 0.0
    by_status: dict[str, int] = field(default_factory=dict)

    def record(self, status: LPStatus, nit: int, seconds: float) -> None:
        """Add one solve."""
        self.solves += 1
        self.iterations += int(nit)
        self.seconds += seconds
        self.by_status[status.value] = self.by_status.get(status.value, 0) + 1

    def merge(self, other: LPCounters) -> None:
        """Add another counter's totals to this one."""
        self.solves += other.solves
        self.iterations += other.iterations
        self.seconds += other.seconds
        for k, v in other.by_status.items():
            self.by_status[k] = self.by_status.get(k, 0) + v

"""The one canonical LP form used everywhere in lpengine.

    minimise    c @ x + offset
    subject to  row_lower <= A @ x <= row_upper
                col_lower <=     x <= col_upper

``A`` is stored as ``scipy.sparse.csc_array`` (HiGHS's native column-wise
layout).  ``+-inf`` bounds are allowed; they become ``kHighsInf`` only inside
the HiGHS backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from .._validation import check_array
from ..exceptions import InvalidProblemError

__all__ = ["LinearProgram"]


def _bounds(value: Any, n: int, name: str, default: float) -> NDArray[np.float64]:
    if value is None:
        return np.full(n, default)
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise InvalidProblemError(f"{name} has shape {arr.shape}; expected ({n},).")
    if np.any(np.isnan(arr)):
        raise InvalidProblemError(f"{name} contains NaN.")
    return arr


@dataclass(frozen=True, eq=False, init=False)
class LinearProgram:
    """A linear program in lpengine's canonical form (see module docstring).

    Parameters
    ----------
    c : array_like, shape (n,)
        Objective coefficients (finite).
    A : array_like or sparse, shape (m, n), optional
        Constraint matrix; omitted means no rows.
    row_lower, row_upper : array_like, shape (m,), optional
        Row bounds (default ``-inf`` / ``+inf``).
    col_lower, col_upper : array_like, shape (n,), optional
        Variable bounds (default ``-inf`` / ``+inf``: free variables).
    offset : float
        Constant added to the objective.

    Examples
    --------
    >>> lp = LinearProgram(c=[1.0, 1.0], A=[[1.0, 2.0]], row_lower=[2.0], col_lower=0.0)
    >>> lp.n_cols, lp.n_rows
    (2, 1)
    """

    # The fields hold the validated, frozen values; the constructor also takes array_like and None (the
    # defaults), hence an explicit __init__ whose parameter types differ from the field types.
    c: NDArray[np.float64]
    A: sp.csc_array
    row_lower: NDArray[np.float64]
    row_upper: NDArray[np.float64]
    col_lower: NDArray[np.float64]
    col_upper: NDArray[np.float64]
    offset: float

    def __init__(
        self,
        c: ArrayLike,
        A: ArrayLike | sp.sparray | sp.spmatrix | None = None,
        row_lower: ArrayLike | None = None,
        row_upper: ArrayLike | None = None,
        col_lower: ArrayLike | None = None,
        col_upper: ArrayLike | None = None,
        offset: float = 0.0,
    ) -> None:
        cv = check_array(c, "c", ndim=1, error=InvalidProblemError, allow_empty=True)
        n = cv.shape[0]
        if A is None:
            Am = sp.csc_array((0, n), dtype=np.float64)
        elif sp.issparse(A):
            Am = sp.csc_array(A, dtype=np.float64)
        else:
            dense = np.asarray(A, dtype=np.float64)
            if dense.size == 0 and dense.ndim != 2:
                dense = dense.reshape(0, n)  # ``A=[]``: no rows (a 2-D empty array keeps its row count)
            Am = sp.csc_array(check_array(dense, "A", ndim=2, error=InvalidProblemError, allow_empty=True))
        if Am.shape[1] != n:
            raise InvalidProblemError(f"A has shape {Am.shape}; expected (m, {n}) to match c.")
        if Am.nnz and not np.all(np.isfinite(Am.data)):
            raise InvalidProblemError("A contains NaN or inf.")
        Am.sum_duplicates()
        Am.sort_indices()
        m = Am.shape[0]
        rl = _bounds(row_lower, m, "row_lower", -np.inf)
        ru = _bounds(row_upper, m, "row_upper", np.inf)
        cl = _bounds(col_lower, n, "col_lower", -np.inf)
        cu = _bounds(col_upper, n, "col_upper", np.inf)
        for lo, hi, name in ((rl, ru, "row"), (cl, cu, "col")):
            bad = np.flatnonzero(lo > hi)
            if bad.size:
                i = int(bad[0])
                raise InvalidProblemError(f"{name}_lower[{i}] = {lo[i]} exceeds {name}_upper[{i}] = {hi[i]}.")
        for name, arr in (("c", cv), ("row_lower", rl), ("row_upper", ru), ("col_lower", cl), ("col_upper", cu)):
            arr = np.array(arr, copy=True)
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "A", Am)
        object.__setattr__(self, "offset", float(offset))

    @property
    def n_cols(self) -> int:
        """Number of variables."""
        return int(self.c.shape[0])

    @property
    def n_rows(self) -> int:
        """Number of constraint rows."""
        return int(self.A.shape[0])

    def objective(self, x: NDArray[np.float64]) -> float:
        """``c @ x + offset``."""
        return float(self.c @ x + self.offset)

    def residual(self, x: NDArray[np.float64]) -> float:
        """Largest violation of any row or column bound at ``x`` (0 when feasible)."""
        x = np.asarray(x, dtype=np.float64)
        viol = 0.0
        if x.size:
            viol = max(viol, float(np.max(np.maximum(self.col_lower - x, 0.0), initial=0.0)))
            viol = max(viol, float(np.max(np.maximum(x - self.col_upper, 0.0), initial=0.0)))
        if self.n_rows:
            ax = self.A @ x
            viol = max(viol, float(np.max(np.maximum(self.row_lower - ax, 0.0))))
            viol = max(viol, float(np.max(np.maximum(ax - self.row_upper, 0.0))))
        return viol

"""Backend protocols: a backend solves one LP, or opens a warm solver for many."""

from __future__ import annotations

import abc
import warnings
from dataclasses import replace
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...exceptions import InaccurateSolutionWarning
from ...tolerances import Tolerances
from ..checks import ModelData, certify_infeasible, review_optimal
from ..problem import LinearProgram
from ..result import LPBasis, LPCounters, LPResult, LPStatus

__all__ = ["LPBackend", "WarmSolver", "no_column_result", "check_answer", "MirroredSolver", "OneShotSolve"]

#: Largest ``m * n`` for which :meth:`ModelMirror.matrix` keeps a dense copy of ``A``
#: (200k entries, 1.6 MB): beyond it the checks use the sparse matrix.
DENSE_CHECK_LIMIT = 200_000


@runtime_checkable
class WarmSolver(Protocol):
    """One persistent solver instance whose model is edited in place between solves.

    Edits keep the current basis wherever the backend allows, so a re-solve
    after a bound or cost change is a hot start.  Use as a context manager.
    """

    counters: LPCounters

    @property
    def n_rows(self) -> int: ...

    @property
    def n_cols(self) -> int: ...

    def solve(
        self,
        *,
        objective_bound: float | None = None,
        time_limit: float | None = None,
        iteration_limit: int | None = None,
    ) -> LPResult: ...

    def set_row_bounds(self, idx: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> None: ...

    def set_col_bounds(self, idx: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> None: ...

    def set_cost(self, c: ArrayLike, offset: float | None = None) -> None: ...

    def set_coefficient(self, row: int, col: int, value: float) -> None: ...

    def add_rows(self, A: Any, lower: ArrayLike, upper: ArrayLike) -> None: ...

    def delete_rows(self, idx: ArrayLike) -> None: ...

    def get_basis(self) -> LPBasis | None: ...

    def set_basis(self, basis: LPBasis | None) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> WarmSolver: ...

    def __exit__(self, *exc: object) -> None: ...


@runtime_checkable
class LPBackend(Protocol):
    """A way of solving :class:`LinearProgram` instances."""

    name: str

    def is_available(self) -> bool: ...

    def solve(self, lp: LinearProgram, *, options: dict[str, Any] | None = None) -> LPResult: ...

    def open(self, lp: LinearProgram, *, options: dict[str, Any] | None = None) -> WarmSolver: ...


class MirroredSolver:
    """What every warm solver of lpengine shares: its :class:`ModelMirror` ``_m``, sizes, the context manager.

    Subclasses set ``self._m`` in ``__init__`` and define :meth:`close`.
    """

    _m: ModelMirror

    @property
    def n_rows(self) -> int:
        """Current number of rows."""
        return self._m.shape[0]

    @property
    def n_cols(self) -> int:
        """Number of columns."""
        return self._m.shape[1]

    def close(self) -> None:
        """Release the solver (nothing to release by default)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class OneShotSolve(abc.ABC):
    """A backend's one-off :meth:`solve`: open a warm solver on ``lp``, solve once, close it."""

    @abc.abstractmethod
    def open(self, lp: LinearProgram, *, options: dict[str, Any] | None = None, tol: Tolerances | None = None) -> Any:
        """Open a warm solver on ``lp`` (each backend defines it)."""

    def solve(
        self, lp: LinearProgram, *, options: dict[str, Any] | None = None, tol: Tolerances | None = None
    ) -> LPResult:
        """Solve ``lp`` once."""
        with self.open(lp, options=options, tol=tol) as s:
            result: LPResult = s.solve()
            return result


def as_index(idx: ArrayLike) -> NDArray[np.int32]:
    """Indices as a 1-D int32 array (HiGHS's ``HighsInt``)."""
    return np.atleast_1d(np.asarray(idx, dtype=np.int32))


def as_values(values: ArrayLike, n: int, name: str) -> NDArray[np.float64]:
    """Broadcast ``values`` to a float64 vector of length ``n``; NaN rejected."""
    arr = np.broadcast_to(np.asarray(values, dtype=np.float64), (n,)).copy()
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name} contains NaN.")
    return arr


class ModelMirror:
    """lpengine's own copy of a warm solver's model.

    Backends apply every edit here as well as to their native model, so the
    primal residual of each answer can be recomputed independently of the
    solver, and a backend without native editing can rebuild the LP from it.
    """

    def __init__(self, lp: LinearProgram):
        import scipy.sparse as sp

        self.c = np.array(lp.c)
        self.offset = lp.offset
        self._A = sp.csr_array(lp.A, copy=True)  # edited in place: never share the caller's arrays
        self.rl, self.ru = np.array(lp.row_lower), np.array(lp.row_upper)
        self.cl, self.cu = np.array(lp.col_lower), np.array(lp.col_upper)
        self._dense: NDArray[np.float64] | None = None
        # Coefficient edits not yet written into ``_A``: (row, col) -> value, applied in one pass
        # when ``A`` is next read (a CSR matrix cannot take one new entry without a rebuild).
        self._pending: dict[tuple[int, int], float] = {}

    @property
    def A(self) -> Any:
        """The constraint matrix (CSR), with every coefficient edit applied."""
        if self._pending:
            self._apply_pending()
        return self._A

    @A.setter
    def A(self, value: Any) -> None:
        self._pending.clear()
        self._A = value
        self._dense = None

    def _apply_pending(self) -> None:
        """Write the pending edits: in place where ``A`` stores the entry, one sparse sum for new entries."""
        import scipy.sparse as sp

        A = self._A
        new: list[tuple[int, int, float]] = []
        for (i, j), v in self._pending.items():
            lo, hi = int(A.indptr[i]), int(A.indptr[i + 1])
            at = lo + np.flatnonzero(A.indices[lo:hi] == j)
            if at.size:
                A.data[at] = 0.0  # duplicate entries (non-canonical input) sum: keep one
                A.data[at[0]] = v
            elif v != 0.0:
                new.append((i, j, v))
        self._pending.clear()
        if new:
            rows, cols, vals = (np.array(t) for t in zip(*new, strict=True))
            A = sp.csr_array(A + sp.csr_array((vals, (rows, cols)), shape=A.shape))
        A.eliminate_zeros()
        self._A = A

    def matrix(self) -> Any:
        """``A`` for the post-solve checks: a cached dense copy when small, else the CSR matrix.

        Small region LPs spend more time in scipy.sparse's per-call overhead than
        in arithmetic; the dense copy is rebuilt only after an edit of ``A``.
        """
        m, n = self.shape
        if m * n > DENSE_CHECK_LIMIT:
            return self.A
        if self._dense is None:
            self._dense = self.A.toarray()
        return self._dense

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self._A.shape[0]), int(self._A.shape[1]))

    def set_row_bounds(self, i: NDArray[np.int32], lo: NDArray[np.float64], hi: NDArray[np.float64]) -> None:
        self.rl[i], self.ru[i] = lo, hi

    def set_col_bounds(self, i: NDArray[np.int32], lo: NDArray[np.float64], hi: NDArray[np.float64]) -> None:
        self.cl[i], self.cu[i] = lo, hi

    def set_cost(self, c: ArrayLike, offset: float | None) -> NDArray[np.float64]:
        cc = np.asarray(c, dtype=np.float64)
        if cc.shape != (self.shape[1],) or not np.all(np.isfinite(cc)):
            raise ValueError(f"cost must be a finite vector of length {self.shape[1]}; got shape {cc.shape}.")
        self.c = cc.copy()
        if offset is not None:
            self.offset = float(offset)
        return self.c

    def set_coefficient(self, row: int, col: int, value: float) -> None:
        """Set ``A[row, col] = value``: O(1) now, written into ``A`` when it is next read."""
        m, n = self.shape
        if not (0 <= row < m and 0 <= col < n):
            raise IndexError(f"coefficient ({row}, {col}) is outside the {m} x {n} matrix.")
        v = float(value)
        if not np.isfinite(v):
            raise ValueError(f"coefficient ({row}, {col}) must be finite; got {value!r}.")
        self._pending[(int(row), int(col))] = v
        if self._dense is not None:
            self._dense[row, col] = v

    def add_rows(
        self, A: Any, lower: ArrayLike, upper: ArrayLike
    ) -> tuple[Any, NDArray[np.float64], NDArray[np.float64]]:
        import scipy.sparse as sp

        rows = sp.csr_array(A if sp.issparse(A) else np.atleast_2d(np.asarray(A, dtype=np.float64)))
        if rows.shape[1] != self.shape[1]:
            raise ValueError(f"new rows have {rows.shape[1]} columns; expected {self.shape[1]}.")
        if rows.nnz and not np.all(np.isfinite(rows.data)):
            raise ValueError("new rows contain NaN or inf.")
        k = rows.shape[0]
        lo = as_values(lower, k, "row lower bounds")
        hi = as_values(upper, k, "row upper bounds")
        self.A = sp.vstack([self.A, rows], format="csr") if self.shape[0] else rows.copy()
        self._dense = None
        self.rl = np.concatenate([self.rl, lo])
        self.ru = np.concatenate([self.ru, hi])
        return rows, lo, hi

    def delete_rows(self, i: NDArray[np.int32]) -> None:
        keep = np.ones(self.shape[0], dtype=bool)
        keep[i] = False
        self.A = self.A[keep]
        self.rl, self.ru = self.rl[keep], self.ru[keep]
        self._dense = None

    def residual(self, x: NDArray[np.float64], ax: NDArray[np.float64] | None = None) -> float:
        """Largest bound or row violation at ``x`` (``ax = A @ x`` if already computed)."""
        viol = 0.0
        if x.size:
            viol = max(float(np.max(self.cl - x)), float(np.max(x - self.cu)), 0.0)
        if self.shape[0]:
            ax = self.matrix() @ x if ax is None else ax
            viol = max(viol, float(np.max(self.rl - ax)), float(np.max(ax - self.ru)))
        return viol

    def model_data(self) -> ModelData:
        """The model as the post-solve checks of :mod:`lpengine.lp.checks` read it."""
        return ModelData(self.c, self.matrix(), self.rl, self.ru, self.cl, self.cu)

    def to_lp(self) -> LinearProgram:
        return LinearProgram(
            c=self.c,
            A=self.A,
            row_lower=self.rl,
            row_upper=self.ru,
            col_lower=self.cl,
            col_upper=self.cu,
            offset=self.offset,
        )


def no_column_result(mirror: ModelMirror) -> LPResult:
    """The answer for a model without columns, decided directly (solvers reject or mishandle it).

    Every row's activity is 0: the model is feasible (optimal, objective ``offset``)
    iff ``row_lower <= 0 <= row_upper`` for every row; otherwise row ``i`` alone is
    a Farkas ray (``y = e_i`` if ``row_lower_i > 0``, ``-e_i`` if ``row_upper_i < 0``).
    """
    m = mirror.shape[0]
    low = np.flatnonzero(mirror.rl > 0)
    high = np.flatnonzero(mirror.ru < 0)
    if low.size or high.size:
        y = np.zeros(m)
        if low.size:
            y[int(low[0])] = 1.0
        else:
            y[int(high[0])] = -1.0
        return LPResult(None, float("nan"), LPStatus.INFEASIBLE, "infeasible (no columns: a row excludes 0)", farkas=y)
    return LPResult(
        x=np.zeros(0),
        fun=float(mirror.offset),
        status=LPStatus.OPTIMAL,
        message="optimal (no columns)",
        row_activity=np.zeros(m),
        row_duals=np.zeros(m),
        col_duals=np.zeros(0),
        residual=0.0,
    )


def check_answer(
    mirror: ModelMirror,
    answer: LPResult,
    *,
    ax: NDArray[np.float64] | None = None,
    tol: Tolerances,
    backend: Any,
    source: str,
    solver: str,
) -> LPResult:
    """Check a backend's OPTIMAL or INFEASIBLE answer against lpengine's own copy of the model.

    Shared by every backend.  OPTIMAL with a point: :func:`~lpengine.lp.checks.review_optimal`
    (primal and dual residuals).  INFEASIBLE: :func:`~lpengine.lp.checks.certify_infeasible`
    (the answer's ``farkas`` ray if it proves it, else the ray LP solved by ``backend``;
    the checked ray replaces it).  An answer that fails becomes ``INACCURATE`` with an
    :class:`InaccurateSolutionWarning` attributed to the caller of the warm solver's
    ``solve``; any other answer is returned unchanged.

    Parameters
    ----------
    mirror : ModelMirror
        The solver's model copy.
    answer : LPResult
        The backend's answer, its ``residual`` recomputed from ``mirror``.
    ax : ndarray, optional
        ``A @ x`` if already computed from ``mirror`` (never the solver's row values).
    tol : Tolerances
    backend : LPBackend
        Solves the Farkas ray LP when needed.
    source, solver : str
        The native status in words for the message (``"HiGHS kOptimal"``) and the
        solver's name for the warning (``"HiGHS"``).
    """
    x = answer.x
    if answer.status is LPStatus.OPTIMAL and x is not None:
        ax = mirror.matrix() @ x if ax is None else ax
        farkas, what = answer.farkas, "an optimal solution"
        verdict = review_optimal(mirror.model_data(), x, ax, answer.residual, answer.row_duals, answer.col_duals, tol)
    elif answer.status is LPStatus.INFEASIBLE:
        what = "infeasible"
        farkas, verdict = certify_infeasible(mirror.model_data(), answer.farkas, tol, backend)
    else:
        return answer
    if verdict is None:
        return answer if farkas is answer.farkas else replace(answer, farkas=farkas)
    # stacklevel 3: this function, the warm solver's solve(), then the caller to blame.
    warnings.warn(
        f"{solver} reported {what} but {verdict}; marked INACCURATE.", InaccurateSolutionWarning, stacklevel=3
    )
    return replace(answer, status=LPStatus.INACCURATE, message=f"inaccurate ({source}, {verdict})", farkas=farkas)

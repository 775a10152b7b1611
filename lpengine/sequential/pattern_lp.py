"""Consistency of labelled data with one closed activation cell of weight space, by one LP.

The class.  ``f_W(x) = sum_j a_j relu(w_j . x + b_j)`` with fixed non-zero
output weights ``a`` and free first-layer parameters ``W = (w_j, b_j)_j`` in
``R^{m x (n_in + 1)}``; the label is ``+1`` iff ``f_W(x) > 0``.

Regions of hypotheses.  In weight space, each sample ``i`` and unit ``j`` give
the hyperplane ``{w_j : (x_i, 1) . w_j = 0}``.  A *pattern* ``s in {0,1}^{n x m}``
names the closed cell ``C_s = {W : (2 s_ij - 1) (x_i, 1) . w_j >= 0}``; on it
``f_W(x_i) = sum_j a_j s_ij (x_i, 1) . w_j`` is *linear* in ``W`` (on the
boundary both sides give ``relu(0) = 0``).  So "some hypothesis of the region
``C_s`` is consistent" is the LP feasibility problem

    (2 s_ij - 1) (x_i, 1) . w_j >= 0                          for all i, j   (cell rows)
    sum_j a_j s_ij (x_i, 1) . w_j >= 1     if y_i = +1                       (label rows)
    sum_j a_j s_ij (x_i, 1) . w_j <= 0     if y_i = -1

with ``W`` free.  Every row is positively homogeneous in ``W`` except the
right-hand side ``1``, so by scaling ``W`` the system is feasible iff some
``W`` in ``C_s`` has ``f > 0`` on the positives and ``f <= 0`` on the
negatives: the margin ``1`` fixes a scale and loses nothing.  Feasible answers
carry a witness ``W`` (pushed as far into the cell as a bounded slack
variable allows, so rounding cannot flip its labels); infeasible ones the
Farkas ray of the LP backend, checked by :func:`verify_farkas`.

The whole class is decided cell by cell in :mod:`lpengine.sequential.consistency`.
All LPs go through :mod:`lpengine.lp`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from .._validation import check_array
from ..exceptions import InvalidOptionError, InvalidProblemError, SolverError
from ..lp import LinearProgram, LPStatus, solve
from ..tolerances import Tolerances, resolve_tolerances

__all__ = ["PatternConsistency", "check_pattern_consistency", "verify_farkas"]


def check_labelled_data(X: Any, y: Any) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
    """``X`` as a float array of shape ``(n, n_in)`` and ``y`` as int8 labels in ``{-1, +1}`` (checked)."""
    X = check_array(X, "X", ndim=2, error=InvalidProblemError)
    y_arr = np.asarray(y)
    if y_arr.shape != (X.shape[0],):
        raise InvalidProblemError(f"y has shape {y_arr.shape}; expected ({X.shape[0]},) to match X.")
    if y_arr.dtype.kind not in "iuf" or not np.all(np.abs(y_arr) == 1):
        raise InvalidProblemError("y must contain only the labels -1 and +1.")
    return X, y_arr.astype(np.int8)


def check_output_weights(output_weights: Any) -> NDArray[np.float64]:
    """The fixed output weights ``a`` as a float vector, every entry non-zero (checked)."""
    a = check_array(output_weights, "output_weights", ndim=1, error=InvalidOptionError)
    zero = np.flatnonzero(a == 0)
    if zero.size:
        raise InvalidOptionError(f"output_weights[{int(zero[0])}] is 0; expected non-zero output weights.")
    return a


def augment(X: NDArray[np.float64]) -> NDArray[np.float64]:
    """The rows ``(x_i, 1)``: inputs with a column of ones for the bias."""
    return np.hstack([X, np.ones((X.shape[0], 1))])


def verify_farkas(lp: LinearProgram, ray: NDArray[np.float64] | None, *, tol: Tolerances | None = None) -> bool:
    """Check that the row multipliers ``ray`` prove ``lp`` infeasible.

    For any feasible ``x``, ``lam^T A x >= L(lam) = sum_{lam_i > 0} lam_i lo_i +
    sum_{lam_i < 0} lam_i up_i`` (row bounds), while ``lam^T A x = r^T x <=
    U(r) = max_{col_lower <= x <= col_upper} r^T x`` with ``r = A^T lam``.  So
    ``L(lam) > U(r)`` (all bounds used finite; entries of ``r`` within
    ``tol.feasibility`` of zero count as zero) proves that no ``x`` exists.
    Both signs of ``ray`` are tried, since backends differ in their convention.

    Parameters
    ----------
    lp : LinearProgram
    ray : ndarray, shape (n_rows,) or None
        The candidate certificate (``LPResult.farkas``).
    tol : Tolerances, optional

    Returns
    -------
    bool

    Examples
    --------
    >>> lp = LinearProgram(c=[0.0], A=[[1.0], [1.0]], row_lower=[1.0, -np.inf], row_upper=[np.inf, 0.0])
    >>> verify_farkas(lp, np.array([1.0, -1.0]))
    True
    """
    t = resolve_tolerances(tol)
    if ray is None:
        return False
    lam0 = np.asarray(ray, dtype=np.float64)
    if lam0.shape != (lp.n_rows,) or not np.all(np.isfinite(lam0)):
        return False
    scale = float(np.max(np.abs(lam0), initial=0.0))
    if scale == 0.0:
        return False
    for lam in (lam0 / scale, -lam0 / scale):
        pos, neg = lam > 0, lam < 0
        lo, up = lp.row_lower[pos], lp.row_upper[neg]
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(up))):
            continue
        lower = float(lam[pos] @ lo + lam[neg] @ up)
        r = lp.A.T @ lam
        r = np.where(np.abs(r) <= t.feasibility, 0.0, r)
        bound = np.where(r > 0, lp.col_upper, np.where(r < 0, lp.col_lower, 0.0))
        if not np.all(np.isfinite(bound)):
            continue
        upper = float(r @ bound)
        if lower - upper > t.feasibility:
            return True
    return False


@dataclass(frozen=True)
class PatternConsistency:
    """Answer of one region LP (:func:`check_pattern_consistency`).

    Attributes
    ----------
    feasible : bool
        Whether some ``W`` in the closed cell ``C_s`` is consistent with the data.
    status : LPStatus
        The LP status (``OPTIMAL`` means feasible).
    message : str
        The backend's message.
    weights : ndarray, shape (width, n_in + 1) or None
        A witness ``W`` (last column: biases) when feasible.
    farkas : ndarray or None
        The backend's infeasibility ray when infeasible.
    certified : bool
        Whether the answer was checked independently: the witness reproduces
        the labels (``f >= 1 - tol`` on positives, ``f <= tol`` on negatives,
        cell rows within ``tol``) or the Farkas ray passes :func:`verify_farkas`.
    margin : float
        Robustness of the witness: the largest ``mu in [0, 1]`` found such that
        every cell row holds with slack ``mu`` and every negative sample whose
        output is not identically zero on the cell has ``f <= -mu``.  With
        ``mu > 0`` rounding cannot flip the witness's labels; ``mu = 0`` means
        the consistent networks of this cell all lie on its boundary.  ``nan``
        when infeasible.
    """

    feasible: bool
    status: LPStatus
    message: str
    weights: NDArray[np.float64] | None
    farkas: NDArray[np.float64] | None
    certified: bool
    margin: float = float("nan")


def _region_lp(
    Xa: NDArray[np.float64], y: NDArray[np.int8], pattern: NDArray[np.bool_], a: NDArray[np.float64]
) -> LinearProgram:
    """The region LP (module docstring) with one extra column ``mu in [0, 1]``, maximised.

    ``mu = 0`` gives back the plain feasibility system, so the LP is feasible
    iff the region holds a consistent network; the optimum ``mu`` measures how
    far inside the cell (and below zero on the negatives) the witness can be.
    """
    n, p = Xa.shape
    m = a.shape[0]
    # Variables: W flattened unit by unit (column j*p + k = W[j, k]), then mu.
    cell = np.zeros((n * m, m * p + 1))
    for j in range(m):
        cell[j * n : (j + 1) * n, j * p : (j + 1) * p] = Xa
    act = pattern.T.reshape(-1)  # row j*n + i  <->  (i, j)
    cell[:, -1] = np.where(act, -1.0, 1.0)  # active: z - mu >= 0; inactive: z + mu <= 0
    cell_lo = np.where(act, 0.0, -np.inf)
    cell_up = np.where(act, np.inf, 0.0)
    lab = np.zeros((n, m * p + 1))
    for j in range(m):
        lab[:, j * p : (j + 1) * p] = (a[j] * pattern[:, j])[:, None] * Xa
    # f + mu <= 0 on negatives whose output is not identically zero on the cell
    lab[:, -1] = np.where((y < 0) & pattern.any(axis=1), 1.0, 0.0)
    lab_lo = np.where(y > 0, 1.0, -np.inf)
    lab_up = np.where(y > 0, np.inf, 0.0)
    A = sp.csc_array(np.vstack([cell, lab]))
    c = np.zeros(m * p + 1)
    c[-1] = -1.0
    col_lo = np.full(m * p + 1, -np.inf)
    col_up = np.full(m * p + 1, np.inf)
    col_lo[-1], col_up[-1] = 0.0, 1.0
    return LinearProgram(
        c=c,
        A=A,
        row_lower=np.concatenate([cell_lo, lab_lo]),
        row_upper=np.concatenate([cell_up, lab_up]),
        col_lower=col_lo,
        col_upper=col_up,
    )


def _witness_ok(
    W: NDArray[np.float64],
    Xa: NDArray[np.float64],
    y: NDArray[np.int8],
    pattern: NDArray[np.bool_],
    a: NDArray[np.float64],
    t: Tolerances,
) -> bool:
    z = Xa @ W.T  # (n, m)
    scale = max(1.0, float(np.max(np.abs(W), initial=0.0)))
    slack = t.feasibility * scale
    if np.any(np.where(pattern, -z, z) > slack):
        return False
    f = np.maximum(z, 0.0) @ a
    return bool(np.all(np.where(y > 0, f >= 1.0 - slack, f <= slack)))


def solve_region(
    Xa: NDArray[np.float64],
    y: NDArray[np.int8],
    pattern: NDArray[np.bool_],
    a: NDArray[np.float64],
    backend: Any,
    t: Tolerances,
) -> PatternConsistency:
    """One region LP on augmented data ``Xa``, its answer checked (witness or Farkas ray); inputs trusted."""
    lp = _region_lp(Xa, y, pattern, a)
    res = solve(lp, backend=backend, tol=t)
    m, p = a.shape[0], Xa.shape[1]
    if res.status is LPStatus.OPTIMAL:
        assert res.x is not None  # an OPTIMAL LPResult always carries its primal point
        W = res.x[:-1].reshape(m, p)
        return PatternConsistency(
            True, res.status, res.message, W, None, _witness_ok(W, Xa, y, pattern, a, t), float(res.x[-1])
        )
    if res.status is LPStatus.INFEASIBLE:
        return PatternConsistency(
            False, res.status, res.message, None, res.farkas, verify_farkas(lp, res.farkas, tol=t)
        )
    raise SolverError(
        f"the region LP ended with status {res.status.value} ({res.message}); expected optimal or infeasible. "
        f"The data may be badly scaled."
    )


def check_pattern_consistency(
    X: Any,
    y: Any,
    pattern: Any,
    *,
    output_weights: Any,
    backend: Any = "highs",
    tol: Tolerances | None = None,
) -> PatternConsistency:
    """Decide by one LP whether a closed activation cell of weight space holds a consistent network.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_in)
        Inputs.
    y : array_like of {-1, +1}, shape (n_samples,)
        Labels.
    pattern : array_like of bool, shape (n_samples, width)
        ``pattern[i, j]``: unit ``j`` is active (pre-activation ``>= 0``) on
        sample ``i``; inactive means ``<= 0``.
    output_weights : array_like, shape (width,)
        Fixed non-zero output weights ``a``.
    backend : str, default "highs"
        LP backend name.
    tol : Tolerances, optional

    Returns
    -------
    PatternConsistency

    Raises
    ------
    InvalidProblemError
        For malformed ``X``, ``y`` or ``pattern``.
    InvalidOptionError
        For zero or malformed output weights.

    Examples
    --------
    >>> r = check_pattern_consistency([[0.0], [1.0]], [-1, 1], [[False], [True]], output_weights=[1.0])
    >>> r.feasible, r.certified
    (True, True)
    """
    t = resolve_tolerances(tol)
    X, y_arr = check_labelled_data(X, y)
    a = check_output_weights(output_weights)
    s = np.asarray(pattern)
    if s.shape != (X.shape[0], a.shape[0]) or s.dtype.kind not in "biu" or not np.all((s == 0) | (s == 1)):
        raise InvalidProblemError(
            f"pattern has shape {s.shape} and dtype {s.dtype}; expected a boolean array of shape "
            f"(n_samples, width) = ({X.shape[0]}, {a.shape[0]})."
        )
    return solve_region(augment(X), y_arr, s.astype(bool), a, backend, t)

"""Exact consistency of labelled data with a continuous class of ReLU classifiers, by LPs.

The class.  ``f_W(x) = sum_j a_j relu(w_j . x + b_j)`` with fixed non-zero
output weights ``a`` and free first-layer parameters ``W = (w_j, b_j)_j`` in
``R^{m x (n_in + 1)}``; the label is ``+1`` iff ``f_W(x) > 0``.  Labelled data
``(x_i, y_i)`` are *consistent* with the class if some ``W`` gives every
``x_i`` its label ``y_i``.

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

The whole class.  The closed cells of the full-dimensional sign vectors of
the central arrangement ``{(x_i, 1) . w = 0}`` (one arrangement, shared by all
units) cover weight space, so the data are consistent iff one of the
``(#cells)^m`` joint cells passes the LP.  :func:`decide_consistency` builds
the cells point by point (a sign vector extends by ``+`` or ``-`` when the
open cone ``(2s - 1) (x_i, 1) . w >= 1`` stays feasible) and keeps only joint
cells that pass the LP on the prefix seen so far, so it also returns the
first prefix that no network of the class fits.

All LPs go through :mod:`lpengine.lp`.
"""

from __future__ import annotations

import itertools
import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from .._validation import check_array, check_int
from ..exceptions import InvalidOptionError, InvalidProblemError, IterationLimitWarning, SolverError
from ..lp import LinearProgram, LPStatus, solve
from ..tolerances import Tolerances, resolve_tolerances

__all__ = [
    "PatternConsistency",
    "ConsistencyDecision",
    "check_pattern_consistency",
    "decide_consistency",
    "weight_space_cells",
    "verify_farkas",
]

logger = logging.getLogger(__name__)


def _check_data(X: Any, y: Any) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
    X = check_array(X, "X", ndim=2, error=InvalidProblemError)
    y_arr = np.asarray(y)
    if y_arr.shape != (X.shape[0],):
        raise InvalidProblemError(f"y has shape {y_arr.shape}; expected ({X.shape[0]},) to match X.")
    if y_arr.dtype.kind not in "iuf" or not np.all(np.abs(y_arr) == 1):
        raise InvalidProblemError("y must contain only the labels -1 and +1.")
    return X, y_arr.astype(np.int8)


def _check_output_weights(output_weights: Any) -> NDArray[np.float64]:
    a = check_array(output_weights, "output_weights", ndim=1, error=InvalidOptionError)
    zero = np.flatnonzero(a == 0)
    if zero.size:
        raise InvalidOptionError(f"output_weights[{int(zero[0])}] is 0; expected non-zero output weights.")
    return a


def _augment(X: NDArray[np.float64]) -> NDArray[np.float64]:
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


def _solve_region(
    Xa: NDArray[np.float64],
    y: NDArray[np.int8],
    pattern: NDArray[np.bool_],
    a: NDArray[np.float64],
    backend: Any,
    t: Tolerances,
) -> PatternConsistency:
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
    X, y_arr = _check_data(X, y)
    a = _check_output_weights(output_weights)
    s = np.asarray(pattern)
    if s.shape != (X.shape[0], a.shape[0]) or s.dtype.kind not in "biu" or not np.all((s == 0) | (s == 1)):
        raise InvalidProblemError(
            f"pattern has shape {s.shape} and dtype {s.dtype}; expected a boolean array of shape "
            f"(n_samples, width) = ({X.shape[0]}, {a.shape[0]})."
        )
    return _solve_region(_augment(X), y_arr, s.astype(bool), a, backend, t)


def _open_cone_feasible(rows: NDArray[np.float64], signs: NDArray[np.bool_], backend: Any, t: Tolerances) -> bool:
    """Is ``{w : (2 s_i - 1) rows_i . w > 0 for all i}`` non-empty?  (LP with right-hand side 1.)"""
    sg = np.where(signs, 1.0, -1.0)[:, None] * rows
    lp = LinearProgram(c=np.zeros(rows.shape[1]), A=sg, row_lower=np.ones(rows.shape[0]))
    res = solve(lp, backend=backend, tol=t)
    if res.status is LPStatus.OPTIMAL:
        return True
    if res.status is LPStatus.INFEASIBLE:
        return False
    raise SolverError(
        f"a cell LP ended with status {res.status.value} ({res.message}); expected optimal or infeasible."
    )


def weight_space_cells(
    X: Any, *, backend: Any = "highs", tol: Tolerances | None = None
) -> tuple[tuple[bool, ...], ...]:
    """Full-dimensional cells of the central arrangement ``{w : (x_i, 1) · w = 0}`` in ``R^{n_in + 1}``.

    Each cell is named by its sign vector (``True``: ``(x_i, 1) . w > 0``),
    listed in lexicographic order with ``False < True``.  One hidden unit's
    possible activation patterns on ``X`` are exactly these sign vectors.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_in)
    backend : str, default "highs"
    tol : Tolerances, optional

    Returns
    -------
    tuple of tuple of bool

    Notes
    -----
    For ``n_in = 1`` and distinct inputs there are exactly ``2 n`` cells (lines
    through the origin of the plane in ``n`` directions); in general at most
    ``2 sum_{k < n_in + 1} C(n - 1, k)`` (Cover 1965).

    Examples
    --------
    >>> len(weight_space_cells([[0.0], [0.5], [1.0]]))
    6
    """
    t = resolve_tolerances(tol)
    X = check_array(X, "X", ndim=2, error=InvalidProblemError)
    Xa = _augment(X)
    cells: list[tuple[bool, ...]] = [()]
    for i in range(Xa.shape[0]):
        cells = _refine_cells(cells, Xa[: i + 1], backend, t)
    return tuple(sorted(cells))


def _refine_cells(
    cells: list[tuple[bool, ...]], Xa_prefix: NDArray[np.float64], backend: Any, t: Tolerances
) -> list[tuple[bool, ...]]:
    out = []
    for c in cells:
        for s in (False, True):
            cand = c + (s,)
            if _open_cone_feasible(Xa_prefix, np.array(cand, dtype=bool), backend, t):
                out.append(cand)
    return out


@dataclass(frozen=True)
class ConsistencyDecision:
    """Answer of :func:`decide_consistency`.

    Attributes
    ----------
    consistent : bool or None
        Whether some network of the continuous class fits all labelled points;
        ``None`` if ``max_regions`` stopped the search undecided.
    first_unrealizable_step : int or None
        Smallest ``t`` such that the prefix ``0..t`` is inconsistent (``None``
        when every prefix examined is consistent).
    weights : ndarray, shape (width, n_in + 1) or None
        A witness ``W`` for the longest consistent prefix (for all points when
        ``consistent``): the one with the largest ``margin`` among the
        consistent joint cells.
    pattern : ndarray of bool, shape (n_prefix, width) or None
        The closed cell holding the witness.
    n_cells : int
        Full-dimensional cells of one unit's arrangement on the points examined.
    n_regions : int
        Joint cells ``(cell_1, ..., cell_m)`` still consistent at the end.
    lp_solves : int
        LPs solved (cell LPs plus region LPs).
    certified : bool
        Every feasible region answer was checked by its witness and every
        infeasible one by its Farkas ray.
    margin : float
        :attr:`PatternConsistency.margin` of the witness (``nan`` without one).
    """

    consistent: bool | None
    first_unrealizable_step: int | None
    weights: NDArray[np.float64] | None
    pattern: NDArray[np.bool_] | None
    n_cells: int
    n_regions: int
    lp_solves: int
    certified: bool
    margin: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "consistent": self.consistent,
            "first_unrealizable_step": self.first_unrealizable_step,
            "n_cells": self.n_cells,
            "n_regions": self.n_regions,
            "lp_solves": self.lp_solves,
            "certified": self.certified,
            "margin": None if np.isnan(self.margin) else self.margin,
            "weights": None if self.weights is None else self.weights.tolist(),
        }


def _decision(
    consistent: bool | None,
    step: int | None,
    witness: PatternConsistency | None,
    pattern: NDArray[np.bool_] | None,
    n_cells: int,
    n_regions: int,
    lp_solves: int,
    certified: bool,
) -> ConsistencyDecision:
    return ConsistencyDecision(
        consistent=consistent,
        first_unrealizable_step=step,
        weights=None if witness is None else witness.weights,
        pattern=pattern,
        n_cells=n_cells,
        n_regions=n_regions,
        lp_solves=lp_solves,
        certified=certified,
        margin=float("nan") if witness is None else witness.margin,
    )


def decide_consistency(
    X: Any,
    y: Any,
    *,
    output_weights: Any,
    max_regions: int = 100_000,
    backend: Any = "highs",
    tol: Tolerances | None = None,
) -> ConsistencyDecision:
    """Decide exactly whether labelled data fit some ReLU network of the continuous class.

    Points are taken in the given (time) order; the search stops at the first
    prefix that no network fits, which it reports.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_in)
        Inputs in time order.
    y : array_like of {-1, +1}, shape (n_samples,)
        Labels.
    output_weights : array_like, shape (width,)
        Fixed non-zero output weights ``a``; the width is their number.
    max_regions : int, default 100000
        Budget on the number of joint cells kept alive; when exceeded the
        search stops with ``consistent=None`` and an ``IterationLimitWarning``.
    backend : str, default "highs"
    tol : Tolerances, optional

    Returns
    -------
    ConsistencyDecision

    Raises
    ------
    InvalidProblemError, InvalidOptionError
        For malformed data or options.

    Notes
    -----
    Correctness: the closed joint cells of full-dimensional per-unit cells
    cover weight space and refine as points arrive, so a joint cell that fails
    on a prefix has no consistent descendant.  Cost: at most ``(#cells)^m``
    region LPs per point, with ``#cells = 2n`` for ``n_in = 1``.

    Examples
    --------
    >>> d = decide_consistency([[0.0], [0.5], [1.0]], [1, -1, 1], output_weights=[1.0])
    >>> d.consistent, d.first_unrealizable_step
    (False, 2)
    >>> decide_consistency([[0.0], [0.5], [1.0]], [1, -1, 1], output_weights=[1.0, 1.0]).consistent
    True
    """
    t = resolve_tolerances(tol)
    X, y_arr = _check_data(X, y)
    a = _check_output_weights(output_weights)
    budget = check_int(max_regions, "max_regions", low=1, error=InvalidOptionError)
    Xa = _augment(X)
    m = a.shape[0]
    n = X.shape[0]
    cells: list[tuple[bool, ...]] = [()]
    # Joint cells: tuples of per-unit sign vectors (one per unit), consistent on the prefix.
    alive: list[tuple[tuple[bool, ...], ...]] = [tuple(() for _ in range(m))]
    lp_solves = 0
    certified = True
    witness: PatternConsistency | None = None
    witness_pattern: NDArray[np.bool_] | None = None
    for i in range(n):
        prefix = Xa[: i + 1]
        new_cells = _refine_cells(cells, prefix, backend, t)
        lp_solves += 2 * len(cells)
        children: dict[tuple[bool, ...], list[tuple[bool, ...]]] = {}
        for c in new_cells:
            children.setdefault(c[:-1], []).append(c)
        next_alive = []
        last_ok: PatternConsistency | None = None
        last_pattern = None
        for joint in alive:
            for ext in itertools.product(*(children[c] for c in joint)):
                pattern = np.array(ext, dtype=bool).T  # (i + 1, m)
                ans = _solve_region(prefix, y_arr[: i + 1], pattern, a, backend, t)
                lp_solves += 1
                certified = certified and ans.certified
                if ans.feasible:
                    next_alive.append(ext)
                    if last_ok is None or ans.margin > last_ok.margin:
                        last_ok, last_pattern = ans, pattern
            if len(next_alive) > budget:
                warnings.warn(
                    f"decide_consistency kept more than max_regions = {budget} joint cells at point {i}; "
                    f"stopped undecided.",
                    IterationLimitWarning,
                    stacklevel=2,
                )
                return _decision(
                    None, None, witness, witness_pattern, len(new_cells), len(next_alive), lp_solves, certified
                )
        cells = new_cells
        logger.debug("point %d: %d cells per unit, %d consistent joint cells", i, len(cells), len(next_alive))
        if not next_alive:
            return _decision(False, i, witness, witness_pattern, len(cells), 0, lp_solves, certified)
        alive = next_alive
        witness, witness_pattern = last_ok, last_pattern
    return _decision(True, None, witness, witness_pattern, len(cells), len(alive), lp_solves, certified)

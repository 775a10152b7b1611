"""Post-solve checks shared by every backend: the answer is recomputed, never trusted.

* **Optimal.**  The primal residual (row and bound violations) and the dual
  residual: stationarity ``c = A^T y + z`` and the sign of every dual against
  the bound it sits on (HiGHS convention, minimisation: ``>= 0`` on an active
  lower bound, ``<= 0`` on an active upper bound, ``0`` where no bound is active).
* **Infeasible.**  A Farkas ray ``y`` (row multipliers) must prove it: for any
  feasible ``x``, ``y.(A x)`` lies in the range of ``y.r`` over the row box and
  ``(A^T y).x`` in the range over the column box; disjoint ranges are a
  contradiction.  When the backend gives no ray, :func:`farkas_lp` builds the
  small LP whose optimum is one.

All checks are in floating point, with the tolerances of
:class:`~lpengine.tolerances.Tolerances` (documented there); exact rational
checks live in :mod:`lpengine.lp.exact`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ..tolerances import Tolerances
from .problem import LinearProgram

__all__ = [
    "ModelData",
    "dual_violation",
    "farkas_gap",
    "farkas_lp",
    "ray_from_farkas_lp",
    "review_optimal",
    "certify_infeasible",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class ModelData:
    """The arrays of an LP as the checks read them (``A`` dense or CSR, bounds with ``+-inf``)."""

    c: NDArray[np.float64]
    A: Any
    rl: NDArray[np.float64]
    ru: NDArray[np.float64]
    cl: NDArray[np.float64]
    cu: NDArray[np.float64]

    @classmethod
    def of(cls, lp: LinearProgram) -> ModelData:
        """From a :class:`LinearProgram`."""
        return cls(lp.c, sp.csr_array(lp.A), lp.row_lower, lp.row_upper, lp.col_lower, lp.col_upper)


def _absmax(a: NDArray[np.float64]) -> float:
    """``max |a|`` (0 for an empty array); the method form, several times faster than ``np.max`` on tiny arrays."""
    return float(np.abs(a).max()) if a.size else 0.0


def _sign_violation(
    duals: NDArray[np.float64],
    vals: NDArray[np.float64],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
    feas: float,
    threshold: float,
) -> float:
    """Largest dual above ``threshold`` in size whose sign no active bound backs (0 when none).

    Only duals above the threshold can matter, and they are few (the nonbasic
    constraints), so they are inspected one by one.
    """
    worst = 0.0
    for k in np.flatnonzero(np.abs(duals) > threshold).tolist():
        v = float(duals[k])
        b = float(lo[k]) if v > 0 else float(hi[k])
        if not (np.isfinite(b) and abs(float(vals[k]) - b) <= feas * max(1.0, abs(b))):
            worst = max(worst, abs(v))
    return worst


def dual_violation(
    model: ModelData,
    x: NDArray[np.float64],
    ax: NDArray[np.float64],
    row_duals: NDArray[np.float64],
    col_duals: NDArray[np.float64],
    tol: Tolerances,
) -> float:
    """Relative dual infeasibility of a claimed optimum (0 for an exact KKT point).

    Parameters
    ----------
    model : ModelData
    x : ndarray, shape (n,)
        Primal point.
    ax : ndarray, shape (m,)
        ``A @ x`` (recomputed by the caller).
    row_duals, col_duals : ndarray, shapes (m,) and (n,)
        HiGHS sign convention: ``c = A^T y + z``.
    tol : Tolerances
        ``tol.feasibility`` decides which bounds count as active.

    Returns
    -------
    float
        ``max(|c - A^T y - z|_inf, largest wrongly signed dual) / scale`` with
        ``scale = max(1, |c|_inf, |y|_inf, |z|_inf)``; compare with ``tol.dual``.
        Wrongly signed duals smaller than ``tol.dual * scale`` are not
        inspected (they cannot exceed the threshold).
    """
    scale = max(1.0, _absmax(model.c), _absmax(row_duals), _absmax(col_duals))
    stat = model.c - col_duals
    if model.A.shape[0]:
        stat = stat - row_duals @ model.A
    worst = _absmax(stat)
    thr = tol.dual * scale
    worst = max(worst, _sign_violation(row_duals, ax, model.rl, model.ru, tol.feasibility, thr))
    worst = max(worst, _sign_violation(col_duals, x, model.cl, model.cu, tol.feasibility, thr))
    return worst / scale


def farkas_gap(model: ModelData, ray: NDArray[np.float64] | None, tol: Tolerances) -> float:
    """By how much the row multipliers ``ray`` prove the model infeasible.

    With ``y = ray / |ray|_inf`` (both signs tried, since backends differ in
    convention) and ``r = A^T y``: every feasible ``x`` has ``y.(A x) >= L`` (the
    row box) and ``r.x <= U`` (the column box), so ``L - U > 0`` proves
    infeasibility.  Entries ``|r_j| <= tol.dual`` count as zero: a float ray
    leaves round-off in ``A^T y`` that would make ``U`` infinite on a free
    column.  This is a check *within tolerance* (it proves infeasibility of
    the LP with ``A^T`` perturbed by at most ``tol.dual`` per column); the exact
    certificate is :func:`lpengine.lp.exact.check_farkas`.

    Returns
    -------
    float
        ``max(L - U)`` over the two signs, relative to ``max(1, |L|)``;
        ``-inf`` when ``ray`` is missing, zero or not finite.  Compare with
        ``tol.dual``.
    """
    if ray is None:
        return -np.inf
    y0 = np.asarray(ray, dtype=np.float64)
    if y0.shape != (model.A.shape[0],) or not np.all(np.isfinite(y0)):
        return -np.inf
    s = float(np.max(np.abs(y0), initial=0.0))
    if s == 0.0:
        return -np.inf
    y = y0 / s
    r = y @ model.A
    r = np.where(np.abs(r) <= tol.dual, 0.0, r)
    best = -np.inf
    # HiGHS's rays prove infeasibility with the sign as given; the other sign is tried only if needed.
    for sign in (1.0, -1.0):
        pos, neg = (y > 0, y < 0) if sign > 0 else (y < 0, y > 0)
        rpos, rneg = (r > 0, r < 0) if sign > 0 else (r < 0, r > 0)
        lo_b, hi_b = model.rl[pos], model.ru[neg]
        cu_b, cl_b = model.cu[rpos], model.cl[rneg]
        if not (np.all(np.isfinite(lo_b)) and np.all(np.isfinite(hi_b))):
            continue
        if not (np.all(np.isfinite(cu_b)) and np.all(np.isfinite(cl_b))):
            continue
        low = sign * float(y[pos] @ lo_b + y[neg] @ hi_b)
        up = sign * float(r[rpos] @ cu_b + r[rneg] @ cl_b)
        best = max(best, (low - up) / max(1.0, abs(low)))
        if best > tol.dual:
            break
    return best


def farkas_lp(model: ModelData) -> LinearProgram:
    """The LP whose optimum is a Farkas ray of ``model`` (when it is infeasible).

    Variables ``(u, v, p, q) >= 0``: multipliers of the finite row lower and
    upper bounds and of the finite column lower and upper bounds (those of
    infinite bounds are fixed at 0).  Rows: ``A^T (u - v) + p - q = 0`` and
    ``sum(u + v + p + q) <= 1``.  Objective: maximise
    ``rl.u - ru.v + cl.p - cu.q``.  The LP is feasible (all zero) and bounded;
    its optimum is ``> 0`` iff the model is infeasible, and then
    ``y = u - v`` is a ray (:func:`ray_from_farkas_lp`).
    """
    m, n = model.A.shape
    fin = lambda b: np.where(np.isfinite(b), b, 0.0)  # noqa: E731
    cost = -np.concatenate([fin(model.rl), -fin(model.ru), fin(model.cl), -fin(model.cu)])
    upper = np.concatenate(
        [
            np.where(np.isfinite(model.rl), np.inf, 0.0),
            np.where(np.isfinite(model.ru), np.inf, 0.0),
            np.where(np.isfinite(model.cl), np.inf, 0.0),
            np.where(np.isfinite(model.cu), np.inf, 0.0),
        ]
    )
    At = sp.csr_array(model.A.T)
    eye = sp.identity(n, format="csr")
    top = sp.hstack([At, -At, eye, -eye], format="csr")
    norm = sp.csr_array(np.ones((1, 2 * m + 2 * n)))
    A = sp.vstack([top, norm], format="csc")
    return LinearProgram(
        c=cost,
        A=A,
        row_lower=np.concatenate([np.zeros(n), [-np.inf]]),
        row_upper=np.concatenate([np.zeros(n), [1.0]]),
        col_lower=0.0,
        col_upper=upper,
    )


def ray_from_farkas_lp(model: ModelData, z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Row multipliers ``y = u - v`` from a solution ``z = (u, v, p, q)`` of :func:`farkas_lp`."""
    m = model.A.shape[0]
    return np.asarray(z[:m] - z[m : 2 * m], dtype=np.float64)


def review_optimal(
    model: ModelData,
    x: NDArray[np.float64],
    ax: NDArray[np.float64],
    residual: float,
    row_duals: NDArray[np.float64] | None,
    col_duals: NDArray[np.float64] | None,
    tol: Tolerances,
) -> str | None:
    """Why a claimed optimum fails its checks, or ``None`` if it passes.

    Primal: ``residual <= tol.feasibility * max(1, |x|_inf)``.  Dual:
    :func:`dual_violation` ``<= tol.dual``; missing duals fail.  ``ax`` is
    ``A @ x``, recomputed by the caller from its own copy of the model.
    """
    if residual > tol.feasibility * max(1.0, _absmax(x)):
        return f"the recomputed primal residual is {residual:.3g} (> feasibility tolerance {tol.feasibility:g})"
    if row_duals is None or col_duals is None:
        return "no dual solution was returned to check"
    viol = dual_violation(model, x, ax, row_duals, col_duals, tol)
    if viol > tol.dual:
        return f"the recomputed dual infeasibility is {viol:.3g} (> dual tolerance {tol.dual:g})"
    return None


def certify_infeasible(
    model: ModelData, ray: NDArray[np.float64] | None, tol: Tolerances, backend: Any
) -> tuple[NDArray[np.float64] | None, str | None]:
    """A checked Farkas ray for an "infeasible" answer: ``(ray, None)``, or ``(ray or None, reason)``.

    The backend's own ray is tried first; if it is missing or fails
    :func:`farkas_gap`, the ray LP (:func:`farkas_lp`) is solved with
    ``backend`` and its ray checked the same way.
    """
    if farkas_gap(model, ray, tol) > tol.dual:
        return ray, None
    logger.debug("infeasible answer without a checking ray; solving the Farkas ray LP")
    gap = farkas_gap(model, ray, tol)
    res = backend.solve(farkas_lp(model), tol=tol)
    if res.x is not None and res.status.value == "optimal":
        alt = ray_from_farkas_lp(model, res.x)
        alt_gap = farkas_gap(model, alt, tol)
        if alt_gap > tol.dual:
            return alt, None
        if alt_gap > gap:
            ray, gap = alt, alt_gap
    return ray, f"no Farkas ray proves it (best relative gap {gap:.3g}, needed > {tol.dual:g})"

"""Independent checks of LP answers: KKT conditions and Farkas certificates.

These helpers recompute everything from the :class:`~lpengine.lp.LinearProgram`
data with plain numpy, so a test does not trust the solver that produced the
answer.  Sign convention (HiGHS, minimisation): ``c = A.T @ row_duals + col_duals``;
the dual of an active lower bound is >= 0, of an active upper bound <= 0.
"""

from __future__ import annotations

import numpy as np

from lpengine.lp import LinearProgram, LPResult

__all__ = ["interval_of_dot", "assert_farkas_certificate", "assert_kkt", "assert_primal_feasible"]


def interval_of_dot(d: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[float, float]:
    """The range ``[min, max]`` of ``d @ v`` over the box ``lo <= v <= hi`` (inf allowed).

    Coefficients that are exactly zero contribute nothing (no ``0 * inf``).
    """
    d = np.asarray(d, dtype=np.float64)
    nz = d != 0.0
    d, lo, hi = d[nz], np.asarray(lo)[nz], np.asarray(hi)[nz]
    low = np.where(d > 0, d * lo, d * hi)
    high = np.where(d > 0, d * hi, d * lo)
    return float(np.sum(low)), float(np.sum(high))


def assert_farkas_certificate(lp: LinearProgram, y: np.ndarray, *, tol: float = 1e-7) -> None:
    """Assert that the row multipliers ``y`` prove ``lp`` infeasible.

    For any feasible ``x`` the number ``y @ (A @ x)`` equals ``(y @ A) @ x``.  The
    first lies in the range of ``y @ r`` over the row box ``[row_lower, row_upper]``,
    the second in the range of ``(y @ A) @ x`` over the column box.  If the two
    ranges are disjoint (by more than ``tol``), no feasible ``x`` exists.  The
    check is independent of the sign convention of ``y``.
    """
    y = np.asarray(y, dtype=np.float64)
    assert y.shape == (lp.n_rows,), f"Farkas ray has shape {y.shape}; expected ({lp.n_rows},)"
    assert np.all(np.isfinite(y))
    assert np.max(np.abs(y)) > 0, "Farkas ray is zero"
    scale = float(np.max(np.abs(y)))
    y = y / scale
    d = lp.A.T @ y
    # Entries of y @ A that are round-off noise are treated as exact zeros.
    d = np.where(np.abs(d) <= tol, 0.0, d)
    col_lo, col_hi = interval_of_dot(d, lp.col_lower, lp.col_upper)
    row_lo, row_hi = interval_of_dot(y, lp.row_lower, lp.row_upper)
    gap = max(col_lo - row_hi, row_lo - col_hi)
    assert gap > tol, f"not a certificate: (yA)x ranges over [{col_lo}, {col_hi}], y.r over [{row_lo}, {row_hi}]"


def assert_primal_feasible(lp: LinearProgram, x: np.ndarray, *, tol: float = 1e-7) -> None:
    """Assert ``x`` satisfies every row and column bound of ``lp`` within ``tol``."""
    assert x is not None
    assert x.shape == (lp.n_cols,)
    assert lp.residual(x) <= tol, f"primal residual {lp.residual(x)} > {tol}"


def assert_kkt(lp: LinearProgram, res: LPResult, *, tol: float = 1e-7) -> None:
    """Assert ``res`` is an optimal primal-dual pair of ``lp`` (HiGHS sign convention).

    Checks primal feasibility, stationarity ``c = A.T y + z``, the dual signs
    implied by which bounds are active (complementary slackness), and equality
    of the primal objective with the dual objective computed from the bounds.
    """
    x = res.x
    assert_primal_feasible(lp, x, tol=tol)
    y, z = res.row_duals, res.col_duals
    assert y is not None and z is not None, "no duals"
    assert y.shape == (lp.n_rows,) and z.shape == (lp.n_cols,)
    np.testing.assert_allclose(lp.A.T @ y + z, lp.c, atol=tol, rtol=0)
    r = lp.A @ x
    dual_obj = lp.offset
    for vals, duals, lo, hi in ((r, y, lp.row_lower, lp.row_upper), (x, z, lp.col_lower, lp.col_upper)):
        at_lo = np.abs(vals - lo) <= tol * np.maximum(1.0, np.abs(lo))
        at_hi = np.abs(vals - hi) <= tol * np.maximum(1.0, np.abs(hi))
        # A positive dual needs an active lower bound, a negative one an active upper bound.
        assert np.all((duals <= tol) | at_lo), f"positive dual on an inactive lower bound: {duals}"
        assert np.all((duals >= -tol) | at_hi), f"negative dual on an inactive upper bound: {duals}"
        # Dual objective: each non-negligible dual times the bound it certifies.
        bound = np.where(duals > tol, lo, np.where(duals < -tol, hi, vals))
        dual_obj += float(np.sum(duals * bound))
    assert abs(dual_obj - lp.objective(x)) <= tol * max(1.0, abs(dual_obj)), (
        f"duality gap: primal {lp.objective(x)}, dual {dual_obj}"
    )

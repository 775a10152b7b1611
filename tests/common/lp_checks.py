"""Independent checks of LP answers (KKT conditions, Farkas certificates) and the standard LPs every backend must solve.

These helpers recompute everything from the :class:`~lpengine.lp.LinearProgram`
data with plain numpy, so a test does not trust the solver that produced the
answer.  Sign convention (HiGHS, minimisation): ``c = A.T @ row_duals + col_duals``;
the dual of an active lower bound is >= 0, of an active upper bound <= 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from lpengine.lp import LinearProgram, LPResult, LPStatus

__all__ = [
    "interval_of_dot",
    "assert_farkas_certificate",
    "assert_kkt",
    "assert_primal_feasible",
    "StandardLP",
    "STANDARD_LPS",
    "assert_standard_answer",
]


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


@dataclass(frozen=True)
class StandardLP:
    """A hand-solved LP: the status and, when optimal, the exact optimum and the unique optimal point."""

    name: str
    lp: LinearProgram
    status: LPStatus
    objective: Fraction | None = None
    x: tuple[Fraction, ...] | None = None


INF = np.inf

#: Each expected value is derived by hand in the comment above the LP.
STANDARD_LPS: tuple[StandardLP, ...] = (
    # min -x - y, x + 2y <= 4, 3x + y <= 6, x, y >= 0: both rows active at (8/5, 6/5), value -14/5.
    StandardLP(
        "optimal",
        LinearProgram(c=[-1.0, -1.0], A=[[1.0, 2.0], [3.0, 1.0]], row_upper=[4.0, 6.0], col_lower=0.0),
        LPStatus.OPTIMAL,
        Fraction(-14, 5),
        (Fraction(8, 5), Fraction(6, 5)),
    ),
    # x + y >= 3 and x + y <= 1: infeasible (the rows contradict: y = (1, -1)).
    StandardLP(
        "infeasible rows",
        LinearProgram(c=[1.0, 0.0], A=[[1.0, 1.0], [1.0, 1.0]], row_lower=[3.0, -INF], row_upper=[INF, 1.0]),
        LPStatus.INFEASIBLE,
    ),
    # x + y <= -1 with x, y >= 0: infeasible through the column bounds.
    StandardLP(
        "infeasible columns",
        LinearProgram(c=[1.0, 1.0], A=[[1.0, 1.0]], row_upper=[-1.0], col_lower=0.0),
        LPStatus.INFEASIBLE,
    ),
    # min -x, x - y <= 1, x, y >= 0: the ray (1, 1) keeps the row and drives -x to -inf.
    StandardLP(
        "unbounded",
        LinearProgram(c=[-1.0, 0.0], A=[[1.0, -1.0]], row_upper=[1.0], col_lower=0.0),
        LPStatus.UNBOUNDED,
    ),
    # min -x - y, x + y <= 2, x <= 1, y <= 1 (rows), x, y >= 0: three rows active at (1, 1): degenerate.
    StandardLP(
        "degenerate",
        LinearProgram(c=[-1.0, -1.0], A=[[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]], row_upper=[2.0, 1.0, 1.0], col_lower=0.0),
        LPStatus.OPTIMAL,
        Fraction(-2),
        (Fraction(1), Fraction(1)),
    ),
    # An empty row 0 in [-1, 1] (activity 0) and min x + y s.t. x + y >= 1, x, y >= 0: value 1 (optimum not unique).
    StandardLP(
        "empty row",
        LinearProgram(
            c=[1.0, 1.0], A=[[0.0, 0.0], [1.0, 1.0]], row_lower=[-1.0, 1.0], row_upper=[1.0, INF], col_lower=0.0
        ),
        LPStatus.OPTIMAL,
        Fraction(1),
    ),
    # min x + 2y, x, y free, x - y = 1, x + y >= 3: x = 1 + y, 1 + 2y >= 3 -> y = 1, x = 2, value 4.
    StandardLP(
        "free variables, equality row",
        LinearProgram(c=[1.0, 2.0], A=[[1.0, -1.0], [1.0, 1.0]], row_lower=[1.0, 3.0], row_upper=[1.0, INF]),
        LPStatus.OPTIMAL,
        Fraction(4),
        (Fraction(2), Fraction(1)),
    ),
    # Only column bounds: min 2x - y over [2, 5] x [-1, 3] -> (2, 3), value 1.
    StandardLP(
        "no rows",
        LinearProgram(c=[2.0, -1.0], col_lower=[2.0, -1.0], col_upper=[5.0, 3.0]),
        LPStatus.OPTIMAL,
        Fraction(1),
        (Fraction(2), Fraction(3)),
    ),
    # Data that are not short decimals in binary: max x + y on x, y >= 0, x + y <= fl(1/3), x <= fl(0.1):
    # the optimum is exactly fl(1/3) (the rationals of the floats, not 1/3).
    StandardLP(
        "binary fractions",
        LinearProgram(c=[-1.0, -1.0], A=[[1.0, 1.0], [1.0, 0.0]], row_upper=[1 / 3, 0.1], col_lower=0.0),
        LPStatus.OPTIMAL,
        -Fraction(1 / 3),
    ),
)


def assert_standard_answer(case: StandardLP, res: LPResult, *, tol: float = 1e-9) -> None:
    """Assert a backend's answer to a standard LP: status, objective and point, and its certificate."""
    assert res.status is case.status, f"{case.name}: {res.message}"
    if case.status is LPStatus.OPTIMAL:
        assert case.objective is not None
        assert abs(res.fun - float(case.objective)) <= tol * max(1.0, abs(float(case.objective)))
        if case.x is not None:
            np.testing.assert_allclose(res.x, [float(v) for v in case.x], atol=tol, rtol=0)
        assert_kkt(case.lp, res)
    elif case.status is LPStatus.INFEASIBLE:
        assert res.farkas is not None, f"{case.name}: an infeasible answer must carry a checked Farkas ray"
        assert_farkas_certificate(case.lp, res.farkas)

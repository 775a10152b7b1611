"""lpengine.convex: cvxpy models checked against lpengine's exact LAD and against independent LPs (scipy HiGHS)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import linprog

from lpengine import lad
from lpengine.convex import lad_problem, lp_problem
from lpengine.exceptions import BackendNotAvailable, InvalidProblemError
from lpengine.lp import LinearProgram, solve

cp = pytest.importorskip("cvxpy")

#: cvxpy's solver here.  Not cvxpy's "HIGHS": a highspy.Highs model solved in this process leaves lpengine's own
#: HiGHS backend returning ERROR for the rest of the process (an lp-layer issue, reported), which would break
#: every later test.  Clarabel is an interior-point solver: optimal values agree to ~1e-8 relative.
SOLVER = "CLARABEL"
#: Agreement of optimal values between Clarabel and HiGHS/the exact LAD (values of order 10-100).
ATOL = 1e-5


def _data(n: int = 60, p: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (n, p))
    y = X @ np.array([1.5, -0.7, 0.2][:p]) + 0.3 + rng.standard_t(2, n)
    return X, y


def _rho_loss(X, y, beta, b, tau, c=None):
    """sum c_i rho_tau(y_i - x_i.beta - b), computed directly."""
    r = y - X @ beta - b
    c = np.ones_like(r) if c is None else c
    return float(np.sum(c * np.maximum(tau * r, (tau - 1) * r)))


def _reference_lp(X, y, tau, *, c=None, coef_bounds=(None, None)):
    """The quantile-regression LP written out by hand: [beta, b, u, v], X beta + b + u - v = y, u, v >= 0."""
    n, p = X.shape
    c = np.ones(n) if c is None else c
    cost = np.concatenate([np.zeros(p + 1), tau * c, (1 - tau) * c])
    A_eq = np.hstack([X, np.ones((n, 1)), np.eye(n), -np.eye(n)])
    bounds = [coef_bounds] * p + [(None, None)] + [(0, None)] * (2 * n)
    res = linprog(cost, A_eq=A_eq, b_eq=y, bounds=bounds, method="highs")
    assert res.status == 0
    return res.fun, res.x[:p], res.x[p]


@pytest.mark.parametrize("quantile", [0.5, 0.8])
def test_lad_problem_has_the_optimum_of_lpengines_exact_lad(quantile):
    X, y = _data()
    m = lad_problem(X, y, quantile=quantile)
    m.problem.solve(solver=SOLVER)
    ref = lad(X, y, quantile)
    assert ref.certified
    # The exact solver's coefficients, evaluated by the formula here, give cvxpy's optimal value.
    assert_allclose(m.problem.value, _rho_loss(X, y, ref.coef, ref.intercept, quantile), atol=ATOL)
    # lad's own convention: fun = 2 * sum rho at 0.5, sum rho otherwise.
    assert_allclose(ref.fun, (2.0 if quantile == 0.5 else 1.0) * m.problem.value, atol=2 * ATOL)


def test_added_sign_constraint_and_weight_bound_match_an_independent_lp():
    X, y = _data(seed=3)
    tau = 0.3
    m = lad_problem(X, y, quantile=tau)
    # The unconstrained fit has a negative second slope (-0.7 in the data): the constraint binds.
    m.problem.solve(solver=SOLVER)
    assert m.coef.value[1] < -0.1
    constrained = cp.Problem(cp.Minimize(m.loss), [m.coef >= 0, m.coef <= 1.0])
    constrained.solve(solver=SOLVER)
    fun, beta, _ = _reference_lp(X, y, tau, coef_bounds=(0.0, 1.0))
    assert_allclose(constrained.value, fun, atol=ATOL)
    assert constrained.value > m.problem.value + 1.0  # the constraints really cost something
    assert np.all(m.coef.value >= -ATOL) and np.all(m.coef.value <= 1 + ATOL)
    assert_allclose(_rho_loss(X, y, m.coef.value, m.intercept.value, tau), fun, atol=ATOL)


def test_l1_penalty_and_weights_match_an_independent_lp():
    X, y = _data(n=40, seed=5)
    w = np.random.default_rng(6).uniform(0.5, 2.0, 40)
    lam = 3.0
    m = lad_problem(X, y, sample_weight=w)
    penalised = cp.Problem(cp.Minimize(m.loss + lam * cp.norm1(m.coef)))
    penalised.solve(solver=SOLVER)
    # Independent LP: beta = bp - bm with bp, bm >= 0 and cost lam per unit of each.
    n, p = X.shape
    cost = np.concatenate([lam * np.ones(2 * p), [0.0], 0.5 * w, 0.5 * w])
    A_eq = np.hstack([X, -X, np.ones((n, 1)), np.eye(n), -np.eye(n)])
    bounds = [(0, None)] * (2 * p) + [(None, None)] + [(0, None)] * (2 * n)
    ref = linprog(cost, A_eq=A_eq, b_eq=y, bounds=bounds, method="highs")
    assert ref.status == 0
    assert_allclose(penalised.value, ref.fun, atol=ATOL)


def test_no_intercept():
    X, y = _data(seed=1)
    m = lad_problem(X, y, fit_intercept=False)
    assert m.intercept is None
    m.problem.solve(solver=SOLVER)
    ref = lad(X, y, fit_intercept=False)
    assert_allclose(m.problem.value, _rho_loss(X, y, ref.coef, 0.0, 0.5), atol=ATOL)


def test_lp_problem_matches_lpengines_highs_backend():
    # min x0 + 2 x1 - x2 + 5  s.t.  x0 + x1 + x2 = 4,  1 <= x0 - x2 <= 3,  x1 - x2 >= -1;  0 <= x <= 3 (x2 <= 2.5).
    # By hand: with x0 = x2 + 1 + s and x1 = x2 - 1 + t (s, t >= 0), the equality gives x2 = (4 - s - t) / 3 and
    # the objective is 2 x2 - 1 + s + 2 t + 5 = 20/3 + s/3 + 4t/3: minimal at s = t = 0, x = (7/3, 1/3, 4/3).
    lp = LinearProgram(
        c=[1.0, 2.0, -1.0],
        A=[[1.0, 1.0, 1.0], [1.0, 0.0, -1.0], [0.0, 1.0, -1.0]],
        row_lower=[4.0, 1.0, -1.0],
        row_upper=[4.0, 3.0, np.inf],
        col_lower=0.0,
        col_upper=[3.0, 3.0, 2.5],
        offset=5.0,
    )
    m = lp_problem(lp)
    m.problem.solve(solver=SOLVER)
    ref = solve(lp)
    assert_allclose([m.problem.value, ref.fun], [20 / 3, 20 / 3], atol=ATOL)
    assert_allclose(m.x.value, [7 / 3, 1 / 3, 4 / 3], atol=ATOL)


def test_bad_input_and_missing_cvxpy(monkeypatch):
    X, y = _data()
    with pytest.raises(InvalidProblemError, match="quantile"):
        lad_problem(X, y, quantile=1.0)
    with pytest.raises(InvalidProblemError, match="rows"):
        lad_problem(X, y[:-1])
    with pytest.raises(InvalidProblemError, match="sample_weight"):
        lad_problem(X, y, sample_weight=-np.ones(len(y)))
    monkeypatch.setitem(sys.modules, "cvxpy", None)  # import cvxpy now raises ImportError
    with pytest.raises(BackendNotAvailable, match=r"lpengine\[cvxpy\]"):
        lad_problem(X, y)

"""LAD on noiseless and near-noiseless float targets: ``y = fl(X b)`` (+ tiny noise).

The exact LP optimum (data read as the rationals their floats represent) is a loss of the size of the
rounding errors of ``X b``: every residual is at rounding level, so a float walk cannot see any sign.
Oracles, independent of lpengine's LAD code:
- the exact loss at the generating ``b`` (Fractions): the optimum is at most this, and the rounding of
  ``y = fl(X b)`` bounds it by ``sum_i gamma_p |x_i| |b|``;
- HiGHS (scipy ``linprog``) on the *shifted* problem: target ``2^k (y - X b)`` evaluated exactly in
  Fractions and rounded, so the LP sees data of order one (its optimum over ``2^k`` is the optimum of the
  original problem up to the rounding of that target); and plain ``linprog`` on the raw data, which
  agrees only to HiGHS's absolute tolerance;
- brute force over all elemental fits in Fractions (tiny ``n``): the exact optimum.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.optimize import linprog

from lpengine.simplex import lad

U = 2.0**-53


def fr(v):
    return Fraction(float(v))


def exact_residuals(X, y, beta):
    """``y - X beta`` in Fractions, row by row."""
    return [fr(y[i]) - sum(fr(X[i, j]) * beta[j] for j in range(X.shape[1])) for i in range(X.shape[0])]


def rho_sum(res, q):
    t = Fraction(q)
    total = sum((t * r if r >= 0 else (t - 1) * r) for r in res)
    return total * (2 if q == 0.5 else 1)  # lad's fun units: sum |r| at the median


def lp_value(X, target, q):
    """``min sum rho_q(target - X beta)`` by HiGHS on the primal LP (lad's ``fun`` units)."""
    n, p = X.shape
    c = np.concatenate([np.zeros(2 * p), np.full(n, q), np.full(n, 1 - q)])
    res = linprog(c, A_eq=np.hstack([X, -X, np.eye(n), -np.eye(n)]), b_eq=target, bounds=(0, None), method="highs")
    assert res.status == 0
    return res.fun * (2 if q == 0.5 else 1)


def shifted_lp_optimum(X, y, b, q):
    """HiGHS's optimum of the problem shifted by ``b``: target ``y - X b`` (exact, then rounded) scaled by 2^k."""
    r = [float(v) for v in exact_residuals(X, y, [fr(v) for v in b])]
    k = -math.frexp(max(abs(v) for v in r))[1]
    return math.ldexp(lp_value(X, np.ldexp(np.array(r), k), q), -k)


def noiseless(n, p, seed, noise=0.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    b = rng.standard_normal(p)
    return X, X @ b + noise * rng.standard_normal(n), b


def rounding_bound(X, b, q):
    """Upper bound of the loss at ``b``: ``|fl(x.b) - x.b| <= gamma_p |x| . |b|`` for each row."""
    p = X.shape[1]
    gamma = p * U / (1 - p * U)
    return float(np.sum(gamma * (np.abs(X) @ np.abs(b)))) * 1.01 * (2 if q == 0.5 else max(q, 1 - q))


@pytest.mark.parametrize("quantile", [0.5, 0.9])
@pytest.mark.parametrize(("n", "p", "seed"), [(1000, 5, 0), (1500, 12, 1), (800, 20, 2)])
def test_noiseless_targets_are_proved_optimal(n, p, seed, quantile):
    X, y, b = noiseless(n, p, seed)
    res = lad(X, y, quantile=quantile, fit_intercept=False, exact_objective=True)
    assert res.status == "optimal" and res.certified and res.success
    at_b = rho_sum(exact_residuals(X, y, [fr(v) for v in b]), quantile)
    # The exact optimum: positive (y is not exactly in the span: a loss of 0 would need every residual 0,
    # and the rounded targets are not), at most the exact loss at the generating b, itself rounding-sized.
    assert 0 < res.fun_exact <= at_b <= rounding_bound(X, b, quantile)
    assert res.fun == float(res.fun_exact)
    # Without exact_objective the float loss is summed from accurately evaluated residuals (plain floats
    # y - X x would be rounding noise here, off by orders of magnitude).
    fast = lad(X, y, quantile=quantile, fit_intercept=False)
    assert_allclose(fast.fun, float(res.fun_exact), rtol=1e-9)
    # HiGHS on the shifted problem (order-one data) agrees to its own relative accuracy.
    assert_allclose(res.fun, shifted_lp_optimum(X, y, b, quantile), rtol=1e-7)
    # HiGHS on the raw data sees only its absolute tolerance: the optimum is ~0 for it.
    assert abs(lp_value(X, y, quantile) - res.fun) <= 1e-7


@pytest.mark.parametrize(("n", "p", "seed"), [(20000, 5, 3), (10000, 20, 4)])
def test_noiseless_large_n_ends_quickly_and_proved(n, p, seed):
    """Used to end ``not_certified`` (or at the pivot budget) after seconds of rational arithmetic."""
    X, y, b = noiseless(n, p, seed)
    res = lad(X, y)  # with intercept: its coefficient is 0 at b, so b (and 0) stays a feasible point
    assert res.success and res.status == "optimal"
    assert res.fun <= rounding_bound(np.hstack([X, np.ones((n, 1))]), np.r_[b, 0.0], 0.5)
    assert_allclose(res.coef, b, atol=1e-12)


@given(
    n=st.integers(4, 8),
    p=st.integers(1, 3),
    seed=st.integers(0, 10**6),
    quantile=st.sampled_from([0.5, 0.25, 0.9]),
)
def test_noiseless_small_matches_brute_force_exactly(n, p, seed, quantile):
    """The exact optimum of tiny noiseless problems equals the best elemental fit, found in Fractions."""
    X, y, _ = noiseless(n, p, seed)
    res = lad(X, y, quantile=quantile, fit_intercept=False, exact_objective=True)
    assert res.success
    best = None
    for S in itertools.combinations(range(n), p):
        M = [[fr(X[i, j]) for j in range(p)] for i in S]
        beta = _solve(M, [fr(y[i]) for i in S])
        if beta is not None:
            v = rho_sum(exact_residuals(X, y, beta), quantile)
            best = v if best is None else min(best, v)
    assert res.fun_exact == best


def _solve(M, rhs):
    """Gauss–Jordan in Fractions; None if singular."""
    p = len(M)
    A = [row[:] + [r] for row, r in zip(M, rhs, strict=True)]
    for col in range(p):
        piv = next((r for r in range(col, p) if A[r][col] != 0), None)
        if piv is None:
            return None
        A[col], A[piv] = A[piv], A[col]
        for r in range(p):
            if r != col and A[r][col] != 0:
                f = A[r][col] / A[col][col]
                A[r] = [a - f * c for a, c in zip(A[r], A[col], strict=True)]
    return [A[i][p] / A[i][i] for i in range(p)]


@pytest.mark.parametrize("noise", [1e-12, 1e-9])
@pytest.mark.parametrize("quantile", [0.5, 0.9])
def test_near_noiseless_targets(noise, quantile):
    X, y, b = noiseless(1200, 8, 5, noise)
    res = lad(X, y, quantile=quantile, fit_intercept=False, exact_objective=True)
    assert res.success
    assert res.fun == float(res.fun_exact)
    assert_allclose(res.fun, shifted_lp_optimum(X, y, b, quantile), rtol=1e-7)
    assert res.fun_exact <= rho_sum(exact_residuals(X, y, [fr(v) for v in b]), quantile)


@pytest.mark.parametrize("quantile", [0.5, 0.9])
def test_noiseless_heavily_duplicated_rows(quantile):
    """Each observation 25 times: the same exact optimum as the unique rows weighted by 25."""
    X, y, b = noiseless(60, 4, 6)
    Xd, yd = np.repeat(X, 25, axis=0), np.repeat(y, 25)
    perm = np.random.default_rng(0).permutation(Xd.shape[0])
    res = lad(Xd[perm], yd[perm], quantile=quantile, exact_objective=True)
    ref = lad(X, y, quantile=quantile, sample_weight=np.full(60, 25.0), exact_objective=True)
    assert res.success and ref.success
    assert res.fun_exact == ref.fun_exact
    H = np.hstack([X, np.ones((60, 1))])
    assert res.fun_exact <= 25 * rho_sum(exact_residuals(H, y, [fr(v) for v in b] + [Fraction(0)]), quantile)
    assert_allclose(res.fun, 25 * shifted_lp_optimum(H, y, np.r_[b, 0.0], quantile), rtol=1e-7)

"""LAD / quantile regression through the Deep ReLU Simplex engine (the Barrodale–Roberts case)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from lpengine.exceptions import InvalidProblemError
from lpengine.lp import LinearProgram, LPStatus, available_backends, solve
from lpengine.simplex import lad


def lp_optimum(X, y, q, backend):
    """Independent oracle: the primal LAD LP min sum w+ u + w- v, X b + u - v = y."""
    n, p = X.shape
    Xt = np.hstack([X, np.ones((n, 1))])
    wp, wm = (1.0, 1.0) if q == 0.5 else (1.0 - q, q)
    c = np.concatenate([np.zeros(p + 1), np.full(n, wm), np.full(n, wp)])  # u = (y - Xb)_+ is under-prediction
    A = sp.hstack([sp.csc_array(Xt), sp.identity(n), -sp.identity(n)], format="csc")
    lo = np.concatenate([np.full(p + 1, -np.inf), np.zeros(2 * n)])
    res = solve(LinearProgram(c=c, A=A, row_lower=y, row_upper=y, col_lower=lo), backend=backend)
    assert res.status is LPStatus.OPTIMAL
    return res.fun


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("q", [0.5, 0.25, 0.8])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lad_equals_lp_optimum(backend, q, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, (150, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.standard_normal(150)
    res = lad(X, y, q)
    ref = lp_optimum(X, y, q, backend)
    assert res.status == "local_minimum" and res.certified
    assert abs(res.fun - ref) <= 1e-9 * abs(ref)
    # The loss recomputed from the coefficients is the reported one.
    r = X @ res.coef + res.intercept - y
    wp, wm = (1.0, 1.0) if q == 0.5 else (1.0 - q, q)
    assert_allclose(res.fun, wp * np.maximum(r, 0).sum() + wm * np.maximum(-r, 0).sum(), rtol=1e-12)
    # Elemental fit: D = 4 observations interpolated; dual weights within [-w-, w+].
    assert np.sum(np.abs(r) <= 1e-9) >= 4
    lam = res.certificate.duals
    assert np.all(lam <= wp + 1e-9) and np.all(lam >= -wm - 1e-9)
    assert np.all(np.diff(res.losses) <= 1e-12 * res.losses[0])


def test_lad_exact_small_example():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    res = lad(X, [0.0, 1.0, 2.0, 10.0])
    # The line through the first three points leaves residual 7 at the last: the LAD optimum (median slope).
    assert_allclose([res.coef[0], res.intercept, res.fun], [1.0, 0.0, 7.0], atol=1e-12)


def test_single_crossing_reaches_same_optimum_with_more_pivots():
    rng = np.random.default_rng(5)
    X = rng.uniform(0, 1, (300, 4))
    y = rng.uniform(0, 1, 300)
    a = lad(X, y)
    b = lad(X, y, line_search=False)
    assert abs(a.fun - b.fun) <= 1e-9 * a.fun
    assert b.nit > a.nit


def test_exactly_linear_data_is_degenerate_but_certified():
    x = np.linspace(0.0, 1.0, 20)[:, None]
    res = lad(x, 2.0 * x[:, 0] + 1.0)
    assert res.certified and res.certificate.degenerate
    assert_allclose([res.coef[0], res.intercept], [2.0, 1.0], atol=1e-12)
    assert res.fun <= 1e-12


def test_constant_targets():
    rng = np.random.default_rng(0)
    res = lad(rng.uniform(0, 1, (30, 2)), np.full(30, 3.5))
    assert_allclose(np.r_[res.coef, res.intercept], [0.0, 0.0, 3.5], atol=1e-12)
    assert res.fun <= 1e-12 and res.certified


def test_duplicates_equal_weights():
    rng = np.random.default_rng(2)
    X = rng.uniform(0, 1, (40, 2))
    y = rng.standard_normal(40)
    dup = lad(np.vstack([X, X]), np.r_[y, y])
    w = lad(X, y, sample_weight=np.full(40, 2.0))
    assert_allclose(dup.fun, w.fun, rtol=1e-12)
    assert_allclose(dup.fun, 2 * lad(X, y).fun, rtol=1e-12)


@pytest.mark.parametrize("X", [np.c_[np.arange(10.0), 2 * np.arange(10.0)], np.ones((10, 1)), np.ones((2, 3))])
def test_rank_deficient_design_is_a_clear_error(X):
    with pytest.raises(InvalidProblemError, match="rank"):
        lad(X, np.arange(X.shape[0], dtype=float))


@pytest.mark.parametrize("q", [0.0, 1.0, -0.1, 2.0])
def test_bad_quantile(q):
    with pytest.raises(InvalidProblemError, match="quantile"):
        lad(np.eye(3), np.ones(3), q)


def test_bad_shapes():
    with pytest.raises(InvalidProblemError, match="y has shape"):
        lad(np.eye(3), np.ones(4))


@pytest.mark.parametrize("q", [0.5, 0.3])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_exact_ties_integer_grid(q, seed):
    """Integer data: many residuals vanish together and ratio tests tie (degenerate vertices)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 4, (60, 2)).astype(float)
    y = rng.integers(0, 3, 60).astype(float)
    res = lad(X, y, q)
    ref = lp_optimum(X, y, q, "highs")
    assert res.status == "local_minimum" and res.certified
    assert abs(res.fun - ref) <= 1e-9 * max(1.0, abs(ref))


@pytest.mark.slow
def test_lad_10k_equals_highs_lp():
    rng = np.random.default_rng(1)
    X = rng.uniform(0, 1, (10_000, 4))
    y = rng.uniform(0, 1, 10_000)
    for q in (0.5, 0.8):
        res = lad(X, y, q)
        assert abs(res.fun - lp_optimum(X, y, q, "highs")) <= 1e-9 * res.fun

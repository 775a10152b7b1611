"""Exact residual signs of a rational vertex (error-free transformations), against Fractions row by row."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from lpengine.simplex.lad_residuals import two_product, two_sum, vertex_residuals


def exact(X, y, beta):
    res = [
        Fraction(float(y[i])) - sum(Fraction(float(X[i, j])) * beta[j] for j in range(X.shape[1]))
        for i in range(X.shape[0])
    ]
    return np.array([(r > 0) - (r < 0) for r in res]), res


def elemental_vertex(X, y, rows):
    """beta interpolating ``rows`` exactly (Fractions, Cramer-free Gauss-Jordan)."""
    p = X.shape[1]
    A = [[Fraction(float(X[i, j])) for j in range(p)] + [Fraction(float(y[i]))] for i in rows]
    for c in range(p):
        piv = next(r for r in range(c, p) if A[r][c] != 0)
        A[c], A[piv] = A[piv], A[c]
        for r in range(p):
            if r != c:
                f = A[r][c] / A[c][c]
                A[r] = [a - f * b for a, b in zip(A[r], A[c], strict=True)]
    return [A[i][p] / A[i][i] for i in range(p)]


@pytest.mark.parametrize(("p", "scale"), [(3, 1.0), (12, 1.0), (5, 1e-200), (4, 1e250)])
def test_noiseless_signs_match_fractions(p, scale):
    """Every residual is at rounding level; the signs (and the zeros of the basis rows) are exact."""
    rng = np.random.default_rng(p)
    X = rng.standard_normal((400, p)) * scale
    y = X @ rng.standard_normal(p)
    beta = elemental_vertex(X, y, range(p))
    want, res = exact(X, y, beta)
    vr = vertex_residuals(X, y, beta)
    assert np.array_equal(vr.sign, want)
    assert np.all(want[:p] == 0) and np.count_nonzero(want) == 400 - p
    assert vr.n_undecided_by_floats == 400  # plain floats see nothing here
    rel = [abs(v - float(r)) / abs(float(r)) for v, r in zip(vr.value, res, strict=True) if r != 0]
    assert max(rel) <= 1e-9  # accurate values, with the exact signs
    if scale == 1.0:
        assert vr.n_rational == p  # only the exactly-zero basis rows needed rationals
        told = vertex_residuals(X, y, beta, zero_rows=np.arange(p))  # the caller knows they interpolate
        assert told.n_rational == 0 and np.array_equal(told.sign, want)
    else:
        assert vr.n_compensated == 0  # outside TwoProduct's safe range: straight to rationals, still exact


def test_integer_exact_zeros_without_rationals():
    rng = np.random.default_rng(0)
    X = rng.integers(-5, 6, size=(500, 6)).astype(float)
    b = [Fraction(1), Fraction(-2), Fraction(0), Fraction(3), Fraction(1, 2), Fraction(-1, 4)]
    y = X @ np.array([float(v) for v in b])
    y[::5] += 2.0**-30  # a few rows off the span by far less than the float bound of the row
    want, _ = exact(X, y, b)
    vr = vertex_residuals(X, y, b)
    assert np.array_equal(vr.sign, want) and np.count_nonzero(want) == 100
    assert vr.n_rational == 0  # distillation proved the 400 exact zeros


def test_error_free_transformations():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(1000), rng.standard_normal(1000) * 1e-9
    p, e = two_product(a, b)
    s, f = two_sum(a, b)
    for i in range(0, 1000, 97):
        assert Fraction(p[i]) + Fraction(e[i]) == Fraction(a[i]) * Fraction(b[i])
        assert Fraction(s[i]) + Fraction(f[i]) == Fraction(a[i]) + Fraction(b[i])

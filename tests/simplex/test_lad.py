"""LAD / quantile regression: exact optimum, exact certificate, rank deficiency, bad input.

Oracles, all independent of lpengine's LAD code:
- the primal LP solved by scipy's ``linprog`` (HiGHS) on the full design;
- brute force over all elemental fits in ``fractions.Fraction`` (an optimum of a
  full-rank LAD problem is attained at one), giving the exact optimum;
- a Fraction re-derivation of the Barrodale–Roberts dual check.
"""

from __future__ import annotations

import itertools
import warnings
from fractions import Fraction

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import linprog

from lpengine.exceptions import InvalidProblemError, IterationLimitWarning, RankDeficiencyWarning
from lpengine.simplex import lad
from lpengine.simplex.lad_certificate import certify_vertex, exact_column_sums

# ---------------------------------------------------------------------------------------------- oracles


def lp_optimum(H, y, q, c=None):
    """LP optimum in lad's ``fun`` units, from the LP dual solved by HiGHS (scipy ``linprog``):
    max y.w s.t. H^T w = 0, c (q-1) <= w <= c q, equal to min sum c_i rho_q(y_i - h_i b) by LP duality."""
    n, p = H.shape
    c = np.ones(n) if c is None else c
    res = linprog(-y, A_eq=H.T, b_eq=np.zeros(p), bounds=np.c_[c * (q - 1), c * q], method="highs")
    assert res.status == 0
    return -res.fun * (2 if q == 0.5 else 1)


def with_intercept(X):
    return np.hstack([X, np.ones((X.shape[0], 1))])


def fr(v):
    return Fraction(float(v))


def solve_fractions(M, b):
    """Gauss–Jordan elimination in Fractions; None if singular."""
    n = len(M)
    A = [[fr(M[i][j]) for j in range(n)] + [fr(b[i]) if not isinstance(b[i], Fraction) else b[i]] for i in range(n)]
    for col in range(n):
        piv = next((r for r in range(col, n) if A[r][col] != 0), None)
        if piv is None:
            return None
        A[col], A[piv] = A[piv], A[col]
        for r in range(n):
            if r != col and A[r][col] != 0:
                f = A[r][col] / A[col][col]
                A[r] = [a - f * b_ for a, b_ in zip(A[r], A[col], strict=True)]
    return [A[i][n] / A[i][i] for i in range(n)]


def exact_loss_fr(H, y, q, beta, c=None):
    t = Fraction(q)
    total = Fraction(0)
    for i in range(H.shape[0]):
        r = fr(y[i]) - sum(fr(H[i, j]) * beta[j] for j in range(H.shape[1]))
        w = fr(1.0 if c is None else c[i])
        total += w * (t * r if r >= 0 else (t - 1) * r)
    return total * (2 if q == 0.5 else 1)


def brute_force_optimum(H, y, q, c=None):
    """Exact LP optimum: the best elemental fit (H full column rank)."""
    n, p = H.shape
    best = None
    for S in itertools.combinations(range(n), p):
        beta = solve_fractions(H[list(S)].tolist(), y[list(S)].tolist())
        if beta is None:
            continue
        f = exact_loss_fr(H, y, q, beta, c)
        best = f if best is None or f < best else best
    return best


def check_dual_fractions(H, y, q, basis):
    """Independent Barrodale–Roberts check in Fractions: optimal iff d in [q-1, q] (signs exact; zero
    residuals off the basis may take either multiplier, so test feasibility over their extreme choices)."""
    n, p = H.shape
    t = Fraction(q)
    beta = solve_fractions(H[basis].tolist(), y[basis].tolist())
    g = [Fraction(0)] * p
    zero = []
    for i in range(n):
        if i in basis:
            continue
        r = fr(y[i]) - sum(fr(H[i, j]) * beta[j] for j in range(p))
        if r == 0:
            zero.append(i)
            continue
        psi = t if r > 0 else t - 1
        g = [g[j] + psi * fr(H[i, j]) for j in range(p)]
    Bt = H[basis].T.tolist()
    for choice in itertools.product([t, t - 1], repeat=min(len(zero), 8)):
        gg = list(g)
        for i, psi in zip(zero, choice, strict=False):
            gg = [gg[j] + psi * fr(H[i, j]) for j in range(p)]
        d = solve_fractions(Bt, [-v for v in gg])
        if all(t - 1 <= dk <= t for dk in d):
            return True
    return False


# ---------------------------------------------------------------------------------------------- random data


@pytest.mark.parametrize("method", ["glob", "ipm", "simplex"])
@pytest.mark.parametrize("q", [0.5, 0.25, 0.9])
@pytest.mark.parametrize("seed", [0, 1])
def test_equals_lp_optimum(method, q, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, (400, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.standard_cauchy(400)
    res = lad(X, y, q, method=method, exact_objective=True)
    ref = lp_optimum(with_intercept(X), y, q)
    assert res.status == "optimal" and res.success and res.certified
    assert abs(res.fun - ref) <= 1e-9 * abs(ref)
    # The loss recomputed from the coefficients is the reported one.
    r = X @ res.coef + res.intercept - y
    wp, wm = (1.0, 1.0) if q == 0.5 else (1.0 - q, q)
    assert_allclose(res.fun, wp * np.maximum(r, 0).sum() + wm * np.maximum(-r, 0).sum(), rtol=1e-13)
    assert abs(float(res.fun_exact) - res.fun) <= 1e-13 * res.fun
    # Elemental fit: the 4 basis observations are interpolated; duals in [q-1, q].
    basis = list(res.certificate.basis)
    assert_allclose(r[basis], 0.0, atol=1e-12)
    assert np.all(res.certificate.duals <= q) and np.all(res.certificate.duals >= q - 1)
    assert check_dual_fractions(with_intercept(X), y, q, basis)


@pytest.mark.parametrize("q", [0.5, 0.3])
def test_glob_path_large_enough_to_preprocess(q):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((20_000, 2))
    y = X @ [0.5, 1.0] + rng.standard_cauchy(20_000)
    res = lad(X, y, q)
    assert res.method == "glob" and res.glob_rounds >= 1 and res.success
    assert abs(res.fun - lp_optimum(with_intercept(X), y, q)) <= 1e-9 * res.fun


@pytest.mark.parametrize("band_factor", [0.8, 0.1, 0.03])
def test_glob_fixups_and_restarts_keep_the_exact_optimum(monkeypatch, band_factor):
    """Narrow bands force wrong fixed signs: fix-up rounds and larger subsamples, never a wrong answer."""
    import lpengine.simplex.lad_glob as lad_glob

    monkeypatch.setattr(lad_glob, "_BAND_FACTOR", band_factor)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((20_000, 2))
    y = X @ [1.0, 2.0] + rng.standard_cauchy(20_000)
    res = lad(X, y, 0.5)
    assert res.success and res.method == "glob"
    assert res.fixups + res.glob_rounds >= 2  # seed 3: one fix-up at 0.8; restarts at the narrower bands
    assert abs(res.fun - lp_optimum(with_intercept(X), y, 0.5)) <= 1e-9 * res.fun


def test_small_example():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    res = lad(X, [0.0, 1.0, 2.0, 10.0], exact_objective=True)
    # The line through the first three points leaves residual 7 at the last: the LAD optimum.
    assert res.coef[0] == 1.0 and res.intercept == 0.0 and res.fun_exact == 7 and res.success


# ---------------------------------------------------------------------------------------------- degenerate data


@pytest.mark.parametrize("q", [0.5, 0.3, 0.75])
@pytest.mark.parametrize("seed", range(4))
def test_integer_data_exact_against_brute_force(q, seed):
    """Integer data: ties in residuals and ratio tests (degenerate vertices); exact optimum by enumeration."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 4, (14, 1)).astype(float)
    y = rng.integers(0, 3, 14).astype(float)
    H = with_intercept(X)
    if np.linalg.matrix_rank(H) < 2:
        pytest.skip("constant column drawn")
    for method in ("glob", "simplex"):
        res = lad(X, y, q, method=method, exact_objective=True)
        assert res.success
        assert res.fun_exact == brute_force_optimum(H, y, q)


@pytest.mark.parametrize("method", ["glob", "simplex"])
def test_duplicated_points_and_points_on_the_fit(method):
    rng = np.random.default_rng(3)
    X = rng.integers(-2, 3, (10, 2)).astype(float)
    y = X @ [1.0, 2.0] + 1.0  # every point exactly on one hyperplane ...
    X = np.vstack([X, X[:4], [[0.0, 0.0]]])  # ... duplicated, plus one point off it
    y = np.r_[y, y[:4], 5.0]
    res = lad(X, y, exact_objective=True)
    assert res.success and res.fun_exact == 4  # only the last point misses: |5 - 1| = 4
    assert res.certificate.degenerate and res.certificate.n_zero_residuals >= 1
    assert_allclose(res.x, [1.0, 2.0, 1.0], atol=0)


def test_repeated_rows_with_rank_deficiency_terminate_proved():
    """scikit-learn's weight-equivalence check: np.repeat by integer weights, more columns than distinct rows.
    Every residual is zero at the optimum and each basis row has duplicates (ties in every ratio test)."""
    rng = np.random.RandomState(42)
    X = rng.rand(15, 30)
    y = rng.randint(0, 3, size=15).astype(float)
    sw = rng.randint(0, 5, size=15)
    with pytest.warns(RankDeficiencyWarning):
        rep = lad(np.repeat(X, sw, axis=0), np.repeat(y, sw), exact_objective=True)
    with pytest.warns(RankDeficiencyWarning):
        wtd = lad(X, y, sample_weight=sw, exact_objective=True)
    assert rep.success and wtd.success and rep.fun_exact == wtd.fun_exact
    assert_allclose(rep.x, wtd.x, rtol=0, atol=0)


def test_exactly_linear_data_is_degenerate_but_certified():
    x = np.arange(20.0)[:, None]
    res = lad(x, 2.0 * x[:, 0] + 1.0, exact_objective=True)
    assert res.success and res.certificate.degenerate and res.fun_exact == 0
    assert res.coef[0] == 2.0 and res.intercept == 1.0


def test_constant_targets():
    rng = np.random.default_rng(0)
    res = lad(rng.uniform(0, 1, (30, 2)), np.full(30, 3.5))
    assert_allclose(np.r_[res.coef, res.intercept], [0.0, 0.0, 3.5], atol=1e-15)
    assert res.fun == 0.0 and res.success


def test_integer_weights_equal_duplication():
    rng = np.random.default_rng(2)
    X = rng.uniform(0, 1, (40, 2))
    y = rng.standard_normal(40)
    dup = lad(np.vstack([X, X]), np.r_[y, y], 0.7, exact_objective=True)
    w = lad(X, y, 0.7, sample_weight=np.full(40, 2.0), exact_objective=True)
    one = lad(X, y, 0.7, exact_objective=True)
    assert dup.fun_exact == w.fun_exact == 2 * one.fun_exact
    assert w.success and dup.success


def test_weighted_against_lp():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((300, 3))
    y = rng.standard_normal(300)
    c = rng.uniform(0.1, 3.0, 300)
    c[:10] = 0.0
    res = lad(X, y, 0.4, sample_weight=c)
    assert res.success and abs(res.fun - lp_optimum(with_intercept(X), y, 0.4, c)) <= 1e-9 * res.fun


# ---------------------------------------------------------------------------------------------- rank / zero rows


def test_issue_zero_row_example():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    res = lad(X, [0.0, 1.0, 2.5, 2.0], fit_intercept=False, exact_objective=True)
    # min |1 - b| + |2.5 - 2b| + |2 - 3b| (the zero row adds |0 - 0|): b = 1 gives 0 + 0.5 + 1.
    assert res.success and res.coef[0] == 1.0 and res.fun_exact == Fraction(3, 2) and res.n_zero_rows == 1


def test_zero_rows_are_constant_terms():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((50, 2))
    y = rng.standard_normal(50)
    X[:5] = 0.0
    res = lad(X, y, 0.3, fit_intercept=False, exact_objective=True)
    assert res.n_zero_rows == 5 and res.success
    assert abs(res.fun - lp_optimum(X, y, 0.3)) <= 1e-9 * res.fun


def test_all_rows_zero():
    with pytest.warns(RankDeficiencyWarning):
        res = lad(np.zeros((3, 2)), [1.0, -2.0, 0.0], fit_intercept=False, exact_objective=True)
    assert res.success and res.aliased == (0, 1) and res.rank == 0 and res.fun_exact == 3


def one_hot_design(rng, n=60):
    g = rng.integers(0, 3, n)
    D = np.eye(3)[g]
    return np.hstack([rng.standard_normal((n, 1)), D])


@pytest.mark.parametrize(
    "make, aliased",
    [
        (lambda rng: np.c_[np.arange(30.0), 2 * np.arange(30.0)], (1,)),  # collinear
        (lambda rng: np.c_[rng.standard_normal(30), np.full(30, 3.0)], (1,)),  # constant column + intercept
        (one_hot_design, (3,)),  # one-hot dummies + intercept: the last dummy
        (lambda rng: np.c_[rng.standard_normal(30), np.zeros(30)], (1,)),  # zero column
    ],
)
@pytest.mark.parametrize("q", [0.5, 0.8])
def test_rank_deficient_designs(make, aliased, q):
    rng = np.random.default_rng(11)
    X = make(rng)
    y = rng.standard_normal(X.shape[0])
    with pytest.warns(RankDeficiencyWarning, match="aliased"):
        res = lad(X, y, q)
    assert res.aliased == aliased and res.success and res.certificate.full_design
    assert np.all(res.x[list(aliased)] == 0.0)
    # Optimal for the full design: equals the LP optimum with every column free.
    assert abs(res.fun - lp_optimum(with_intercept(X), y, q)) <= 1e-9 * res.fun


def test_fewer_rows_than_columns():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3, 6))
    y = rng.standard_normal(3)
    with pytest.warns(RankDeficiencyWarning):
        res = lad(X, y, 0.5)
    assert res.rank == 3 and len(res.aliased) == 4 and res.success
    assert abs(res.fun) <= 1e-12  # three rows, three free coefficients: interpolated


# ---------------------------------------------------------------------------------------------- certificate


def test_perturbed_vertex_is_not_certified():
    rng = np.random.default_rng(9)
    X = with_intercept(rng.uniform(0, 1, (200, 2)))
    y = rng.standard_normal(200)
    res = lad(X[:, :2], y, 0.5, exact_objective=True)
    basis = np.array(res.certificate.basis)
    cert, _ = certify_vertex(X, y, None, 0.5, basis, np.zeros(200, np.int8))
    assert cert.certified
    # Swap one interpolated observation for another: a different elemental fit.
    others = np.setdiff1d(np.arange(200), basis)
    for j in others[:5]:
        bad = basis.copy()
        bad[0] = j
        if abs(np.linalg.det(X[bad])) < 1e-9:
            continue
        cert_bad, _ = certify_vertex(X, y, None, 0.5, bad, np.zeros(200, np.int8), exact_objective=True)
        assert not cert_bad.certified and cert_bad.violations and cert_bad.min_slope < 0
        assert 2 * cert_bad.objective > res.fun_exact  # strictly worse: the proof was right to refuse
        assert not check_dual_fractions(X, y, 0.5, list(bad))


def test_exact_column_sums_against_fractions():
    rng = np.random.default_rng(0)
    V = rng.standard_normal((500, 3)) * np.exp2(rng.integers(-60, 60, (500, 3)))
    V[:7, 0] = 0.0
    w = rng.uniform(0, 2, 500)
    mask = rng.random(500) < 0.6
    for weights in (None, w):
        got = exact_column_sums(V, weights, mask)
        for j in range(3):
            want = sum(
                (
                    Fraction(float(V[i, j])) * (1 if weights is None else Fraction(float(w[i])))
                    for i in range(500)
                    if mask[i]
                ),
                Fraction(0),
            )
            assert got[j] == want


# ---------------------------------------------------------------------------------------------- budgets and errors


def test_pivot_budget_is_not_success():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (200, 3))
    y = rng.standard_normal(200)
    with pytest.warns(IterationLimitWarning):
        res = lad(X, y, method="simplex", max_pivots=1)
    assert res.status == "max_pivots" and not res.success and not res.certified
    assert res.fun > lad(X, y).fun


def test_single_crossing_reaches_same_optimum_with_more_pivots():
    rng = np.random.default_rng(5)
    X = rng.uniform(0, 1, (300, 4))
    y = rng.uniform(0, 1, 300)
    a = lad(X, y, method="simplex", exact_objective=True)
    b = lad(X, y, method="simplex", line_search=False, exact_objective=True)
    assert a.fun_exact == b.fun_exact and a.success and b.success
    assert b.nit > a.nit
    assert np.all(np.diff(a.losses) <= 1e-12 * a.losses[0])


@pytest.mark.parametrize("q", [0.0, 1.0, -0.1, 2.0, float("nan")])
def test_bad_quantile(q):
    with pytest.raises(InvalidProblemError, match="quantile"):
        lad(np.eye(3), np.ones(3), q)


@pytest.mark.parametrize(
    "X, y, kw, match",
    [
        (np.eye(3), np.ones(4), {}, "y has shape"),
        (np.ones(3), np.ones(3), {}, "X has 1 dimension"),
        (np.array([[1.0], [np.nan]]), np.ones(2), {}, "X contains NaN or inf"),
        (np.eye(2), [1.0, np.inf], {}, "y contains NaN or inf"),
        (np.eye(2), np.ones(2), {"sample_weight": [1.0, -1.0]}, r"sample_weight\[1\]"),
        (np.eye(2), np.ones(2), {"sample_weight": [1.0]}, "sample_weight has shape"),
        (np.eye(2), np.ones(2), {"method": "magic"}, "method"),
        (np.eye(2), np.ones(2), {"beta0": [0.0]}, "beta0 has shape"),
        (np.eye(2), np.ones(2), {"max_pivots": -1}, "max_pivots"),
    ],
)
def test_bad_input(X, y, kw, match):
    with pytest.raises(InvalidProblemError, match=match):
        lad(X, y, **kw)


def test_no_warning_on_full_rank():
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = lad(rng.standard_normal((50, 2)), rng.standard_normal(50))
    assert res.aliased == () and res.rank == 3


# ---------------------------------------------------------------------------------------------- large n


@pytest.mark.slow
@pytest.mark.parametrize("q", [0.5, 0.9])
def test_large_n_equals_highs(q):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200_000, 4))
    y = X @ [1.0, 0.0, -1.0, 2.0] + rng.standard_cauchy(200_000)
    res = lad(X, y, q)
    assert res.success and res.method == "glob"
    assert abs(res.fun - lp_optimum(with_intercept(X), y, q)) <= 1e-9 * res.fun


def test_repr_is_one_short_line_of_headline_facts() -> None:
    # y = x except one outlier: the LAD line is y = x (two points interpolated, loss |10 - 3| = 7 by hand).
    res = lad(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0.0, 1.0, 2.0, 10.0]))
    r = repr(res)
    assert r.startswith("LADResult(status='optimal', fun=7, certified=True, quantile=0.5, n_coef=2, nit=")
    assert f"method='{res.method}'" in r and "\n" not in r and len(r) < 160
    rng = np.random.default_rng(0)
    big = lad(rng.standard_normal((200, 40)), rng.standard_normal(200))
    assert "n_coef=41" in repr(big) and len(repr(big)) < 160  # no arrays, however many coefficients


def test_certificate_in_words_says_global_minimum() -> None:
    import dataclasses

    res = lad(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0.0, 1.0, 2.0, 10.0]))
    text = str(res.certificate)
    # Two coefficients (slope, intercept): 2 * 2 edge rays at the vertex; convex loss, so "global", never "local".
    assert text.startswith("CERTIFIED global minimum (the loss is convex). Proof: the exact rational dual check")
    assert "none of the 4 edge rays descends" in text and "local" not in text and "hidden" not in text
    refuted = dataclasses.replace(res.certificate, certified=False, dual_feasible=False, reason="not optimal: 1 edge")
    assert str(refuted) == "not certified: not optimal: 1 edge"
    with pytest.warns(RankDeficiencyWarning):
        trivial = lad(np.zeros((3, 1)), np.array([1.0, 2.0, 3.0]), fit_intercept=False)
    assert str(trivial.certificate).startswith("CERTIFIED global minimum. optimal: the loss does not depend")


@pytest.mark.parametrize("quantile", [0.5, 0.9])
def test_interpolating_fits_are_proved_at_once(quantile):
    """A constant target, or one exactly in the column span: the optimum is a perfect fit (loss exactly 0,
    the lower bound of the loss).  Every row is a kink there; the walk must stop and the exact certificate
    prove it, instead of pivoting in place until its budget runs out (it used to take ~10^4 pivots)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 40))
    res = lad(X, np.ones(500), quantile=quantile)
    assert res.status == "optimal" and res.certified and res.success
    assert res.fun == 0.0 and res.intercept == 1.0 and np.all(res.coef == 0.0)
    assert res.nit < 50
    # integer design and coefficients: y is exactly in the span, the fit recovers b exactly
    Xi = rng.integers(-5, 6, size=(300, 6)).astype(float)
    b = np.array([1.0, -2.0, 0.0, 3.0, 0.5, -0.25])
    res = lad(Xi, Xi @ b, quantile=quantile, fit_intercept=False, exact_objective=True)
    assert res.certified and res.fun == 0.0 and res.fun_exact == 0
    assert_array_equal(res.coef, b)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("quantile", [0.5, 0.9])
def test_integer_designs_never_pivot_on_rounding_noise(seed, quantile):
    """Small integer designs with integer targets: many exact zeros along edges (u_i = 0 in rationals, a
    tiny float).  Pivoting on one made the basis singular (numpy LinAlgError deep in the walk).  The fit
    is proved optimal and its loss equals the LP optimum found independently by scipy's linprog."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-3, 4, size=(120, 5)).astype(float)
    y = X @ rng.integers(-2, 3, size=5) + rng.integers(-1, 2, size=120) * (seed % 2)
    res = lad(X, y.astype(float), quantile=quantile, fit_intercept=False)
    assert res.certified and res.status == "optimal"
    n, p = X.shape
    t = quantile
    c = np.concatenate([np.zeros(2 * p), np.full(n, t), np.full(n, 1 - t)])
    A_eq = np.hstack([X, -X, np.eye(n), -np.eye(n)])
    lp = linprog(c, A_eq=A_eq, b_eq=y, bounds=(0, None), method="highs")
    factor = 2 if t == 0.5 else 1
    assert_allclose(res.fun, factor * lp.fun, rtol=1e-9, atol=1e-9)

"""Tests of lpengine.analysis.census against independent brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from lpengine import ReLUNetwork
from lpengine.analysis.census import (
    assign_basins,
    certify_local_minimum,
    count_vertices_in_box,
    landscape_census,
    solve_cell,
)
from lpengine.analysis.lossnet import LayerwiseL1Problem
from lpengine.exceptions import InvalidOptionError
from lpengine.lp import LinearProgram, LPStatus, solve


def tiny(n_samples: int, width: int, seed: int) -> LayerwiseL1Problem:
    rng = np.random.default_rng(seed)
    net = ReLUNetwork.random(1, [width], seed=seed)
    X = rng.uniform(-1, 1, (n_samples, 1))
    return LayerwiseL1Problem(net, X, rng.uniform(-1, 1, n_samples))


def brute_global_min(prob: LayerwiseL1Problem) -> float:
    """Min over ALL 2^units sign vectors of the LP, solved by scipy (shares no code with the census)."""
    H, N, n, m = prob.features, prob.n_samples, prob.width, prob.fan_in
    v, b_out = prob.net.weights[-1][0], prob.net.biases[-1][0]
    D = prob.dim
    best = math.inf
    for signs in itertools.product([1, -1], repeat=N * n):
        s = np.array(signs).reshape(N, n)
        rows, lo = [], []
        resid = np.zeros((N, D))
        for i in range(N):
            for k in range(n):
                a = np.zeros(D)
                a[k * m : (k + 1) * m] = H[i]
                a[n * m + k] = 1.0
                rows.append(s[i, k] * a)
                lo.append(0.0)
                if s[i, k] > 0:
                    resid[i] += v[k] * a
        A = np.vstack([np.hstack([resid, -np.eye(N), np.eye(N)]), np.hstack([np.array(rows), np.zeros((N * n, 2 * N))])])
        rhs = prob.y - b_out
        lp = LinearProgram(c=np.concatenate([np.zeros(D), np.ones(2 * N)]), A=A,
                           row_lower=np.concatenate([rhs, lo]),
                           row_upper=np.concatenate([rhs, np.full(N * n, np.inf)]),
                           col_lower=np.concatenate([np.full(D, -np.inf), np.zeros(2 * N)]))
        res = solve(lp, backend="scipy")
        if res.status is LPStatus.OPTIMAL:
            best = min(best, res.fun)
    return best


def study_problem() -> LayerwiseL1Problem:
    # The first census case of benchmarks/study_landscape.py (whole-space enumeration once lost a cell here).
    rng = np.random.default_rng(1000)
    net = ReLUNetwork.random(1, [2], seed=0)
    return LayerwiseL1Problem(net, rng.uniform(-3, 3, (6, 1)), rng.uniform(-3, 3, 6))


def test_census_cell_count_regression() -> None:
    cen = landscape_census(study_problem())
    assert cen.complete and cen.n_cells == (2 * 6) ** 2


@pytest.mark.parametrize(("n_samples", "width", "seed"), [(4, 1, 0), (3, 2, 1), (5, 2, 0)])
def test_census_global_min_and_cell_count(n_samples: int, width: int, seed: int) -> None:
    prob = tiny(n_samples, width, seed)
    cen = landscape_census(prob)
    # One hidden layer trained at layer 0: per neuron, N distinct lines through 0 in R^2
    # give 2N cones; the cells are their products.
    assert cen.complete and cen.n_cells == (2 * n_samples) ** width
    assert_allclose(cen.global_min, brute_global_min(prob), rtol=1e-7, atol=1e-9)
    assert_allclose(prob.loss(cen.global_theta), cen.global_min, rtol=1e-7, atol=1e-9)
    assert cen.minima[0].is_global and cen.minima[0].loss == pytest.approx(cen.global_min, abs=1e-8)
    assert all(m.loss >= cen.global_min - 1e-9 for m in cen.minima)
    assert 1 <= cen.n_minimal_sets <= cen.n_minima <= cen.n_candidates


def test_census_minima_agree_with_local_certificates() -> None:
    prob = tiny(5, 2, 0)
    cen = landscape_census(prob, verify=True)
    assert cen.certified
    assert [m.verified for m in cen.minima] == [True] * cen.n_minima
    assert cen.n_cells == 100
    # A point that is not a local minimum is refuted with a lower cell value.
    cert = certify_local_minimum(prob, prob.theta0)
    assert not cert.certified and cert.min_value < cert.loss
    basins = assign_basins(cen, np.vstack([cen.minima[1].theta, prob.theta0]))
    assert basins.index.tolist() == [1, -1] and basins.n_unmatched == 1
    assert basins.fraction_global == 0.5


def test_solve_cell_and_bad_input() -> None:
    prob = tiny(3, 1, 0)
    sol = solve_cell(prob, [1, 1, 1], box=(-1.0, 1.0))
    assert sol.status == "optimal" and np.all(np.abs(sol.theta) <= 1.0 + 1e-9)
    assert_allclose(prob.loss(sol.theta), sol.value, atol=1e-8)
    with pytest.raises(InvalidOptionError, match="vector of ±1 of length 3"):
        solve_cell(prob, [1, 0, 1])
    with pytest.raises(InvalidOptionError, match="lo < hi"):
        landscape_census(prob, box=(1.0, -1.0))


def brute_vertices_2d(prob: LayerwiseL1Problem, lo: float, hi: float) -> int:
    """D = 2: intersect every pair of kink pieces under every hidden sign vector."""
    H, N = prob.features, prob.n_samples
    v, b_out = prob.net.weights[-1][0, 0], prob.net.biases[-1][0]
    hid = [(np.array([H[i, 0], 1.0]), 0.0) for i in range(N)]  # z_i = x_i w + b
    pts: list[np.ndarray] = []
    for s in itertools.product([1, -1], repeat=N):
        res = [((v * hid[i][0]) if s[i] > 0 else np.zeros(2), b_out - prob.y[i]) for i in range(N)]
        kinks = hid + [r for r in res if np.any(r[0] != 0)]
        for (a1, c1), (a2, c2) in itertools.combinations(kinks, 2):
            M = np.vstack([a1, a2])
            if abs(np.linalg.det(M)) < 1e-12:
                continue
            p = np.linalg.solve(M, -np.array([c1, c2]))
            in_cell = all(s[i] * (hid[i][0] @ p) >= -1e-9 for i in range(N))
            if in_cell and np.all(p > lo + 1e-9) and np.all(p < hi - 1e-9):
                if not any(np.max(np.abs(p - q)) <= 1e-7 for q in pts):
                    pts.append(p)
    return len(pts)


@pytest.mark.parametrize("seed", [0, 3])
def test_vertex_count_matches_pairwise_brute_force(seed: int) -> None:
    prob = tiny(4, 1, seed)
    vc = count_vertices_in_box(prob, center=np.zeros(2), radius=3.0)
    assert vc.complete
    assert vc.count == brute_vertices_2d(prob, -3.0, 3.0)
    assert np.all(vc.n_tight >= 2)
    assert vc.n_tight.max() >= 4  # the origin: all N hidden kinks meet there

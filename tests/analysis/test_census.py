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
        A = np.vstack(
            [np.hstack([resid, -np.eye(N), np.eye(N)]), np.hstack([np.array(rows), np.zeros((N * n, 2 * N))])]
        )
        rhs = prob.y - b_out
        lp = LinearProgram(
            c=np.concatenate([np.zeros(D), np.ones(2 * N)]),
            A=A,
            row_lower=np.concatenate([rhs, lo]),
            row_upper=np.concatenate([rhs, np.full(N * n, np.inf)]),
            col_lower=np.concatenate([np.full(D, -np.inf), np.zeros(2 * N)]),
        )
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
    assert cen.n_minimal_sets == cen.n_minima >= 1 and cen.n_minimum_vertices <= cen.n_candidates
    assert cen.components_exact and np.all(cen.cell_minimum < cen.n_minima)


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


def test_census_matches_certified_simplex_end_points() -> None:
    """Every certified Deep ReLU Simplex end point (an independent certificate) is a census minimum."""
    from lpengine.simplex import deep_relu_simplex

    prob = study_problem()
    cen = landscape_census(prob)
    rng = np.random.default_rng(0)
    ends = []
    for s in range(6):
        res = deep_relu_simplex(
            prob.net, prob.X, prob.y, theta0=rng.uniform(-3, 3, prob.dim), seed=s, line_search=False
        )
        assert res.certified
        ends.append(res.theta)
    b = assign_basins(cen, np.array(ends))
    assert b.n_unmatched == 0
    assert [cen.minima[i].loss for i in b.index] == pytest.approx([prob.loss(e) for e in ends], rel=1e-9)


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


# ---- local minima as connected components: exact brute force on the line arrangement (D = 2) ----------


def _loss_2d(prob: LayerwiseL1Problem, P: np.ndarray) -> np.ndarray:
    """L(w, b) = Σ_i |v relu(x_i w + b) + c - y_i| for a 1->[1]->1 net (written out, no library code)."""
    x, v, c = prob.X[:, 0], prob.net.weights[1][0, 0], prob.net.biases[1][0]
    Z = np.maximum(np.outer(P[:, 0], x) + P[:, [1]], 0.0)
    return np.abs(v * Z + c - prob.y[None, :]).sum(axis=1)


def brute_minima_2d(prob: LayerwiseL1Problem) -> tuple[int, list[tuple[np.ndarray, int]]]:
    """Connected components of the set of local-minimum points, from every face of the line arrangement.

    L is affine on every cell of the arrangement of the 2N lines x_i w + b = 0 (hidden kinks) and
    v (x_i w + b) = y_i - c (residual kinks on the active side).  Each relatively open face
    (vertex, edge, 2-cell) is found from a representative point and named by its sign vector;
    a face is in M iff L does not decrease along the rays that span its local cone (the ± line
    directions and normals of the lines through it, and ±e1, ±e2): L is linear on each sector
    of that cone and the sectors are convex, so this finite test is exact.  Two faces of M are
    joined when one lies in the closure of the other.
    """
    x, v, c = prob.X[:, 0], prob.net.weights[1][0, 0], prob.net.biases[1][0]
    lines = [(np.array([xi, 1.0]), 0.0) for xi in x] + [
        (np.array([xi, 1.0]), (yi - c) / v) for xi, yi in zip(x, prob.y, strict=True)
    ]
    lines = [(a / np.linalg.norm(a), r / np.linalg.norm(a)) for a, r in lines]
    An = np.array([a for a, _ in lines])
    cn = np.array([r for _, r in lines])
    dirs = np.array([[-a[1], a[0]] for a in An])
    verts: list[np.ndarray] = []
    for j, k in itertools.combinations(range(len(lines)), 2):
        M = np.vstack([An[j], An[k]])
        if abs(np.linalg.det(M)) > 1e-12:
            p = np.linalg.solve(M, [cn[j], cn[k]])
            if not any(np.max(np.abs(p - q)) < 1e-9 for q in verts):
                verts.append(p)
    reps = list(verts)
    for j in range(len(lines)):  # edges and rays on each line
        t = sorted({round(float(dirs[j] @ p), 12) for p in verts if abs(An[j] @ p - cn[j]) < 1e-9})
        base = An[j] * cn[j]
        reps += [base + 0.5 * (s + u) * dirs[j] for s, u in zip(t[:-1], t[1:], strict=True)]
        reps += [base + (t[0] - 1.0) * dirs[j], base + (t[-1] + 1.0) * dirs[j]]
    for p in verts:  # 2-cells: bisectors between consecutive rays around each vertex
        through = np.flatnonzero(np.abs(An @ p - cn) < 1e-9)
        ang = np.sort(
            np.concatenate(
                [np.arctan2(dirs[through, 1], dirs[through, 0]), np.arctan2(-dirs[through, 1], -dirs[through, 0])]
            )
        )
        mids = 0.5 * (ang + np.roll(ang, -1))
        mids[-1] += np.pi
        far = np.min(np.abs(An @ p - cn)[np.abs(An @ p - cn) >= 1e-9], initial=1.0)
        reps += [p + 0.25 * far * np.array([np.cos(a), np.sin(a)]) for a in mids]
    faces: dict[tuple[int, ...], np.ndarray] = {}
    for p in reps:
        s = An @ p - cn
        faces.setdefault(tuple(np.where(np.abs(s) < 1e-9, 0, np.sign(s)).astype(int)), p)
    in_m = []
    for key, p in faces.items():
        s = An @ p - cn
        on = np.abs(s) < 1e-9
        eps = 0.5 * float(np.min(np.abs(s[~on]), initial=1.0))
        U = np.vstack([dirs[on], -dirs[on], An[on], -An[on], np.eye(2), -np.eye(2)])
        Lp = _loss_2d(prob, p[None, :])[0]
        if np.all(_loss_2d(prob, p + eps * U) >= Lp - 1e-9 * max(1.0, Lp)):
            in_m.append(key)
    parent = list(range(len(in_m)))

    def find(a: int) -> int:
        while parent[a] != a:
            a = parent[a]
        return a

    for a, b in itertools.combinations(range(len(in_m)), 2):
        sa, sb = np.array(in_m[a]), np.array(in_m[b])
        if np.all((sa == 0) | (sa == sb)) or np.all((sb == 0) | (sb == sa)):
            parent[find(a)] = find(b)
    comp = {key: find(i) for i, key in enumerate(in_m)}
    n = len(set(comp.values()))
    return n, [(np.array(k), r) for k, r in comp.items()], An, cn


def check_against_brute_force(n_samples: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    net = ReLUNetwork.random(1, [1], seed=seed)
    prob = LayerwiseL1Problem(net, rng.uniform(-2, 2, (n_samples, 1)), rng.uniform(-2, 2, n_samples))
    cen = landscape_census(prob, verify=True)
    n_brute, faces, An, cn = brute_minima_2d(prob)
    assert cen.certified and cen.components_exact
    assert cen.n_minima == n_brute
    # each census minimum's representative lies on a face of a distinct brute-force component
    comps = []
    for m in cen.minima:
        s = An @ m.theta - cn
        key = np.where(np.abs(s) < 1e-7, 0, np.sign(s)).astype(int)
        match = [r for k, r in faces if np.array_equal(k, key)]
        assert len(match) == 1, f"representative {m.theta} is not on a brute-force local-minimum face"
        comps.append(match[0])
    assert len(set(comps)) == n_brute
    assert all(m.verified for m in cen.minima)
    # the all-dead sector (x_i w + b < 0 for all i) is flat, hence local minima; any point of it is matched
    dead = np.array([[0.0, -1.0], [0.0, -50.0]])
    b = assign_basins(cen, dead)
    assert b.n_unmatched == 0 and b.index[0] == b.index[1]
    assert cen.minima[b.index[0]].loss == pytest.approx(float(np.abs(prob.net.biases[1][0] - prob.y).sum()), rel=1e-12)
    return cen.summary()["n_minima_without_vertex"]


def test_census_minima_are_the_components_of_brute_force() -> None:
    without_vertex = [check_against_brute_force(n, s) for n, s in [(3, 0), (4, 1), (5, 2), (6, 3), (4, 5), (5, 7)]]
    # minima containing no LP vertex exist (a vertex-only census would have missed them)
    assert sum(without_vertex) >= 1


@pytest.mark.parametrize("status", ["iteration_limit", "time_limit", "inaccurate", "error", "unbounded"])
def test_failed_face_meeting_lp_raises_instead_of_reading_as_disjoint(status):
    """Only OPTIMAL (the faces meet) and INFEASIBLE (they do not) answer the question; a failed LP raises."""
    from types import SimpleNamespace

    from lpengine.analysis._cells import check_meet_status as _check_meet_status
    from lpengine.exceptions import SolverError
    from lpengine.lp import LPStatus

    _check_meet_status(SimpleNamespace(status=LPStatus.OPTIMAL, message=""), 0, 1)
    _check_meet_status(SimpleNamespace(status=LPStatus.INFEASIBLE, message=""), 0, 1)
    with pytest.raises(SolverError, match=f"cells 3 and 7 meet ended with status {status}"):
        _check_meet_status(SimpleNamespace(status=LPStatus(status), message="native code"), 3, 7)

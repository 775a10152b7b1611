"""The one local-minimum certificate against independent checks.

The census's ``certify_local_minimum`` and the Deep ReLU Simplex's certificate are one function
(:func:`lpengine.simplex.certificate.check_cells`).  Here it is tested against code that shares
nothing with it: the network's masked forward pass written out with numpy, the LP of every
incident hidden cell built by hand and solved by ``scipy.optimize.linprog``, and finite
differences of the loss in random directions.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from lpengine import ReLUNetwork
from lpengine.analysis import LayerwiseL1Problem, certify_local_minimum, landscape_census, solve_cell


def _split(prob: LayerwiseL1Problem, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, m = prob.width, prob.fan_in
    return theta[: n * m].reshape(n, m), theta[n * m :]


def _forward(prob: LayerwiseL1Problem, theta: np.ndarray, masks: list[np.ndarray] | None):
    """Hidden pre-activations (layer by layer, shape (N, n_l)) and outputs; ReLU masks given or true."""
    W, b = _split(prob, theta)
    z = prob.X @ W.T + b  # the trained layer is layer 0 in these tests
    zs = [z]
    net = prob.net
    for l in range(1, net.n_hidden_layers + 1):
        m = (z > 0) if masks is None else masks[l - 1]
        a = np.where(m, z, 0.0)
        z = a @ net.weights[l].T + net.biases[l]
        if l < net.n_hidden_layers:
            zs.append(z)
    return zs, z[:, 0]


def _loss(prob: LayerwiseL1Problem, theta: np.ndarray) -> float:
    _, out = _forward(prob, theta, None)
    return float(np.abs(out - prob.y).sum())


def brute_local_min(prob: LayerwiseL1Problem, theta: np.ndarray) -> tuple[float, float]:
    """(L(θ), min over every incident hidden cell of min L on cell ∩ box), by hand-built LPs in scipy.

    Incident cells: every sign choice of the hidden kinks vanishing at θ, the others keep θ's
    signs.  On a fixed pattern the map θ -> (kinks, outputs) is affine; its coefficients are read
    off the masked forward pass at θ = 0 and at the unit vectors (exact for an affine map).
    """
    D, N = prob.dim, prob.n_samples
    zs, _ = _forward(prob, theta, None)
    z = np.concatenate([a.ravel() for a in zs])
    tight = np.flatnonzero(np.abs(z) <= 1e-7 * (1.0 + np.max(np.abs(theta))))
    assert tight.size <= 10, "too many tight kinks for the brute force"
    shapes = [a.shape for a in zs]
    L0 = _loss(prob, theta)
    radius = 1e-2 * (1.0 + float(np.max(np.abs(theta))))
    best = np.inf
    for choice in itertools.product([1.0, -1.0], repeat=tight.size):
        sig = np.where(z > 0, 1.0, -1.0)
        sig[tight] = choice
        masks, pos = [], 0
        for s in shapes:
            masks.append(sig[pos : pos + s[0] * s[1]].reshape(s) > 0)
            pos += s[0] * s[1]

        def affine(t: np.ndarray, masks: list[np.ndarray] = masks) -> tuple[np.ndarray, np.ndarray]:
            zz, out = _forward(prob, t, masks)
            return np.concatenate([a.ravel() for a in zz]), out

        k0, o0 = affine(np.zeros(D))
        cols = [affine(e) for e in np.eye(D)]
        K = np.array([c[0] - k0 for c in cols]).T  # kinks = K θ + k0 on the cell
        O = np.array([c[1] - o0 for c in cols]).T  # outputs = O θ + o0
        live = np.linalg.norm(K, axis=1) > 0
        if np.any(~live & (sig * k0 < 0)):
            continue  # a constant kink of the wrong sign: empty cell
        # variables [θ, t+, t-]: min Σ t± s.t. O θ - t+ + t- = y - o0, -σ K θ <= σ k0 on live kinks
        A_eq = np.hstack([O, -np.eye(N), np.eye(N)])
        A_ub = np.hstack([-(sig[live, None] * K[live]), np.zeros((int(live.sum()), 2 * N))])
        bounds = [(t - radius, t + radius) for t in theta] + [(0, None)] * (2 * N)
        res = linprog(
            np.concatenate([np.zeros(D), np.ones(2 * N)]),
            A_ub=A_ub,
            b_ub=sig[live] * k0[live],
            A_eq=A_eq,
            b_eq=prob.y - o0,
            bounds=bounds,
            method="highs",
        )
        if res.status == 0:
            best = min(best, float(res.fun))
        else:
            assert res.status == 2, res.message  # only infeasible cells may fail
    return L0, best


def _problems() -> list[tuple[str, LayerwiseL1Problem]]:
    rng = np.random.default_rng(3)
    shallow = LayerwiseL1Problem(ReLUNetwork.random(1, [2], seed=4), rng.uniform(-2, 2, (4, 1)), rng.uniform(-2, 2, 4))
    deep = LayerwiseL1Problem(ReLUNetwork.random(2, [2, 2], seed=7), rng.uniform(-2, 2, (6, 2)), rng.uniform(-1, 1, 6))
    return [("shallow", shallow), ("deep", deep)]


def _points(name: str, prob: LayerwiseL1Problem) -> list[np.ndarray]:
    """End points of Deep ReLU Simplex walks, LP vertices of cells, census minima, a random point."""
    from lpengine.simplex import deep_relu_simplex

    rng = np.random.default_rng(11)
    pts = [rng.normal(0, 1, prob.dim)]
    for s in range(3):
        res = deep_relu_simplex(prob.net, prob.X, prob.y, theta0=rng.uniform(-2, 2, prob.dim), seed=s)
        pts.append(np.asarray(res.theta))
    for _ in range(4):  # the LP vertex of the cell of a random point
        z = prob.hidden_network.preactivations(rng.normal(0, 2, prob.dim))
        pts.append(solve_cell(prob, np.where(z > 0, 1, -1), box=(-5.0, 5.0)).theta)
    if name == "shallow":
        pts += [m.theta for m in landscape_census(prob).minima[:4]]
    return pts


@pytest.mark.parametrize(("name", "prob"), _problems(), ids=[n for n, _ in _problems()])
def test_certificate_agrees_with_brute_lps_and_finite_differences(name: str, prob: LayerwiseL1Problem) -> None:
    rng = np.random.default_rng(0)
    verdicts = []
    for theta in _points(name, prob):
        cert = certify_local_minimum(prob, theta)
        L0, best = brute_local_min(prob, theta)
        assert cert.loss == pytest.approx(L0, rel=1e-12, abs=1e-12)
        assert not cert.sampled and cert.n_failed == 0
        assert cert.certified != cert.refuted  # decided, one way or the other
        gap = L0 - best  # > 0: a hand-built LP found a lower point (HiGHS via scipy solves to ~1e-9)
        lp_noise = 1e-7 * (1.0 + L0)
        if gap > lp_noise:
            assert cert.refuted, f"a hand-built LP finds {best} < {L0}, but the certificate did not refute"
        if cert.certified:
            assert gap <= lp_noise, f"certified, but a hand-built LP finds {best} < {L0}"
            # no descent in random directions (one-sided finite differences)
            eps = 1e-6 * (1.0 + float(np.max(np.abs(theta))))
            U = rng.standard_normal((200, prob.dim))
            drops = [L0 - _loss(prob, theta + eps * u / np.linalg.norm(u)) for u in U]
            assert max(drops) <= 1e-9 * (1.0 + L0)
        else:
            # The refutation is checked by finite differences along the descent it names (L is convex
            # on the cell holding θ and the descent point); it may be far below the LPs' noise: a float
            # point 1e-13 off a vertex with large coordinates is not a local minimum (gaps of 5e-12 occur).
            assert gap >= -lp_noise
            d = np.asarray(cert.descent_point) - theta
            for t in (1e-1, 1e-3):
                assert _loss(prob, theta + t * d) < L0
        verdicts.append(cert.certified)
    # both outcomes occur, so neither branch is vacuous
    assert any(verdicts) and not all(verdicts)


@pytest.mark.parametrize(("name", "prob"), _problems(), ids=[n for n, _ in _problems()])
def test_pruned_box_lp_equals_the_full_cell_lp_on_the_box(name: str, prob: LayerwiseL1Problem) -> None:
    """region_lp's pruned box LP (what the certificate solves) has the optimum of the full cell LP ∩ box."""
    from lpengine.lp import LPStatus, solve
    from lpengine.simplex.encoding import region_lp

    model = prob.model
    rng = np.random.default_rng(1)
    n_feasible = n_empty = n_smaller = 0
    for _ in range(12):
        center = model.from_public(rng.normal(0, 1.5, prob.dim))
        flat = model.signs_at(center)
        cell = np.where(flat[: model.n_hidden_kinks] > 0, 1, -1).astype(np.int8)
        if rng.random() < 0.5:  # sometimes a cell that misses the box
            cell[rng.integers(cell.size)] *= -1
        radius = rng.uniform(0.01, 0.5)
        full, _ = region_lp(model, cell, box=(center, radius))
        pruned, _ = region_lp(model, cell, box=(center, radius), prune=True)
        a, b = solve(full), solve(pruned)
        assert a.status is b.status and a.status in (LPStatus.OPTIMAL, LPStatus.INFEASIBLE)
        if a.status is LPStatus.OPTIMAL:
            n_feasible += 1
            assert b.fun == pytest.approx(a.fun, rel=1e-8, abs=1e-8)
            assert pruned.n_cols <= full.n_cols and pruned.n_rows <= full.n_rows
            n_smaller += pruned.n_rows < full.n_rows
        else:
            n_empty += 1
    assert n_feasible >= 3 and n_empty >= 1 and n_smaller >= 1

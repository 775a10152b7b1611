"""Line-search crossings are vertices too: each has D independent kinks at zero (checked by recomputation)."""

from __future__ import annotations

import numpy as np

from lpengine import ReLUNetwork
from lpengine.simplex import deep_relu_simplex
from lpengine.simplex.encoding import build_layer_model


def test_every_line_search_crossing_has_D_independent_tight_kinks():
    rng = np.random.default_rng(6)
    net = ReLUNetwork.random(2, [3, 2], seed=6)
    X, y = rng.uniform(-2, 2, (60, 2)), rng.uniform(-2, 2, 60)
    theta0 = np.random.default_rng(6).uniform(-5, 5, 9)
    res = deep_relu_simplex(net, X, y, seed=0, line_search=True, theta0=theta0)
    model = build_layer_model(net, X, y)
    D = model.D
    G = res.trajectory
    n_checked = 0
    for k, k1, e in G.edges(data=True):
        if e["kind"] != "pivot" or e["kinks_crossed"] == 0:
            continue
        a = model.from_public(np.asarray(res.thetas[k]))
        b = model.from_public(np.asarray(res.thetas[k1]))
        d = b - a
        common = sorted(set(map(int, G.nodes[k]["basis"].split(","))) & set(map(int, G.nodes[k1]["basis"].split(","))))
        assert len(common) == D - 1  # the edge keeps D - 1 basis kinks at zero
        scale = max(1.0, float(np.max(np.abs(model.signs_at(a)))))
        za, zb = model.signs_at(a + 1e-9 * d), model.signs_at(b - 1e-9 * d)
        # Kinks strictly on opposite sides at the two ends (the leaving and entering kinks end at zero).
        changed = np.flatnonzero(
            (np.sign(za) * np.sign(zb) < 0) & (np.abs(za) > 1e-7 * scale) & (np.abs(zb) > 1e-7 * scale)
        )
        # A deeper kink may cross and cross back (its rate changes after an upstream crossing), and a
        # crossed kink may end within the tolerance of zero: net sign changes never exceed the crossings.
        assert changed.size <= e["kinks_crossed"]
        for kappa in changed:
            lo, hi = 1e-9, 1.0 - 1e-9
            s_lo = np.sign(za[kappa])
            for _ in range(60):  # bisection on the exact (true ReLU) kink value along the segment
                mid = 0.5 * (lo + hi)
                if np.sign(model.signs_at(a + mid * d)[kappa]) == s_lo:
                    lo = mid
                else:
                    hi = mid
            p = a + 0.5 * (lo + hi) * d
            z = model.signs_at(p)
            tight = np.flatnonzero(np.abs(z) <= 1e-7 * scale)
            assert kappa in tight and set(common) <= set(tight.tolist())
            assert tight.size >= D
            after = model.signs_at(p + 1e-7 * d)
            masks = model.masks(np.where(after >= 0, 1, -1).astype(np.int8))
            rows, _, _ = model.sensitivities(np.array(common + [int(kappa)]), masks)
            assert np.linalg.matrix_rank(rows) == D
            n_checked += 1
    assert n_checked >= 20  # the run crosses kinks on many pivots

"""Phase 1 of the native Deep ReLU Simplex engine: it never ends above the point it started from."""

from __future__ import annotations

import numpy as np

from lpengine.roundoff import gamma
from lpengine.simplex.encoding import build_layer_model
from lpengine.simplex.engine import run_engine
from lpengine.simplex.engine_log import EngineOptions
from lpengine.simplex.phase1 import null_basis
from lpengine.tolerances import Tolerances
from tests.simplex.nets import data, uniform_net

# The escape point (an incident cell's LP optimum, found at the vertex of loss 5.21575150961393) from
# which phase 1 ended 2.0e-12 above its start (loss_at 5.215751509615671 > 5.215751509613633) before
# the null moves took an orthonormal null-space basis: uniform_net(1, [4, 3], 1), data(6, 1, 1), seed 1,
# line search, the revival screen on.  Unit 2 is collapsed (its block exactly zero).
ESCAPE_POINT = [
    "-0x1.5b3433beeeadap+2",
    "-0x1.e842d000b7d14p+0",
    "0x1.20633bca4c11dp+1",
    "0x1.467bcc84b6f84p-3",
    "0x0.0p+0",
    "0x0.0p+0",
    "0x1.c03bebaad8c26p+4",
    "-0x1.45336be595813p+3",
]


def test_phase1_from_an_escape_point_ends_at_or_below_its_loss():
    net = uniform_net(1, [4, 3], 1)
    X, y = data(6, 1, 1)
    model = build_layer_model(net, X, y)
    theta0 = np.array([float.fromhex(h) for h in ESCAPE_POINT])
    start = model.loss_at(theta0)
    assert start == 5.215751509613633  # the example is the one that failed
    log, _, _ = run_engine(model, theta0, EngineOptions(line_search=True, seed=1, max_pivots=0), Tolerances())
    assert len(log.losses) == 1  # phase 1 reached a vertex (and max_pivots=0 stopped the walk there)
    assert model.loss_at(log.thetas[0]) <= start
    assert log.losses[0] <= start


def test_null_basis_is_orthonormal_and_orthogonal_to_the_rows():
    rng = np.random.default_rng(0)
    D = 8
    for k in range(D):
        A = rng.standard_normal((k, D))
        N = null_basis(A, D)
        assert N.shape == (D, D - k)
        # Householder QR: orthonormal and orthogonal to the rows to rounding (Higham, Thm 19.4: O(D u)).
        bound = 10 * gamma(D * D)
        assert np.max(np.abs(N.T @ N - np.eye(D - k))) <= bound
        if k:
            assert np.max(np.abs(A @ N)) <= bound * float(np.max(np.abs(A).sum(axis=1)))

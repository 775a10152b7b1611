"""The working-set solve of a box cell LP gives the full pruned LP's status and optimum."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from lpengine.lp import LPStatus, solve
from lpengine.simplex.cell_lp import region_lp
from lpengine.simplex.cell_solve import solve_box_cell
from lpengine.simplex.encoding import build_layer_model
from lpengine.tolerances import Tolerances
from tests.simplex.nets import data, uniform_net


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("radius", [0.05, 0.5])
def test_working_set_matches_the_full_pruned_lp(seed, radius):
    """Random centres and cells near them (some infeasible), boxes from small to large."""
    rng = np.random.default_rng(seed)
    net = uniform_net(3, [5, 3], seed)
    X, y = data(400, 3, seed)
    model = build_layer_model(net, X, y)
    tol = Tolerances()
    n_opt = n_inf = 0
    for _ in range(4):
        theta = rng.uniform(-1, 1, model.D)
        flat = model.signs_at(theta)
        hs = np.where(flat[: model.n_hidden_kinks] >= 0, 1, -1).astype(np.int8)
        # Flip the signs of a few kinks near zero: a neighbouring cell that may or may not meet the box.
        near = np.argsort(np.abs(flat[: model.n_hidden_kinks]))[:3]
        hs[near[rng.random(3) < 0.5]] *= -1
        rad = np.full(model.D, radius)
        full = solve(region_lp(model, hs, box=(theta, rad), prune=True)[0], tol=tol)
        ws = solve_box_cell(model, hs, theta, rad, tol=tol)
        assert ws.status is full.status
        if full.status is LPStatus.OPTIMAL:
            n_opt += 1
            assert_allclose(ws.fun, full.fun, rtol=1e-7, atol=1e-7)
            # The working-set point is in the cell (within the LP tolerance): its true loss is its value.
            assert_allclose(model.loss_at(np.asarray(ws.x[: model.D])), ws.fun, rtol=1e-6, atol=1e-6)
        else:
            assert full.status is LPStatus.INFEASIBLE
            n_inf += 1
    assert n_opt >= 1


def test_collapsed_unit_rows_enter_only_when_violated():
    """A unit at exact zero has every sample as a kink; excluded from the start, the answer is unchanged."""
    rng = np.random.default_rng(5)
    net = uniform_net(3, [4, 2], 5)
    X, y = data(300, 3, 5)
    model = build_layer_model(net, X, y)
    theta = rng.uniform(-1, 1, model.D)
    theta[: model.p] = 0.0  # unit 0 collapsed: all its kinks are at zero
    ids = model.hidden_ids[:, 0]
    tol = Tolerances()
    v = rng.standard_normal(model.p)
    flat = model.signs_at(theta)
    hs = np.where(flat[: model.n_hidden_kinks] >= 0, 1, -1).astype(np.int8)
    hs[ids] = np.where(model.H @ v > 0, 1, -1).astype(np.int8)  # the unit's cell entered along v
    rad = np.full(model.D, 0.05)
    full = solve(region_lp(model, hs, box=(theta, rad), prune=True)[0], tol=tol)
    ws = solve_box_cell(model, hs, theta, rad, tol=tol, at_zero=1e-12, exclude=ids)
    assert full.status is LPStatus.OPTIMAL and ws.status is LPStatus.OPTIMAL
    assert_allclose(ws.fun, full.fun, rtol=1e-7, atol=1e-7)

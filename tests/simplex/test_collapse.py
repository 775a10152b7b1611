"""Collapsed units: the exact decision, the revival search, and honest certificates around them."""

from __future__ import annotations

import json
import math
import pathlib

import numpy as np
import pytest
from numpy.testing import assert_allclose

from lpengine import ReLUNetwork
from lpengine.simplex import deep_relu_simplex
from lpengine.simplex.certificate import check_cells
from lpengine.simplex.collapse import (
    collapsed_units_of_basis,
    exact_full_row_rank,
    loss_error_bound,
    search_revival,
    unit_kinks,
)
from lpengine.simplex.encoding import build_layer_model
from lpengine.simplex.problem import load_problem
from lpengine.tolerances import DEFAULT_TOLERANCES
from tests.simplex.nets import data, uniform_net

PROBLEM = pathlib.Path(__file__).resolve().parents[2] / "problems" / "first_layer_500.toml"


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([[1.0, 2.0], [2.0, 4.0]], False),
        # 0.2 is exactly twice 0.1 as float64 rationals (same mantissa, exponent + 1): dependent.
        ([[0.1, 0.2], [0.2, 0.4]], False),
        # Independent by 2^-1000: any float threshold on a pivot would call this singular.
        ([[1.0, 0.0], [1.0, 2.0**-1000]], True),
        ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], False),
        ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 10.0]], True),
        ([[0.0, 0.0]], False),
    ],
)
def test_exact_full_row_rank(rows, expected):
    assert exact_full_row_rank(np.array(rows)) is expected


def test_collapsed_units_need_p_independent_kinks_of_one_unit():
    net = uniform_net(2, [3, 2], 0)
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [1.0, 1.0]])
    y = np.zeros(5)
    model = build_layer_model(net, X, y)
    # Unit 1's kinks of samples 0, 1, 2: rows (0,0,1), (1,0,1), (0,1,1) are independent -> collapsed.
    B = model.hidden_ids[[0, 1, 2], 1]
    assert collapsed_units_of_basis(model, B) == [1]
    # Samples 0, 1, 3 lie on one line: rows (0,0,1), (1,0,1), (2,0,1) have rank 2 -> not collapsed.
    B = model.hidden_ids[[0, 1, 3], 1]
    assert collapsed_units_of_basis(model, B) == []
    assert collapsed_units_of_basis(model, model.hidden_ids[[0, 1, 2], 1], known=[1]) == []


def _harmful_unit_problem(v1):
    """One input, one unit at exact zero; output ``v1 * relu(u . h) + 1`` and targets 0: every residual +1."""
    net = ReLUNetwork((np.array([[0.0]]), np.array([[v1]])), (np.array([0.0]), np.array([1.0])))
    X = np.linspace(-2.0, 2.0, 9)[:, None] + 0.01
    y = np.zeros(9)
    model = build_layer_model(net, X, y)
    return model, np.zeros(model.D)


@pytest.mark.parametrize(("v1", "revived"), [(1.0, False), (-1.0, True)])
def test_revival_search_finds_descent_iff_switching_the_unit_on_helps(v1, revived):
    """Every residual is +1.  The unit adds ``v1 * relu(u . h)`` to the output: with ``v1 > 0`` any
    switch-on raises the loss (no descent exists), with ``v1 < 0`` it lowers it on every sample
    it switches on (every cell with an active sample descends)."""
    model, theta = _harmful_unit_problem(v1)
    signs = np.where(model.signs_at(theta) >= 0, 1, -1).astype(np.int8)
    loss = model.loss_at(theta)
    assert loss == 9.0
    found = search_revival(
        model,
        theta,
        signs,
        loss,
        0,
        [0],
        np.zeros(0, np.int64),
        ray_dirs=np.zeros((0, model.D)),
        n_directions=8,
        seed=0,
        radius=1e-3,
        tol=DEFAULT_TOLERANCES,
    )
    assert found.cells >= 1
    assert (found.best_x is not None) is revived
    if revived:
        assert model.loss_at(found.best_x) < loss - 1e-6
        assert np.any(found.best_x != 0.0)


def test_lp_gap_below_the_old_objective_tolerance_still_voids():
    """A point 1e-9 away from a certified minimum: the loss gap (~1e-8) is below the old objective
    tolerance 1e-9 * (1 + L) ~ 1e-7 but far above the rounding bound: the cell LP must void it."""
    net = uniform_net(2, [3], 1)
    X, y = data(40, 2, 1)
    res = deep_relu_simplex(net, X, y, seed=0)
    assert res.certified
    model = build_layer_model(net, X, y)
    th = model.from_public(res.theta)
    e = np.random.default_rng(0).standard_normal(model.D)
    th2 = th + 1e-9 * e / np.linalg.norm(e)
    L2 = model.loss_at(th2)
    gap = L2 - res.fun
    assert 0 < gap < DEFAULT_TOLERANCES.objective * (1 + res.fun)
    assert gap > 100 * loss_error_bound(model, th2)
    signs = np.where(model.signs_at(th2) >= 0, 1, -1).astype(np.int8)
    flat = model.signs_at(th2)
    tight = np.flatnonzero(np.abs(flat[: model.n_hidden_kinks]) <= 1e-6)
    chk = check_cells(model, th2, signs, tight, L2, max_cells=64, seed=0, radius=1e-4, tol=DEFAULT_TOLERANCES)
    assert not chk.ok and chk.best_x is not None
    assert model.loss_at(chk.best_x) < L2


def _first_layer(n, seed):
    """The authors' first-layer setup (problems/first_layer_500.toml) with ``n`` samples."""
    prob = load_problem(PROBLEM)
    rng = np.random.default_rng(1)
    X = rng.uniform(-3, 3, (n, 4))
    y = rng.uniform(-3, 3, n)
    theta0 = np.random.default_rng(seed).uniform(-20, 20, 25)
    return prob.network, X, y, theta0


def _finite_difference_check(model, theta, loss, rng, n_dir=200):
    """Local minimum: no random direction lowers the loss at a small step."""
    for _ in range(n_dir):
        e = rng.standard_normal(model.D)
        e /= np.linalg.norm(e)
        eps = 1e-7 * max(1.0, float(np.abs(theta).max()))
        assert model.loss_at(theta + eps * e) >= loss - 1e-9 * (1 + loss)


@pytest.mark.parametrize(("n", "seed"), [(200, 0), (200, 3), (300, 3), (300, 0)])
def test_collapsing_walk_ends_certified_on_live_units(n, seed):
    """Starts whose walks collapse a unit (the first three; the issue's stall, at small N): no stall,
    a certified minimum on the live units, the collapsed blocks exactly zero, finite differences agree."""
    net, X, y, theta0 = _first_layer(n, seed)
    res = deep_relu_simplex(net, X, y, theta0=theta0, seed=0)
    assert res.status == "local_minimum"
    assert res.stats["zero_steps"] < 50
    c = res.certificate
    assert c.certified and c.ray_test and c.lp_confirmed
    model = build_layer_model(net, X, y)
    th = model.from_public(res.theta)
    for cu in c.collapsed_units:
        assert np.all(th[cu.unit * model.p : (cu.unit + 1) * model.p] == 0.0)
        assert cu.outcome.startswith("no descent found in ") and cu.cells_searched >= 1
        assert c.scope == "live units"
    assert_allclose(model.loss_at(th), res.fun, rtol=1e-12)
    assert np.all(np.diff(res.losses) <= 1e-9 * (1 + res.losses[0]))
    if not c.collapsed_units:
        _finite_difference_check(model, th, res.fun, np.random.default_rng(seed))
    d = c.to_dict()
    json.dumps(d)  # plain JSON
    assert isinstance(d["log2_cells"], float) and d["log2_cells"] == float(c.n_tight_hidden)
    assert res.stats["collapse_events"] >= len(c.collapsed_units)
    if (n, seed) != (300, 0):
        assert res.stats["collapse_events"] >= 1
    else:  # a dead unit: rays of slope exactly 0 that floats see as -1e-16, settled in exact rationals
        assert c.exact_rays >= 1


def test_collapse_events_are_counted_and_kinks_excluded():
    net, X, y, theta0 = _first_layer(2000, 0)  # the first stall: phase 1 collapses unit 1
    res = deep_relu_simplex(net, X, y, theta0=theta0, seed=0, max_pivots=0)
    model = build_layer_model(net, X, y)
    B = np.array([int(b) for b in res.trajectory.nodes[0]["basis"].split(",")])
    units = collapsed_units_of_basis(model, B)
    assert units == [1] and res.stats["collapse_events"] == 1
    th0 = model.from_public(res.thetas[0])
    for u in units:
        assert np.all(th0[u * model.p : (u + 1) * model.p] == 0.0)
    # Its kinks are not counted as tight in the trajectory (they are pinned, not degenerate).
    n_tight = res.trajectory.nodes[0]["n_tight"]
    assert n_tight < model.D + unit_kinks(model, units).size - model.p * len(units)
    assert math.isfinite(res.certificate.min_slope) if res.certificate else True


@pytest.mark.parametrize("seed", range(4))
def test_exact_ray_slopes_match_float_pricing(seed):
    """At a final vertex, the exact rational slopes of all 2D rays (bent edges too) equal the float pricing."""
    from lpengine.simplex.exact import exact_ray_slopes
    from lpengine.simplex.pivot import Vertex, price_rays

    net = uniform_net(2, [3, 2], seed)
    X, y = data(30, 2, seed)
    res = deep_relu_simplex(net, X, y, seed=seed)
    model = build_layer_model(net, X, y)
    th = model.from_public(res.theta)
    B = np.array(res.certificate.basis)
    signs = np.where(model.signs_at(th) >= 0, 1, -1).astype(np.int8)
    signs[B] = 1  # tracked side of basis kinks is irrelevant to the rays (each ray chooses its side)
    st = Vertex(theta=th, signs=signs, B=B)
    st.refresh(model)
    st.A, st.pre, st.dec = model.sensitivities(B, st.masks)
    st.Ainv = np.linalg.inv(st.A)
    pr = price_rays(model, st, 1e-9)
    unbent = list(range(2 * model.D))  # all rays, bent edges included
    exact = exact_ray_slopes(model, th, signs, B, unbent)
    assert exact is not None and len(exact) == 2 * model.D
    for r in unbent:
        assert_allclose(float(exact[r]), pr.slopes[r], rtol=1e-9, atol=1e-9)

"""Status enum, JSON form of results, progress states and a clean stop on Ctrl-C."""

from __future__ import annotations

import json

import numpy as np

from lpengine import ReLUNetwork
from lpengine.simplex import deep_relu_simplex
from lpengine.simplex.encoding import build_layer_model
from lpengine.simplex.status import DRSStatus


def _problem(seed=0, n=60):
    net = ReLUNetwork.random(2, [4, 3], seed=seed)
    rng = np.random.default_rng(seed)
    return net, rng.uniform(-2, 2, (n, 2)), rng.uniform(-2, 2, n)


def _long_problem():
    """A walk of well over 3 pivots: 4 -> [5, 4, 2] -> 1, N = 200, theta0 ~ U(-20, 20)^25."""
    net = ReLUNetwork.random(4, [5, 4, 2], seed=0)
    rng = np.random.default_rng(1)
    X, y = rng.uniform(-3, 3, (200, 4)), rng.uniform(-3, 3, 200)
    return net, X, y, np.random.default_rng(0).uniform(-20, 20, 25)


def test_status_is_an_enum_that_compares_as_its_value():
    net, X, y = _problem()
    res = deep_relu_simplex(net, X, y, seed=0)
    assert res.status is DRSStatus.LOCAL_MINIMUM
    assert res.status == "local_minimum" and str(res.status) == "local_minimum"
    d = res.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["status"] == "local_minimum" and d["nit"] == res.nit and len(d["theta"]) == res.theta.size
    assert d["certificate"]["certified"] is res.certified


def test_budget_status_and_progress_states():
    net, X, y, th0 = _long_problem()
    states = []
    res = deep_relu_simplex(net, X, y, theta0=th0, seed=0, max_pivots=3, callback=states.append)
    assert res.status is DRSStatus.MAX_PIVOTS and res.nit == 3 and not res.success
    # Phase 1 first (pivot count 0, the basis filling up), then one state per pivot; a walk stopped by its
    # budget is not at a minimum, so no certificate LP (no "certify" state).
    p1 = [s for s in states if s.phase == "phase1"]
    walk = [s for s in states if s.phase == "walk"]
    assert states == p1 + walk and [s.basis_kinks for s in p1] == list(range(len(p1))) and len(p1) <= 25
    assert all(s.iteration == 0 for s in p1)
    assert [s.iteration for s in walk] == [1, 2, 3]
    assert all(s.pivots_per_second > 0 and 0 <= s.n_collapsed <= 5 and s.basis_kinks == 25 for s in walk)
    # The states carry the walk's running loss; the result's last loss is the loss of the end point
    # evaluated afresh (res.fun), equal to it up to rounding.
    assert [s.loss for s in walk][:-1] == list(res.losses[1:-1])
    assert res.losses[-1] == res.fun and abs(walk[-1].loss - res.fun) <= 1e-13 * res.fun


def test_keyboard_interrupt_ends_cleanly_at_the_last_vertex():
    net, X, y, th0 = _long_problem()

    def cb(state):
        if state.iteration == 2:
            raise KeyboardInterrupt

    res = deep_relu_simplex(net, X, y, theta0=th0, seed=0, callback=cb)
    assert res.status is DRSStatus.INTERRUPTED and "interrupted" in res.message
    assert res.trajectory.number_of_nodes() == len(res.losses) == res.nit + 1 == 3
    model = build_layer_model(net, X, y)
    np.testing.assert_allclose(model.loss_at(model.from_public(res.theta)), res.fun, rtol=1e-12)
    assert res.fun == res.losses[-1]

"""Budgets, progress and clean stops of a Deep ReLU Simplex run, in every phase (lpengine.simplex.progress)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from numpy.testing import assert_allclose

from lpengine import ReLUNetwork
from lpengine.simplex import deep_relu_simplex
from lpengine.simplex.encoding import build_layer_model
from lpengine.simplex.engine import EngineOptions, run_engine
from lpengine.simplex.progress import CertifyBudget, DRSState, Halt
from lpengine.simplex.status import DRSStatus
from lpengine.tolerances import DEFAULT_TOLERANCES


def _problem():
    rng = np.random.default_rng(12)
    dims = [3, 5, 3, 1]
    ws = tuple(np.round(rng.uniform(-1, 1, (b, a)), 3) for a, b in zip(dims[:-1], dims[1:], strict=True))
    bs = tuple(np.round(rng.uniform(-1, 1, b), 3) for b in dims[1:])
    X = rng.uniform(-2, 2, (80, 3))
    y = rng.uniform(-2, 2, 80)
    return ReLUNetwork(ws, bs), X, y


@pytest.fixture(scope="module")
def full_run():
    net, X, y = _problem()
    states: list[DRSState] = []
    res = deep_relu_simplex(net, X, y, seed=0, callback=states.append)
    assert res.status == "local_minimum" and res.certified and res.nit >= 3
    # Phase 1 adds one basis kink per step (D = 5 * 4 = 20), at pivot count 0.
    p1 = [(s.iteration, s.basis_kinks) for s in states if s.phase == "phase1"]
    assert p1 == [(0, k) for k in range(len(p1))] and 1 <= len(p1) <= 20
    return net, X, y, res, [s.phase for s in states]


def _consistent(net, X, y, res):
    """The reported point and loss agree (an independent forward pass), and the losses never increase."""
    model = build_layer_model(net, X, y)
    assert_allclose(model.loss_at(model.from_public(res.theta)), res.fun, rtol=1e-10, atol=1e-10)
    assert np.all(np.diff(res.losses) <= 1e-9 * (1 + res.start_loss))


def test_the_callback_sees_every_phase_in_order(full_run):
    _, _, _, res, phases = full_run
    assert phases[0] == "phase1" and "walk" in phases and phases[-1] == "certify"
    order = {"phase1": 0, "walk": 1, "certify": 2}
    # Phase 1 comes first; walk and certify may alternate only through restarts (escape / revival).
    first_walk = phases.index("walk")
    assert all(p == "phase1" for p in phases[:first_walk])
    assert phases.count("walk") >= res.nit
    assert max(order[p] for p in phases) == 2


def test_stop_while_certifying_keeps_the_walk_and_says_why(full_run):
    net, X, y, ref, _ = full_run
    res = deep_relu_simplex(net, X, y, seed=0, callback=lambda s: s.phase == "certify")
    assert res.status == "stopped" and not res.certified and res.certificate is None
    assert "while certifying" in res.message
    assert_allclose(res.losses[: len(ref.losses)], ref.losses[: len(res.losses)], rtol=0, atol=0)
    _consistent(net, X, y, res)


@pytest.mark.parametrize("phase", ["phase1", "walk", "certify"])
def test_ctrl_c_in_any_phase_ends_cleanly_as_interrupted(full_run, phase):
    """KeyboardInterrupt (Ctrl-C, or raised by the callback as the command line does) ends the run at the
    last consistent point with status "interrupted" and nothing certified."""
    net, X, y, ref, _ = full_run
    seen = {"n": 0}

    def cb(s: DRSState) -> None:
        if s.phase == phase:
            seen["n"] += 1
            if seen["n"] == 3 or phase == "certify":
                raise KeyboardInterrupt

    res = deep_relu_simplex(net, X, y, seed=0, callback=cb)
    assert res.status == "interrupted" and not res.certified and res.certificate is None
    assert "interrupted" in res.message
    _consistent(net, X, y, res)
    if phase == "phase1":
        assert res.losses.size == 0 and res.nit == 0 and "phase 1" in res.message
    elif phase == "walk":
        # Raised after the 3rd pivot was recorded: the walk ends at that vertex.
        assert res.nit == 3 and res.losses.size == 4
        # Same path as the uninterrupted run; the last loss is the loss of the end point evaluated
        # afresh (``fun``), equal to the walk's running value there up to rounding.
        assert_allclose(res.thetas, ref.thetas[:4], rtol=0, atol=0)
        assert_allclose(res.losses[:3], ref.losses[:3], rtol=0, atol=0)
        assert res.losses[3] == res.fun
        assert_allclose(res.losses[3], ref.losses[3], rtol=1e-14)
        assert_allclose(res.theta, res.thetas[-1], rtol=0, atol=0)
    else:
        assert res.nit >= ref.nit and "certifying" in res.message


def test_time_limit_in_phase_1_reports_no_vertex():
    net, X, y = _problem()
    res = deep_relu_simplex(net, X, y, seed=0, time_limit=0.0)
    assert res.status == "time_limit" and res.nit == 0 and res.losses.size == 0 and "phase 1" in res.message
    assert res.certificate is None and not res.success
    _consistent(net, X, y, res)


def test_certify_budget_stops_at_the_time_limit_and_on_the_callback():
    state = DRSState(iteration=7, loss=1.5, region_changes=2, kinks_crossed=9, step=0.0, elapsed=0.0, n_vertices=8)
    poll = CertifyBudget(callback=None, time_limit=0.0, t_start=time.perf_counter(), state=state)
    with pytest.raises(Halt) as exc:
        poll()
    assert exc.value.status is DRSStatus.TIME_LIMIT and "time limit" in exc.value.message
    seen: list[DRSState] = []
    poll = CertifyBudget(callback=lambda s: seen.append(s) or len(seen) == 2, time_limit=None, t_start=0.0, state=state)
    poll()
    with pytest.raises(Halt) as exc:
        poll()
    assert exc.value.status is DRSStatus.STOPPED
    assert [(s.phase, s.lp_solves, s.iteration, s.loss) for s in seen] == [
        ("certify", 0, 7, 1.5),
        ("certify", 1, 7, 1.5),
    ]


def test_engine_options_take_a_callback_without_any_state_factory():
    """EngineOptions(callback=...) alone works (it used to need a state_factory and crashed without one)."""
    net, X, y = _problem()
    model = build_layer_model(net, X, y)
    states: list[DRSState] = []
    opts = EngineOptions(callback=lambda s: states.append(s) or s.phase == "walk" and s.iteration >= 2)
    theta0 = model.from_public(np.concatenate([net.weights[0].ravel(), net.biases[0]]))
    log, _, _ = run_engine(model, theta0, opts, DEFAULT_TOLERANCES)
    assert log.status == DRSStatus.STOPPED and log.nit == 2
    assert {s.phase for s in states} == {"phase1", "walk"} and all(isinstance(s, DRSState) for s in states)

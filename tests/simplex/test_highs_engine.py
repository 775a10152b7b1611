"""The HiGHS-driven engine (``engine="highs"``) against the native engine and independent LPs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from lpengine.cli import main
from lpengine.exceptions import InvalidOptionError
from lpengine.lp import LPStatus, solve
from lpengine.simplex import deep_relu_simplex
from lpengine.simplex.certificate import local_cell_lp
from lpengine.simplex.encoding import build_layer_model
from lpengine.simplex.problem import load_problem
from tests.simplex.nets import data, uniform_net


def confirm_by_cell_lp(net, X, y, res):
    """The final loss equals the exact loss and the optimum of HiGHS's LP of the final hidden cell near theta."""
    model = build_layer_model(net, X, y)
    th = model.from_public(np.asarray(res.theta))
    assert_allclose(model.loss_at(th), res.fun, rtol=1e-9, atol=1e-9)
    flat = model.signs_at(th)
    hidden = np.where(flat[: model.n_hidden_kinks] >= 0, 1, -1).astype(np.int8)
    lp = local_cell_lp(model, hidden, th, 1e-3 * max(1.0, float(np.max(np.abs(th)))))
    out = solve(lp)
    assert out.status is LPStatus.OPTIMAL
    assert out.fun >= res.fun - 1e-7 * (1.0 + res.fun)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), widths=st.sampled_from([(3,), (2, 2), (3, 2)]), n=st.integers(8, 16))
def test_both_engines_end_at_confirmed_local_minima(seed, widths, n):
    net = uniform_net(2, widths, seed)
    X, y = data(n, 2, seed)
    results = {eng: deep_relu_simplex(net, X, y, seed=0, engine=eng) for eng in ("native", "highs")}
    for eng, res in results.items():
        assert res.stats["engine"] == eng
        c = res.certificate
        assert res.status == "local_minimum" and c is not None and c.ray_test and c.lp_confirmed, (eng, res.message)
        if not c.degenerate:
            assert res.certified, (eng, c.reason)
        confirm_by_cell_lp(net, X, y, res)
    # The HiGHS engine's log: every vertex is a cell LP optimum, loss recomputed exactly, never increasing.
    h = results["highs"]
    model = build_layer_model(net, X, y)
    exact = [model.loss_at(model.from_public(t)) for t in h.thetas]
    assert_allclose(exact, h.losses, rtol=1e-9, atol=1e-9)
    assert np.all(np.diff(h.losses) <= 1e-9 * (1.0 + h.losses[:-1]))
    assert h.stats["lp_solves"] >= 1 and h.stats["lp_iterations"] >= 0


def test_highs_trajectory_graph_format():
    net = uniform_net(2, (3, 2), 3)
    X, y = data(25, 2, 3)
    res = deep_relu_simplex(net, X, y, seed=0, engine="highs")
    G = res.trajectory
    assert G.number_of_nodes() == len(res.losses) == res.nit + 1 + res.stats["escapes"]
    assert G.graph["D"] == 9 and G.graph["line_search"] is False
    for k, d in G.nodes(data=True):
        assert d["loss"] == res.losses[k] and d["n_tight"] >= 9 and len(d["basis"].split(",")) == 9
    kinds = {d["kind"] for _, _, d in G.edges(data=True)}
    assert kinds <= {"region", "escape"} and res.nit >= 1
    assert all(d["region_changed"] for _, _, d in G.edges(data=True) if d["kind"] == "region")


@pytest.mark.parametrize("quantile", [0.5, 0.8])
def test_lad_case_both_engines_reach_the_global_optimum(quantile):
    """Output layer trained (no hidden kinks): LAD / quantile regression on the fixed features."""
    rng = np.random.default_rng(5)
    net = uniform_net(2, (3,), 5)
    X = rng.uniform(-2, 2, (40, 2))
    y = rng.uniform(-2, 2, 40)
    Hf = np.maximum(X @ net.weights[0].T + net.biases[0], 0.0)
    A = np.hstack([Hf, np.ones((40, 1))])
    # Independent LP: min sum w+ u + w- v  s.t.  A beta - u + v = y  (r = A beta - y = u - v).
    p = A.shape[1]
    w_plus, w_minus = (1.0, 1.0) if quantile == 0.5 else (1 - quantile, quantile)  # L1 is sum |r|
    c = np.concatenate([np.zeros(p), np.full(40, w_plus), np.full(40, w_minus)])
    Aeq = np.hstack([A, -np.eye(40), np.eye(40)])
    ref = scipy.optimize.linprog(c, A_eq=Aeq, b_eq=y, bounds=[(None, None)] * p + [(0, None)] * 80, method="highs")
    for eng in ("native", "highs"):
        res = deep_relu_simplex(net, X, y, layer=1, quantile=quantile, theta0=np.zeros(p), seed=0, engine=eng)
        assert res.status == "local_minimum" and res.certified
        assert_allclose(res.fun, ref.fun, rtol=1e-9)


def test_engine_option_is_checked():
    net = uniform_net(2, (3,), 0)
    X, y = data(10, 2, 0)
    with pytest.raises(InvalidOptionError, match="'engine' parameter must be 'native' or 'highs'. Got 'cplex'"):
        deep_relu_simplex(net, X, y, engine="cplex")


def test_problem_file_engine_and_cell_cap_reach_the_solver(tmp_path, capsys):
    f = tmp_path / "p.toml"
    f.write_text(
        "[network]\nn_in = 2\nhidden = [3]\nseed = 1\n[data]\nn_samples = 20\nseed = 2\n"
        "[solver]\nengine = 'highs'\ncertify_max_cells = 64\n"
    )
    p = load_problem(f)
    assert p.options["engine"] == "highs" and p.options["certify_max_cells"] == 64
    assert main(["solve", str(f), "--json", "--no-progress", "--engine", "native"]) == 0
    out = json.loads(capsys.readouterr().out)["result"]  # the CLI's JSON envelope
    assert out["status"] == "local_minimum"

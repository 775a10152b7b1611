"""Deep ReLU Simplex: monotonicity, vertex structure, certificates, degeneracies."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from lpengine import ReLUNetwork
from lpengine.exceptions import InvalidNetworkError, InvalidOptionError, InvalidProblemError
from lpengine.lp import LPStatus, solve
from lpengine.simplex import deep_relu_simplex, lad, minimize_output
from lpengine.simplex.encoding import build_layer_model, region_lp
from lpengine.simplex.pivot import Vertex, price_rays
from tests.simplex.nets import data, uniform_net


def assert_local_min_evidence(res):
    """Certified, or an honestly reported degenerate vertex whose edge test and sampled cells passed."""
    c = res.certificate
    assert res.status == "local_minimum" and c.ray_test and c.lp_confirmed
    assert res.success == res.certified
    if not res.certified:
        assert c.degenerate and c.sampled and "degenerate" in c.reason


def basis_rank_in_some_incident_cell(model, flat, B, tz, tries=64):
    """Largest rank of the basis normals over sign choices of the hidden kinks at zero.

    A basis kink's normal depends on the side taken for the kinks at zero upstream of it in its sample
    (the engine's tracked pattern is one of those sides, which the trajectory does not store).  The
    vertex is a vertex when the ``D`` normals are independent in *some* incident cell: try both
    all-active and all-inactive for the kinks at zero, then seeded random sides."""
    nhk = model.n_hidden_kinks
    tight = np.flatnonzero(np.abs(flat[:nhk]) <= tz)
    base = np.where(flat >= 0, 1, -1).astype(np.int8)
    rng = np.random.default_rng(0)
    best = 0
    for k in range(tries + 2):
        signs = base.copy()
        signs[tight] = 1 if k == 0 else -1 if k == 1 else rng.choice(np.array([-1, 1], np.int8), tight.size)
        rows, _, _ = model.sensitivities(B, model.masks(signs))
        best = max(best, int(np.linalg.matrix_rank(rows)))
        if best == model.D:
            break
    return best


def check_vertices(net, X, y, res, layer=0, tol=1e-7):
    """Recompute every logged vertex: D tight basis kinks with independent normals, exact loss."""
    model = build_layer_model(net, X, y, layer=layer)
    G = res.trajectory
    D = model.D
    bases = []
    for k in range(len(res.losses)):
        th = model.from_public(res.thetas[k])
        flat = model.signs_at(th)
        B = np.array([int(b) for b in G.nodes[k]["basis"].split(",")])
        assert B.size == D
        scale = max(1.0, float(np.max(np.abs(flat))))
        assert np.max(np.abs(flat[B])) <= tol * scale
        assert basis_rank_in_some_incident_cell(model, flat, B, tol * scale) == D
        assert_allclose(model.loss_at(th), res.losses[k], rtol=1e-10, atol=1e-10)
        bases.append(set(B.tolist()))
    for k in range(len(bases) - 1):
        if G.edges[k, k + 1]["kind"] in ("escape", "revive"):
            assert res.losses[k + 1] < res.losses[k]
            continue
        assert len(bases[k] & bases[k + 1]) == D - 1
        assert G.edges[k, k + 1]["kinks_crossed"] >= 0


@settings(max_examples=200)
@given(
    n_in=st.integers(1, 3),
    widths=st.lists(st.integers(1, 4), min_size=1, max_size=2),
    n=st.integers(6, 25),
    seed=st.integers(0, 10_000),
    line_search=st.booleans(),
)
def test_loss_never_increases_and_vertices_are_vertices(n_in, widths, n, seed, line_search):
    net = uniform_net(n_in, widths, seed)
    X, y = data(n, n_in, seed)
    try:
        res = deep_relu_simplex(net, X, y, seed=seed, line_search=line_search, max_pivots=300)
    except InvalidProblemError as exc:  # N < n_in + 1 distinct rows: no vertex exists
        assert "rank" in str(exc)
        return
    assert np.all(np.diff(res.losses) <= 1e-9 * (1.0 + res.losses[0]))
    assert res.start_loss >= res.losses[0] - 1e-9 * (1.0 + res.start_loss)
    assert len(res.losses) == res.nit + 1 + res.stats["escapes"] + res.stats["revivals"]
    check_vertices(net, X, y, res)
    if res.status == "local_minimum":
        assert res.certificate.ray_test


def cu_outcome_is_honest(cert, unit):
    """A collapsed unit's outcome: no descent found in a stated number of cells (never "none exists",
    unless the loss is exactly 0), after a search of at least one cell."""
    (cu,) = [cu for cu in cert.collapsed_units if cu.unit == unit]
    if cert.zero_loss:
        return cu.outcome.startswith("no descent exists")
    return cu.outcome == f"no descent found in {cu.cells_searched} cells" and cu.cells_searched >= 1


@pytest.mark.parametrize("seed", range(8))
def test_verify_mode_and_full_lp_certificate(seed):
    """Every vertex re-derived by HiGHS; the final one optimal on the full LP of every incident cell."""
    net = uniform_net(2, [3], seed)
    X, y = data(20, 2, seed)
    res = deep_relu_simplex(net, X, y, seed=seed, verify=True)
    assert res.stats["verified"] == len(res.losses)
    check_vertices(net, X, y, res)
    assert res.status == "local_minimum" and res.certificate.ray_test and res.certificate.lp_confirmed
    if not res.certified:
        # A degenerate vertex (e.g. a whole first-layer block at 0, where all of its kinks meet):
        # the edge test is not a proof there and too many cells meet to check them all.
        c = res.certificate
        assert c.degenerate and c.sampled and "degenerate" in c.reason
        return
    model = build_layer_model(net, X, y)
    th = model.from_public(res.theta)
    flat = model.signs_at(th)
    nhk = model.n_hidden_kinks
    scale = max(1.0, float(np.max(np.abs(flat))))
    tight = np.abs(flat[:nhk]) <= 1e-9 * scale
    # A collapsed unit (block exactly zero) has all N of its kinks at zero: 2^N incident cells.  The
    # certificate's proof covers the live units (the collapsed blocks held at zero, where the unit's kink
    # signs change nothing), and each collapsed unit has its own outcome: check exactly that.
    c = res.certificate
    units = [cu.unit for cu in c.collapsed_units]
    assert c.scope == ("live units" if units else "all parameters")
    fixed = np.zeros(model.D, dtype=bool)
    for u in units:
        assert np.all(th[u * model.p : (u + 1) * model.p] == 0.0)
        assert cu_outcome_is_honest(c, u)
        fixed[u * model.p : (u + 1) * model.p] = True
        tight[model.hidden_ids[:, u]] = False
    tight = np.flatnonzero(tight)
    assert tight.size == c.n_tight_hidden
    base = np.where(flat[:nhk] >= 0, 1, -1).astype(np.int8)
    n_feasible = 0
    for bits in itertools.product([-1, 1], repeat=tight.size):
        hs = base.copy()
        hs[tight] = bits
        lp, D = region_lp(model, hs)
        lo, hi = lp.col_lower.copy(), lp.col_upper.copy()
        lo[:D][fixed], hi[:D][fixed] = 0.0, 0.0
        out = solve(dataclasses.replace(lp, col_lower=lo, col_upper=hi))
        if out.status is LPStatus.INFEASIBLE:
            continue
        assert out.status is LPStatus.OPTIMAL
        n_feasible += 1
        assert out.fun >= res.fun - 1e-7 * (1 + res.fun)
    assert n_feasible >= 1


@pytest.mark.parametrize("seed", range(4))
def test_certified_minimum_survives_random_perturbations_and_fd_slopes(seed):
    net = uniform_net(3, [4, 2], seed)
    X, y = data(40, 3, seed)
    res = deep_relu_simplex(net, X, y, seed=seed)
    assert res.certified
    model = build_layer_model(net, X, y)
    th = model.from_public(res.theta)
    rng = np.random.default_rng(seed)
    for _ in range(200):
        d = rng.standard_normal(model.D)
        d *= 1e-6 / np.linalg.norm(d)
        assert model.loss_at(th + d) >= res.fun - 1e-9
    # Priced one-sided slopes equal finite differences on every one of the 2D rays.
    signs = np.where(model.signs_at(th) >= 0, 1, -1).astype(np.int8)
    B = np.array(res.certificate.basis)
    stv = Vertex(theta=th, signs=signs, B=B)
    stv.refresh(model)
    rows, pre, dec = model.sensitivities(B, stv.masks)
    stv.A, stv.pre, stv.dec, stv.Ainv = rows, pre, dec, np.linalg.inv(rows)
    pr = price_rays(model, stv, 1e-9 * max(1.0, float(np.max(np.abs(stv.flat)))))
    L0 = model.loss_at(th)
    for r in range(2 * model.D):
        e = pr.rays[r]
        h = 1e-5 / np.linalg.norm(e)
        fd = (model.loss_at(th + h * e) - L0) / h
        assert abs(fd - pr.slopes[r]) <= 1e-3 * (1 + abs(fd))
        assert pr.slopes[r] >= -1e-7


def test_line_search_needs_fewer_pivots_same_kind_of_end():
    net = uniform_net(3, [5, 3], 11)
    X, y = data(80, 3, 11)
    a = deep_relu_simplex(net, X, y, seed=0, line_search=True)
    b = deep_relu_simplex(net, X, y, seed=0, line_search=False)
    assert_local_min_evidence(a)
    assert_local_min_evidence(b)
    assert a.nit < b.nit
    assert a.stats["kinks_crossed"] > 0 and b.stats["kinks_crossed"] == 0


def test_second_layer_and_output_layer():
    net = uniform_net(3, [4, 3], 3)
    X, y = data(40, 3, 3)
    res = deep_relu_simplex(net, X, y, layer=1, seed=0, verify=True)
    assert res.certified and res.theta.shape == (3 * 5,)
    assert_allclose(res.network.weights[1].ravel(), res.theta[:12])
    assert_allclose(res.network.biases[1], res.theta[12:])
    assert_allclose(np.abs(res.network(X)[:, 0] - y).sum(), res.fun, rtol=1e-10)
    # Training the output layer is LAD on the last hidden features.
    out = deep_relu_simplex(net, X, y, layer=2, seed=0)
    H = np.maximum(np.maximum(X @ net.weights[0].T + net.biases[0], 0) @ net.weights[1].T + net.biases[1], 0)
    assert_allclose(out.fun, lad(H, y).fun, rtol=1e-9)


def test_quantile_loss_matches_definition():
    net = uniform_net(2, [3], 4)
    X, y = data(30, 2, 4)
    res = deep_relu_simplex(net, X, y, quantile=0.8, seed=0)
    r = res.network(X)[:, 0] - y
    assert_allclose(res.fun, 0.2 * np.maximum(r, 0).sum() + 0.8 * np.maximum(-r, 0).sum(), rtol=1e-10)
    assert res.certified


def test_start_on_kinks_is_perturbed_and_recorded():
    net = uniform_net(2, [3], 6)
    X, y = data(25, 2, 6)
    res = deep_relu_simplex(net, X, y, theta0=np.zeros(9), seed=1)
    assert res.perturbation is not None and np.linalg.norm(res.perturbation) < 1e-5
    assert_allclose(res.theta0, res.perturbation)
    assert res.certified


def test_duplicate_points_equal_weights():
    net = uniform_net(2, [3], 7)
    X, y = data(20, 2, 7)
    a = deep_relu_simplex(net, np.vstack([X, X]), np.r_[y, y], seed=0)
    b = deep_relu_simplex(net, X, y, sample_weight=np.full(20, 2.0), seed=0)
    assert_allclose(a.losses, b.losses, rtol=1e-12)
    assert a.certified


def test_points_exactly_on_kinks_of_the_start():
    net = uniform_net(2, [3], 8)
    X, y = data(20, 2, 8)
    W, b = net.weights[0], net.biases[0]
    # Put three points exactly on unit 0's hyperplane at theta0.
    X[:3, 1] = -(b[0] + W[0, 0] * X[:3, 0]) / W[0, 1]
    res = deep_relu_simplex(net, X, y, seed=0, verify=True)
    assert res.perturbation is not None
    assert_local_min_evidence(res)
    check_vertices(net, X, y, res)


def test_dead_neuron():
    net = uniform_net(2, [3], 9)
    ws, bs = list(net.weights), list(net.biases)
    ws[0] = ws[0].copy()
    bs[0] = bs[0].copy()
    ws[0][1] = 0.0
    bs[0][1] = -5.0  # unit 1 inactive on all data
    net = ReLUNetwork(tuple(ws), tuple(bs))
    X, y = data(30, 2, 9)
    res = deep_relu_simplex(net, X, y, seed=0, verify=True)
    assert res.status == "local_minimum" and res.certificate.ray_test
    assert np.all(np.diff(res.losses) <= 1e-9)


def test_fewer_samples_than_parameters():
    net = uniform_net(2, [4], 1)  # D = 12
    X, y = data(5, 2, 1)
    res = deep_relu_simplex(net, X, y, seed=0, verify=True)
    assert res.status == "local_minimum" and res.certificate.ray_test
    X2, y2 = data(2, 2, 1)  # fewer rows than n_in + 1: no vertex exists
    with pytest.raises(InvalidProblemError, match="rank"):
        deep_relu_simplex(net, X2, y2)


def test_constant_targets_and_collinear_inputs():
    net = uniform_net(2, [3], 2)
    X, _ = data(30, 2, 2)
    res = deep_relu_simplex(net, X, np.full(30, 0.7), seed=0)
    assert res.status == "local_minimum" and np.all(np.diff(res.losses) <= 1e-9)
    Xc = np.c_[X[:, 0], 2 * X[:, 0]]  # inputs on a line: the first layer is not identifiable
    with pytest.raises(InvalidProblemError, match="rank"):
        deep_relu_simplex(net, Xc, np.zeros(30))


def test_budgets_and_callback():
    net = uniform_net(3, [5, 3], 12)
    X, y = data(80, 3, 12)
    res = deep_relu_simplex(net, X, y, seed=0, max_pivots=3, line_search=False)
    assert res.status == "max_pivots" and res.nit == 3 and not res.certified
    seen = []

    def cb(state):
        # The callback also sees phase 1 (iteration 0) and the certificate's LPs: count the walk's pivots.
        if state.phase != "walk":
            assert state.phase == "phase1" and state.iteration == 0 and state.basis_kinks < 20  # D = 5 * (3 + 1)
            return False
        seen.append(state.iteration)
        return state.iteration >= 2

    res = deep_relu_simplex(net, X, y, seed=0, callback=cb, line_search=False)
    assert res.status == "stopped" and seen == [1, 2]
    res = deep_relu_simplex(net, X, y, seed=0, time_limit=0.0)
    assert res.status == "time_limit" and res.nit == 0
    with pytest.raises(InvalidOptionError, match="max_pivots"):
        deep_relu_simplex(net, X, y, max_pivots=-1)


def test_trajectory_graph_attributes():
    net = uniform_net(2, [3], 10)
    X, y = data(30, 2, 10)
    res = deep_relu_simplex(net, X, y, seed=0)
    G = res.trajectory
    # One edge per move: ``nit`` pivots, plus one restart edge (kind "escape" or "revive") per restart
    # from a point of lower loss found by the certificate's LPs; every vertex but the last has one.
    kinds = [d["kind"] for _, _, d in G.edges(data=True)]
    assert G.number_of_nodes() == len(res.losses) and G.number_of_edges() == len(res.losses) - 1
    assert kinds.count("pivot") == res.nit
    assert kinds.count("escape") == res.stats["escapes"] and kinds.count("revive") == res.stats["revivals"]
    assert res.stats["escapes"] + res.stats["revivals"] >= 1  # this instance restarts (the case under test)
    for k, d in G.nodes(data=True):
        assert type(d["loss"]) is float and type(d["iteration"]) is int and type(d["region"]) is str
        # Kinks at zero: the basis (D = 9), less the p = 3 basis kinks of each collapsed unit (pinned, not
        # counted as tight), plus any extra ones.
        assert type(d["n_tight"]) is int and type(d["n_collapsed"]) is int and d["loss"] == res.losses[k]
        assert d["n_tight"] >= 9 - 3 * d["n_collapsed"]
    for u, v, d in G.edges(data=True):
        assert v == u + 1 and type(d["region_changed"]) is bool and type(d["kinks_crossed"]) is int
        assert_allclose(d["step"], np.linalg.norm(res.thetas[v] - res.thetas[u]), rtol=1e-9, atol=1e-12)
        assert d["region_changed"] == (G.nodes[u]["region"] != G.nodes[v]["region"])


def test_bad_network():
    net = ReLUNetwork.random(2, [3], n_out=2, seed=0)
    with pytest.raises(InvalidNetworkError, match="scalar"):
        deep_relu_simplex(net, np.zeros((5, 2)), np.zeros(5))


def test_argmin_of_network_output():
    net = uniform_net(2, [10, 10], 21)
    res = minimize_output(net, [0.3, -0.2], seed=0)
    f = lambda x: float(net(np.asarray(x))[0])  # noqa: E731
    assert np.all(np.diff(res.losses) <= 1e-9)
    assert_allclose(res.fun, f(res.theta), rtol=1e-10, atol=1e-10)
    if res.status == "unbounded":
        ray = res.unbounded_ray
        assert f(res.theta + 100.0 * ray) < f(res.theta) - 1.0
    else:
        assert res.certified


@pytest.mark.parametrize("seed", range(4))
def test_ties_on_grid_data_stay_monotone_and_honest(seed):
    """Grid inputs and integer targets: simultaneous kinks, tied ratio tests, degenerate vertices."""
    rng = np.random.default_rng(seed)
    net = uniform_net(2, [3], seed)
    X = rng.integers(-2, 3, (30, 2)).astype(float)
    y = rng.integers(-1, 2, 30).astype(float)
    res = deep_relu_simplex(net, X, y, seed=seed, verify=True)
    assert np.all(np.diff(res.losses) <= 1e-9 * (1 + res.losses[0]))
    check_vertices(net, X, y, res)
    assert_local_min_evidence(res)


def test_first_layer_reference_problem_certified():
    """The authors' first-layer setup (problems/first_layer_500.toml): certified local minimum."""
    import pathlib

    from lpengine.simplex.problem import load_problem, solve_problem

    p = load_problem(pathlib.Path(__file__).resolve().parents[2] / "problems" / "first_layer_500.toml")
    res = solve_problem(p)
    assert res.status == "local_minimum" and res.certified
    assert np.all(np.diff(res.losses) <= 0.0)
    assert res.fun < 0.07 * res.start_loss
    assert_allclose(np.abs(res.network(p.X)[:, 0] - p.y).sum(), res.fun, rtol=1e-10)


@pytest.mark.slow
def test_first_layer_reference_problem_without_line_search():
    import pathlib

    from lpengine.simplex.problem import load_problem, solve_problem

    p = load_problem(pathlib.Path(__file__).resolve().parents[2] / "problems" / "first_layer_500.toml")
    res = solve_problem(p, line_search=False)
    assert res.status == "local_minimum" and res.certified
    assert np.all(np.diff(res.losses) <= 0.0)


def _degenerate_instances(seed):
    """Dead unit, duplicate points with other targets, integer grid, N < D, constant targets."""
    rng = np.random.default_rng(seed)
    net = uniform_net(2, [3], seed)
    X, y = data(30, 2, seed)
    ws, bs = list(net.weights), list(net.biases)
    ws[0], bs[0] = ws[0].copy(), bs[0].copy()
    ws[0][1], bs[0][1] = 0.0, -5.0
    yield "dead unit", ReLUNetwork(tuple(ws), tuple(bs)), X, y
    yield "duplicates", net, np.vstack([X, X[:10]]), np.r_[y, y[:10] + 0.5]
    yield "grid", net, rng.integers(-2, 3, (30, 2)).astype(float), rng.integers(-1, 2, 30).astype(float)
    yield "N < D", uniform_net(2, [4], seed), *data(5, 2, seed)
    yield "constant targets", net, X, np.full(30, 0.7)


@pytest.mark.parametrize("seed", range(2))
def test_degenerate_inputs_give_an_honest_certificate(seed):
    """Certified only when true (no lower loss nearby); otherwise certified=False with a stated reason."""
    rng = np.random.default_rng(seed)
    for name, net, X, y in _degenerate_instances(seed):
        res = deep_relu_simplex(net, X, y, seed=seed)
        c = res.certificate
        assert res.status == "local_minimum", name
        model = build_layer_model(net, X, y)
        th = model.from_public(res.theta)
        if res.certified:
            # A zero-loss certificate is exact about the vertex of the basis; the float point can still lie
            # ~1e-12 above it, and a cell LP may then find a float point lower still (N < D, seed 1).
            assert (c.lp_confirmed or c.zero_loss) and c.ray_test and (not c.degenerate or not c.sampled), name
            for _ in range(200):
                d = rng.standard_normal(model.D)
                d *= 1e-6 * max(1.0, float(np.max(np.abs(th)))) / np.linalg.norm(d)
                assert model.loss_at(th + d) >= res.fun - 1e-9 * (1 + res.fun), name
        else:
            assert c.reason.startswith(("undecided", "a descending edge", "HiGHS found", "borderline")), (
                name,
                c.reason,
            )
            if c.reason.startswith("undecided"):
                assert c.degenerate and c.log2_cells > 8 and c.sampled


def _incident_full_cell_optima(model, th, tz):
    """HiGHS optimum of the full LP (no box) of every hidden cell meeting at ``th`` (None: infeasible)."""
    flat = model.signs_at(th)
    hs = np.where(flat[: model.n_hidden_kinks] >= 0, 1, -1).astype(np.int8)
    tight = np.flatnonzero(np.abs(flat[: model.n_hidden_kinks]) <= tz)
    out = []
    for bits in itertools.product((-1, 1), repeat=tight.size):
        cell = hs.copy()
        cell[tight] = bits
        lp, _ = region_lp(model, cell)
        res = solve(lp)
        assert res.status in (LPStatus.OPTIMAL, LPStatus.INFEASIBLE)
        out.append(float(res.fun) if res.status is LPStatus.OPTIMAL else None)
    return tight.size, out


def test_degenerate_vertex_decided_by_highs_within_the_cap():
    """Grid data (seed 1) ends at a degenerate vertex with 2**2 incident cells and loss 12.8: decided
    exhaustively by HiGHS; with a cap below 4 cells the same vertex is honestly reported undecided."""
    rng = np.random.default_rng(1)
    net = uniform_net(2, [3], 1)
    X = rng.integers(-2, 3, (30, 2)).astype(float)
    y = rng.integers(-1, 2, 30).astype(float)
    res = deep_relu_simplex(net, X, y, seed=1)
    c = res.certificate
    assert c.degenerate and c.n_tight_hidden == 2 and c.log2_cells == 2.0 and c.n_cells == 4
    assert res.certified and not c.sampled and not c.zero_loss and c.n_cells_checked + c.n_cells_infeasible == 4
    assert res.fun > 1.0
    # Independently: every one of the 4 incident hidden cells (whole cell, no box) has LP optimum >= loss.
    model = build_layer_model(net, X, y)
    k, optima = _incident_full_cell_optima(model, model.from_public(res.theta), res.stats["kink_tolerance"])
    assert k == 2 and any(v is not None for v in optima)
    assert all(v >= res.fun - 1e-7 * (1 + res.fun) for v in optima if v is not None)
    # With a cap of 2 the 4 cells are too many for HiGHS one by one, but the directional-derivative test
    # (one group enumerated by its 2 cones, no concave term) decides the vertex in 2 LPs, as the cells did.
    res3 = deep_relu_simplex(net, X, y, seed=1, certify_cells=1, certify_max_cells=2)
    assert res3.certified and "directional-derivative test: no descent in 2 LP(s)" in res3.certificate.reason
    assert res3.certificate.sampled
    # With a cap of 1 neither suffices: honestly undecided.
    res2 = deep_relu_simplex(net, X, y, seed=1, certify_cells=1, certify_max_cells=1)
    assert not res2.certified and res2.certificate.reason.startswith("undecided")
    # the walk ended at a vertex (status) that its certificate could not prove: not a success
    assert res2.status == "local_minimum" and not res2.success and res.success
    assert res2.certificate.sampled and res2.certificate.n_cells_checked <= 1
    assert_allclose(res2.fun, res.fun, rtol=1e-12)


def test_zero_loss_vertex_is_a_certified_global_minimum():
    """Constant targets (seed 1): the walk fits them (float loss ~1e-13) at a degenerate vertex with 2**5
    incident cells.  Loss 0 at the exact vertex is the global minimum of an L1 loss: certified by the exact
    rational check whatever the cell cap."""
    net = uniform_net(2, [3], 1)
    X, _ = data(30, 2, 1)
    y = np.full(30, 0.7)
    res = deep_relu_simplex(net, X, y, seed=1)
    c = res.certificate
    assert c.degenerate and c.n_tight_hidden == 5 and c.n_cells == 32
    assert res.certified and c.zero_loss and c.reason.startswith("global minimum") and c.scope == "all parameters"
    assert 0.0 <= res.fun < 1e-12
    assert_allclose(res.network(X)[:, 0], y, atol=1e-12)
    model = build_layer_model(net, X, y)
    k, optima = _incident_full_cell_optima(model, model.from_public(res.theta), res.stats["kink_tolerance"])
    assert k == 5 and all(v >= -1e-7 for v in optima if v is not None)
    res2 = deep_relu_simplex(net, X, y, seed=1, certify_cells=1, certify_max_cells=16)
    assert res2.certified and res2.certificate.zero_loss and res2.certificate.sampled


def _exact_l1(net, X, y):
    """``sum |f(x_i) - y_i|`` of a float network in exact rationals (true ReLUs), independent of lpengine."""
    from fractions import Fraction

    total = Fraction(0)
    for x, t in zip(X, y, strict=True):
        a = [Fraction(float(v)) for v in x]
        for k, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
            z = [
                sum((Fraction(float(w)) * v for w, v in zip(row, a, strict=True)), Fraction(float(bi)))
                for row, bi in zip(W, b, strict=True)
            ]
            a = z if k == len(net.weights) - 1 else [max(v, Fraction(0)) for v in z]
        total += abs(a[0] - Fraction(float(t)))
    return total


def test_reported_loss_is_the_loss_of_the_reported_parameters():
    """``fun`` (and the trajectory's last loss) is the loss of ``theta`` evaluated afresh, within the
    rounding bound of the exact rational loss of that float ``theta``, whatever the walk's state says."""
    from lpengine.simplex.collapse import loss_error_bound
    from lpengine.simplex.drs import solve_model
    from lpengine.simplex.drs_result import make_result

    net = uniform_net(3, [4, 2], 5)
    X, y = data(40, 3, 5)
    res = deep_relu_simplex(net, X, y, seed=0)
    model = build_layer_model(net, X, y)
    theta = model.from_public(np.asarray(res.theta))
    exact = _exact_l1(res.network, X, y)
    assert abs(res.fun - float(exact)) <= loss_error_bound(model, theta)
    last = res.trajectory.number_of_nodes() - 1
    assert res.losses[-1] == res.fun == res.trajectory.nodes[last]["loss"]
    # A walk whose running loss lags its parameters (here by +1) still reports the loss of the parameters.
    log, cert, stats = solve_model(
        model,
        model.from_public(np.concatenate([net.weights[0].ravel(), net.biases[0]])),
        seed=0,
        max_pivots=None,
        time_limit=None,
        line_search=True,
        verify=False,
        callback=None,
        tol=None,
    )
    assert log.final is not None
    log.final.loss += 1.0
    log.losses[-1] += 1.0
    res2 = make_result(model, log, cert, stats, line_search=True, network=net, layer=0)
    assert abs(res2.fun - float(_exact_l1(res2.network, X, y))) <= loss_error_bound(model, log.final.theta)
    assert res2.losses[-1] == res2.fun

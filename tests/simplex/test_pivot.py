"""Pivot rules against slow, independent references: one event at a time, every quantity recomputed."""

from __future__ import annotations

import numpy as np
import pytest

from lpengine import ReLUNetwork
from lpengine.simplex.encoding import build_layer_model
from lpengine.simplex.engine import EngineOptions, _Engine
from lpengine.simplex.linesearch import line_search
from lpengine.simplex.pivot import _edge_rays, _price_general, price_rays, tight_mask
from lpengine.tolerances import Tolerances


def uniform_net(n_in, widths, seed):
    rng = np.random.default_rng(seed)
    dims = [n_in, *widths, 1]
    ws = tuple(rng.uniform(-1, 1, (b, a)) for a, b in zip(dims[:-1], dims[1:], strict=True))
    bs = tuple(rng.uniform(-1, 1, b) for b in dims[1:])
    return ReLUNetwork(ws, bs)


def reference_line_search(model, st, e, leave, sigma, stol, thr):
    """Cross kinks one at a time, recomputing all values, rates and the slope from scratch each time."""
    nhk = model.n_hidden_kinks
    lw = model.loss
    signs = st.signs.copy()
    Bp = np.delete(st.B, leave)
    signs[st.B[leave]] = np.int8(sigma)
    inBp = np.zeros(model.M, bool)
    inBp[Bp] = True
    lb, gb, _ = model.decode(Bp)
    t, crossed, tied = 0.0, [], False
    while True:
        masks = model.masks(signs)
        flat, _, _ = model.values(st.theta + t * e, masks)
        zds, odot = model.jvp(e, masks)
        zd = np.concatenate([z.ravel() for z in zds] + [odot[model.group]])
        mv = (signs * zd < -thr) & ~inBp & model.kink_mask
        T = np.full(model.M, np.inf)
        T[mv] = np.maximum(0.0, -flat[mv] / zd[mv])
        k = int(np.argmin(T))
        if not np.isfinite(T[k]):
            return None
        # Several kinks reached at once: the order among them is a free choice (tie rules differ).
        tied = tied or int(np.count_nonzero(T <= T[k] + 1e-9 * (1.0 + t + T[k]))) > 1
        s2 = signs.copy()
        s2[k] = -s2[k]
        _, od2 = model.jvp(e, model.masks(s2))
        rho2 = model.c * np.where(s2[nhk:] > 0, lw.w_plus, -lw.w_minus)
        slope_after = float(rho2 @ od2[model.group])
        lay, grp, _ = model.decode(np.array([k]))
        forced = bool(lay[0] < model.K and np.any((gb == grp[0]) & (lb > lay[0])))
        if slope_after >= -stol or forced:
            return t + T[k], k, sorted(crossed), tied
        crossed.append(k)
        signs = s2
        t = t + T[k]


def engine_at_first_vertex(net, X, y, layer, seed):
    model = build_layer_model(net, X, y, layer=layer)
    W, b = net.weights[layer], net.biases[layer]
    theta0 = model.from_public(np.concatenate([W.ravel(), b]))
    eng = _Engine(model, theta0, EngineOptions(seed=seed), Tolerances())
    assert eng.phase1()
    return model, eng


CASES = [
    ((3, [4, 3, 2]), 0, 60, False),
    ((3, [4, 3, 2]), 1, 60, False),
    ((2, [5, 3]), 0, 50, True),
    ((4, [3, 3]), 0, 80, False),
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("seed", range(3))
def test_line_search_equals_one_event_at_a_time_reference(case, seed):
    (n_in, widths), layer, n, dup = CASES[case]
    rng = np.random.default_rng(seed)
    net = uniform_net(n_in, widths, seed + 10 * case)
    X = rng.uniform(-2, 2, (n, n_in))
    y = rng.uniform(-2, 2, n)
    if dup:  # duplicate feature rows with different targets: groups with several samples
        X[n // 2 :] = X[: n - n // 2]
    model, eng = engine_at_first_vertex(net, X, y, layer, seed)
    st = eng.st
    pr = price_rays(model, st, eng.tz)
    ns = pr.slopes / pr.norms
    desc = np.flatnonzero(ns < -1e-9 * pr.scale)
    assert desc.size > 0
    checked = n_tied = 0
    for r in desc:
        pos, sigma = int(r // 2), (1.0 if r % 2 == 0 else -1.0)
        e = pr.rays[r]
        stol = 1e-9 * pr.scale * pr.norms[r]
        step = line_search(
            model, st, e, leave=pos, sigma=sigma, multi=True, tz=eng.tz, ptol=1e-10, stol=stol, bland=False, t_tol=1e-9
        )
        zs = [np.abs(z).max() for z in model.jvp(e, st.masks)[0]]
        thr = 1e-10 * max(zs + [np.abs(model.jvp(e, st.masks)[1]).max()])
        ref = reference_line_search(model, st, e, pos, sigma, stol, thr)
        if ref is None:
            assert step.status == "unbounded"
            continue
        t_ref, k_ref, crossed_ref, tied = ref
        assert step.status == "ok"
        if tied:  # exact ties (degenerate data of a deeper layer): only the time of the stop is fixed
            n_tied += 1
            continue
        assert step.enter == k_ref
        assert abs(step.t - t_ref) <= 1e-9 * (1 + t_ref)
        ids, cnt = np.unique(step.crossed, return_counts=True)
        rids, rcnt = np.unique(np.array(crossed_ref, dtype=np.int64), return_counts=True)
        assert ids[cnt % 2 == 1].tolist() == rids[rcnt % 2 == 1].tolist()
        checked += 1
    assert checked >= 1 or (layer > 0 and n_tied >= 1)


# Seeds whose phase 1 ends at a non-degenerate vertex in both layers (at seed 1 phase 1 ends, in layer 1,
# at a vertex where a unit collapsed, whose kinks are all at zero).
@pytest.mark.parametrize("seed", [0, 2, 3, 4])
def test_fast_pricing_equals_general_pricing(seed):
    """The per-ray shortcut at a non-degenerate vertex equals pushing every ray through every critical group."""
    rng = np.random.default_rng(seed)
    net = uniform_net(3, [4, 3, 2], seed)
    X = rng.uniform(-2, 2, (50, 3))
    y = rng.uniform(-2, 2, 50)
    X[25:35] = X[:10]
    for layer in (0, 1):
        model, eng = engine_at_first_vertex(net, X, y, layer, seed)
        st = eng.st
        pr = price_rays(model, st, eng.tz)
        assert pr.extra_tight.size == 0
        tight = tight_mask(model, st, eng.tz)
        rho = model.c * np.where(st.signs[model.n_hidden_kinks :] > 0, 1.0, -1.0)
        gbar = np.bincount(model.group, weights=rho, minlength=model.G)
        ref = _price_general(model, st, tight, pr.extra_tight, gbar, _edge_rays(model, st))
        np.testing.assert_allclose(pr.slopes, ref.slopes, rtol=1e-10, atol=1e-10 * np.abs(ref.slopes).max())
        np.testing.assert_allclose(pr.duals, ref.duals, rtol=1e-10, atol=1e-10 * np.abs(ref.duals).max())


def test_pair_pricing_at_degenerate_vertices_equals_general_pricing(monkeypatch):
    """Walks on integer grid data (tied kinks: degenerate vertices with up to ~20 extra kinks at zero, and
    units collapsing to exact zero) use the pair-based pricing; at every degenerate vertex it must equal the
    all-groups pricing of the same rays.  (The reference first-layer problem used to meet vertices with a
    whole unit at zero, hundreds of extra kinks; such units are pinned as collapsed now.)"""
    from lpengine.simplex import deep_relu_simplex, engine

    seen = {"degenerate": 0, "max_extra": 0, "collapsed": 0}

    def checked(model, st, tz, rate_tol=0.0, tight=None, collapsed=None, price_pinned=False):
        tight = tight_mask(model, st, tz) if tight is None else tight
        pr = price_rays(model, st, tz, rate_tol, tight=tight.copy(), collapsed=collapsed, price_pinned=price_pinned)
        if pr.extra_tight.size:
            rho = model.c * np.where(st.signs[model.n_hidden_kinks :] > 0, 1.0, -1.0)
            gbar = np.bincount(model.group, weights=rho, minlength=model.G)
            # The same rays (a collapsed unit's block held at zero on the live rays), priced through every group.
            rays = pr.rays if collapsed else _edge_rays(model, st)
            ref_tight = tight.copy()
            ref_tight[st.B] = True  # the engine leaves a collapsed unit's basis kinks out of its tight mask
            ref = _price_general(model, st, ref_tight, pr.extra_tight, gbar, rays)
            live = pr.live if pr.live is not None else np.ones(pr.slopes.size, dtype=bool)
            scale = np.abs(ref.slopes[live]).max()
            np.testing.assert_allclose(pr.slopes[live], ref.slopes[live], rtol=0, atol=1e-10 * scale)
            np.testing.assert_allclose(pr.duals, ref.duals, rtol=0, atol=1e-10 * np.abs(ref.duals).max())
            seen["degenerate"] += 1
            seen["max_extra"] = max(seen["max_extra"], int(pr.extra_tight.size))
            seen["collapsed"] = max(seen["collapsed"], len(collapsed or []))
        return pr

    monkeypatch.setattr(engine, "price_rays", checked)
    for seed in (0, 2, 4):
        rng = np.random.default_rng(seed)
        net = uniform_net(2, [4, 3], seed)
        X = rng.integers(-2, 3, (60, 2)).astype(float)
        y = rng.integers(-1, 2, 60).astype(float)
        deep_relu_simplex(net, X, y, seed=seed, max_pivots=60)
    assert seen["degenerate"] >= 10 and seen["max_extra"] >= 10 and seen["collapsed"] >= 1


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("layer", [0, 1])
def test_shallow_pair_pricing_equals_general_pricing_on_forced_degeneracy(seed, layer):
    """Pricing with a prescribed set of extra kinks at zero equals pushing every ray through every group.

    The slopes depend on the set of kinks treated as at zero only through the one-sided rules, so any set
    can be prescribed at a real vertex: whole trained-layer units at zero (the shallow pairs, priced by the
    linear correction), two units at zero in the same groups (several kinks per group), and groups that
    also have a deeper hidden kink or their residual at zero (pushed through the layers).  Duplicate feature
    rows give groups with several samples.
    """
    rng = np.random.default_rng(seed)
    net = uniform_net(3, [4, 3, 2], seed + 20)
    X = rng.uniform(-2, 2, (60, 3))
    y = rng.uniform(-2, 2, 60)
    X[40:50] = X[:10]
    model, eng = engine_at_first_vertex(net, X, y, layer, seed)
    st = eng.st
    G, w0 = model.G, model.widths[0]
    base = tight_mask(model, st, eng.tz)  # the basis, plus whatever is at zero already
    rho = model.c * np.where(st.signs[model.n_hidden_kinks :] > 0, 1.0, -1.0)
    gbar = np.bincount(model.group, weights=rho, minlength=G)
    E = _edge_rays(model, st)
    layer0 = np.arange(G)[:, None] * w0 + np.arange(w0)[None, :]  # ids of trained-layer kinks (G, w0)
    n_checked = 0
    for variant in range(4):
        tight = base.copy()
        tight[layer0[:, 0]] = True  # one whole unit at zero
        if variant >= 1:
            tight[layer0[rng.choice(G, G // 3, replace=False), 1]] = True  # a second unit in a third of the groups
        if variant >= 2:
            gs = rng.choice(G, 5, replace=False)
            tight[model.hidden_ids[gs, w0]] = True  # a deeper kink at zero
        if variant >= 3:
            tight[model.n_hidden_kinks + rng.choice(model.N, 5, replace=False)] = True  # residuals at zero
        extra = np.flatnonzero(tight & ~np.isin(np.arange(model.M), st.B))
        pr = price_rays(model, st, eng.tz, 0.0, tight=tight.copy())
        assert pr.extra_tight.tolist() == extra.tolist()
        ref = _price_general(model, st, tight, extra, gbar, E)
        scale = np.abs(ref.slopes).max()
        np.testing.assert_allclose(pr.slopes, ref.slopes, rtol=0, atol=1e-10 * scale)
        np.testing.assert_allclose(pr.duals, ref.duals, rtol=0, atol=1e-10 * np.abs(ref.duals).max())
        # The prescribed degeneracy changes some slopes (the check is not vacuous).
        lin = E @ model.grad(gbar, st.masks)
        n_checked += int(np.count_nonzero(np.abs(ref.slopes - lin) > 1e-8 * scale))
    assert n_checked > 0


@pytest.mark.parametrize("layer", [0, 1])
def test_pairs_rates_grouped_by_direction_equal_the_gathered_form(layer):
    """z0_dot_pairs with pairs grouped by direction (the degenerate pricing's form) gives, bit for bit,
    the rates of the form that gathers one direction row per pair."""
    rng = np.random.default_rng(5)
    net = uniform_net(3, [4, 3, 2], 1)
    X, y = rng.uniform(-2, 2, (40, 3)), rng.uniform(-2, 2, 40)
    model = build_layer_model(net, X, y, layer=layer)
    V = rng.standard_normal((7, model.D))
    which = np.sort(rng.integers(0, 7, 60))
    rows = rng.integers(0, model.G, 60)
    got = model.z0_dot_pairs(V, rows, which)
    want = model.z0_dot_pairs(V[which], rows)
    assert got.shape == (60, model.n_units)
    np.testing.assert_array_equal(got, want)


def test_walk_runs_with_one_blas_thread():
    """The engine limits BLAS to one thread while it walks and restores the setting afterwards."""
    from threadpoolctl import threadpool_info

    from lpengine.simplex import engine as engine_mod

    def blas_threads():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    before = blas_threads()
    seen = []
    real = engine_mod._Engine.run

    def run(self):
        seen.extend(blas_threads())
        return real(self)

    rng = np.random.default_rng(0)
    X, y = rng.uniform(-1, 1, (30, 2)), rng.uniform(-1, 1, 30)
    model = build_layer_model(uniform_net(2, [3], 0), X, y, layer=0)
    theta0 = rng.uniform(-1, 1, model.D)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine_mod._Engine, "run", run)
        engine_mod.run_engine(model, theta0, EngineOptions(seed=0), Tolerances())
    assert seen and all(n == 1 for n in seen)
    assert blas_threads() == before

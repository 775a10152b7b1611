"""Exact-number tests of enumerate_regions against closed formulas and invariants.

Independent oracles used here: Zaslavsky/Buck counts for one hidden layer in
general position, axis-parallel grids (product counts), the Euler
characteristic of the planar subdivision, and the LP facet method against the
vertex facet method.  (Brute force over all patterns lives in test_brute.py /
test_enumerate_vs_oracles.py.)
"""

from __future__ import annotations

from math import comb

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpengine import DEFAULT_TOLERANCES, InvalidDomainError, IterationLimitWarning, ReLUNetwork
from lpengine.regions import ActivationPattern, count_regions, enumerate_regions, pattern_at
from lpengine.regions.domain import make_domain
from lpengine.regions.polytope import facets_by_vertices, region_halfspaces

TOL = DEFAULT_TOLERANCES


def generic_one_layer(d: int, n: int, seed: int) -> ReLUNetwork:
    """Gaussian hyperplanes, redrawn until no two normals are nearly parallel (general position)."""
    rng = np.random.default_rng(seed)
    while True:
        W = rng.normal(size=(n, d))
        U = W / np.linalg.norm(W, axis=1, keepdims=True)
        cos = np.abs(U @ U.T) - np.eye(n)
        # In R^1 every normal is parallel; general position there means distinct breakpoints.
        if n == 1 or d == 1 or cos.max() < 0.999:
            return ReLUNetwork((W, rng.normal(size=(1, n))), (rng.normal(size=n), np.zeros(1)))


@pytest.mark.parametrize("d,n", [(1, 1), (1, 5), (2, 1), (2, 4), (2, 8), (3, 6), (3, 10), (4, 7)])
def test_zaslavsky_whole_space(d: int, n: int) -> None:
    res = enumerate_regions(generic_one_layer(d, n, seed=10 * d + n), whole_space=True)
    assert res.complete
    assert res.count == sum(comb(n, i) for i in range(d + 1))
    assert res.n_bounded == (comb(n - 1, d) if n >= 1 else 0)


def test_known_small_values() -> None:
    # (d, n) = (2, 4) -> 11, (2, 8) -> 37, (3, 10) -> 176 (region_counting.md §5).
    assert count_regions(generic_one_layer(2, 4, 0), whole_space=True) == 11
    assert count_regions(generic_one_layer(2, 8, 0), whole_space=True) == 37
    assert count_regions(generic_one_layer(3, 10, 0), whole_space=True) == 176


@pytest.mark.parametrize("k,m", [(1, 1), (2, 3), (4, 2)])
@pytest.mark.parametrize("method", ["vertex", "lp"])
def test_axis_parallel_grid_in_box(k: int, m: int, method: str) -> None:
    # k vertical lines x = a_i and m horizontal lines y = b_j inside [-1, 1]^2: (k+1)(m+1) cells.
    a = np.linspace(-0.7, 0.6, k)
    b = np.linspace(-0.5, 0.8, m)
    W = np.vstack([np.c_[np.ones(k), np.zeros(k)], np.c_[np.zeros(m), np.ones(m)]])
    net = ReLUNetwork((W,), (-np.concatenate([a, b]),), has_output_layer=False)
    res = enumerate_regions(net, box=(-1, 1), method=method)
    assert res.count == (k + 1) * (m + 1)
    # Grid graph: k+1 by m+1 cells, 4-neighbourhood.
    assert res.graph.number_of_edges() == k * (m + 1) + m * (k + 1)


def test_lines_through_one_point() -> None:
    # n distinct lines through the origin cut R^2 (and the box) into 2n sectors.
    n = 5
    ang = np.pi * (np.arange(n) + 0.3) / n
    W = np.c_[np.cos(ang), np.sin(ang)]
    net = ReLUNetwork((W,), (np.zeros(n),), has_output_layer=False)
    for kw in ({"whole_space": True}, {"box": (-1, 1)}):
        res = enumerate_regions(net, **kw)
        assert res.count == 2 * n
        assert all(len(u) == 1 for r in res.regions for u in r.facet_units)


def test_duplicate_and_opposite_units_cross_together() -> None:
    # Units 0 and 1 have the same hyperplane (1 is 2x unit 0), unit 2 is its mirror image.
    W = np.array([[1.0, 0.5], [2.0, 1.0], [-1.0, -0.5], [0.0, 1.0]])
    b = np.array([0.1, 0.2, -0.1, 0.3])
    net = ReLUNetwork((W,), (b,), has_output_layer=False)
    res = enumerate_regions(net, box=(-1, 1))
    assert res.count == 4  # two distinct lines crossing inside the box
    units = {u for r in res.regions for u in r.facet_units}
    assert (0, 1, 2) in units and (3,) in units


def test_dead_units_documented_policy() -> None:
    # Layer 2 unit 0 has zero weights (bias +0.5: always active), unit 1 zero weights and bias 0 (inactive by policy).
    W1 = np.array([[1.0, 0.0], [0.0, 1.0]])
    W2 = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, -1.0]])
    net = ReLUNetwork((W1, W2), (np.zeros(2), np.array([0.5, 0.0, 0.05])), has_output_layer=False)
    res = enumerate_regions(net, box=(-1, 1))
    signs = np.stack([r.pattern.signs for r in res.regions])
    assert np.all(signs[:, 2] == 1) and np.all(signs[:, 3] == -1)
    # Quadrant (+,+) is cut by x - y + 0.05 = 0; every other quadrant has unit 4 fixed, except where
    # ReLU(x)-ReLU(y)+0.05 changes sign: quadrant (+,-) all positive, (-,+) cut by -y+0.05=0, (-,-) positive.
    assert res.count == 6


def test_witness_certificates_and_adjacency() -> None:
    net = ReLUNetwork.random(2, [6, 5, 4], seed=3)
    domain = make_domain(2, box=(-1.5, 1.5), tol=TOL)
    res = enumerate_regions(net, box=(-1.5, 1.5))
    assert res.count == len({r.pattern for r in res.regions})
    for r in res.regions:
        assert pattern_at(net, r.witness) == r.pattern
        rows = region_halfspaces(net, np.array(r.pattern.signs), domain, TOL)
        assert np.min(rows.h - rows.G @ r.witness) >= r.margin - 1e-12
        assert r.margin > TOL.margin
    for a, b, data in res.graph.edges(data=True):
        pa, pb = ActivationPattern.from_string(a), ActivationPattern.from_string(b)
        diff = np.flatnonzero(pa.signs != pb.signs)
        assert ",".join(map(str, diff)) == data["units"]
    assert nx.is_connected(res.graph)


@given(seed=st.integers(0, 10_000), d=st.integers(2, 3), widths=st.lists(st.integers(1, 5), min_size=1, max_size=3))
def test_vertex_and_lp_methods_agree(seed: int, d: int, widths: list[int]) -> None:
    net = ReLUNetwork.random(d, widths, seed=seed)
    a = enumerate_regions(net, box=(-2, 2), method="vertex")
    b = enumerate_regions(net, box=(-2, 2), method="lp")
    assert {str(r.pattern) for r in a.regions} == {str(r.pattern) for r in b.regions}
    assert set(map(frozenset, a.graph.edges)) == set(map(frozenset, b.graph.edges))


def test_box_count_at_most_whole_space_count() -> None:
    net = ReLUNetwork.random(2, [5, 4], seed=11)
    box = {str(r.pattern) for r in enumerate_regions(net, box=(-1, 1)).regions}
    whole = {str(r.pattern) for r in enumerate_regions(net, whole_space=True).regions}
    assert box <= whole


@pytest.fixture
def eager_workers(monkeypatch):
    """Start the workers at the first pending region, so that small test searches really share work."""
    import lpengine.regions.parallel as par_mod

    monkeypatch.setattr(par_mod, "_START_WORKERS_AT", 1)


def test_parallel_equals_serial() -> None:
    net = ReLUNetwork.random(2, [10, 10], seed=5)
    a = enumerate_regions(net, box=(-3, 3))
    b = enumerate_regions(net, box=(-3, 3), n_jobs=2)
    assert a.processes == 1 and b.processes == 2  # big enough to start the worker
    assert a.count == b.count
    assert {str(r.pattern) for r in a.regions} == {str(r.pattern) for r in b.regions}
    assert set(map(frozenset, a.graph.edges)) == set(map(frozenset, b.graph.edges))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"box": (-2, 2)},
        {"whole_space": True},  # the LP method, with boundedness by LP
        {"polytope": (np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]]), np.array([1.0, 1.0, 1.5]))},
    ],
)
def test_work_sharing_equals_serial_on_every_domain(kwargs, eager_workers) -> None:
    net = ReLUNetwork.random(2, [6, 5], seed=3)
    a = enumerate_regions(net, **kwargs)
    b = enumerate_regions(net, n_jobs=2, **kwargs)
    assert b.processes == 2
    assert a.complete and b.complete and a.count == b.count
    assert {str(r.pattern) for r in a.regions} == {str(r.pattern) for r in b.regions}
    assert set(map(frozenset, a.graph.edges)) == set(map(frozenset, b.graph.edges))
    # The facet units of every edge agree with the serial result's (edges are built as regions
    # arrive, from either end).
    units_a = {frozenset((str(a.regions[i].pattern), str(a.regions[j].pattern))): u for i, j, u in a.edges}
    units_b = {frozenset((str(b.regions[i].pattern), str(b.regions[j].pattern))): u for i, j, u in b.edges}
    assert units_a == units_b
    assert a.n_bounded == b.n_bounded
    for r in b.regions:  # worker-made regions carry the same certificates and affine maps
        assert pattern_at(net, r.witness) == r.pattern
        np.testing.assert_allclose(r.affine.A, net.local_affine_map(r.pattern.active).A)


def test_work_sharing_budgets(eager_workers) -> None:
    net = ReLUNetwork.random(2, [12, 12], seed=0)
    full = enumerate_regions(net, box=(-3, 3))
    with pytest.warns(IterationLimitWarning, match="max_regions"):
        part = enumerate_regions(net, box=(-3, 3), max_regions=10, n_jobs=2)
    assert not part.complete and part.count == 10 and part.processes == 2
    assert {str(r.pattern) for r in part.regions} <= {str(r.pattern) for r in full.regions}
    # The truncated result keeps exactly the full result's edges among its regions.
    names = [str(r.pattern) for r in part.regions]
    kept = {frozenset((names[i], names[j])) for i, j, _ in part.edges}
    assert all(i < j < 10 for i, j, _ in part.edges)
    assert kept == {frozenset(e) for e in full.graph.subgraph(names).edges}
    with pytest.warns(IterationLimitWarning, match="callback"):
        stopped = enumerate_regions(net, box=(-3, 3), callback=lambda s: True, n_jobs=2)
    assert not stopped.complete and stopped.count < full.count


@given(
    seed=st.integers(0, 10_000),
    d=st.integers(2, 3),
    widths=st.lists(st.integers(2, 6), min_size=1, max_size=2),
    duplicate=st.booleans(),
    whole_space=st.booleans(),
)
@settings(max_examples=12)
def test_work_sharing_equals_serial_property(
    seed: int, d: int, widths: list[int], duplicate: bool, whole_space: bool
) -> None:
    # Random networks, optionally with a duplicated first-layer unit (coincident hyperplanes: group
    # flips and one-sided limits at crossings), in a box or in R^d: the shared search must give the
    # serial result exactly — patterns, adjacency with its facet units, facet counts, boundedness.
    from unittest import mock

    import lpengine.regions.parallel as par_mod

    net = ReLUNetwork.random(d, widths, seed=seed)
    if duplicate:
        W, b = [np.array(w) for w in net.weights], [np.array(v) for v in net.biases]
        W[0], b[0] = np.vstack([W[0], W[0][:1]]), np.append(b[0], b[0][0])
        W[1] = np.hstack([W[1], np.zeros((W[1].shape[0], 1))])
        net = ReLUNetwork(W, b, has_output_layer=net.has_output_layer)
    kw = {"whole_space": True} if whole_space else {"box": (-2, 2)}
    a = enumerate_regions(net, **kw)
    with mock.patch.object(par_mod, "_START_WORKERS_AT", 1):
        b_ = enumerate_regions(net, n_jobs=2, **kw)
    assert a.complete and b_.complete and b_.processes == 2
    summary = {str(r.pattern): (r.n_facets, r.bounded, sorted(r.facet_units)) for r in a.regions}
    assert summary == {str(r.pattern): (r.n_facets, r.bounded, sorted(r.facet_units)) for r in b_.regions}
    units_a = {frozenset((str(a.regions[i].pattern), str(a.regions[j].pattern))): u for i, j, u in a.edges}
    units_b = {frozenset((str(b_.regions[i].pattern), str(b_.regions[j].pattern))): u for i, j, u in b_.edges}
    assert units_a == units_b


def test_collector_edges_do_not_depend_on_arrival_order() -> None:
    # The result is assembled as regions arrive (from either process, in any order).  An edge is
    # kept if either end lists the other (a facet seen from one side only still joins them), with
    # the units seen from the lower-index end.
    import itertools

    from lpengine.network import LocalAffineMap
    from lpengine.regions.outcome import RegionWork
    from lpengine.regions.result import RegionCollector

    def work(signs, neighbours):
        s = np.array(signs, dtype=np.int8)
        units = [tuple(u) for u in neighbours]
        keys = []
        for u in units:
            nb = s.copy()
            nb[list(u)] *= -1
            keys.append(nb.tobytes())
        aff = LocalAffineMap(np.zeros((3, 2)), np.zeros(3), None, None)
        return RegionWork(s, np.zeros(2), 0.1, units, keys, len(units), True, aff)

    # A = +++ lists B = -++ (unit 0) and C = +-+ (unit 1); B lists A; C lists nobody (one-sided).
    works = [work([1, 1, 1], [[0], [1]]), work([-1, 1, 1], [[0]]), work([1, -1, 1], [])]
    expected = {frozenset(("+++", "-++")): (0,), frozenset(("+++", "+-+")): (1,)}
    for order in itertools.permutations(works):
        c = RegionCollector((3,))
        for w in order:
            c.add(w)
        names = ["".join("+" if v > 0 else "-" for v in r.pattern.signs) for r in c.regions]
        assert all(i < j for i, j in c.edges)
        assert {frozenset((names[i], names[j])): u for (i, j), u in c.edges.items()} == expected
    c.truncate(2)
    assert len(c.regions) == 2 and all(j < 2 for _, j in c.edges)


def test_small_search_stays_serial() -> None:
    # Two units in the box: 4 regions, never 16 pending, so n_jobs=2 starts no worker.
    net = ReLUNetwork((np.eye(2),), (np.zeros(2),), has_output_layer=False)
    res = enumerate_regions(net, box=(-1, 1), n_jobs=2)
    assert res.processes == 1 and res.count == 4 and res.summary()["processes"] == 1


@pytest.mark.parametrize("where", ["worker", "caller"])
def test_work_sharing_reraises_errors(monkeypatch, where: str) -> None:
    # One process fails (the worker on its first region, the caller on its 20th): the error must
    # surface in the caller, not hang or vanish.
    import os

    import lpengine.regions.processor as proc_mod

    original = proc_mod.RegionProcessor.process_batch
    caller = os.getpid()
    calls = {"n": 0}

    def failing(self, items):
        # The workers and the caller process regions in batches (process_batch): fail the batch holding
        # the process's 20th region (caller) or its first (worker).
        if (os.getpid() == caller) == (where == "caller"):
            before = calls["n"]
            calls["n"] += len(items)
            if before < (20 if where == "caller" else 1) <= calls["n"]:
                raise RuntimeError(f"injected failure in the {where}")
        return original(self, items)

    monkeypatch.setattr(proc_mod.RegionProcessor, "process_batch", failing)
    with pytest.raises(RuntimeError, match=f"injected failure in the {where}"):
        enumerate_regions(ReLUNetwork.random(3, [16, 16], seed=4), box=(-2, 2), n_jobs=2)


def test_work_sharing_survives_a_dead_worker(monkeypatch) -> None:
    # The worker dies abruptly (as if killed) in the batch of its 5th region: the caller re-queues
    # the batches it had not answered, warns, and still returns the exact, complete result.
    import os

    import lpengine.regions.processor as proc_mod

    net = ReLUNetwork.random(3, [12, 12], seed=4)
    serial = enumerate_regions(net, box=(-2, 2))
    original = proc_mod.RegionProcessor.process_batch
    caller = os.getpid()
    calls = {"n": 0}

    def dying(self, items):
        # The worker processes batches (process_batch): it dies in the batch holding its 5th region.
        if os.getpid() != caller:
            before = calls["n"]
            calls["n"] += len(items)
            if before < 5 <= calls["n"]:
                os._exit(3)
        return original(self, items)

    monkeypatch.setattr(proc_mod.RegionProcessor, "process_batch", dying)
    with pytest.warns(RuntimeWarning, match="ended unexpectedly"):
        res = enumerate_regions(net, box=(-2, 2), n_jobs=2)
    assert res.complete and res.count == serial.count and res.processes == 2
    assert {str(r.pattern) for r in res.regions} == {str(r.pattern) for r in serial.regions}
    assert set(map(frozenset, res.graph.edges)) == set(map(frozenset, serial.graph.edges))


def test_polytope_domain_triangle() -> None:
    # Triangle x >= 0, y >= 0, x + y <= 1 cut by x = 0.5 and y = 0.25: 4 pieces... minus the corner beyond x+y<=1?
    # Pieces: {x<.5,y<.25}, {x>.5,y<.25}, {x<.5,y>.25}, {x>.5,y>.25 and x+y<1} (non-empty: (0.6, 0.3)).
    A = np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]])
    c = np.array([0.0, 0.0, 1.0])
    net = ReLUNetwork((np.eye(2),), (np.array([-0.5, -0.25]),), has_output_layer=False)
    assert count_regions(net, polytope=(A, c)) == 4
    # Move the vertical line to x = 0.9: the (+,+) piece would need x > .9, y > .25, x + y < 1: empty.
    net2 = ReLUNetwork((np.eye(2),), (np.array([-0.9, -0.25]),), has_output_layer=False)
    assert count_regions(net2, polytope=(A, c)) == 3


def test_unbounded_polytope_uses_hybrid_method() -> None:
    A = np.array([[-1.0, 0.0]])  # half-plane x >= 0
    net = ReLUNetwork((np.eye(2),), (np.array([-1.0, 0.0]),), has_output_layer=False)
    for method in ("auto", "lp"):
        res = enumerate_regions(net, polytope=(A, np.array([0.0])), method=method)
        assert res.method == ("hybrid" if method == "auto" else "lp") and res.count == 4 and res.n_bounded == 0


@pytest.mark.parametrize("seed,d,widths", [(0, 2, [6, 5]), (1, 3, [5, 4]), (2, 2, [4, 4, 3]), (3, 4, [6])])
def test_hybrid_and_lp_methods_agree_in_whole_space(seed: int, d: int, widths: list[int]) -> None:
    net = ReLUNetwork.random(d, widths, seed=seed)
    a = enumerate_regions(net, whole_space=True, method="hybrid")
    b = enumerate_regions(net, whole_space=True, method="lp")
    assert a.complete and b.complete and a.count == b.count
    assert {str(r.pattern) for r in a.regions} == {str(r.pattern) for r in b.regions}
    assert set(map(frozenset, a.graph.edges)) == set(map(frozenset, b.graph.edges))
    assert a.n_bounded == b.n_bounded
    assert a.lp_solves < b.lp_solves  # bounded regions inside the artificial box need no LP


def test_hybrid_box_smaller_than_the_arrangement_is_still_exact(monkeypatch) -> None:
    # Shrink the artificial box so that most regions leave it: the LP fallback must keep the answer exact.
    import lpengine.regions.processor as proc_mod

    net = ReLUNetwork.random(2, [7, 5], seed=4)
    ref = enumerate_regions(net, whole_space=True, method="lp")
    monkeypatch.setattr(proc_mod, "_HYBRID_BOX", 1e-3)
    small = enumerate_regions(net, whole_space=True, method="hybrid")
    assert small.count == ref.count and small.n_bounded == ref.n_bounded
    assert {str(r.pattern) for r in small.regions} == {str(r.pattern) for r in ref.regions}


def planar_euler_characteristic(net: ReLUNetwork, lo: float, hi: float) -> tuple[int, int, int]:
    """(V, E, F) of the planar subdivision of the box, from each region's vertices.

    Vertices are merged across regions; each region's boundary polygon is cut at
    every global vertex lying on it (T-junctions where a bent hyperplane ends), and
    edges are counted as distinct vertex pairs.
    """
    res = enumerate_regions(net, box=(lo, hi))
    domain = make_domain(2, box=(lo, hi), tol=TOL)
    polys = []
    for r in res.regions:
        rows = region_halfspaces(net, np.array(r.pattern.signs), domain, TOL)
        info = facets_by_vertices(rows.G, rows.h, r.witness, TOL)
        polys.append((rows, info))
    pts = np.vstack([info.vertices for _, info in polys])
    keys = np.round(pts, 9)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    edges = set()
    for rows, info in polys:
        G, h = rows.G, rows.h
        for rep in info.rows:
            # All global vertices on this facet segment, sorted along it.
            on = np.abs(G[rep] @ uniq.T - h[rep]) <= 1e-8
            inside = np.all(G @ uniq.T - h[:, None] <= 1e-8, axis=0)
            ids = np.flatnonzero(on & inside)
            direction = np.array([-G[rep][1], G[rep][0]])
            ids = ids[np.argsort(uniq[ids] @ direction)]
            for a, b in zip(ids[:-1], ids[1:], strict=True):
                edges.add((min(a, b), max(a, b)))
    return len(uniq), len(edges), res.count


@pytest.mark.parametrize("seed,widths", [(0, [6]), (1, [5, 5]), (2, [4, 6, 3]), (7, [8, 8])])
def test_euler_characteristic_2d_box(seed: int, widths: list[int]) -> None:
    V, E, F = planar_euler_characteristic(ReLUNetwork.random(2, widths, seed=seed), -1.0, 1.0)
    assert V - E + F == 1


def test_budgets_give_marked_partial_results() -> None:
    net = ReLUNetwork.random(2, [12, 12], seed=0)
    full = enumerate_regions(net, box=(-3, 3))
    with pytest.warns(IterationLimitWarning, match="lower bound"):
        part = enumerate_regions(net, box=(-3, 3), max_regions=10)
    assert not part.complete and part.count == 10 < full.count
    assert {str(r.pattern) for r in part.regions} <= {str(r.pattern) for r in full.regions}
    with pytest.warns(IterationLimitWarning, match="callback"):
        stopped = enumerate_regions(net, box=(-3, 3), callback=lambda s: True)
    assert not stopped.complete and stopped.count == 0
    with pytest.warns(IterationLimitWarning, match="time_limit"):
        late = enumerate_regions(net, box=(-3, 3), time_limit=1e-9)
    assert not late.complete and late.count < full.count


def test_progress_callback_receives_state() -> None:
    seen = []
    net = ReLUNetwork.random(2, [4], seed=0)
    import lpengine.regions.enumerate as enum_mod

    res = enum_mod.enumerate_regions(net, box=(-1, 1), callback=lambda s: seen.append(s) and None)
    assert res.complete and all(s.regions <= res.count for s in seen)


def test_bad_domains_raise_clear_errors() -> None:
    net = ReLUNetwork.random(2, [3], seed=0)
    with pytest.raises(InvalidDomainError, match="empty or thinner"):
        enumerate_regions(net, box=(1, 1))
    with pytest.raises(InvalidDomainError, match="at most one"):
        enumerate_regions(net, box=(-1, 1), whole_space=True)
    with pytest.raises(InvalidDomainError, match="empty interior"):
        enumerate_regions(net, polytope=(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([0.0, -1.0])))
    with pytest.raises(InvalidDomainError, match="shape"):
        enumerate_regions(net, polytope=(np.ones((2, 3)), np.ones(2)))
    with pytest.raises(InvalidDomainError, match="NaN"):
        enumerate_regions(net, box=(np.nan, 1))
    with pytest.raises(ValueError, match="method"):
        enumerate_regions(net, method="magic")
    with pytest.raises(TypeError, match="ReLUNetwork"):
        enumerate_regions(np.eye(2))  # type: ignore[arg-type]


def test_graph_round_trips_through_graphml(tmp_path) -> None:
    res = enumerate_regions(ReLUNetwork.random(2, [5, 4], seed=2), box=(-1, 1))
    path = tmp_path / "g.graphml"
    nx.write_graphml(res.graph, path)
    back = nx.read_graphml(path)
    assert set(back.nodes) == set(res.graph.nodes)
    assert {frozenset(e) for e in back.edges} == {frozenset(e) for e in res.graph.edges}
    for n, data in res.graph.nodes(data=True):
        assert back.nodes[n]["index"] == data["index"]
        assert back.nodes[n]["margin"] == pytest.approx(data["margin"], rel=1e-12)


@pytest.mark.parametrize(
    "domain_kw, method",
    [({"box": (-2, 2)}, "lp"), ({"box": (-2, 2)}, "vertex"), ({"whole_space": True}, "hybrid")],
)
def test_scipy_backend_runs_every_lp_and_agrees(monkeypatch, domain_kw, method) -> None:
    # The whole enumeration on the scipy backend: no LP may reach HiGHS's warm solver, and the
    # regions, adjacency and boundedness must equal the HiGHS run's.
    from lpengine.lp.backends.highs import HighsBackend
    from lpengine.lp.backends.scipy import ScipyBackend

    net = ReLUNetwork.random(2, [5, 4], seed=11)
    ref = enumerate_regions(net, method=method, **domain_kw)
    opened = {"n": 0}
    real_open = ScipyBackend.open

    def counting_open(self, lp, **kw):
        opened["n"] += 1
        return real_open(self, lp, **kw)

    def refuse(self, lp, **kw):
        raise AssertionError("an LP reached the HiGHS backend")

    monkeypatch.setattr(ScipyBackend, "open", counting_open)
    monkeypatch.setattr(HighsBackend, "open", refuse)
    res = enumerate_regions(net, method=method, backend="scipy", **domain_kw)
    assert res.complete and res.count == ref.count
    if method == "lp":  # the vertex and hybrid methods need no LP on this net (no thin region)
        assert opened["n"] > 0 and res.lp_solves > 0
    else:
        assert res.lp_solves == ref.lp_solves == 0
    assert {str(r.pattern) for r in res.regions} == {str(r.pattern) for r in ref.regions}
    assert set(map(frozenset, res.graph.edges)) == set(map(frozenset, ref.graph.edges))
    assert res.n_bounded == ref.n_bounded


def test_unknown_backend_is_rejected_before_any_work() -> None:
    with pytest.raises(ValueError, match="unknown LP backend 'glpk'"):
        enumerate_regions(ReLUNetwork.random(2, [3], seed=0), backend="glpk")

"""Exact decisions of enumerate_regions (issue 13): thin regions, near-coincidences, scale, tiny units, honesty.

Expected counts are derived by hand (parallel hyperplanes cut a box or R^d into
one more piece than their number; products for orthogonal families) or come
from independent exact oracles: the exact-rational 1-D breakpoint scan
(:func:`lpengine.regions.scan1d.count_regions_1d`) and metamorphic relations
(scale invariance; a near-duplicate unit at a tiny shift against a comfortable one).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpengine import IncompleteCountError, IterationLimitWarning, ReLUNetwork
from lpengine.regions import Domain, count_regions, enumerate_regions
from lpengine.regions.scan1d import count_regions_1d


def one_layer(W, b) -> ReLUNetwork:
    return ReLUNetwork((np.array(W, dtype=float),), (np.array(b, dtype=float),), has_output_layer=False)


def parallel_units(d: int, offsets: list[float]) -> ReLUNetwork:
    """Units x1 = t for each t in ``offsets`` (weight 1 on x1, bias -t)."""
    W = np.zeros((len(offsets), d))
    W[:, 0] = 1.0
    return one_layer(W, [-t for t in offsets])


DOMAINS = [{"box": (-1, 1)}, {"whole_space": True}]


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("dom", DOMAINS, ids=["box", "Rd"])
@pytest.mark.parametrize("gap", [1e-6, 5e-8, 1e-10, 1e-13])
def test_a_thin_slab_is_counted_and_crossed(d: int, dom: dict, gap: float) -> None:
    # Hyperplanes x1 = 0, x1 = gap and x1 = 0.8: four slabs, one of width gap.  The region behind
    # the thin slab (0.8 side) is reachable only through it.
    res = enumerate_regions(parallel_units(d, [0.0, gap, 0.8]), **dom)
    assert res.complete and res.count == 4
    thin = [r for r in res.regions if r.thin]
    assert len(res.thin_patterns) == len(thin) == (1 if gap < 1e-7 else 0)
    for r in thin:
        assert r.exact_witness is not None and str(r.pattern) == "+--"
        x1 = Fraction(r.exact_witness.num[0], r.exact_witness.den)
        assert 0 < x1 < Fraction(gap)  # strictly inside the slab, checked here in rationals


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("dom", DOMAINS, ids=["box", "Rd"])
@pytest.mark.parametrize("centre", [0.0, 0.3])
def test_start_in_or_beside_a_thin_strip(d: int, dom: dict, centre: float) -> None:
    # Hyperplanes x1 = centre +- 5e-9: three regions, the start point (the domain centre) inside the strip
    # when centre = 0.
    res = enumerate_regions(parallel_units(d, [centre - 5e-9, centre + 5e-9]), **dom)
    assert res.complete and res.count == 3 and len(res.thin_patterns) == 1


@pytest.mark.parametrize("delta", [5e-11, 1e-12, 3e-15])
@pytest.mark.parametrize("method", ["auto", "lp"])
def test_near_coincident_rows_are_not_merged(delta: float, method: str) -> None:
    # x1 = 0, x1 = delta and x2 = 0 in the box: 3 x 2 = 6 regions (only exactly equal rows are one hyperplane).
    net = one_layer([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], [0.0, -delta, 0.0])
    res = enumerate_regions(net, box=(-1, 1), method=method)
    assert res.complete and res.count == 6


@pytest.mark.parametrize("method", ["auto", "lp"])
def test_exactly_coincident_rows_stay_one_hyperplane(method: str) -> None:
    # 0.1 * (x1 - 0.3) and (x1 - 0.3) are exactly proportional only if the float data are: use
    # powers of two, so the two units are one hyperplane and the count is 2 x 2 = 4.
    net = one_layer([[0.125, 0.0], [1.0, 0.0], [0.0, 1.0]], [-0.125 * 0.5, -0.5, 0.0])
    res = enumerate_regions(net, box=(-1, 1), method=method)
    assert res.complete and res.count == 4
    assert {r.pattern.signs[0] * r.pattern.signs[1] for r in res.regions} == {1}


@pytest.mark.parametrize("method", ["auto", "lp"])
def test_r3_pair_far_from_the_start(method: str) -> None:
    net = one_layer([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], [-1.0, -1.0 - 3e-10])
    res = enumerate_regions(net, whole_space=True, method=method)
    assert res.complete and res.count == 3


def scaled(net: ReLUNetwork, s: float) -> ReLUNetwork:
    """Every pre-activation times s: the first layer's weights and every hidden bias scale by s."""
    W = [np.array(w) for w in net.weights]
    b = [np.array(v) for v in net.biases]
    W[0] = W[0] * s
    for l in range(net.n_hidden_layers):
        b[l] = b[l] * s
    return ReLUNetwork(W, b, has_output_layer=net.has_output_layer)


@settings(max_examples=12)
@given(
    seed=st.integers(0, 10_000),
    d=st.integers(1, 3),
    widths=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    exponent=st.integers(-12, 12),
    whole=st.booleans(),
)
def test_counts_are_scale_invariant(seed: int, d: int, widths: list[int], exponent: int, whole: bool) -> None:
    net = ReLUNetwork.random(d, widths, seed=seed)
    kw = {"whole_space": True} if whole else {"box": (-1, 1)}
    ref = enumerate_regions(net, **kw)
    res = enumerate_regions(scaled(net, 10.0**exponent), **kw)
    assert ref.complete and res.complete and res.count == ref.count
    assert {str(r.pattern) for r in res.regions} == {str(r.pattern) for r in ref.regions}


def test_tiny_units_carry_their_exact_signs() -> None:
    # Unit 1 is ~1e-27 (x1 + x2 + 3): positive on the whole box.  Unit 2 is 1e-27 (x1 - x2): a real
    # hyperplane.  With x1 = 0: 4 regions, unit 1 active in all of them.
    net = one_layer([[1.0, 0.0], [1e-27, 1e-27], [1e-27, -1e-27]], [0.0, 3e-27, 0.0])
    res = enumerate_regions(net, box=(-1, 1))
    assert res.complete and res.count == 4
    assert all(r.pattern.signs[1] == 1 for r in res.regions)
    # A deep tiny unit: layer 2 reads unit 0 with weight 1e-30 and bias -1e-31: z = 1e-30 relu(x1) - 1e-31,
    # zero at x1 = 0.1; that line crosses both regions with x1 > 0 (x2 < x1 and x2 > x1): 4 + 2 = 6.
    deep = ReLUNetwork(
        (np.array([[1.0, 0.0], [1e-27, 1e-27], [1e-27, -1e-27]]), np.array([[1e-30, 0.0, 0.0]])),
        (np.array([0.0, 3e-27, 0.0]), np.array([-1e-31])),
        has_output_layer=False,
    )
    assert count_regions(deep, box=(-1, 1)) == 6


def near_duplicate(seed: int, delta: float, d: int = 2) -> ReLUNetwork:
    """A random [4, 4] net with one unit replaced by a copy of another of its layer, bias shifted by delta."""
    rng = np.random.default_rng(seed)
    net = ReLUNetwork.random(d, [4, 4], seed=seed)
    W = [np.array(w) for w in net.weights]
    b = [np.array(v) for v in net.biases]
    l = int(rng.integers(0, 2))
    i, j = rng.choice(4, 2, replace=False)
    W[l][i], b[l][i] = W[l][j], b[l][j] + delta
    return ReLUNetwork(W, b, has_output_layer=net.has_output_layer)


def _near_duplicate_check(seed: int, log_delta: float, whole: bool) -> None:
    kw = {"whole_space": True} if whole else {"box": (-2, 2)}
    comfortable = enumerate_regions(near_duplicate(seed, 1e-5), **kw).count
    if enumerate_regions(near_duplicate(seed, 10**-4.5), **kw).count != comfortable:
        return  # the arrangement still changes at this scale: no metamorphic relation to test
    res = enumerate_regions(near_duplicate(seed, 10.0**log_delta), **kw)
    assert res.complete and res.count == comfortable


@settings(max_examples=10)
@given(seed=st.integers(0, 100_000), log_delta=st.floats(-12, -6), whole=st.booleans())
def test_near_duplicate_at_tiny_shift_equals_comfortable_shift(seed: int, log_delta: float, whole: bool) -> None:
    _near_duplicate_check(seed, log_delta, whole)


@pytest.mark.slow
@settings(max_examples=200)
@given(seed=st.integers(0, 100_000), log_delta=st.floats(-12, -6), whole=st.booleans())
def test_near_duplicate_sweep_slow(seed: int, log_delta: float, whole: bool) -> None:
    _near_duplicate_check(seed, log_delta, whole)


def quantized(net: ReLUNetwork, levels: int) -> ReLUNetwork:
    """Every layer rounded to the grid max|W| / levels (not a power of two): near-concurrent lines."""
    W, b = [], []
    for w, v in zip(net.weights, net.biases, strict=True):
        step = float(np.max(np.abs(w))) / levels
        W.append(np.round(np.asarray(w) / step) * step)
        b.append(np.round(np.asarray(v) / step) * step)
    return ReLUNetwork(W, b, has_output_layer=net.has_output_layer)


def _quantized_1d_check(seed: int, widths: list[int], levels: int) -> None:
    net = quantized(ReLUNetwork.random(1, widths, seed=seed), levels)
    res = enumerate_regions(net, box=(-2, 2))
    assert res.complete and res.count == count_regions_1d(net, -2.0, 2.0, exact=True)


@settings(max_examples=15)
@given(
    seed=st.integers(0, 100_000),
    widths=st.lists(st.integers(2, 6), min_size=1, max_size=3),
    levels=st.sampled_from([3, 7, 127]),
)
def test_quantized_1d_nets_match_the_exact_scan(seed: int, widths: list[int], levels: int) -> None:
    _quantized_1d_check(seed, widths, levels)


@pytest.mark.slow
@settings(max_examples=300)
@given(
    seed=st.integers(0, 100_000),
    widths=st.lists(st.integers(2, 8), min_size=1, max_size=3),
    levels=st.sampled_from([3, 7, 127]),
)
def test_quantized_1d_sweep_slow(seed: int, widths: list[int], levels: int) -> None:
    _quantized_1d_check(seed, widths, levels)


def test_budget_stop_gives_an_interval_and_count_regions_refuses() -> None:
    net = ReLUNetwork.random(2, [8, 8], seed=0)
    with pytest.warns(IterationLimitWarning):
        res = enumerate_regions(net, box=(-2, 2), max_regions=5)
    assert not res.complete and res.count_lower == 5 and res.count_upper is None
    assert res.interval() == "[5, ?]" and res.summary()["count_upper"] is None
    full = enumerate_regions(net, box=(-2, 2))
    assert full.count_lower == full.count_upper == full.count and full.interval() == str(full.count)
    assert count_regions(net, box=(-2, 2)) == full.count


def test_count_regions_raises_instead_of_returning_a_lower_bound(monkeypatch) -> None:
    # A pattern left undecided (simulated): count_regions must raise, with the partial result attached.
    import lpengine.regions.processor as proc_mod
    from lpengine.lp import LPStatus
    from lpengine.regions.outcome import Processed, Unresolved

    original = proc_mod.RegionProcessor.process_batch
    calls = {"n": 0}

    def flaky(self, items):
        out = original(self, items)
        for i, item in enumerate(items):
            calls["n"] += 1
            if calls["n"] == 3:
                out[i] = Processed(Unresolved(item.signs, LPStatus.ERROR))
        return out

    monkeypatch.setattr(proc_mod.RegionProcessor, "process_batch", flaky)
    net = ReLUNetwork.random(2, [6], seed=1)
    with pytest.warns(IterationLimitWarning), pytest.raises(IncompleteCountError, match="not exact") as info:
        count_regions(net, box=(-2, 2))
    partial = info.value.result
    assert not partial.complete and len(partial.undecided_patterns) == 1 and partial.count_upper is None


def test_well_conditioned_nets_need_no_exact_arithmetic() -> None:
    res = enumerate_regions(ReLUNetwork.random(3, [8, 8], seed=5), box=(-1, 1))
    d = res.decisions
    assert d["float_certified"] == res.count and d["exact_witness"] == d["exact_lp"] == 0
    assert d["exact_crossings"] == d["exact_facets"] == 0


@pytest.mark.parametrize("eps", [1e-3, 1e-12, 1e-17, 1e-30])
@pytest.mark.parametrize("method", ["auto", "lp"])
def test_a_triangle_with_a_vertex_far_away_is_bounded(eps: float, method: str) -> None:
    # Lines x2 = 0, x2 = 1 + eps x1 and x1 = 0 in R^2: three lines in general position, 7 regions, exactly one
    # bounded (Zaslavsky: C(n - 1, d) = 1), the triangle whose third vertex is at x1 = -1/eps.  Floats see
    # the first two lines as parallel for eps <= 1e-17; the exact decision does not.
    W = np.array([[0.0, 1.0], [eps, -1.0], [-1.0, 0.0]])
    net = ReLUNetwork((W,), (np.array([0.0, 1.0, 0.0]),), has_output_layer=False)
    res = enumerate_regions(net, whole_space=True, method=method)
    assert res.complete and res.count == 7
    assert [tuple(r.pattern.signs) for r in res.regions if r.bounded] == [(1, 1, 1)]
    assert all(r.bounded is False for r in res.regions if tuple(r.pattern.signs) != (1, 1, 1))


@pytest.mark.parametrize("eps", [1e-3, 1e-17, 1e-30])
def test_a_polytope_domain_bounded_only_far_away_is_bounded(eps: float) -> None:
    # {x2 >= 0, x2 <= 1 + eps x1, x1 <= 0}: the same triangle as a domain.
    A = np.array([[0.0, -1.0], [-eps, 1.0], [1.0, 0.0]])
    assert Domain.polytope(A, np.array([0.0, 1.0, 0.0])).bounded
    assert not Domain.polytope(A[:2], np.array([0.0, 1.0])).bounded  # without x1 <= 0: unbounded


def _count_exact_nets(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the ExactNet constructions (the integer form of the network) from here on."""
    import lpengine.regions.exact as exact

    built: list[int] = []
    init = exact.ExactNet.__init__

    def counting(self, net):  # type: ignore[no-untyped-def]
        built.append(1)
        init(self, net)

    monkeypatch.setattr(exact.ExactNet, "__init__", counting)
    return built


@pytest.mark.parametrize("n_in, widths, seed", [(2, [6, 6], 0), (3, [5, 4], 1), (4, [4, 4, 3], 2)])
def test_floats_decide_a_generic_net_without_the_exact_network(
    monkeypatch: pytest.MonkeyPatch, n_in: int, widths: list[int], seed: int
) -> None:
    # Generic weights in a box: every witness (the start point's included) clears its rigorous float
    # error bound, so the integer form of the network is never built.
    built = _count_exact_nets(monkeypatch)
    res = enumerate_regions(ReLUNetwork.random(n_in, widths, seed=seed), box=(-1, 1))
    assert res.complete and res.count > 1
    assert res.decisions["float_certified"] == res.count
    assert res.decisions["exact_rows"] == 0 and not built


@pytest.mark.parametrize("d", [1, 2, 3])
def test_a_start_centre_on_a_hyperplane_goes_to_integers(monkeypatch: pytest.MonkeyPatch, d: int) -> None:
    # Units x1 = 0 (through the box centre) and x1 = 0.5: floats cannot settle the centre, the exact
    # test rejects it (on a hyperplane), a perturbed point is taken; its pattern is then checked
    # here independently by the exact forward pass at the returned point.
    from lpengine.lp.exact import RationalVector
    from lpengine.regions.domain import make_domain
    from lpengine.regions.exact import ExactNet
    from lpengine.regions.search import start_point
    from lpengine.tolerances import Tolerances

    net = parallel_units(d, [0.0, 0.5])
    built = _count_exact_nets(monkeypatch)
    tol = Tolerances()
    x, pattern = start_point(net, make_domain(d, box=(-1, 1), tol=tol), tol, 0)
    assert built  # the centre needed integers
    assert x[0] != 0.0 and np.all(np.abs(x) < 1)
    s, _ = ExactNet(net).forward_signs(RationalVector.from_floats(x))
    assert np.all(s != 0)
    assert np.array_equal(np.where(s > 0, 1, -1), np.asarray(pattern.signs))
    assert enumerate_regions(net, box=(-1, 1)).count == 3

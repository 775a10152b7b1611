"""Tests of the exact 1-D breakpoint scan: hand-made nets, dense sampling, and brute force."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from lpengine import ReLUNetwork
from lpengine.exceptions import InvalidDomainError
from lpengine.regions.brute import brute_force_regions
from lpengine.regions.scan1d import LineScanResult, count_regions_1d, scan_line


def net_of(*layers, out=False) -> ReLUNetwork:
    """Hidden layers given as (W, b) pairs of nested lists."""
    ws = tuple(np.asarray(W, dtype=float) for W, _ in layers)
    bs = tuple(np.asarray(b, dtype=float) for _, b in layers)
    return ReLUNetwork(ws, bs, has_output_layer=out)


# relu(t), relu(-t): the common first layer of the hand-made deep examples.
V = ([[1.0], [-1.0]], [0.0, 0.0])


# ----------------------------------------------------------------- hand-made nets
def test_duplicate_opposite_and_scaled_units_share_breakpoints():
    net = net_of(([[1.0], [1.0], [-1.0], [2.0], [3.0]], [0.0, 0.0, 0.0, -1.0, -1.0]))
    res = scan_line(net, [0.0], [1.0], -1.0, 1.0)
    assert isinstance(res, LineScanResult)
    assert res.breakpoints == (Fraction(0), Fraction(1, 3), Fraction(1, 2))  # 1/3 exactly, not 0.333..
    assert res.count == 4
    assert res.patterns == (
        (-1, -1, 1, -1, -1),
        (1, 1, -1, -1, -1),
        (1, 1, -1, -1, 1),
        (1, 1, -1, 1, 1),
    )
    assert res.exact and res.t_lo == -1.0 and res.t_hi == 1.0


def test_second_layer_roots_away_from_first_layer_breakpoints():
    # z = relu(t) + relu(-t) - 1 = |t| - 1: roots at -1 and 1, plus the kink at 0.
    net = net_of(V, ([[1.0, 1.0]], [-1.0]))
    res = scan_line(net, [0.0], [1.0], -2.0, 2.0)
    assert res.breakpoints == (-1, 0, 1)
    assert res.patterns == ((-1, 1, 1), (-1, 1, -1), (1, -1, -1), (1, -1, 1))
    assert count_regions_1d(net, -2.0, 2.0) == 4
    assert count_regions_1d(net, -0.5, 0.5) == 2
    assert count_regions_1d(net, 0.25, 0.5) == 1


def test_second_layer_root_coinciding_with_a_first_layer_breakpoint():
    # z = relu(t) - relu(-t) = t flips at 0 together with both first-layer units.
    net = net_of(V, ([[1.0, -1.0]], [0.0]))
    res = scan_line(net, [0.0], [1.0], -1.0, 1.0)
    assert res.breakpoints == (0,)
    assert res.patterns == ((-1, 1, -1), (1, -1, 1))


def test_unit_touching_zero_without_changing_sign():
    # z = |t| >= 0 vanishes only at t = 0: active on both sides.
    net = net_of(V, ([[1.0, 1.0]], [0.0]))
    res = scan_line(net, [0.0], [1.0], -1.0, 1.0)
    assert res.patterns == ((-1, 1, 1), (1, -1, 1))


def test_unit_identically_zero_on_a_piece_is_inactive():
    # z = relu(t) is 0 on the whole piece t < 0 (dead there: inactive), active for t > 0.
    net = net_of(([[1.0]], [0.0]), ([[1.0]], [0.0]), ([[-1.0]], [0.0]))
    res = scan_line(net, [0.0], [1.0], -1.0, 1.0)
    assert res.breakpoints == (0,)
    assert res.patterns == ((-1, -1, -1), (1, 1, -1))


def test_bent_root_inside_a_piece_of_a_three_layer_net():
    # h1 = relu(t - 1/4), h2 = relu(2 h1 - 1) (root t = 3/4), h3 = relu(1 - 3 h2) (root t = 11/12).
    net = net_of(([[1.0]], [-0.25]), ([[2.0]], [-1.0]), ([[-3.0]], [1.0]))
    res = scan_line(net, [0.0], [1.0], 0.0, 2.0)
    assert res.breakpoints == (Fraction(1, 4), Fraction(3, 4), Fraction(11, 12))
    assert res.patterns == ((-1, -1, 1), (1, -1, 1), (1, 1, 1), (1, 1, -1))
    assert res.pattern_at(0.8) == (1, 1, 1)
    assert res.pattern_at(0.75) == (1, 1, 1)  # a breakpoint belongs to the piece on its right


def test_whole_line_with_infinite_ends():
    net = net_of(V, ([[1.0, 1.0]], [-1.0]))
    res = scan_line(net, [0.0], [1.0], -np.inf, np.inf)
    assert res.breakpoints == (-1, 0, 1)
    assert count_regions_1d(net, -np.inf, np.inf) == 4
    assert count_regions_1d(net, 0.5, np.inf) == 2
    flat = net_of(([[0.0]], [1.0]))  # no breakpoint at all
    assert scan_line(flat, [0.0], [1.0], -np.inf, np.inf).patterns == ((1,),)


def test_line_in_the_plane_crosses_each_line_once():
    # Lines x = 0, y = 0, x + y = 1/2, and x = 0 again; the segment (-1,-1/2) -> (1, 3/2) along (1, 1).
    net = net_of(([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.0]], [0.0, 0.0, -0.5, 0.0]))
    res = scan_line(net, [-1.0, -0.5], [1.0, 1.0], 0.0, 2.0)
    # x = 0 at t = 1, y = 0 at t = 1/2, x + y = 1/2 at t = 1.
    assert res.breakpoints == (Fraction(1, 2), Fraction(1))
    assert res.patterns == ((-1, -1, -1, -1), (-1, 1, -1, -1), (1, 1, 1, 1))


# --------------------------------------------------------- random nets vs sampling
@pytest.mark.parametrize("seed", range(6))
def test_scan_agrees_with_dense_sampling(seed):
    net = ReLUNetwork.random(1, [4, 3, 3], seed=seed)
    res = scan_line(net, [0.0], [1.0], -3.0, 3.0)
    ts = np.linspace(-3.0, 3.0, 20001)
    sampled = net.activation_pattern(ts[:, None])
    clean = np.all(sampled != 0, axis=1)
    distinct = {tuple(int(v) for v in row) for row in sampled[clean]}
    assert len(distinct) <= res.count  # sampling only ever gives a lower bound
    assert distinct <= set(res.patterns)
    bps = np.array([float(b) for b in res.breakpoints])
    far = clean & (np.min(np.abs(ts[:, None] - bps[None, :]), axis=1, initial=np.inf) > 1e-9)
    for t, row in zip(ts[far][::50], sampled[far][::50], strict=True):
        assert res.pattern_at(t) == tuple(int(v) for v in row)


@pytest.mark.parametrize("seed", range(4))
def test_float_mode_matches_exact_mode(seed):
    net = ReLUNetwork.random(1, [5, 4], seed=seed)
    ex = scan_line(net, [0.2], [1.0], -4.0, 4.0)
    fl = scan_line(net, [0.2], [1.0], -4.0, 4.0, exact=False)
    assert fl.patterns == ex.patterns
    assert not fl.exact
    assert_allclose([float(b) for b in fl.breakpoints], [float(b) for b in ex.breakpoints], atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_line_through_a_2d_box_meets_only_brute_force_regions(seed):
    net = ReLUNetwork.random(2, [4, 3], seed=seed)
    regions = set(brute_force_regions(net, box=(-1.0, 1.0)).patterns)
    res = scan_line(net, [-1.0, -0.3], [1.0, 0.65], 0.0, 2.0)  # from the left edge to the right edge
    assert set(res.patterns) <= regions
    assert res.count >= 2


@pytest.mark.parametrize(("d", "n", "seed"), [(2, 6, 0), (3, 5, 1)])
def test_one_layer_line_count_is_one_plus_distinct_crossings(d, n, seed):
    net = ReLUNetwork.random(d, [n], seed=seed)
    rng = np.random.default_rng(seed)
    x0, u = rng.normal(size=d), rng.normal(size=d)
    W, b = net.weights[0], net.biases[0]
    roots = -(W @ x0 + b) / (W @ u)  # unit k changes sign at t = roots[k]
    inside = np.unique(roots[(roots > -2.0) & (roots < 2.0)])
    assert scan_line(net, x0, u, -2.0, 2.0).count == 1 + inside.size


# --------------------------------------------------------- n_in = 1: brute force
def quarter(values):
    return [v / 4 for v in values]


@st.composite
def dyadic_1d_nets(draw):
    """n_in = 1 nets with weights in {-2, -1.75, ..., 2}: every float operation on them is exact."""
    widths = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    dims = [1, *widths]
    entries = st.integers(-8, 8).map(lambda k: k / 4)
    ws, bs = [], []
    for fan_in, fan_out in zip(dims[:-1], dims[1:], strict=True):
        rows = draw(st.lists(st.lists(entries, min_size=fan_in, max_size=fan_in), min_size=fan_out, max_size=fan_out))
        if fan_out > 1 and draw(st.booleans()):
            rows[-1] = list(rows[0])  # a duplicated unit
        ws.append(np.array(rows, dtype=float))
        bs.append(np.array(draw(st.lists(entries, min_size=fan_out, max_size=fan_out)), dtype=float))
    return ReLUNetwork(tuple(ws), tuple(bs), has_output_layer=False)


@settings(max_examples=100)
@given(net=dyadic_1d_nets())
def test_brute_force_equals_scan_for_one_input(net):
    for kwargs, (lo, hi) in (({"box": (-2.0, 2.0)}, (-2.0, 2.0)), ({"whole_space": True}, (-np.inf, np.inf))):
        scan = scan_line(net, [0.0], [1.0], lo, hi)
        brute = brute_force_regions(net, **kwargs)
        assert brute.count == scan.count
        assert set(brute.patterns) == set(scan.patterns)


@pytest.mark.parametrize("seed", range(5))
def test_brute_force_equals_scan_for_random_one_input_nets(seed):
    net = ReLUNetwork.random(1, [4, 4, 3], seed=seed)
    scan = scan_line(net, [0.0], [1.0], -2.0, 2.0)
    brute = brute_force_regions(net, box=(-2.0, 2.0))
    assert brute.patterns == tuple(sorted(scan.patterns))
    # Each brute-force region is an interval: its Chebyshev radius is half the piece's length.
    ends = [-2.0, *map(float, scan.breakpoints), 2.0]
    half = {p: (b - a) / 2 for p, a, b in zip(scan.patterns, ends[:-1], ends[1:], strict=True)}
    assert_allclose(brute.margins, [half[p] for p in brute.patterns], atol=1e-7)


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([0.0], [0.0], -1.0, 1.0), "direction is the zero vector"),
        (([0.0], [1.0], 1.0, 1.0), r"t_lo < t_hi .* got \[1.0, 1.0\]"),
        (([0.0], [1.0], 0.0, np.nan), "t_lo < t_hi"),
        (([0.0, 0.0], [1.0], -1.0, 1.0), r"x0 has shape \(2,\); expected \(1\)"),
        (([0.0], [np.inf], -1.0, 1.0), "direction contains NaN or inf"),
    ],
)
def test_bad_lines_are_rejected(args, match):
    net = net_of(([[1.0]], [0.0]))
    with pytest.raises(InvalidDomainError, match=match):
        scan_line(net, *args)


def test_count_regions_1d_needs_one_input():
    with pytest.raises(InvalidDomainError, match="one input; this one has n_in = 2"):
        count_regions_1d(ReLUNetwork.random(2, [3], seed=0), -1.0, 1.0)

"""Tests of the brute-force region oracle against closed formulas and hand-made arrangements."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.optimize import linprog

from lpengine import ReLUNetwork, Tolerances
from lpengine.exceptions import InvalidDomainError, InvalidOptionError
from lpengine.regions.brute import WHOLE_SPACE_R_MAX, BruteForceResult, brute_force_regions


def one_layer(W, b) -> ReLUNetwork:
    W = np.asarray(W, dtype=float)
    return ReLUNetwork((W,), (np.asarray(b, dtype=float),), has_output_layer=False)


def in_general_position(W: np.ndarray, b: np.ndarray, *, gap: float = 1e-3) -> bool:
    """Every d rows of W independent and no d+1 hyperplanes through one point (all minors > gap)."""
    n, d = W.shape
    Wb = np.hstack([W, b[:, None]])
    for rows in itertools.combinations(range(n), d):
        if abs(np.linalg.det(W[list(rows)])) <= gap:
            return False
    for rows in itertools.combinations(range(n), d + 1):
        if abs(np.linalg.det(Wb[list(rows)])) <= gap:
            return False
    return True


def is_bounded_cell(W: np.ndarray, signs: tuple[int, ...]) -> bool:
    """A one-layer cell is bounded iff its recession cone {y : s_k w_k . y >= 0} is {0}.

    Checked with 2d scipy LPs: maximise +-y_i over the cone intersected with [-1, 1]^d.
    """
    d = W.shape[1]
    A_ub = -np.asarray(signs, dtype=float)[:, None] * W
    for i in range(d):
        for sgn in (1.0, -1.0):
            c = np.zeros(d)
            c[i] = -sgn
            res = linprog(c, A_ub=A_ub, b_ub=np.zeros(len(signs)), bounds=[(-1, 1)] * d, method="highs")
            assert res.status == 0
            if -res.fun > 1e-9:
                return False
    return True


# ------------------------------------------------------------------ closed formulas
@pytest.mark.parametrize(
    ("d", "n", "seed", "expected", "expected_bounded"),
    [(1, 5, 0, 6, 4), (2, 4, 0, 11, 3), (2, 8, 1, 37, 21), (3, 6, 0, 42, 10), (3, 10, 2, 176, 84)],
)
def test_one_layer_generic_whole_space_matches_zaslavsky(d, n, seed, expected, expected_bounded):
    net = ReLUNetwork.random(d, [n], seed=seed, n_out=None)
    W, b = net.weights[0], net.biases[0]
    assert in_general_position(W, b)  # the formula needs general position
    assert expected == sum(comb(n, i) for i in range(d + 1))
    res = brute_force_regions(net, whole_space=True)
    assert isinstance(res, BruteForceResult)
    assert res.count == expected
    assert res.domain == "whole_space"
    # Buck/Zaslavsky: C(n-1, d) bounded regions.
    assert expected_bounded == comb(n - 1, d)
    assert sum(is_bounded_cell(W, p) for p in res.patterns) == expected_bounded
    # Unbounded cells hit the radius cap.
    assert all(0.0 < m <= WHOLE_SPACE_R_MAX for m in res.margins)


def test_axis_parallel_lines_in_box_give_product_count():
    xs, ys = [-0.5, 0.0, 0.5], [-0.3, 0.4]
    W = [[1.0, 0.0]] * len(xs) + [[0.0, 1.0]] * len(ys)
    b = [-a for a in xs] + [-c for c in ys]
    res = brute_force_regions(one_layer(W, b), box=(-1.0, 1.0))
    assert res.count == (len(xs) + 1) * (len(ys) + 1) == 12
    # Pattern of the cell: unit for x = a is active iff x > a, so the signs are monotone staircases.
    stairs = lambda k: [tuple([1] * i + [-1] * (k - i)) for i in range(k + 1)]  # noqa: E731
    expected = {sx + sy for sx in stairs(len(xs)) for sy in stairs(len(ys))}
    assert set(res.patterns) == expected
    # Chebyshev radii: the cell [-0.5, 0] x [-0.3, 0.4] has inradius 0.25.
    i = res.patterns.index((1, -1, -1, 1, -1))
    assert_allclose(res.margins[i], 0.25, atol=1e-9)


def test_lines_outside_the_box_do_not_count():
    res = brute_force_regions(one_layer([[1.0, 0.0], [1.0, 0.0]], [-2.0, 0.0]), box=(-1.0, 1.0))
    assert res.count == 2
    assert set(res.patterns) == {(-1, 1), (-1, -1)}


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_concurrent_lines_through_origin_give_2n(n):
    angles = np.pi * np.arange(n) / n
    W = np.column_stack([np.cos(angles), np.sin(angles)])
    net = one_layer(W, np.zeros(n))
    assert brute_force_regions(net, whole_space=True).count == 2 * n
    assert brute_force_regions(net, box=(-1.0, 1.0)).count == 2 * n
    # Off-centre box that still contains the origin in its interior.
    assert brute_force_regions(net, box=([-0.1, -3.0], [2.0, 0.2])).count == 2 * n


# ---------------------------------------------------------------------- degeneracy
def test_duplicate_scaled_and_opposite_neurons_do_not_add_regions():
    base = brute_force_regions(one_layer([[1.0, 1.0], [1.0, -1.0]], [0.0, 0.5]), box=(-1.0, 1.0))
    assert base.count == 4
    # unit 2 duplicates unit 0, unit 3 is 2x unit 1, unit 4 is -1x unit 0.
    W = [[1.0, 1.0], [1.0, -1.0], [1.0, 1.0], [2.0, -2.0], [-1.0, -1.0]]
    b = [0.0, 0.5, 0.0, 1.0, 0.0]
    res = brute_force_regions(one_layer(W, b), box=(-1.0, 1.0))
    assert res.count == 4
    assert set(res.patterns) == {p + (p[0], p[1], -p[0]) for p in base.patterns}


@pytest.mark.parametrize(("bias", "sign"), [(0.5, 1), (-0.5, -1), (0.0, -1), (1e-12, -1), (-1e-12, -1), (1e-6, 1)])
def test_zero_row_unit_takes_the_sign_of_its_bias(bias, sign):
    # |bias| <= tol.activation (1e-9) counts as inactive: exactly one pattern per region.
    res = brute_force_regions(one_layer([[1.0, 0.0], [0.0, 0.0]], [0.0, bias]), box=(-1.0, 1.0))
    assert res.count == 2
    assert set(res.patterns) == {(1, sign), (-1, sign)}


def test_deep_hand_made_net_with_a_dead_unit_per_quadrant():
    # h = relu(x), relu(y); z = h1 + h2 - 1.  In quadrant (-,-) z = -1 is constant (dead, inactive);
    # in each other quadrant the bent line z = 0 splits it: 3 * 2 + 1 = 7 regions.
    net = ReLUNetwork((np.eye(2), np.array([[1.0, 1.0]])), (np.zeros(2), np.array([-1.0])), has_output_layer=False)
    res = brute_force_regions(net, box=(-2.0, 2.0))
    assert res.count == 7
    expected = {(s1, s2, s3) for s1 in (1, -1) for s2 in (1, -1) for s3 in (1, -1) if (s1, s2) != (-1, -1)}
    assert set(res.patterns) == expected | {(-1, -1, -1)}
    # z = h1 - h2 with zero bias: dead with beta = 0 in (-,-) (inactive), single-signed in the mixed
    # quadrants, and split along x = y in (+,+): 2 + 1 + 1 + 1 = 5 regions.
    net2 = ReLUNetwork((np.eye(2), np.array([[1.0, -1.0]])), (np.zeros(2), np.array([0.0])), has_output_layer=False)
    res2 = brute_force_regions(net2, box=(-2.0, 2.0))
    assert set(res2.patterns) == {(1, 1, 1), (1, 1, -1), (1, -1, 1), (-1, 1, -1), (-1, -1, -1)}


def test_output_layer_is_ignored():
    hidden = ReLUNetwork((np.eye(2),), (np.zeros(2),), has_output_layer=False)
    with_out = ReLUNetwork((np.eye(2), np.ones((1, 2))), (np.zeros(2), np.zeros(1)), has_output_layer=True)
    assert (
        brute_force_regions(with_out, box=(-1.0, 1.0)).patterns == brute_force_regions(hidden, box=(-1.0, 1.0)).patterns
    )


def test_regions_thinner_than_the_margin_are_not_counted():
    thin = one_layer([[1.0, 0.0], [1.0, 0.0]], [0.0, -1e-9])  # strip 0 < x < 1e-9: radius 5e-10
    res = brute_force_regions(thin, box=(-1.0, 1.0))
    assert res.count == 2
    assert set(res.patterns) == {(1, 1), (-1, -1)}
    # With a smaller margin the strip counts.
    res_fine = brute_force_regions(thin, box=(-1.0, 1.0), tol=Tolerances(margin=1e-10))
    assert res_fine.count == 3
    assert (1, -1) in res_fine.patterns
    assert brute_force_regions(one_layer([[1.0, 0.0], [1.0, 0.0]], [0.0, -1e-3]), box=(-1.0, 1.0)).count == 3


# --------------------------------------------------------------------------- domains
def test_polytope_domain_cuts_regions():
    tri = (np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]]), np.array([0.0, 0.0, 1.0]))
    # x = 1/4 and y = 1/4 meet inside the triangle x, y >= 0, x + y <= 1: 4 regions.
    assert brute_force_regions(one_layer(np.eye(2), [-0.25, -0.25]), polytope=tri).count == 4
    # x = 0.6 and y = 0.6 meet outside it: the (+,+) quadrant misses the triangle.
    res = brute_force_regions(one_layer(np.eye(2), [-0.6, -0.6]), polytope=tri)
    assert set(res.patterns) == {(1, -1), (-1, 1), (-1, -1)}
    assert res.domain == "polytope"


def test_polytope_equal_to_box_gives_the_same_regions():
    net = ReLUNetwork.random(2, [3, 3], seed=5)
    box = brute_force_regions(net, box=([-1.0, -0.5], [1.0, 2.0]))
    A = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    poly = brute_force_regions(net, polytope=(3.0 * A, 3.0 * np.array([1.0, 2.0, 1.0, 0.5])))
    assert poly.patterns == box.patterns
    assert_allclose(poly.margins, box.margins, atol=1e-7)  # all radii < 1 = the polytope cap


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_witnesses_reproduce_patterns_and_box_counts_at_most_whole_space(seed):
    net = ReLUNetwork.random(2, [4, 3], seed=seed)
    box = brute_force_regions(net, box=(-1.0, 1.0))
    whole = brute_force_regions(net, whole_space=True)
    assert 1 <= box.count <= whole.count <= 2**net.n_hidden
    assert set(box.patterns) <= set(whole.patterns)
    for res in (box, whole):
        assert res.witnesses.shape == (res.count, 2)
        np.testing.assert_array_equal(net.activation_pattern(res.witnesses), res.pattern_array())
        assert min(res.margins) > Tolerances().margin
        assert len(set(res.patterns)) == res.count
    assert np.all(np.abs(box.witnesses) <= 1.0 - np.array(box.margins)[:, None] + 1e-9)


# --------------------------------------------------------------- pruning and backends
def test_pruning_is_exact_and_unpruned_solves_one_lp_per_sign_vector():
    net = ReLUNetwork.random(2, [6], seed=3, n_out=None)
    assert in_general_position(net.weights[0], net.biases[0])
    pruned = brute_force_regions(net, whole_space=True)
    full = brute_force_regions(net, whole_space=True, prune=False)
    assert full.patterns == pruned.patterns == brute_force_regions(net, whole_space=True, backend="scipy").patterns
    assert pruned.count == 22  # generic: 1 + 6 + 15
    assert full.lp_solves == 1 + 2**6  # the domain LP, then one per sign vector (no dead units)
    # Pruned: both children of every prefix region are tested; the prefixes of a generic arrangement
    # of k lines form 1 + k + C(k, 2) regions, so 1 + 2 * sum_{k<6} (1 + k + C(k, 2)) = 83 LPs.
    assert pruned.lp_solves == 1 + 2 * sum(1 + k + comb(k, 2) for k in range(6)) == 83


@pytest.mark.parametrize("seed", [11, 12])
def test_highs_and_scipy_backends_agree(seed):
    net = ReLUNetwork.random(2, [4, 4], seed=seed)
    a = brute_force_regions(net, box=(-1.5, 1.5), backend="highs")
    b = brute_force_regions(net, box=(-1.5, 1.5), backend="scipy")
    assert a.patterns == b.patterns
    assert a.count >= 2
    assert_allclose(a.margins, b.margins, atol=1e-7)


# ------------------------------------------------------------------------ bad input
def test_too_many_units_is_refused_unless_max_units_is_raised():
    net = ReLUNetwork.random(1, [17], seed=0, n_out=None)
    with pytest.raises(InvalidOptionError, match=r"N = 17 hidden units, more than max_units = 16"):
        brute_force_regions(net, box=(-1.0, 1.0))
    with pytest.raises(ValueError, match="max_units"):
        brute_force_regions(net, box=(-1.0, 1.0), max_units=4)
    res = brute_force_regions(net, whole_space=True, max_units=17)
    assert res.count == 18  # 17 distinct breakpoints on the line


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one domain"),
        ({"box": (-1.0, 1.0), "whole_space": True}, "exactly one domain"),
        ({"box": (1.0, 1.0)}, r"box lo\[0\] = 1.0 is not below hi\[0\] = 1.0"),
        ({"box": ([-1.0, 0.0], [1.0, -1.0])}, r"box lo\[1\] = 0.0 is not below hi\[1\] = -1.0"),
        ({"box": ([-1.0, 0.0, 0.0], 1.0)}, r"box lo has shape \(3,\); expected \(2\)"),
        ({"box": (-1.0, np.nan)}, "box hi contains NaN"),
        ({"box": 1.0}, "box must be a pair"),
        ({"polytope": (np.eye(3), np.ones(3))}, r"polytope A has shape \(3, 3\); expected \(m, 2\)"),
        ({"polytope": (np.zeros((1, 2)), [-1.0])}, "row 0 reads 0 <= -1.0: the polytope is empty"),
        ({"polytope": ([[1.0, 0.0], [-1.0, 0.0]], [0.0, -1.0])}, "no interior"),
        ({"polytope": ([[1.0, 0.0], [-1.0, 0.0]], [0.0, 0.0])}, "no interior"),
    ],
)
def test_bad_domains_are_rejected_with_a_clear_message(kwargs, match):
    net = ReLUNetwork.random(2, [2], seed=0)
    with pytest.raises(InvalidDomainError, match=match):
        brute_force_regions(net, **kwargs)


def test_non_network_is_rejected():
    with pytest.raises(TypeError, match="net must be a ReLUNetwork"):
        brute_force_regions(np.eye(2), box=(-1.0, 1.0))  # type: ignore[arg-type]


# ------------------------------------------------------------------ exact mode
def exact_preactivation_signs(net: ReLUNetwork, point) -> list[int]:
    """Signs of every hidden pre-activation at a rational point, with Fractions (independent of the library).

    Units follow their own sign (ReLU of the exact value), layer by layer.
    """
    from fractions import Fraction

    x = list(point.to_fractions())
    signs: list[int] = []
    for l in range(net.n_hidden_layers):
        W, b = net.weights[l], net.biases[l]
        z = [
            sum((Fraction(w) * xi for w, xi in zip(row, x, strict=True)), Fraction(bb))
            for row, bb in zip(W.tolist(), b.tolist(), strict=True)
        ]
        signs.extend((v > 0) - (v < 0) for v in z)
        x = [max(v, Fraction(0)) for v in z]
    return signs


def assert_exact_points_reproduce_patterns(net: ReLUNetwork, res: BruteForceResult) -> None:
    assert res.exact and len(res.points) == res.count
    for pat, pt in zip(res.patterns, res.points, strict=True):
        got = exact_preactivation_signs(net, pt)
        # A unit that is identically zero on the region reads 0 here and is recorded -1.
        assert all(g == p or (g == 0 and p == -1) for g, p in zip(got, pat, strict=True)), (pat, got)


@pytest.mark.parametrize(("d", "n", "seed"), [(1, 5, 0), (2, 4, 0), (2, 8, 1), (3, 6, 0)])
def test_exact_one_layer_generic_whole_space_matches_zaslavsky(d, n, seed):
    net = ReLUNetwork.random(d, [n], seed=seed, n_out=None)
    assert in_general_position(net.weights[0], net.biases[0])
    res = brute_force_regions(net, whole_space=True, exact=True)
    assert res.count == sum(comb(n, i) for i in range(d + 1))
    assert_exact_points_reproduce_patterns(net, res)


@pytest.mark.parametrize("gap", [0.25, 1e-6, 1e-10, 1e-14, "ulp"])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_exact_parallel_slabs_any_width(gap, d):
    # k parallel hyperplanes x_1 = c_j, all inside (-1, 1): k + 1 regions, however close they are
    # ("ulp": consecutive floats, slabs 1.4e-17 wide).
    if gap == "ulp":
        c1 = np.nextafter(0.1, 1.0)
        cs = [0.1, float(c1), float(np.nextafter(c1, 1.0)), -0.3]
    else:
        cs = [0.1, 0.1 + gap, 0.1 + 2 * gap, -0.3]
    assert len(set(cs)) == 4
    W = np.zeros((4, d))
    W[:, 0] = 1.0
    net = one_layer(W, [-c for c in cs])
    res = brute_force_regions(net, box=(-1.0, 1.0), exact=True)
    assert res.count == 5
    assert_exact_points_reproduce_patterns(net, res)


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("domain", ["box", "whole_space"])
def test_exact_start_in_a_thin_strip(d, domain):
    # Hyperplanes x_1 = -5e-9 and x_1 = 5e-9: the strip between them, and the two sides: 3 regions.
    W = np.zeros((2, d))
    W[:, 0] = 1.0
    net = one_layer(W, [5e-9, -5e-9])
    kw = {"box": (-1.0, 1.0)} if domain == "box" else {"whole_space": True}
    res = brute_force_regions(net, exact=True, **kw)
    assert res.count == 3
    assert set(res.patterns) == {(1, 1), (1, -1), (-1, -1)}
    assert_exact_points_reproduce_patterns(net, res)


def test_exact_near_coincident_lines_and_a_transversal():
    # x_1 = 0 and x_1 = 5e-11 (distinct), x_2 = 0: 3 strips times 2 half-planes = 6 regions.
    net = one_layer([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], [0.0, -5e-11, 0.0])
    assert brute_force_regions(net, box=(-1.0, 1.0), exact=True).count == 6
    # The R^3 pair x_1 = 1, x_1 = 1 + 3e-10: 3 regions.
    net3 = one_layer([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], [-1.0, -(1.0 + 3e-10)])
    assert brute_force_regions(net3, whole_space=True, exact=True).count == 3


def test_exact_coincident_and_opposite_units():
    # Unit 1 = 2 * unit 0 exactly (same hyperplane, same side); unit 2 = -unit 0: one hyperplane, 2 regions.
    net = one_layer([[1.0, 3.0], [2.0, 6.0], [-1.0, -3.0]], [0.5, 1.0, -0.5])
    res = brute_force_regions(net, box=(-1.0, 1.0), exact=True)
    assert res.patterns == ((-1, -1, 1), (1, 1, -1))
    assert res.empty_certificates >= 2  # the mixed prefixes are proved empty


@pytest.mark.parametrize("n", [3, 4])
def test_exact_concurrent_lines_and_their_perturbation(n):
    # Lines crossing a box: regions = 1 + (number of lines) + sum over crossing points p of (mult(p) - 1).
    # n lines through the origin (zero biases: exactly concurrent): 1 + n + (n - 1) = 2n.
    ang = np.arange(n) * np.pi / n + 0.1
    W = np.column_stack([np.cos(ang), np.sin(ang)])
    assert brute_force_regions(one_layer(W, np.zeros(n)), box=(-1.0, 1.0), exact=True).count == 2 * n
    # Shift line 0 by 1e-12: lines 1..n-1 still meet at the origin (n - 2), line 0 meets each of them at its
    # own point (n - 1 points of multiplicity 2): 1 + n + (n - 2) + (n - 1) = 3n - 2 regions.
    b = np.zeros(n)
    b[0] = 1e-12
    res = brute_force_regions(one_layer(W, b), box=(-1.0, 1.0), exact=True)
    assert res.count == 3 * n - 2
    assert_exact_points_reproduce_patterns(one_layer(W, b), res)


@pytest.mark.parametrize("scale", [1e-13, 2.0**-40, 1e-9, 1.0, 1e12])
def test_exact_counts_are_scale_invariant(scale):
    # A generic 2-layer net; multiplying layer 0 by s scales every pre-activation of both layers by s
    # (ReLU is positively homogeneous), so the regions do not change.
    net = ReLUNetwork.random(2, [4, 3], seed=3, n_out=None)
    base = brute_force_regions(net, box=(-1.0, 1.0), exact=True)
    ref = brute_force_regions(net, box=(-1.0, 1.0))
    assert base.count == ref.count and base.patterns == ref.patterns  # comfortable net: float oracle agrees
    scaled = ReLUNetwork(
        (net.weights[0] * scale, net.weights[1]), (net.biases[0] * scale, net.biases[1] * scale), has_output_layer=False
    )
    res = brute_force_regions(scaled, box=(-1.0, 1.0), exact=True)
    assert res.patterns == base.patterns


def test_exact_tiny_but_nonzero_units_keep_their_signs():
    # A unit with weights and bias ~1e-27 (positive everywhere on the box) is active, not "dead":
    # z = 1e-27 * (0.1 x + 1) > 0 on [-1, 1].  A second tiny unit crosses the box at x = 0.25.
    net = one_layer([[1e-28], [4e-27]], [1e-27, -1e-27])
    res = brute_force_regions(net, box=(-1.0, 1.0), exact=True)
    assert res.patterns == ((1, -1), (1, 1))


def test_exact_deep_net_agrees_with_float_oracle_when_floats_are_clear():
    net = ReLUNetwork.random(2, [5, 4, 3], seed=7, n_out=None)
    ex = brute_force_regions(net, box=(-1.0, 1.0), exact=True)
    fl = brute_force_regions(net, box=(-1.0, 1.0))
    assert ex.patterns == fl.patterns
    assert_exact_points_reproduce_patterns(net, ex)


def test_exact_polytope_and_empty_domain():
    # Triangle x >= 0, y >= 0, x + y <= 1 and the line x = y: 2 regions.
    net = one_layer([[1.0, -1.0]], [0.0])
    tri = (np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]]), np.array([0.0, 0.0, 1.0]))
    assert brute_force_regions(net, polytope=tri, exact=True).count == 2
    flat = (np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([0.0, 0.0]))  # 0 <= x <= 0: no interior
    with pytest.raises(InvalidDomainError, match="empty interior"):
        brute_force_regions(net, polytope=flat, exact=True)


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 3), st.integers(1, 7))
def test_exact_oracle_matches_zaslavsky_on_random_generic_layers(seed, d, n):
    # Gaussian hyperplanes are in general position with probability one; the guard makes sure of it.
    rng = np.random.default_rng(seed)
    W, b = rng.standard_normal((n, d)), rng.standard_normal(n)
    assume(in_general_position(W, b))
    res = brute_force_regions(one_layer(W, b), whole_space=True, exact=True)
    assert res.count == sum(comb(n, i) for i in range(d + 1))


@pytest.mark.slow
def test_exact_oracle_at_fourteen_units():
    # One layer of 14 generic lines in the plane: 1 + 14 + 91 = 106 regions; and a [7, 7] net in a box,
    # where the float oracle (comfortable geometry) must find the same patterns.
    net = ReLUNetwork.random(2, [14], seed=5, n_out=None)
    assert in_general_position(net.weights[0], net.biases[0])
    res = brute_force_regions(net, whole_space=True, exact=True)
    assert res.count == 1 + 14 + comb(14, 2)
    deep = ReLUNetwork.random(2, [7, 7], seed=5, n_out=None)
    ex = brute_force_regions(deep, box=(-1.0, 1.0), exact=True)
    assert ex.patterns == brute_force_regions(deep, box=(-1.0, 1.0)).patterns
    assert_exact_points_reproduce_patterns(deep, ex)

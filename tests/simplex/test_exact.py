"""Exact rational vertices and the zero-loss certificate (lpengine.simplex.exact)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from lpengine import ReLUNetwork
from lpengine.simplex.encoding import build_argmin_model, build_layer_model
from lpengine.simplex.exact import exact_vertex, exact_vertex_loss_is_zero


def _line_fit(x, y):
    """LAD on the output layer of ``relu(x)``: features ``(x, 1)`` for ``x >= 0``, parameters ``(w, b)``."""
    net = ReLUNetwork((np.array([[1.0]]), np.array([[1.0]])), (np.array([0.0]), np.array([0.0])))
    X = np.asarray(x, dtype=float)[:, None]
    return build_layer_model(net, X, np.asarray(y, dtype=float), layer=1)


def test_exact_vertex_of_two_residuals_is_the_rational_interpolant():
    model = _line_fit([0.0, 1.0, 2.0], [0.1, 0.3, 0.5])
    B = np.array([0, 1])  # residual kinks of samples 0 and 1 (no hidden kinks: ids start at 0)
    signs = np.ones(model.M, dtype=np.int8)
    w, b = exact_vertex(model, signs, B)
    # Interpolation of (0, 0.1) and (1, 0.3), with 0.1 and 0.3 the float64 rationals.
    assert b == Fraction(0.1) and w == Fraction(0.3) - Fraction(0.1)


@pytest.mark.parametrize(
    ("ys", "zero"),
    [
        # Dyadic targets: 0.25 + 2 * (0.5 - 0.25) = 0.75 exactly, so the third residual is 0.
        ([0.25, 0.5, 0.75], True),
        # Floats evaluate 0.1 + 2 * (0.3 - 0.1) - 0.5 to 0.0, but as rationals the three points are not on
        # one line: the loss at the vertex is tiny and positive, never "exactly 0".
        ([0.1, 0.3, 0.5], False),
    ],
)
def test_zero_loss_is_decided_in_rationals_not_floats(ys, zero):
    model = _line_fit([0.0, 1.0, 2.0], ys)
    assert 0.1 + 2 * (0.3 - 0.1) - 0.5 == 0.0  # what a float check would see in the second case
    signs = np.ones(model.M, dtype=np.int8)
    assert exact_vertex_loss_is_zero(model, signs, np.array([0, 1])) is zero


@pytest.mark.parametrize(("last", "zero"), [(0.7, True), (0.7000000000000001, False)])
def test_zero_loss_through_a_hidden_layer(last, zero):
    """Output ``2 relu(z_0) + relu(z_1) + 0.25``, trained first layer (D = 4), targets 0.7 (the last one
    possibly one ulp higher).  Basis: the residuals of samples 0 and 1 (unit 0 active, unit 1 inactive)
    and unit 1's kinks at samples 0 and 1.  By hand: unit 1 collapses to ``w_1 = b_1 = 0`` and unit 0
    to ``w_0 = 0``, ``b_0 = (0.7 - 0.25) / 2`` in rationals, so every output is exactly the rational
    0.7: loss 0 iff the last target is 0.7 too."""
    W1, b1 = np.array([[0.3], [1.0]]), np.array([0.5, -10.0])
    W2, b2 = np.array([[2.0, 1.0]]), np.array([0.25])
    net = ReLUNetwork((W1, W2), (b1, b2))
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0.7, 0.7, 0.7, last])
    model = build_layer_model(net, X, y)
    nhk = model.n_hidden_kinks
    g = model.group
    B = np.array([nhk + 0, nhk + 1, model.hidden_ids[g[0], 1], model.hidden_ids[g[1], 1]])
    signs = np.ones(model.M, dtype=np.int8)
    signs[model.hidden_ids[:, 1]] = -1  # unit 1 tracked inactive
    w0, b0, w1, b1_ = exact_vertex(model, signs, B)
    assert (w0, b0, w1, b1_) == (0, (Fraction(0.7) - Fraction(0.25)) / 2, 0, 0)
    assert exact_vertex_loss_is_zero(model, signs, B) is zero
    # The other side of unit 1's kinks gives the same vertex (they are at zero there).
    signs[model.hidden_ids[:, 1]] = 1
    assert exact_vertex(model, signs, B) == [w0, b0, w1, b1_]


def test_no_exact_vertex_for_a_singular_basis_or_argument_minimisation():
    model = _line_fit([0.0, 1.0, 1.0], [0.0, 1.0, 2.0])  # samples 1 and 2 share the feature row (1, 1)
    signs = np.ones(model.M, dtype=np.int8)
    assert exact_vertex(model, signs, np.array([1, 2])) is None
    assert exact_vertex_loss_is_zero(model, signs, np.array([1, 2])) is False
    w, b = exact_vertex(model, signs, np.array([0, 1]))
    assert (w, b) == (1, 0)
    arg = build_argmin_model(ReLUNetwork.random(2, [3], seed=0))
    assert exact_vertex(arg, np.ones(arg.M, dtype=np.int8), np.arange(arg.D)) is None


def _settle(ys, tracked_sign):
    """Vertex of basis {r_0, r_1} of the line fit through x = 0, 1, 2; residual r_2 marked "tight"."""
    from lpengine.simplex.edge_test import settle_extra_kinks

    model = _line_fit([0.0, 1.0, 2.0], ys)
    signs = np.ones(model.M, dtype=np.int8)
    signs[2] = tracked_sign
    tight = np.ones(model.M, dtype=bool)
    dropped = settle_extra_kinks(model, signs, np.array([0, 1]), tight)
    return dropped, tight


def test_an_extra_kink_exactly_at_zero_stays_tight():
    # 0.25 + 2 * (0.5 - 0.25) = 0.75 exactly: r_2 is 0 at the exact vertex, a genuine degeneracy.
    for s in (1, -1):
        dropped, tight = _settle([0.25, 0.5, 0.75], s)
        assert dropped == 0 and tight.tolist() == [True, True, True]


def test_an_extra_kink_nonzero_in_rationals_is_dropped_only_on_its_tracked_side():
    ys = [0.1, 0.3, 0.5]
    # Independent value of r_2 at the vertex: the line through (0, y0) and (1, y1) at x = 2, minus y2.
    r2 = Fraction(ys[0]) + 2 * (Fraction(ys[1]) - Fraction(ys[0])) - Fraction(ys[2])
    assert r2 != 0
    side = 1 if r2 > 0 else -1
    dropped, tight = _settle(ys, side)
    assert dropped == 1 and tight.tolist() == [True, True, False]
    # On the untracked side the tracked cell does not contain the vertex: the kink stays for the cells.
    dropped, tight = _settle(ys, -side)
    assert dropped == 0 and tight.tolist() == [True, True, True]

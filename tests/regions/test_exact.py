"""Unit tests of the exact region arithmetic (lpengine.regions.exact), against hand-derived answers."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from lpengine import ReLUNetwork
from lpengine.lp.exact import RationalVector
from lpengine.regions.exact import ExactNet, decide_strict, row_error_bounds, same_hyperplane


def _rows(*rows: list[int]) -> np.ndarray:
    out = np.empty((len(rows), len(rows[0])), dtype=object)
    for i, r in enumerate(rows):
        out[i] = r
    return out


def test_forward_signs_are_exact_where_floats_round() -> None:
    # z = 3 x - 1 at x = fl(1/3): 3 * fl(1/3) = 1 - 2**-54 exactly, so z < 0, though the float product is 1.
    third = 1.0 / 3.0
    net = ReLUNetwork((np.array([[3.0]]),), (np.array([-1.0]),), has_output_layer=False)
    assert 3.0 * third - 1.0 == 0.0
    s, _ = ExactNet(net).forward_signs(RationalVector.from_floats([third]))
    assert s.tolist() == [-1]


def test_rows_compose_exactly_through_layers() -> None:
    # Layer 1: z1 = x + 0.1, z2 = x - 0.2; layer 2: z3 = z1 - z2 under (+,+) is exactly 0.1 + 0.2 (no x).
    net = ReLUNetwork(
        (np.array([[1.0], [1.0]]), np.array([[1.0, -1.0]])),
        (np.array([0.1, -0.2]), np.array([0.0])),
        has_output_layer=False,
    )
    R = ExactNet(net).rows(np.array([1, 1, 1], dtype=np.int8))
    assert R[2, 0] == 0  # the gradient cancels exactly: a dead unit
    # its constant is fl(0.1) - fl(-0.2) > 0, as an exact rational (up to the row's positive scale)
    scale = Fraction(R[0, 0])  # row 0 is (1, fl(0.1)) times the layer-1 scale
    assert Fraction(R[0, 1]) / scale == Fraction(0.1)


def test_error_bound_covers_the_float_composition() -> None:
    rng = np.random.default_rng(0)
    net = ReLUNetwork.random(3, [6, 6, 5], seed=2)
    signs = np.where(rng.random(17) < 0.5, 1, -1).astype(np.int8)
    mag, gamma = row_error_bounds(net, signs)
    aff = net._local_affine_map(signs > 0)
    R = ExactNet(net).rows(signs)
    x = rng.normal(size=3)
    xr = RationalVector.from_floats(x)
    exact = [Fraction(int(r[:3].dot(np.array(xr.num, dtype=object)) + r[3] * xr.den), xr.den) for r in R]
    # Recover each row's positive scale from a nonzero entry (rows are exact multiples of (alpha, beta)).
    for k in range(17):
        j = int(np.argmax(np.abs(aff.A[k])))
        if aff.A[k, j] == 0:
            continue
        scale = Fraction(float(aff.A[k, j])) / Fraction(int(R[k, j]))
        true_z = exact[k] * scale
        float_z = Fraction(float(aff.A[k] @ x + aff.c[k]))
        # true_z is only as exact as the scale taken from a float entry: allow that entry's rounding too.
        assert abs(float_z - true_z) <= 4 * gamma * (mag[k, :-1] @ np.abs(x) + mag[k, -1])


def test_decide_strict_gives_checked_certificates() -> None:
    # 0 < x < 2**-1000 (far below any float margin): nonempty, with a rational point strictly inside.
    dec = decide_strict(_rows([1, 0], [-(2**1000), 1]))
    assert dec.nonempty and dec.point is not None
    x = Fraction(dec.point.num[0], dec.point.den)
    assert 0 < x < Fraction(1, 2**1000)
    # x > 0 and x < 0: empty, Farkas vector (1, 1).
    dec = decide_strict(_rows([1, 0], [-1, 0]))
    assert not dec.nonempty and dec.farkas == (1, 1)
    # x > 1, y > 1, x + y < 2: empty (sum of the three rows is (0, 0, 0)).
    dec = decide_strict(_rows([1, 0, -1], [0, 1, -1], [-1, -1, 2]))
    assert not dec.nonempty and dec.farkas is not None
    assert all(v >= 0 for v in dec.farkas) and sum(dec.farkas) > 0


@pytest.mark.parametrize(
    "r, s, expected",
    [
        ([2, 4, -6], [1, 2, -3], 1),
        ([2, 4, -6], [-1, -2, 3], -1),
        ([2, 4, -6], [1, 2, -2], 0),
        ([0, 0, 1], [0, 0, 2], 0),
    ],
)
def test_same_hyperplane_is_exact_proportionality(r, s, expected) -> None:
    assert same_hyperplane(np.array(r, dtype=object), np.array(s, dtype=object)) == expected

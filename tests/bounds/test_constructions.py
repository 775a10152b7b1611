"""Lower-bound constructions: exact rational folds, and exact enumerations attaining the lower bounds."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from lpengine.bounds import all_bounds
from lpengine.bounds.constructions import fold, folding_network, zonotope_network
from lpengine.regions import enumerate_regions


@pytest.mark.parametrize("p,extra", [(1, False), (2, False), (5, False), (3, True), (4, True), (7, True)])
def test_folds_alternate_between_zero_and_one(p, extra):
    f = fold(p, extra_piece=extra)
    assert f.pieces == p + int(extra) and len(f.sign) == p
    # exact evaluation at the piece boundaries: 0, 1, 0, 1, ...
    for k, t in enumerate(f.nodes):
        val = f.offset + sum(
            a * max(s * (t - b), Fraction(0)) for s, b, a in zip(f.sign, f.breaks, f.coef, strict=True)
        )
        assert val == k % 2
    # affine between nodes: the midpoint value is the mean of the end values
    for t0, t1 in zip(f.nodes, f.nodes[1:], strict=False):
        mid = (t0 + t1) / 2
        val = f.offset + sum(
            a * max(s * (mid - b), Fraction(0)) for s, b, a in zip(f.sign, f.breaks, f.coef, strict=True)
        )
        assert val == Fraction(1, 2)


def test_fold_rejects_two_units_with_extra_piece():
    with pytest.raises(ValueError, match="p >= 3"):
        fold(2, extra_piece=True)
    with pytest.raises(ValueError, match="width >= n0"):
        folding_network(3, [2, 4])
    with pytest.raises(ValueError, match="w >= 3"):
        zonotope_network(2, [4, 2], extra_piece=True)


CASES = [
    (folding_network, 1, [5, 5], {}, 36),
    (folding_network, 2, [4, 4], {}, 44),
    (folding_network, 2, [6, 4], {}, 176),
    (folding_network, 1, [3, 4, 3], {}, 80),
    (zonotope_network, 2, [4, 4], {"extra_piece": True}, 20),
    (zonotope_network, 2, [4, 4], {"extra_piece": False}, 16),
    (zonotope_network, 3, [4, 4, 4], {"extra_piece": True}, 100),
    (zonotope_network, 2, [2, 3, 3], {"extra_piece": False}, 18),
]


@pytest.mark.parametrize("make,n0,widths,kw,expected", CASES)
def test_constructions_attain_their_lower_bounds(make, n0, widths, kw, expected):
    c = make(n0, widths, **kw)
    assert c.regions == expected and c.net.hidden_widths == tuple(widths)
    res = enumerate_regions(c.net, box=c.box)
    assert res.complete
    if c.exact:
        assert res.count == c.regions
    else:
        assert res.count >= c.regions
    table = all_bounds(n0, widths)
    for name in c.certifies:
        assert table[name].value <= res.count <= table["serra2018_upper"].value


def test_one_input_constructions_reach_the_exact_maximum():
    c = folding_network(1, [4, 3, 5])
    res = enumerate_regions(c.net, box=c.box)
    assert res.count == 5 * 4 * 6 == all_bounds(1, [4, 3, 5])["serra2018_upper"].value


def test_dead_units_are_dead():
    c = folding_network(2, [5, 4])  # 5 = 2*2 + 1: one dead unit in layer 1
    W, b = c.net.weights[0], c.net.biases[0]
    assert np.all(W[4] == 0) and b[4] < 0

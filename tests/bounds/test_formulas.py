"""Closed-form bounds: worked values of the reference notes, hand-checked cases, invariants, bad input."""

from __future__ import annotations

import itertools
from math import comb, prod

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpengine.bounds import (
    bounded_regions_zaslavsky,
    exact_max_serra2018_1d,
    growth_order_raghu2017,
    lower_bound_arora2018,
    lower_bound_montufar2014,
    lower_bound_pascanu2013,
    lower_bound_serra2018_thm6,
    lower_bound_serra2018_thm7,
    serra2018_index_set,
    upper_bound_montufar2014,
    upper_bound_montufar2017,
    upper_bound_raghu_style,
    upper_bound_serra2018,
    upper_bound_serra2018_maxout,
    upper_bound_zaslavsky,
    zaslavsky_sum,
)

# (n0, widths, Zaslavsky R_1, 2^N, Raghu-style, Montufar 2017, Serra Thm 1): reference notes §8
WORKED = [
    (2, [4, 4], 11, 256, 121, 121, 121),
    (1, [5, 5], 6, 1024, 36, 36, 36),
    (2, [3, 3, 3], 7, 512, 343, 343, 208),
    (3, [4, 4, 4], 15, 4096, 3375, 3375, 1631),
]


@pytest.mark.parametrize("n0,widths,z1,two_n,raghu,m17,serra", WORKED)
def test_worked_upper_values(n0, widths, z1, two_n, raghu, m17, serra):
    assert upper_bound_zaslavsky(n0, widths[0]) == z1
    assert upper_bound_montufar2014(n0, widths) == two_n
    assert upper_bound_raghu_style(n0, widths) == raghu
    assert upper_bound_montufar2017(n0, widths) == m17
    assert upper_bound_serra2018(n0, widths) == serra


def test_worked_lower_values():
    # reference notes §8, lower bounds
    assert lower_bound_montufar2014(2, [4, 4]) == 44
    assert lower_bound_pascanu2013(2, [4, 4]) == 22
    assert lower_bound_serra2018_thm7(2, [4, 4]) == 20
    assert lower_bound_arora2018(2, [4, 4]) == 16
    assert lower_bound_montufar2014(1, [5, 5]) == 30
    assert lower_bound_pascanu2013(1, [5, 5]) == 30
    assert lower_bound_serra2018_thm6(1, [5, 5]) == 36
    assert exact_max_serra2018_1d([5, 5]) == 36
    assert lower_bound_montufar2014(2, [3, 3, 3]) == 7
    assert lower_bound_pascanu2013(2, [3, 3, 3]) == 7
    assert lower_bound_serra2018_thm7(2, [3, 3, 3]) == 32  # sub-architecture [2, 3, 3]
    assert lower_bound_arora2018(2, [3, 3, 3]) == 18
    assert lower_bound_montufar2014(3, [4, 4, 4]) == 15
    assert lower_bound_pascanu2013(3, [4, 4, 4]) == 15
    assert lower_bound_serra2018_thm7(3, [4, 4, 4]) == 100
    assert lower_bound_arora2018(3, [4, 4, 4]) == 64


def test_zaslavsky_hand_values():
    assert [zaslavsky_sum(4, d) for d in range(-1, 6)] == [0, 1, 5, 11, 15, 16, 16]
    assert upper_bound_zaslavsky(2, 4, rank=1) == 5
    assert upper_bound_zaslavsky(3, 4, rank=0) == 1
    assert bounded_regions_zaslavsky(2, 4) == 3  # four generic lines: 3 bounded of 11
    assert bounded_regions_zaslavsky(2, 2) == 0
    assert upper_bound_zaslavsky(100, 100) == 2**100


def test_serra_hand_cases():
    assert upper_bound_serra2018(1, [1, 1]) == 3  # reference §2.5
    assert upper_bound_serra2018(1, [2]) == 3
    assert upper_bound_serra2018(1, [1]) == 2
    # n0 = 1, widths [2, 1]: J = {(0,0), (0,1), (1,0), (1,1)}: 1*1 + 1*1 + 2*1 + 2*1
    assert upper_bound_serra2018(1, [2, 1]) == 6
    assert serra2018_index_set(1, [2, 1]) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    # rank variant, rank W^1 = 1: j_1 in {0, 1} (C(4,0) + C(4,1)), each followed by Z(4, <=2) = 11
    assert upper_bound_serra2018(2, [4, 4], ranks=[1, 4]) == (1 + 4) * 11
    assert upper_bound_serra2018(2, [4, 4], ranks=[1, 2]) == 55
    assert upper_bound_serra2018_maxout(2, [3, 3], rank=3) == zaslavsky_sum(9, 2) ** 2
    assert upper_bound_serra2018_maxout(1, [2], rank=2) == 3


def _serra_bruteforce(n0, widths, ranks=None):
    return sum(
        prod(comb(n, j) for n, j in zip(widths, J, strict=True)) for J in serra2018_index_set(n0, widths, ranks=ranks)
    )


def _serra_definition(n0, widths):
    # Enumerate J straight from Theorem 1's definition, independent of serra2018_index_set.
    total = 0
    for J in itertools.product(*[range(n + 1) for n in widths]):
        ok = all(J[l] <= min([n0] + [widths[k] - J[k] for k in range(l)] + [widths[l]]) for l in range(len(widths)))
        if ok:
            total += prod(comb(n, j) for n, j in zip(widths, J, strict=True))
    return total


def test_serra_dp_equals_definition_on_many_architectures():
    rng = np.random.default_rng(1)
    for _ in range(300):
        L = int(rng.integers(1, 4))
        widths = [int(w) for w in rng.integers(1, 7, size=L)]
        n0 = int(rng.integers(1, 7))
        assert upper_bound_serra2018(n0, widths) == _serra_definition(n0, widths) == _serra_bruteforce(n0, widths)


architectures = st.tuples(st.integers(1, 8), st.lists(st.integers(1, 9), min_size=1, max_size=5))


@settings(max_examples=300)
@given(architectures)
def test_chain_serra_le_m17_le_raghu_le_2n(arch):
    n0, widths = arch
    s, m, r, t = (
        upper_bound_serra2018(n0, widths),
        upper_bound_montufar2017(n0, widths),
        upper_bound_raghu_style(n0, widths),
        upper_bound_montufar2014(n0, widths),
    )
    assert s <= m <= r <= t
    # Montufar 2017 in Serra's form d_l = min(n0, ..., n_l)
    assert m == prod(zaslavsky_sum(n, min([n0] + widths[: l + 1])) for l, n in enumerate(widths))


@settings(max_examples=200)
@given(architectures, st.data())
def test_rank_variant(arch, data):
    n0, widths = arch
    dims = [n0] + widths
    full = [min(dims[l], dims[l + 1]) for l in range(len(widths))]
    assert upper_bound_serra2018(n0, widths, ranks=full) == upper_bound_serra2018(n0, widths)
    ranks = [data.draw(st.integers(0, f)) for f in full]
    got = upper_bound_serra2018(n0, widths, ranks=ranks)
    assert got == _serra_bruteforce(n0, widths, ranks) if len(widths) <= 3 else True
    assert got <= upper_bound_serra2018(n0, widths)


@settings(max_examples=200)
@given(st.integers(1, 10), st.integers(1, 12))
def test_one_layer_equals_zaslavsky(n0, n1):
    z = zaslavsky_sum(n1, n0)
    assert upper_bound_serra2018(n0, [n1]) == upper_bound_montufar2017(n0, [n1]) == z
    assert upper_bound_raghu_style(n0, [n1]) == upper_bound_zaslavsky(n0, n1) == z


@settings(max_examples=200)
@given(st.integers(1, 4), st.lists(st.integers(0, 5), min_size=1, max_size=5))
def test_wide_layers_factorise(n0, extra):
    widths = [2 * n0 + e for e in extra]  # every n_l >= 2 n0
    z = prod(zaslavsky_sum(n, n0) for n in widths)
    assert upper_bound_serra2018(n0, widths) == upper_bound_montufar2017(n0, widths) == z


@settings(max_examples=200)
@given(st.lists(st.integers(2, 9), min_size=1, max_size=6))
def test_one_input_all_widths_at_least_two(widths):
    assert upper_bound_serra2018(1, widths) == prod(n + 1 for n in widths)


@settings(max_examples=200)
@given(architectures, st.data())
def test_monotone_in_every_width(arch, data):
    n0, widths = arch
    l = data.draw(st.integers(0, len(widths) - 1))
    wider = list(widths)
    wider[l] += 1
    for f in (upper_bound_serra2018, upper_bound_montufar2017, upper_bound_raghu_style, upper_bound_montufar2014):
        assert f(n0, widths) <= f(n0, wider)
    assert upper_bound_serra2018(n0, widths) <= upper_bound_serra2018(n0 + 1, widths)


@settings(max_examples=200)
@given(architectures)
def test_lower_bounds_below_serra(arch):
    n0, widths = arch
    ub = upper_bound_serra2018(n0, widths)
    for f in (
        lower_bound_montufar2014,
        lower_bound_pascanu2013,
        lower_bound_serra2018_thm6,
        lower_bound_serra2018_thm7,
        lower_bound_arora2018,
    ):
        try:
            lb = f(n0, widths)
        except ValueError:
            continue
        assert 1 <= lb <= ub, (f.__name__, n0, widths, lb, ub)
    try:
        assert lower_bound_pascanu2013(n0, widths) <= lower_bound_montufar2014(n0, widths)
    except ValueError:
        pass


def test_equal_widths_small_input_is_power():
    for n in range(2, 9):
        for n0 in range(1, n // 2 + 1):
            for L in range(1, 5):
                assert upper_bound_serra2018(n0, [n] * L) == zaslavsky_sum(n, n0) ** L


def test_bottleneck_moving_a_unit_forward_decreases():
    # Serra et al.: for two layers and large n0, moving a unit from layer 1 to layer 2 strictly decreases the bound
    n0 = 20
    for total in range(4, 14):
        vals = [upper_bound_serra2018(n0, [a, total - a]) for a in range(total - 1, 0, -1)]
        assert all(x > y for x, y in zip(vals, vals[1:], strict=False)), (total, vals)


def test_raghu_order_is_a_formula():
    g = growth_order_raghu2017(2, [4, 4, 4])
    assert (g.base, g.exponent, g.expression) == (4, 6, "O(4^(2*3)) = O(4^6)")


@pytest.mark.parametrize(
    "args,match",
    [
        ((0, [3]), "n0"),
        ((-1, [3]), "n0"),
        ((2.0, [3]), "n0"),
        ((2, []), "empty"),
        ((2, [3, 0]), r"widths\[1\]"),
        ((2, [3, -2]), r"widths\[1\]"),
        ((2, [3, 2.5]), r"widths\[1\]"),
        ((2, [True]), r"widths\[0\]"),
        ((2, "3,3"), "sequence"),
        ((2, 3), "sequence"),
        ((True, [3]), "n0"),
    ],
)
def test_bad_input_raises_valueerror(args, match):
    for f in (upper_bound_serra2018, upper_bound_montufar2017, upper_bound_montufar2014, upper_bound_raghu_style):
        with pytest.raises(ValueError, match=match):
            f(*args)


def test_bad_conditions_name_the_condition():
    with pytest.raises(ValueError, match="width >= n0"):
        lower_bound_montufar2014(3, [4, 2])
    with pytest.raises(ValueError, match="3\\*n0"):
        lower_bound_serra2018_thm6(2, [6, 5])
    with pytest.raises(ValueError, match="n_1 >= 2"):
        lower_bound_arora2018(2, [1, 4])
    with pytest.raises(ValueError, match="w >= 2"):
        lower_bound_serra2018_thm7(2, [4, 1])
    with pytest.raises(ValueError, match="Theorem 5"):
        exact_max_serra2018_1d([3, 2])
    with pytest.raises(ValueError, match="ranks has 1"):
        upper_bound_serra2018(2, [3, 3], ranks=[1])
    with pytest.raises(ValueError, match=r"ranks\[1\]"):
        upper_bound_serra2018(2, [3, 3], ranks=[2, 4])
    with pytest.raises(ValueError, match="rank"):
        upper_bound_zaslavsky(2, 3, rank=3)
    with pytest.raises(ValueError, match="rank"):
        upper_bound_serra2018_maxout(2, [3], rank=1)


def test_numpy_integers_accepted():
    assert upper_bound_serra2018(np.int64(2), np.array([3, 3, 3])) == 208

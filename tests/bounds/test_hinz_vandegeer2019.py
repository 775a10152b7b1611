"""The Hinz–van de Geer engine: matrices, special cases vs direct formulas, traces, asymptotics, blocks, γ checks."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpengine.bounds import (
    block_matrix,
    check_gamma,
    clip,
    dimension_matrix,
    dominates,
    framework_histograms,
    gamma_all_patterns,
    gamma_montufar2017,
    gamma_serra2018,
    growth_rate,
    tail_sums,
    transition_matrix,
    upper_bound_blocks,
    upper_bound_hinz_vandegeer,
    upper_bound_montufar2014,
    upper_bound_montufar2017,
    upper_bound_serra2018,
    zaslavsky_sum,
)


def test_worked_matrices():
    assert transition_matrix(4, gamma="serra2018") == (
        (1, 0, 0, 0, 1),
        (0, 5, 0, 4, 4),
        (0, 0, 11, 6, 6),
        (0, 0, 0, 5, 4),
        (0, 0, 0, 0, 1),
    )
    assert transition_matrix(3, gamma="serra2018") == ((1, 0, 0, 1), (0, 4, 3, 3), (0, 0, 4, 3), (0, 0, 0, 1))
    assert transition_matrix(3, gamma="montufar2017") == ((1, 0, 0, 0), (0, 4, 0, 0), (0, 0, 7, 0), (0, 0, 0, 8))
    assert transition_matrix(3, gamma="all_patterns") == ((8, 1, 1, 1), (0, 7, 3, 3), (0, 0, 4, 3), (0, 0, 0, 1))
    assert dimension_matrix(4, 2) == ((1, 0, 0, 0, 0), (0, 1, 0, 0, 0), (0, 0, 1, 1, 1))
    assert dimension_matrix(2, 4) == ((1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 0, 0), (0, 0, 0))


def test_worked_traces():
    r = framework_histograms(2, [3, 3, 3], gamma="serra2018")
    assert r.histograms == ((0, 3, 4, 0), (0, 24, 16, 0), (0, 144, 64, 0)) and r.bound == 208
    r = framework_histograms(2, [3, 3, 3], gamma="montufar2017")
    assert r.histograms == ((0, 0, 7, 0), (0, 0, 49, 0), (0, 0, 343, 0)) and r.bound == 343
    r = framework_histograms(3, [4, 4, 4])
    assert r.histograms == ((0, 4, 6, 5, 0), (0, 40, 96, 25, 0), (0, 300, 1206, 125, 0))
    assert r.layer_bounds == (15, 161, 1631)
    assert framework_histograms(2, [4, 4]).histograms == ((0, 0, 11, 0, 0), (0, 0, 121, 0, 0))


def test_histogram_helpers():
    assert tail_sums([1, 2, 3]) == (6, 5, 3)
    assert clip([1, 2, 3, 4], 1) == (1, 9)
    assert clip([1, 2], 4) == (1, 2, 0, 0, 0)
    assert dominates([0, 0, 11], [0, 2, 9]) and not dominates([0, 2, 9], [0, 0, 11])
    assert dominates([1, 1], [2]) and not dominates([2], [1, 1])


def _matmul(A, B):
    return tuple(tuple(sum(A[i][k] * B[k][j] for k in range(len(B))) for j in range(len(B[0]))) for i in range(len(A)))


def _matrix_product_bound(n0, widths, gamma):
    v = tuple((int(i == n0),) for i in range(n0 + 1))
    prev = n0
    for n in widths:
        v = _matmul(transition_matrix(n, gamma=gamma), _matmul(dimension_matrix(prev, n), v))
        prev = n
    return sum(x[0] for x in v)


DIRECT = {
    "all_patterns": upper_bound_montufar2014,
    "montufar2017": upper_bound_montufar2017,
    "serra2018": upper_bound_serra2018,
}

architectures = st.tuples(st.integers(1, 7), st.lists(st.integers(1, 8), min_size=1, max_size=4))


@settings(max_examples=300)
@given(architectures)
def test_three_gammas_reproduce_direct_formulas(arch):
    n0, widths = arch
    for g, direct in DIRECT.items():
        assert upper_bound_hinz_vandegeer(n0, widths, gamma=g) == direct(n0, widths)


def test_three_gammas_on_500_seeded_architectures_and_explicit_matrix_products():
    rng = np.random.default_rng(7)
    for i in range(500):
        L = int(rng.integers(1, 6))
        widths = [int(w) for w in rng.integers(1, 11, size=L)]
        n0 = int(rng.integers(1, 11))
        for g, direct in DIRECT.items():
            fw = upper_bound_hinz_vandegeer(n0, widths, gamma=g)
            assert fw == direct(n0, widths)
            if i < 60:  # the explicit dense product ‖B M ... B M e‖_1, independent of the sparse engine
                assert fw == _matrix_product_bound(n0, widths, g)


@settings(max_examples=100)
@given(st.integers(1, 12))
def test_builtin_gammas_admissible_condition2(n_prime):
    for g in ("all_patterns", "montufar2017", "serra2018", "activation_counts"):
        gam = check_gamma(g, n_prime)
        assert len(gam) == n_prime + 1


def test_serra_gamma_tails_are_the_admissibility_argument():
    for n_prime in range(1, 10):
        for n in range(n_prime + 1):
            t = tail_sums(gamma_serra2018(n, n_prime))
            assert t == tuple(zaslavsky_sum(n_prime, min(n, n_prime - J)) for J in range(n_prime + 1))
            assert sum(gamma_montufar2017(n, n_prime)) == zaslavsky_sum(n_prime, n)
            assert sum(gamma_all_patterns(n, n_prime)) == 2**n_prime


def test_serra_diagonal():
    for n in range(1, 10):
        B = transition_matrix(n)
        assert tuple(B[d][d] for d in range(n + 1)) == tuple(zaslavsky_sum(n, min(d, n - d)) for d in range(n + 1))
    assert growth_rate(4, 4).diagonal == (1, 5, 11, 5, 1)


def test_growth_rates_and_exact_closed_forms():
    # n = 3, n0 = 2: bound is (4 + 3L) 4^(L-1) exactly ((1 + 3L/4) 4^L), degree 1
    for L in range(1, 30):
        assert upper_bound_serra2018(2, [3] * L) == (4 + 3 * L) * 4 ** (L - 1)
    g = growth_rate(2, 3)
    assert (g.rho, g.degree, g.dominant_ranks) == (4, 1, (1, 2))
    # n even, n0 >= n/2: rho = (2^n + C(n, n/2))/2, simple
    for n in (2, 4, 6, 8):
        g = growth_rate(n, n)
        assert (g.rho, g.degree) == ((2**n + comb(n, n // 2)) // 2, 0)
    # n odd, n0 >= (n+1)/2: rho = 2^(n-1), degree 1
    for n in (3, 5, 7, 9):
        g = growth_rate(n, n)
        assert (g.rho, g.degree) == (2 ** (n - 1), 1)
    # n0 <= n/2: rho = Z(n, <= n0), simple
    for n in range(2, 10):
        for n0 in range(1, n // 2 + 1):
            assert (growth_rate(n0, n).rho, growth_rate(n0, n).degree) == (zaslavsky_sum(n, n0), 0)
    # other gammas: 2^N -> 2^n; Montufar 2017 -> Z(n, <= min(n0, n))
    assert growth_rate(3, 5, gamma="all_patterns").rho == 32
    assert growth_rate(3, 5, gamma="montufar2017").rho == zaslavsky_sum(5, 3)


@pytest.mark.parametrize("n0,n", [(4, 4), (3, 3), (5, 5), (2, 5), (7, 7)])
def test_consecutive_ratios_tend_to_rho(n0, n):
    g = growth_rate(n0, n)
    vals = framework_histograms(n0, [n] * 400).layer_bounds
    r = Fraction(vals[-1], vals[-2])
    # degree 0: geometric convergence; degree 1: ratio = rho (1 + 1/L + ...)
    assert abs(r / g.rho - 1) < Fraction(1, 100)
    if g.degree == 1 and n % 2 == 1 and n0 >= (n + 1) // 2:
        # reference: UB ~ (1 + L C(n,(n-1)/2)/2^(n-1)) 2^((n-1)L); ratio of that to UB -> 1
        L = 400
        approx = (1 + Fraction(L * comb(n, (n - 1) // 2), 2 ** (n - 1))) * Fraction(2) ** ((n - 1) * L)
        assert abs(Fraction(vals[-1]) / approx - 1) < Fraction(1, 20)


def test_blocks_compose_to_the_layerwise_bound():
    assert block_matrix(2, [3, 3]) == ((1, 0, 0), (0, 16, 24), (0, 0, 16), (0, 0, 0))
    rng = np.random.default_rng(3)
    for _ in range(100):
        widths = [int(w) for w in rng.integers(1, 7, size=int(rng.integers(2, 6)))]
        n0 = int(rng.integers(1, 6))
        cut = int(rng.integers(1, len(widths)))
        first = block_matrix(n0, widths[:cut])
        second = block_matrix(min([n0] + widths[:cut]), widths[cut:])
        assert upper_bound_blocks(n0, [first, second]) == upper_bound_serra2018(n0, widths)


def test_custom_gamma_and_its_checks():
    # a valid custom gamma: Serra's gamma for every width, passed as a callable
    assert upper_bound_hinz_vandegeer(2, [3, 3, 3], gamma=lambda n, m: gamma_serra2018(n, m)) == 208
    with pytest.raises(ValueError, match="not monotone"):
        upper_bound_hinz_vandegeer(2, [3, 3], gamma=lambda n, m: (0,) * m + (10 - n,))
    with pytest.raises(ValueError, match="length"):
        upper_bound_hinz_vandegeer(2, [3], gamma=lambda n, m: (1, 1))
    with pytest.raises(ValueError, match="negative"):
        upper_bound_hinz_vandegeer(2, [3], gamma=lambda n, m: (-1,) + (1,) * m)
    with pytest.raises(ValueError, match="ints"):
        upper_bound_hinz_vandegeer(2, [3], gamma=lambda n, m: (0.5,) * (m + 1))
    with pytest.raises(ValueError, match="one of"):
        upper_bound_hinz_vandegeer(2, [3], gamma="hinz2021")
    with pytest.raises(ValueError, match="one of"):
        upper_bound_hinz_vandegeer(2, [3], gamma=3)
    with pytest.raises(ValueError, match="not dominated"):
        upper_bound_blocks(2, [((5, 0, 0), (0, 1, 0), (0, 0, 1))])
    with pytest.raises(ValueError, match="ranks never increase"):
        upper_bound_blocks(2, [((1, 0), (1, 1))])
    with pytest.raises(ValueError, match="widths"):
        framework_histograms(2, [3, 0])

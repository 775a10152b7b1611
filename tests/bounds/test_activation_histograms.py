"""The activation-count γ: the lemmas behind it checked exhaustively, admissibility, and exact enumerations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpengine import ReLUNetwork
from lpengine.bounds import (
    activation_count_tails,
    check_gamma,
    framework_histograms,
    gamma_activation_counts,
    gamma_serra2018,
    tail_sums,
    upper_bound_activation_counts,
    upper_bound_serra2018,
    zaslavsky_sum,
)
from lpengine.bounds.activation_histograms import _exact_1d_tails


def _walk_min_below(n_prime, J):
    """Fewest arcs with count < J over all cyclic walks f with ±1 steps and f(k + n') = n' - f(k)."""
    best = None
    for a in range(n_prime + 1):
        for steps in itertools.product((1, -1), repeat=n_prime):
            f = [a]
            for s in steps:
                f.append(f[-1] + s)
            if f[-1] != n_prime - a or min(f) < 0 or max(f) > n_prime:
                continue
            cnt = sum((x < J) + (n_prime - x < J) for x in f[:-1])
            best = cnt if best is None else min(best, cnt)
    return best


@pytest.mark.parametrize("n_prime", range(1, 11))
def test_circle_walk_lemma_exhaustive(n_prime):
    for J in range(n_prime + 1):
        m = 0 if 2 * J < n_prime else n_prime // 2 if 2 * J == n_prime else 2 * J - 1
        assert _walk_min_below(n_prime, J) == m, (n_prime, J)


def _one_dim_tails_bruteforce(n_prime):
    """Max over generic 1-D layers (direction of each unit, in breakpoint order) of #intervals with >= J active."""
    best = [0] * (n_prime + 1)
    for dirs in itertools.product((1, -1), repeat=n_prime):  # +1: active right of its breakpoint
        counts = []
        for k in range(n_prime + 1):  # interval k lies right of breakpoints 0..k-1
            counts.append(sum((d == 1) if i < k else (d == -1) for i, d in enumerate(dirs)))
        for J in range(n_prime + 1):
            best[J] = max(best[J], sum(c >= J for c in counts))
    return best


@pytest.mark.parametrize("n_prime", range(1, 11))
def test_exact_one_dimensional_tails_bruteforce(n_prime):
    assert _exact_1d_tails(n_prime) == _one_dim_tails_bruteforce(n_prime)
    assert activation_count_tails(1, n_prime) == tuple(_exact_1d_tails(n_prime))


def test_worked_values_and_gains():
    assert gamma_activation_counts(2, 4) == (0, 2, 4, 4, 1)
    assert gamma_serra2018(2, 4) == (0, 0, 6, 4, 1)
    assert gamma_activation_counts(1, 4) == (0, 0, 2, 2, 1)
    assert gamma_activation_counts(3, 4) == gamma_serra2018(3, 4) == (0, 4, 6, 4, 1)
    assert upper_bound_activation_counts(2, [4, 4]) == 109
    assert upper_bound_activation_counts(3, [4, 4, 4]) == 1559
    assert upper_bound_activation_counts(2, [3, 3, 3]) == 208
    assert upper_bound_activation_counts(1, [5, 5]) == 36
    assert framework_histograms(3, [4, 4, 4], gamma="activation_counts").histograms == (
        (0, 4, 6, 5, 0),
        (0, 52, 84, 25, 0),
        (0, 528, 906, 125, 0),
    )
    for n in range(2, 8):  # T_n(n, 2n) <= Z(2n, <=n) - n, n below Serra's
        assert activation_count_tails(n, 2 * n)[n] == zaslavsky_sum(2 * n, n) - n


@settings(max_examples=300)
@given(st.integers(1, 7), st.lists(st.integers(1, 9), min_size=1, max_size=5))
def test_never_above_serra(n0, widths):
    assert upper_bound_activation_counts(n0, widths) <= upper_bound_serra2018(n0, widths)


def test_admissible_and_totals():
    for n_prime in range(1, 16):
        check_gamma("activation_counts", n_prime)  # condition 2, raises otherwise
        for n in range(n_prime + 1):
            g = gamma_activation_counts(n, n_prime)
            assert sum(g) == (1 if n == 0 else zaslavsky_sum(n_prime, n))
            assert all(a <= b for a, b in zip(tail_sums(g), tail_sums(gamma_serra2018(n, n_prime)), strict=True))


def _vertex_box(net):
    """A box containing every vertex of a one-layer arrangement: all its regions meet the box."""
    W, b = net.weights[0], net.biases[0]
    n0 = W.shape[1]
    R = 1.0
    for idx in itertools.combinations(range(W.shape[0]), n0):
        x = np.linalg.solve(W[list(idx)], -b[list(idx)])
        R = max(R, float(np.abs(x).max()))
    return (-2 * R, 2 * R)


def _active_count_histogram(net):
    from lpengine.regions import enumerate_regions

    res = enumerate_regions(net, box=_vertex_box(net))
    assert res.complete
    h = [0] * (net.n_hidden + 1)
    for r in res.regions:
        h[int(r.pattern.active.sum())] += 1
    return h


@pytest.mark.parametrize("n0,n_prime,seeds", [(2, 4, 12), (2, 5, 6), (3, 4, 4), (1, 6, 6)])
def test_tails_dominate_exact_enumerations(n0, n_prime, seeds):
    """Every random layer's regions by active count lie below the proven tails (condition 1 in practice)."""
    for seed in range(seeds):
        for scale in (1.0, 0.2):  # small biases put all hyperplanes near the origin: more varied patterns
            net = ReLUNetwork.random(n0, [n_prime], n_out=None, seed=seed, bias_std=scale)
            h = _active_count_histogram(net)
            assert sum(h) == zaslavsky_sum(n_prime, n0)  # generic: Zaslavsky's count exactly
            t = tail_sums(h)
            bound = activation_count_tails(n0, n_prime)
            assert all(a <= b for a, b in zip(t, bound, strict=True)), (seed, h, bound)

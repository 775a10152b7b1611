"""Empirical per-layer histograms: prefix counts vs the full enumeration, dominations, ratios, bounds hold."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from lpengine import ReLUNetwork
from lpengine.bounds import framework_histograms
from lpengine.bounds.constructions import folding_network
from lpengine.bounds.empirical import layer_histograms, matrix_ranks
from lpengine.regions import enumerate_regions


@pytest.mark.parametrize("n0,widths,seed", [(2, [3, 3], 2), (2, [4, 3, 2], 1), (3, [3, 2], 0), (1, [3, 3, 3], 4)])
def test_layer_counts_match_prefixes_of_the_full_enumeration(n0, widths, seed):
    net = ReLUNetwork.random(n0, widths, n_out=1, seed=seed)
    h = layer_histograms(net, box=(-2, 2))
    full = enumerate_regions(ReLUNetwork(net.weights[:-1], net.biases[:-1], has_output_layer=False), box=(-2, 2))
    assert [layer.count for layer in h.layers] == [s["prefix_regions"] for s in full.layer_stats]
    assert h.count == full.count
    for layer in h.layers:
        assert sum(layer.dimension_histogram) == sum(layer.rank_bound_histogram) == layer.count
        assert sum(layer.active_histogram) == layer.count
        # image dimension <= rank bound, region by region, hence in the dominance order
        dims, rbs = layer.dimension_histogram, layer.rank_bound_histogram
        assert all(sum(dims[J:]) <= sum(rbs[J:]) for J in range(len(dims)))
        assert layer.upper_bounds_hold and all(layer.framework_dominates.values())
        assert layer.framework["serra2018"] == framework_histograms(n0, widths[: layer.layer]).histograms[-1]
    assert h.all_checks_pass


def test_first_layer_histogram_by_hand():
    # two units on R^2: x1 and x2 (box [-1, 1]^2): four quadrants with 0, 1, 1, 2 active units
    net = ReLUNetwork([np.eye(2)], [np.zeros(2)], has_output_layer=False)
    h = layer_histograms(net, box=(-1, 1))
    (layer,) = h.layers
    assert layer.count == 4
    assert layer.active_histogram == (1, 2, 1)
    assert layer.dimension_histogram == (1, 2, 1)
    assert layer.rank_bound_histogram == (1, 2, 1)
    assert layer.ratios()["serra2018_upper"] == Fraction(4, 4)
    assert matrix_ranks(net) == (2,)


def test_collapsed_dimensions_in_a_folding_network():
    # n0 = 1 folds: every region of every prefix maps onto an interval (dimension 1)
    c = folding_network(1, [3, 3])
    h = layer_histograms(c.net, box=c.box)
    assert [layer.count for layer in h.layers] == [4, 16]
    assert h.layers[-1].dimension_histogram == (0, 16, 0, 0)
    assert h.layers[-1].ratios()["serra2018_upper"] == 1


def test_progress_callback_reports_every_layer():
    """One ``layer_done`` state per prefix network, in order, with that prefix's count (checked against a
    separate enumeration of the prefix); live states only name the layer being counted."""
    net = ReLUNetwork.random(2, [4, 3, 3], n_out=None, seed=5)
    states = []
    h = layer_histograms(net, box=(-2, 2), callback=states.append)
    done = [s for s in states if s.layer_done]
    assert [s.layer for s in done] == [1, 2, 3] and all(s.n_layers == 3 and s.complete for s in done)
    for s in done:
        sub = ReLUNetwork(net.weights[: s.layer], net.biases[: s.layer], has_output_layer=False)
        assert s.regions == enumerate_regions(sub, box=(-2, 2)).count == h.layers[s.layer - 1].count
    assert [s.seconds for s in states] == sorted(s.seconds for s in states)
    assert all(1 <= s.layer <= 3 for s in states)


def test_rejects_non_networks():
    with pytest.raises(TypeError, match="ReLUNetwork"):
        layer_histograms("net.npz")


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=15)
@given(st.integers(1, 3), st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(0, 10**6))
def test_rounded_random_networks_respect_every_upper_bound(n0, widths, seed):
    """Rounded weights make degenerate arrangements (parallel, concurrent, dead units): the bounds still hold."""
    rng = np.random.default_rng(seed)
    dims = [n0] + widths
    Ws = [np.round(rng.normal(size=(dims[l + 1], dims[l])) * 2) / 2 for l in range(len(widths))]
    bs = [np.round(rng.normal(size=dims[l + 1]) * 2) / 2 for l in range(len(widths))]
    net = ReLUNetwork(tuple(Ws), tuple(bs), has_output_layer=False)
    h = layer_histograms(net, box=(-2, 2))
    assert h.all_checks_pass

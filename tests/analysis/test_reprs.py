"""Analysis results print one short line (no arrays) and the census a small notebook card."""

from __future__ import annotations

import numpy as np

from lpengine import ReLUNetwork
from lpengine.analysis import LayerwiseL1Problem, decay_profile, estimator_trace, gap_decay_profile, landscape_census


def test_profiles_and_traces_repr_without_arrays() -> None:
    # L_k = 3 + 2 * 0.9^k: the gap ratio is exactly 0.9 in every window.
    y = 3.0 + 2.0 * 0.9 ** np.arange(400)
    assert repr(decay_profile(y, window=10)) == "DecayProfile(window=10, n_windows=79)"
    gp = repr(gap_decay_profile(y, reference=3.0, window=50, step=50))
    assert gp.startswith("GapDecayProfile(reference=3, window=50, first_q=0.9, ")
    tr = repr(estimator_trace(y, method="aitken", ks=np.arange(5, 400)))
    assert tr.startswith("EstimatorTrace(method='aitken', n_points=395, last_estimate=") and len(tr) < 100


def test_census_repr_and_card() -> None:
    rng = np.random.default_rng(1000)
    net = ReLUNetwork.random(1, [2], seed=0)
    X, y = rng.uniform(-3, 3, (5, 1)), rng.uniform(-3, 3, 5)
    cen = landscape_census(LayerwiseL1Problem(net, X, y))
    # 5 kinks per neuron through the origin of R^2: 10 cones each, 100 cells.
    assert repr(cen).startswith(f"LandscapeCensus(n_cells=100, n_minima={cen.n_minima}, global_min=")
    h = cen._repr_html_()
    assert "<b>LandscapeCensus</b>" in h and h.count("<tr>") <= 4 + 1 + 8 + 1
    losses = sorted(m.loss for m in cen.minima)
    assert f"<td>{losses[0]:.4g}</td>" in h  # the global minimum heads the table

"""DRSResult's repr is one short line and its notebook card a few rows, however long the walk."""

from __future__ import annotations

import numpy as np

from lpengine import ReLUNetwork, deep_relu_simplex


def test_drs_result_repr_and_card() -> None:
    rng = np.random.default_rng(0)
    net = ReLUNetwork.random(2, [3], seed=0)
    X, y = rng.uniform(-3, 3, (40, 2)), rng.uniform(-3, 3, 40)
    res = deep_relu_simplex(net, X, y, seed=0)
    r = repr(res)
    assert r.startswith(f"DRSResult(status='{res.status}', fun=") and f"nit={res.nit}" in r
    assert "\n" not in r and len(r) < 160
    h = res._repr_html_()
    assert "<b>DRSResult (layer 0)</b>" in h and ("not certified" in h) != res.certified
    n = res.losses.size
    assert h.count("<tr>") == 4 + 1 + len({0, n // 4, n // 2, 3 * n // 4, n - 1})  # facts, header, sampled vertices

"""Every analysis result has to_dict(): strict JSON (no NaN/inf, no numpy types) that keeps the values."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lpengine import ReLUNetwork
from lpengine.analysis import (
    EarlyStopping,
    LayerwiseL1Problem,
    assign_basins,
    certify_local_minimum,
    count_vertices_in_box,
    decay_profile,
    density_summary,
    estimate_limit,
    estimator_trace,
    evaluate_early_stop,
    fit_decay,
    gap_decay_profile,
    landscape_census,
    visited_within,
)
from lpengine.analysis.evaluation import evaluate_estimators


def roundtrip(d: dict) -> dict:
    return json.loads(json.dumps(d, allow_nan=False))


def test_trajectory_results_to_dict() -> None:
    y = 3.0 + 2.0 * 0.9 ** np.arange(200)  # L_k = 3 + 2 * 0.9^k: q = 0.9, L* = 3 exactly
    fit = roundtrip(fit_decay(y).to_dict())
    assert fit["q"] == pytest.approx(0.9, rel=1e-9) and fit["l_star"] == pytest.approx(3.0, rel=1e-9)
    prof = roundtrip(decay_profile(y, window=20).to_dict())
    assert prof["window"] == 20 and len(prof["fits"]) == len(prof["starts"]) > 1
    gap = roundtrip(gap_decay_profile(y, reference=3.0, window=50, step=50).to_dict())
    assert gap["q"][0] == pytest.approx(0.9, rel=1e-9)
    est = roundtrip(estimate_limit(y, method="aitken", h=10).to_dict())
    assert est["method"] == "aitken" and est["estimate"] == pytest.approx(3.0, rel=1e-9)
    tr = roundtrip(estimator_trace(y, method="naive", ks=np.arange(5, 10)).to_dict())
    assert tr["ks"] == [5, 6, 7, 8, 9] and tr["estimates"] == pytest.approx(list(y[5:10]))
    ev = roundtrip(evaluate_estimators([y, y + 1.0], methods={"naive": {"method": "naive"}}, to_go=[1, 5]).to_dict())
    assert ev["to_go"] == [1, 5] and ev["n_runs"] == [2, 2]
    es = roundtrip(evaluate_early_stop(y, EarlyStopping(method="naive", gain_tol=1e-3, min_vertices=5)).to_dict())
    assert set(es) == {"stop_index", "n_vertices", "vertices_saved", "loss_given_up", "stopped"}
    thetas = np.cumsum(np.ones((20, 2)) * 0.5 ** np.arange(20)[:, None], axis=0)
    ds = roundtrip(density_summary(thetas).to_dict())
    assert ds["n_steps"] == 19
    rc = roundtrip(visited_within(thetas, radii=[0.1, 10.0]).to_dict())
    assert rc["counts"][-1] == 19  # every vertex but the centre (the last, not counted) is within 10


def test_census_results_to_dict() -> None:
    rng = np.random.default_rng(0)
    prob = LayerwiseL1Problem(ReLUNetwork.random(1, [1], seed=0), rng.uniform(-1, 1, (3, 1)), rng.uniform(-1, 1, 3))
    cen = landscape_census(prob)
    d = roundtrip(cen.to_dict())
    assert d["n_cells"] == cen.n_cells == 6  # 3 lines through the origin of R^2: 6 cones
    assert len(d["cells"]) == 6 and d["minima"][0]["loss"] == cen.minima[0].loss
    cert = roundtrip(certify_local_minimum(prob, cen.minima[0].theta).to_dict())
    assert cert["certified"] is True and cert["descent_point"] is None
    b = roundtrip(assign_basins(cen, cen.minima[0].theta[None, :]).to_dict())
    assert b["index"] == [0] and b["n_unmatched"] == 0
    vc = roundtrip(count_vertices_in_box(prob, center=np.zeros(2), radius=2.0).to_dict())
    assert vc["count"] == len(vc["vertices"]) == len(vc["n_tight"])

"""Tests of lpengine.analysis.early_stop on sequences with a closed-form stopping point."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from lpengine.analysis.early_stop import EarlyStopping, evaluate_early_stop
from lpengine.exceptions import InvalidOptionError


@pytest.mark.parametrize("method", ["geometric_fit", "aitken", "geometric_tail"])
def test_stops_where_the_true_gap_crosses_the_tolerance(method: str) -> None:
    # Exact geometric: every estimator predicts the gap 0.9**k exactly, so the rule fires at the
    # first k with 0.9**k < 1e-3, i.e. k = ceil(log(1e-3) / log(0.9)) = 66.
    y = 1.0 + 0.9 ** np.arange(200)
    rule = (
        EarlyStopping(gain_tol=1e-3, method=method, min_vertices=10, window=10)
        if method != "aitken"
        else EarlyStopping(gain_tol=1e-3, method=method, min_vertices=10, h=3)
    )
    out = evaluate_early_stop(y, rule)
    assert out.stop_index == math.ceil(math.log(1e-3) / math.log(0.9)) == 66
    assert (out.n_vertices, out.vertices_saved, out.stopped) == (200, 133, True)
    assert out.loss_given_up == pytest.approx(0.9**66 - 0.9**199, rel=1e-12)


def test_naive_never_stops_and_callback_protocol() -> None:
    y = 1.0 + 0.5 ** np.arange(30)
    out = evaluate_early_stop(y, EarlyStopping(gain_tol=1.0, method="naive", min_vertices=2))
    assert (out.stopped, out.stop_index, out.vertices_saved) == (False, 29, 0)  # infinite uncertainty
    rule = EarlyStopping(gain_tol=1e-2, min_vertices=5, window=5)
    fired = [rule(SimpleNamespace(loss=v)) for v in y]
    assert fired.index(True) == math.ceil(math.log(1e-2) / math.log(0.5)) == 7
    assert rule.last is not None and rule.last.method == "geometric_fit"


def test_bad_options() -> None:
    with pytest.raises(InvalidOptionError, match="'gain_tol' parameter"):
        EarlyStopping(gain_tol=-1.0)
    with pytest.raises(InvalidOptionError, match="'method' parameter"):
        EarlyStopping(gain_tol=1.0, method="oracle")
    with pytest.raises(InvalidOptionError, match="'min_vertices' parameter"):
        EarlyStopping(gain_tol=1.0, min_vertices=0)

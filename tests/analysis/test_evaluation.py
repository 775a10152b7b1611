"""Tests of lpengine.analysis.evaluation on runs with exactly known remaining gains."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from lpengine.analysis.evaluation import evaluate_estimators


def test_exact_runs() -> None:
    # Two exact geometric runs; the truth is the final loss, so the naive error at g vertices
    # to go is c (q^(n-1-g) - q^(n-1)).
    runs = [2.0 + 3.0 * 0.9 ** np.arange(60), 1.0 + 0.8 ** np.arange(40)]
    ev = evaluate_estimators(runs, methods={"aitken h=2": {"method": "aitken", "h": 2}}, to_go=[1, 10, 45])
    assert ev.to_go.tolist() == [1, 10, 45] and ev.n_runs.tolist() == [2, 2, 1]
    naive10 = [3.0 * (0.9**49 - 0.9**59), 0.8**29 - 0.8**39]
    assert_allclose(ev.median_error["naive"][1], np.median(naive10), rtol=1e-12)
    # Aitken predicts the *limit* L* exactly, so its error is the (tiny) tail after the last vertex.
    assert_allclose(ev.median_error["aitken h=2"][1], np.median([3.0 * 0.9**59, 0.8**39]), rtol=1e-6)
    # One vertex to go the naive error c q^(n-2) (1 - q) is below Aitken's c q^(n-1) for q > 1/2: the
    # truth is the final loss, not the limit. Further out Aitken wins in both runs.
    assert ev.win_rate["aitken h=2"].tolist() == [0.0, 1.0, 1.0]
    rows = ev.rows()
    assert rows[2]["to_go"] == 45 and rows[2]["n_runs"] == 1


def test_bad_runs() -> None:
    with pytest.raises(ValueError, match="runs is empty"):
        evaluate_estimators([], methods={})
    with pytest.raises(ValueError, match=r"runs\[1\] contains NaN"):
        evaluate_estimators([[2.0, 1.0], [1.0, np.nan]], methods={})

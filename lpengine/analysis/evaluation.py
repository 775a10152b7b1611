"""Honest evaluation of the L* estimators over many runs: error against vertices still to go.

For every run (a loss sequence ending at its certified local minimum, whose
loss ``L_final`` is the truth) and every number ``g`` of vertices still to go,
each estimator sees the prefix ``L_0..L_{n-1-g}`` and is scored by
``|L̂* - L_final|``.  The naive estimate (the current loss) is the baseline:
its error is exactly the remaining gain ``L_{n-1-g} - L_final``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._json import fields_dict
from .decay import check_losses
from .estimators import estimate_limit

__all__ = ["EstimatorEvaluation", "evaluate_estimators", "DEFAULT_TO_GO"]

#: Default grid of "vertices still to go".
DEFAULT_TO_GO: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


@dataclass(frozen=True)
class EstimatorEvaluation:
    """Errors of several estimators against the number of vertices still to go.

    Attributes
    ----------
    to_go : ndarray of int, shape (n_points,)
        Grid points with at least one run long enough.
    methods : tuple of str
        Estimator labels (``"naive"`` always included).
    n_runs : ndarray of int, shape (n_points,)
        Runs contributing at each grid point.
    median_error : dict of str -> ndarray, shape (n_points,)
        Median ``|L̂* - L_final|`` over runs.
    median_relative : dict of str -> ndarray
        Median error divided by the naive error of the same run and point
        (< 1: the estimator beats the current loss).
    win_rate : dict of str -> ndarray
        Share of runs where the estimator's error is smaller than the naive one.
    coverage : dict of str -> ndarray
        Share of runs where ``|L̂* - L_final| <= 2 u`` (u the reported uncertainty).
    """

    to_go: NDArray[np.int64]
    methods: tuple[str, ...]
    n_runs: NDArray[np.int64]
    median_error: dict[str, NDArray[np.float64]]
    median_relative: dict[str, NDArray[np.float64]]
    win_rate: dict[str, NDArray[np.float64]]
    coverage: dict[str, NDArray[np.float64]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields (arrays as lists, ``inf``/``nan`` as ``None``)."""
        return fields_dict(self)

    def rows(self) -> list[dict[str, Any]]:
        """One JSON-ready row per grid point."""
        out = []
        for i, g in enumerate(self.to_go):
            row: dict[str, Any] = {"to_go": int(g), "n_runs": int(self.n_runs[i])}
            for m in self.methods:
                row[f"{m}.median_error"] = float(self.median_error[m][i])
                if m != "naive":
                    row[f"{m}.median_relative"] = float(self.median_relative[m][i])
                    row[f"{m}.win_rate"] = float(self.win_rate[m][i])
                    row[f"{m}.coverage"] = float(self.coverage[m][i])
            out.append(row)
        return out


def evaluate_estimators(
    runs: Sequence[ArrayLike],
    *,
    methods: Mapping[str, Mapping[str, Any]],
    to_go: Sequence[int] = DEFAULT_TO_GO,
    min_prefix: int = 10,
) -> EstimatorEvaluation:
    """Score estimators on many runs by their error at fixed numbers of vertices to go.

    Parameters
    ----------
    runs : sequence of array_like
        Loss sequences, each ending at its (certified) local minimum.
    methods : mapping
        Label -> options, where options hold ``"method"`` (an estimator name)
        plus its keyword arguments, e.g. ``{"aitken h=50": {"method": "aitken", "h": 50}}``.
    to_go : sequence of int
        Numbers of vertices still to go.
    min_prefix : int
        A grid point is used for a run only if the prefix has at least this many losses.

    Returns
    -------
    EstimatorEvaluation

    Raises
    ------
    ValueError
        On an empty run list or a bad run.
    """
    seqs = [check_losses(r, f"runs[{i}]") for i, r in enumerate(runs)]
    if not seqs:
        raise ValueError("runs is empty; expected at least one loss sequence.")
    labels = ["naive"] + [m for m in methods if m != "naive"]
    grid, counts = [], []
    err: dict[str, list[float]] = {m: [] for m in labels}
    rel: dict[str, list[float]] = {m: [] for m in labels}
    win: dict[str, list[float]] = {m: [] for m in labels}
    cov: dict[str, list[float]] = {m: [] for m in labels}
    for g in sorted({int(v) for v in to_go}):
        per: dict[str, list[float]] = {m: [] for m in labels}
        per_rel: dict[str, list[float]] = {m: [] for m in labels}
        per_win: dict[str, list[float]] = {m: [] for m in labels}
        per_cov: dict[str, list[float]] = {m: [] for m in labels}
        used = 0
        for y in seqs:
            k = y.shape[0] - 1 - g
            if k + 1 < min_prefix:
                continue
            truth = float(y[-1])
            prefix = y[: k + 1]
            naive = float(prefix[-1]) - truth
            if naive <= 0.0:
                continue  # already at the final loss: nothing to estimate
            used += 1
            per["naive"].append(naive)
            for m in labels[1:]:
                opts = dict(methods[m])
                est = estimate_limit(prefix, method=opts.pop("method"), **opts)
                e = abs(est.estimate - truth)
                per[m].append(e)
                per_rel[m].append(e / naive)
                per_win[m].append(float(e < naive))
                per_cov[m].append(float(e <= 2.0 * est.uncertainty))
        if used == 0:
            continue
        grid.append(g)
        counts.append(used)
        for m in labels:
            err[m].append(float(np.median(per[m])))
            if m != "naive":
                rel[m].append(float(np.median(per_rel[m])))
                win[m].append(float(np.mean(per_win[m])))
                cov[m].append(float(np.mean(per_cov[m])))
            else:
                rel[m].append(1.0)
                win[m].append(0.0)
                cov[m].append(0.0)
    arr = lambda d: {m: np.asarray(v, dtype=np.float64) for m, v in d.items()}  # noqa: E731
    return EstimatorEvaluation(
        np.asarray(grid, dtype=np.int64),
        tuple(labels),
        np.asarray(counts, dtype=np.int64),
        arr(err),
        arr(rel),
        arr(win),
        arr(cov),
    )

"""Which local minimum of a landscape census each descent run (e.g. a Deep ReLU Simplex walk) ended in."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_array
from ..tolerances import Tolerances, resolve_tolerances
from ._cells import objective_slack
from .census_result import LandscapeCensus

__all__ = ["BasinAssignment", "assign_basins"]


@dataclass(frozen=True)
class BasinAssignment:
    """Which census minimum each descent run ended in.

    Attributes
    ----------
    index : ndarray of int, shape (n_runs,)
        Index into ``census.minima`` (``-1``: the end point is not a local-minimum point
        of the census, i.e. some cell around it has a lower LP value).
    counts : ndarray of int, shape (n_minima,)
        Runs ending in each minimum.
    fraction_global : float
        Share of runs ending in a global minimum.
    n_unmatched : int
    """

    index: NDArray[np.int64]
    counts: NDArray[np.int64]
    fraction_global: float
    n_unmatched: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "index": [int(v) for v in self.index],
            "counts": [int(v) for v in self.counts],
            "fraction_global": float(self.fraction_global),
            "n_unmatched": self.n_unmatched,
        }


def assign_basins(census: LandscapeCensus, end_thetas: ArrayLike, *, tol: Tolerances | None = None) -> BasinAssignment:
    """Match the end points of descent runs (e.g. Deep ReLU Simplex) to the census minima.

    An end point belongs to minimum ``m`` iff it is a local-minimum point (no cell
    containing it has a lower LP value) and the cells around it belong to ``m``;
    a point anywhere on a flat minimum (not only its representative) is matched.

    Parameters
    ----------
    census : LandscapeCensus
    end_thetas : array_like, shape (n_runs, D)
        Public layout ``[W.ravel(), b]``.
    tol : Tolerances, optional

    Returns
    -------
    BasinAssignment

    Raises
    ------
    ValueError
        If ``end_thetas`` has the wrong shape.
    """
    tol = resolve_tolerances(tol)
    E = check_array(end_thetas, "end_thetas", ndim=2, shape=(None, census.dim))
    model = census.problem.model
    Ei = model.from_public(E)
    values = np.array([c.value for c in census.cells])
    idx = np.full(E.shape[0], -1, dtype=np.int64)
    inside = np.array(
        [
            r.contains(Ei, tol) if math.isfinite(v) else np.zeros(E.shape[0], dtype=bool)
            for r, v in zip(census.cell_rows, values, strict=True)
        ]
    ).reshape(len(values), E.shape[0])
    for k, e in enumerate(Ei):
        cs = np.flatnonzero(inside[:, k])
        if cs.size == 0:
            continue
        L = model.loss_at(e)
        if np.any(values[cs] < L - objective_slack(L, tol)):
            continue
        m = set(census.cell_minimum[cs].tolist())
        if len(m) == 1 and -1 not in m:
            idx[k] = m.pop()
    counts = np.bincount(idx[idx >= 0], minlength=len(census.minima)).astype(np.int64)
    glob = np.array([m.is_global for m in census.minima], dtype=bool)
    n_glob = int(np.sum(glob[idx[idx >= 0]])) if np.any(idx >= 0) else 0
    return BasinAssignment(idx, counts, n_glob / E.shape[0], int(np.sum(idx < 0)))

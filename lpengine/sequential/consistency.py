"""Exact consistency of labelled data with a continuous class of ReLU classifiers, by LPs.

The class.  ``f_W(x) = sum_j a_j relu(w_j . x + b_j)`` with fixed non-zero
output weights ``a`` and free first-layer parameters ``W = (w_j, b_j)_j`` in
``R^{m x (n_in + 1)}``; the label is ``+1`` iff ``f_W(x) > 0``.  Labelled data
``(x_i, y_i)`` are *consistent* with the class if some ``W`` gives every
``x_i`` its label ``y_i``.

Regions of hypotheses.  A pattern of unit activations on the samples names a
closed cell of weight space on which ``f_W`` is linear in ``W``, so one LP
decides whether the cell holds a consistent network
(:func:`check_pattern_consistency`, :mod:`lpengine.sequential.pattern_lp`, where
the LP is written out; answers are certified by a witness or a Farkas ray,
:func:`verify_farkas`).

The whole class.  The closed cells of the full-dimensional sign vectors of
the central arrangement ``{(x_i, 1) . w = 0}`` (one arrangement, shared by all
units; :func:`weight_space_cells`, :mod:`lpengine.sequential.cells`) cover
weight space, so the data are consistent iff one of the ``(#cells)^m`` joint
cells passes the LP.  :func:`decide_consistency` builds the cells point by
point and keeps only joint cells that pass the LP on the prefix seen so far,
so it also returns the first prefix that no network of the class fits.

This module keeps the names of the cell and pattern modules importable from
here, as before they were split off.
"""

from __future__ import annotations

import itertools
import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import check_int
from ..exceptions import InvalidOptionError, IterationLimitWarning
from ..tolerances import Tolerances, resolve_tolerances
from .cells import refine_cells, weight_space_cells
from .pattern_lp import (
    PatternConsistency,
    augment,
    check_labelled_data,
    check_output_weights,
    check_pattern_consistency,
    solve_region,
    verify_farkas,
)

__all__ = [
    "PatternConsistency",
    "ConsistencyDecision",
    "check_pattern_consistency",
    "decide_consistency",
    "weight_space_cells",
    "verify_farkas",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsistencyDecision:
    """Answer of :func:`decide_consistency`.

    Attributes
    ----------
    consistent : bool or None
        Whether some network of the continuous class fits all labelled points;
        ``None`` if ``max_regions`` stopped the search undecided.
    first_unrealizable_step : int or None
        Smallest ``t`` such that the prefix ``0..t`` is inconsistent (``None``
        when every prefix examined is consistent).
    weights : ndarray, shape (width, n_in + 1) or None
        A witness ``W`` for the longest consistent prefix (for all points when
        ``consistent``): the one with the largest ``margin`` among the
        consistent joint cells.
    pattern : ndarray of bool, shape (n_prefix, width) or None
        The closed cell holding the witness.
    n_cells : int
        Full-dimensional cells of one unit's arrangement on the points examined.
    n_regions : int
        Joint cells ``(cell_1, ..., cell_m)`` still consistent at the end.
    lp_solves : int
        LPs solved (cell LPs plus region LPs).
    certified : bool
        Every feasible region answer was checked by its witness and every
        infeasible one by its Farkas ray.
    margin : float
        :attr:`PatternConsistency.margin` of the witness (``nan`` without one).
    """

    consistent: bool | None
    first_unrealizable_step: int | None
    weights: NDArray[np.float64] | None
    pattern: NDArray[np.bool_] | None
    n_cells: int
    n_regions: int
    lp_solves: int
    certified: bool
    margin: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "consistent": self.consistent,
            "first_unrealizable_step": self.first_unrealizable_step,
            "n_cells": self.n_cells,
            "n_regions": self.n_regions,
            "lp_solves": self.lp_solves,
            "certified": self.certified,
            "margin": None if np.isnan(self.margin) else self.margin,
            "weights": None if self.weights is None else self.weights.tolist(),
        }


def _decision(
    consistent: bool | None,
    step: int | None,
    witness: PatternConsistency | None,
    pattern: NDArray[np.bool_] | None,
    n_cells: int,
    n_regions: int,
    lp_solves: int,
    certified: bool,
) -> ConsistencyDecision:
    return ConsistencyDecision(
        consistent=consistent,
        first_unrealizable_step=step,
        weights=None if witness is None else witness.weights,
        pattern=pattern,
        n_cells=n_cells,
        n_regions=n_regions,
        lp_solves=lp_solves,
        certified=certified,
        margin=float("nan") if witness is None else witness.margin,
    )


def decide_consistency(
    X: Any,
    y: Any,
    *,
    output_weights: Any,
    max_regions: int = 100_000,
    backend: Any = "highs",
    tol: Tolerances | None = None,
) -> ConsistencyDecision:
    """Decide exactly whether labelled data fit some ReLU network of the continuous class.

    Points are taken in the given (time) order; the search stops at the first
    prefix that no network fits, which it reports.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_in)
        Inputs in time order.
    y : array_like of {-1, +1}, shape (n_samples,)
        Labels.
    output_weights : array_like, shape (width,)
        Fixed non-zero output weights ``a``; the width is their number.
    max_regions : int, default 100000
        Budget on the number of joint cells kept alive; when exceeded the
        search stops with ``consistent=None`` and an ``IterationLimitWarning``.
    backend : str, default "highs"
    tol : Tolerances, optional

    Returns
    -------
    ConsistencyDecision

    Raises
    ------
    InvalidProblemError, InvalidOptionError
        For malformed data or options.

    Notes
    -----
    Correctness: the closed joint cells of full-dimensional per-unit cells
    cover weight space and refine as points arrive, so a joint cell that fails
    on a prefix has no consistent descendant.  Cost: at most ``(#cells)^m``
    region LPs per point, with ``#cells = 2n`` for ``n_in = 1``.

    Examples
    --------
    >>> d = decide_consistency([[0.0], [0.5], [1.0]], [1, -1, 1], output_weights=[1.0])
    >>> d.consistent, d.first_unrealizable_step
    (False, 2)
    >>> decide_consistency([[0.0], [0.5], [1.0]], [1, -1, 1], output_weights=[1.0, 1.0]).consistent
    True
    """
    t = resolve_tolerances(tol)
    X, y_arr = check_labelled_data(X, y)
    a = check_output_weights(output_weights)
    budget = check_int(max_regions, "max_regions", low=1, error=InvalidOptionError)
    Xa = augment(X)
    m = a.shape[0]
    n = X.shape[0]
    cells: list[tuple[bool, ...]] = [()]
    # Joint cells: tuples of per-unit sign vectors (one per unit), consistent on the prefix.
    alive: list[tuple[tuple[bool, ...], ...]] = [tuple(() for _ in range(m))]
    lp_solves = 0
    certified = True
    witness: PatternConsistency | None = None
    witness_pattern: NDArray[np.bool_] | None = None
    for i in range(n):
        prefix = Xa[: i + 1]
        new_cells = refine_cells(cells, prefix, backend, t)
        lp_solves += 2 * len(cells)
        children: dict[tuple[bool, ...], list[tuple[bool, ...]]] = {}
        for c in new_cells:
            children.setdefault(c[:-1], []).append(c)
        next_alive = []
        last_ok: PatternConsistency | None = None
        last_pattern = None
        for joint in alive:
            for ext in itertools.product(*(children[c] for c in joint)):
                pattern = np.array(ext, dtype=bool).T  # (i + 1, m)
                ans = solve_region(prefix, y_arr[: i + 1], pattern, a, backend, t)
                lp_solves += 1
                certified = certified and ans.certified
                if ans.feasible:
                    next_alive.append(ext)
                    if last_ok is None or ans.margin > last_ok.margin:
                        last_ok, last_pattern = ans, pattern
            if len(next_alive) > budget:
                warnings.warn(
                    f"decide_consistency kept more than max_regions = {budget} joint cells at point {i}; "
                    f"stopped undecided.",
                    IterationLimitWarning,
                    stacklevel=2,
                )
                return _decision(
                    None, None, witness, witness_pattern, len(new_cells), len(next_alive), lp_solves, certified
                )
        cells = new_cells
        logger.debug("point %d: %d cells per unit, %d consistent joint cells", i, len(cells), len(next_alive))
        if not next_alive:
            return _decision(False, i, witness, witness_pattern, len(cells), 0, lp_solves, certified)
        alive = next_alive
        witness, witness_pattern = last_ok, last_pattern
    return _decision(True, None, witness, witness_pattern, len(cells), len(alive), lp_solves, certified)

"""Local-minimum certificate at any point of a layer-wise L1 landscape: the Deep ReLU Simplex's one.

θ is a local minimum of ``L`` iff it is optimal for the LP of every hidden cell
whose closure contains it (``deep_relu_simplex.md`` §3, fact 2).  Those cells
differ from θ's own cell only in the signs of the ``k_h`` hidden kinks that vanish
at θ; :func:`lpengine.simplex.certificate.check_cells` (the check behind every
Deep ReLU Simplex certificate) solves the LP of each of the ``2**k_h`` sign
choices on a box around θ, and a cell voids θ when its LP returns a point of
strictly lower loss.  :func:`certify_local_minimum` only prepares its input for
an arbitrary point (not necessarily a vertex of a walk): the tracked signs, the
tight kinks and the box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_int
from ..exceptions import InvalidOptionError
from ..simplex.certificate import check_cells
from ..simplex.encoding import cell_affine
from ..tolerances import Tolerances, resolve_tolerances
from .lossnet import LayerwiseL1Problem

__all__ = ["MinimumCertificate", "certify_local_minimum"]


@dataclass(frozen=True)
class MinimumCertificate:
    """Outcome of :func:`certify_local_minimum` at one point.

    Attributes
    ----------
    certified : bool
        Every cell around θ was decided (none sampled, every LP solved) and none
        holds a point of strictly lower loss: θ is a local minimum.
    refuted : bool
        Some cell around θ holds a point of lower loss (``descent_point``): θ is not
        a local minimum.  ``certified`` and ``refuted`` both False: undecided.
    loss : float
        ``L(θ)``.
    n_zero_kinks : int
        Hidden kinks vanishing at θ (within ``tol.feasibility``, scaled by ``1 + ‖θ‖_∞``).
    n_cells : int
        Sign choices of the vanishing kinks whose cell meets θ (the LPs that were not
        empty); ``2**n_zero_kinks`` choices were tried unless ``sampled``.
    n_failed : int
        LPs that ended neither optimal nor infeasible.
    sampled : bool
        More than ``max_cells`` choices: a seeded sample was checked (never certified).
    min_value : float
        Smallest LP value over the cells (``inf`` if none).
    radius : float
        Half-width of the box ``‖θ' - θ‖_∞ <= radius`` of the cell LPs.
    descent_point : ndarray or None
        A point of lower loss (public layout) when refuted.
    """

    certified: bool
    refuted: bool
    loss: float
    n_zero_kinks: int
    n_cells: int
    n_failed: int
    sampled: bool
    min_value: float
    radius: float
    descent_point: Any = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (non-finite floats as ``None``)."""
        return {
            "certified": self.certified,
            "refuted": self.refuted,
            "loss": float(self.loss),
            "n_zero_kinks": self.n_zero_kinks,
            "n_cells": self.n_cells,
            "n_failed": self.n_failed,
            "sampled": self.sampled,
            "min_value": float(self.min_value) if math.isfinite(self.min_value) else None,
            "radius": float(self.radius),
            "descent_point": None if self.descent_point is None else [float(v) for v in self.descent_point],
        }


def certify_local_minimum(
    problem: LayerwiseL1Problem,
    theta: ArrayLike,
    *,
    max_cells: int = 4096,
    seed: int | None = 0,
    tol: Tolerances | None = None,
) -> MinimumCertificate:
    """Certify (or refute) that ``theta`` is a local minimum of ``L`` (fact 2).

    The hidden kinks vanishing at θ are those with ``|z_κ(θ)| <= tol.feasibility·(1 + ‖θ‖_∞)``
    (and a non-zero normal); every sign choice of them is a candidate cell.  The box radius is
    half the ∞-distance to the nearest non-vanishing hidden kink (at most 1), so the box meets
    exactly the cells around θ; :func:`lpengine.simplex.certificate.check_cells` solves the LPs.

    Parameters
    ----------
    problem : LayerwiseL1Problem
    theta : array_like, shape (D,)
        Public layout ``[W.ravel(), b]``.
    max_cells : int
        At most this many sign choices are checked; beyond, a seeded sample is (and the
        result is not certified).
    seed : int or None
        Seed of that sample.
    tol : Tolerances, optional

    Returns
    -------
    MinimumCertificate

    Raises
    ------
    InvalidProblemError
        If ``theta`` has the wrong shape.
    InvalidOptionError
        If ``max_cells < 1``.
    """
    tol = resolve_tolerances(tol)
    model = problem.model
    th = model.from_public(problem.check_theta(theta))
    max_cells = check_int(max_cells, "max_cells", low=1, error=InvalidOptionError)
    flat, _, loss = model.values(th)
    nhk = model.n_hidden_kinks
    z = flat[:nhk]
    signs = np.where(flat > 0, 1, -1).astype(np.int8)
    Q, _, _, _ = cell_affine(model, signs[:nhk])
    g1 = np.abs(Q).sum(axis=1)
    live = g1 > 0.0
    scale = tol.feasibility * (1.0 + float(np.max(np.abs(th))))
    zero = live & (np.abs(z) <= scale)
    far = live & ~zero
    radius = 1.0
    if np.any(far):
        radius = min(radius, 0.5 * float(np.min(np.abs(z[far]) / g1[far])))
    tight = np.flatnonzero(zero).astype(np.int64)
    cc = check_cells(model, th, signs, tight, loss, max_cells=max_cells, seed=seed, radius=radius, tol=tol)
    n_tried = 2 ** int(tight.size) if not cc.sampled else max_cells
    min_value = loss - cc.max_gap if math.isfinite(cc.max_gap) else math.inf
    refuted = cc.best_x is not None
    return MinimumCertificate(
        certified=bool(cc.ok and not cc.sampled),
        refuted=refuted,
        loss=float(loss),
        n_zero_kinks=int(tight.size),
        n_cells=int(n_tried - cc.infeasible),
        n_failed=int(cc.failed),
        sampled=bool(cc.sampled),
        min_value=float(min_value),
        radius=float(radius),
        descent_point=None if cc.best_x is None else model.to_public(cc.best_x),
    )

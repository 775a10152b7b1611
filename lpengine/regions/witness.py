"""Interior points of a region in floats: the search's witnesses before any certificate.

Every pending region needs a point strictly inside it (the float witness that
:class:`~.certify.Certifier` then certifies, and the interior point Qhull needs).
Three ways, cheapest first, each on the region's normalised rows ``G x <= h``:

* :func:`initial_witness` - the shared facet's point pushed halfway across the
  region along its normal (no LP), centred by :func:`center_by_chords` when a row
  is close by.
* :func:`center_by_chords` - axis-chord centring: convex combinations of points of
  the region, so the point stays strictly inside.
* :func:`chebyshev_ball` - the Chebyshev LP (largest inscribed ball), the fallback
  when the margin is at or below ``tol.margin``.

None of these decides anything: a margin is a float hint, the decision is exact
(:mod:`lpengine.regions.certify`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..lp import LPCounters, LPStatus
from ..tolerances import Tolerances
from .cell_lp import chebyshev_center

__all__ = ["Ball", "chebyshev_ball", "initial_witness", "center_by_chords"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ball:
    """An inscribed ball of a region in floats: its centre (the witness) and radius (the margin).

    ``center`` is ``None`` (and ``radius = -inf``) when the LP gave none.
    """

    center: NDArray[np.float64] | None
    radius: float


def chebyshev_ball(
    G: NDArray[np.float64],
    h: NDArray[np.float64],
    *,
    bounded: bool,
    tol: Tolerances,
    counters: LPCounters | None = None,
    backend: Any = "highs",
) -> Ball:
    """The region's largest inscribed ball in floats (capped at radius 1 in unbounded domains).

    ``bounded`` says whether the domain is bounded.  ``center`` is ``None`` and
    ``radius`` is ``-inf`` when the LP reports no optimum (infeasible or any other
    status): the caller then decides exactly.
    """
    center, radius, status = chebyshev_center(
        G,
        h,
        r_max=np.inf if bounded else 1.0,
        tol=tol,
        counters=counters,
        backend=backend,
    )
    if center is None:
        if status is not LPStatus.INFEASIBLE:
            logger.debug("Chebyshev LP ended with status %s; deciding exactly", status.value)
        return Ball(None, -np.inf)
    return Ball(center, radius)


# The interior point handed to Qhull is centred by axis chords only when its margin is
# below this fraction of the push from the facet (a numerical-quality knob, not a tolerance:
# correctness never depends on it).
_CENTRE_BELOW = 0.05


def initial_witness(
    G: NDArray[np.float64],
    h: NDArray[np.float64],
    fpoint: NDArray[np.float64] | None,
    fnormal: NDArray[np.float64] | None,
    guess: NDArray[np.float64] | None,
    tol: Tolerances,
) -> tuple[NDArray[np.float64], float]:
    """An interior point: the shared facet's centre pushed halfway across this region.

    ``fnormal`` points from the parent into this region.  Along it, the first
    row (other than the facet's own, which is at zero slack and increasing)
    to be hit bounds the step; the point halfway has positive margin.  Two
    axis-chord centring passes improve the margin when it is poor.
    """
    if G.shape[0] == 0:
        return (np.zeros(G.shape[1]) if guess is None else guess), np.inf
    if fpoint is not None and fnormal is not None:
        slack = h - G @ fpoint
        rate = G @ fnormal
        hit = (rate > tol.pivot) & (slack > tol.activation)  # the facet itself (and coincident rows) excluded
        # The ratios of the rows hit only (inf elsewhere): one masked division, no fancy indexing.
        step = float(np.divide(slack, rate, out=np.full(slack.shape, np.inf), where=hit).min())
        half = 0.5 * (step if step < np.inf else 1.0)
        x = fpoint + half * fnormal
        slack -= half * rate
        margin = float(slack.min())
        # The step's length |x - fpoint|_inf = half |fnormal|_inf, without forming x - fpoint.
        reach = half * max(map(abs, fnormal.tolist())) if margin > 0 else 0.0
    elif guess is not None:
        x = guess
        slack = h - G @ x
        margin = float(slack.min())
        reach = 1.0
    else:
        return np.zeros(G.shape[1]), -np.inf
    if 0 < margin < _CENTRE_BELOW * reach:
        # A poorly centred point (a row close by): axis-chord centring, cheap and safe.
        x, slack = center_by_chords(G, x, slack, tol)
        margin = float(slack.min())
    return x, margin


def center_by_chords(
    G: NDArray[np.float64], x: NDArray[np.float64], slack: NDArray[np.float64], tol: Tolerances, passes: int = 2
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Move the interior point ``x`` (row slacks ``slack > 0``) towards the middle by axis chords.

    Each pass finds, for every coordinate axis at once, the chord of the
    polytope through ``x`` along that axis and moves ``x`` to the mean of the
    chord midpoints: a convex combination of points of the polytope, so ``x``
    stays strictly inside.  Returns the new point and its slacks.
    """
    d = G.shape[1]
    pos, neg = G > tol.pivot, G < -tol.pivot
    Gs = np.where(pos | neg, G, 1.0)
    for _ in range(passes):
        ratio = slack[:, None] / Gs
        tp = np.where(pos, ratio, np.inf).min(axis=0)
        tm = np.where(neg, -ratio, np.inf).min(axis=0)
        ok = (tp < np.inf) & (tm < np.inf)
        delta = np.where(ok, (0.5 / d) * (np.where(ok, tp, 0.0) - np.where(ok, tm, 0.0)), 0.0)
        x = x + delta
        slack = slack - G @ delta
    return x, slack

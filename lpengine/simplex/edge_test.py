"""Step 1 of the end-vertex certificate: the complete edge-ray test from a fresh factorisation.

Every one of the ``2D`` rays is priced with its exact one-sided slope (:func:`~lpengine.simplex.pivot.price_rays`)
from a freshly factorised basis; slopes within the rounding margin of zero are rechecked in exact
rationals (:mod:`lpengine.simplex.exact`), and kinks that the kink tolerance counts at zero are settled in
exact rationals first (:func:`settle_extra_kinks`).  Used by :func:`~lpengine.simplex.certify.certify_vertex`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..tolerances import Tolerances
from .exact import exact_kink_values, exact_ray_slopes
from .model import LayerwiseModel
from .pivot import Pricing, Vertex, price_rays, tight_mask

__all__ = ["EdgeTest", "RayTest", "edge_test", "settle_extra_kinks"]


@dataclass(frozen=True)
class RayTest:
    """The complete edge-ray test at a vertex for one choice of the kinks at zero (internal)."""

    pricing: Pricing
    live: NDArray[np.bool_]
    ray_ok: bool
    min_live: float
    margin: float
    degenerate: bool
    borderline: bool
    n_exact: int


def _ray_test(
    model: LayerwiseModel,
    st: Vertex,
    tz: float,
    t: Tolerances,
    tight: NDArray[np.bool_],
    collapsed: list[int],
    cond: float,
) -> RayTest:
    """Price every ray with the kinks ``tight`` at zero; recheck slopes within the rounding margin exactly."""
    pr = price_rays(model, st, tz, t.pivot, tight=tight.copy(), collapsed=collapsed)
    live = pr.live if pr.live is not None else np.ones(pr.slopes.size, dtype=bool)
    ns = pr.slopes / pr.norms
    thr = -t.slope * pr.scale
    min_live = float(np.min(ns[live])) if np.any(live) else math.inf
    ray_ok = bool(min_live >= thr)
    # Rounding margin of the normalised slopes: a linear solve with A loses about cond(A) * eps
    # relative accuracy (Higham, ch. 7), on slopes of magnitude up to ``scale``.
    margin = 8.0 * model.D * np.finfo(float).eps * cond * pr.scale
    degenerate = bool(pr.extra_tight.size > 0)
    # At a degenerate vertex the ray test is not the proof (HiGHS on every incident cell is), so a
    # slope within the rounding margin of zero does not matter there.
    borderline = bool(ray_ok and not degenerate and min_live < margin)
    n_exact = 0
    if borderline:
        # Exact rational recheck of the rays whose float slope is within the margin of zero.
        rays_b = np.flatnonzero(live & (ns < margin)).tolist()
        exact = exact_ray_slopes(model, st.theta, st.signs, st.B, rays_b)
        if exact is not None:
            n_exact = len(exact)
            neg = [r for r, v in exact.items() if v < 0]
            borderline = False
            if neg:
                ray_ok = False
                min_live = min(float(exact[r]) / float(pr.norms[r]) for r in neg)
    return RayTest(pr, live, ray_ok, min_live, float(margin), degenerate, borderline, n_exact)


@dataclass(frozen=True)
class EdgeTest:
    """Step 1: the complete ray test from a fresh factorisation (internal).

    ``tight``: the kinks at zero the test used (settled kinks dropped when the test passed with them
    off zero); ``settled``: kinks shown non-zero at the exact vertex and dropped; ``unresolved``: kinks
    that were settled but kept at zero because the test failed with them off zero.
    """

    rays: RayTest
    tight: NDArray[np.bool_]
    settled: int
    unresolved: int


def edge_test(
    model: LayerwiseModel,
    st: Vertex,
    tz: float,
    t: Tolerances,
    collapsed: list[int],
    ckinks: NDArray[np.int64],
) -> EdgeTest:
    """Step 1: refactorise the basis and price all ``2D`` rays, kinks within the tolerance settled first.

    Kinks within the kink tolerance of zero but not at zero at the exact vertex are settled first
    (:func:`settle_extra_kinks`).  If the ray test then fails, the descending ray is one that moves a
    settled kink (within the tolerance of zero) towards zero: it crosses it after a distance of the
    order of the tolerance, below what the float walk resolves.  The tolerance's view of the vertex
    (those kinks at zero) is kept then, and the certificate's reason says so.
    """
    st.factor(model)
    cond = float(np.linalg.cond(st.A))
    tight = tight_mask(model, st, tz)
    tight[ckinks] = False
    tight[st.B] = True
    settled = tight.copy()
    n_settled = settle_extra_kinks(model, st.signs, st.B, settled)
    rt = _ray_test(model, st, tz, t, settled if n_settled else tight, collapsed, cond)
    if n_settled and not rt.ray_ok:
        return EdgeTest(_ray_test(model, st, tz, t, tight, collapsed, cond), tight, 0, n_settled)
    return EdgeTest(rt, settled if n_settled else tight, n_settled, 0)


def settle_extra_kinks(
    model: LayerwiseModel, signs: NDArray[np.int8], B: NDArray[np.int64], tight: NDArray[np.bool_]
) -> int:
    """Drop from ``tight`` (in place) the kinks outside the basis that are not at zero at the exact vertex.

    The walk counts a kink as at zero when ``|z| <= tol.kink * scale``, a tolerance on raw values
    (scaled by the start point's largest kink value); a kink of value ``-2e-8`` can be "tight" by
    it although it is plainly non-zero.  Such a kink makes the vertex look degenerate, and the
    certificate then needs every incident cell.  Here each extra kink is evaluated in exact
    rationals at the exact vertex of the basis (:func:`~lpengine.simplex.exact.exact_kink_values`);
    one that is non-zero *and* on its tracked side there is not at zero, whatever the tolerance,
    and is dropped.  A kink on the untracked side stays (the tracked cell then does not contain
    the vertex, and the cell LPs must see both sides), and so does every extra kink of the same
    group downstream of it (its exact value under the tracked masks need not be the true one).
    Kinks are processed in layer order.  Returns the number dropped.
    """
    if model.mode != "layer":
        return 0
    inB = np.zeros(tight.size, dtype=bool)
    inB[B] = True
    extra = np.flatnonzero(tight & ~inB)
    if extra.size == 0:
        return 0
    lay, grp, _ = model.decode(extra)
    order = np.lexsort((extra, lay))
    extra, lay, grp = extra[order], lay[order], grp[order]
    vals = exact_kink_values(model, signs, B, extra)
    if vals is None:
        return 0
    kept: dict[int, int] = {}  # group -> shallowest layer of a kept extra kink
    dropped = 0
    for k, l, g, v in zip(extra.tolist(), lay.tolist(), grp.tolist(), vals, strict=True):
        blocked = g in kept and kept[g] < l
        if v != 0 and (v > 0) == (signs[k] > 0) and not blocked:
            tight[k] = False
            dropped += 1
        else:
            kept.setdefault(g, l)
    return dropped

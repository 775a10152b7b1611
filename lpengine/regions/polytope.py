"""H-representations of activation regions and the geometry on them.

For a pattern ``S`` the region is ``P_S = {x in Dom : sigma_k (alpha_k x + beta_k) >= 0}``.
Here every constraint is stored as a normalised halfspace ``g @ x <= h`` with
``|g| = 1``, so ``h - g @ x`` is the Euclidean distance of ``x`` to the
hyperplane, and margins are in input units.

Primitives:

* :func:`region_halfspaces` - the rows of ``P_S`` (hidden units, then domain),
  with the dead-unit policy applied (see :func:`lpengine.regions.pattern.pattern_at`).
* :func:`chebyshev_center` - the LP ``max r s.t. g_i x + r <= h_i, r <= r_max``:
  the largest inscribed ball, the region's existence certificate.
* :func:`facets_by_vertices` - exact facets of a bounded region from its
  vertices (Qhull halfspace intersection, no LP), each facet checked to span a
  (d-1)-dimensional set of vertices.
* :func:`facets_by_lp` - facets by one LP per candidate row (rows first proved
  facets by ray shooting skip their LP); works on unbounded regions.

Which rows lie on one hyperplane (a facet's group) is decided in
:mod:`lpengine.regions.coincidence`: a float screen with the rows' error bounds,
then an exact test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from ..lp import LinearProgram, LPCounters, LPStatus, open_solver
from ..network import ReLUNetwork
from ..tolerances import Tolerances
from .cell_lp import chebyshev_center, statuses_handled
from .coincidence import ExactCoincidence, SameHyperplane, coincident_groups, coincident_rows
from .domain import Domain, make_domain
from .implied import RowErrors, certified_redundant

__all__ = [
    # Re-exported from .domain, where they moved (older imports keep working).
    "Domain",
    "make_domain",
    "RegionRows",
    "region_halfspaces",
    "chebyshev_center",
    "facets_by_vertices",
    "facets_by_lp",
    "FacetInfo",
    # Re-exported from .coincidence, where they moved (older imports keep working).
    "ExactCoincidence",
    "SameHyperplane",
    "coincident_rows",
]


@dataclass(frozen=True)
class RegionRows:
    """The normalised rows ``G x <= h`` of one region (hidden units first, then domain).

    ``unit[i]`` is the hidden unit of row ``i`` (-1 for a domain row); ``signs``
    is the pattern after the dead-unit policy; ``dead`` marks units that are
    constant on the region (they contribute no row); ``consistent`` is False if
    a dead unit's sign in the requested pattern contradicts its constant value
    (the pattern then has no region).
    """

    G: NDArray[np.float64]
    h: NDArray[np.float64]
    unit: NDArray[np.intp]
    signs: NDArray[np.int8]
    dead: NDArray[np.bool_]
    consistent: bool
    A: NDArray[np.float64]
    c: NDArray[np.float64]
    out_A: NDArray[np.float64] | None
    out_c: NDArray[np.float64] | None


def region_halfspaces(net: ReLUNetwork, signs: NDArray[np.int8], domain: Domain, tol: Tolerances) -> RegionRows:
    """Rows of the region of ``signs``; dead units follow the documented policy."""
    aff = net._local_affine_map(signs > 0)
    A, c = aff.A, aff.c
    norms = np.sqrt(np.einsum("ij,ij->i", A, A))
    dead = norms == 0.0  # scale-free; the search decides dead units exactly (lpengine.regions.certify)
    canon = np.array(signs, dtype=np.int8)
    consistent = True
    any_dead = bool(dead.any())
    if any_dead:
        want = np.where(c[dead] > 0, 1, -1).astype(np.int8)
        consistent = bool(np.all(want == canon[dead]))
    live = np.flatnonzero(~dead) if any_dead else np.arange(A.shape[0])
    s = canon[live] / norms[live]
    G_units = -s[:, None] * A[live]
    h_units = s * c[live]
    n_dom = domain.G.shape[0]
    G = np.concatenate((G_units, domain.G)) if n_dom else G_units
    h = np.concatenate((h_units, domain.h)) if n_dom else h_units
    unit = np.concatenate((live, np.full(n_dom, -1, dtype=np.intp))) if n_dom else live
    return RegionRows(G, h, unit, canon, dead, consistent, A, c, aff.out_A, aff.out_c)


@dataclass(frozen=True)
class FacetInfo:
    """Facets of one region.

    ``rows`` - indices (into the region's rows) of one representative row per
    facet; ``groups`` - for each facet, all rows whose hyperplane coincides with
    it; ``points`` - a point in the relative interior of each facet (or ``nan``
    rows when unknown); ``vertices`` - the region's vertices when computed;
    ``borderline`` - rows judged *not* facets by a float margin too small to be
    sure (within ``tol.margin``), or whose facet LP gave no answer: the search
    also tries their one-flip patterns, deciding each exactly.
    """

    rows: NDArray[np.intp]
    groups: tuple[NDArray[np.intp], ...]
    points: NDArray[np.float64]
    vertices: NDArray[np.float64] | None
    borderline: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))


_QHULL: tuple[Any, Any, Any] | None = None


def _qhull() -> tuple[Any, Any, Any]:
    """``(HalfspaceIntersection, QhullError, _Qhull or None)``, imported once (``scipy.spatial`` attribute access is slow).

    ``_Qhull`` is SciPy's low-level Qhull wrapper, the one ``HalfspaceIntersection`` is built
    on; used directly it skips what ``HalfspaceIntersection`` computes and this module never
    reads (the dual points, the 2-D extremes, the bounds).  ``None`` when a SciPy version
    lacks it: then ``HalfspaceIntersection`` serves, with the same vertices.
    """
    global _QHULL
    if _QHULL is None:
        from scipy.spatial import HalfspaceIntersection, QhullError

        try:
            from scipy.spatial._qhull import _Qhull
        except ImportError:  # pragma: no cover - every SciPy this package supports has it
            _Qhull = None
        _QHULL = (HalfspaceIntersection, QhullError, _Qhull)
    return _QHULL


def _halfspace_vertices(halfspaces: NDArray[np.float64], interior: NDArray[np.float64]) -> NDArray[np.float64]:
    """The vertices of ``{x : halfspaces[:, :d] x + halfspaces[:, d] <= 0}`` from Qhull, as ``HalfspaceIntersection``.

    Qhull computes the convex hull of the dual points ``g_i / s_i`` (``s_i`` the slack at
    ``interior``); each hull facet ``n . y + c = 0`` is the vertex ``interior - n / c``.
    Raises SciPy's ``QhullError`` (or ``ValueError``) as ``HalfspaceIntersection`` does.
    """
    halfspace_intersection, _, low_level = _qhull()
    if low_level is None:  # pragma: no cover
        return np.asarray(halfspace_intersection(halfspaces, interior).intersections)
    # The call HalfspaceIntersection makes (mode "H", no options, not incremental).
    qh = low_level(b"H", halfspaces, b"", None, False, False, interior)
    try:
        _, eq = qh.get_hull_facets()
    finally:
        qh.close()
    return np.asarray(eq[:, :-1] / -eq[:, -1:] + interior, dtype=np.float64)


def facets_by_vertices(
    G: NDArray[np.float64],
    h: NDArray[np.float64],
    interior: NDArray[np.float64],
    tol: Tolerances,
    *,
    same: SameHyperplane | None = None,
) -> FacetInfo | None:
    """Facets of the bounded polytope ``{G x <= h}`` via its vertices (d >= 2, no LP).

    Qhull's halfspace intersection gives the vertices; the rows tight at each
    are recomputed from the rows themselves (within ``tol.activation``, scaled
    by the size of the vertices).  A row tight at a *simple* vertex (exactly
    ``d`` tight rows) is a facet: near that vertex the polytope is the
    simplicial cone of those ``d`` rows, each of which bounds it in a
    ``(d-1)``-dimensional piece.  A row tight only at degenerate vertices is
    accepted only if the vertices on its hyperplane span an affine set of
    dimension ``d - 1`` (checked by SVD), which rejects rows that merely touch
    a vertex.  Returns ``None`` if Qhull fails (the caller falls back to
    :func:`facets_by_lp`).
    """
    qhull_error = _qhull()[1]
    m, d = G.shape
    try:
        V = _halfspace_vertices(np.concatenate((G, -h[:, None]), axis=1), interior)
    except (qhull_error, ValueError):
        return None
    if V.shape[0] < d + 1:
        return None
    vmax = float(np.abs(V).max())
    if not vmax < math.inf:
        return None  # a vertex at infinity (or nan): no bounded polytope in floats
    vscale = max(1.0, vmax)
    slack_v = h[:, None] - G @ V.T  # (m, n_vertices)
    on = np.abs(slack_v) <= tol.activation * vscale
    n_on = on.sum(axis=1)
    simple = on.sum(axis=0) == d
    all_simple = bool(simple.all())
    keep = cast("NDArray[np.bool_]", n_on > 0 if all_simple else on[:, simple].any(axis=1))
    for j in () if all_simple else np.flatnonzero(~keep & (n_on >= d)):
        # Tight only at degenerate vertices: decide by the span of the vertices on the row.
        Vf = V[on[j]]
        Vf = Vf - Vf.mean(axis=0)
        if d == 2:
            keep[j] = float(np.max(np.abs(Vf))) > tol.activation
        else:
            sv = np.linalg.svd(Vf, compute_uv=False)
            keep[j] = sv.shape[0] >= d - 1 and sv[d - 2] > tol.activation * max(1.0, float(sv[0]))
    fac = np.flatnonzero(keep)
    if fac.size == 0:
        return None
    # Rows not kept but passing within tol.margin of a vertex: the floats cannot be sure.
    near = slack_v.min(axis=1) <= tol.margin * vscale
    borderline = np.flatnonzero(near > keep)  # near and not kept (booleans); flatnonzero gives intp
    centres = (on[fac].astype(np.float64) @ V) / n_on[fac, None]
    if all_simple:
        # No two rows tight at one simple vertex coincide in floats; an exactly coincident row that
        # floats put more than tol.activation away is found by the exact screen only.
        grouped = same.groups(G, h, fac) if isinstance(same, ExactCoincidence) else None
        if grouped is None:
            return FacetInfo(fac.astype(np.intp), tuple(fac[:, None]), centres, V, borderline)
    else:
        grouped = coincident_groups(G, h, fac, tol, same)
    rows, groups, points = [], [], []
    taken = np.zeros(m, dtype=bool)
    for k, (i, grp) in enumerate(zip(fac, grouped, strict=True)):
        if taken[i]:
            continue
        taken[grp] = True
        rows.append(int(i))
        groups.append(grp)
        points.append(centres[k])
    borderline = borderline[~taken[borderline]]  # a row on a facet's hyperplane (exactly) is that facet
    return FacetInfo(np.array(rows, dtype=np.intp), tuple(groups), np.array(points), V, borderline)


def facets_by_lp(
    G: NDArray[np.float64],
    h: NDArray[np.float64],
    center: NDArray[np.float64],
    tol: Tolerances,
    counters: LPCounters | None = None,
    *,
    known: tuple[NDArray[np.intp], NDArray[np.float64]] | None = None,
    backend: Any = "highs",
    same: SameHyperplane | None = None,
    errors: RowErrors | None = None,
) -> FacetInfo:
    """Facets of ``{G x <= h}`` (bounded or not) by LP, from an interior ``center``.

    Ray shooting first: from ``center`` along each row normal the first
    hyperplane hit, if hit alone, is a facet (no LP).  Every other row ``k`` gets
    one LP, ``max g_k x - h_k  s.t.  other rows,  g_k x - h_k <= 1``; the row is a
    facet iff the optimum exceeds ``tol.activation`` (the cap keeps it bounded
    on unbounded regions).  Coincident rows are grouped into one facet.
    ``known = (rows, points)`` are rows already proved facets (with a point in
    each facet's relative interior); they need no LP.

    ``errors`` (bounds on the rows' distance from the exact rows; give them in
    unbounded domains): a row is then called "no facet" only with the LP's
    dual certificate checked against them at every distance
    (:func:`~.implied.certified_redundant`); otherwise it is borderline.  Far
    from the origin the float rows cannot be trusted (nearly parallel rows
    may cross 1e16 away), and this catches it.
    """
    m, d = G.shape
    if m == 0:
        return FacetInfo(np.zeros(0, dtype=np.intp), (), np.zeros((0, d)), None)
    slack = h - G @ center
    borderline: list[int] = []
    # Rows called "no facet" in an unbounded domain, with their LP duals: certified below, in one batch.
    far: list[int] = []
    far_duals: list[NDArray[np.float64] | None] = []
    is_facet = np.zeros(m, dtype=bool)
    decided = np.zeros(m, dtype=bool)
    fpoint = np.full((m, d), np.nan)
    if known is not None:
        is_facet[known[0]] = True
        decided[known[0]] = True
        fpoint[known[0]] = known[1]
    # Ray shooting along every normal at once: t_jk = slack_j / (g_j . g_k) for g_j . g_k > 0.
    dots = G @ G.T
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(dots > tol.pivot, slack[:, None] / dots, np.inf)
    first = np.argmin(ratio, axis=0)
    tmin = ratio[first, np.arange(m)]
    srt = np.sort(ratio, axis=0)
    unique_hit = np.isfinite(tmin) & ((srt[1] if m > 1 else np.full(m, np.inf)) - tmin > tol.activation)
    # A point in the relative interior of each facet: the unique ray hit, or (below) the crossing of
    # the segment from the centre to the LP optimum (strictly inside every other row).
    hit_dirs = np.flatnonzero(unique_hit & ~decided[first])
    is_facet[first[hit_dirs]] = True
    decided[first[hit_dirs]] = True
    fpoint[first[hit_dirs]] = center + tmin[hit_dirs, None] * G[hit_dirs]
    # Coincident duplicates of a facet are the same facet.
    lp = LinearProgram(c=np.zeros(d), A=G, row_upper=h)
    with statuses_handled(), open_solver(lp, tol=tol, backend=backend) as s:
        for k in np.flatnonzero(~decided):
            if decided[k]:
                continue
            s.set_row_bounds([k], [-np.inf], [h[k] + 1.0])
            s.set_cost(-G[k])
            res = s.solve()
            s.set_row_bounds([k], [-np.inf], [h[k]])
            if res.status is LPStatus.OPTIMAL and res.x is not None:
                viol = float(G[k] @ res.x - h[k])
                is_facet[k] = viol > tol.activation
                if is_facet[k]:
                    lam = slack[k] / (slack[k] + viol)
                    fpoint[k] = center + lam * (res.x - center)
                elif viol > -tol.margin:
                    borderline.append(int(k))
                elif errors is not None:
                    far.append(int(k))
                    far_duals.append(None if res.row_duals is None else -res.row_duals)
            else:
                # No answer: never read as "not a facet"; the row's flip is searched exactly.
                borderline.append(int(k))
            decided[k] = True
        if counters is not None:
            counters.merge(s.counters)
    if far:
        assert errors is not None
        proved = certified_redundant(G, h, errors, far, far_duals)
        borderline.extend(k for k, p in zip(far, proved.tolist(), strict=True) if not p)
    rows, groups, points = [], [], []
    taken = np.zeros(m, dtype=bool)
    # Every row's coincident rows at once (one screen for the region).
    twins = coincident_groups(G, h, np.arange(m, dtype=np.intp), tol, same)
    for i in np.flatnonzero(is_facet):
        if taken[i]:
            continue
        grp = twins[i]
        # A duplicate hyperplane hides its twin from the "other rows" LP; group them.
        taken[grp] = True
        rows.append(int(i))
        groups.append(grp)
        points.append(fpoint[i])
    # Rows that are redundant only because a coincident twin is present are facets too.
    for i in np.flatnonzero(~is_facet & ~taken):
        grp = twins[i]
        if grp.size > 1 and not taken[i]:
            others = np.setdiff1d(np.arange(m), grp)
            lp2 = LinearProgram(
                c=-G[i], A=np.vstack([G[others], G[i][None]]), row_upper=np.concatenate([h[others], [h[i] + 1.0]])
            )
            with statuses_handled(), open_solver(lp2, tol=tol, backend=backend) as s2:
                res = s2.solve()
                if counters is not None:
                    counters.merge(s2.counters)
            taken[grp] = True
            if res.status is not LPStatus.OPTIMAL or res.x is None:
                borderline.append(int(i))
                continue
            if float(G[i] @ res.x - h[i]) > tol.activation:
                viol = float(G[i] @ res.x - h[i])
                rows.append(int(i))
                groups.append(grp)
                points.append(center + slack[i] / (slack[i] + viol) * (res.x - center))
            elif errors is not None:
                borderline.append(int(i))  # no far certificate with the twin left out: decided exactly
    # A row on a facet's hyperplane (exactly) is decided: it is that facet.
    on_facet = set(np.concatenate(groups).tolist()) if groups else set()
    bl = np.array(sorted(set(borderline) - on_facet), dtype=np.intp)
    return FacetInfo(np.array(rows, dtype=np.intp), tuple(groups), np.array(points).reshape(-1, d), None, bl)

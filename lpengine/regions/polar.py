"""Facets of a region, bounded or not, from the convex hull of its polar (no LP).

Mathematical object.  Let ``P = {x : G x <= h}`` have ``x0`` in its interior and
write ``s = h - G x0 > 0``.  In coordinates centred at ``x0`` the rows read
``p_i . y <= 1`` with ``p_i = g_i / s_i``, and the polar of ``P`` is
``P° = conv({0} ∪ {p_i})``.  By the affine Farkas lemma, row ``i`` is implied by
the others iff ``p_i`` lies in ``conv({0} ∪ {p_j : j != i})``, so

* the **facets** of ``P`` are the rows whose ``p_i`` is a vertex of ``P°``;
* a hull facet ``n . y = b`` of ``P°`` with ``b > 0`` is a **vertex** ``x0 + n / b``
  of ``P``, and one through the origin (``b = 0``) an extreme **ray** ``n`` of
  ``P``'s recession cone;
* ``P`` is **bounded** iff the origin lies in the interior of ``P°`` (no hull
  facet passes through it).

One Qhull convex hull of ``m + 1`` points in R^d answers all three for bounded
and unbounded regions alike, so a region of all of R^d costs no LP where the
older artificial-box method needed one LP per candidate row of every cell that
left the box.  Qhull refuses a flat point set: ``P`` then contains a line (its
rows do not span R^d) and the caller falls back to LPs.

Float decisions and what protects them.  A row the hull calls a non-facet while
passing within ``tol.margin`` of a vertex of ``P`` (or almost parallel to an
extreme ray) is reported ``borderline``: the search then also tries its one-flip
pattern, decided exactly, so no region behind it is lost.  A false facet can only
send the search to a pattern that is then decided exactly, like any other.  Outside
the artificial box the hull's answers are proved for the exact rows by
:mod:`~lpengine.regions.polar_proofs`.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..tolerances import Tolerances
from .polytope import ExactCoincidence, FacetInfo, SameHyperplane, coincident_rows

__all__ = ["PolarFacets", "PolarHull", "facets_by_polar", "solve_simplices"]


def solve_simplices(A: NDArray[np.float64], rhs: NDArray[np.float64], ok: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Solve ``A[j] mu[j] = rhs[j]`` for the rows ``ok`` in one batched call; NaN elsewhere.

    A singular system in the batch sends the batch to one solve per row, and a singular row keeps NaN
    (its exit is then decided by the caller's exact path).
    """
    mu = np.full(rhs.shape, np.nan)
    if ok.any():
        try:
            mu[ok] = np.linalg.solve(A[ok], rhs[ok][:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:  # a singular simplex in the batch: one by one
            for j in np.flatnonzero(ok).tolist():
                with contextlib.suppress(np.linalg.LinAlgError):
                    mu[j] = np.linalg.solve(A[j], rhs[j])
    return mu


logger = logging.getLogger(__name__)

# Qhull's rounding of a hull facet's offset, per unit of (d + 1) * pscale (see facets_by_polar).
_NOISE = 4.0 * float(np.finfo(np.float64).eps)

_ARANGE = np.arange(256, dtype=np.intp)
_ARANGE.flags.writeable = False


def _arange(n: int) -> NDArray[np.intp]:
    """``np.arange(n)`` (a read-only view of a cached one while ``n <= 256``)."""
    return _ARANGE[:n] if n <= _ARANGE.shape[0] else np.arange(n, dtype=np.intp)


_QHULL: tuple[Any, Any, Any] | None = None


def _qhull() -> tuple[Any, Any, Any]:
    """``(ConvexHull, QhullError, _Qhull or None)``, imported once (``scipy.spatial`` attribute access is slow).

    ``_Qhull`` is SciPy's low-level Qhull wrapper, the one ``ConvexHull`` is built on; used
    directly it skips the volume and area that ``ConvexHull`` computes and this module never
    reads (about a third of the call).  ``None`` when a SciPy version lacks it: then
    ``ConvexHull`` serves, with the same simplices and equations.
    """
    global _QHULL
    if _QHULL is None:
        from scipy.spatial import ConvexHull, QhullError

        try:
            from scipy.spatial._qhull import _Qhull
        except ImportError:  # pragma: no cover - every SciPy this package supports has it
            _Qhull = None
        _QHULL = (ConvexHull, QhullError, _Qhull)
    return _QHULL


def _hull_facets(pts: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """The triangulated convex hull of ``pts`` (full-dimensional): simplices and facet equations ``[n, -b]``.

    Raises SciPy's ``QhullError`` (or ``ValueError``) as ``ConvexHull`` does when Qhull refuses.
    """
    convex_hull, _, low_level = _qhull()
    if low_level is None:  # pragma: no cover
        hull = convex_hull(pts)
        return hull.simplices, hull.equations
    # The options ConvexHull passes: mode "i", triangulated output "Qt".
    qh = low_level(b"i", pts, b"", required_options=b"Qt")
    try:
        qh.triangulate()
        simplices, _, equations, _, _ = qh.get_simplex_facet_array()
    finally:
        qh.close()
    return simplices, equations


@dataclass(frozen=True)
class PolarFacets:
    """What the polar hull says about one region.

    ``facets`` - the facets (``vertices`` holds the region's vertices, possibly
    none for an unbounded region); ``rays`` - the extreme rays of the recession
    cone (unit vectors, shape ``(k, d)``, empty when bounded); ``bounded`` -
    True, False, or None when the floats cannot tell (a vertex so far out that
    it is numerically at infinity).
    """

    facets: FacetInfo
    rays: NDArray[np.float64]
    bounded: bool | None
    hull: PolarHull


@dataclass(frozen=True)
class PolarHull:
    """The polar hull itself, for certificates: dual points (the origin last), facets, offsets ``b >= 0``."""

    points: NDArray[np.float64]
    simplices: NDArray[np.intp]
    normal: NDArray[np.float64]
    b: NDArray[np.float64]
    slack: NDArray[np.float64]
    finite: NDArray[np.bool_]

    def exits(self, dirs: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
        """Where the rays ``t * dirs[j]`` (``t >= 0``) leave the hull: simplex, ``t``, barycentric weights.

        Returns ``(simplex index, t, mu)`` with ``t dirs[j] = sum_i mu[j, i] points[simplices[s_j, i]]``
        (``mu`` from a float solve: the certificates built on it are checked rigorously
        by their consumers, never trusted).  ``t = inf`` where no facet faces the ray.
        """
        num = dirs @ self.normal.T  # (n, S)
        with np.errstate(divide="ignore", invalid="ignore"):
            # Facets through the origin (rays of P, b ~ 0) are no exit: their simplices hold the origin.
            t = np.where((num > 0) & self.finite[None, :], self.b[None, :] / num, np.inf)
        s = np.argmin(t, axis=1)
        tj = t[np.arange(dirs.shape[0]), s]
        A = self.points[self.simplices[s]].transpose(0, 2, 1)  # (n, d, d): columns are the simplex's points
        rhs = np.where(np.isfinite(tj), tj, 0.0)[:, None] * dirs
        return s, tj, solve_simplices(A, rhs, np.isfinite(tj))

    def shifted_supports(
        self, ks: NDArray[np.intp], apex_rows: NDArray[np.intp]
    ) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
        """Another support for rows ``ks`` whose ray from the origin left the hull through a lower face.

        When ``g_k`` lies exactly in the cone of fewer than ``d`` rows (deep units whose
        gradients are combinations of a few first-layer ones), the ray from the origin
        through ``p_k`` leaves the hull through a lower-dimensional face, and no float bound
        proves the multipliers that are exactly zero.  The ray from the apex
        ``q = a c`` (``a = 1/2``, ``c`` the mean of the hull points ``p_e`` of ``apex_rows``,
        a point inside the hull off such subspaces) through ``p_k`` leaves through a facet
        ``T``, in general position in practice; if it does so beyond ``p_k`` (``t > 1``), then
        ``p_k = (1 - 1/t) q + (1/t) e`` with ``e`` in ``conv(T)``, that is
        ``g_k = sum_e w_e g_e + sum_T y_i g_i`` with ``w_e = (1 - 1/t) (a / |apex_rows|) s_k / s_e``.
        Returns ``(w, T)``: ``w`` of shape ``(n, len(apex_rows))`` and ``T`` of shape ``(n, d)``
        (``-1`` rows where no such exit was found), for :func:`~.implied.float_certified`,
        which proves or rejects each rigorously.
        """
        n, d = ks.shape[0], self.points.shape[1]
        m = self.points.shape[0] - 1
        weight = np.zeros((n, apex_rows.shape[0]))
        sup = np.full((n, d), -1, dtype=np.intp)
        if apex_rows.size == 0 or n == 0:
            return weight, sup
        a = 0.5
        q = (a / apex_rows.shape[0]) * self.points[apex_rows].sum(axis=0)
        direction = self.points[ks] - q
        num = direction @ self.normal.T
        off = self.b - self.normal @ q
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where((num > 0) & self.finite[None, :], off[None, :] / num, np.inf)
        f = np.argmin(t, axis=1)
        tf = t[np.arange(n), f]
        T = self.simplices[f]
        ok = np.isfinite(tf) & (tf > 1.0) & (T < m).all(axis=1)
        if ok.any():
            scale = (1.0 - 1.0 / tf[ok]) * (a / apex_rows.shape[0]) * self.slack[ks[ok]]
            weight[ok] = scale[:, None] / self.slack[apex_rows][None, :]
            sup[ok] = T[ok]
        return weight, sup


def facets_by_polar(
    G: NDArray[np.float64],
    h: NDArray[np.float64],
    interior: NDArray[np.float64],
    tol: Tolerances,
    *,
    same: SameHyperplane | None = None,
) -> PolarFacets | None:
    """Facets, vertices, extreme rays and boundedness of ``{G x <= h}`` (rows normalised, d >= 2).

    Parameters
    ----------
    G : ndarray, shape (m, d)
        Unit row normals.
    h : ndarray, shape (m,)
        Offsets.
    interior : ndarray, shape (d,)
        A point strictly inside every row (the caller checks its margin).
    tol : Tolerances
        ``activation`` (relative) separates a far vertex from a ray; ``margin``
        marks non-facet rows too close to a vertex as borderline.
    same : callable, optional
        Exact test that rows ``i`` and ``j`` bound the same halfspace (coincident
        rows form one facet).

    Returns
    -------
    PolarFacets or None
        ``None`` when Qhull refuses (the region contains a line, or the polar
        is numerically flat): the caller uses LPs.

    Notes
    -----
    Cost: one Qhull hull of ``m + 1`` points in R^d, plus ``O(m K d)`` numpy work
    for ``K`` hull facets.  See the module docstring for the mathematics.
    """
    qhull_error = _qhull()[1]
    m, d = G.shape
    if m < d:
        return None  # fewer rows than dimensions: the region contains a line
    s = h - G @ interior
    if not s.min() > 0:
        return None
    pts = np.empty((m + 1, d))
    np.divide(G, s[:, None], out=pts[:m])
    pts[m] = 0.0
    try:
        simplices, eq = _hull_facets(pts)
    except (qhull_error, ValueError):
        return None
    normal, b = eq[:, :d], -eq[:, d]  # n . y <= b inside, |n| = 1
    pscale = float(np.abs(pts).max())
    # How many hull facets hold each dual point (the origin last): the hull's vertices are the nonzero ones.
    incidence = np.bincount(simplices.ravel(), minlength=m + 1)
    is_vertex = b > tol.activation * pscale
    any_ray = not bool(is_vertex.all())
    any_vertex = not any_ray or bool(is_vertex.any())
    # A hull facet at dual distance b is the vertex x0 + n / b (W holds the n / b).
    W = normal[is_vertex] / b[is_vertex][:, None] if any_ray else normal / b[:, None]
    V = interior + W
    rays = normal[~is_vertex] if any_ray else np.empty((0, d))
    if not any_ray:
        bounded: bool | None = True
    elif incidence[m] > 0 or bool((b <= _NOISE * (d + 1) * pscale).any()):
        # Qhull computes b with a rounding error of a few d-term dot products of points of size
        # pscale: a facet with b within that noise passes through the origin (a ray); one with b below
        # tol.activation * pscale is a vertex so far out (beyond 1 / (tol.activation * pscale) =
        # s_min / tol.activation) that the floats cannot tell it from a ray, and leaves boundedness
        # to the caller's LP.
        bounded = False  # a hull facet through the origin: an extreme ray of the recession cone
    else:
        bounded = None  # only far vertices: the floats cannot tell
    fac = incidence[:m].nonzero()[0]
    if fac.size == 0:
        return None
    # Borderline: non-facet rows passing within tol.margin of a vertex, or (almost) parallel to a ray.
    if any_vertex:
        vscale = max(1.0, float(np.abs(V).max()))
        near = (h[:, None] - G @ V.T).min(axis=1) <= tol.margin * vscale
    else:
        near = np.zeros(m, dtype=bool)
    if any_ray:
        # A non-facet row must not increase along any ray.  Rows orthogonal to the recession cone
        # (deep units constant along it, common in the far field of R^d) are read as not cutting it,
        # as the LP method's float optimum reads them.
        near |= (G @ rays.T).max(axis=1) > tol.activation
    near[fac] = False
    borderline = near.nonzero()[0]
    if any_ray:
        points = _facet_points(fac, simplices, is_vertex, normal, b, interior, any_ray)
    else:
        # Every hull facet is a vertex (the common case): each facet row's point is the mean of the
        # vertices on it, as _facet_points computes it (the same products, fewer steps).
        inc = np.zeros((m + 1, b.shape[0]))
        inc[simplices, _arange(b.shape[0])[:, None]] = 1.0
        points = (inc[fac] @ W) / incidence[fac][:, None] + interior
    groups = _groups(G, h, fac, tol, same)
    ph = PolarHull(pts, simplices, normal, b, s, is_vertex)
    if groups is None:
        return PolarFacets(FacetInfo(fac, tuple(fac.reshape(-1, 1)), points, V, borderline), rays, bounded, ph)
    rows, grp_out, pts_out = [], [], []
    taken = np.zeros(m, dtype=bool)
    for k, (i, grp) in enumerate(zip(fac.tolist(), groups, strict=True)):
        if taken[i]:
            continue
        taken[grp] = True
        rows.append(i)
        grp_out.append(grp)
        pts_out.append(points[k])
    borderline = borderline[~taken[borderline]]  # a row on a facet's hyperplane (exactly) is that facet
    facets = FacetInfo(np.array(rows, dtype=np.intp), tuple(grp_out), np.array(pts_out).reshape(-1, d), V, borderline)
    return PolarFacets(facets, rays, bounded, ph)


def _facet_points(
    fac: NDArray[np.intp],
    simplices: NDArray[np.intp],
    is_vertex: NDArray[np.bool_],
    normal: NDArray[np.float64],
    b: NDArray[np.float64],
    interior: NDArray[np.float64],
    any_ray: bool,
) -> NDArray[np.float64]:
    """A point in the relative interior of each facet: its vertices' mean plus a positive multiple of its rays.

    Facet ``F_i`` is ``conv(vertices on it) + cone(rays on it)``; the vertices and rays
    on it are the hull facets (simplices) that contain ``p_i``.  Any positive
    combination of all of them lies in its relative interior.  A facet with no
    vertex (numerically) gets ``nan`` (the caller then finds an interior point
    for the neighbour without it).
    """
    n_s, d = normal.shape
    # inc[f, s] = 1 where simplex s contains the dual point of facet row fac[f].
    inc = np.zeros((int(simplices.max()) + 1, n_s))
    inc[simplices, np.arange(n_s)[:, None]] = 1.0
    inc = inc[fac]
    Vall = np.where(is_vertex[:, None], normal / np.where(is_vertex, b, 1.0)[:, None], 0.0)
    incv = inc * is_vertex
    nv = incv.sum(axis=1)
    none = nv == 0  # a facet with no vertex: its point is nan (set below; 1 avoids dividing by 0 meanwhile)
    pts = (incv @ Vall) / np.where(none, 1.0, nv)[:, None]
    if any_ray:
        incr = inc - incv
        nr = incr.sum(axis=1)
        if nr.any():
            # Step along the facet's rays by its vertices' typical distance from the interior point.
            radius = np.sqrt(np.einsum("ij,ij->i", pts, pts))
            step = np.where(nr > 0, radius / np.maximum(nr, 1.0), 0.0)
            pts = pts + step[:, None] * (incr @ normal)
    pts[none] = np.nan
    return pts + interior


def _groups(
    G: NDArray[np.float64], h: NDArray[np.float64], fac: NDArray[np.intp], tol: Tolerances, same: SameHyperplane | None
) -> list[NDArray[np.intp]] | None:
    """Rows coincident with each facet row, or ``None`` when every facet row is alone.

    With an :class:`~.polytope.ExactCoincidence`, every exactly coincident row (its
    screen with the rows' error bounds, then integers), however far apart the
    floats put them; otherwise the candidates within ``tol.coincident``.
    """
    if isinstance(same, ExactCoincidence):
        return same.groups(G, h, fac)
    # Rows within tol.coincident of each other have offsets within it too: no such offsets, no group.
    hs = np.sort(h)
    if hs.shape[0] < 2 or float((hs[1:] - hs[:-1]).min()) > tol.coincident:
        return None
    Gh = np.concatenate((G, h[:, None]), axis=1)
    diff = np.abs(Gh[fac][:, None, :] - Gh[None, :, :]).max(axis=2)
    close = diff <= tol.coincident
    if int(close.sum()) == fac.shape[0]:
        return None  # every facet row matches itself only
    return [coincident_rows(G, h, int(i), tol, same) for i in fac.tolist()]

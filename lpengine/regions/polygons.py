"""Exact polygons of the activation regions of a network with two inputs.

A region of a 2-D network is the convex polygon

    P_S = {x in Dom : s_k (a_k . x + c_k) >= 0 for every live hidden unit k},

with ``a_k, c_k`` the unit's local pre-activation on the region (the region's
:class:`~lpengine.network.LocalAffineMap`) and ``s_k`` its sign.  The polygon
is computed by clipping the domain polygon by each halfplane in turn
(Sutherland-Hodgman for a convex polygon): every vertex is the intersection of
two of the region's own lines, so the picture is the exact arrangement, not a
rasterised grid.  A point counts as inside a halfplane when its signed
distance is at most ``tol.activation`` times the coordinate scale (the same
rule the enumeration uses for "on a hyperplane"); consecutive vertices closer
than that are merged.

Unbounded domains (R^2, an unbounded polytope) are clipped to a finite view
*window* first; the window's edges are labelled :data:`WINDOW_EDGE`.

:func:`region_vertices` gives the vertices of a bounded region in any
dimension (the polygon's corners for two inputs, the interval's ends for one,
Qhull's halfspace intersection from the region's interior witness above two).

For ``n_in > 2``, :func:`plane_network` restricts a network to the plane
``t -> x0 + t_1 u + t_2 v``: a network with two inputs whose regions are
exactly the slices of the original regions by that plane.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_array
from ..exceptions import InvalidDomainError
from ..network import LocalAffineMap, ReLUNetwork
from ..tolerances import Tolerances, resolve_tolerances
from .domain import Domain

__all__ = [
    "Polygon",
    "DOMAIN_EDGE",
    "WINDOW_EDGE",
    "clip_polygon",
    "domain_polygon",
    "region_polygon",
    "region_vertices",
    "plane_network",
]

#: Edge label of a polygon edge lying on a face of the domain.
DOMAIN_EDGE = -1
#: Edge label of a polygon edge lying on the view window of an unbounded domain.
WINDOW_EDGE = -2


@dataclass(frozen=True)
class Polygon:
    """A convex polygon with labelled edges.

    Attributes
    ----------
    vertices : ndarray, shape (n_vertices, 2)
        Counter-clockwise, no two consecutive vertices equal (within tolerance).
        Empty (shape ``(0, 2)``) when the polygon has no interior.
    edge_units : ndarray of int, shape (n_vertices,)
        ``edge_units[i]`` labels the edge from ``vertices[i]`` to
        ``vertices[(i + 1) % n]``: the hidden unit whose hyperplane carries it,
        :data:`DOMAIN_EDGE` for a face of the domain, :data:`WINDOW_EDGE` for
        the view window.
    """

    vertices: NDArray[np.float64]
    edge_units: NDArray[np.intp]

    def __post_init__(self) -> None:
        for name in ("vertices", "edge_units"):
            arr = np.array(getattr(self, name), copy=True)
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    @property
    def n_vertices(self) -> int:
        """Number of vertices."""
        return int(self.vertices.shape[0])

    @property
    def area(self) -> float:
        """Area by the shoelace formula (``0.0`` for an empty polygon)."""
        if self.n_vertices < 3:
            return 0.0
        x, y = self.vertices[:, 0], self.vertices[:, 1]
        return float(0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))

    @property
    def centroid(self) -> NDArray[np.float64]:
        """Centroid of the enclosed area (of the vertices, if the area is zero)."""
        V = self.vertices
        a = self.area
        if a <= 0.0:
            return V.mean(axis=0) if V.shape[0] else np.full(2, np.nan)
        W = np.roll(V, -1, axis=0)
        cross = V[:, 0] * W[:, 1] - W[:, 0] * V[:, 1]
        return (((V + W) * cross[:, None]).sum(axis=0) / (6.0 * a)).astype(np.float64)

    def contains(self, point: ArrayLike, *, atol: float = 0.0) -> bool:
        """Whether ``point`` lies in the polygon (on the boundary within ``atol`` counts)."""
        p = np.asarray(point, dtype=np.float64)
        if self.n_vertices < 3:
            return False
        V = self.vertices
        E = np.roll(V, -1, axis=0) - V
        # Counter-clockwise: the point is inside iff it is left of (or on) every edge.
        cross = E[:, 0] * (p[1] - V[:, 1]) - E[:, 1] * (p[0] - V[:, 0])
        return bool(np.all(cross >= -atol * np.linalg.norm(E, axis=1)))


def clip_polygon(
    polygon: Polygon,
    G: NDArray[np.float64],
    h: NDArray[np.float64],
    labels: Sequence[int] | NDArray[np.intp],
    *,
    tol: Tolerances | None = None,
) -> Polygon:
    """Intersect a convex polygon with the halfplanes ``G[i] @ x <= h[i]``.

    Parameters
    ----------
    polygon : Polygon
        Convex, counter-clockwise.
    G : ndarray, shape (m, 2)
        Row normals, each of Euclidean norm 1 (so ``G[i] @ x - h[i]`` is a
        signed distance).
    h : ndarray, shape (m,)
    labels : sequence of int, length m
        Edge label given to the part of the boundary that row ``i`` cuts.
    tol : Tolerances, optional
        ``tol.activation`` (times the coordinate scale) is the distance below
        which a vertex counts as on a line.

    Returns
    -------
    Polygon
        Counter-clockwise; empty if the intersection has no interior.
    """
    t = resolve_tolerances(tol)
    V = [np.asarray(v, dtype=np.float64) for v in polygon.vertices]
    L = [int(u) for u in polygon.edge_units]
    G = np.asarray(G, dtype=np.float64).reshape(-1, 2)
    h = np.asarray(h, dtype=np.float64)
    lab_arr = np.asarray(labels, dtype=np.intp)
    # Rows left to apply.  A row that cuts nothing off the current polygon cuts nothing off any later one
    # (each clip gives a subset of the polygon), so after every cut the rows that no longer cut are dropped
    # in one vectorised test; only rows that really cut run the per-vertex loop.
    rest = np.arange(h.shape[0])
    while rest.size and len(V) >= 3:
        P = np.array(V)
        scale = np.maximum(max(1.0, float(np.abs(P).max())), np.abs(h[rest]))
        D = P @ G[rest].T - h[rest]  # (n_vertices, n_rows): signed distances
        cuts = D.max(axis=0) > t.activation * scale
        rest = rest[cuts]
        if rest.size == 0:
            break
        k, rest = int(rest[0]), rest[1:]
        g, hh, lab = G[k], float(h[k]), int(lab_arr[k])
        eps = t.activation * max(1.0, float(np.abs(P).max()), abs(hh))
        d = (P @ g - hh).tolist()
        newV: list[NDArray[np.float64]] = []
        newL: list[int] = []
        n = len(V)
        for i in range(n):
            j = (i + 1) % n
            p, q, dp, dq = V[i], V[j], d[i], d[j]
            if dp <= eps:
                if dq > eps:
                    if dp >= -eps:
                        # p on the line and q beyond it: from p the boundary runs along the new line.
                        newV.append(p)
                        newL.append(lab)
                    else:
                        newV.append(p)
                        newL.append(L[i])
                        # Exit point on the segment p -> q; from there the boundary follows the new line.
                        newV.append(p + (dp / (dp - dq)) * (q - p))
                        newL.append(lab)
                else:
                    newV.append(p)
                    newL.append(L[i])
            elif dq < -eps:
                # Entry point on the segment p -> q (q strictly inside); the boundary continues along edge i.
                newV.append(p + (dp / (dp - dq)) * (q - p))
                newL.append(L[i])
        V, L = _merge_close(newV, newL, eps)
    if len(V) < 3:
        return Polygon(np.zeros((0, 2)), np.zeros(0, dtype=np.intp))
    out = Polygon(np.array(V), np.array(L, dtype=np.intp))
    if out.area <= t.activation * max(1.0, float(np.abs(out.vertices).max())) ** 2:
        return Polygon(np.zeros((0, 2)), np.zeros(0, dtype=np.intp))
    return out


def _merge_close(V: list[NDArray[np.float64]], L: list[int], eps: float) -> tuple[list[NDArray[np.float64]], list[int]]:
    """Drop vertex ``i`` when it equals vertex ``i + 1`` (cyclically); the edge that leaves the pair is kept."""
    while len(V) >= 2:
        P = np.array(V)
        close = np.flatnonzero(np.abs(P - np.roll(P, -1, axis=0)).max(axis=1) <= eps)
        if close.size == 0:
            break
        # Edge i has length ~0; vertex i + 1 (and the edge leaving it) describes the boundary.
        del V[int(close[0])]
        del L[int(close[0])]
    return V, L


def _box_polygon(lo: NDArray[np.float64], hi: NDArray[np.float64], label: int) -> Polygon:
    V = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]], dtype=np.float64)
    return Polygon(V, np.full(4, label, dtype=np.intp))


def domain_polygon(
    domain: Domain,
    *,
    window: tuple[ArrayLike, ArrayLike] | None = None,
    tol: Tolerances | None = None,
) -> Polygon:
    """The domain as a polygon (an unbounded domain cut by ``window``).

    Parameters
    ----------
    domain : Domain
        A 2-D domain (see :func:`lpengine.regions.polytope.make_domain`).
    window : (lo, hi), optional
        The view box ``[lo, hi]`` (scalars or 2-vectors).  Required for an
        unbounded domain; for a bounded one it further cuts the domain.

    Raises
    ------
    InvalidDomainError
        If the domain is not 2-D, or is unbounded and no window is given.
    """
    t = resolve_tolerances(tol)
    if domain.dim != 2:
        raise InvalidDomainError(f"region polygons need a 2-D domain; got a domain in R^{domain.dim}.")
    if domain.kind == "box" and domain.lo is not None and domain.hi is not None and window is None:
        return _box_polygon(domain.lo, domain.hi, DOMAIN_EDGE)
    if window is None:
        if not domain.bounded:
            raise InvalidDomainError(
                f"the domain {domain.describe()} is unbounded; give window=(lo, hi) to cut it to a finite view."
            )
        # A square certainly containing the bounded domain: its vertices, from Qhull.
        from scipy.spatial import HalfspaceIntersection

        Vd = HalfspaceIntersection(np.concatenate((domain.G, -domain.h[:, None]), axis=1), domain.center).intersections
        lo_w, hi_w = Vd.min(axis=0) - 1.0, Vd.max(axis=0) + 1.0
        start = _box_polygon(lo_w, hi_w, WINDOW_EDGE)
    else:
        lo_w, hi_w = (np.broadcast_to(np.asarray(b, dtype=np.float64), (2,)) for b in window)
        if np.any(hi_w <= lo_w):
            raise InvalidDomainError(f"window must have lo < hi in both coordinates; got lo={lo_w}, hi={hi_w}.")
        start = _box_polygon(lo_w, hi_w, WINDOW_EDGE)
    return clip_polygon(start, domain.G, domain.h, np.full(domain.G.shape[0], DOMAIN_EDGE), tol=t)


def region_polygon(
    affine: LocalAffineMap,
    signs: NDArray[np.int8],
    domain: Polygon,
    *,
    facet_units: Sequence[Sequence[int]] = (),
    tol: Tolerances | None = None,
) -> Polygon:
    """The exact polygon of one region: the domain polygon cut by the region's own halfplanes.

    Parameters
    ----------
    affine : LocalAffineMap
        The region's pre-activations ``z_k(x) = A[k] @ x + c[k]`` (``A`` of shape ``(n_hidden, 2)``).
    signs : ndarray of +1/-1, shape (n_hidden,)
        The region's pattern.
    domain : Polygon
        From :func:`domain_polygon`.
    facet_units : sequence of sequence of int, optional
        The units known to form the region's facets (``Region.facet_units``):
        applied first, which only saves work; the polygon is the same.
    tol : Tolerances, optional
        ``tol.activation`` decides "on a line" (see :func:`clip_polygon`).  Units
        whose gradient is exactly zero are constant on the region and give no line.

    Returns
    -------
    Polygon
        Edges labelled by hidden unit (or by the domain/window).
    """
    t = resolve_tolerances(tol)
    A = np.asarray(affine.A)
    if A.ndim != 2 or A.shape[1] != 2:
        raise InvalidDomainError(f"region polygons need a network with 2 inputs; the region's map has shape {A.shape}.")
    G, h, live = _region_rows(affine, signs, t)
    if facet_units:
        # The region's facets first: once they are applied the polygon is final, and clip_polygon drops
        # every other row in one vectorised test.
        first = np.isin(live, np.fromiter((u for units in facet_units for u in units), dtype=np.intp))
        order = np.concatenate((np.flatnonzero(first), np.flatnonzero(~first)))
        G, h, live = G[order], h[order], live[order]
    return clip_polygon(domain, G, h, live, tol=t)


def _region_rows(
    affine: LocalAffineMap, signs: NDArray[np.int8], tol: Tolerances
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.intp]]:
    """Normalised rows ``G x <= h`` of the live units of a region, and their unit indices.

    A unit is dead (no line) only when its gradient is exactly zero: the rows are normalised, so a unit with
    tiny weights still has its exact line, and the polygons do not change when a unit is rescaled.
    """
    A = np.asarray(affine.A, dtype=np.float64)
    # Scaled by the largest entry first, so that the norm of a tiny gradient does not underflow to 0.
    big = np.max(np.abs(A), axis=1)
    safe = np.where(big > 0, big, 1.0)
    norms = np.linalg.norm(A / safe[:, None], axis=1) * big
    live = np.flatnonzero(big > 0)
    s = np.asarray(signs, dtype=np.float64)[live] / norms[live]
    # s_k (a_k x + c_k) >= 0  <=>  -s_k a_k x <= s_k c_k  (normalised: a distance).
    return -s[:, None] * A[live], s * np.asarray(affine.c, dtype=np.float64)[live], live


def region_vertices(
    affine: LocalAffineMap,
    signs: NDArray[np.int8],
    domain: Domain,
    witness: NDArray[np.float64],
    *,
    tol: Tolerances | None = None,
) -> NDArray[np.float64]:
    """The vertices of a bounded region, in any input dimension.

    Parameters
    ----------
    affine, signs
        The region's local pre-activations and pattern (as in :func:`region_polygon`).
    domain : Domain
        The enumeration's domain.
    witness : ndarray, shape (n_in,)
        A point in the region's interior (the region's certificate).
    tol : Tolerances, optional

    Returns
    -------
    ndarray, shape (n_vertices, n_in)
        For ``n_in = 2`` counter-clockwise; for ``n_in = 1`` the two ends;
        otherwise in Qhull's order, vertices closer than ``tol.activation``
        (times the coordinate scale) merged.

    Raises
    ------
    InvalidDomainError
        If the region is unbounded (it has no finite vertex description).
    """
    t = resolve_tolerances(tol)
    G_u, h_u, _ = _region_rows(affine, signs, t)
    G = np.concatenate((G_u, domain.G))
    h = np.concatenate((h_u, domain.h))
    d = int(np.asarray(witness).shape[0])
    if d == 2:
        if domain.bounded:
            return region_polygon(affine, signs, domain_polygon(domain, tol=t), tol=t).vertices
        far = 1e6 * max(1.0, float(np.abs(witness).max()), float(np.abs(h).max(initial=0.0)))
        p = region_polygon(affine, signs, domain_polygon(domain, window=(-far, far), tol=t), tol=t)
        if WINDOW_EDGE in p.edge_units.tolist():
            raise InvalidDomainError("the region is unbounded: it has no finite vertex description.")
        return p.vertices
    if d == 1:
        g = G[:, 0]
        upper = h[g > 0] / g[g > 0]
        lower = h[g < 0] / g[g < 0]
        if upper.size == 0 or lower.size == 0:
            raise InvalidDomainError("the region is unbounded: it has no finite vertex description.")
        return np.array([[float(lower.max())], [float(upper.min())]])
    from scipy.spatial import HalfspaceIntersection, QhullError

    try:
        V = HalfspaceIntersection(np.concatenate((G, -h[:, None]), axis=1), np.asarray(witness, float)).intersections
    except QhullError as exc:
        raise InvalidDomainError(f"Qhull could not intersect the region's halfspaces ({exc}).") from exc
    if not np.isfinite(V).all():
        raise InvalidDomainError("the region is unbounded: it has no finite vertex description.")
    eps = t.activation * max(1.0, float(np.abs(V).max()))
    keep: list[NDArray[np.float64]] = []
    for v in V:  # Qhull lists a degenerate vertex once per simplicial facet: merge the copies
        if not any(float(np.max(np.abs(v - k))) <= eps for k in keep):
            keep.append(v)
    return np.array(keep)


def plane_network(net: ReLUNetwork, x0: ArrayLike, u: ArrayLike, v: ArrayLike) -> ReLUNetwork:
    """The network restricted to the plane ``t -> x0 + t[0] u + t[1] v`` (two inputs).

    Only the first layer changes: ``W0' = W0 [u v]``, ``b0' = b0 + W0 x0``; so
    the regions of the result are exactly the slices of ``net``'s regions by
    the plane, with the same patterns.

    Parameters
    ----------
    net : ReLUNetwork
    x0, u, v : array_like, shape (n_in,)
        Origin and the two directions of the plane (linearly independent).

    Raises
    ------
    InvalidDomainError
        If a vector has the wrong length or ``u, v`` are parallel.
    """
    n = net.n_in
    x0_, u_, v_ = (
        check_array(a, f"plane {name}", shape=(n,), error=InvalidDomainError)
        for a, name in ((x0, "x0"), (u, "u"), (v, "v"))
    )
    B = np.stack([u_, v_], axis=1)
    if np.linalg.matrix_rank(B) < 2:
        raise InvalidDomainError("plane directions u and v must be linearly independent; got parallel vectors.")
    W0, b0 = net.weights[0], net.biases[0]
    weights: list[Any] = [W0 @ B, *net.weights[1:]]
    biases: list[Any] = [b0 + W0 @ x0_, *net.biases[1:]]
    return ReLUNetwork(tuple(weights), tuple(biases), has_output_layer=net.has_output_layer)

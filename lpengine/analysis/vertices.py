"""All vertices of the kink arrangement of a tiny layer-wise L1 loss inside a box (exact, small D).

The affine regions of ``L`` (hidden *and* residual kinks) meeting the box are
enumerated with :func:`lpengine.regions.enumerate_regions` on
:attr:`~lpengine.analysis.lossnet.LayerwiseL1Problem.loss_network` (the θ-space
network of the problem's one model), and each region's vertices come from Qhull;
the kinks vanishing at each vertex are counted by the model itself.  Used for the vertex-density claim (ii').
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_int, check_scalar
from ..exceptions import SolverError
from ..tolerances import Tolerances, resolve_tolerances
from ._cells import same_point as _same_point
from .lossnet import LayerwiseL1Problem

__all__ = ["VertexCount", "count_vertices_in_box"]


@dataclass(frozen=True)
class VertexCount:
    """All vertices of the kink arrangement (hidden and residual kinks) inside a box.

    Attributes
    ----------
    count : int
        Distinct vertices strictly inside the box.
    vertices : ndarray, shape (count, D)
    n_tight : ndarray of int, shape (count,)
        Kinks vanishing at each vertex (``>= D``; ``> D`` means a degenerate vertex).
    n_regions : int
        Affine regions of ``L`` meeting the box (enumerated exactly).
    complete : bool
    center : ndarray, shape (D,)
    radius : float
    """

    count: int
    vertices: NDArray[np.float64]
    n_tight: NDArray[np.int64]
    n_regions: int
    complete: bool
    center: NDArray[np.float64]
    radius: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "count": self.count,
            "vertices": [[float(v) for v in row] for row in self.vertices],
            "n_tight": [int(v) for v in self.n_tight],
            "n_regions": self.n_regions,
            "complete": self.complete,
            "center": [float(v) for v in self.center],
            "radius": float(self.radius),
        }


def count_vertices_in_box(
    problem: LayerwiseL1Problem,
    *,
    center: ArrayLike,
    radius: float,
    tol: Tolerances | None = None,
    max_regions: int | None = None,
) -> VertexCount:
    """Count every vertex of the kink arrangement of ``L`` in ``‖θ - center‖_∞ < radius``.

    The affine regions of ``L`` meeting the box are enumerated exactly with
    :func:`lpengine.regions.enumerate_regions` on
    :attr:`~LayerwiseL1Problem.loss_network`; the vertices of each region ∩ box
    come from Qhull's halfspace intersection (from the region's certified
    interior point); vertices on the box boundary are dropped; duplicates
    (a vertex is shared by up to 2^D regions) are merged.  Every reported vertex
    is checked: at least D kinks vanish there and their gradients span R^D.

    Parameters
    ----------
    problem : LayerwiseL1Problem
    center : array_like, shape (D,)
    radius : float
        Half-width of the box (∞-norm ball).
    tol : Tolerances, optional
    max_regions : int, optional
        Budget for the enumeration (``complete=False`` when hit).

    Returns
    -------
    VertexCount

    Raises
    ------
    InvalidProblemError, ValueError
        On a bad centre or radius.
    SolverError
        If a vertex fails its check (would indicate a numerical failure).
    """
    from scipy.spatial import HalfspaceIntersection, QhullError

    from ..regions import enumerate_regions

    tol = resolve_tolerances(tol)
    c0 = problem.check_theta(center, "center")
    rad = check_scalar(radius, "radius", low=0.0)
    D = problem.dim
    lo, hi = c0 - rad, c0 + rad
    lnet = problem.loss_network
    kwargs: dict[str, Any] = {}
    if max_regions is not None:
        kwargs["max_regions"] = check_int(max_regions, "max_regions", low=1)
    enum = enumerate_regions(lnet, box=(lo, hi), tol=tol, **kwargs)
    box_G = np.vstack([np.eye(D), -np.eye(D)])
    box_h = np.concatenate([hi, -lo])
    found: list[NDArray[np.float64]] = []
    edge = tol.feasibility * (1.0 + float(np.max(np.abs(c0))) + rad)
    for r in enum.regions:
        A, c = r.affine.A, r.affine.c
        norms = np.sqrt(np.einsum("ij,ij->i", A, A))
        live = norms > tol.zero_row
        s = r.pattern.signs[live].astype(np.float64)
        G = -(s / norms[live])[:, None] * A[live]  # σ(Aθ + c) >= 0  <=>  G θ <= h
        h = s * c[live] / norms[live]
        halfspaces = np.hstack([np.vstack([G, box_G]), -np.concatenate([h, box_h])[:, None]])
        try:
            V = HalfspaceIntersection(halfspaces, r.witness).intersections
        except QhullError as exc:
            raise SolverError(f"Qhull failed on region {r.pattern}: {exc}") from exc
        for v in V:
            if np.min(np.minimum(v - lo, hi - v)) <= edge:
                continue  # on the box boundary: not an arrangement vertex
            if any(_same_point(v, u, tol) for u in found):
                continue
            tight_rows = G[np.abs(G @ v - h) <= edge]
            if tight_rows.shape[0] < D or np.linalg.matrix_rank(tight_rows) < D:
                raise SolverError(
                    f"point {v} from region {r.pattern} is not a vertex: its tight kink "
                    f"normals have rank {np.linalg.matrix_rank(tight_rows) if tight_rows.size else 0} < {D}."
                )
            found.append(v)
    verts = np.array(found).reshape(-1, D)
    n_tight = np.zeros(verts.shape[0], dtype=np.int64)
    model = problem.model
    for i, v in enumerate(verts):
        z, _, _ = model.values(model.from_public(v))  # every kink's value: hidden kinks, then residuals
        tight = np.abs(z) <= tol.feasibility * (1.0 + float(np.max(np.abs(v))))
        n_tight[i] = int(np.sum(tight))
        if n_tight[i] < D:
            raise SolverError(f"vertex {i} of the box has only {n_tight[i]} vanishing kinks; expected >= {D}.")
    return VertexCount(int(verts.shape[0]), verts, n_tight, enum.count, bool(enum.complete), c0, rad)

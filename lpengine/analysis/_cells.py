"""Hidden-cell helpers shared by the census and the vertex count: cell LPs, closure tests, optimal faces.

A hidden cell ``C_H`` of :class:`~lpengine.analysis.lossnet.LayerwiseL1Problem` is
``{θ : σ_κ z^H_κ(θ) > 0 for every live hidden kink κ}`` with ``z^H`` the cell's
affine pre-activation map; its closure relaxes ``>`` to ``>=``.  On the closure
the loss equals the convex function ``g_H(θ) = Σ ρ(r^H_i(θ))`` and
``min_{cl C_H} g_H`` is the LP of ``census.py``; its optimal set ``F_H`` (the
*optimal face*) is a polyhedron.

:func:`min_zero_point` returns a point of ``F_H`` (or of ``F_H ∩ F_H'``) at which
exactly the kinks that vanish on the whole face vanish (the smallest possible zero
set).  Why it matters (proof in the census docstring): ``F_H`` lies in the
closure of another cell iff that point does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import InvalidOptionError, SolverError
from ..lp import LinearProgram, LPStatus, open_solver
from ..tolerances import Tolerances
from .lossnet import LayerwiseL1Problem

__all__: list[str] = []


def box_arrays(box: Any, dim: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validate ``box = (lo, hi)`` (scalars or length-``dim`` vectors)."""
    try:
        lo, hi = box
    except (TypeError, ValueError) as exc:
        raise InvalidOptionError(f"box must be a pair (lo, hi). Got {box!r}.") from exc
    lo_a = np.broadcast_to(np.asarray(lo, dtype=np.float64), (dim,)).copy()
    hi_a = np.broadcast_to(np.asarray(hi, dtype=np.float64), (dim,)).copy()
    if not (np.all(np.isfinite(lo_a)) and np.all(np.isfinite(hi_a)) and np.all(lo_a < hi_a)):
        raise InvalidOptionError(f"box must satisfy lo < hi with finite entries. Got lo={lo!r}, hi={hi!r}.")
    return lo_a, hi_a


def same_point(a: NDArray[np.float64], b: NDArray[np.float64], tol: Tolerances) -> bool:
    """LP vertices are accurate to about the feasibility tolerance (scaled by ``‖θ‖_∞``)."""
    return float(np.max(np.abs(a - b))) <= tol.feasibility * (1.0 + float(np.max(np.abs(a))))


def objective_slack(value: float, tol: Tolerances) -> float:
    """Loss values within ``tol.objective · max(1, |value|)`` are equal."""
    return tol.objective * max(1.0, abs(value))


def sign_rows(
    problem: LayerwiseL1Problem, signs: NDArray[np.int8], tol: Tolerances
) -> tuple[NDArray[np.float64], NDArray[np.float64], Any]:
    """Live sign rows ``G θ >= g`` (``G = σ A``, ``g = -σ c``) of a cell, and its affine map."""
    aff = problem.hidden_network._local_affine_map(np.asarray(signs) > 0)
    A, c = aff.A, aff.c
    live = np.sqrt(np.einsum("ij,ij->i", A, A)) > tol.zero_row
    s = np.asarray(signs, dtype=np.float64)[live]
    return s[:, None] * A[live], -s * c[live], aff


def cell_lp(
    problem: LayerwiseL1Problem,
    signs: NDArray[np.int8],
    tol: Tolerances,
    lo: NDArray[np.float64] | None = None,
    hi: NDArray[np.float64] | None = None,
    extra_signs: Sequence[NDArray[np.int8]] = (),
    value_cap: float | None = None,
) -> LinearProgram:
    """LP(H): ``min Σ w₊t⁺ + w₋t⁻`` s.t. ``t⁺ - t⁻ = r^H(θ)``, the cell's sign rows, θ in the box.

    ``extra_signs`` adds the sign rows of further cells (their common closure);
    ``value_cap`` adds the row ``Σ w₊t⁺ + w₋t⁻ <= value_cap`` (the optimal face).
    """
    G, g_lo, aff = sign_rows(problem, signs, tol)
    out_A, out_c = aff.out_A, aff.out_c
    Gs, gs = [G], [g_lo]
    for other in extra_signs:
        G2, g2, _ = sign_rows(problem, other, tol)
        Gs.append(G2)
        gs.append(g2)
    G, g_lo = np.vstack(Gs), np.concatenate(gs)
    N, D = problem.n_samples, problem.dim
    eye = np.eye(N)
    cost = np.concatenate([np.zeros(D), np.full(N, problem.w_plus), np.full(N, problem.w_minus)])
    blocks = [np.hstack([out_A, -eye, eye]), np.hstack([G, np.zeros((G.shape[0], 2 * N))])]
    rhs = problem.y - out_c
    row_lower = [rhs, g_lo]
    row_upper = [rhs, np.full(G.shape[0], np.inf)]
    if value_cap is not None:
        blocks.append(cost[None, :])
        row_lower.append(np.array([-np.inf]))
        row_upper.append(np.array([value_cap]))
    col_lower = np.concatenate([np.full(D, -np.inf) if lo is None else lo, np.zeros(2 * N)])
    col_upper = np.concatenate([np.full(D, np.inf) if hi is None else hi, np.full(2 * N, np.inf)])
    return LinearProgram(
        c=cost,
        A=np.vstack(blocks),
        row_lower=np.concatenate(row_lower),
        row_upper=np.concatenate(row_upper),
        col_lower=col_lower,
        col_upper=col_upper,
    )


@dataclass(frozen=True)
class CellRows:
    """Closure test data of one cell: unit-normalised live rows, ``θ ∈ cl C_H  ⇔  G θ + g >= 0``."""

    G: NDArray[np.float64]
    g: NDArray[np.float64]

    @classmethod
    def from_region(cls, region: Any, tol: Tolerances) -> CellRows:
        A, c = region.affine.A, region.affine.c
        norms = np.sqrt(np.einsum("ij,ij->i", A, A))
        live = norms > tol.zero_row
        s = region.pattern.signs[live].astype(np.float64) / norms[live]
        return cls(s[:, None] * A[live], s * c[live])

    def contains(self, P: NDArray[np.float64], tol: Tolerances) -> NDArray[np.bool_]:
        """Which rows of ``P`` (shape (n, D)) lie in the closure (within ``tol.feasibility`` scaled)."""
        if self.G.shape[0] == 0:
            return np.ones(P.shape[0], dtype=bool)
        scale = tol.feasibility * (1.0 + np.max(np.abs(P), axis=1))
        return np.all(self.G @ P.T + self.g[:, None] >= -scale[None, :], axis=0)


def min_zero_point(
    problem: LayerwiseL1Problem,
    signs: Sequence[NDArray[np.int8]],
    value: float,
    anchor: NDArray[np.float64],
    tol: Tolerances,
    lo: NDArray[np.float64] | None = None,
    hi: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.float64], int]:
    """A point of the face ``Φ = ∩_H cl C_H ∩ {g <= value}`` with the smallest set of vanishing kinks.

    Parameters
    ----------
    signs : sequence of sign vectors
        The cells ``H`` (one: an optimal face ``F_H``; two: ``F_H ∩ F_H'``).
    value : float
        The common LP value (the cap gets ``objective_slack`` added).
    anchor : ndarray, shape (D,)
        A point of Φ (e.g. the LP's optimal vertex).

    Returns
    -------
    point : ndarray, shape (D,)
    n_lps : int
        LPs solved.

    Notes
    -----
    For every sign row tight at the current point, maximise it over
    ``Φ ∩ {‖θ - anchor‖_∞ <= 1}``; rows with a positive maximum do not vanish on
    all of Φ (a linear function ``>= 0`` on a convex set that vanishes on a
    neighbourhood of a point where it is 0 vanishes on the whole set, so the
    box loses nothing).  The average of the anchor and the maximisers is in Φ
    and keeps every such row strictly positive: its zero set is exactly the
    set of rows vanishing on Φ.
    """
    D = problem.dim
    blo = anchor - 1.0 if lo is None else np.maximum(lo, anchor - 1.0)
    bhi = anchor + 1.0 if hi is None else np.minimum(hi, anchor + 1.0)
    lp = cell_lp(problem, signs[0], tol, blo, bhi, extra_signs=signs[1:], value_cap=value + objective_slack(value, tol))
    rows = [sign_rows(problem, s, tol)[:2] for s in signs]
    G = np.vstack([r[0] for r in rows])
    g = np.concatenate([r[1] for r in rows])
    norms = np.sqrt(np.einsum("ij,ij->i", G, G))
    thresh = tol.feasibility * (1.0 + float(np.max(np.abs(anchor))))
    positive = (G @ anchor - g) / norms > thresh
    T = np.flatnonzero(~positive)
    if T.size == 0:
        return anchor.copy(), 0
    # One slack s_k in [0, 1] per row tight at the anchor, with G_k θ / ‖G_k‖ - s_k >= g_k / ‖G_k‖;
    # maximise the sum of the slacks of the rows not yet positive.  Each round either makes at
    # least one more row positive or proves (optimum 0) that the rest vanish on the whole face.
    A0 = lp.A.toarray() if hasattr(lp.A, "toarray") else np.asarray(lp.A)
    n0 = A0.shape[1]
    S = np.zeros((T.size, n0 + T.size))
    S[:, :D] = G[T] / norms[T][:, None]
    S[:, n0:] = -np.eye(T.size)
    ext = LinearProgram(
        c=np.zeros(n0 + T.size),
        A=np.vstack([np.hstack([A0, np.zeros((A0.shape[0], T.size))]), S]),
        row_lower=np.concatenate([lp.row_lower, g[T] / norms[T]]),
        row_upper=np.concatenate([lp.row_upper, np.full(T.size, np.inf)]),
        col_lower=np.concatenate([lp.col_lower, np.zeros(T.size)]),
        col_upper=np.concatenate([lp.col_upper, np.ones(T.size)]),
    )
    points = [anchor]
    n_lps = 0
    with open_solver(ext, tol=tol) as solver:
        while True:
            open_rows = np.flatnonzero(~positive[T])
            if open_rows.size == 0:
                break
            cost = np.zeros(n0 + T.size)
            cost[n0 + open_rows] = -1.0
            solver.set_cost(cost)
            res = solver.solve()
            n_lps += 1
            if res.status is not LPStatus.OPTIMAL or res.x is None:
                raise SolverError(f"optimal-face LP ended with status {res.status.value}: {res.message}")
            q = np.asarray(res.x[:D], dtype=np.float64)
            now = (G @ q - g) / norms > thresh
            if not np.any(now[T][open_rows]):
                break
            points.append(q)
            positive |= now
    return np.mean(points, axis=0), n_lps

"""Hidden-cell LPs, closure tests and optimal faces of the census, on the one model of the loss.

A hidden cell ``C_H`` of :class:`~lpengine.simplex.model.LayerwiseModel` is
``{θ : σ_κ z^H_κ(θ) > 0 for every live hidden kink κ}`` with ``z^H`` the cell's
affine pre-activation map; its closure relaxes ``>`` to ``>=``.  On the closure
the loss equals the convex function ``g_H(θ) = Σ c_i ρ(r^H_i(θ))``, and
``min_{cl C_H} g_H`` is the LP of :func:`lpengine.simplex.encoding.region_lp`
(the one cell-LP builder: the Deep ReLU Simplex's certificates solve the same
LP).  :func:`cell_program` adds what the census needs on top of it: a box, the
sign rows of further cells (a common closure) and a cap on the objective (an
optimal face ``F_H``).

:func:`min_zero_point` returns a point of ``F_H`` (or of ``F_H ∩ F_H'``) at which
exactly the kinks that vanish on the whole face vanish (the smallest possible
zero set).  Why it matters (proof in :mod:`lpengine.analysis.census`): ``F_H``
lies in the closure of another cell iff that point does.

Everything here is in the model's internal parameter layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ..exceptions import InvalidOptionError, SolverError
from ..lp import LinearProgram, LPResult, LPStatus, open_solver, solve
from ..simplex.encoding import cell_affine, region_lp
from ..simplex.model import LayerwiseModel
from ..tolerances import Tolerances

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


@dataclass(frozen=True)
class SignRows:
    """The live sign rows ``G θ >= g`` of one cell (``G = σ Q``, ``g = -σ q0``), and their kink ids.

    A row is live when its normal is not exactly zero, the rule of
    :func:`~lpengine.simplex.encoding.region_lp` (a zero normal is a kink whose
    every path is masked off: constant on the cell).
    """

    G: NDArray[np.float64]
    g: NDArray[np.float64]
    ids: NDArray[np.int64]

    @classmethod
    def of(cls, model: LayerwiseModel, signs: NDArray[np.int8]) -> SignRows:
        Q, q0, _, _ = cell_affine(model, signs)
        live = np.flatnonzero(np.linalg.norm(Q, axis=1) > 0.0) if Q.shape[0] else np.zeros(0, np.int64)
        s = signs[live].astype(np.float64)
        return cls(s[:, None] * Q[live], -s * q0[live], live.astype(np.int64))


def cell_program(
    model: LayerwiseModel,
    signs: NDArray[np.int8],
    *,
    lo: NDArray[np.float64] | None = None,
    hi: NDArray[np.float64] | None = None,
    extra_signs: Sequence[NDArray[np.int8]] = (),
    value_cap: float | None = None,
) -> LinearProgram:
    """LP(H) of :func:`~lpengine.simplex.encoding.region_lp`, θ in ``[lo, hi]``, plus census rows.

    Columns ``[θ (D), t⁺ (N), t⁻ (N)]`` and rows ``[residual rows (N), live sign rows]`` as
    ``region_lp`` builds them.  ``extra_signs`` appends the sign rows of further cells (their
    common closure); ``value_cap`` appends the row ``objective <= value_cap`` (the optimal face).
    """
    lp, D = region_lp(model, signs)
    n_res = model.N if model.loss.kinked else 0
    blocks = [lp.A]
    rlo, rhi = [lp.row_lower], [lp.row_upper]
    for other in extra_signs:
        lp2, _ = region_lp(model, other)
        blocks.append(lp2.A[n_res:])
        rlo.append(lp2.row_lower[n_res:])
        rhi.append(lp2.row_upper[n_res:])
    if value_cap is not None:
        blocks.append(sp.csc_array(lp.c[None, :]))
        rlo.append(np.array([-np.inf]))
        rhi.append(np.array([value_cap - lp.offset]))
    col_lower, col_upper = lp.col_lower.copy(), lp.col_upper.copy()
    if lo is not None:
        col_lower[:D] = lo
    if hi is not None:
        col_upper[:D] = hi
    return LinearProgram(
        c=lp.c,
        A=sp.vstack(blocks, format="csc"),
        row_lower=np.concatenate(rlo),
        row_upper=np.concatenate(rhi),
        col_lower=col_lower,
        col_upper=col_upper,
        offset=lp.offset,
    )


@dataclass(frozen=True)
class CellRows:
    """Closure test data of one cell: unit-normalised live rows, ``θ ∈ cl C_H  ⇔  G θ + g >= 0``."""

    G: NDArray[np.float64]
    g: NDArray[np.float64]

    @classmethod
    def from_region(cls, region: Any, tol: Tolerances) -> CellRows:
        """From an enumerated region of the θ-space network (its certified affine map)."""
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
    model: LayerwiseModel,
    signs: Sequence[NDArray[np.int8]],
    value: float,
    anchor: NDArray[np.float64],
    tol: Tolerances,
    lo: NDArray[np.float64] | None = None,
    hi: NDArray[np.float64] | None = None,
    *,
    exact_cap: bool = False,
) -> tuple[NDArray[np.float64], int]:
    """A point of the face ``Φ = ∩_H cl C_H ∩ {g <= value}`` with the smallest set of vanishing kinks.

    Parameters
    ----------
    model : LayerwiseModel
    signs : sequence of sign vectors
        The cells ``H`` (one: an optimal face ``F_H``; two: ``F_H ∩ F_H'``).
    value : float
        The common LP value (the cap gets ``objective_slack`` added unless ``exact_cap``).
    anchor : ndarray, shape (D,)
        A point of Φ (e.g. the LP's optimal vertex).
    tol : Tolerances
    lo, hi : ndarray, optional
        A box on θ.
    exact_cap : bool
        Cap the objective at ``value`` itself (one cell: ``value`` is that cell's LP optimum, reached
        at the anchor).  With the slack the maximisers may sit up to the slack above the face, and a
        point above the face is not a local-minimum point: the certificate (which has no objective
        tolerance) would refute it.  Two cells need the slack (their values agree only within it).

    Returns
    -------
    point : ndarray, shape (D,)
    n_lps : int
        LPs solved.

    Raises
    ------
    SolverError
        If one of the LPs ends in a status other than optimal.

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
    D = model.D
    blo = anchor - 1.0 if lo is None else np.maximum(lo, anchor - 1.0)
    bhi = anchor + 1.0 if hi is None else np.minimum(hi, anchor + 1.0)
    cap = value if exact_cap else value + objective_slack(value, tol)
    lp = cell_program(model, signs[0], lo=blo, hi=bhi, extra_signs=signs[1:], value_cap=cap)
    rows = [SignRows.of(model, s) for s in signs]
    G = np.vstack([r.G for r in rows])
    g = np.concatenate([r.g for r in rows])
    norms = np.sqrt(np.einsum("ij,ij->i", G, G))
    thresh = tol.feasibility * (1.0 + float(np.max(np.abs(anchor))))
    positive = (G @ anchor - g) / norms > thresh
    T = np.flatnonzero(~positive)
    if T.size == 0:
        return anchor.copy(), 0
    # One slack s_k in [0, 1] per row tight at the anchor, with G_k θ / ‖G_k‖ - s_k >= g_k / ‖G_k‖;
    # maximise the sum of the slacks of the rows not yet positive.  Each round either makes at
    # least one more row positive or proves (optimum 0) that the rest vanish on the whole face.
    n0 = lp.n_cols
    S = np.zeros((T.size, n0 + T.size))
    S[:, :D] = G[T] / norms[T][:, None]
    S[:, n0:] = -np.eye(T.size)
    ext = LinearProgram(
        c=np.zeros(n0 + T.size),
        A=sp.vstack([sp.hstack([lp.A, sp.csc_array((lp.A.shape[0], T.size))]), sp.csc_array(S)], format="csc"),
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


@dataclass(frozen=True)
class FaceMeeting:
    """Cell ``cell``'s closure meets the optimal face of the cell asked about, at ``point``."""

    cell: int
    point: NDArray[np.float64]


def check_meet_status(res: LPResult, i: int, k: int) -> None:
    """Only OPTIMAL (the cells meet) and INFEASIBLE (they do not) are answers; anything else is an error.

    A failed LP (iteration limit, numerical trouble, inaccurate) must not be read as "the cells do not
    meet": that would split one basin of minima in two silently.
    """
    if res.status not in (LPStatus.OPTIMAL, LPStatus.INFEASIBLE):
        raise SolverError(
            f"LP deciding whether the optimal faces of cells {i} and {k} meet ended with status "
            f"{res.status.value}: {res.message}"
        )


def faces_meeting(
    model: LayerwiseModel,
    i: int,
    others: list[int],
    signs: list[NDArray[np.int8]],
    value: float,
    tol: Tolerances,
    lo: NDArray[np.float64] | None,
    hi: NDArray[np.float64] | None,
    budget: int,
) -> tuple[list[FaceMeeting], int]:
    """Cells ``k`` of ``others`` with ``F_i ∩ cl C_k ≠ ∅`` (= ``F_i ∩ F_k`` at equal values), and LPs solved.

    With only trained-layer kinks (``model.K == 1``: every kink is the same linear function in every
    cell) one warm solver on ``F_i`` suffices: the common closure is ``F_i`` with the kinks where the
    patterns differ set to zero (row bounds).  Otherwise one LP per pair with both cells' sign rows.
    """
    cap = value + objective_slack(value, tol)
    hits: list[FaceMeeting] = []
    n_lps = 0
    D = model.D
    if model.K != 1:
        for k in others[:budget]:
            lp = cell_program(model, signs[i], lo=lo, hi=hi, extra_signs=[signs[k]], value_cap=cap)
            res = solve(lp, tol=tol)
            n_lps += 1
            check_meet_status(res, i, k)
            if res.status is LPStatus.OPTIMAL and res.x is not None:
                hits.append(FaceMeeting(k, np.asarray(res.x[:D])))
        return hits, n_lps
    lp = cell_program(model, signs[i], lo=lo, hi=hi, value_cap=cap)
    live = SignRows.of(model, signs[i]).ids
    first_row = model.N if model.loss.kinked else 0
    row_lo, row_hi = lp.row_lower, lp.row_upper
    # A sign row is a one-sided bound on z = Q θ; the finite side is the value -q0 at which z = 0.
    at_zero = np.where(np.isfinite(row_lo), row_lo, row_hi)
    with open_solver(lp, tol=tol) as solver:
        for k in others[:budget]:
            diff = np.flatnonzero(signs[i][live] != signs[k][live])
            idx = first_row + diff
            solver.set_row_bounds(idx, at_zero[idx], at_zero[idx])
            res = solver.solve()
            n_lps += 1
            solver.set_row_bounds(idx, row_lo[idx], row_hi[idx])
            check_meet_status(res, i, k)
            if res.status is LPStatus.OPTIMAL and res.x is not None:
                hits.append(FaceMeeting(k, np.asarray(res.x[:D])))
    return hits, n_lps

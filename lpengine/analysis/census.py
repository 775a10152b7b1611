"""Exact census of tiny layer-wise L1 landscapes: every hidden cell, its LP, all local minima.

The mathematical object is the loss ``L(θ)`` of :class:`~lpengine.analysis.lossnet.LayerwiseL1Problem`
over the whole parameter space R^D (or a box).  Its hidden kinks cut R^D into
*hidden cells* ``C_H``; on each, ``L`` is convex piecewise affine and equals the
optimum of the linear program (``deep_relu_simplex.md`` §3)

    LP(H):  min  Σ_i (w₊ t⁺_i + w₋ t⁻_i)
            s.t. t⁺_i - t⁻_i = r^H_i(θ)              (residual rows, affine under H)
                 σ_κ z^H_κ(θ) >= 0                   (one sign row per live hidden kink)
                 θ free (or in the box),  t⁺, t⁻ >= 0.

The census

1. enumerates every hidden cell with :func:`lpengine.regions.enumerate_regions`
   applied to the θ-space network :attr:`~LayerwiseL1Problem.hidden_network`
   (each cell certified by an interior ball);
2. solves LP(H) for every cell: ``min_H v_H`` is the **global minimum** (fact 3);
3. takes each cell's optimal vertex ``θ_H`` as a candidate local minimum and
   keeps it iff **every** enumerated cell whose closure contains it has
   ``v_H' >= L(θ_H)`` (up to ``tol.objective``).  With a complete enumeration
   this is exactly fact 2 (θ* is a local minimum iff it is LP-optimal in every
   cell containing it), so the survivors are certified local minima; a rejected
   candidate has a certificate of descent (a cell touching it with a lower LP
   value, along whose segment ``L`` decreases by convexity);
4. optionally re-certifies every survivor independently with
   :func:`certify_local_minimum` (enumerating only the cells around the point).

Limitation (documented, not hidden): only the optimal *vertices* returned by
the LPs are candidates.  A local minimum that is not the returned optimum of
any cell's LP (possible when an LP has a non-unique optimal face) is missed;
DRS end points that match no census minimum reveal such cases
(:func:`assign_basins` reports them as unmatched).

Two points are the same when ``‖θ - θ'‖_∞ <= tol.feasibility (1 + ‖θ‖_∞)``: LP
vertices are accurate to about the LP feasibility tolerance.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_array, check_int, check_scalar
from ..exceptions import InvalidOptionError, SolverError
from ..lp import LinearProgram, LPStatus, solve
from ..tolerances import Tolerances, resolve_tolerances
from .lossnet import LayerwiseL1Problem

__all__ = [
    "CellSolution",
    "LocalMinimum",
    "LandscapeCensus",
    "MinimumCertificate",
    "BasinAssignment",
    "VertexCount",
    "solve_cell",
    "landscape_census",
    "certify_local_minimum",
    "assign_basins",
    "count_vertices_in_box",
]

logger = logging.getLogger(__name__)


def _box_arrays(box: Any, dim: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    try:
        lo, hi = box
    except (TypeError, ValueError) as exc:
        raise InvalidOptionError(f"box must be a pair (lo, hi). Got {box!r}.") from exc
    lo_a = np.broadcast_to(np.asarray(lo, dtype=np.float64), (dim,)).copy()
    hi_a = np.broadcast_to(np.asarray(hi, dtype=np.float64), (dim,)).copy()
    if not (np.all(np.isfinite(lo_a)) and np.all(np.isfinite(hi_a)) and np.all(lo_a < hi_a)):
        raise InvalidOptionError(f"box must satisfy lo < hi with finite entries. Got lo={lo!r}, hi={hi!r}.")
    return lo_a, hi_a


def _same_point(a: NDArray[np.float64], b: NDArray[np.float64], tol: Tolerances) -> bool:
    return float(np.max(np.abs(a - b))) <= tol.feasibility * (1.0 + float(np.max(np.abs(a))))


@dataclass(frozen=True)
class CellSolution:
    """Optimum of LP(H) on one hidden cell.

    Attributes
    ----------
    pattern : str
        The cell's hidden pattern (``str`` of :class:`~lpengine.regions.ActivationPattern`).
    value : float
        ``min L`` over the cell (over cell ∩ box when a box is given).
    theta : ndarray, shape (D,)
        An optimal vertex.
    status : str
        The LP status (``"optimal"`` unless something went wrong).
    """

    pattern: str
    value: float
    theta: NDArray[np.float64]
    status: str


def _cell_lp(problem: LayerwiseL1Problem, signs: NDArray[np.int8], tol: Tolerances,
             lo: NDArray[np.float64] | None = None, hi: NDArray[np.float64] | None = None) -> LinearProgram:
    aff = problem.hidden_network._local_affine_map(np.asarray(signs) > 0)
    A, c, out_A, out_c = aff.A, aff.c, aff.out_A, aff.out_c
    assert out_A is not None and out_c is not None
    N, D = problem.n_samples, problem.dim
    live = np.sqrt(np.einsum("ij,ij->i", A, A)) > tol.zero_row
    s = np.asarray(signs, dtype=np.float64)[live]
    G = s[:, None] * A[live]  # σ (A θ + c) >= 0  <=>  σ A θ >= -σ c
    g_lo = -s * c[live]
    eye = np.eye(N)
    rows = np.vstack([
        np.hstack([out_A, -eye, eye]),
        np.hstack([G, np.zeros((G.shape[0], 2 * N))]),
    ])
    rhs = problem.y - out_c
    row_lower = np.concatenate([rhs, g_lo])
    row_upper = np.concatenate([rhs, np.full(G.shape[0], np.inf)])
    col_lower = np.concatenate([np.full(D, -np.inf) if lo is None else lo, np.zeros(2 * N)])
    col_upper = np.concatenate([np.full(D, np.inf) if hi is None else hi, np.full(2 * N, np.inf)])
    cost = np.concatenate([np.zeros(D), np.full(N, problem.w_plus), np.full(N, problem.w_minus)])
    return LinearProgram(c=cost, A=rows, row_lower=row_lower, row_upper=row_upper,
                         col_lower=col_lower, col_upper=col_upper)


def solve_cell(problem: LayerwiseL1Problem, signs: ArrayLike, *, box: Any = None,
               tol: Tolerances | None = None) -> CellSolution:
    """Minimise ``L`` over one hidden cell (and a box) by its LP.

    Parameters
    ----------
    problem : LayerwiseL1Problem
    signs : array_like of ±1, shape (n_hidden_kinks,)
        The cell's pattern over the units of ``problem.hidden_network``.
    box : (lo, hi), optional
        Restrict θ to ``[lo, hi]`` (scalars or length-D arrays).
    tol : Tolerances, optional

    Returns
    -------
    CellSolution
        ``value = inf`` and an empty θ when the cell (∩ box) is empty.

    Raises
    ------
    InvalidOptionError
        On a malformed pattern or box.
    SolverError
        If the LP ends in a status other than optimal or infeasible.
    """
    tol = resolve_tolerances(tol)
    n_units = problem.hidden_network.n_hidden
    sg = np.asarray(signs)
    if sg.shape != (n_units,) or not np.all(np.isin(sg, (-1, 1))):
        raise InvalidOptionError(f"signs must be a vector of ±1 of length {n_units}; got shape {sg.shape}.")
    lo = hi = None
    if box is not None:
        lo, hi = _box_arrays(box, problem.dim)
    return _solve(problem, sg.astype(np.int8), tol, lo, hi, "".join("+" if v > 0 else "-" for v in sg))


def _solve(problem: LayerwiseL1Problem, signs: NDArray[np.int8], tol: Tolerances,
           lo: NDArray[np.float64] | None, hi: NDArray[np.float64] | None, label: str) -> CellSolution:
    res = solve(_cell_lp(problem, signs, tol, lo, hi), tol=tol)
    if res.status is LPStatus.INFEASIBLE:
        return CellSolution(label, math.inf, np.zeros(0), res.status.value)
    if res.status is not LPStatus.OPTIMAL or res.x is None:
        raise SolverError(f"LP of hidden cell {label} ended with status {res.status.value}: {res.message}")
    return CellSolution(label, float(res.fun), np.array(res.x[: problem.dim]), res.status.value)


@dataclass(frozen=True)
class MinimumCertificate:
    """Outcome of :func:`certify_local_minimum` at one point.

    Attributes
    ----------
    certified : bool
        True iff every cell around θ has LP value ``>= L(θ) - tol``.
    loss : float
        ``L(θ)``.
    n_zero_kinks : int
        Hidden kinks vanishing at θ (within ``tol.feasibility``).
    n_cells : int
        Cells around θ whose LPs were solved.
    min_value : float
        Smallest LP value over those cells (``< loss`` certifies a descent).
    radius : float
        Half-width of the box ``‖θ' - θ‖_∞ <= radius`` in which the cells were enumerated.
    """

    certified: bool
    loss: float
    n_zero_kinks: int
    n_cells: int
    min_value: float
    radius: float


def _objective_slack(value: float, tol: Tolerances) -> float:
    return tol.objective * max(1.0, abs(value))


def certify_local_minimum(problem: LayerwiseL1Problem, theta: ArrayLike, *, tol: Tolerances | None = None,
                          max_halvings: int = 6) -> MinimumCertificate:
    """Certify (or refute) that ``theta`` is a local minimum of ``L`` (fact 2), locally.

    The cells around θ are enumerated in a small box ``‖θ' - θ‖_∞ <= ρ`` with
    :func:`lpengine.regions.enumerate_regions` on the θ-space hidden network;
    ``ρ`` starts at half the ∞-distance to the nearest non-vanishing hidden kink
    and is halved until every cell found contains θ in its closure.  Then
    LP(H) ∩ box is solved per cell; by convexity on each cell, θ is a local
    minimum iff no LP value is below ``L(θ)``.

    Parameters
    ----------
    problem : LayerwiseL1Problem
    theta : array_like, shape (D,)
    tol : Tolerances, optional
    max_halvings : int
        How often ρ may be halved (bent kinks of deep nets can need it).

    Returns
    -------
    MinimumCertificate

    Raises
    ------
    InvalidProblemError
        If ``theta`` has the wrong shape.
    SolverError
        If no box small enough could be found.
    """
    from ..regions import enumerate_regions

    tol = resolve_tolerances(tol)
    th = problem._check_theta(theta)
    hnet = problem.hidden_network
    L = problem.loss(th)
    z = hnet.preactivations(th)
    aff = hnet._local_affine_map(z > 0)
    g1 = np.sum(np.abs(aff.A), axis=1)
    zero = (np.abs(z) <= tol.feasibility) & (g1 > tol.zero_row)
    far = ~zero & (g1 > tol.zero_row)
    rho = 1.0
    if np.any(far):
        rho = min(rho, 0.5 * float(np.min(np.abs(z[far]) / g1[far])))
    for _ in range(check_int(max_halvings, "max_halvings", low=0) + 1):
        lo, hi = th - rho, th + rho
        enum = enumerate_regions(hnet, box=(lo, hi), tol=tol)
        ok = True
        for r in enum.regions:
            s = r.pattern.signs.astype(np.float64)
            val = s * (r.affine.A @ th + r.affine.c)
            live = np.sqrt(np.einsum("ij,ij->i", r.affine.A, r.affine.A)) > tol.zero_row
            if np.any(val[live] < -tol.feasibility * (1.0 + float(np.max(np.abs(th))))):
                ok = False
                break
        if ok:
            break
        rho *= 0.5
    else:
        raise SolverError(f"certify_local_minimum: no box around theta with only incident cells (rho={rho:g}).")
    values = [_solve(problem, r.pattern.signs, tol, lo, hi, str(r.pattern)).value for r in enum.regions]
    vmin = min(values) if values else math.inf
    certified = bool(enum.complete and vmin >= L - _objective_slack(L, tol))
    return MinimumCertificate(certified, L, int(np.sum(zero)), len(values), float(vmin), float(rho))


@dataclass(frozen=True)
class LocalMinimum:
    """One distinct local-minimum vertex found by the census.

    Attributes
    ----------
    theta : ndarray, shape (D,)
    loss : float
        ``L(θ)`` evaluated directly (not the LP value).
    n_cells : int
        Enumerated cells whose closure contains θ (all were checked).
    is_global : bool
        ``loss`` equals the global minimum within ``tol.objective``.
    verified : bool or None
        Outcome of the independent :func:`certify_local_minimum` (``None`` if not run).
    """

    theta: NDArray[np.float64]
    loss: float
    n_cells: int
    is_global: bool
    verified: bool | None


@dataclass(frozen=True)
class LandscapeCensus:
    """Result of :func:`landscape_census`.

    Attributes
    ----------
    n_cells : int
        Hidden cells enumerated (certified by interior balls).
    complete : bool
        Whether the enumeration finished (otherwise minima are only candidates
        and ``certified`` is False).
    global_min : float
        ``min_H v_H`` over the enumerated cells.
    global_theta : ndarray, shape (D,)
    minima : tuple of LocalMinimum
        Distinct local-minimum vertices, sorted by loss.
    n_minimal_sets : int
        Connected groups of minimum vertices: vertices joined by a segment on
        which ``L`` is provably constant (both in the closure of one cell whose
        LP value equals their loss) are one local minimum.  An upper bound on
        the number of distinct connected local minima.
    n_candidates : int
        Distinct optimal vertices over all cells.
    certified : bool
        ``complete`` and every independent re-certification (if run) agreed.
    cells : tuple of CellSolution
    domain : str
    lp_solves : int
    seconds : float
    dim, n_samples : int
    """

    n_cells: int
    complete: bool
    global_min: float
    global_theta: NDArray[np.float64]
    minima: tuple[LocalMinimum, ...]
    n_minimal_sets: int
    n_candidates: int
    certified: bool
    cells: tuple[CellSolution, ...]
    domain: str
    lp_solves: int
    seconds: float
    dim: int
    n_samples: int

    @property
    def n_minima(self) -> int:
        """Number of distinct local-minimum vertices."""
        return len(self.minima)

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (Python scalars and lists only)."""
        return {
            "dim": self.dim,
            "n_samples": self.n_samples,
            "domain": self.domain,
            "n_cells": self.n_cells,
            "complete": self.complete,
            "certified": self.certified,
            "global_min": self.global_min,
            "n_candidates": self.n_candidates,
            "n_minima": self.n_minima,
            "n_minimal_sets": self.n_minimal_sets,
            "n_minima_distinct_values": len({round(m.loss, 9) for m in self.minima}),
            "minima_losses": [m.loss for m in self.minima],
            "minima_verified": [m.verified for m in self.minima],
            "lp_solves": self.lp_solves,
            "seconds": self.seconds,
        }


def landscape_census(
    problem: LayerwiseL1Problem,
    *,
    box: Any = None,
    max_cells: int | None = None,
    time_limit: float | None = None,
    verify: bool = False,
    tol: Tolerances | None = None,
) -> LandscapeCensus:
    """Enumerate every hidden cell of a tiny landscape, solve its LP, and list all local minima.

    Parameters
    ----------
    problem : LayerwiseL1Problem
        A tiny problem (say ``D <= 8``, ``N <= 20``): the number of cells grows
        like ``N^D``.
    box : (lo, hi), optional
        Restrict θ to a box (cells enumerated in the box, LPs over cell ∩ box);
        default: all of R^D.  With a box, "local minimum" means relative to the
        box.
    max_cells, time_limit : optional
        Budgets for the enumeration (``complete=False`` when hit).
    verify : bool
        Re-certify every surviving minimum with :func:`certify_local_minimum`.
    tol : Tolerances, optional

    Returns
    -------
    LandscapeCensus

    Raises
    ------
    InvalidOptionError
        On a malformed box or budget.
    SolverError
        If a cell's LP fails.

    Notes
    -----
    Cost: one region enumeration over ``problem.hidden_network`` (N·Σn_l units
    in D dimensions), one LP per cell, and an ``O(cells · candidates · units · D)``
    containment check.
    """
    from ..regions import enumerate_regions

    tol = resolve_tolerances(tol)
    t0 = time.perf_counter()
    D = problem.dim
    hnet = problem.hidden_network
    lo = hi = None
    kwargs: dict[str, Any] = {"whole_space": True}
    if box is not None:
        lo, hi = _box_arrays(box, D)
        kwargs = {"box": (lo, hi)}
    elif problem.layer == problem.net.n_hidden_layers - 1:
        # Only trained-layer kinks, all hyperplanes through θ = 0: every cell is a cone with apex 0
        # and meets the unit box in a full-dimensional set, so enumerating in the box finds every
        # cell of R^D (and avoids the unbounded-domain code path); the LPs stay unboxed.
        kwargs = {"box": (-np.ones(D), np.ones(D))}
    if max_cells is not None:
        kwargs["max_regions"] = check_int(max_cells, "max_cells", low=1, error=InvalidOptionError)
    if time_limit is not None:
        kwargs["time_limit"] = check_scalar(time_limit, "time_limit", low=0.0, error=InvalidOptionError)
    enum = enumerate_regions(hnet, tol=tol, **kwargs)
    logger.info("census: %d hidden cells (%s), complete=%s", enum.count, enum.domain, enum.complete)
    cells = tuple(_solve(problem, r.pattern.signs, tol, lo, hi, str(r.pattern)) for r in enum.regions)
    lp_solves = enum.lp_solves + len(cells)
    feasible = [i for i, c in enumerate(cells) if math.isfinite(c.value)]
    if not feasible:
        raise SolverError("landscape_census: no hidden cell has a feasible LP (empty domain?).")
    g = min(feasible, key=lambda i: cells[i].value)
    global_min = cells[g].value

    # Distinct candidate vertices (the LP optima), with their direct loss values.
    cand: list[NDArray[np.float64]] = []
    for i in feasible:
        th = cells[i].theta
        if not any(_same_point(th, c, tol) for c in cand):
            cand.append(th)
    Theta = np.array(cand)
    cand_loss = np.array([problem.loss(t) for t in cand])
    alive = np.ones(len(cand), dtype=bool)
    touching = np.zeros(len(cand), dtype=np.int64)
    flat_cells: list[NDArray[np.intp]] = []  # per cell: candidates in its closure with value == cell value
    scale = tol.feasibility * (1.0 + np.max(np.abs(Theta), axis=1))
    slack = np.array([_objective_slack(v, tol) for v in cand_loss])
    for r, cs in zip(enum.regions, cells):
        if not math.isfinite(cs.value):
            continue
        A, c = r.affine.A, r.affine.c
        norms = np.sqrt(np.einsum("ij,ij->i", A, A))
        live = norms > tol.zero_row
        s = r.pattern.signs[live].astype(np.float64)
        dist = (s[:, None] * (A[live] @ Theta.T + c[live][:, None])) / norms[live][:, None]
        inside = np.all(dist >= -scale[None, :], axis=0)
        touching += inside
        alive &= ~(inside & (cs.value < cand_loss - slack))
        flat_cells.append(np.flatnonzero(inside & (np.abs(cand_loss - cs.value) <= slack)))
    minima = []
    for j in np.flatnonzero(alive):
        verified = None
        if verify:
            verified = certify_local_minimum(problem, Theta[j], tol=tol).certified
        minima.append(LocalMinimum(Theta[j].copy(), float(cand_loss[j]), int(touching[j]),
                                   bool(cand_loss[j] <= global_min + _objective_slack(global_min, tol)), verified))
    # Minimal sets: two minimum vertices in the closure of one cell whose LP value equals
    # their loss are joined by a segment in that closed convex cell on which L is convex,
    # so L equals the minimum all along it (union-find over such cells).
    parent = {int(j): int(j) for j in np.flatnonzero(alive)}

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for members in flat_cells:
        ms = [int(j) for j in members if alive[j]]
        for a in ms[1:]:
            parent[find(a)] = find(ms[0])
    roots = {find(j) for j in parent}
    n_sets = len(roots)
    minima.sort(key=lambda m: m.loss)
    certified = bool(enum.complete and all(m.verified is not False for m in minima))
    return LandscapeCensus(
        n_cells=enum.count, complete=bool(enum.complete), global_min=float(global_min),
        global_theta=cells[g].theta.copy(), minima=tuple(minima), n_minimal_sets=n_sets,
        n_candidates=len(cand),
        certified=certified, cells=cells, domain=enum.domain, lp_solves=int(lp_solves),
        seconds=time.perf_counter() - t0, dim=D, n_samples=problem.n_samples,
    )


@dataclass(frozen=True)
class BasinAssignment:
    """Which census minimum each descent run ended in.

    Attributes
    ----------
    index : ndarray of int, shape (n_runs,)
        Index into ``census.minima`` (``-1``: no census minimum at that point).
    counts : ndarray of int, shape (n_minima,)
        Runs ending in each minimum.
    fraction_global : float
        Share of runs ending in a global minimum.
    n_unmatched : int
    """

    index: NDArray[np.int64]
    counts: NDArray[np.int64]
    fraction_global: float
    n_unmatched: int


def assign_basins(census: LandscapeCensus, end_thetas: ArrayLike, *, tol: Tolerances | None = None) -> BasinAssignment:
    """Match the end points of descent runs (e.g. Deep ReLU Simplex) to the census minima.

    Parameters
    ----------
    census : LandscapeCensus
    end_thetas : array_like, shape (n_runs, D)
    tol : Tolerances, optional

    Returns
    -------
    BasinAssignment

    Raises
    ------
    ValueError
        If ``end_thetas`` has the wrong shape.
    """
    tol = resolve_tolerances(tol)
    E = check_array(end_thetas, "end_thetas", ndim=2, shape=(None, census.dim))
    idx = np.full(E.shape[0], -1, dtype=np.int64)
    for i, e in enumerate(E):
        for j, m in enumerate(census.minima):
            if _same_point(m.theta, e, tol):
                idx[i] = j
                break
    counts = np.bincount(idx[idx >= 0], minlength=len(census.minima)).astype(np.int64)
    glob = np.array([m.is_global for m in census.minima], dtype=bool)
    n_glob = int(np.sum(glob[idx[idx >= 0]])) if np.any(idx >= 0) else 0
    return BasinAssignment(idx, counts, n_glob / E.shape[0], int(np.sum(idx < 0)))


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
    c0 = problem._check_theta(center)
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
                raise SolverError(f"point {v} from region {r.pattern} is not a vertex: its tight kink "
                                  f"normals have rank {np.linalg.matrix_rank(tight_rows) if tight_rows.size else 0} < {D}.")
            found.append(v)
    verts = np.array(found).reshape(-1, D)
    n_tight = np.zeros(verts.shape[0], dtype=np.int64)
    n_hidden_kinks = problem.hidden_network.n_hidden
    for i, v in enumerate(verts):
        z = lnet.preactivations(v)[: n_hidden_kinks + problem.n_samples]
        tight = np.abs(z) <= tol.feasibility * (1.0 + float(np.max(np.abs(v))))
        n_tight[i] = int(np.sum(tight))
        if n_tight[i] < D:
            raise SolverError(f"vertex {i} of the box has only {n_tight[i]} vanishing kinks; expected >= {D}.")
    return VertexCount(int(verts.shape[0]), verts, n_tight, enum.count, bool(enum.complete), c0, rad)

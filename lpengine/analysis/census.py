"""Exact census of tiny layer-wise L1 landscapes: every hidden cell, its LP, every local minimum.

The mathematical object is the loss ``L(θ)`` of :class:`~lpengine.analysis.lossnet.LayerwiseL1Problem`
over the whole parameter space R^D (or a box).  Its hidden kinks cut R^D into
*hidden cells* ``C_H`` (a polyhedral complex); on each closed cell ``L`` equals a
convex piecewise-affine ``g_H`` and ``v_H = min_{cl C_H} L`` is the optimum of

    LP(H):  min  Σ_i (w₊ t⁺_i + w₋ t⁻_i)
            s.t. t⁺_i - t⁻_i = r^H_i(θ)              (residual rows, affine under H)
                 σ_κ z^H_κ(θ) >= 0                   (one sign row per live hidden kink)
                 θ free (or in the box),  t⁺, t⁻ >= 0,

whose optimal set in θ is the *optimal face* ``F_H``.

What is counted
---------------
A *local minimum* is a connected component of the set ``M`` of local-minimum
points of ``L`` (``L`` is constant on each component).  This is exact, not a
count of LP vertices: a component can be a segment or a flat polyhedron (dead
units give whole flat cells), and need not contain any LP vertex.

Why the count is exact (``deep_relu_simplex.md`` §3, fact 2, with complete enumeration):

1. θ is a local minimum iff ``θ ∈ F_H`` for every cell ``H`` whose closure
   contains θ (``g_H`` is convex on the convex ``cl C_H``); equivalently, for
   θ ∈ F_H: iff no cell with ``v_H' < v_H`` contains θ (such a cell has
   ``v_H' <= g_H'(θ) = L(θ)``, with equality iff θ ∈ F_H').
2. ``F_H ∩ cl C_H'`` is a face of ``F_H`` (``cl C_H ∩ cl C_H'`` is a face of
   ``cl C_H``), so ``M ∩ F_H`` is ``F_H`` minus some faces: it is non-empty iff
   no lower cell contains all of ``F_H``, and then it contains ``relint F_H``
   and is connected (a segment from any of its points to a relative-interior
   point stays in it).
3. ``F_H`` lies in ``cl C_H'`` iff a point of ``F_H`` with the smallest zero
   set of ``H``'s kinks does (:func:`~lpengine.analysis._cells.min_zero_point`;
   a face of ``cl C_H`` containing that point contains ``F_H``).  So each cell
   is decided by its LP vertex ``θ_H`` (if no lower cell contains it) or by that
   point (``D``-ish extra warm LPs, only for cells whose vertex is refuted).
4. Every component ``K`` meets some ``F_H``, and then contains ``M ∩ F_H`` for
   every cell ``H`` it meets.  Components are the classes of cells whose
   ``M ∩ F_H`` are linked: two cells are joined when a certified local-minimum
   point lies in both optimal faces (every accepted point joins all the cells
   around it), and, for the remaining pairs of equal value, when
   ``M ∩ F_H ∩ F_H' ≠ ∅`` (one LP for ``F_H ∩ F_H'``, then its smallest-zero-set
   point and the lower-cell test of 3).

Each minimum carries a representative point (an LP vertex when the component
has one), which :func:`certify_local_minimum` re-certifies independently with
``verify=True``.  Everything rests on the enumeration being complete
(``complete``) and on the ``Tolerances`` used to compare loss values and to
test closures.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._display import fmt_num, html_card, short_repr
from .._validation import check_array, check_int, check_scalar
from ..exceptions import InvalidOptionError, SolverError
from ..lp import LPStatus, open_solver, solve
from ..tolerances import Tolerances, resolve_tolerances
from ._cells import CellRows, box_arrays, cell_lp, min_zero_point, objective_slack, same_point
from .lossnet import LayerwiseL1Problem
from .vertices import VertexCount, count_vertices_in_box

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


def solve_cell(
    problem: LayerwiseL1Problem, signs: ArrayLike, *, box: Any = None, tol: Tolerances | None = None
) -> CellSolution:
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
        lo, hi = box_arrays(box, problem.dim)
    return _solve(problem, sg.astype(np.int8), tol, lo, hi, "".join("+" if v > 0 else "-" for v in sg))


def _solve(
    problem: LayerwiseL1Problem,
    signs: NDArray[np.int8],
    tol: Tolerances,
    lo: NDArray[np.float64] | None,
    hi: NDArray[np.float64] | None,
    label: str,
) -> CellSolution:
    res = solve(cell_lp(problem, signs, tol, lo, hi), tol=tol)
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


def certify_local_minimum(
    problem: LayerwiseL1Problem, theta: ArrayLike, *, tol: Tolerances | None = None, max_halvings: int = 6
) -> MinimumCertificate:
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
    certified = bool(enum.complete and vmin >= L - objective_slack(L, tol))
    return MinimumCertificate(certified, L, int(np.sum(zero)), len(values), float(vmin), float(rho))


@dataclass(frozen=True)
class LocalMinimum:
    """One local minimum: a connected component of the set of local-minimum points of ``L``.

    Attributes
    ----------
    theta : ndarray, shape (D,)
        A representative point of the component: an LP vertex of the component
        when it has one, otherwise a point of an optimal face with the smallest
        zero set (then ``n_vertices == 0``).
    loss : float
        ``L(θ)`` evaluated directly (not the LP value); ``L`` is constant on the component.
    n_cells : int
        Hidden cells whose optimal face meets the component.
    n_vertices : int
        Distinct LP vertices (one per cell LP, as HiGHS returned them) in the component.
    is_global : bool
        ``loss`` equals the global minimum within ``tol.objective``.
    verified : bool or None
        Outcome of the independent :func:`certify_local_minimum` at ``theta`` (``None`` if not run).
    """

    theta: NDArray[np.float64]
    loss: float
    n_cells: int
    n_vertices: int
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
        Whether the enumeration finished (otherwise nothing is certified).
    global_min : float
        ``min_H v_H`` over the enumerated cells.
    global_theta : ndarray, shape (D,)
    minima : tuple of LocalMinimum
        The distinct local minima (connected components of the set of local-minimum
        points), sorted by loss.
    n_minimum_vertices : int
        Distinct LP vertices that are local-minimum points (what earlier versions counted).
    n_candidates : int
        Distinct LP vertices over all cells.
    components_exact : bool
        False only if the pair budget of the component merge was exhausted (the
        number of minima is then an upper bound).
    certified : bool
        ``complete``, ``components_exact``, and every re-certification (if run) agreed.
    cells : tuple of CellSolution
    cell_minimum : ndarray of int, shape (n_cells,)
        Per cell, the index in ``minima`` of the minimum its optimal face meets (``-1``: none).
    domain : str
    lp_solves : int
        All LPs: enumeration, cell LPs and optimal-face LPs.
    face_lps : int
        LPs spent on optimal faces (cells whose LP vertex was refuted, and pair merges).
    seconds : float
    dim, n_samples : int
    """

    n_cells: int
    complete: bool
    global_min: float
    global_theta: NDArray[np.float64]
    minima: tuple[LocalMinimum, ...]
    n_minimum_vertices: int
    n_candidates: int
    components_exact: bool
    certified: bool
    cells: tuple[CellSolution, ...]
    cell_minimum: NDArray[np.int64]
    domain: str
    lp_solves: int
    face_lps: int
    seconds: float
    dim: int
    n_samples: int
    problem: LayerwiseL1Problem = field(repr=False, compare=False)
    cell_rows: tuple[CellRows, ...] = field(repr=False, compare=False)

    @property
    def n_minima(self) -> int:
        """Number of distinct local minima (connected components)."""
        return len(self.minima)

    @property
    def n_minimal_sets(self) -> int:
        """Alias of :attr:`n_minima` (the name of earlier versions, where it was an upper bound)."""
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
            "n_minima_global": sum(m.is_global for m in self.minima),
            "n_minima_without_vertex": sum(m.n_vertices == 0 for m in self.minima),
            "n_minimum_vertices": self.n_minimum_vertices,
            "minima_losses": [m.loss for m in self.minima],
            "minima_cells": [m.n_cells for m in self.minima],
            "minima_verified": [m.verified for m in self.minima],
            "components_exact": self.components_exact,
            "lp_solves": self.lp_solves,
            "face_lps": self.face_lps,
            "seconds": self.seconds,
        }

    def __repr__(self) -> str:
        return short_repr(
            "LandscapeCensus",
            [
                ("n_cells", self.n_cells),
                ("n_minima", self.n_minima),
                ("global_min", self.global_min),
                ("complete", self.complete),
                ("certified", self.certified),
            ],
        )

    def _repr_html_(self) -> str:
        """Notebook view: the census in numbers and the local minima by loss."""
        facts: list[tuple[str, Any]] = [
            ("cells", f"{self.n_cells:,d} ({'complete' if self.complete else 'INCOMPLETE'}), {self.domain}"),
            ("local minima", f"{self.n_minima:,d} ({'all certified' if self.certified else 'not all certified'})"),
            ("global minimum", self.global_min),
            ("work", f"{self.lp_solves:,d} LPs, {fmt_num(self.seconds, 3)} s"),
        ]
        rows = [(m.loss, m.n_cells, m.n_vertices, str(m.verified)) for m in sorted(self.minima, key=lambda m: m.loss)]
        return html_card(
            "LandscapeCensus",
            facts,
            header=("loss", "cells", "LP vertices", "verified"),
            rows=rows,
        )


def _pair_meets(
    problem: LayerwiseL1Problem,
    i: int,
    others: list[int],
    signs: list[NDArray[np.int8]],
    value: float,
    tol: Tolerances,
    lo: Any,
    hi: Any,
    linear: bool,
    budget: int,
) -> tuple[list[tuple[int, NDArray[np.float64]]], int]:
    """Cells ``k`` of ``others`` with ``F_i ∩ cl C_k ≠ ∅`` (= ``F_i ∩ F_k`` at equal values), each with a point.

    With linear kinks one warm solver on ``F_i`` suffices: the common closure is
    ``F_i`` with the kinks where the patterns differ set to zero (row bounds).
    """
    cap = value + objective_slack(value, tol)
    hits: list[tuple[int, NDArray[np.float64]]] = []
    n_lps = 0
    D = problem.dim
    if not linear:
        for k in others[:budget]:
            res = solve(cell_lp(problem, signs[i], tol, lo, hi, extra_signs=[signs[k]], value_cap=cap), tol=tol)
            n_lps += 1
            _check_meet_status(res, i, k)
            if res.status is LPStatus.OPTIMAL and res.x is not None:
                hits.append((k, np.asarray(res.x[:D])))
        return hits, n_lps
    lp = cell_lp(problem, signs[i], tol, lo, hi, value_cap=cap)
    A = problem.hidden_network.weights[0]
    live = np.flatnonzero(np.sqrt(np.einsum("ij,ij->i", A, A)) > tol.zero_row)
    N = problem.n_samples
    row_lo = lp.row_lower
    with open_solver(lp, tol=tol) as solver:
        for k in others[:budget]:
            diff = np.flatnonzero(signs[i][live] != signs[k][live])
            idx = N + diff
            solver.set_row_bounds(idx, row_lo[idx], row_lo[idx])
            res = solver.solve()
            n_lps += 1
            solver.set_row_bounds(idx, row_lo[idx], np.full(idx.size, np.inf))
            _check_meet_status(res, i, k)
            if res.status is LPStatus.OPTIMAL and res.x is not None:
                hits.append((k, np.asarray(res.x[:D])))
    return hits, n_lps


def _check_meet_status(res: Any, i: int, k: int) -> None:
    """Only OPTIMAL (the cells meet) and INFEASIBLE (they do not) are answers; anything else is an error.

    A failed LP (iteration limit, numerical trouble, inaccurate) must not be read as "the cells do not
    meet": that would split one basin of minima in two silently.
    """
    if res.status not in (LPStatus.OPTIMAL, LPStatus.INFEASIBLE):
        raise SolverError(
            f"LP deciding whether the optimal faces of cells {i} and {k} meet ended with status "
            f"{res.status.value}: {res.message}"
        )


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, a: int) -> int:
        p = self.parent
        while p[a] != a:
            p[a] = p[p[a]]
            a = p[a]
        return a

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _lower_cell_contains(
    point: NDArray[np.float64],
    loss: float,
    cells_idx: Any,
    values: NDArray[np.float64],
    rows: tuple[CellRows, ...],
    tol: Tolerances,
) -> bool:
    """Does a cell with LP value below ``loss`` contain ``point`` (a certificate of descent)?"""
    P = point[None, :]
    cut = loss - objective_slack(loss, tol)
    return any(values[j] < cut and bool(rows[j].contains(P, tol)[0]) for j in cells_idx)


def landscape_census(
    problem: LayerwiseL1Problem,
    *,
    box: Any = None,
    max_cells: int | None = None,
    time_limit: float | None = None,
    verify: bool = False,
    max_pair_lps: int = 200000,
    tol: Tolerances | None = None,
) -> LandscapeCensus:
    """Enumerate every hidden cell of a tiny landscape, solve its LP, and list every local minimum.

    Parameters
    ----------
    problem : LayerwiseL1Problem
        A tiny problem (say ``D <= 8``, ``N <= 20``): the number of cells grows
        like ``N^D``.
    box : (lo, hi), optional
        Restrict θ to a box (cells enumerated in the box, LPs over cell ∩ box);
        default: all of R^D.  With a box, "local minimum" means relative to the box.
    max_cells, time_limit : optional
        Budgets for the enumeration (``complete=False`` when hit).
    verify : bool
        Re-certify every minimum's representative with :func:`certify_local_minimum`.
    max_pair_lps : int
        Budget of pair LPs when merging components of equal value (see the module
        docstring, step 4); ``components_exact=False`` when hit.
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
    in D dimensions), one LP per cell, up to one warm LP per tight kink for cells
    whose LP vertex is refuted, and pair LPs for equal-valued components.
    """
    from ..regions import enumerate_regions

    tol = resolve_tolerances(tol)
    t0 = time.perf_counter()
    D = problem.dim
    hnet = problem.hidden_network
    lo = hi = None
    kwargs: dict[str, Any] = {"whole_space": True}
    if box is not None:
        lo, hi = box_arrays(box, D)
        kwargs = {"box": (lo, hi)}
    elif problem.layer == problem.net.n_hidden_layers - 1:
        # Only trained-layer kinks, all hyperplanes through θ = 0: every cell is a cone with apex 0
        # and meets the unit box in a full-dimensional set, so enumerating in the box finds every
        # cell of R^D; the LPs stay unboxed.  (Whole-space mode agrees since the kUnknown retry
        # fix of the region enumeration; the box is the cheaper of the two.)
        kwargs = {"box": (-np.ones(D), np.ones(D))}
    if max_cells is not None:
        kwargs["max_regions"] = check_int(max_cells, "max_cells", low=1, error=InvalidOptionError)
    if time_limit is not None:
        kwargs["time_limit"] = check_scalar(time_limit, "time_limit", low=0.0, error=InvalidOptionError)
    pair_budget = check_int(max_pair_lps, "max_pair_lps", low=0, error=InvalidOptionError)
    enum = enumerate_regions(hnet, tol=tol, **kwargs)
    logger.info("census: %d hidden cells (%s), complete=%s", enum.count, enum.domain, enum.complete)
    regions = enum.regions
    signs = [r.pattern.signs.astype(np.int8) for r in regions]
    cells = tuple(_solve(problem, s, tol, lo, hi, str(r.pattern)) for r, s in zip(regions, signs, strict=True))
    rows = tuple(CellRows.from_region(r, tol) for r in regions)
    values = np.array([c.value for c in cells])
    n = len(cells)
    feasible = np.flatnonzero(np.isfinite(values))
    if feasible.size == 0:
        raise SolverError("landscape_census: no hidden cell has a feasible LP (empty domain?).")
    g = int(feasible[np.argmin(values[feasible])])
    global_min = float(values[g])

    # 1. Distinct LP vertices; which cells contain each; which are local-minimum points.
    cand: list[NDArray[np.float64]] = []
    vertex_of = np.full(n, -1, dtype=np.int64)
    for i in feasible.tolist():
        th = cells[i].theta
        for j, c in enumerate(cand):
            if same_point(th, c, tol):
                vertex_of[i] = j
                break
        else:
            vertex_of[i] = len(cand)
            cand.append(th)
    Theta = np.array(cand)
    cand_loss = np.array([problem.loss(t) for t in cand])
    cut = cand_loss - np.array([objective_slack(v, tol) for v in cand_loss])
    containing: list[list[int]] = [[] for _ in cand]
    alive = np.ones(len(cand), dtype=bool)
    for i in feasible.tolist():
        inside = np.flatnonzero(rows[i].contains(Theta, tol))
        for j in inside.tolist():
            containing[j].append(int(i))
        alive[inside[values[i] < cut[inside]]] = False

    # 2. Cells whose optimal face meets M: decided by the vertex, else by the smallest-zero-set point.
    uf = _UnionFind(n)
    piece = np.zeros(n, dtype=bool)
    face_lps = 0
    reps: list[tuple[NDArray[np.float64], float, int, int]] = []  # (point, loss, vertex index or -1, a cell)
    for j in np.flatnonzero(alive).tolist():
        cs = containing[j]
        piece[cs] = True
        for i in cs[1:]:
            uf.join(cs[0], i)
        reps.append((Theta[j], float(cand_loss[j]), int(j), cs[0]))
    for i in feasible.tolist():
        if piece[i]:
            continue
        j = int(vertex_of[i])
        p, k = min_zero_point(problem, [signs[i]], float(values[i]), cells[i].theta, tol, lo, hi)
        face_lps += k
        Lp = problem.loss(p)
        # cells containing p all contain θ_H (step 3 of the module docstring)
        if _lower_cell_contains(p, Lp, containing[j], values, rows, tol):
            continue
        around = [cell for cell in containing[j] if bool(rows[cell].contains(p[None, :], tol)[0])]
        piece[around] = True
        for cell in around:
            uf.join(i, cell)
        reps.append((p, Lp, -1, int(i)))

    # 3. Merge equal-valued components whose optimal faces share a local-minimum point.
    components_exact = True
    pair_lps = 0
    linear = hnet.n_hidden_layers == 1  # every kink is the same linear function in every cell
    pieces = np.flatnonzero(piece)
    by_root: dict[int, list[int]] = {}
    for i in pieces.tolist():
        by_root.setdefault(uf.find(int(i)), []).append(int(i))
    roots = sorted(by_root, key=lambda r: values[r])
    for a_pos, ra in enumerate(roots):
        for rb in roots[a_pos + 1 :]:
            if abs(values[rb] - values[ra]) > objective_slack(float(values[ra]), tol):
                break
            if uf.find(ra) == uf.find(rb):
                continue
            joined = False
            for i in by_root[ra]:
                if pair_lps >= pair_budget:
                    components_exact = False
                    break
                hit, k = _pair_meets(
                    problem, i, by_root[rb], signs, float(values[i]), tol, lo, hi, linear, pair_budget - pair_lps
                )
                pair_lps += k
                for k2, q in hit:
                    p, k = min_zero_point(problem, [signs[i], signs[k2]], float(values[i]), q, tol, lo, hi)
                    pair_lps += k
                    if not _lower_cell_contains(p, problem.loss(p), feasible, values, rows, tol):
                        uf.join(i, k2)
                        joined = True
                        break
                if joined:
                    break
    face_lps += pair_lps

    # 4. One LocalMinimum per component.
    comp_cells: dict[int, list[int]] = {}
    for i in pieces.tolist():
        comp_cells.setdefault(uf.find(int(i)), []).append(int(i))
    comp_rep: dict[int, tuple[NDArray[np.float64], float, int]] = {}
    comp_vertices: dict[int, set[int]] = {}
    for p, Lp, j, cell in reps:
        root = uf.find(cell)
        if j >= 0:
            comp_vertices.setdefault(root, set()).add(j)
        if root not in comp_rep or (comp_rep[root][2] < 0 <= j):
            comp_rep[root] = (p, Lp, j)
    order = sorted(comp_cells, key=lambda r: (comp_rep[r][1], r))
    minima = []
    cell_minimum = np.full(n, -1, dtype=np.int64)
    for idx, root in enumerate(order):
        p, Lp, _ = comp_rep[root]
        verified = certify_local_minimum(problem, p, tol=tol).certified if verify else None
        minima.append(
            LocalMinimum(
                np.array(p),
                float(Lp),
                len(comp_cells[root]),
                len(comp_vertices.get(root, ())),
                bool(Lp <= global_min + objective_slack(global_min, tol)),
                verified,
            )
        )
        cell_minimum[comp_cells[root]] = idx
    certified = bool(enum.complete and components_exact and all(m.verified is not False for m in minima))
    logger.info(
        "census: %d local minima (%d LP vertices), %d optimal-face LPs", len(minima), int(np.sum(alive)), face_lps
    )
    return LandscapeCensus(
        n_cells=enum.count,
        complete=bool(enum.complete),
        global_min=global_min,
        global_theta=cells[g].theta.copy(),
        minima=tuple(minima),
        n_minimum_vertices=int(np.sum(alive)),
        n_candidates=len(cand),
        components_exact=components_exact,
        certified=certified,
        cells=cells,
        cell_minimum=cell_minimum,
        domain=enum.domain,
        lp_solves=int(enum.lp_solves + len(cells) + face_lps),
        face_lps=int(face_lps),
        seconds=time.perf_counter() - t0,
        dim=D,
        n_samples=problem.n_samples,
        problem=problem,
        cell_rows=rows,
    )


@dataclass(frozen=True)
class BasinAssignment:
    """Which census minimum each descent run ended in.

    Attributes
    ----------
    index : ndarray of int, shape (n_runs,)
        Index into ``census.minima`` (``-1``: the end point is not a local-minimum point
        of the census, i.e. some cell around it has a lower LP value).
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

    An end point belongs to minimum ``m`` iff it is a local-minimum point (no cell
    containing it has a lower LP value) and the cells around it belong to ``m``;
    a point anywhere on a flat minimum (not only its representative) is matched.

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
    values = np.array([c.value for c in census.cells])
    idx = np.full(E.shape[0], -1, dtype=np.int64)
    inside = np.array(
        [
            r.contains(E, tol) if math.isfinite(v) else np.zeros(E.shape[0], dtype=bool)
            for r, v in zip(census.cell_rows, values, strict=True)
        ]
    ).reshape(len(values), E.shape[0])
    for k, e in enumerate(E):
        cs = np.flatnonzero(inside[:, k])
        if cs.size == 0:
            continue
        L = census.problem.loss(e)
        if np.any(values[cs] < L - objective_slack(L, tol)):
            continue
        m = set(census.cell_minimum[cs].tolist())
        if len(m) == 1 and -1 not in m:
            idx[k] = m.pop()
    counts = np.bincount(idx[idx >= 0], minlength=len(census.minima)).astype(np.int64)
    glob = np.array([m.is_global for m in census.minima], dtype=bool)
    n_glob = int(np.sum(glob[idx[idx >= 0]])) if np.any(idx >= 0) else 0
    return BasinAssignment(idx, counts, n_glob / E.shape[0], int(np.sum(idx < 0)))

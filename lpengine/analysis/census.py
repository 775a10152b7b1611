"""Exact census of tiny layer-wise L1 landscapes: every hidden cell, its LP, every local minimum.

The mathematical object is the loss ``L(θ)`` of :class:`~lpengine.analysis.lossnet.LayerwiseL1Problem`
over the whole parameter space R^D (or a box), evaluated by its one model
(:class:`~lpengine.simplex.model.LayerwiseModel`).  Its hidden kinks cut R^D into
*hidden cells* ``C_H`` (a polyhedral complex); on each closed cell ``L`` equals a
convex piecewise-affine ``g_H`` and ``v_H = min_{cl C_H} L`` is the optimum of
the cell LP of :func:`lpengine.simplex.encoding.region_lp`

    LP(H):  min  Σ_i c_i (w₊ t⁺_i + w₋ t⁻_i)
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
has one), which :func:`~lpengine.analysis.certify_local_minimum` (the Deep ReLU
Simplex's certificate) re-certifies with ``verify=True``.  Everything rests on
the enumeration being complete (``complete``) and on the ``Tolerances`` used to
compare loss values and to test closures.

The census works in the model's internal parameter layout; every theta in the
result is in the public layout.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_int, check_scalar
from ..exceptions import InvalidOptionError, SolverError
from ..lp import LPStatus, solve
from ..simplex.model import LayerwiseModel
from ..tolerances import Tolerances, resolve_tolerances
from ._cells import CellRows, box_arrays, cell_program, faces_meeting, min_zero_point, objective_slack, same_point
from .basins import BasinAssignment, assign_basins
from .census_result import CellSolution, LandscapeCensus, LocalMinimum
from .certify import MinimumCertificate, certify_local_minimum
from .lossnet import LayerwiseL1Problem, theta_network
from .vertices import VertexCount, count_vertices_in_box

# The census's companions (results, certificate, basins, vertex counts) live in their own modules and
# are re-exported here: ``from lpengine.analysis.census import ...`` is the census toolkit in one place.
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
class _CellOptimum:
    """A cell LP's optimum in the model's internal layout (``theta`` empty when the cell is empty)."""

    value: float
    theta: NDArray[np.float64]
    status: LPStatus


@dataclass(frozen=True)
class _Representative:
    """A certified local-minimum point of a component (internal layout) and where it came from."""

    point: NDArray[np.float64]
    loss: float
    vertex: int  # index of the LP vertex, -1 for a smallest-zero-set point of an optimal face
    cell: int


def _solve_cell(
    model: LayerwiseModel,
    signs: NDArray[np.int8],
    tol: Tolerances,
    lo: NDArray[np.float64] | None,
    hi: NDArray[np.float64] | None,
    label: str,
) -> _CellOptimum:
    res = solve(cell_program(model, signs, lo=lo, hi=hi), tol=tol)
    if res.status is LPStatus.INFEASIBLE:
        return _CellOptimum(math.inf, np.zeros(0), res.status)
    if res.status is not LPStatus.OPTIMAL or res.x is None:
        raise SolverError(f"LP of hidden cell {label} ended with status {res.status.value}: {res.message}")
    return _CellOptimum(float(res.fun), np.array(res.x[: model.D]), res.status)


def _public_solution(model: LayerwiseModel, opt: _CellOptimum, label: str) -> CellSolution:
    theta = model.to_public(opt.theta) if opt.theta.size else opt.theta
    return CellSolution(label, opt.value, theta, opt.status.value)


def _internal_box(
    problem: LayerwiseL1Problem, box: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | tuple[None, None]:
    """A public ``(lo, hi)`` box, validated, in the model's internal layout (``(None, None)``: no box)."""
    if box is None:
        return None, None
    lo, hi = box_arrays(box, problem.dim)
    return problem.model.from_public(lo), problem.model.from_public(hi)


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
    model = problem.model
    sg = np.asarray(signs)
    if sg.shape != (model.n_hidden_kinks,) or not np.all(np.isin(sg, (-1, 1))):
        raise InvalidOptionError(
            f"signs must be a vector of ±1 of length {model.n_hidden_kinks}; got shape {sg.shape}."
        )
    lo, hi = _internal_box(problem, box)
    label = "".join("+" if v > 0 else "-" for v in sg)
    return _public_solution(model, _solve_cell(model, sg.astype(np.int8), tol, lo, hi, label), label)


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
        Re-certify every minimum's representative with
        :func:`~lpengine.analysis.certify_local_minimum`.
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
    Cost: one region enumeration over the θ-space network of the model's hidden
    kinks (``G·Σn_l`` units in D dimensions), one LP per cell, up to one warm LP
    per tight kink for cells whose LP vertex is refuted, and pair LPs for
    equal-valued components.
    """
    from ..regions import enumerate_regions

    tol = resolve_tolerances(tol)
    t0 = time.perf_counter()
    model = problem.model
    D = problem.dim
    hnet = theta_network(model)
    lo, hi = _internal_box(problem, box)
    kwargs: dict[str, Any] = {"whole_space": True}
    if lo is not None and hi is not None:
        kwargs = {"box": (lo, hi)}
    elif model.K == 1:
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
    labels = [str(r.pattern) for r in regions]
    opts = [_solve_cell(model, s, tol, lo, hi, lab) for s, lab in zip(signs, labels, strict=True)]
    rows = tuple(CellRows.from_region(r, tol) for r in regions)
    values = np.array([o.value for o in opts])
    n = len(opts)
    feasible = np.flatnonzero(np.isfinite(values))
    if feasible.size == 0:
        raise SolverError("landscape_census: no hidden cell has a feasible LP (empty domain?).")
    g = int(feasible[np.argmin(values[feasible])])
    global_min = float(values[g])

    # 1. Distinct LP vertices; which cells contain each; which are local-minimum points.
    cand: list[NDArray[np.float64]] = []
    vertex_of = np.full(n, -1, dtype=np.int64)
    for i in feasible.tolist():
        th = opts[i].theta
        for j, c in enumerate(cand):
            if same_point(th, c, tol):
                vertex_of[i] = j
                break
        else:
            vertex_of[i] = len(cand)
            cand.append(th)
    Theta = np.array(cand)
    cand_loss = np.array([model.loss_at(t) for t in cand])
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
    reps: list[_Representative] = []
    for j in np.flatnonzero(alive).tolist():
        cs = containing[j]
        piece[cs] = True
        for i in cs[1:]:
            uf.join(cs[0], i)
        reps.append(_Representative(Theta[j], float(cand_loss[j]), int(j), cs[0]))
    for i in feasible.tolist():
        if piece[i]:
            continue
        j = int(vertex_of[i])
        p, k = min_zero_point(model, [signs[i]], float(values[i]), opts[i].theta, tol, lo, hi, exact_cap=True)
        face_lps += k
        Lp = model.loss_at(p)
        # cells containing p all contain θ_H (step 3 of the module docstring)
        if _lower_cell_contains(p, Lp, containing[j], values, rows, tol):
            continue
        around = [cell for cell in containing[j] if bool(rows[cell].contains(p[None, :], tol)[0])]
        piece[around] = True
        for cell in around:
            uf.join(i, cell)
        reps.append(_Representative(p, Lp, -1, int(i)))

    # 3. Merge equal-valued components whose optimal faces share a local-minimum point.
    components_exact = True
    pair_lps = 0
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
                hits, k = faces_meeting(
                    model, i, by_root[rb], signs, float(values[i]), tol, lo, hi, pair_budget - pair_lps
                )
                pair_lps += k
                for hit in hits:
                    p, k = min_zero_point(model, [signs[i], signs[hit.cell]], float(values[i]), hit.point, tol, lo, hi)
                    pair_lps += k
                    if not _lower_cell_contains(p, model.loss_at(p), feasible, values, rows, tol):
                        uf.join(i, hit.cell)
                        joined = True
                        break
                if joined:
                    break
    face_lps += pair_lps

    # 4. One LocalMinimum per component.
    comp_cells: dict[int, list[int]] = {}
    for i in pieces.tolist():
        comp_cells.setdefault(uf.find(int(i)), []).append(int(i))
    comp_rep: dict[int, _Representative] = {}
    comp_vertices: dict[int, set[int]] = {}
    for rep in reps:
        root = uf.find(rep.cell)
        if rep.vertex >= 0:
            comp_vertices.setdefault(root, set()).add(rep.vertex)
        if root not in comp_rep or (comp_rep[root].vertex < 0 <= rep.vertex):
            comp_rep[root] = rep
    order = sorted(comp_cells, key=lambda r: (comp_rep[r].loss, r))
    minima = []
    cell_minimum = np.full(n, -1, dtype=np.int64)
    for idx, root in enumerate(order):
        rep = comp_rep[root]
        point = model.to_public(rep.point)
        verified = certify_local_minimum(problem, point, tol=tol).certified if verify else None
        minima.append(
            LocalMinimum(
                point,
                float(rep.loss),
                len(comp_cells[root]),
                len(comp_vertices.get(root, ())),
                bool(rep.loss <= global_min + objective_slack(global_min, tol)),
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
        global_theta=model.to_public(opts[g].theta),
        minima=tuple(minima),
        n_minimum_vertices=int(np.sum(alive)),
        n_candidates=len(cand),
        components_exact=components_exact,
        certified=certified,
        cells=tuple(_public_solution(model, o, lab) for o, lab in zip(opts, labels, strict=True)),
        cell_minimum=cell_minimum,
        domain=enum.domain,
        lp_solves=int(enum.lp_solves + n + face_lps),
        face_lps=int(face_lps),
        seconds=time.perf_counter() - t0,
        dim=D,
        n_samples=problem.n_samples,
        problem=problem,
        cell_rows=rows,
    )

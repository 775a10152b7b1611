"""Certificates of Deep ReLU Simplex vertices, checked with HiGHS LPs.

**Local-minimum certificate.**  ``theta*`` is a local minimum of ``L`` iff it
is optimal for the LP of every hidden cell containing it (``L`` is convex on
each closed hidden cell; reference notes ``deep_relu_simplex.md`` §3 fact 2).
The cells containing ``theta*`` differ only in the signs of the ``k_h`` hidden
kinks at zero: ``2**k_h`` of them.  Each cell LP is solved on the box
``|theta - theta*|_inf <= radius``; by convexity optimality on a neighbourhood
within the cell is optimality on the cell, so the box changes no answer.  Inside
the box, kinks that cannot reach zero (``|z(theta*)| > |q|_1 * radius``) are
constant-signed: their rows are dropped and their residual terms become linear
objective terms, which leaves an LP with ``D`` plus a few columns and rows.

The engine's own proof is the complete edge test (every one of the ``2D`` edge
rays has a non-negative one-sided slope), which is exact at a non-degenerate
vertex (exactly ``D`` kinks at zero); the LPs confirm it independently.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..lp import LinearProgram, LPStatus, solve
from ..tolerances import Tolerances
from .cell_lp import box_prune, cell_affine, region_lp, restrict_model, update_cell_affine
from .cell_solve import solve_box_cell
from .collapse import CollapsedUnit, loss_error_bound
from .model import LayerwiseModel

__all__ = [
    "DRSCertificate",
    "CellCheck",
    "GlobbedCells",
    "local_cell_lp",
    "box_radii",
    "check_cells",
    "check_vertex",
    "one_sided_rates",
]


@dataclass(frozen=True)
class DRSCertificate:
    """Evidence that a vertex is (or is not) a local minimum.

    Attributes
    ----------
    ray_test : bool
        No descending edge among the ``n_rays`` priced edge rays (exact one-sided slopes): all ``2D``
        rays, or the ``2(D - p c)`` rays of the live units when ``c`` units are collapsed.
    n_rays : int
        Rays in the test.
    min_slope : float
        Most negative normalised slope ``L'(theta; e)/|e|`` among those rays.
    slope_margin : float
        Bound on the rounding error of the normalised slopes (same units as ``min_slope``).  The
        ray test passes only if every slope is above ``-slope tolerance`` and, for a proof, the
        smallest slope must not be within this bound of zero (else ``certified`` is False, with
        the reason "borderline").
    degenerate : bool
        More kinks at zero than the basis holds (collapsed units' kinks excluded): the ray test
        alone is then not a proof and the cell LPs decide.
    n_tight_hidden : int
        Hidden kinks at zero, ``k_h`` (collapsed units' kinks excluded).
    log2_cells : float
        ``log2`` of the number of hidden cells meeting at the vertex (``k_h``; a float, so the
        JSON never holds a huge integer).
    n_cells_checked, n_cells_infeasible : int
        Cell LPs solved by HiGHS, and those found empty.
    sampled : bool
        Whether the checked cells are a seeded random sample (``sample_seed``)
        rather than all of them.  The tracked cell is always included.
    lp_confirmed : bool
        No checked cell LP returned a point of strictly lower loss (beyond the rounding-error
        bound of the loss evaluation), and every LP solved.
    max_lp_gap : float
        ``max(loss - LP optimum)`` over the checked cells: LP noise (HiGHS solves to ``1e-7``)
        when ``lp_confirmed``.
    box_radius : float
        Radius of the box of the cell LPs.
    basis : tuple of int
        Kink ids of the final basis (see :mod:`lpengine.simplex.model` for the numbering).
    duals : ndarray, shape (D,)
        ``lambda_i = -g_N . d_i`` from a fresh factorisation of the final basis; for
        LAD/quantile the stopping rule is ``-c_i w_minus <= lambda_i <= c_i w_plus``.
    certified : bool
        Local minimum proved on the scope: ray test passed outside the rounding margin at a
        non-degenerate vertex (or all incident cells decided by HiGHS at a degenerate one), and
        no LP found a lower loss.  Nothing sampled is ever called certified.
    reason : str
        Human-readable summary.
    scope : str
        ``"all parameters"``, or ``"live units"`` when some units are collapsed: then the proof
        covers the slice where those units stay at zero, and ``collapsed_units`` says what the
        bounded search for a descent that revives them found.
    collapsed_units : tuple of CollapsedUnit
    sample_seed : int or None
    exact_rays : int
        Rays whose slope lay within ``slope_margin`` of zero and was recomputed in exact rational
        arithmetic (:mod:`lpengine.simplex.exact`).
    settled_kinks : int
        Kinks outside the basis within the kink tolerance of zero that exact rational evaluation at
        the exact vertex showed non-zero and on their tracked side (so not at zero: the vertex may
        be non-degenerate although the float tolerance made it look degenerate).
    zero_loss : bool
        The loss is exactly 0 at the vertex of the final basis (solved and evaluated in exact
        rationals): the global minimum of an L1 / quantile loss, certified without the ray test or
        any LP (which still run, as cross-checks).
    """

    ray_test: bool
    n_rays: int
    min_slope: float
    degenerate: bool
    n_tight_hidden: int
    log2_cells: float
    n_cells_checked: int
    n_cells_infeasible: int
    sampled: bool
    sample_seed: int | None
    lp_confirmed: bool
    max_lp_gap: float
    box_radius: float
    basis: tuple[int, ...]
    duals: NDArray[np.float64]
    certified: bool
    reason: str
    scope: str = "all parameters"
    collapsed_units: tuple[CollapsedUnit, ...] = ()
    slope_margin: float = 0.0
    exact_rays: int = 0
    zero_loss: bool = False
    settled_kinks: int = 0

    @property
    def n_cells(self) -> int | None:
        """Number of hidden cells meeting at the vertex, ``2**k_h``, when it is an exact float64-safe
        integer (``k_h <= 53``); ``None`` beyond (use :attr:`log2_cells`)."""
        return 2 ** int(self.log2_cells) if math.isfinite(self.log2_cells) and self.log2_cells <= 53 else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (Python scalars; non-finite floats as ``None``; no unbounded integers)."""

        def num(v: float) -> float | None:
            return float(v) if math.isfinite(v) else None

        return {
            "certified": self.certified,
            "scope": self.scope,
            "reason": self.reason,
            "ray_test": self.ray_test,
            "n_rays": self.n_rays,
            "min_slope": num(self.min_slope),
            "slope_margin": num(self.slope_margin),
            "exact_rays": self.exact_rays,
            "settled_kinks": self.settled_kinks,
            "zero_loss": self.zero_loss,
            "degenerate": self.degenerate,
            "n_tight_hidden": self.n_tight_hidden,
            "log2_cells": num(self.log2_cells),
            "n_cells": self.n_cells,
            "n_cells_checked": self.n_cells_checked,
            "n_cells_infeasible": self.n_cells_infeasible,
            "sampled": self.sampled,
            "sample_seed": self.sample_seed,
            "lp_confirmed": self.lp_confirmed,
            "max_lp_gap": num(self.max_lp_gap),
            "box_radius": num(self.box_radius),
            "basis": [int(b) for b in self.basis],
            "duals": [float(v) for v in self.duals],
            "collapsed_units": [c.to_dict() for c in self.collapsed_units],
        }


def local_cell_lp(
    model: LayerwiseModel,
    hidden_signs: NDArray[np.int8],
    theta: NDArray[np.float64],
    radius: float,
    *,
    fixed_cols: NDArray[np.int64] | None = None,
    affine: tuple | None = None,
    linear: tuple[NDArray[np.float64], float] | None = None,
) -> LinearProgram:
    """LP of one hidden cell restricted to the box around ``theta``: :func:`~lpengine.simplex.encoding.region_lp`
    with ``prune=True`` (infeasible when the cell misses the box).

    ``fixed_cols``: internal parameter columns held at their value in ``theta`` (box of radius 0),
    e.g. the blocks of collapsed units when certifying on the live units only.  ``affine``: the
    cell's :func:`~lpengine.simplex.encoding.cell_affine` when the caller has it.  ``linear``: the
    objective term of globbed samples (:class:`GlobbedCells`).
    """
    return region_lp(
        model, hidden_signs, box=(theta, box_radii(model, radius, fixed_cols)), prune=True, affine=affine, linear=linear
    )[0]


def box_radii(model: LayerwiseModel, radius: float, fixed_cols: NDArray[np.int64] | None) -> NDArray[np.float64]:
    """Per-coordinate radii of the certificate's box: ``radius``, 0 on the ``fixed_cols``."""
    rad = np.full(model.D, float(radius))
    if fixed_cols is not None and len(fixed_cols):
        rad[fixed_cols] = 0.0
    return rad


@dataclass(frozen=True)
class GlobbedCells:
    """The incident cells' LPs at a vertex, with the samples that cannot change in the box globbed.

    Only the hidden kinks at zero differ between the cells meeting at a vertex, and a group's
    affine forms depend on its own signs only; so a group with no kink at zero, none of whose
    kinks can reach zero in the box and whose residuals keep their signs there, is the same
    linear term of the objective in every incident cell, and its rows are dropped by every
    pruned cell LP.  Such groups are summed once into ``linear`` (Portnoy and Koenker's
    "globbing", exact here: nothing globbed can change inside the box), and the cell LPs are built
    on ``model``, the other groups only; the LPs are those of
    :func:`~lpengine.simplex.encoding.region_lp` on the full model (up to the summation order of
    the globbed term).

    Attributes
    ----------
    model : LayerwiseModel
        The kept groups (:func:`~lpengine.simplex.encoding.restrict_model`).
    ids : ndarray of int, shape (G * n_hidden,)
        Hidden kink id of the full model to its id in ``model`` (-1: globbed).
    groups : ndarray of int, shape (G,)
        Group of the full model to its group in ``model`` (-1: globbed).
    affine : tuple
        ``model``'s :func:`~lpengine.simplex.encoding.cell_affine` at the vertex's cell.
    signs : ndarray of int8
        ``model``'s hidden signs at the vertex's cell.
    linear : (ndarray, float)
        The globbed samples' objective term ``c . theta + offset``.
    """

    model: LayerwiseModel
    ids: NDArray[np.int64]
    groups: NDArray[np.int64]
    affine: tuple
    signs: NDArray[np.int8]
    linear: tuple[NDArray[np.float64], float]

    @classmethod
    def build(
        cls,
        model: LayerwiseModel,
        affine: tuple,
        hidden_signs: NDArray[np.int8],
        center: NDArray[np.float64],
        rad: NDArray[np.float64],
        tight_groups: NDArray[np.int64],
    ) -> GlobbedCells | None:
        """Glob the far groups of the cell ``hidden_signs`` (``affine``) around ``center``; None: nothing to glob."""
        if model.mode != "layer" or model.K == 0:
            return None
        keep, near, empty, r = box_prune(model, affine, hidden_signs, center, rad)
        if empty:
            return None  # the cell misses the box: leave it to the full LP (which says infeasible)
        mark = np.zeros(model.G, dtype=bool)
        mark[model.kink_group[np.flatnonzero(keep)]] = True
        mark[model.group[near]] = True
        mark[tight_groups] = True
        if mark.all():
            return None
        rel = np.flatnonzero(mark)
        Q, q0, U, o = affine
        far = ~mark[model.group]
        lw = model.loss
        w = model.c[far] * (np.where(r[far] > 0, lw.w_plus, -lw.w_minus) if lw.kinked else lw.w_plus)
        gf = model.group[far]
        linear = (w @ U[gf], float(w @ (o[gf] - model.y[far])))
        sub = restrict_model(model, rel)
        old = model.hidden_ids[rel].ravel()
        new = sub.hidden_ids.ravel()
        ids = np.full(model.n_hidden_kinks, -1, dtype=np.int64)
        ids[old] = new
        groups = np.full(model.G, -1, dtype=np.int64)
        groups[rel] = np.arange(rel.size)
        Qs = np.empty((sub.n_hidden_kinks, model.D))
        q0s = np.empty(sub.n_hidden_kinks)
        Qs[new] = Q[old]
        q0s[new] = q0[old]
        signs = np.empty(sub.n_hidden_kinks, dtype=np.int8)
        signs[new] = hidden_signs[old]
        return cls(sub, ids, groups, (Qs, q0s, U[rel], o[rel]), signs, linear)


@dataclass(frozen=True)
class CellCheck:
    """What the HiGHS cell LPs at a vertex found (internal; summarised in :class:`DRSCertificate`).

    Attributes
    ----------
    log2_cells : float
        ``log2`` of the number of sign choices of the tight hidden kinks (``k_h``).
    checked, infeasible : int
        Cell LPs solved, and cells found empty (by HiGHS or by a constant-signed row).
    sampled : bool
        A seeded sample of the cells rather than all of them.
    ok : bool
        Every LP solved to optimality and none found a point of lower loss.
    max_gap : float
        ``max(loss - LP optimum)`` over the solved LPs (``nan`` if none): LP noise when ``ok``.
    best_x : ndarray or None
        A point of strictly lower loss (internal layout) when one was found.
    failed : int
        LPs that ended neither optimal nor infeasible (an ``ok`` check needs none).
    """

    log2_cells: float
    checked: int
    infeasible: int
    sampled: bool
    ok: bool
    max_gap: float
    best_x: NDArray[np.float64] | None
    failed: int


def check_cells(
    model: LayerwiseModel,
    theta: NDArray[np.float64],
    signs: NDArray[np.int8],
    tight_hidden: NDArray[np.int64],
    loss: float,
    *,
    max_cells: int,
    seed: int | None,
    radius: float,
    tol: Tolerances,
    backend: str = "highs",
    sample_size: int | None = None,
    fixed_cols: NDArray[np.int64] | None = None,
    poll: Callable[[], None] | None = None,
    at_zero: float = 0.0,
) -> CellCheck:
    """Solve the box-restricted LPs of the hidden cells at ``theta``.

    All ``2**k`` cells when there are at most ``max_cells``, otherwise a seeded
    sample of ``sample_size`` (default ``max_cells``) cells.

    A cell *voids* the vertex when its LP returns a point whose loss, evaluated
    exactly as the walk evaluates losses, is below ``loss`` by more than the
    rounding-error bound of the two evaluations
    (:func:`~lpengine.simplex.collapse.loss_error_bound`): no objective
    tolerance can hide a real gap.  An LP optimum below ``loss`` whose point
    does not have a lower loss is LP noise (HiGHS solves to ``1e-7``); it is
    reported in ``max_gap`` and does not void the vertex.  An LP that ends
    neither optimal nor infeasible makes the check fail (``ok=False``).  ``poll`` is called before
    every cell (the run's budget: it may raise to end the check).

    Far groups are globbed (:class:`GlobbedCells`) and each cell's pruned LP is solved by a growing
    working set of rows (:func:`~lpengine.simplex.cell_solve.solve_box_cell`; rows and residuals
    within ``at_zero`` of zero at ``theta`` start in it); both give the pruned LP's own answer.
    """
    if sample_size is None:
        sample_size = max_cells
    k = int(tight_hidden.size)
    hs = signs[: model.n_hidden_kinks].copy()
    if k < 63 and 2**k <= max_cells:
        n_cells = 2**k
        choices = [np.array([(b >> j) & 1 for j in range(k)], dtype=bool) for b in range(n_cells)]
        sampled = False
    else:
        # Sample full-dimensional incident cells: the cell entered along a seeded random direction
        # (signs of the tight kinks' one-sided rates), so every sample is a real cell.
        rng = np.random.default_rng(seed)
        U = rng.standard_normal((sample_size - 1, model.D))
        if fixed_cols is not None and len(fixed_cols):
            U[:, fixed_cols] = 0.0
        rates = one_sided_rates(model, theta, signs, tight_hidden, U)
        choices = [hs[tight_hidden] > 0] + [row > 0 for row in rates]
        sampled = True
    err0 = loss_error_bound(model, theta)
    checked = infeasible = failed = 0
    max_gap = -math.inf
    best_x, best_loss = None, loss
    base = cell_affine(model, hs)
    _, tight_groups, _ = model.decode(tight_hidden)
    rad = box_radii(model, radius, fixed_cols)
    globbed = GlobbedCells.build(model, base, hs, theta, rad, tight_groups)
    linear = None
    cmodel, c_hs, c_base, c_tight, c_groups = model, hs, base, tight_hidden, tight_groups
    if globbed is not None:
        cmodel, c_hs, c_base, linear = globbed.model, globbed.signs, globbed.affine, globbed.linear
        c_tight, c_groups = globbed.ids[tight_hidden], globbed.groups[tight_groups]
    for ch in choices:
        cell = c_hs.copy()
        cell[c_tight] = np.where(ch, 1, -1).astype(np.int8)
        flipped = np.unique(c_groups[cell[c_tight] != c_hs[c_tight]])
        aff = update_cell_affine(cmodel, c_base, cell, flipped)
        if poll is not None:
            poll()
        res = solve_box_cell(
            cmodel, cell, theta, rad, tol=tol, backend=backend, affine=aff, linear=linear, at_zero=at_zero
        )
        checked += 1
        if res.status is LPStatus.INFEASIBLE:
            infeasible += 1
            continue
        if res.status is not LPStatus.OPTIMAL or res.x is None:
            failed += 1
            continue
        max_gap = max(max_gap, loss - float(res.fun))
        if res.fun < best_loss:
            x = np.array(res.x[: model.D])
            if fixed_cols is not None and len(fixed_cols):
                x[fixed_cols] = theta[fixed_cols]
            true = model.loss_at(x)
            if true < best_loss - err0 - loss_error_bound(model, x):
                best_x, best_loss = x, true
    return CellCheck(
        log2_cells=float(k),
        checked=checked,
        infeasible=infeasible,
        sampled=sampled,
        ok=bool(best_x is None and failed == 0 and checked > 0),
        max_gap=max_gap if checked > infeasible else math.nan,
        best_x=best_x,
        failed=failed,
    )


def one_sided_rates(
    model: LayerwiseModel,
    theta: NDArray[np.float64],
    signs: NDArray[np.int8],
    tight_hidden: NDArray[np.int64],
    U: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Rates of the tight hidden kinks along directions ``U`` (R, D), with one-sided ReLU rules."""
    if U.shape[0] == 0:
        return np.zeros((0, tight_hidden.size))
    G = model.G
    _, grp, _ = model.decode(tight_hidden)
    C = np.unique(grp)
    tight = np.zeros(model.M, dtype=bool)
    tight[tight_hidden] = True
    zd = model.z0_dot(U, rows=C)
    out = np.zeros((U.shape[0], model.n_hidden_kinks))
    masks = model.masks(signs)
    for l in range(model.K):
        blk = slice(G * model.off[l], G * model.off[l + 1])
        ids = (np.arange(G * model.off[l], G * model.off[l + 1]).reshape(G, model.widths[l]))[C]
        out[:, ids.ravel()] = zd.reshape(U.shape[0], -1)
        tl = tight[blk].reshape(G, model.widths[l])[C]
        m = np.where(tl, zd > 0, masks[l][C])
        a = np.where(m, zd, 0.0)
        if l + 1 < model.K:
            zd = a @ model.hidden_W[l].T
    return out[:, tight_hidden]


def check_vertex(
    model: LayerwiseModel,
    theta: NDArray[np.float64],
    signs: NDArray[np.int8],
    B: NDArray[np.int64],
    loss: float,
    *,
    tol: Tolerances,
    backend: str = "highs",
) -> tuple[float, float]:
    """HiGHS check of one vertex on its full region LP (verify mode).

    Fixes the basis kinks at zero in the LP of the tracked hidden cell; the
    optimum must be the engine's ``theta`` (unique: ``D`` independent equalities)
    and the objective its loss.  Returns ``(max |theta_lp - theta|, |fun - loss|)``
    (``inf`` when HiGHS finds no optimum).
    """
    nhk = model.n_hidden_kinks
    hid = B[B < nhk]
    res_ = B[B >= nhk] - nhk
    lp, D = region_lp(model, signs[:nhk], fix_hidden=hid, fix_residual=res_)
    out = solve(lp, backend=backend, tol=tol)
    if out.status is not LPStatus.OPTIMAL or out.x is None:
        return math.inf, math.inf
    return float(np.max(np.abs(out.x[:D] - theta))), abs(out.fun - loss)

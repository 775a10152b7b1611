"""Collapsed units of the layer-wise walk: detection by an exact decision, and a bounded revival search.

A *collapsed unit* ``k`` of the trained layer has weights and bias all zero,
``theta_k = (w_k, b_k) = 0``: every data point is then one of its kinks
(``z_{ik} = h_i . theta_k = 0`` for all ``i``), a maximally degenerate vertex
of the loss.  The L1 walk is attracted to such points (shrinking a harmful
unit's cone to its apex lowers the loss linearly), and a simplex walk that
treats the ``N`` coincident kinks like any others makes zero-length pivots
there for ever (reference notes ``exact_and_scale.md`` §3).

**Exact decision.**  A trained-layer kink ``z_{gk} = h_g . theta_k`` is a
homogeneous linear function of the unit's block only.  If the basis of a
vertex holds ``p = n_in + 1`` kinks of unit ``k`` whose feature rows ``h_g``
are linearly independent, the basis equations ``h_g . theta_k = 0`` force
``theta_k = 0`` *exactly*: the unit is collapsed, whatever rounding left in
the float iterate (typically ``1e-12``), and the engine sets the block to
exact zeros.  Independence is decided in exact rational arithmetic (every
float is a rational number), never by a float threshold.

**After the decision.**  The basis is block triangular (the unit's ``p`` rows
live in its block only), so the edge rays of the *other* basis kinks keep
``theta_k = 0``: the walk continues on the live units' parameters alone and
its complete ray test certifies local minimality on the slice
``{theta_k = 0}``.  Whether some direction of the unit's own parameters
descends is a single-neuron fitting problem (the loss near the apex is
``L + g(u) + o(|u|)`` with ``g`` positively homogeneous and piecewise linear
on the central arrangement ``{u : u . h_i = 0}``, ``O(N^{p-1})`` cells):
:func:`search_revival` answers it by a bounded, seeded search over some of
those cells and says how many it solved.  It never claims that no descent
exists.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..lp import LPStatus, solve
from ..roundoff import gamma
from ..tolerances import Tolerances
from .model import LayerwiseModel
from .pivot import group_sums

logger = logging.getLogger(__name__)

__all__ = ["CollapsedUnit", "exact_full_row_rank", "collapsed_units_of_basis", "search_revival", "loss_error_bound"]

#: Outcome of the revival search of a collapsed unit.
REVIVED = "revived"


@dataclass(frozen=True)
class CollapsedUnit:
    """A trained-layer unit held at exact zero at the final vertex, and what the revival search found.

    Attributes
    ----------
    unit : int
        Index of the unit in the trained layer.
    outcome : str
        ``"revived"`` (a cell LP found a point of lower loss with the unit switched on; the walk went on
        from there) or ``"no descent found in K cells"`` (a bounded search, not a proof).
    cells_searched : int
        Distinct cells of the unit's central arrangement whose LPs were solved.
    min_ray_slope : float
        Smallest exact one-sided slope (per unit length) of the unit's own ``2p`` edge rays at the
        vertex (``nan`` when the rays were not priced).
    """

    unit: int
    outcome: str
    cells_searched: int
    min_ray_slope: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {
            "unit": self.unit,
            "outcome": self.outcome,
            "cells_searched": self.cells_searched,
            "min_ray_slope": None if not math.isfinite(self.min_ray_slope) else self.min_ray_slope,
        }


def exact_full_row_rank(rows: NDArray[np.float64]) -> bool:
    """Whether the rows of a small float matrix are linearly independent, decided in exact rationals.

    Each float64 is read as the rational number it represents; fraction-exact Gaussian elimination
    (no pivoting threshold: a pivot is zero or it is not).
    """
    m = [[Fraction(float(v)) for v in r] for r in np.asarray(rows)]
    n_rows = len(m)
    n_cols = len(m[0]) if n_rows else 0
    rank = 0
    for col in range(n_cols):
        piv = next((r for r in range(rank, n_rows) if m[r][col] != 0), None)
        if piv is None:
            continue
        m[rank], m[piv] = m[piv], m[rank]
        for r in range(rank + 1, n_rows):
            if m[r][col] != 0:
                f = m[r][col] / m[rank][col]
                m[r] = [a - f * b for a, b in zip(m[r], m[rank], strict=True)]
        rank += 1
        if rank == n_rows:
            break
    return rank == n_rows


def collapsed_units_of_basis(model: LayerwiseModel, B: NDArray[np.int64], known: list[int] | None = None) -> list[int]:
    """Trained-layer units pinned to exact zero by the basis ``B`` (see the module docstring).

    Only defined when the trained layer is a hidden layer of a network in data mode (``K > 0``);
    otherwise no unit can collapse and the list is empty.  Units in ``known`` are not re-tested
    (and not returned).
    """
    if model.H is None or model.K == 0 or B.size == 0:  # not layer mode, or no hidden trained layer
        return []
    H = model.H
    layer, grp, unit = model.decode(B)
    first = layer == 0
    out = []
    counts = np.bincount(unit[first], minlength=model.n_units)
    for u in np.flatnonzero(counts >= model.p):
        if known and int(u) in known:
            continue
        g = grp[first & (unit == u)]
        if exact_full_row_rank(H[g]):
            out.append(int(u))
    return out


def unit_columns(model: LayerwiseModel, units: list[int]) -> NDArray[np.int64]:
    """Internal parameter columns of the given trained-layer units (neuron-major layout)."""
    if not units:
        return np.zeros(0, np.int64)
    return np.concatenate([np.arange(u * model.p, (u + 1) * model.p) for u in units]).astype(np.int64)


def unit_kinks(model: LayerwiseModel, units: list[int]) -> NDArray[np.int64]:
    """Flat ids of the trained-layer kinks of the given units (all groups)."""
    if not units or model.K == 0:
        return np.zeros(0, np.int64)
    return np.concatenate([model.hidden_ids[:, u] for u in units]).astype(np.int64)


def loss_error_bound(model: LayerwiseModel, theta: NDArray[np.float64]) -> float:
    """First-order bound on the rounding error of the float loss at ``theta``.

    Every dot product of length ``n`` carries an error at most ``gamma_n`` times the sum of the
    absolute values of its terms (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1);
    an absolute-value forward pass bounds those sums layer by layer, and the final sum over the
    ``N`` residuals adds ``gamma_N``.  The bound is used to decide whether a point found by an LP
    has a *strictly* lower loss, instead of an objective tolerance.
    """
    masks = None
    zs, _ = model.forward(theta, masks)
    depth_terms = model.p + 2 + sum(model.widths) if model.K else model.p + 2
    # Absolute-value pass: |H| |Theta|^T, then |W| through the (true) masks.
    if model.H is not None:  # layer mode
        a = np.abs(model.H) @ np.abs(theta.reshape(model.n_units, model.p).T)
    else:
        assert model.W_in is not None and model.b_in is not None  # input mode
        a = (np.abs(model.W_in) @ np.abs(theta) + np.abs(model.b_in))[None, :]
    if model.K:
        assert model.out_W is not None and model.out_b is not None  # K > 0
        for l in range(model.K):
            m = zs[l] > 0
            a = np.where(m, a, 0.0)
            if l + 1 < model.K:
                a = a @ np.abs(model.hidden_W[l]).T + np.abs(model.hidden_b[l])
            else:
                a = a @ np.abs(model.out_W[0]) + abs(float(model.out_b[0]))
    else:
        a = a[:, 0]
    mag = float(model.c @ (a[model.group] + np.abs(model.y)))
    return 2.0 * gamma(depth_terms + model.N) * mag


def cell_slopes(
    model: LayerwiseModel,
    theta: NDArray[np.float64],
    signs: NDArray[np.int8],
    cells: list[NDArray[np.int8]],
    dirs: list[NDArray[np.float64]],
    fixed: NDArray[np.int64],
    *,
    at_zero: float = 0.0,
) -> NDArray[np.float64]:
    """One-sided rate of the loss at ``theta`` along ``dirs[j]`` (per unit length), on hidden cell ``cells[j]``.

    On a cell the outputs are affine in ``theta``, so the rate of output ``g`` along ``v`` is one
    forward-mode pass under the cell's masks; a residual away from zero contributes its loss
    weight times that rate, a residual within ``at_zero`` of zero its one-sided rate
    ``w_plus max(rate, 0) + w_minus max(-rate, 0)`` (never negative).  When ``theta + t v`` lies in
    the cell for small ``t > 0`` (the candidates are built so), a negative value means the loss
    descends along ``v`` there, so the cell's LP finds a lower loss.  It is a screen that orders
    LPs, not a decision: floating point, and the columns in ``fixed`` are zeroed in the directions.
    """
    _, r, _ = model.values(theta, model.masks(signs))
    lw = model.loss
    pos, neg = r > at_zero, r < -at_zero
    zero = ~(pos | neg)
    out = np.full(len(cells), math.inf)
    for j, (hs, v) in enumerate(zip(cells, dirs, strict=True)):
        v = v.copy()
        v[fixed] = 0.0
        nv = float(np.linalg.norm(v))
        if nv == 0.0:
            continue
        _, od = model.jvp(v, model.masks(hs))
        rate = od[model.group]
        term = np.where(pos, lw.w_plus * rate, -lw.w_minus * rate)
        term[zero] = lw.w_plus * np.maximum(rate[zero], 0.0) + lw.w_minus * np.maximum(-rate[zero], 0.0)
        out[j] = float(model.c @ term) / nv
    return out


@dataclass(frozen=True)
class RevivalSearch:
    """Result of :func:`search_revival` (internal)."""

    cells: int
    best_x: NDArray[np.float64] | None
    best_loss: float


def search_revival(
    model: LayerwiseModel,
    theta: NDArray[np.float64],
    signs: NDArray[np.int8],
    loss: float,
    unit: int,
    collapsed: list[int],
    live_tight_hidden: NDArray[np.int64],
    *,
    ray_dirs: NDArray[np.float64],
    n_directions: int,
    seed: int | None,
    radius: float,
    tol: Tolerances,
    backend: str = "highs",
    max_walls: int = 32,
    poll: Callable[[], None] | None = None,
    at_zero: float = 0.0,
    screen: bool = True,
) -> RevivalSearch:
    """Bounded search for a descent that switches the collapsed ``unit`` back on.

    Candidate cells of the unit's central arrangement (signs of ``h_g . u`` for every group ``g``)
    come from directions ``u`` of the unit's block: the block parts of the unit's own edge rays
    ``ray_dirs`` (shape ``(R, D)``, the full rays, whose other components keep the live basis
    kinks at zero), ``n_directions`` seeded Gaussian directions, and the *pull* direction
    ``-sum_g w_g h_g`` with ``w_g`` the loss weight of group ``g`` times its output sensitivity
    to the unit (the cell that switches the unit on where that lowers the loss, as far as one
    halfspace allows), plus every cell across one wall of the best cell found.  Each distinct
    cell's LP on the box ``|theta' - theta|_inf <= radius`` (other collapsed units fixed at zero)
    is solved; the live units' tight kinks take the signs of their one-sided rates along the
    direction.  A point whose loss, evaluated exactly as the walk does, is below ``loss`` by more
    than the rounding-error bound of both evaluations is a revival.  ``poll`` is called before every LP
    (the run's budget: it may raise to end the search).  Each cell's pruned LP is solved by a growing
    working set of rows (:func:`~lpengine.simplex.cell_solve.solve_box_cell`): the unit's ``N`` kinks at
    zero enter it only where the LP's point violates them; other rows and residuals within ``at_zero``
    of zero start in it.

    With ``screen`` (the default) the candidate cells are first ordered by :func:`cell_slopes`, the
    one-sided rate of the loss at ``theta`` along each candidate's direction inside its cell
    (``O(N)`` each): the cells where the loss descends at ``theta`` are solved first, steepest
    first, then the others in their original order.  The screen only reorders: the cells whose LPs
    are solved when no revival exists are the same, and ``cells`` counts solved LPs.  At
    N = 100,000 (first-layer benchmark, seed 1) it finds the revival in 1 cell instead of 8-15.
    """
    from .cell_solve import solve_box_cell
    from .certificate import box_radii, local_cell_lp, one_sided_rates

    rng = np.random.default_rng(seed)
    p, D = model.p, model.D
    H = model.H
    assert H is not None  # collapsed units exist in layer mode only
    cols = np.arange(unit * p, (unit + 1) * p)
    ids = model.hidden_ids[:, unit]
    dirs = [np.asarray(r, dtype=np.float64) for r in ray_dirs]
    for _ in range(n_directions):
        v = np.zeros(D)
        v[cols] = rng.standard_normal(p)
        dirs.append(v)
    # Pull direction: w_g = gbar_g * d out_g / d a_{g,unit} under the tracked masks.
    nhk = model.n_hidden_kinks
    rs = signs[nhk:]
    rho = model.c * np.where(rs > 0, model.loss.w_plus, -model.loss.w_minus)
    S = model.zbar_pre(group_sums(model, rho), model.fmasks(signs))[:, unit]
    v = np.zeros(D)
    v[cols] = -(S @ H)
    if np.any(v):
        dirs.append(v)
    fixed = unit_columns(model, [u for u in collapsed if u != unit])
    rad = box_radii(model, radius, fixed)
    err0 = loss_error_bound(model, theta)
    seen: set[bytes] = set()
    best_x, best_loss = None, loss
    best_cell: NDArray[np.int8] | None = None
    best_cell_x: NDArray[np.float64] | None = None
    best_val = math.inf

    def solve_cell(hs: NDArray[np.int8]) -> None:
        nonlocal best_x, best_loss, best_cell, best_cell_x, best_val
        key = np.packbits(hs > 0).tobytes()
        if key in seen:
            return
        seen.add(key)
        if poll is not None:
            poll()
        res = solve_box_cell(model, hs, theta, rad, tol=tol, backend=backend, at_zero=at_zero, exclude=ids)
        if res.status is LPStatus.OPTIMAL and res.x is not None and res.fun < best_loss:
            # A candidate revival: the walk restarts from this cell's point, so take it from the cell's full
            # pruned LP (a basic optimum of the whole cell LP, as before the working set; the working set's
            # optimum has the same value but may be another optimal point, and the walk from there another
            # walk).  The working set screens the cells; the full LP is solved only here.
            res = solve(local_cell_lp(model, hs, theta, radius, fixed_cols=fixed), backend=backend, tol=tol)
        if res.status is not LPStatus.OPTIMAL or res.x is None:
            return
        if res.fun < best_val:
            best_val, best_cell, best_cell_x = float(res.fun), hs, np.array(res.x[:D])
        if res.fun < best_loss:
            x = np.array(res.x[:D])
            x[fixed] = 0.0
            true = model.loss_at(x)
            if true < best_loss - err0 - loss_error_bound(model, x):
                best_x, best_loss = x, true

    base = signs[:nhk].copy()
    cands: list[NDArray[np.int8]] = []
    for v in dirs:
        zu = H @ v[cols]
        hs = base.copy()
        hs[ids] = np.where(zu > 0, 1, -1).astype(np.int8)
        if live_tight_hidden.size:
            rates = one_sided_rates(model, theta, signs, live_tight_hidden, v[None, :])[0]
            nz = rates != 0.0
            hs[live_tight_hidden[nz]] = np.where(rates[nz] > 0, 1, -1).astype(np.int8)
        cands.append(hs)
    order = list(range(len(cands)))
    if screen and cands:
        slopes = cell_slopes(model, theta, signs, cands, dirs, fixed, at_zero=at_zero)
        neg = [i for i in np.argsort(slopes, kind="stable").tolist() if slopes[i] < 0.0]
        order = neg + [i for i in order if slopes[i] >= 0.0 or not math.isfinite(slopes[i])]
        logger.debug("revival screen of unit %d: %d of %d candidate cells descend at theta", unit, len(neg), len(cands))
    for i in order:
        solve_cell(cands[i])
        if best_x is not None:
            return RevivalSearch(len(seen), best_x, best_loss)
    # Cells across one wall of the best cell: the unit's kinks at zero at that cell's LP optimum
    # (the walls the optimum leans on), one flipped at a time, at most ``max_walls`` of them.
    if best_cell is not None and best_cell_x is not None:
        zu = H @ best_cell_x[cols]
        scale = float(np.abs(H).sum(axis=1).max()) * max(float(np.abs(best_cell_x[cols]).max()), radius)
        walls = np.flatnonzero(np.abs(zu) <= tol.kink * scale)
        for g in walls[:max_walls]:
            hs = best_cell.copy()
            hs[ids[g]] = -hs[ids[g]]
            solve_cell(hs)
            if best_x is not None:
                break
    return RevivalSearch(len(seen), best_x, best_loss)

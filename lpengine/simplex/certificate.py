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
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..lp import LinearProgram, LPStatus, solve
from ..tolerances import Tolerances
from .encoding import cell_affine, region_lp
from .model import LayerwiseModel

__all__ = ["DRSCertificate", "local_cell_lp", "check_cells", "check_vertex"]


@dataclass(frozen=True)
class DRSCertificate:
    """Evidence that a vertex is (or is not) a local minimum.

    Attributes
    ----------
    ray_test : bool
        No descending edge among all ``n_rays = 2D`` edge rays (exact one-sided slopes).
    min_slope : float
        Most negative normalised ray slope ``L'(theta; e)/|e|``.
    degenerate : bool
        More than ``D`` kinks at zero: the edge test alone is then not a proof.
    n_tight_hidden : int
        Hidden kinks at zero, ``k_h``; ``n_cells = 2**k_h`` hidden cells meet at the vertex.
    n_cells_checked, n_cells_infeasible : int
        Cell LPs solved by HiGHS, and those found empty.
    sampled : bool
        Whether the checked cells are a seeded random sample (``sample_seed``)
        rather than all ``n_cells``.  The tracked cell is always included.
    lp_confirmed : bool
        Every checked cell LP has optimum ``>= loss - objective tolerance``.
    max_lp_gap : float
        ``max(loss - LP optimum)`` over the checked cells (``<= 0`` up to rounding when confirmed).
    box_radius : float
        Radius of the box of the cell LPs.
    basis : tuple of int
        Kink ids of the final basis (see :mod:`lpengine.simplex.model` for the numbering).
    duals : ndarray, shape (D,)
        ``lambda_i = -g_N . d_i``; for LAD/quantile the stopping rule is ``-c_i w_minus <= lambda_i <= c_i w_plus``.
    certified : bool
        ``ray_test and lp_confirmed and (not degenerate or not sampled)``.
    reason : str
        Human-readable summary.
    """

    ray_test: bool
    n_rays: int
    min_slope: float
    degenerate: bool
    n_tight_hidden: int
    n_cells: int
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every field as a Python scalar or list (``n_cells`` stays an exact int)."""
        return {
            "certified": self.certified,
            "ray_test": self.ray_test,
            "n_rays": self.n_rays,
            "min_slope": float(self.min_slope),
            "degenerate": self.degenerate,
            "n_tight_hidden": self.n_tight_hidden,
            "n_cells": int(self.n_cells),
            "n_cells_checked": self.n_cells_checked,
            "n_cells_infeasible": self.n_cells_infeasible,
            "sampled": self.sampled,
            "sample_seed": self.sample_seed,
            "lp_confirmed": self.lp_confirmed,
            "max_lp_gap": float(self.max_lp_gap),
            "box_radius": float(self.box_radius),
            "basis": [int(b) for b in self.basis],
            "duals": [float(v) for v in self.duals],
            "reason": self.reason,
        }


def local_cell_lp(
    model: LayerwiseModel, hidden_signs: NDArray[np.int8], theta: NDArray[np.float64], radius: float
) -> LinearProgram | None:
    """LP of one hidden cell restricted to the box around ``theta`` (``None``: the cell misses ``theta``)."""
    D = model.D
    Q, q0, U, o = cell_affine(model, hidden_signs)
    lo_box, hi_box = theta - radius, theta + radius
    rows, rlo, rhi = [], [], []
    if Q.shape[0]:
        zH = Q @ theta + q0
        reach = np.abs(Q).sum(axis=1) * radius
        sig = hidden_signs.astype(np.float64)
        if np.any(sig * zH < -reach):
            return None
        keep = (sig * zH <= reach) & (reach > 0)
        Qk = Q[keep]
        rows.append(Qk)
        rlo.append(np.where(sig[keep] > 0, -q0[keep], -np.inf))
        rhi.append(np.where(sig[keep] > 0, np.inf, -q0[keep]))
    Ug = U[model.group]
    og = o[model.group] - model.y
    lw = model.loss
    r = Ug @ theta + og
    near = np.abs(r) <= np.abs(Ug).sum(axis=1) * radius
    if not lw.kinked:
        near[:] = False
    far = ~near
    wfar = model.c[far] * np.where(r[far] > 0, lw.w_plus, -lw.w_minus)
    c_theta = wfar @ Ug[far]
    offset = float(wfar @ og[far])
    nn = int(near.sum())
    c = np.concatenate([c_theta, model.c[near] * lw.w_plus, model.c[near] * lw.w_minus])
    A_parts = [np.hstack([np.asarray(R), np.zeros((R.shape[0], 2 * nn))]) for R in rows]
    if nn:
        A_parts.append(np.hstack([-Ug[near], np.eye(nn), -np.eye(nn)]))
        rlo.append(og[near])
        rhi.append(og[near])
    A = np.vstack(A_parts) if A_parts else np.zeros((0, D + 2 * nn))
    return LinearProgram(
        c=c,
        A=A,
        row_lower=np.concatenate(rlo) if rlo else np.zeros(0),
        row_upper=np.concatenate(rhi) if rhi else np.zeros(0),
        col_lower=np.concatenate([lo_box, np.zeros(2 * nn)]),
        col_upper=np.concatenate([hi_box, np.full(2 * nn, np.inf)]),
        offset=offset,
    )


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
) -> dict:
    """Solve the box-restricted LPs of the hidden cells at ``theta``.

    All ``2**k`` cells when there are at most ``max_cells``, otherwise a seeded
    sample of ``sample_size`` (default ``max_cells``) cells.
    """
    if sample_size is None:
        sample_size = max_cells
    k = int(tight_hidden.size)
    n_cells = 2**k
    hs = signs[: model.n_hidden_kinks].copy()
    if n_cells <= max_cells:
        choices = [np.array([(b >> j) & 1 for j in range(k)], dtype=bool) for b in range(n_cells)]
        sampled = False
    else:
        # Sample full-dimensional incident cells: the cell entered along a seeded random direction
        # (signs of the tight kinks' one-sided rates), so every sample is a real cell.
        rng = np.random.default_rng(seed)
        U = rng.standard_normal((sample_size - 1, model.D))
        rates = _one_sided_rates(model, theta, signs, tight_hidden, U)
        choices = [hs[tight_hidden] > 0] + [row > 0 for row in rates]
        sampled = True
    thr = tol.objective * (1.0 + abs(loss))
    checked = infeasible = 0
    max_gap = -math.inf
    best_x = None
    ok = True
    for ch in choices:
        cell = hs.copy()
        cell[tight_hidden] = np.where(ch, 1, -1).astype(np.int8)
        lp = local_cell_lp(model, cell, theta, radius)
        if lp is None:
            infeasible += 1
            continue
        res = solve(lp, backend=backend, tol=tol)
        checked += 1
        if res.status is LPStatus.INFEASIBLE:
            infeasible += 1
            continue
        if res.status is not LPStatus.OPTIMAL:
            ok = False
            continue
        gap = loss - res.fun
        if gap > max_gap:
            max_gap = gap
            if gap > thr:
                best_x = np.array(res.x[: model.D])
        if gap > thr:
            ok = False
    return {
        "n_cells": n_cells,
        "checked": checked,
        "infeasible": infeasible,
        "sampled": sampled,
        "ok": ok and checked > 0,
        "max_gap": max_gap if checked else math.nan,
        "best_x": best_x,
    }


def _one_sided_rates(
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
    if out.status is not LPStatus.OPTIMAL:
        return math.inf, math.inf
    return float(np.max(np.abs(out.x[:D] - theta))), abs(out.fun - loss)

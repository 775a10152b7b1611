"""Solving a box-restricted cell LP by growing a working set of rows (constraint generation).

The LP of a hidden cell on a small box around a vertex (:func:`~lpengine.simplex.cell_lp.region_lp`
with ``prune=True``) keeps every sign row that can reach zero in the box and a ``t`` pair for
every residual that can change sign there: at ``N = 50,000`` samples a few thousand rows, and for
a collapsed unit (all ``N`` of its kinks at zero) ``N`` rows.  Almost none of them binds at the
optimum.  :func:`solve_box_cell` solves a *relaxation* with a small working set instead:

* sign rows: only those in the working set (initially the kinks at zero at the centre);
* residuals: a ``t`` pair only for those in the working set (initially those at zero), every
  other residual the linear term of its sign at the centre, a lower bound of its loss term
  (``rho(r) = w_plus r_+ + w_minus r_- >= w r`` for ``w = w_plus`` and for ``w = -w_minus``).

At the relaxation's optimum ``x`` every omitted row of the pruned LP is evaluated, and every
omitted residual's sign is compared with the sign of its linear term.  If no row is violated by
more than the LP's primal feasibility tolerance and no sign disagrees by more than it, ``x`` is
feasible for the pruned LP and its relaxed objective equals the pruned LP's objective there, so
``x`` is optimal for the pruned LP (a relaxation's optimum that is feasible and exact is optimal).
Otherwise the most violated rows and residuals join the working set and the relaxation is solved
again.  An infeasible relaxation proves the pruned LP infeasible.  This is the cutting-plane
reading of Portnoy and Koenker's "globbing" (reference notes ``exact_and_scale.md`` §4): the
answer is the pruned LP's, at the cost of a few LPs with tens of rows.
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import NDArray

from ..lp import LPResult, LPStatus, solve
from ..tolerances import Tolerances
from .cell_lp import box_prune, cell_affine, region_lp
from .model import LayerwiseModel

logger = logging.getLogger(__name__)

__all__ = ["solve_box_cell"]

#: Rounds of the working-set loop before the full pruned LP is solved instead (a safety net).
_MAX_ROUNDS = 30


def solve_box_cell(
    model: LayerwiseModel,
    hidden_signs: NDArray[np.int8],
    center: NDArray[np.float64],
    rad: NDArray[np.float64],
    *,
    tol: Tolerances,
    backend: str = "highs",
    affine: tuple | None = None,
    linear: tuple[NDArray[np.float64], float] | None = None,
    at_zero: float = 0.0,
    exclude: NDArray[np.int64] | None = None,
) -> LPResult:
    """Optimum of the pruned LP of one hidden cell on the box ``|theta - center| <= rad``.

    Parameters
    ----------
    hidden_signs : ndarray of +1/-1, shape (G * n_hidden,)
    center, rad : ndarray, shape (D,)
        Box centre and per-coordinate radii (0 holds a coordinate fixed).
    tol : Tolerances
        ``lp_primal`` is the violation that a row or a sign may show at the optimum (HiGHS's own
        primal feasibility tolerance).
    affine, linear
        As in :func:`~lpengine.simplex.cell_lp.region_lp`.
    at_zero : float
        Rows and residuals with ``|value(center)| <= at_zero`` start in the working set.
    exclude : ndarray of int, optional
        Hidden kinks kept out of the initial working set even if at zero (a collapsed unit's ``N``
        kinks: they enter only when violated).

    Returns
    -------
    LPResult
        The final LP's result: optimal for the pruned LP (its ``x`` is feasible there and ``fun``
        is that LP's objective at ``x``), or infeasible; otherwise whatever the last LP returned.
    """
    aff = cell_affine(model, hidden_signs) if affine is None else affine
    keep, near, empty, r0 = box_prune(model, aff, hidden_signs, center, rad)
    if empty:
        # The cell misses the box: region_lp says so (an infeasible LP).
        lp = region_lp(model, hidden_signs, box=(center, rad), prune=True, affine=aff, linear=linear)[0]
        return solve(lp, backend=backend, tol=tol)
    Q, q0, U, o = aff
    sig = hidden_signs.astype(np.float64)
    rows = np.flatnonzero(keep)
    Qk, q0k, sk = Q[rows], q0[rows], sig[rows]
    res_ids = np.flatnonzero(near)
    Un, on = U[model.group[res_ids]], o[model.group[res_ids]] - model.y[res_ids]
    # The sign of each omitted residual's linear term, as region_lp chooses it (r > 0: w_plus).
    s_res = np.where(r0[res_ids] > 0, 1.0, -1.0)
    in_h = np.zeros(rows.size, dtype=bool)
    in_r = np.zeros(res_ids.size, dtype=bool)
    in_h |= np.abs(Qk @ center + q0k) <= at_zero
    if exclude is not None and len(exclude):
        ex = np.zeros(model.n_hidden_kinks, dtype=bool)
        ex[exclude] = True
        in_h &= ~ex[rows]
    in_r |= np.abs(r0[res_ids]) <= at_zero
    feas = tol.lp_primal
    wh = np.zeros(model.n_hidden_kinks, dtype=bool)
    wr = np.zeros(model.N, dtype=bool)
    for k in range(_MAX_ROUNDS):
        wh[:] = False
        wr[:] = False
        wh[rows[in_h]] = True
        wr[res_ids[in_r]] = True
        lp = region_lp(model, hidden_signs, box=(center, rad), prune=True, affine=aff, linear=linear, working=(wh, wr))[
            0
        ]
        res = solve(lp, backend=backend, tol=tol)
        if res.status is not LPStatus.OPTIMAL or res.x is None:
            return res  # infeasible relaxation: the pruned LP is infeasible too; other statuses as they are
        x = np.asarray(res.x[: model.D])
        # Omitted rows: sign row violated; omitted residuals: on the other side of their linear term.
        vh = np.where(in_h, 0.0, -(sk * (Qk @ x + q0k)))
        vr = np.where(in_r, 0.0, -(s_res * (Un @ x + on)))
        bad_h = np.flatnonzero(vh > feas)
        bad_r = np.flatnonzero(vr > feas)
        if bad_h.size == 0 and bad_r.size == 0:
            logger.debug(
                "cell LP: %d round(s), %d of %d rows, %d of %d residuals",
                k + 1,
                in_h.sum(),
                rows.size,
                in_r.sum(),
                res_ids.size,
            )
            return res
        # The most violated first, at most as many as already in the set (and at least 32) per round.
        cap = max(32, int(in_h.sum() + in_r.sum()))
        if bad_h.size > cap:
            bad_h = bad_h[np.argpartition(-vh[bad_h], cap - 1)[:cap]]
        if bad_r.size > cap:
            bad_r = bad_r[np.argpartition(-vr[bad_r], cap - 1)[:cap]]
        in_h[bad_h] = True
        in_r[bad_r] = True
    logger.debug("cell LP: working set did not settle in %d rounds; solving the full pruned LP", _MAX_ROUNDS)
    lp = region_lp(model, hidden_signs, box=(center, rad), prune=True, affine=aff, linear=linear)[0]
    return solve(lp, backend=backend, tol=tol)

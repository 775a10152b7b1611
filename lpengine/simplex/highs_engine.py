"""The HiGHS-driven engine of the Deep ReLU Simplex (internal; ``engine="highs"``).

An independent second engine: HiGHS's own simplex does every pivot, on the
LPs of successive hidden cells (activation regions).  With a hidden pattern
``H`` fixed, the loss is convex piecewise affine on the closed cell ``C_H``
and equals the optimum of the region LP of :func:`~lpengine.simplex.encoding.region_lp`
(reference notes ``deep_relu_simplex.md`` §3, fact 1).  The walk:

1. ``H`` = the pattern of the start point (moved off any kink by the same
   seeded perturbation as the native engine); solve LP(H) with HiGHS.  Its
   optimal basic solution is a vertex ``theta`` of the loss in the cell.
2. At ``theta`` look for an incident cell (one that differs from ``H`` only in
   hidden kinks at zero there, so it contains ``theta``) with a lower LP
   optimum.  First the cell entered along the steepest descending edge ray
   (signs of the tight kinks' one-sided rates along it), if a ray descends;
   then each cell across one tight hidden kink (in id order), the best one.
   Each LP is warm-started from the current basis (rows whose bound side
   flipped get the matching basis status).  A lower optimum (beyond the
   objective tolerance) is the next logged vertex, strictly lower.
3. When neither finds a lower cell, stop; :func:`~lpengine.simplex.drs.solve_model`
   then certifies the vertex exactly as for the native engine (complete
   ``2D``-ray edge test at a basis of ``D`` independent tight kinks, plus HiGHS
   on the box LPs of all incident hidden cells, up to ``certify_max_cells``);
   a lower incident cell found there restarts the walk from its optimum (an
   ``"escape"`` edge), so multi-kink flips are covered too.

Every logged vertex is an LP optimum of its cell, so the loss never increases
along the log.  Edges are region moves (``kind="region"``): one HiGHS re-solve
each; the LP iterations of all solves are in ``stats["lp_iterations"]``.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import scipy.linalg
from numpy.typing import NDArray

from ..exceptions import SolverError
from ..lp import LinearProgram, LPResult, LPStatus, open_solver
from ..lp.result import BasisStatus, LPBasis
from ..tolerances import Tolerances
from .cell_lp import region_lp
from .certificate import one_sided_rates
from .engine_log import EdgeRecord, EngineLog, EngineOptions, region_id
from .model import LayerwiseModel
from .pivot import Vertex, price_rays, tight_mask
from .progress import DRSState
from .status import DRSStatus

logger = logging.getLogger(__name__)

__all__ = ["run_highs_engine"]


def _start(
    model: LayerwiseModel, theta0: NDArray[np.float64], opts: EngineOptions, tol: Tolerances, log: EngineLog
) -> tuple[NDArray[np.float64], NDArray[np.int8], float]:
    """Start point moved off the kinks (as in the native engine); returns it, its signs, the kink tolerance."""
    rng = np.random.default_rng(opts.seed)
    theta = np.array(theta0, dtype=np.float64)
    flat = model.signs_at(theta)
    zscale = max(1.0, float(np.max(np.abs(flat[model.kink_mask])))) if model.M else 1.0
    tz = tol.kink * zscale
    pert = np.zeros_like(theta)
    size = tol.perturbation * max(1.0, float(np.max(np.abs(theta))))
    for _ in range(20):
        if not np.any((np.abs(flat) <= tz) & model.kink_mask):
            break
        step = rng.uniform(-size, size, theta.shape)
        pert += step
        theta = theta + step
        flat = model.signs_at(theta)
        size *= 10.0
    else:
        raise SolverError("could not move the start point off the kinks by a small perturbation.")
    if np.any(pert):
        log.perturbation = pert
    return theta, np.where(flat >= 0, 1, -1).astype(np.int8), tz


def _warm_basis(basis: LPBasis | None, lp: LinearProgram) -> LPBasis | None:
    """Adapt a basis of a neighbouring cell's LP (same shape) to ``lp``'s row bounds; ``None`` if shapes differ."""
    if basis is None or basis.row_status.size != lp.row_lower.size or basis.col_status.size != lp.c.size:
        return None
    rs = basis.row_status.copy()
    lo_inf = ~np.isfinite(lp.row_lower)
    hi_inf = ~np.isfinite(lp.row_upper)
    rs[(rs == BasisStatus.LOWER) & lo_inf & ~hi_inf] = BasisStatus.UPPER
    rs[(rs == BasisStatus.UPPER) & hi_inf & ~lo_inf] = BasisStatus.LOWER
    return LPBasis(basis.col_status.copy(), rs)


class _CellSolver:
    """Solves region LPs with HiGHS, each warm-started from the last optimal basis."""

    def __init__(self, model: LayerwiseModel, tol: Tolerances, backend: str):
        self.model, self.tol, self.backend = model, tol, backend
        self.basis: LPBasis | None = None
        self.solves = 0
        self.iterations = 0

    def solve(self, hidden_signs: NDArray[np.int8]) -> tuple[LPResult, LPBasis | None]:
        lp, D = region_lp(self.model, hidden_signs)
        with open_solver(lp, backend=self.backend, tol=self.tol) as s:
            wb = _warm_basis(self.basis, lp)
            if wb is not None:
                try:
                    s.set_basis(wb)
                except SolverError:  # HiGHS rejected the adapted basis: cold start instead
                    s.set_basis(None)
            res = s.solve()
            basis = s.get_basis() if res.status is LPStatus.OPTIMAL else None
        self.solves += 1
        self.iterations += int(res.nit)
        return res, basis


def _vertex_at(model: LayerwiseModel, theta: NDArray[np.float64], hidden: NDArray[np.int8], tz: float) -> Vertex | None:
    """Engine state at an LP optimum: tracked signs, and a basis of ``D`` independent tight kinks (or None)."""
    nhk = model.n_hidden_kinks
    flat = model.values(theta, model.fmasks(np.concatenate([hidden, np.ones(model.N, np.int8)])))[0]
    signs = np.concatenate([hidden, np.where(flat[nhk:] >= 0, 1, -1).astype(np.int8)])
    st = Vertex(theta=np.array(theta, dtype=np.float64), signs=signs, B=np.zeros(0, np.int64))
    st.refresh(model)
    tight = np.flatnonzero((np.abs(st.flat) <= tz) & model.kink_mask)
    if tight.size < model.D:
        return None
    rows, _, _ = model.sensitivities(tight, st.masks)
    # Column-pivoted QR picks D kinks with well-conditioned normals.
    _, R, piv = scipy.linalg.qr(rows.T, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    if diag.size < model.D or diag[model.D - 1] <= model.D * np.finfo(float).eps * max(1.0, diag[0]):
        return None
    st.B = np.sort(tight[piv[: model.D]]).astype(np.int64)
    st.factor(model)
    return st


def run_highs_engine(
    model: LayerwiseModel, theta0: NDArray[np.float64], opts: EngineOptions, tol: Tolerances
) -> tuple[EngineLog, float, float]:
    """Walk hidden cells with HiGHS (see the module docstring); returns the log, kink tolerance and scale."""
    t_start, c_start = time.perf_counter(), time.process_time()
    log = EngineLog()
    nhk = model.n_hidden_kinks
    theta, signs, tz = _start(model, theta0, opts, tol, log)
    log.theta0 = theta.copy()
    log.start_loss = model.loss_at(theta)
    hidden = signs[:nhk].copy()
    cells = _CellSolver(model, tol, opts.backend)
    res, basis = cells.solve(hidden)
    if res.status is not LPStatus.OPTIMAL:
        raise SolverError(f"HiGHS could not solve the start cell's LP: {res.message}")
    cells.basis = basis
    log.phase1_seconds = time.perf_counter() - t_start

    last_hidden = [hidden]

    def record(x: NDArray[np.float64], loss: float, hid: NDArray[np.int8]) -> Vertex | None:
        last_hidden[0] = hid
        st = _vertex_at(model, x, hid, tz)
        log.thetas.append(np.array(x))
        log.losses.append(float(loss))
        log.regions.append(region_id(model, np.concatenate([hid, np.ones(model.N, np.int8)])))
        flat = model.values(x, model.fmasks(np.concatenate([hid, np.ones(model.N, np.int8)])))[0]
        log.n_tight.append(int(np.count_nonzero((np.abs(flat) <= tz) & model.kink_mask)))
        log.n_collapsed.append(0)
        log.bases.append(st.B.copy() if st is not None else np.zeros(0, np.int64))
        return st

    assert res.x is not None  # OPTIMAL
    x, loss = np.array(res.x[: model.D]), float(res.fun)
    st = record(x, loss, hidden)
    log.status, log.message = DRSStatus.LOCAL_MINIMUM, "no incident hidden cell found with a lower LP optimum"
    try:
        while True:
            if opts.max_pivots is not None and log.nit >= opts.max_pivots:
                log.status, log.message = DRSStatus.MAX_PIVOTS, f"stopped after {log.nit} region moves (max_pivots)"
                break
            if opts.time_limit is not None and time.perf_counter() - t_start >= opts.time_limit:
                log.status, log.message = DRSStatus.TIME_LIMIT, "stopped at the time limit"
                break
            flat = model.values(x, model.fmasks(np.concatenate([hidden, np.ones(model.N, np.int8)])))[0]
            tight_h = np.flatnonzero(np.abs(flat[:nhk]) <= tz)
            thr = tol.objective * (1.0 + abs(loss))
            best = None
            tried: set[bytes] = set()
            # 1. The cell entered along the steepest descending edge ray, if any (one LP).
            if st is not None and tight_h.size:
                pr = price_rays(model, st, tz, tol.pivot, tight=tight_mask(model, st, tz))
                ns = pr.slopes / pr.norms
                r = int(np.argmin(ns))
                if ns[r] < -tol.slope * pr.scale:
                    rates = one_sided_rates(model, x, st.signs, tight_h, pr.rays[r][None, :])[0]
                    big = np.abs(rates) > tol.pivot * max(1e-300, float(np.max(np.abs(rates))))
                    h2 = hidden.copy()
                    h2[tight_h[big]] = np.where(rates[big] > 0, 1, -1).astype(np.int8)
                    if np.any(h2 != hidden):
                        tried.add(h2.tobytes())
                        r2, b2 = cells.solve(h2)
                        if r2.status is LPStatus.OPTIMAL and r2.fun < loss - thr:
                            best = (r2, b2, h2)
            # 2. Otherwise every cell across one tight hidden kink (k LPs).
            if best is None:
                for k in tight_h:
                    h2 = hidden.copy()
                    h2[k] = -h2[k]
                    if h2.tobytes() in tried:
                        continue
                    r2, b2 = cells.solve(h2)
                    if r2.status is LPStatus.OPTIMAL and r2.fun < loss - thr and (best is None or r2.fun < best[0].fun):
                        best = (r2, b2, h2)
            if best is None:
                break
            r2, b2, h2 = best
            assert r2.x is not None  # OPTIMAL
            x2 = np.array(r2.x[: model.D])
            step = float(np.linalg.norm(x2 - x))
            flat2 = model.values(x2, model.fmasks(np.concatenate([h2, np.ones(model.N, np.int8)])))[0]
            crossed = int(np.count_nonzero(h2 != hidden)) + int(
                np.count_nonzero((flat2[nhk:] > tz) & (flat[nhk:] < -tz) | (flat2[nhk:] < -tz) & (flat[nhk:] > tz))
            )
            log.nit += 1
            log.region_changes += 1
            log.kinks_crossed += crossed
            log.edges.append(
                EdgeRecord(
                    step, step, crossed, True, -1, -1, (float(r2.fun) - loss) / step if step > 0 else 0.0, "region"
                )
            )
            cells.basis = b2
            hidden, x, loss = h2, x2, float(r2.fun)
            st = record(x, loss, hidden)
            if opts.callback is not None:
                state = DRSState(
                    iteration=log.nit,
                    loss=loss,
                    region_changes=log.region_changes,
                    kinks_crossed=log.kinks_crossed,
                    step=step,
                    elapsed=time.perf_counter() - t_start,
                    n_vertices=len(log.losses),
                    pivots_per_second=log.nit / max(time.perf_counter() - t_start, 1e-9),
                    phase="walk",
                    basis_kinks=model.D,
                )
                if opts.callback(state):
                    log.status, log.message = DRSStatus.STOPPED, f"stopped by the callback after {log.nit} region moves"
                    break
    except KeyboardInterrupt:
        # Ctrl-C ends the walk at the last recorded cell optimum (an edge may be logged ahead of it).
        del log.edges[len(log.losses) - 1 :]
        log.nit = log.region_changes = len(log.edges)
        x, loss, hidden = np.array(log.thetas[-1]), float(log.losses[-1]), last_hidden[0]
        log.status = DRSStatus.INTERRUPTED
        log.message = f"interrupted (KeyboardInterrupt) after {log.nit} region moves"
    st = _vertex_at(model, x, hidden, tz)
    if st is None:
        # The LP optimum is not a vertex of the kink arrangement (a flat optimal face): no edge test.
        st = Vertex(theta=x, signs=np.concatenate([hidden, np.ones(model.N, np.int8)]), B=np.zeros(0, np.int64))
        st.refresh(model)
        if log.status == DRSStatus.LOCAL_MINIMUM:
            log.status = DRSStatus.STALLED
            log.message = "the final LP optimum is not a vertex (fewer than D independent tight kinks)"
    else:
        log.pricing = price_rays(model, st, tz, tol.pivot, tight=tight_mask(model, st, tz))
    log.final = st
    log.lp_solves, log.lp_iterations = cells.solves, cells.iterations
    log.seconds = time.perf_counter() - t_start
    log.cpu_seconds = time.process_time() - c_start
    return log, tz, tz / tol.kink

"""The native pivot engine of the Deep ReLU Simplex (internal).

Phase 1 (:mod:`lpengine.simplex.phase1`) reaches a first vertex from the start point; the state,
the moves along a ray and the basis numerics both phases use are in :mod:`lpengine.simplex.engine_core`.

Phase 2 prices all ``2D`` edge rays (:func:`~lpengine.simplex.pivot.price_rays`),
follows the steepest normalised descending ray with the line search or a plain
ratio test, swaps the entering kink into the basis, and updates ``A^{-1}`` by
Sherman–Morrison.  After every pivot the kink values are recomputed exactly
from ``theta``; basis kinks that drifted off zero are snapped back with one
Newton step, and ``A^{-1}`` is refactorised every ``refactor_every`` pivots,
when a bend changed several rows, or when the update deviates from a fresh
inverse (the deviation is recorded).
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
from numpy.typing import NDArray

from ..exceptions import SolverError
from ..tolerances import Tolerances
from .blas import single_thread_blas
from .certificate import check_vertex
from .engine_log import EdgeRecord, EngineLog, EngineOptions, region_id
from .model import LayerwiseModel
from .phase1 import Phase1
from .pivot import Vertex, price_rays
from .progress import PROGRESS_SECONDS, DRSState
from .status import DRSStatus

logger = logging.getLogger(__name__)

__all__ = ["EdgeRecord", "EngineLog", "EngineOptions", "run_engine"]


class _Engine(Phase1):
    def _record_vertex(self) -> None:
        st, log = self.st, self.log
        log.thetas.append(st.theta.copy())
        log.losses.append(st.loss)
        log.regions.append(region_id(self.model, st.signs))
        # Kept for the pricing at this vertex (the next thing the loop does).
        self._tight_now = self._tight()
        log.n_tight.append(int(np.count_nonzero(self._tight_now)))
        log.n_collapsed.append(len(log.collapsed))
        log.bases.append(st.B.copy())
        self._prev_signs = getattr(self, "_last_signs", st.signs)
        self._last_signs = st.signs.copy()
        if self.opts.verify:
            dth, dl = check_vertex(
                self.model, st.theta, st.signs, st.B, st.loss, tol=self.tol, backend=self.opts.backend
            )
            exact = self.model.loss_at(st.theta)
            dl = max(dl, abs(exact - st.loss))
            log.verified += 1
            log.max_verify_theta = max(log.max_verify_theta, dth)
            log.max_verify_loss = max(log.max_verify_loss, dl)
            scale_t = 1.0 + float(np.max(np.abs(st.theta)))
            if dth > self.tol.verify * scale_t or dl > self.tol.verify * (1.0 + abs(st.loss)):
                raise SolverError(
                    f"verify: vertex {len(log.losses) - 1} disagrees with the HiGHS region LP "
                    f"(|theta - theta_lp| = {dth:.3g}, |loss - LP| = {dl:.3g})."
                )

    # ---------------------------------------------------------------- phase 2
    def run(self) -> EngineLog:
        log = self.log
        try:
            ok = self.phase1()
        except KeyboardInterrupt:
            # Ctrl-C before the first vertex: back to the last consistent phase-1 point.
            theta, signs, B = self._p1_point
            self.st = Vertex(theta=theta, signs=signs, B=B)
            self.st.refresh(self.model)
            log.status = DRSStatus.INTERRUPTED
            log.message = f"interrupted (KeyboardInterrupt) in phase 1 ({B.size} of {self.model.D} basis kinks)"
            ok = False
        log.phase1_seconds = self._elapsed()
        if not ok:
            log.final = self.st
            log.seconds = self._elapsed()
            log.cpu_seconds = time.process_time() - self.c_start
            return log
        self._record_vertex()
        self._next_progress = self._elapsed() + PROGRESS_SECONDS
        try:
            self._walk()
        except KeyboardInterrupt:
            # Ctrl-C ends the walk at the last recorded vertex, with a status that says so.  The state
            # may be mid-pivot: restore the recorded vertex (theta, signs, basis) before returning.
            log.status = DRSStatus.INTERRUPTED
            log.message = f"interrupted (KeyboardInterrupt) after {log.nit} pivots"
            self._restore_last_vertex()
        log.final = self.st
        log.seconds = self._elapsed()
        log.cpu_seconds = time.process_time() - self.c_start
        return log

    def _restore_last_vertex(self) -> None:
        log, model = self.log, self.model
        signs = self._last_signs
        if len(log.edges) == len(log.losses) - 2:
            # Interrupted between recording a vertex and its edge: drop that vertex.
            for name in ("thetas", "losses", "regions", "n_tight", "n_collapsed", "bases"):
                getattr(log, name).pop()
            signs = self._prev_signs
        log.nit = len(log.edges)
        st = Vertex(theta=log.thetas[-1].copy(), signs=signs.copy(), B=log.bases[-1].copy())
        st.refresh(model)
        st.factor(model)
        self.st = st
        log.pricing = None

    def _walk(self) -> None:
        log, st, model, opts = self.log, self.st, self.model, self.opts
        zero_run = 0
        since_refactor = 0
        while True:
            pr = price_rays(model, st, self.tz, self.tol.pivot, tight=self._tight_now, collapsed=log.collapsed)
            log.pricing = pr
            ns = pr.slopes / pr.norms
            thr = -self.tol.slope * pr.scale
            desc = np.flatnonzero((ns < thr) & pr.live)
            if desc.size == 0:
                log.status = DRSStatus.LOCAL_MINIMUM
                log.message = (
                    "no descending edge among all 2D rays"
                    if not log.collapsed
                    else f"no descending edge among the live units' rays (collapsed units {log.collapsed})"
                )
                break
            if opts.max_pivots is not None and log.nit >= opts.max_pivots:
                log.status, log.message = DRSStatus.MAX_PIVOTS, f"stopped after {log.nit} pivots (max_pivots)"
                break
            if opts.time_limit is not None and self._elapsed() >= opts.time_limit:
                log.status, log.message = DRSStatus.TIME_LIMIT, f"stopped after {self._elapsed():.3g} s (time_limit)"
                break
            bland = zero_run >= opts.bland_after
            if bland:
                r = int(desc[np.argmin(st.B[desc // 2] * 2 + desc % 2)])
            elif opts.pricing == "dantzig":
                r = int(desc[np.argmin(pr.slopes[desc])])
            else:
                r = int(desc[np.argmin(ns[desc])])
            pos, sigma = r // 2, (1.0 if r % 2 == 0 else -1.0)
            e = pr.rays[r]
            self._stol = self.tol.slope * pr.scale * pr.norms[r]
            step = self._search(e, pos, sigma, bland)
            if step.status == "unbounded":
                log.status = DRSStatus.UNBOUNDED
                log.message = "the loss decreases without bound along an edge ray"
                log.unbounded_ray = e / np.linalg.norm(e)
                break
            old_region = log.regions[-1]
            old_theta = st.theta
            leave_id = int(st.B[pos])
            st.signs[leave_id] = np.int8(sigma)
            self._apply(step, e)
            old_A = st.A
            st.B = st.B.copy()
            st.B[pos] = step.enter
            self._rows()
            changed = np.flatnonzero((st.A != old_A).any(axis=1))
            since_refactor += 1
            if not self._update_inverse(old_A, changed) or since_refactor >= opts.refactor_every:
                self._refactor(record=True)
                since_refactor = 0
            self._snap()
            self._check_collapse()
            log.nit += 1
            if step.t == 0.0:
                zero_run += 1
                log.zero_steps += 1
                if zero_run > opts.max_zero_steps:
                    log.status = DRSStatus.STALLED
                    log.message = f"{zero_run} consecutive zero-length (degenerate) pivots"
                    break
            else:
                zero_run = 0
            self._record_vertex()
            new_region = log.regions[-1]
            rc = new_region != old_region
            log.region_changes += int(rc)
            log.kinks_crossed += int(step.crossed.size)
            dth = st.theta - old_theta
            log.edges.append(
                EdgeRecord(
                    math.sqrt(float(dth @ dth)),
                    float(step.t),
                    int(step.crossed.size),
                    bool(rc),
                    leave_id,
                    int(step.enter),
                    float(ns[r]),
                    "pivot",
                )
            )
            if log.losses[-1] > log.losses[-2] + self.tol.objective * (1.0 + abs(log.losses[-2])):
                raise SolverError(f"loss increased at pivot {log.nit}: {log.losses[-2]!r} -> {log.losses[-1]!r}")
            now = self._elapsed()
            if now >= self._next_progress:
                self._next_progress = now + PROGRESS_SECONDS
                # Wall and CPU rates side by side: on a shared host the wall rate measures the load.
                logger.info(
                    "pivot %d: loss %.10g, %.0f pivots/s (%.0f per CPU s), %d region changes, collapsed units %s",
                    log.nit,
                    st.loss,
                    log.nit / max(now - log.phase1_seconds, 1e-9),
                    log.nit / max(time.process_time() - self.c_start, 1e-9),
                    log.region_changes,
                    log.collapsed,
                )
            if opts.callback is not None:
                state = DRSState(
                    iteration=log.nit,
                    loss=float(st.loss),
                    region_changes=log.region_changes,
                    kinks_crossed=log.kinks_crossed,
                    step=float(step.t),
                    elapsed=now,
                    n_vertices=len(log.losses),
                    pivots_per_second=log.nit / max(now - log.phase1_seconds, 1e-9),
                    n_collapsed=len(log.collapsed),
                    phase="walk",
                    basis_kinks=int(st.B.size),
                )
                if opts.callback(state):
                    log.status, log.message = DRSStatus.STOPPED, f"stopped by the callback after {log.nit} pivots"
                    break


def run_engine(
    model: LayerwiseModel, theta0: NDArray[np.float64], opts: EngineOptions, tol: Tolerances
) -> tuple[EngineLog, float, float]:
    """Run phases 1 and 2; returns the log, the kink tolerance and the kink scale."""
    with single_thread_blas():
        eng = _Engine(model, theta0, opts, tol)
        log = eng.run()
    return log, eng.tz, eng.zscale

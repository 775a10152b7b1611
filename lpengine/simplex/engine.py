"""The native pivot engine of the Deep ReLU Simplex (internal).

Phase 1 reaches a vertex from the start point by projected steepest descent:
move along the negative gradient projected onto the null space of the
normals of the kinks already at zero, until a new kink reaches zero (or, with
the line search, until the slope along the direction turns non-negative), and
add it to the basis; ``D`` such steps give a vertex.  Where the projected
gradient vanishes the loss is constant along the null space, and a seeded
random null-space direction is followed instead (dead neurons), taken from an
orthonormal null-space basis (:func:`null_basis`) and oriented so that its
computed slope is not positive: in floats such a "flat" move has a slope of
rounding size, which a long move would turn into a loss increase.

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

from ..exceptions import InvalidProblemError, SolverError
from ..tolerances import Tolerances
from .blas import single_thread_blas
from .certificate import check_vertex
from .collapse import collapsed_units_of_basis, unit_columns, unit_kinks
from .engine_log import EdgeRecord, EngineLog, EngineOptions, region_id
from .linesearch import Step, line_search
from .model import LayerwiseModel
from .pivot import Vertex, group_sums, price_rays, tight_mask
from .progress import PROGRESS_SECONDS, DRSState
from .status import DRSStatus

logger = logging.getLogger(__name__)

__all__ = ["EdgeRecord", "EngineLog", "EngineOptions", "run_engine"]

# Basis kinks are snapped back to zero by a Newton step once their drift exceeds this fraction of
# the kink tolerance: a numerical-hygiene knob well inside ``tol.kink`` (it never decides anything).
_SNAP_FRACTION = 1e-3


def null_basis(A: NDArray[np.float64], D: int) -> NDArray[np.float64]:
    """Orthonormal basis ``(D, D - k)`` of the null space of the ``k`` basis normals ``A`` (full row rank).

    The trailing columns of a complete QR of ``A^T``: a direction ``N (N^T u)`` is orthogonal to the
    rows of ``A`` to rounding relative to its *own* norm.  The projection ``u - Q (Q^T u)`` is
    orthogonal only relative to ``|u|``: when ``u`` lies mostly in the row space, the cancellation
    leaves a row-space residue that is a large fraction of the short result, so a "flat" null move
    has a slope of rounding size relative to ``|u|``, which a long move turns into a loss increase
    (phase 1 ended 2e-12 above its start on ``uniform_net(1, [4, 3], 1)``, ``n = 6``, seed 1).
    """
    if A.shape[0] == 0:
        return np.eye(D)
    Q, _ = np.linalg.qr(A.T, mode="complete")
    return np.ascontiguousarray(Q[:, A.shape[0] :])


class _Engine:
    def __init__(self, model: LayerwiseModel, theta0: NDArray[np.float64], opts: EngineOptions, tol: Tolerances):
        self.model = model
        self.opts = opts
        self.tol = tol
        self.rng = np.random.default_rng(opts.seed)
        self._chunk = 0
        self.log = EngineLog()
        self.t_start = time.perf_counter()
        self.c_start = time.process_time()
        theta = np.array(theta0, dtype=np.float64)
        flat0 = model.signs_at(theta)
        self.zscale = max(1.0, float(np.max(np.abs(flat0[model.kink_mask])))) if model.M else 1.0
        self.tz = tol.kink * self.zscale
        # Start on a kink: move by a tiny seeded random vector (recorded) until no kink is at zero.
        pert = np.zeros_like(theta)
        size = tol.perturbation * max(1.0, float(np.max(np.abs(theta))))
        for _ in range(20):
            amb = (np.abs(flat0) <= self.tz) & model.kink_mask
            if not np.any(amb):
                break
            step = self.rng.uniform(-size, size, theta.shape)
            pert += step
            theta = theta + step
            flat0 = model.signs_at(theta)
            size *= 10.0
        else:
            raise SolverError("could not move the start point off the kinks by a small perturbation.")
        if np.any(pert):
            self.log.perturbation = pert
            logger.info("start point lies on a kink; moved by a random vector of norm %.3g", np.linalg.norm(pert))
        signs = np.where(flat0 >= 0, 1, -1).astype(np.int8)
        self.st = Vertex(theta=theta, signs=signs, B=np.zeros(0, np.int64))
        self.st.refresh(model)
        self._p1_point = (theta.copy(), signs.copy(), np.zeros(0, np.int64))
        self._next_progress: float = PROGRESS_SECONDS
        self.log.start_loss = self.st.loss
        self.log.theta0 = theta.copy()
        self.frozen_cols = np.zeros(0, np.int64)
        self.collapsed_kinks = np.zeros(model.M, dtype=bool)

    # ------------------------------------------------------------ collapse
    def _check_collapse(self) -> None:
        """Pin units that the basis forces to exact zero (an exact decision, see :mod:`.collapse`)."""
        st, log = self.st, self.log
        new = collapsed_units_of_basis(self.model, st.B, known=log.collapsed)
        if not new:
            return
        log.collapsed = sorted(log.collapsed + new)
        log.collapse_events += len(new)
        self.frozen_cols = unit_columns(self.model, log.collapsed)
        self.collapsed_kinks[:] = False
        self.collapsed_kinks[unit_kinks(self.model, log.collapsed)] = True
        logger.info(
            "pivot %d: unit(s) %s collapsed (weights and bias exactly zero; every sample a kink); "
            "the walk continues on the live units",
            log.nit,
            new,
        )
        self._zero_frozen()

    def _zero_frozen(self) -> None:
        """Set the collapsed blocks to exact zeros (the basis forces them there exactly)."""
        st = self.st
        if self.frozen_cols.size and np.any(st.theta[self.frozen_cols] != 0.0):
            st.theta = st.theta.copy()
            st.theta[self.frozen_cols] = 0.0
            st.refresh(self.model)

    def _tight(self) -> NDArray[np.bool_]:
        """Kinks at zero, the collapsed units' kinks excluded (they are handled by the pinning)."""
        t = tight_mask(self.model, self.st, self.tz)
        if self.frozen_cols.size:
            t &= ~self.collapsed_kinks
        return t

    # ---------------------------------------------------------------- helpers
    def _elapsed(self) -> float:
        return time.perf_counter() - self.t_start

    def _rows(self) -> None:
        self.st.set_rows(self.model)

    def _apply(self, step: Step, e: NDArray[np.float64]) -> None:
        st = self.st
        st.theta = st.theta + step.t * e
        if step.crossed.size:
            # A kink may be crossed back and forth on one ray (rates change after hidden crossings):
            # flip by parity.
            ids, cnt = np.unique(step.crossed, return_counts=True)
            odd = ids[cnt % 2 == 1]
            st.signs[odd] = -st.signs[odd]
            st.refresh(self.model)
        else:
            # No crossing: the masks of the search (leaving kink already on its new side) are current.
            st.refresh(self.model, step.masks)

    def _search(self, e: NDArray[np.float64], leave: int | None, sigma: float, bland: bool) -> Step:
        o = self.opts
        step = line_search(
            self.model,
            self.st,
            e,
            leave=leave,
            sigma=sigma,
            multi=o.line_search,
            tz=self.tz,
            ptol=self.tol.pivot,
            stol=self._stol,
            bland=bland,
            t_tol=self.tol.kink,
            chunk=self._chunk,
        )
        # First batch of the next line search: twice this one's crossings (fewer batches, smaller rounds).
        self._chunk = int(min(max(16, 2 * step.crossed.size + 2), 4096))
        return step

    # ---------------------------------------------------------------- phase 1
    def phase1(self) -> bool:
        model, st = self.model, self.st
        D = model.D
        self._stol = self.tol.slope
        while st.B.size < D:
            if self._phase1_stop():
                return False
            self._rows()
            g = self._gradient()
            N = null_basis(st.A, D)
            v = -(N @ (N.T @ g))
            self._stol = self.tol.slope * max(1.0, float(np.linalg.norm(g)))
            null_move = float(np.linalg.norm(v)) <= self.tol.slope * max(1.0, float(np.linalg.norm(g)))
            if null_move:
                v = N @ (N.T @ self.rng.standard_normal(D))
                # Flat in exact arithmetic, so either orientation is a valid null move: take the one whose
                # computed slope is not positive (the rounding slope times a long move must not raise the loss).
                if float(g @ v) > 0.0:
                    v = -v
            step = self._search(v, None, 0.0, False)
            if step.status == "unbounded" and null_move:
                v = -v
                step = self._search(v, None, 0.0, False)
                if step.status == "unbounded":
                    raise InvalidProblemError(
                        "the loss is constant along a whole line through the start point: no vertex exists "
                        "(parameters not identifiable from the data)."
                    )
            if step.status == "unbounded":
                self.log.unbounded_ray = v / np.linalg.norm(v)
                self.log.status = DRSStatus.UNBOUNDED
                self.log.message = "phase 1: the loss decreases without bound along a ray"
                return False
            self._apply(step, v)
            st.B = np.append(st.B, step.enter)
            self.log.phase1_steps += 1
            self.log.kinks_crossed += int(step.crossed.size)
        self._rows()
        self._refactor(record=False)
        self._snap()
        self._check_collapse()
        return True

    def _phase1_stop(self) -> bool:
        """Budget, progress and callback between two phase-1 steps; True ends the run before any vertex.

        Also keeps the last consistent phase-1 point, which a Ctrl-C in the middle of a step returns to.
        """
        st, log, o = self.st, self.log, self.opts
        self._p1_point = (st.theta.copy(), st.signs.copy(), st.B.copy())
        now = self._elapsed()
        where = f"in phase 1 ({st.B.size} of {self.model.D} basis kinks; no vertex reached)"
        if o.time_limit is not None and now >= o.time_limit:
            log.status, log.message = DRSStatus.TIME_LIMIT, f"stopped at the time limit {where}"
            return True
        if now >= self._next_progress:
            self._next_progress = now + PROGRESS_SECONDS
            logger.info("phase 1: %d of %d kinks in the basis, loss %.10g", st.B.size, self.model.D, st.loss)
        if o.callback is not None:
            state = DRSState(
                iteration=0,
                loss=float(st.loss),
                region_changes=0,
                kinks_crossed=log.kinks_crossed,
                step=0.0,
                elapsed=now,
                n_vertices=0,
                phase="phase1",
                basis_kinks=int(st.B.size),
            )
            if o.callback(state):
                log.status, log.message = DRSStatus.STOPPED, f"stopped by the callback {where}"
                return True
        return False

    def _gradient(self) -> NDArray[np.float64]:
        model, st = self.model, self.st
        rs = st.signs[model.n_hidden_kinks :]
        rho = model.c * np.where(rs > 0, model.loss.w_plus, -model.loss.w_minus)
        return model.grad(group_sums(model, rho), st.masks)

    # ---------------------------------------------------------------- numerics
    def _refactor(self, record: bool = True) -> None:
        st = self.st
        cond = np.linalg.cond(st.A)
        if not np.isfinite(cond) or cond > 1.0 / np.finfo(float).eps:
            raise SolverError(
                f"the basis matrix is singular (condition number {cond:.3g}); basis kinks {st.B.tolist()}."
            )
        fresh = np.linalg.inv(st.A).astype(np.float64, copy=False)
        if record and st.Ainv.size:
            dev = float(np.max(np.abs(st.Ainv - fresh)) / max(1e-300, float(np.max(np.abs(fresh)))))
            self.log.max_inverse_drift = max(self.log.max_inverse_drift, dev)
        st.Ainv = fresh
        self.log.refactorisations += 1

    def _update_inverse(self, old_A: NDArray[np.float64], changed: NDArray[np.int64]) -> bool:
        """Sherman–Morrison updates of ``A^{-1}`` for the changed rows; False if a pivot is too small."""
        st = self.st
        cur = old_A.copy()
        Ainv = st.Ainv
        for j in changed:
            u = st.A[j] - cur[j]
            w = u @ Ainv
            den = 1.0 + w[j]
            if abs(den) <= self.tol.pivot * max(1.0, float(np.abs(w).max())):
                return False
            Ainv = Ainv - Ainv[:, j, None] * (w / den)
            cur[j] = st.A[j]
        st.Ainv = Ainv
        return True

    def _snap(self) -> None:
        """Recompute the basis kinks exactly; one Newton step if they drifted off zero."""
        st = self.st
        zB = st.flat[st.B]
        drift = float(np.abs(zB).max()) if zB.size else 0.0
        self.log.max_basis_drift = max(self.log.max_basis_drift, drift / self.zscale)
        if drift > _SNAP_FRACTION * self.tz:
            st.theta = st.theta - st.Ainv @ zB
            st.theta[self.frozen_cols] = 0.0
            st.refresh(self.model)
            self.log.snaps += 1
            if float(np.max(np.abs(st.flat[st.B]))) > self.tol.drift * self.zscale:
                self._rows()
                self._refactor()
                st.theta = st.theta - st.Ainv @ st.flat[st.B]
                st.theta[self.frozen_cols] = 0.0
                st.refresh(self.model)

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

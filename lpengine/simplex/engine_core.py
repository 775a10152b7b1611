"""State, moves and numerics shared by the two phases of the native Deep ReLU Simplex engine (internal).

:class:`EngineCore` holds the walk's state (a :class:`~lpengine.simplex.pivot.Vertex`: ``theta``, the
tracked kink signs, the basis and its inverse) from a start point moved off the kinks by a seeded
perturbation, pins collapsed units to exact zero (:mod:`lpengine.simplex.collapse`), moves along a
ray (:func:`~lpengine.simplex.linesearch.line_search`: line search or ratio test) and keeps the basis
numerically sound: ``A^{-1}`` refactorised from scratch or updated by Sherman–Morrison, basis kinks
that drifted off zero snapped back by one Newton step.  Phase 1 (:mod:`lpengine.simplex.phase1`) and
phase 2 (:mod:`lpengine.simplex.engine`) build on it.
"""

from __future__ import annotations

import logging
import time

import numpy as np
from numpy.typing import NDArray

from ..exceptions import SolverError
from ..tolerances import Tolerances
from .collapse import collapsed_units_of_basis, unit_columns, unit_kinks
from .engine_log import EngineLog, EngineOptions
from .linesearch import Step, line_search
from .model import LayerwiseModel
from .pivot import Vertex, group_sums, tight_mask
from .progress import PROGRESS_SECONDS

logger = logging.getLogger(__name__)

__all__ = ["EngineCore"]

# Basis kinks are snapped back to zero by a Newton step once their drift exceeds this fraction of
# the kink tolerance: a numerical-hygiene knob well inside ``tol.kink`` (it never decides anything).
_SNAP_FRACTION = 1e-3


class EngineCore:
    """The engine's state and the operations both phases use (internal)."""

    _stol: float  # slope tolerance of the current line search (set by each phase before a search)

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

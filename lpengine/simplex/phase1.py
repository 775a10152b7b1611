"""Phase 1 of the native Deep ReLU Simplex engine: from the start point to a first vertex (internal).

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
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import NDArray

from ..exceptions import InvalidProblemError
from .engine_core import EngineCore
from .progress import PROGRESS_SECONDS, DRSState
from .status import DRSStatus

logger = logging.getLogger(__name__)

__all__ = ["Phase1", "null_basis"]


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


class Phase1(EngineCore):
    """Phase 1 on the engine's state (internal): :meth:`phase1` reaches the first vertex."""

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

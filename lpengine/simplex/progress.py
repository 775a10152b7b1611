"""Progress and budgets of a Deep ReLU Simplex run: the callback's state and the budget polled while certifying.

A run has three phases, and the ``callback`` of :func:`~lpengine.simplex.deep_relu_simplex` sees all three:

* ``"phase1"``: from the start point to the first vertex (one state per kink added to the basis);
* ``"walk"``: vertex to vertex (one state per pivot);
* ``"certify"``: the HiGHS cell LPs and the revival search at the end point (one state per LP).

In every phase the callback returning True stops the run (status ``"stopped"``), the time budget ends it
(``"time_limit"``), and ``KeyboardInterrupt`` (Ctrl-C, or raised by the callback itself, as the command
line does) ends it cleanly (``"interrupted"``) at the last vertex, with the result so far.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from .status import DRSStatus

logger = logging.getLogger(__name__)

__all__ = ["DRSState", "DRSCallback", "Halt", "CertifyBudget", "PROGRESS_SECONDS"]

#: Seconds between two INFO progress lines of a long run.
PROGRESS_SECONDS = 5.0


@dataclass(frozen=True)
class DRSState:
    """What a ``callback`` sees during a run (return True to stop).

    Attributes
    ----------
    iteration : int
        Pivots so far (0 in phase 1).
    loss : float
        Loss at the current point.
    region_changes, kinks_crossed : int
    step : float
        Ray parameter of the last move (0 while certifying).
    elapsed : float
        Wall seconds since the start of the run.
    n_vertices : int
        Vertices recorded so far (0 in phase 1).
    pivots_per_second : float
        Walk pivots per wall second (phase 1 excluded).
    n_collapsed : int
        Trained-layer units pinned at exact zero.
    phase : str
        ``"phase1"``, ``"walk"`` or ``"certify"``.
    lp_solves : int
        Cell LPs solved by the certificate so far (phase ``"certify"``).
    basis_kinks : int
        Kinks in the basis: fewer than ``D`` in phase 1 (its progress), ``D`` at a vertex.
    """

    iteration: int
    loss: float
    region_changes: int
    kinks_crossed: int
    step: float
    elapsed: float
    n_vertices: int
    pivots_per_second: float = 0.0
    n_collapsed: int = 0
    phase: str = "walk"
    lp_solves: int = 0
    basis_kinks: int = 0


#: The callback of a run: ``callback(state) -> bool | None``; True stops.
DRSCallback = Callable[[DRSState], "bool | None"]


class Halt(Exception):
    """Raised by :class:`CertifyBudget` to end the certification early (internal; never escapes the run)."""

    def __init__(self, status: DRSStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class CertifyBudget:
    """The budget of the certification phase: polled before every cell LP.

    Raises :class:`Halt` when the time budget of the run is spent or the callback asks to stop, and
    logs a progress line every :data:`PROGRESS_SECONDS`.
    """

    def __init__(
        self,
        *,
        callback: DRSCallback | None,
        time_limit: float | None,
        t_start: float,
        state: DRSState,
    ) -> None:
        self.callback = callback
        self.time_limit = time_limit
        self.t_start = t_start
        self.state = state
        self.lps = 0
        self._next_log = time.perf_counter() + PROGRESS_SECONDS

    def __call__(self) -> None:
        """One more LP is about to be solved."""
        now = time.perf_counter()
        elapsed = now - self.t_start
        if self.time_limit is not None and elapsed >= self.time_limit:
            raise Halt(
                DRSStatus.TIME_LIMIT,
                f"stopped at the time limit while certifying the end vertex ({self.lps} cell LPs solved)",
            )
        if now >= self._next_log:
            self._next_log = now + PROGRESS_SECONDS
            logger.info("certifying the vertex of loss %.10g: %d cell LPs solved", self.state.loss, self.lps)
        if self.callback is not None:
            s = self.state
            state = DRSState(
                iteration=s.iteration,
                loss=s.loss,
                region_changes=s.region_changes,
                kinks_crossed=s.kinks_crossed,
                step=0.0,
                elapsed=elapsed,
                n_vertices=s.n_vertices,
                pivots_per_second=s.pivots_per_second,
                n_collapsed=s.n_collapsed,
                phase="certify",
                lp_solves=self.lps,
                basis_kinks=s.basis_kinks,
            )
            if self.callback(state):
                raise Halt(
                    DRSStatus.STOPPED,
                    f"stopped by the callback while certifying the end vertex ({self.lps} cell LPs solved)",
                )
        self.lps += 1

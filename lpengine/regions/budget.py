"""Budgets of a region search: ``max_regions``, ``time_limit`` and the progress callback.

One :class:`Budget` is shared by the serial search and the work sharing; it is
asked before each step whether the search must stop, and why.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .result import EnumerationProgress

__all__ = ["Budget"]

# The callback sees the first region at once, then at most once per this many seconds.
_REPORT_EVERY = 0.5


class Budget:
    """The stopping rules of one search.

    Parameters
    ----------
    max_regions : int, optional
        Stop once this many regions are counted.
    deadline : float, optional
        Stop once ``time.perf_counter()`` passes this.
    callback : callable, optional
        ``callback(EnumerationProgress) -> bool | None``, called about twice a
        second; True stops the search.
    t0 : float
        ``time.perf_counter()`` at the start (for the progress's ``seconds``).
    """

    def __init__(
        self,
        max_regions: int | None,
        deadline: float | None,
        callback: Callable[[EnumerationProgress], bool | None] | None,
        t0: float,
    ) -> None:
        self.max_regions, self.deadline, self.callback, self.t0 = max_regions, deadline, callback, t0
        self.last_report = float("-inf")
        #: Processes doing region work now (set by the work sharing and the Dask driver).
        self.workers = 1

    def elapsed(self) -> float:
        """Seconds since the search started."""
        return time.perf_counter() - self.t0

    def stop_reason(self, n_regions: int, queued: int, lp_solves: int) -> str | None:
        """Why the search must stop now, or ``None`` to go on."""
        if self.max_regions is not None and n_regions >= self.max_regions:
            return f"stopped at max_regions = {self.max_regions}"
        now = time.perf_counter()
        if self.deadline is not None and now > self.deadline:
            return "stopped at time_limit"
        if self.callback is not None and now - self.last_report > _REPORT_EVERY:
            self.last_report = now
            if self.callback(EnumerationProgress(n_regions, queued, lp_solves, now - self.t0, self.workers)):
                return "stopped by callback"
        return None

"""Why a Deep ReLU Simplex walk ended: one enum instead of bare strings.

:class:`DRSStatus` is a :class:`enum.StrEnum`, so ``res.status == "local_minimum"`` keeps working and
``str(res.status)`` is the plain value (JSON, graph attributes).
"""

from __future__ import annotations

import enum

__all__ = ["DRSStatus"]


class DRSStatus(enum.StrEnum):
    """End state of a walk.

    ``LOCAL_MINIMUM``: no descending edge (see the certificate for what was proved);
    ``MAX_PIVOTS`` / ``TIME_LIMIT``: a budget ran out; ``STOPPED``: the callback asked to stop;
    ``INTERRUPTED``: Ctrl-C (``KeyboardInterrupt``) in phase 1, the walk or the certificate, which ends
    cleanly at the last vertex (budgets and the callback are polled in every phase too); ``UNBOUNDED``: the loss decreases without bound along a ray (impossible for
    L1 / quantile losses, possible for argument minimisation); ``STALLED``: a run of zero-length
    pivots exceeded its cap, or the HiGHS engine's last LP optimum is not a vertex.
    """

    LOCAL_MINIMUM = "local_minimum"
    MAX_PIVOTS = "max_pivots"
    TIME_LIMIT = "time_limit"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"
    UNBOUNDED = "unbounded"
    STALLED = "stalled"

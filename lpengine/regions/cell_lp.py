"""LP primitives on one cell ``{x : G x <= h}`` that both the domain and the region geometry use.

* :func:`chebyshev_center` - the largest inscribed ball (the LP ``max r s.t. G x + r <= h``);
* :func:`statuses_handled` - the context in which region LPs run when their caller acts on every status.

They live here, apart from :mod:`.polytope` (which imports :mod:`.domain` for the
:class:`~.domain.Domain` type), so that :mod:`.domain` can use them without an import cycle.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import InaccurateSolutionWarning
from ..lp import LinearProgram, LPCounters, LPStatus, open_solver
from ..tolerances import Tolerances

__all__ = ["chebyshev_center", "statuses_handled"]


@contextlib.contextmanager
def statuses_handled() -> Iterator[None]:
    """Silence :class:`InaccurateSolutionWarning` around region LPs whose caller acts on every status.

    The region search reads any status other than a clean OPTIMAL (INACCURATE
    included) as "undecided in floats" and decides exactly; the warning, meant
    for callers that would otherwise trust the answer, would only be noise.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InaccurateSolutionWarning)
        yield


def chebyshev_center(
    G: NDArray[np.float64],
    h: NDArray[np.float64],
    *,
    r_max: float,
    tol: Tolerances,
    counters: LPCounters | None = None,
    backend: Any = "highs",
) -> tuple[NDArray[np.float64] | None, float, LPStatus]:
    """Largest ball ``{|x - x*| <= r*}`` inside ``{G x <= h}`` (rows normalised), capped at ``r_max``.

    LP: ``max r  s.t.  G x + r 1 <= h,  0 <= r <= r_max``.  Returns ``(x*, r*, status)``;
    ``x*`` is ``None`` when the LP has no optimum (an empty region gives INFEASIBLE).
    """
    m, d = G.shape
    A = np.hstack([G, np.ones((m, 1))])
    lp = LinearProgram(
        c=np.concatenate([np.zeros(d), [-1.0]]),
        A=A,
        row_upper=h,
        col_lower=np.concatenate([np.full(d, -np.inf), [0.0]]),
        col_upper=np.concatenate([np.full(d, np.inf), [r_max]]),
    )
    with statuses_handled(), open_solver(lp, tol=tol, backend=backend) as s:
        res = s.solve()
        if counters is not None:
            counters.merge(s.counters)
    if res.status is not LPStatus.OPTIMAL or res.x is None:
        return None, 0.0, res.status
    return res.x[:d], float(res.x[d]), res.status

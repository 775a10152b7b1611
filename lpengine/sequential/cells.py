"""The cells of one hidden unit's weight space: the central arrangement ``{w : (x_i, 1) . w = 0}``.

A unit's possible activation patterns on inputs ``x_1..x_n`` are the sign
vectors of the full-dimensional cells of this arrangement in ``R^{n_in + 1}``.
They are built point by point: a sign vector extends by ``+`` or ``-`` when
the open cone ``(2 s_i - 1) (x_i, 1) . w >= 1`` stays feasible (one LP each,
through :mod:`lpengine.lp`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import check_array
from ..exceptions import InvalidProblemError, SolverError
from ..lp import LinearProgram, LPStatus, solve
from ..tolerances import Tolerances, resolve_tolerances
from .pattern_lp import augment

__all__ = ["weight_space_cells"]


def _open_cone_feasible(rows: NDArray[np.float64], signs: NDArray[np.bool_], backend: Any, t: Tolerances) -> bool:
    """Is ``{w : (2 s_i - 1) rows_i . w > 0 for all i}`` non-empty?  (LP with right-hand side 1.)"""
    sg = np.where(signs, 1.0, -1.0)[:, None] * rows
    lp = LinearProgram(c=np.zeros(rows.shape[1]), A=sg, row_lower=np.ones(rows.shape[0]))
    res = solve(lp, backend=backend, tol=t)
    if res.status is LPStatus.OPTIMAL:
        return True
    if res.status is LPStatus.INFEASIBLE:
        return False
    raise SolverError(
        f"a cell LP ended with status {res.status.value} ({res.message}); expected optimal or infeasible."
    )


def weight_space_cells(
    X: Any, *, backend: Any = "highs", tol: Tolerances | None = None
) -> tuple[tuple[bool, ...], ...]:
    """Full-dimensional cells of the central arrangement ``{w : (x_i, 1) · w = 0}`` in ``R^{n_in + 1}``.

    Each cell is named by its sign vector (``True``: ``(x_i, 1) . w > 0``),
    listed in lexicographic order with ``False < True``.  One hidden unit's
    possible activation patterns on ``X`` are exactly these sign vectors.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_in)
    backend : str, default "highs"
    tol : Tolerances, optional

    Returns
    -------
    tuple of tuple of bool

    Notes
    -----
    For ``n_in = 1`` and distinct inputs there are exactly ``2 n`` cells (lines
    through the origin of the plane in ``n`` directions); in general at most
    ``2 sum_{k < n_in + 1} C(n - 1, k)`` (Cover 1965).

    Examples
    --------
    >>> len(weight_space_cells([[0.0], [0.5], [1.0]]))
    6
    """
    t = resolve_tolerances(tol)
    X = check_array(X, "X", ndim=2, error=InvalidProblemError)
    Xa = augment(X)
    cells: list[tuple[bool, ...]] = [()]
    for i in range(Xa.shape[0]):
        cells = refine_cells(cells, Xa[: i + 1], backend, t)
    return tuple(sorted(cells))


def refine_cells(
    cells: list[tuple[bool, ...]], Xa_prefix: NDArray[np.float64], backend: Any, t: Tolerances
) -> list[tuple[bool, ...]]:
    """The cells of the arrangement of ``Xa_prefix`` (augmented rows): each of ``cells`` extended by both signs."""
    out = []
    for c in cells:
        for s in (False, True):
            cand = c + (s,)
            if _open_cone_feasible(Xa_prefix, np.array(cand, dtype=bool), backend, t):
                out.append(cand)
    return out

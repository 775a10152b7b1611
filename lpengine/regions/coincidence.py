"""Which rows of a region lie on one hyperplane: a float screen with error bounds, then an exact decision.

Two rows of a region bound the same oriented halfspace only if their exact rows (the
float64 weights taken as rational numbers) are positively proportional.  Deciding that
for every pair in integers would cost far too much, and deciding it in floats is wrong
both ways: rows ``5e-11`` apart are distinct hyperplanes (``tol.coincident`` must not
merge them), and two exactly coincident rows can differ in floats by far more than
``tol.coincident`` (a deep unit composed through a cancelling chain, see
``tests/regions/test_coincident_rows.py``).  So the decision is split:

1. **Float screen.**  Every float row is within a proved distance of its exact row
   (:class:`~.implied.RowErrors`, and the region-wide bound ``rho``).  Two rows whose
   floats are further apart than the sum of their bounds (plus the rounding of the
   screen itself) cannot be exactly coincident.  A one-number-per-row sort dismisses the
   common case (no two rows close) in ``O(m log m)``; the surviving pairs go through the
   per-row screen :func:`~.implied.coincidence_screen`.  The screen never drops an exact
   twin; it may propose rows that are merely close.
2. **Exact decision.**  Each proposed pair is decided by the exact test ``same(i, j)``
   (integer proportionality of the exact rows, :func:`~.exact.same_hyperplane`).

:class:`ExactCoincidence` carries both; :func:`coincident_groups` and
:func:`coincident_rows` also accept a plain callable (float candidates within
``tol.coincident``, each confirmed by it) or nothing (the float candidates alone).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from ..roundoff import UNIT_ROUNDOFF
from ..tolerances import Tolerances
from .implied import RowErrors, coincidence_screen

__all__ = ["SameHyperplane", "ExactCoincidence", "coincident_rows", "coincident_groups"]


#: Exact test "rows i and j bound the same halfspace" (see :func:`coincident_rows`).
SameHyperplane = Callable[[int, int], bool]


class ExactCoincidence:
    """Which of a region's rows bound one and the same halfspace: floats screen, integers decide.

    Called as ``same(i, j)`` it is the exact test (integer proportionality of the
    exact rows).  :meth:`groups` finds, for given rows, *every* row on the same
    oriented hyperplane: a float screen with the rows' rounding-error bounds
    proposes the candidates (two exactly coincident rows can differ in floats by
    far more than ``tol.coincident``, e.g. a deep unit composed through a cancelling
    chain), and the exact test decides each.

    Parameters
    ----------
    same : callable
        ``same(i, j) -> bool``, exact.
    errors : callable
        Returns the region's :class:`~.implied.RowErrors` (computed when first needed).
    rho : float
        A bound valid for every row of the region: ``|G - l g| <= rho`` and
        ``|h - l c| <= rho (1 + |h|)`` elementwise for some ``l > 0`` (``(g, c)`` the
        exact row).  It gives a screen that needs no per-row bound (the common case:
        no two offsets close enough), before the per-row bounds of ``errors``.
    n_rows : int, optional
        Only rows ``0 .. n_rows - 1`` are the region's (see :meth:`restricted`); a row
        past them (one the caller appended, such as an artificial box's face)
        coincides with no other row.
    """

    __slots__ = ("same", "_errors", "_rows_errors", "rho", "n_rows")

    def __init__(
        self, same: SameHyperplane, errors: Callable[[], RowErrors], rho: float, n_rows: int | None = None
    ) -> None:
        self.same, self._errors, self.rho, self.n_rows = same, errors, rho, n_rows
        self._rows_errors: RowErrors | None = None

    def __call__(self, i: int, j: int) -> bool:
        n = self.n_rows
        if n is not None and (i >= n or j >= n):
            return i == j
        return self.same(i, j)

    def restricted(self, n_rows: int) -> ExactCoincidence:
        """The same test for a matrix whose first ``n_rows`` rows are the region's and the rest extra rows.

        The hybrid method appends an artificial box to a region's rows: a box face is
        grouped with no row, and the region's rows keep the exact screen and test
        (the error bounds, computed once, are shared with this object).
        """
        return ExactCoincidence(self.same, self.errors, self.rho, n_rows)

    def errors(self) -> RowErrors:
        """The region's row error bounds (computed once)."""
        if self._rows_errors is None:
            self._rows_errors = self._errors()
        return self._rows_errors

    def groups(
        self, G: NDArray[np.float64], h: NDArray[np.float64], rows: NDArray[np.intp]
    ) -> list[NDArray[np.intp]] | None:
        """For each row in ``rows``, every row with exactly its oriented halfspace; ``None`` if each is alone.

        First screen, on one number per row, ``q_i = h_i + p . G_i`` (``p`` a fixed unit vector
        with generic entries, so that rows with equal offsets, like a box's faces, differ):
        with ``e = sqrt(d) rho`` bounding every ``|EG_i|_2`` and ``Eh_i <= rho (1 + H)``
        (``H >= max |h|``; ``|h_i| <= |q_i| + |G_i|_2``), two exactly coincident rows have
        ``|G_i - G_j|_2 <= 2 e + k`` and ``|h_i - h_j| <= 2 rho (1 + H) + 2 k (H + rho (1 + H))``,
        ``k = 2 e + 2 (d + 4) u`` (:func:`~.implied.coincidence_screen`), so ``|q_i - q_j|`` is at
        most their sum; doubled here.  No two sorted ``q`` that close: no two rows coincide
        (a sort, no pairwise array).  Otherwise the pairs passing go to the per-row screen,
        then to the exact test.  With ``n_rows`` set, rows past it are each alone.
        """
        n = self.n_rows
        if n is not None and G.shape[0] > n:
            inner = rows < n
            grouped = self.groups(G[:n], h[:n], rows[inner])
            if grouped is None:
                return None
            it = iter(grouped)
            return [
                next(it) if k else np.array([i], dtype=np.intp)
                for i, k in zip(rows.tolist(), inner.tolist(), strict=True)
            ]
        m, d = G.shape
        nr = rows.shape[0]
        if nr == 0 or m < 2:
            return None
        q = G @ _probe(d)
        q += h
        qs = np.sort(q)
        rho = self.rho
        e = math.sqrt(d) * rho
        k = 2.0 * e + 2.0 * (d + 4) * UNIT_ROUNDOFF
        if e + (d + 4) * UNIT_ROUNDOFF > 0.5:
            thr = math.inf
        else:
            H = max(-float(qs[0]), float(qs[-1])) + 1.0 + k
            eh = rho * (1.0 + H)
            thr = 2.0 * (2.0 * eh + 2.0 * k * (H + eh) + 2.0 * e + k)
            if float((qs[1:] - qs[:-1]).min()) > thr:
                return None  # no two rows within the bound
        close = np.abs(q[rows][:, None] - q[None, :]) <= thr
        if int(np.count_nonzero(close)) <= nr:
            return None  # each row matches itself only
        err = self.errors()
        out: list[NDArray[np.intp]] = []
        alone = True
        for t, i in enumerate(rows.tolist()):
            cand = np.flatnonzero(close[t])
            if cand.shape[0] > 1:
                cand = cand[coincidence_screen(G, h, err, rows[t : t + 1], cand)[0]]
                cand = np.array([j for j in cand.tolist() if j == i or self.same(i, j)], dtype=np.intp)
                alone = alone and cand.shape[0] == 1
            out.append(cand)
        return None if alone else out


@functools.lru_cache(maxsize=16)
def _probe(d: int) -> NDArray[np.float64]:
    """A fixed unit vector in R^d with generic entries (square roots of 2, 3, 5, ...; read-only)."""
    primes = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]
    raw = np.sqrt(np.array([primes[i % 12] * (1 + i // 12) for i in range(d)], dtype=np.float64))
    p = raw / np.linalg.norm(raw)
    p.flags.writeable = False
    return p


def coincident_rows(
    G: NDArray[np.float64], h: NDArray[np.float64], i: int, tol: Tolerances, same: SameHyperplane | None = None
) -> NDArray[np.intp]:
    """Rows whose halfspace equals row ``i``'s.

    With an :class:`ExactCoincidence`, every exactly coincident row (its float
    screen with the rows' error bounds, then the exact test).  With a plain exact
    test ``same``, the candidates are the rows within ``tol.coincident`` of row
    ``i`` in floats, each confirmed by ``same``: exact rows that floats put
    further apart are missed.  Without ``same``, the float candidates themselves.
    """
    return coincident_groups(G, h, np.array([i], dtype=np.intp), tol, same)[0]


def coincident_groups(
    G: NDArray[np.float64],
    h: NDArray[np.float64],
    rows: NDArray[np.intp],
    tol: Tolerances,
    same: SameHyperplane | None = None,
) -> list[NDArray[np.intp]]:
    """For each row in ``rows``, every row with the same oriented halfspace (see :func:`coincident_rows`).

    Each group holds its own row; with an :class:`ExactCoincidence` whose screen finds no
    twin, every group is that row alone.
    """
    if isinstance(same, ExactCoincidence):
        groups = same.groups(G, h, rows)
        return list(rows[:, None]) if groups is None else groups
    diff = np.maximum(
        np.max(np.abs(G[rows][:, None, :] - G[None, :, :]), axis=2), np.abs(h[rows][:, None] - h[None, :])
    )
    groups = [np.flatnonzero(r) for r in diff <= tol.coincident]
    if same is None:
        return groups
    out = []
    for i, grp in zip(rows.tolist(), groups, strict=True):
        if grp.size > 1:
            grp = np.array([j for j in grp.tolist() if j == i or same(i, j)], dtype=np.intp)
        out.append(grp)
    return out

"""Rows proved redundant at every distance, from a float LP's duals and a rigorous error bound.

In an unbounded domain a region ``P = {x : G x <= h}`` reaches arbitrarily far,
and the float rows are only accurate to ``O(|x|)`` times their rounding error:
two rows that floats call parallel (or crossing at the wrong place) may
truly cross ``1e16`` away and bound a facet there.  A float facet LP that
calls row ``k`` redundant is therefore trusted only with a certificate that
holds for the *exact* rows at *every* ``x``:

    ``y >= 0`` with ``g_k = sum_{i in B} y_i g_i`` and ``gap = h_k - sum_{i in B} y_i h_i > 0``

(then ``g_k x - h_k <= -gap < 0`` on the closure of ``P``: row ``k`` is never
tight, so it is no facet).  ``B`` is the ``d`` rows with the largest LP
duals; ``y`` is the unique solution of the exact square system
``G_B^T y = g_k``.  It is not computed exactly: a float solution ``y_f`` and a
rigorous bound on ``|y - y_f|`` (the residual of ``y_f`` for the exact data over a
verified bound on the inverse, Higham, *Accuracy and Stability*, ch. 7; the
standard ``gamma_n`` bounds for float dot products) decide it whenever ``y``
is clearly positive and ``gap`` clearly positive, which is the generic case.
When fewer than ``d`` rows carry the duals (deep layers make rows exactly
dependent: under a pattern with two active first-layer units every
second-layer row lies in their span), no float bound can prove the exact
identity; the certificate is then checked on the exact integer rows (a
small rational least-squares solve, verified by substitution).  Only if
that fails too is the row *borderline*, and the search decides its one-flip
pattern exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["RowErrors", "certified_redundant"]

_U = 2.0**-53
# Relative slack on every bound below: covers the rounding of the bound computations themselves
# (sums of nonnegative terms, relative error below 1e-14 for these sizes).
_SAFETY = 1.01


class RowErrors:
    """What the certificate needs to know about the float rows' distance from the exact ones.

    ``EG``, ``Eh`` bound ``|G - G_exact|``, ``|h - h_exact|`` elementwise for some positive
    rescaling of each exact row (the rescaling changes no set and no certificate);
    ``exact_rows()`` gives the exact integer rows ``P`` (region ``P . (x, 1) > 0``, same
    order as ``G``), computed only when a float certificate fails.
    """

    __slots__ = ("EG", "Eh", "exact_rows")

    def __init__(
        self, EG: NDArray[np.float64], Eh: NDArray[np.float64], exact_rows: Callable[[], NDArray[Any]] | None = None
    ) -> None:
        self.EG, self.Eh, self.exact_rows = EG, Eh, exact_rows


def _gamma(n: int) -> float:
    return n * _U / (1.0 - n * _U)


def certified_redundant(
    G: NDArray[np.float64],
    h: NDArray[np.float64],
    errors: RowErrors,
    k: int,
    duals: NDArray[np.float64] | None,
) -> bool:
    """True if row ``k`` of ``{G x <= h}`` is proved strictly slack on the whole closed region, exact rows.

    ``duals`` are nonnegative multipliers of the other rows from a float LP
    ``max g_k . x`` over the region (``g_k ~ sum y_i g_i``); only their support
    is used.  False means "not proved" (never "a facet").
    """
    m, d = G.shape
    if duals is None or m <= 1:
        return False
    y_lp = np.where(np.arange(m) == k, -np.inf, duals)
    B = np.argsort(-y_lp, kind="stable")[:d]
    B = B[y_lp[B] > 0.0]
    if B.size == d and _float_certificate(G, h, errors, k, B):
        return True
    # Fewer than d rows carry the duals, or the floats are not clear: the exact rows decide.
    return B.size > 0 and errors.exact_rows is not None and _exact_certificate(errors.exact_rows(), k, B)


def _exact_certificate(P: NDArray[Any], k: int, B: NDArray[np.intp]) -> bool:
    """Exactly: ``a_k = sum_B y_i a_i`` with ``y >= 0`` and ``beta_k - sum_B y_i beta_i > 0`` (rows ``(a, beta)``)."""
    import flint

    d = P.shape[1] - 1
    idx = B.tolist()
    A = flint.fmpq_mat(d, len(idx), [int(P[i, j]) for j in range(d) for i in idx])
    b = flint.fmpq_mat(d, 1, [int(P[k, j]) for j in range(d)])
    At = A.transpose()
    try:
        y = (At * A).solve(At * b)
    except ZeroDivisionError:
        return False  # the support rows are dependent
    if A * y != b:
        return False
    ys = [y[i, 0] for i in range(len(idx))]
    if any(v < 0 for v in ys):
        return False
    gap = flint.fmpq(int(P[k, d])) - sum((v * int(P[i, d]) for v, i in zip(ys, idx, strict=True)), flint.fmpq(0))
    return bool(gap > 0)


def _float_certificate(
    G: NDArray[np.float64], h: NDArray[np.float64], errors: RowErrors, k: int, B: NDArray[np.intp]
) -> bool:
    """The certificate on the square system ``G_B^T y = g_k``, decided in floats with a rigorous bound."""
    d = G.shape[1]
    M = G[B].T
    EM = errors.EG[B].T
    g, eg = G[k], errors.EG[k]
    try:
        X = np.linalg.inv(M)
    except np.linalg.LinAlgError:
        return False
    if not np.all(np.isfinite(X)):
        return False
    aX, aM = np.abs(X), np.abs(M)
    g1 = _gamma(d + 1)
    # theta >= || I - X M_exact ||_inf: the float product's error, then the data's.
    E = np.abs(np.eye(d) - X @ M) + g1 * (aX @ aM) + aX @ EM
    theta = _SAFETY * float(E.sum(axis=1).max())
    if not theta < 0.5:
        return False
    inv_norm = _SAFETY * float(aX.sum(axis=1).max()) / (1.0 - theta)  # >= || M_exact^{-1} ||_inf
    y = X @ g
    ay = np.abs(y)
    r = np.abs(g - M @ y) + g1 * (np.abs(g) + aM @ ay) + eg + EM @ ay
    dy = inv_norm * _SAFETY * float(r.max())  # >= | y_exact - y |_inf
    if not float(y.min()) > dy:
        return False
    hB, ehB = h[B], errors.Eh[B]
    gap = float(h[k] - y @ hB)
    err = _SAFETY * (
        g1 * (abs(float(h[k])) + float(ay @ np.abs(hB)))
        + float(errors.Eh[k])
        + float(ay @ ehB)
        + dy * float(np.sum(np.abs(hB) + ehB))
    )
    return gap > err

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

__all__ = ["RowErrors", "certified_redundant", "certified_on_supports", "inverse_bound", "gamma", "BOUND_SAFETY"]

_U = 2.0**-53
#: Relative slack on every error bound: covers the rounding of the bound computations themselves
#: (sums of nonnegative terms, relative error below 1e-14 for these sizes).
BOUND_SAFETY = 1.01


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


def gamma(n: int) -> float:
    """``gamma_n = n u / (1 - n u)``: a float dot product of length ``n`` errs by at most ``gamma_n |a| . |b|``."""
    return n * _U / (1.0 - n * _U)


def inverse_bound(M: NDArray[np.float64], EM: NDArray[np.float64]) -> float | None:
    """A rigorous upper bound on ``|M_exact^{-1}|_inf`` for every ``M_exact`` with ``|M_exact - M| <= EM``.

    ``X ~ M^{-1}`` in floats; ``theta >= |I - X M_exact|_inf`` (the float product's
    error, then the data's); then ``|M_exact^{-1}| <= |X| / (1 - theta)``.  ``None``
    when ``M`` is singular in floats or ``theta >= 1/2``.
    """
    d = M.shape[0]
    try:
        X = np.linalg.inv(M)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(X)):
        return None
    aX = np.abs(X)
    E = np.abs(np.eye(d) - X @ M) + gamma(d + 1) * (aX @ np.abs(M)) + aX @ EM
    theta = BOUND_SAFETY * float(E.sum(axis=1).max())
    if not theta < 0.5:
        return None
    return BOUND_SAFETY * float(aX.sum(axis=1).max()) / (1.0 - theta)


def certified_redundant(
    G: NDArray[np.float64],
    h: NDArray[np.float64],
    errors: RowErrors,
    rows: list[int],
    duals: list[NDArray[np.float64] | None],
) -> NDArray[np.bool_]:
    """For each row ``k`` in ``rows``: is it proved strictly slack on the whole closed region (exact rows)?

    ``duals[t]`` are nonnegative multipliers of the other rows from a float LP
    ``max g_k . x`` over the region (``g_k ~ sum y_i g_i``), for ``k = rows[t]``;
    only their support is used.  False means "not proved" (never "a facet").
    The float certificates of all rows are checked in one batch.
    """
    m, d = G.shape
    n = len(rows)
    supports = np.full((n, d), -1, dtype=np.intp)
    for t, (k, y) in enumerate(zip(rows, duals, strict=True)):
        if y is None or m <= 1:
            continue
        y_lp = y.copy()
        y_lp[k] = -np.inf
        B = np.argpartition(-y_lp, d - 1)[:d] if m > d else np.argsort(-y_lp)[:d]
        B = B[y_lp[B] > 0.0]
        supports[t, : B.size] = B
    return certified_on_supports(G, h, errors, np.asarray(rows, dtype=np.intp), supports)


def certified_on_supports(
    G: NDArray[np.float64],
    h: NDArray[np.float64],
    errors: RowErrors,
    rows: NDArray[np.intp],
    supports: NDArray[np.intp],
) -> NDArray[np.bool_]:
    """:func:`certified_redundant` given each row's support ``B`` directly (the rows whose multipliers may be > 0).

    ``supports`` has shape ``(n, d)``: row ``t`` lists the support of ``rows[t]``,
    padded with ``-1`` when it has fewer than ``d`` rows.  Full supports are
    decided in floats in one batch; the others, and full ones the floats leave
    open, by the exact rows (when ``errors`` can give them).
    """
    n, d = supports.shape
    ok = np.zeros(n, dtype=bool)
    full = np.flatnonzero((supports >= 0).all(axis=1))
    if full.size:
        ok[full] = _float_certificates(G, h, errors, rows[full], supports[full])
    for t in np.flatnonzero(~ok).tolist():
        # Fewer than d rows carry the multipliers, or the floats are not clear: the exact rows decide.
        B = supports[t][supports[t] >= 0]
        if B.size and errors.exact_rows is not None:
            ok[t] = _exact_certificate(errors.exact_rows(), int(rows[t]), B)
    return ok


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


def _float_certificates(
    G: NDArray[np.float64], h: NDArray[np.float64], errors: RowErrors, ks: NDArray[np.intp], Bs: NDArray[np.intp]
) -> NDArray[np.bool_]:
    """The certificates on the square systems ``G_B^T y = g_k``, decided in floats with a rigorous bound.

    ``ks`` has shape ``(n,)`` and ``Bs`` ``(n, d)``; batched over ``n``.
    """
    n, d = Bs.shape
    M = G[Bs].transpose(0, 2, 1)  # M[t] = G[B_t]^T
    EM = errors.EG[Bs].transpose(0, 2, 1)
    g, eg = G[ks], errors.EG[ks]
    try:
        X = np.linalg.inv(M)
    except np.linalg.LinAlgError:
        # Some basis is singular: no unique multipliers there; the others one by one.
        out = np.zeros(n, dtype=bool)
        for t in range(n):
            if np.linalg.matrix_rank(M[t]) == d:
                out[t] = bool(_float_certificates(G, h, errors, ks[t : t + 1], Bs[t : t + 1])[0])
        return out
    aX, aM = np.abs(X), np.abs(M)
    g1 = gamma(d + 1)
    # theta >= || I - X M_exact ||_inf: the float product's error, then the data's.
    E = np.abs(np.eye(d) - X @ M) + g1 * (aX @ aM) + aX @ EM
    theta = BOUND_SAFETY * E.sum(axis=2).max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_norm = BOUND_SAFETY * aX.sum(axis=2).max(axis=1) / (1.0 - theta)  # >= || M_exact^{-1} ||_inf
    y = np.einsum("nij,nj->ni", X, g)
    ay = np.abs(y)
    r = (
        np.abs(g - np.einsum("nij,nj->ni", M, y))
        + g1 * (np.abs(g) + np.einsum("nij,nj->ni", aM, ay))
        + eg
        + np.einsum("nij,nj->ni", EM, ay)
    )
    dy = inv_norm * BOUND_SAFETY * r.max(axis=1)  # >= | y_exact - y |_inf
    hB, ehB = h[Bs], errors.Eh[Bs]
    ahB = np.abs(hB)
    gap = h[ks] - (y * hB).sum(axis=1)
    err = BOUND_SAFETY * (
        g1 * (np.abs(h[ks]) + (ay * ahB).sum(axis=1))
        + errors.Eh[ks]
        + (ay * ehB).sum(axis=1)
        + dy * (ahB + ehB).sum(axis=1)
    )
    ok = (theta < 0.5) & (y.min(axis=1) > dy) & (gap > err)
    return np.asarray(ok & np.isfinite(dy) & np.isfinite(err), dtype=bool)

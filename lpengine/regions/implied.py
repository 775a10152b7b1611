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

from ..roundoff import UNIT_ROUNDOFF, gamma

__all__ = [
    "RowErrors",
    "certified_redundant",
    "certified_on_supports",
    "coincidence_screen",
    "float_certified",
    "inverse_bound",
    "BOUND_SAFETY",
]

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


def coincidence_screen(
    G: NDArray[np.float64], h: NDArray[np.float64], errors: RowErrors, reps: NDArray[np.intp], cols: NDArray[np.intp]
) -> NDArray[np.bool_]:
    """Which rows ``cols`` may lie exactly on the oriented hyperplane of each row in ``reps`` (False: certainly not).

    Returns a boolean array of shape ``(len(reps), len(cols))``.  Let rows ``i`` and
    ``j`` be exactly coincident with the same orientation: one exact row ``(g, c)``
    with ``|G_i - l_i g| <= EG_i``, ``|h_i - l_i c| <= Eh_i`` (some ``l_i > 0``), and
    likewise for ``j``.  The float rows are normalised (``|G_i|_2 = 1`` up to
    ``(d + 4) u``), so with ``e_i = |EG_i|_2``,
    ``|l_i - l_j| |g| <= k_ij = e_i + e_j + 2 (d + 4) u``, and

    * ``|G_i - G_j|_2 <= e_i + e_j + k_ij``;
    * ``|h_i - h_j| <= Eh_i + Eh_j + 2 k_ij (|h_i| + Eh_i)`` (as ``|c| <= (|h_i| + Eh_i) / l_i``
      and ``l_i |g| >= 1/2`` while ``e_i + (d + 4) u <= 1/2``; a larger error screens nothing out).

    Both bounds are doubled here, which covers the rounding of this very test many
    times over; a screen that lets more through only costs exact checks.
    """
    d = G.shape[1]
    e = np.sqrt(np.einsum("ij,ij->i", errors.EG, errors.EG))
    ei, ej = e[reps][:, None], e[cols][None, :]
    k = ei + ej + 2.0 * (d + 4) * UNIT_ROUNDOFF
    dG = G[reps][:, None, :] - G[cols][None, :, :]
    near_g = np.sqrt(np.einsum("ijk,ijk->ij", dG, dG)) <= 2.0 * (ei + ej + k)
    Ehi, Ehj = errors.Eh[reps][:, None], errors.Eh[cols][None, :]
    near_h = np.abs(h[reps][:, None] - h[cols][None, :]) <= 2.0 * (
        Ehi + Ehj + 2.0 * k * (np.abs(h[reps])[:, None] + Ehi)
    )
    wild = ei + (d + 4) * UNIT_ROUNDOFF > 0.5  # no bound on l_i: nothing screened out
    return np.asarray((near_g & near_h) | wild, dtype=bool)


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
    *,
    second: Callable[[NDArray[np.intp]], NDArray[np.bool_]] | None = None,
) -> NDArray[np.bool_]:
    """:func:`certified_redundant` given each row's support ``B`` directly (the rows whose multipliers may be > 0).

    ``supports`` has shape ``(n, d)``: row ``t`` lists the support of ``rows[t]``,
    padded with ``-1`` when it has fewer than ``d`` rows.  Full supports are
    decided in floats in one batch; then ``second`` (if given) is asked about the
    positions ``t`` still open (another float certificate, e.g.
    :func:`float_certified` with a shifted support), and it returns which it proved;
    the rest are decided by the exact rows on ``supports`` (when ``errors`` can give them).
    """
    n, d = supports.shape
    ok = np.zeros(n, dtype=bool)
    full = np.flatnonzero((supports >= 0).all(axis=1))
    if full.size:
        ok[full] = float_certified(G, h, errors, rows[full], supports[full])
    if second is not None and not ok.all():
        todo = np.flatnonzero(~ok)
        ok[todo] = second(todo)
    for t in np.flatnonzero(~ok).tolist():
        # Fewer than d rows carry the multipliers, or the floats are not clear: the exact rows decide.
        B = supports[t][supports[t] >= 0]
        if B.size and errors.exact_rows is not None:
            ok[t] = _exact_certificate(errors.exact_rows(), int(rows[t]), B)
    return ok


def float_certified(
    G: NDArray[np.float64],
    h: NDArray[np.float64],
    errors: RowErrors,
    rows: NDArray[np.intp],
    supports: NDArray[np.intp],
    *,
    extra: NDArray[np.intp] | None = None,
    weight: NDArray[np.float64] | None = None,
) -> NDArray[np.bool_]:
    """Float certificates (rigorous error bounds) that each row ``rows[t]`` is implied, on ``d`` support rows.

    Without ``extra``: ``g_k = sum_B y_i g_i`` with ``y > 0`` and ``h_k - sum_B y_i h_i > 0``
    on the square system of :func:`certified_redundant`.  With ``extra`` (rows ``E``, shape
    ``(r,)``) and ``weight`` (``w >= 0``, shape ``(n, r)``): the certificate
    ``g_k = sum_E w_e g_e + sum_B y_i g_i``, ``h_k - sum_E w_e h_e - sum_B y_i h_i > 0``, i.e. the
    square system for the target ``g_k - sum_E w_e g_e`` (computed in floats, its rounding
    and the rows' errors added to the target's error bound).  A support padded with ``-1``
    gives False; False always means "not proved".
    """
    n, d = supports.shape
    ok = (supports >= 0).all(axis=1)
    if extra is not None:
        assert weight is not None
        ok &= np.isfinite(weight).all(axis=1) & (weight >= 0).all(axis=1)
    sel = np.flatnonzero(ok)
    out = np.zeros(n, dtype=bool)
    if sel.size == 0:
        return out
    ks, Bs = rows[sel], supports[sel]
    g, eg, hk, ehk = G[ks], errors.EG[ks], h[ks], errors.Eh[ks]
    if extra is not None and extra.size:
        assert weight is not None
        w = weight[sel]
        GE, hE = G[extra], h[extra]
        # fl(g_k - W G_E) is a float sum of r + 1 terms (r products): it errs by at most
        # gamma_{r+2} (|g_k| + W |G_E|); then the rows' own errors, weighted.
        g_r = gamma(extra.shape[0] + 2)
        eg = eg + w @ errors.EG[extra] + g_r * (np.abs(g) + w @ np.abs(GE))
        ehk = ehk + w @ errors.Eh[extra] + g_r * (np.abs(hk) + w @ np.abs(hE))
        g, hk = g - w @ GE, hk - w @ hE
    out[sel] = _float_certificates(G, h, errors, Bs, g, eg, hk, ehk)
    return out


def _exact_certificate(P: NDArray[Any], k: int, B: NDArray[np.intp]) -> bool:
    """Exactly: ``a_k = sum_B y_i a_i`` with ``y >= 0`` and ``beta_k - sum_B y_i beta_i > 0`` (rows ``(a, beta)``).

    Fraction-free Gaussian elimination (Bareiss) in Python integers on the ``d`` equations
    ``sum_i y_i a_ij = a_kj`` in the ``r = |B|`` unknowns, with row exchanges: a column with
    no nonzero pivot means the support rows are dependent (no unique ``y``: not proved);
    after ``r`` steps the remaining equations must vanish (``a_k`` in the span).  With
    ``D`` the last pivot (a nonzero ``r x r`` minor), back substitution gives the integers
    ``D y_i`` (Cramer's numerators: every division is exact), so the signs of ``y`` and of
    the gap are read without a fraction.  Converting these 200-bit integers to a FLINT
    matrix costs more than this whole elimination at ``d <= 8``.
    """
    d = P.shape[1] - 1
    idx = B.tolist()
    r = len(idx)
    sup = P[idx].tolist()
    rk = P[k].tolist()
    # Equation j: sum_i sup[i][j] y_i = rk[j], as the augmented row [sup[0][j], ..., sup[r-1][j], rk[j]].
    M = [[row[j] for row in sup] + [rk[j]] for j in range(d)]
    prev = 1
    for c in range(r):
        p = c
        while p < d and M[p][c] == 0:
            p += 1
        if p == d:
            return False  # the support rows are dependent
        if p != c:
            M[c], M[p] = M[p], M[c]
        Mc = M[c]
        pv = Mc[c]
        for j in range(c + 1, d):
            Mj = M[j]
            mj = Mj[c]
            # Bareiss step: every entry is a minor of the original matrix, so the division is exact.
            M[j] = [0] * (c + 1) + [(pv * Mj[t] - mj * Mc[t]) // prev for t in range(c + 1, r + 1)]
        prev = pv
    if any(M[j][r] != 0 for j in range(r, d)):
        return False  # a_k is not in the span of the support
    D = prev
    num = [0] * r  # num[i] = D y_i
    for i in range(r - 1, -1, -1):
        Mi = M[i]
        acc = Mi[r] * D
        for t in range(i + 1, r):
            acc -= Mi[t] * num[t]
        num[i] = acc // Mi[i]
    if D < 0:
        D = -D
        num = [-v for v in num]
    if any(v < 0 for v in num):
        return False
    return rk[d] * D - sum(sup[i][d] * num[i] for i in range(r)) > 0


def _float_certificates(
    G: NDArray[np.float64],
    h: NDArray[np.float64],
    errors: RowErrors,
    Bs: NDArray[np.intp],
    g: NDArray[np.float64],
    eg: NDArray[np.float64],
    hk: NDArray[np.float64],
    ehk: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """The certificates on the square systems ``G_B^T y = g``, decided in floats with a rigorous bound.

    ``Bs`` has shape ``(n, d)``; the targets ``g`` (``(n, d)``) and ``hk`` (``(n,)``) carry the
    error bounds ``eg``, ``ehk`` (normally a row's own ``G[k]``, ``h[k]`` and errors).
    Proved: ``y > 0`` with ``G_exact[B]^T y = g_exact`` and ``hk_exact - y . h_exact[B] > 0``.
    Batched over ``n``.
    """
    n, d = Bs.shape
    M = G[Bs].transpose(0, 2, 1)  # M[t] = G[B_t]^T
    EM = errors.EG[Bs].transpose(0, 2, 1)
    try:
        X = np.linalg.inv(M)
    except np.linalg.LinAlgError:
        # Some basis is singular: no unique multipliers there; the others one by one.
        out = np.zeros(n, dtype=bool)
        for t in range(n):
            if np.linalg.matrix_rank(M[t]) == d:
                one = slice(t, t + 1)
                out[t] = bool(_float_certificates(G, h, errors, Bs[one], g[one], eg[one], hk[one], ehk[one])[0])
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
    gap = hk - (y * hB).sum(axis=1)
    err = BOUND_SAFETY * (
        g1 * (np.abs(hk) + (ay * ahB).sum(axis=1)) + ehk + (ay * ehB).sum(axis=1) + dy * (ahB + ehB).sum(axis=1)
    )
    ok = (theta < 0.5) & (y.min(axis=1) > dy) & (gap > err)
    return np.asarray(ok & np.isfinite(dy) & np.isfinite(err), dtype=bool)

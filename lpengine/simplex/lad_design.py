"""The design of a LAD / quantile regression: rank (aliased columns), zero rows, identical observations.

These steps change no optimum: aliased columns are held at zero (the certificate then states whether
the fit is optimal with them free too), a row that is zero in every column adds a constant, and
identical observations merged with their summed weight give the same loss.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import scipy.linalg as sla
from numpy.typing import NDArray

from ..tolerances import Tolerances
from .lad_certificate import exact_column_sums

__all__ = ["aliased_columns", "loss_of_constant_rows", "merge_duplicates"]

_QR_CHUNK = 65536  # rows per block of the tall-skinny QR (bounds its memory)
# Fast path of the rank test: when every column keeps at least this fraction of its norm off the span of
# the earlier columns according to a Cholesky factor of the Gram matrix, the columns are independent far
# beyond any rank tolerance (the Gram's rounding error, ~1e-16 * 1e8, cannot close that distance), and the
# slower QR is skipped.  It decides speed only, never which columns are aliased.
_GRAM_SAFE = 1e-4


def aliased_columns(H: NDArray[np.float64], order: NDArray[np.int64], *, tol: Tolerances) -> list[int]:
    """Columns of ``H`` that are linear combinations of earlier ones (in ``order``).

    A tall-skinny QR (blocks of rows) gives ``R`` with ``R^T R = H^T H``; a
    Gram–Schmidt pass over ``R``'s columns in ``order`` then measures each
    column's distance to the span of the kept earlier ones, relative to its own
    norm (R's ``lm`` semantics: later columns are the aliased ones).

    Parameters
    ----------
    H : ndarray, shape (n, P)
    order : ndarray of int, shape (P,)
        Priority order of the columns (the intercept first).
    tol : Tolerances
        ``tol.rank`` is the relative threshold.

    Returns
    -------
    list of int
        Aliased column indices, ascending.
    """
    n, P = H.shape
    if n >= P:
        G = (H.T @ H)[np.ix_(order, order)]
        norms = np.sqrt(np.diag(G))
        if np.all(norms > 0):
            try:
                L = np.linalg.cholesky(G)
            except np.linalg.LinAlgError:
                L = None
            if L is not None and np.all(np.diag(L) >= _GRAM_SAFE * norms):
                return []
    R = np.zeros((0, P))
    for start in range(0, n, _QR_CHUNK):
        block = np.vstack([R, H[start : start + _QR_CHUNK]])
        R = sla.qr(block, mode="r", check_finite=False)[0][: min(block.shape[0], P)]
    Q = np.zeros((R.shape[0], 0))
    aliased = []
    for j in order.tolist():
        v = R[:, j].copy()
        norm = float(np.linalg.norm(v))
        for _ in range(2):  # Gram–Schmidt twice is enough (Kahan–Parlett)
            v -= Q @ (Q.T @ v)
        res = float(np.linalg.norm(v))
        if norm == 0.0 or res <= tol.rank * norm:
            aliased.append(j)
        else:
            Q = np.column_stack([Q, v / res])
    return sorted(aliased)


def loss_of_constant_rows(y: NDArray[np.float64], c: NDArray[np.float64] | None, tau: float) -> Fraction:
    """Exact ``sum c_i rho_tau(y_i)`` (rows whose prediction is identically 0)."""
    if y.size == 0:
        return Fraction(0)
    t = Fraction(tau)
    pos = exact_column_sums(y[:, None], c, y > 0)[0]
    neg = exact_column_sums(y[:, None], c, y < 0)[0]
    return t * pos + (t - 1) * neg


def merge_duplicates(
    H: NDArray[np.float64], y: NDArray[np.float64], c: NDArray[np.float64] | None, rows: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.float64] | None]:
    """Merge identical observations (same row of ``H``, same ``y``) into one with the summed weight.

    The loss is unchanged, and the walk no longer meets the ties of duplicated rows (a basis row's
    duplicates all cross at the same point, the most degenerate case).  Candidates come from a random
    projection of ``(h_i, y_i)`` (one sort of ``n`` keys); equality is then checked exactly.  A group is
    merged only when its weights sum exactly (unit or integer weights), so the problem stays the same.
    Returns the kept row indices (first of each group) and the merged weights (``None``: nothing merged
    and no weights).
    """
    if rows.size < 2:
        return rows, None
    rv = np.random.default_rng(0).standard_normal(H.shape[1] + 1)  # fixed seed: a deterministic hash
    key = H[rows] @ rv[:-1] + y[rows] * rv[-1]
    order = np.argsort(key, kind="stable")
    ks = key[order]
    same = ks[1:] == ks[:-1]
    if not np.any(same):
        return rows, None
    cand = np.unique(np.r_[order[1:][same], order[:-1][same]])
    block = np.column_stack([H[rows[cand]], y[rows[cand]]])
    _, first, inverse = np.unique(block, axis=0, return_index=True, return_inverse=True)
    w = np.ones(rows.size) if c is None else c[rows].copy()
    keep = np.ones(rows.size, dtype=bool)
    inverse = inverse.ravel()
    for g in range(first.size):
        members = cand[inverse == g]
        if members.size < 2:
            continue
        mw = w[members]
        if not np.all(mw == np.floor(mw)) or float(mw.sum()) >= 2.0**53:
            continue  # non-integer weights: their float sum may round, so leave the rows apart
        head = members.min()
        w[head] = float(mw.sum())
        keep[members[members != head]] = False
    if keep.all():
        return rows, None if c is None else w
    return rows[keep], w[keep]

"""Residuals ``r_i = y_i - a_i . beta*`` of a rational vertex: exact signs and accurate floats.

Every float64 datum is read as the rational number it represents and ``beta*`` is
an exact rational vector (a LAD vertex).  When the fit interpolates the data up to
rounding (a noiseless target), every residual is of the order of the rounding
error of ``y - A beta`` in floats, so plain floats decide no sign.  Evaluating all
``n`` residuals in rationals costs seconds; this module decides them with
vectorised error-free transformations instead, and keeps rationals for the few
rows that are exactly zero (or closer to zero than ~``u^2`` of their terms).

The evaluation, in three tiers:

1. Plain floats: ``fl(y - A fl(beta*))`` with the bound ``4 (p + 4) u (|y| + |A| |beta|)``
   (Higham's ``gamma_{p+1}`` plus the rounding of ``beta*``).  Rows far beyond
   their bound (``2^26`` times) keep this value; their sign is certain and
   their value accurate to ``2^-26`` relative.
2. Compensated: ``beta*`` is split into ``hi + lo + rem`` (``hi`` and ``lo``
   floats, ``rem`` a rational bounded by ``eb``).  Each product ``a_ij hi_j`` and
   ``a_ij lo_j`` is split exactly into two floats (Dekker's TwoProduct), so
   ``y_i - a_i . (hi + lo)`` is an exact sum of ``K = 4p + 1`` floats.  It is summed
   with Ogita, Rump & Oishi's Sum2 (*Accurate sum and dot product*, SIAM J. Sci.
   Comput. 26, 2005, Prop. 4.5: ``|res - S| <= u |S| + gamma_{K-1}^2 sum |t_k|``); the
   rest ``a_i . rem`` is at most ``|a_i| . eb``.  A sign is certain once ``|res|``
   exceeds both bounds (with a safety factor of 4).
3. Distillation, for rows still undecided when ``rem = 0`` (e.g. integer
   coefficients): repeated error-free vector sums (TwoSum cascades) keep the
   exact sum while concentrating it in one float, until that float exceeds the
   sum of the others or all the others vanish (an exact zero).  Whatever is left
   is evaluated in rationals (python-flint).

TwoProduct is exact only without underflow (and TwoSum without overflow): when a factor lies outside
``[2^-450, 2^450]``, or a target beyond ``2^450``, the compensated tier is skipped and undecided rows go to
rationals directly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import flint
import numpy as np
from numpy.typing import NDArray

from ..roundoff import UNIT_ROUNDOFF, gamma

__all__ = ["VertexResiduals", "in_safe_range", "two_product", "two_sum", "vertex_residuals"]

logger = logging.getLogger(__name__)

_SPLIT = 2.0**27 + 1.0  # Veltkamp splitting constant
# TwoProduct's error term of factors in [2^-450, 2^450] is >= 2^-1004 in magnitude when non-zero: no underflow.
_SAFE = 2.0**450
# Rows whose plain float residual exceeds this multiple of its bound keep the plain value (accurate to 2^-26).
_FAR = 2.0**26
# Rows per block of the compensated tier (bounds its memory).
_CHUNK = 1 << 16
# Distillation passes before the rational fallback.
_MAX_PASSES = 8


def two_product(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``a * b = p + e`` exactly (Dekker's TwoProduct with Veltkamp splitting), without under/overflow."""
    p = a * b
    ca = _SPLIT * a
    ah = ca - (ca - a)
    al = a - ah
    cb = _SPLIT * b
    bh = cb - (cb - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def two_sum(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``a + b = s + e`` exactly (Knuth's TwoSum), without overflow."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


@dataclass(frozen=True, eq=False)
class VertexResiduals:
    """Residuals of a rational vertex.

    Attributes
    ----------
    sign : ndarray of int8, shape (n,)
        Exact sign of each residual (-1, 0 or +1).
    value : ndarray, shape (n,)
        Float residuals with the exact signs (exact zeros are 0.0): within
        ``2^-26`` relative of the exact value for rows far from zero, within the
        Sum2 bound ``~(4p u)^2`` of the terms' magnitudes for the rest (about
        ``1e-12`` relative for a noiseless target with ``p = 20``).
    n_undecided_by_floats : int
        Rows whose sign plain floats could not decide.
    n_compensated : int
        Rows that went through the compensated tier.
    n_rational : int
        Rows evaluated in rational arithmetic.
    """

    sign: NDArray[np.int8]
    value: NDArray[np.float64]
    n_undecided_by_floats: int
    n_compensated: int
    n_rational: int


def _split_beta(beta: Sequence[Fraction]) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """``beta = hi + lo + rem`` with float ``hi``, ``lo``; returns ``hi``, ``lo`` and a bound ``eb >= |rem|``."""
    hi, lo, eb = [], [], []
    for b in beta:
        h = float(b)  # Fraction -> float rounds correctly
        rest = b - Fraction(h)
        lw = float(rest)
        rem = abs(rest - Fraction(lw))
        hi.append(h)
        lo.append(lw)
        eb.append(0.0 if rem == 0 else np.nextafter(float(rem), np.inf))
    return np.array(hi), np.array(lo), np.array(eb)


def in_safe_range(v: NDArray[np.float64]) -> bool:
    """Whether every non-zero ``|v|`` lies in ``[2^-450, 2^450]``, where :func:`two_product` is exact."""
    av = np.abs(v[v != 0])
    return av.size == 0 or (float(av.min()) >= 1.0 / _SAFE and float(av.max()) <= _SAFE)


def _no_overflow(y: NDArray[np.float64]) -> bool:
    return y.size == 0 or float(np.abs(y).max()) <= _SAFE


def _compensated(
    A: NDArray[np.float64],
    y: NDArray[np.float64],
    hi: NDArray[np.float64],
    lo: NDArray[np.float64],
    eb: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Sum2 of the exact float terms: the value, its error bound, and the bound of the ``rem`` part."""
    n, p = A.shape
    k = 4 * p + 1
    s = y.copy()
    sig = np.zeros(n)
    absum = np.abs(y)
    for j in range(p):
        col = A[:, j]
        for factor in (hi[j], lo[j]):
            if factor == 0.0:
                continue
            prod, err = two_product(col, np.full(n, factor))
            for t in (prod, err):
                s, e = two_sum(s, -t)
                sig += e
                absum += np.abs(t)
    res = s + sig
    g = gamma(k)
    bound = 4.0 * (UNIT_ROUNDOFF * np.abs(res) + g * g * absum)
    if eb.any():
        rem_bound = 2.0 * (np.abs(A) @ eb) + (p + 1) * np.finfo(float).smallest_subnormal
    else:
        rem_bound = np.zeros(n)
    return res, bound, rem_bound


def _terms(
    A: NDArray[np.float64], y: NDArray[np.float64], hi: NDArray[np.float64], lo: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Exact float terms of ``y_i - a_i . (hi + lo)`` (``4p + 1`` per row)."""
    n, p = A.shape
    cols = [y]
    for j in range(p):
        for factor in (hi[j], lo[j]):
            if factor != 0.0:
                prod, err = two_product(A[:, j], np.full(n, factor))
                cols += [-prod, -err]
    return np.column_stack(cols)


def _distil(T: NDArray[np.float64]) -> tuple[NDArray[np.int8], NDArray[np.float64], NDArray[np.bool_]]:
    """Exact signs of the row sums of ``T`` (exact float terms) by repeated TwoSum cascades.

    Returns the signs, float values and a mask of the rows decided (the rest: undecided).
    """
    m, k = T.shape
    sign = np.zeros(m, dtype=np.int8)
    value = np.zeros(m)
    done = np.zeros(m, dtype=bool)
    rows = np.arange(m)
    T = T.copy()
    for _ in range(_MAX_PASSES):
        if rows.size == 0:
            break
        s = T[:, 0].copy()
        errs = np.empty_like(T)
        for j in range(1, k):
            s, errs[:, j - 1] = two_sum(s, T[:, j])
        errs[:, k - 1] = 0.0
        rest = np.abs(errs).sum(axis=1) * (1.0 + 4 * k * UNIT_ROUNDOFF)
        exact_zero = (s == 0) & (rest == 0)
        certain = np.abs(s) > rest
        hit = exact_zero | certain
        idx = rows[hit]
        sign[idx] = np.sign(s[hit]).astype(np.int8)
        value[idx] = s[hit] + errs[hit].sum(axis=1)
        done[idx] = True
        errs[:, k - 1] = s
        T, rows = errs[~hit], rows[~hit]
    return sign, value, done


def vertex_residuals(
    A: NDArray[np.float64],
    y: NDArray[np.float64],
    beta: Sequence[Fraction],
    *,
    abs_A: NDArray[np.float64] | None = None,
    zero_rows: NDArray[np.int64] | None = None,
) -> VertexResiduals:
    """Exact signs and accurate float values of ``y - A beta`` for a rational ``beta``.

    Parameters
    ----------
    A : ndarray, shape (n, p)
    y : ndarray, shape (n,)
    beta : sequence of Fraction, length p
    abs_A : ndarray, shape (n, p), optional
        ``np.abs(A)`` when the caller has it already.
    zero_rows : ndarray of int, optional
        Rows whose residual is exactly zero by construction (the basis a vertex
        interpolates: ``A_h beta = y_h`` holds exactly); they are not evaluated.

    Returns
    -------
    VertexResiduals
    """
    n, p = A.shape
    hi = np.array([float(b) for b in beta])  # Fraction -> float rounds correctly
    value = y - A @ hi
    absA = np.abs(A) if abs_A is None else abs_A
    # Plain tier: rounding of the dot product and of beta (|beta - hi| <= u |beta|), generously covered.
    bound = 4.0 * (p + 4) * UNIT_ROUNDOFF * (np.abs(y) + absA @ np.abs(hi)) + np.finfo(float).tiny
    sign = np.where(value > bound, 1, np.where(value < -bound, -1, 0)).astype(np.int8)
    n_open = int(np.count_nonzero(sign == 0))
    close = np.abs(value) <= _FAR * bound
    if zero_rows is not None and zero_rows.size:
        close[zero_rows] = False
        sign[zero_rows] = 0
        value[zero_rows] = 0.0
    near = np.flatnonzero(close)
    if near.size:
        hi, lo, eb = _split_beta(beta)
    else:
        lo = eb = np.zeros(p)
    undecided: list[NDArray[np.int64]] = []
    n_comp = 0
    if near.size and in_safe_range(A[near]) and in_safe_range(hi) and in_safe_range(lo) and _no_overflow(y[near]):
        n_comp = int(near.size)
        for start in range(0, near.size, _CHUNK):
            idx = near[start : start + _CHUNK]
            Ai, yi = A[idx], y[idx]
            res, b_sum, b_rem = _compensated(Ai, yi, hi, lo, eb)
            total = b_sum + b_rem
            certain = np.abs(res) > total
            value[idx] = res
            sign[idx] = np.where(certain, np.sign(res), 0).astype(np.int8)
            open_ = ~certain
            if not open_.any():
                continue
            if eb.any():
                # beta is not a double-double: only rationals decide what the bounds leave open (residual ~ 0).
                undecided.append(idx[open_])
                continue
            ds, dv, done = _distil(_terms(Ai[open_], yi[open_], hi, lo))
            sub = idx[open_]
            sign[sub[done]] = ds[done]
            value[sub[done]] = dv[done]
            undecided.append(sub[~done])
    elif near.size:
        undecided.append(near[sign[near] == 0])
    rest = np.concatenate(undecided) if undecided else np.zeros(0, np.int64)
    if rest.size:
        bq = [flint.fmpq(b.numerator, b.denominator) for b in beta]
        for i in rest.tolist():
            ri = flint.fmpq(*float(y[i]).as_integer_ratio()) - sum(
                (flint.fmpq(*float(A[i, j]).as_integer_ratio()) * bq[j] for j in range(p)), flint.fmpq(0)
            )
            sign[i] = 1 if ri > 0 else (-1 if ri < 0 else 0)
            value[i] = float(Fraction(int(ri.p), int(ri.q)))
    logger.debug("vertex residuals: %d rows compensated, %d in rationals (of %d)", n_comp, rest.size, n)
    return VertexResiduals(
        sign=sign, value=value, n_undecided_by_floats=n_open, n_compensated=n_comp, n_rational=int(rest.size)
    )

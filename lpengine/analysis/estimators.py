"""Estimators of the limit L* of a non-increasing loss sequence before it converges.

Each estimator sees a *prefix* ``L_0..L_k`` of the losses at successive
vertices and predicts the loss level ``L*`` of the local minimum the walk is
heading to.  All share the geometric model ``L_j = L* + C q^j`` (see
:mod:`lpengine.analysis.decay`) but use it differently:

``geometric_fit``
    Three-parameter least squares on the last ``window`` losses; uncertainty =
    the fit's standard error of ``L*``.
``aitken``
    Aitken's Δ² with spacing ``h`` on the triple ``(L_j, L_{j+h}, L_{j+2h})``
    ending at ``k``:  ``L* ≈ L_{j+2h} - (L_{j+2h} - L_{j+h})² / (L_{j+2h} - 2 L_{j+h} + L_j)``.
    Uncertainty = sample standard deviation of the Aitken values over the last
    ``spread`` anchors ``j, j-1, ...``.
``geometric_tail``
    Ratio of sums of the last ``window`` decrements ``d_i = L_i - L_{i+1}``,
    ``q̂ = Σ d[1:] / Σ d[:-1]``, and the tail sum after the window,
    ``G = S q̂^m / (1 - q̂^m)`` (``S`` the window's total decrease, ``m`` its
    number of decrements): ``L* ≈ L_k - G``.  This is the tail
    ``L_k - ΔL_{k-1} q/(1-q)`` with the last decrement replaced by its
    window-fitted value.  Uncertainty = jackknife standard error over the
    decrement pairs.
``naive``
    The current loss ``L_k``: the baseline every estimator must beat.  Since
    the loss never increases, it is a certified *upper* bound on ``L*``; it
    has no error model (``uncertainty = inf``).

Failure is a status, never NaN: when the model does not apply (a flat
window, a decay that accelerates, no curvature) the estimator falls back to
the naive estimate, sets ``status`` accordingly and ``uncertainty = inf``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._display import short_repr
from .._validation import check_int
from ..exceptions import InvalidOptionError
from ..tolerances import Tolerances, resolve_tolerances
from ._json import fields_dict
from .decay import STATUS_FLAT, STATUS_OK, _flat_scale, check_losses, fit_decay

__all__ = [
    "LimitEstimate",
    "EstimatorTrace",
    "ESTIMATORS",
    "estimate_geometric_fit",
    "estimate_aitken",
    "estimate_geometric_tail",
    "estimate_naive",
    "estimate_limit",
    "estimator_trace",
]

logger = logging.getLogger(__name__)

#: Status of an estimate whose model does not apply (naive fallback).
STATUS_NOT_GEOMETRIC = "not_geometric"
#: Status of an estimate made from too few losses (naive fallback).
STATUS_TOO_SHORT = "too_short"


@dataclass(frozen=True)
class LimitEstimate:
    """An estimate of the limit loss L* from a prefix of the loss sequence.

    Attributes
    ----------
    estimate : float
        Predicted L*.
    uncertainty : float
        One-standard-error size of the estimate (``inf`` when the estimator
        has no error model or fell back to the naive estimate).
    method : str
        ``"geometric_fit"``, ``"aitken"``, ``"geometric_tail"`` or ``"naive"``.
    k : int
        Index of the last loss used (the prefix is ``losses[:k + 1]``).
    current : float
        The last loss used, ``L_k``.
    status : str
        ``"ok"``, ``"flat"`` (no decrease in the window: estimate = ``L_k``,
        uncertainty 0), ``"not_geometric"`` or ``"too_short"`` (naive fallback).
    """

    estimate: float
    uncertainty: float
    method: str
    k: int
    current: float
    status: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields (arrays as lists, ``inf``/``nan`` as ``None``)."""
        return fields_dict(self)

    @property
    def remaining_gain(self) -> float:
        """Predicted decrease still to come, ``L_k - estimate``."""
        return self.current - self.estimate

    @property
    def ok(self) -> bool:
        """True when the model applied (status ``"ok"`` or ``"flat"``)."""
        return self.status in (STATUS_OK, STATUS_FLAT)


def _fallback(y: NDArray[np.float64], method: str, status: str) -> LimitEstimate:
    return LimitEstimate(float(y[-1]), math.inf, method, y.shape[0] - 1, float(y[-1]), status)


def estimate_naive(losses: ArrayLike) -> LimitEstimate:
    """The current loss as the estimate of L* (baseline; no error model).

    Examples
    --------
    >>> estimate_naive([5.0, 4.0, 3.5]).estimate
    3.5
    """
    y = check_losses(losses)
    return LimitEstimate(float(y[-1]), math.inf, "naive", y.shape[0] - 1, float(y[-1]), STATUS_OK)


def estimate_geometric_fit(losses: ArrayLike, *, window: int = 50, tol: Tolerances | None = None) -> LimitEstimate:
    """Least-squares fit of ``L* + C q^j`` on the last ``window`` losses.

    Parameters
    ----------
    losses : array_like, shape (k + 1,)
        The losses seen so far.
    window : int
        Number of trailing losses fitted (at least 4).  Shorter prefixes use
        all their losses; fewer than 4 give status ``"too_short"``.
    tol : Tolerances, optional

    Returns
    -------
    LimitEstimate
        ``uncertainty`` is the fit's standard error of ``L*``.  A window that
        does not identify a limit (fit status ``"no_decay"``) falls back to
        the naive estimate with status ``"not_geometric"``.

    Examples
    --------
    >>> import numpy as np
    >>> round(estimate_geometric_fit(1.0 + 0.8 ** np.arange(40), window=20).estimate, 9)
    1.0
    """
    y = check_losses(losses)
    window = check_int(window, "window", low=4)
    if y.shape[0] < 4:
        return _fallback(y, "geometric_fit", STATUS_TOO_SHORT)
    start = max(0, y.shape[0] - window)
    fit = fit_decay(y, start=start, tol=tol)
    if fit.status == STATUS_FLAT:
        return LimitEstimate(float(y[-1]), 0.0, "geometric_fit", y.shape[0] - 1, float(y[-1]), STATUS_FLAT)
    if fit.status != STATUS_OK:
        return _fallback(y, "geometric_fit", STATUS_NOT_GEOMETRIC)
    return LimitEstimate(fit.l_star, fit.l_star_se, "geometric_fit", y.shape[0] - 1, float(y[-1]), STATUS_OK)


def _aitken_value(a: float, b: float, c: float, flat: float) -> tuple[float, str]:
    """Aitken Δ² on ``(L_j, L_{j+h}, L_{j+2h}) = (a, b, c)`` with its status."""
    d1, d2 = a - b, b - c
    if abs(d1) <= flat and abs(d2) <= flat:
        return c, STATUS_FLAT
    second = a - 2.0 * b + c  # = d1 - d2; positive for a convex (decelerating) decrease
    if not (d1 > 0.0 and d2 >= 0.0 and second > 0.0):
        return c, STATUS_NOT_GEOMETRIC
    return c - d2 * d2 / second, STATUS_OK


def estimate_aitken(
    losses: ArrayLike, *, h: int = 1, spread: int | None = None, tol: Tolerances | None = None
) -> LimitEstimate:
    """Aitken's Δ² extrapolation with spacing ``h``.

    Parameters
    ----------
    losses : array_like, shape (k + 1,)
        The losses seen so far.
    h : int
        Spacing between the three losses of the triple (at least 1).  On an
        exact geometric sequence any ``h`` recovers L* exactly.
    spread : int, optional
        Number of consecutive anchors ``j = k-2h, k-2h-1, ...`` whose Aitken
        values give the uncertainty (sample standard deviation); default
        ``max(2, h)``, limited by the prefix length.  With a single usable
        anchor the uncertainty is ``inf``.
    tol : Tolerances, optional
        ``tol.objective`` (relative) decides when decrements count as zero.

    Returns
    -------
    LimitEstimate
        The estimate is the Aitken value of the latest triple.  A latest
        triple that is not a decelerating decrease (second difference ≤ 0)
        gives the naive fallback with status ``"not_geometric"``.

    Examples
    --------
    >>> import numpy as np
    >>> est = estimate_aitken(2.0 + 5.0 * 0.7 ** np.arange(12), h=3)
    >>> round(est.estimate, 9), est.status
    (2.0, 'ok')
    """
    tol = resolve_tolerances(tol)
    y = check_losses(losses)
    h = check_int(h, "h", low=1)
    spread = max(2, h) if spread is None else check_int(spread, "spread", low=1)
    n = y.shape[0]
    if n < 2 * h + 1:
        return _fallback(y, "aitken", STATUS_TOO_SHORT)
    flat = _flat_scale(y, tol)
    last = n - 1 - 2 * h
    values: list[float] = []
    status0 = STATUS_OK
    for t in range(min(spread, last + 1)):
        j = last - t
        v, st = _aitken_value(float(y[j]), float(y[j + h]), float(y[j + 2 * h]), flat)
        if t == 0:
            status0 = st
            if st == STATUS_NOT_GEOMETRIC:
                return _fallback(y, "aitken", STATUS_NOT_GEOMETRIC)
        if st != STATUS_NOT_GEOMETRIC:
            values.append(v)
    unc = float(np.std(values, ddof=1)) if len(values) >= 2 else math.inf
    if status0 == STATUS_FLAT:
        unc = 0.0
    return LimitEstimate(values[0], unc, "aitken", n - 1, float(y[-1]), status0)


def _tail_gain(num: float, den: float, total: float, m: int) -> float | None:
    """Tail sum ``S q^m / (1 - q^m)`` with ``q = num / den``; None if q is not in (0, 1)."""
    if den <= 0.0 or num <= 0.0 or num >= den:
        return None
    qm = (num / den) ** m
    return total * qm / (1.0 - qm)


def estimate_geometric_tail(losses: ArrayLike, *, window: int = 50, tol: Tolerances | None = None) -> LimitEstimate:
    """Geometric tail sum from the ratio of consecutive decrements.

    Parameters
    ----------
    losses : array_like, shape (k + 1,)
        The losses seen so far.
    window : int
        Number of trailing decrements used (at least 2).  Shorter prefixes use
        all their decrements.
    tol : Tolerances, optional

    Returns
    -------
    LimitEstimate
        ``estimate = L_k - S q̂^m / (1 - q̂^m)``; ``uncertainty`` is the
        jackknife standard error over the ``m - 1`` decrement pairs (``inf``
        with fewer than 3 pairs).  ``q̂`` outside (0, 1) gives the naive
        fallback with status ``"not_geometric"``.

    Notes
    -----
    On an exact geometric sequence every leave-one-out ratio equals ``q``, so
    the estimate is exact and the uncertainty is 0 up to rounding.

    Examples
    --------
    >>> import numpy as np
    >>> round(estimate_geometric_tail(4.0 + 3.0 * 0.95 ** np.arange(30), window=10).estimate, 9)
    4.0
    """
    tol = resolve_tolerances(tol)
    y = check_losses(losses)
    window = check_int(window, "window", low=2)
    n = y.shape[0]
    if n < 3:
        return _fallback(y, "geometric_tail", STATUS_TOO_SHORT)
    d = (y[:-1] - y[1:])[-window:]
    m = d.shape[0]
    if np.all(np.abs(d) <= _flat_scale(y, tol)):
        return LimitEstimate(float(y[-1]), 0.0, "geometric_tail", n - 1, float(y[-1]), STATUS_FLAT)
    num, den, total = float(np.sum(d[1:])), float(np.sum(d[:-1])), float(np.sum(d))
    gain = _tail_gain(num, den, total, m)
    if gain is None:
        return _fallback(y, "geometric_tail", STATUS_NOT_GEOMETRIC)
    unc = math.inf
    pairs = m - 1
    if pairs >= 3:
        loo = []
        for i in range(pairs):
            g = _tail_gain(num - float(d[i + 1]), den - float(d[i]), total, m)
            if g is None:
                break
            loo.append(g)
        if len(loo) == pairs:
            arr = np.asarray(loo)
            unc = math.sqrt((pairs - 1) / pairs * float(np.sum((arr - arr.mean()) ** 2)))
    return LimitEstimate(float(y[-1]) - gain, unc, "geometric_tail", n - 1, float(y[-1]), STATUS_OK)


#: Estimators by name: ``ESTIMATORS[name](losses, **options) -> LimitEstimate``.
ESTIMATORS: dict[str, Callable[..., LimitEstimate]] = {
    "geometric_fit": estimate_geometric_fit,
    "aitken": estimate_aitken,
    "geometric_tail": estimate_geometric_tail,
    "naive": estimate_naive,
}


def estimate_limit(losses: ArrayLike, *, method: str = "geometric_tail", **options: Any) -> LimitEstimate:
    """Dispatch to the estimator named ``method`` (see :data:`ESTIMATORS`).

    Raises
    ------
    InvalidOptionError
        If ``method`` is unknown or an option is not accepted by that estimator.
    """
    if method not in ESTIMATORS:
        raise InvalidOptionError(
            f"The 'method' parameter of estimate_limit must be one of {sorted(ESTIMATORS)}. Got {method!r} instead."
        )
    try:
        return ESTIMATORS[method](losses, **options)
    except TypeError as exc:
        raise InvalidOptionError(f"estimator {method!r} rejected options {sorted(options)}: {exc}") from exc


@dataclass(frozen=True)
class EstimatorTrace:
    """Estimates of L* made at several points ``k`` of one loss sequence.

    Attributes
    ----------
    method : str
    ks : ndarray of int, shape (n_points,)
        Index of the last loss seen at each point.
    estimates, uncertainties : ndarray, shape (n_points,)
    statuses : tuple of str
    """

    method: str
    ks: NDArray[np.int64]
    estimates: NDArray[np.float64]
    uncertainties: NDArray[np.float64]
    statuses: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields (arrays as lists, ``inf``/``nan`` as ``None``)."""
        return fields_dict(self)

    def __repr__(self) -> str:
        last: list[tuple[str, Any]] = [("last_estimate", float(self.estimates[-1]))] if self.estimates.size else []
        return short_repr("EstimatorTrace", [("method", self.method), ("n_points", int(self.ks.size)), *last])

    def errors(self, truth: float) -> NDArray[np.float64]:
        """Absolute errors ``|estimate - truth|``."""
        return np.abs(self.estimates - float(truth))


def estimator_trace(
    losses: ArrayLike,
    *,
    method: str,
    ks: ArrayLike | None = None,
    **options: Any,
) -> EstimatorTrace:
    """Run one estimator on the prefixes ``losses[:k + 1]`` for every ``k`` in ``ks``.

    Parameters
    ----------
    losses : array_like, shape (n_vertices,)
    method : str
        Estimator name (see :data:`ESTIMATORS`).
    ks : array_like of int, optional
        Prefix ends (default: every index).
    **options
        Passed to the estimator.

    Returns
    -------
    EstimatorTrace

    Raises
    ------
    ValueError
        If some ``k`` is outside ``[0, len(losses))``.
    """
    y = check_losses(losses)
    n = y.shape[0]
    kk = np.arange(n, dtype=np.int64) if ks is None else np.asarray(ks, dtype=np.int64).ravel()
    if kk.size and (kk.min() < 0 or kk.max() >= n):
        raise ValueError(f"ks must lie in [0, {n - 1}] for {n} losses; got range [{kk.min()}, {kk.max()}].")
    ests = [estimate_limit(y[: int(k) + 1], method=method, **options) for k in kk]
    return EstimatorTrace(
        method,
        kk,
        np.array([e.estimate for e in ests], dtype=np.float64),
        np.array([e.uncertainty for e in ests], dtype=np.float64),
        tuple(e.status for e in ests),
    )

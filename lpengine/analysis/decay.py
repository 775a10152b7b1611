"""Geometric decay of a loss sequence: fits of L_k ≈ L* + C·q^k.

The mathematical object is a non-increasing sequence of losses ``L_0, L_1, ...``
(the loss at successive vertices of a Deep ReLU Simplex run).  Hinz (2021)
reports that near a local minimum the loss decays "exponentially slowly".  We
formalise this as the three-parameter model

    L_k = L* + C q^(k - k0),    0 < q < 1,

fitted by least squares over a window ``k0 <= k < k1``.  ``q`` close to 1 is
"slow"; a model that fits with a stable ``q`` across windows is "exponential".

Fitting method (variable projection).  For fixed ``q`` the model is linear in
``(L*, C)``, so the residual sum of squares ``RSS(q)`` is a closed-form linear
least-squares value.  We minimise ``RSS`` over the decay rate ``r = -log q``
on a log-spaced grid, start also from the ratio-of-sums estimate
``q0 = sum(d[1:]) / sum(d[:-1])`` of the decrements ``d_k = L_k - L_{k+1}``
(exact on an exact geometric sequence), and polish all three parameters with
``scipy.optimize.least_squares`` in the unconstrained coordinates
``(L*, C, s = log r)``.  Standard errors come from the Gauss–Newton covariance
``s² (JᵀJ)⁻¹`` with ``s² = RSS / (n - 3)``.

References
----------
P. Hinz, "The layer-wise L1 Loss Landscape of Neural Nets is more complex
around local minima", arXiv:2105.02831 (2021).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._display import short_repr
from .._validation import check_array, check_int
from ..tolerances import Tolerances, resolve_tolerances
from ._json import fields_dict

__all__ = [
    "DecayFit",
    "DecayProfile",
    "GapDecayProfile",
    "fit_decay",
    "decay_profile",
    "gap_decay_profile",
    "check_losses",
]

logger = logging.getLogger(__name__)

#: Decay rates r = -log q searched by the profile grid, relative to the window
#: length n: from r = _RATE_GRID_LOW / n (q^n ≈ 0.99, indistinguishable from a
#: straight line) up to r = _RATE_GRID_HIGH (q ≈ 5e-5, immediate convergence).
_RATE_GRID_LOW = 0.01
_RATE_GRID_HIGH = 10.0
_RATE_GRID_POINTS = 121

#: Statuses of a fit.
STATUS_OK = "ok"
STATUS_FLAT = "flat"
STATUS_NO_DECAY = "no_decay"


def check_losses(losses: ArrayLike, name: str = "losses", *, min_length: int = 1) -> NDArray[np.float64]:
    """Validate a loss sequence: finite, 1-D, at least ``min_length`` values.

    Raises
    ------
    ValueError
        If the sequence is not 1-D, contains NaN/inf, or is too short.
    """
    arr = check_array(losses, name, ndim=1)
    if arr.shape[0] < min_length:
        raise ValueError(f"{name} has {arr.shape[0]} value(s); expected at least {min_length}.")
    return arr


def _flat_scale(y: NDArray[np.float64], tol: Tolerances) -> float:
    """Decrements at most this large count as zero (relative objective tolerance)."""
    return tol.objective * max(1.0, float(np.max(np.abs(y))))


@dataclass(frozen=True)
class DecayFit:
    """Least-squares fit of ``L_k = l_star + c * q**(k - start)`` on ``start <= k < stop``.

    Attributes
    ----------
    l_star : float
        Fitted limit L*.
    l_star_se : float
        Its standard error (``inf`` when the covariance is singular).
    c : float
        Fitted amplitude C (the gap ``L_start - L*``).
    q : float
        Fitted ratio per vertex, in (0, 1) (0 for a flat window).
    q_se : float
        Standard error of ``q``.
    rss : float
        Residual sum of squares at the fit.
    n : int
        Number of losses in the window.
    start, stop : int
        The window ``[start, stop)`` in the original sequence.
    status : str
        ``"ok"``; ``"flat"`` (all decrements within ``tol.objective``:
        ``l_star`` is the last loss, ``c = q = 0``); ``"no_decay"`` (the best
        ``q`` lies at the slow end of the search grid, so the window looks
        linear and does not identify a limit; the fields hold that boundary fit).
    """

    l_star: float
    l_star_se: float
    c: float
    q: float
    q_se: float
    rss: float
    n: int
    start: int
    stop: int
    status: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields (arrays as lists, ``inf``/``nan`` as ``None``)."""
        return fields_dict(self)

    @property
    def rate(self) -> float:
        """Decay rate ``-log q`` per vertex (``inf`` for a flat window)."""
        return math.inf if self.q <= 0.0 else -math.log(self.q)

    @property
    def half_life(self) -> float:
        """Vertices needed to halve the gap to L*: ``log 2 / rate``."""
        r = self.rate
        return 0.0 if math.isinf(r) else math.log(2.0) / r

    def predict(self, k: ArrayLike) -> NDArray[np.float64]:
        """Model values at (absolute) vertex indices ``k``."""
        kk = np.asarray(k, dtype=np.float64) - self.start
        return self.l_star + self.c * np.power(self.q, kk)


def _linear_fit(j: NDArray[np.float64], y: NDArray[np.float64], q: float) -> tuple[float, float, float]:
    """Best ``(L*, C)`` for fixed ``q`` and its RSS."""
    basis = np.power(q, j)
    M = np.column_stack([np.ones_like(j), basis])
    coef, *_ = np.linalg.lstsq(M, y, rcond=None)
    res = y - M @ coef
    return float(coef[0]), float(coef[1]), float(res @ res)


def _profile_rss(j: NDArray[np.float64], y: NDArray[np.float64], qs: NDArray[np.float64]) -> NDArray[np.float64]:
    """RSS of the best ``(L*, C)`` for each ``q`` in ``qs`` (simple regression on ``q^j``)."""
    B = np.power(qs[:, None], j[None, :])
    bc = B - B.mean(axis=1, keepdims=True)
    yc = y - y.mean()
    sxx = np.einsum("ij,ij->i", bc, bc)
    sxy = bc @ yc
    syy = float(yc @ yc)
    with np.errstate(divide="ignore", invalid="ignore"):
        rss = np.where(sxx > 0.0, syy - sxy * sxy / sxx, syy)
    return rss


def fit_decay(
    losses: ArrayLike,
    *,
    start: int = 0,
    stop: int | None = None,
    tol: Tolerances | None = None,
) -> DecayFit:
    """Fit ``L_k ≈ L* + C q^(k - start)`` by least squares on ``losses[start:stop]``.

    Parameters
    ----------
    losses : array_like, shape (n_vertices,)
        Loss at successive vertices.
    start, stop : int
        The window (Python slice semantics; ``stop=None`` means the end).  It
        must hold at least 4 values (3 parameters and one degree of freedom).
    tol : Tolerances, optional
        ``tol.objective`` (relative) decides when decrements count as zero.

    Returns
    -------
    DecayFit

    Raises
    ------
    ValueError
        If ``losses`` is not a finite 1-D array or the window holds fewer than 4 values.

    Notes
    -----
    On an exact geometric sequence the ratio-of-sums start is exact and the
    fit reproduces ``L*`` to rounding error.  Cost: O(n · grid) flops.

    Examples
    --------
    >>> import numpy as np
    >>> fit = fit_decay(3.0 + 2.0 * 0.9 ** np.arange(30))
    >>> round(fit.l_star, 9), round(fit.q, 9), fit.status
    (3.0, 0.9, 'ok')
    """
    tol = resolve_tolerances(tol)
    arr = check_losses(losses)
    n_all = arr.shape[0]
    start = check_int(start, "start", low=0, high=n_all)
    stop = n_all if stop is None else check_int(stop, "stop", low=0, high=n_all)
    y = arr[start:stop]
    n = y.shape[0]
    if n < 4:
        raise ValueError(f"fit_decay needs a window of at least 4 losses; losses[{start}:{stop}] holds {n}.")
    d = y[:-1] - y[1:]
    if np.all(np.abs(d) <= _flat_scale(y, tol)):
        return DecayFit(float(y[-1]), 0.0, 0.0, 0.0, 0.0, 0.0, n, start, stop, STATUS_FLAT)

    j = np.arange(n, dtype=np.float64)
    rates = np.geomspace(_RATE_GRID_LOW / n, _RATE_GRID_HIGH, _RATE_GRID_POINTS)
    candidates = list(np.exp(-rates))
    den, num = float(np.sum(d[:-1])), float(np.sum(d[1:]))
    if den != 0.0 and 0.0 < num / den < 1.0:
        candidates.append(num / den)
    rss_all = _profile_rss(j, y, np.asarray(candidates))
    i_best = int(np.argmin(rss_all))
    best_q = float(candidates[i_best])
    l0, c0, best_rss = _linear_fit(j, y, best_q)  # accurate RSS (the profile formula cancels)
    q_low = math.exp(-_RATE_GRID_LOW / n)
    at_slow_edge = best_q >= q_low

    # Polish all three parameters in unconstrained coordinates (L*, C, s = log r).
    x0 = np.array([l0, c0, math.log(-math.log(best_q))])
    params = x0
    if best_rss > 0.0:
        from scipy.optimize import least_squares

        def resid(p: NDArray[np.float64]) -> NDArray[np.float64]:
            return p[0] + p[1] * np.exp(-np.exp(p[2]) * j) - y

        def jac(p: NDArray[np.float64]) -> NDArray[np.float64]:
            r = math.exp(p[2])
            e = np.exp(-r * j)
            return np.column_stack([np.ones_like(j), e, -p[1] * r * j * e])

        sol = least_squares(resid, x0, jac=jac, method="lm")
        if sol.success and float(sol.fun @ sol.fun) <= best_rss:
            params = sol.x
    l_star, c, s = (float(v) for v in params)
    r = math.exp(s)
    q = math.exp(-r)
    e = np.exp(-r * j)
    res = l_star + c * e - y
    rss = float(res @ res)
    J = np.column_stack([np.ones_like(j), e, -c * r * j * e])
    l_se, q_se = math.inf, math.inf
    if n > 3:
        sigma2 = rss / (n - 3)
        try:
            cov = sigma2 * np.linalg.inv(J.T @ J)
            if np.all(np.isfinite(cov)) and cov[0, 0] >= 0.0 and cov[2, 2] >= 0.0:
                l_se = math.sqrt(cov[0, 0])
                q_se = r * q * math.sqrt(cov[2, 2])
        except np.linalg.LinAlgError:
            logger.debug("fit_decay: singular normal matrix on window [%d, %d)", start, stop)
    status = STATUS_NO_DECAY if (at_slow_edge and q >= q_low) else STATUS_OK
    return DecayFit(l_star, l_se, c, q, q_se, rss, n, start, stop, status)


@dataclass(frozen=True)
class DecayProfile:
    """Decay fits over sliding windows of one loss sequence.

    Attributes
    ----------
    window : int
        Window length.
    starts : ndarray of int, shape (n_windows,)
        First index of each window.
    fits : tuple of DecayFit
        The fit of each window.
    """

    window: int
    starts: NDArray[np.int64]
    fits: tuple[DecayFit, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields (arrays as lists, ``inf``/``nan`` as ``None``)."""
        return fields_dict(self)

    def column(self, name: str) -> NDArray[np.float64]:
        """One field of every fit as an array, e.g. ``profile.column("q")``."""
        return np.array([getattr(f, name) for f in self.fits], dtype=np.float64)

    def __repr__(self) -> str:
        return short_repr("DecayProfile", [("window", self.window), ("n_windows", len(self.fits))])


def decay_profile(
    losses: ArrayLike,
    *,
    window: int,
    step: int | None = None,
    tol: Tolerances | None = None,
) -> DecayProfile:
    """Fit the geometric model on sliding windows ``[s, s + window)``.

    Parameters
    ----------
    losses : array_like, shape (n_vertices,)
    window : int
        Window length, at least 4 and at most ``len(losses)``.
    step : int, optional
        Distance between window starts (default ``max(1, window // 2)``).
    tol : Tolerances, optional

    Returns
    -------
    DecayProfile

    Raises
    ------
    ValueError
        On a bad sequence or a window that does not fit.
    """
    arr = check_losses(losses, min_length=4)
    window = check_int(window, "window", low=4, high=arr.shape[0])
    step = max(1, window // 2) if step is None else check_int(step, "step", low=1)
    starts = np.arange(0, arr.shape[0] - window + 1, step, dtype=np.int64)
    fits = tuple(fit_decay(arr, start=int(s), stop=int(s) + window, tol=tol) for s in starts)
    return DecayProfile(window, starts, fits)


@dataclass(frozen=True)
class GapDecayProfile:
    """Local decay ratios of the gap ``L_k - reference`` (log-linear fits).

    For each window, ``log(L_k - reference) ≈ a + k log q`` is fitted by
    ordinary least squares.  With the true limit as reference, an exponential
    decay shows as a stable ``q`` and ``r2`` close to 1 in every window.

    Attributes
    ----------
    reference : float
    window : int
    starts : ndarray of int
    q : ndarray
        Per-vertex ratio ``exp(slope)`` of each window.
    r2 : ndarray
        Coefficient of determination of each log-linear fit (1 for an exact
        geometric gap; ``nan`` never appears: windows with fewer than 3
        positive gaps are left out).
    """

    reference: float
    window: int
    starts: NDArray[np.int64]
    q: NDArray[np.float64]
    r2: NDArray[np.float64]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields (arrays as lists, ``inf``/``nan`` as ``None``)."""
        return fields_dict(self)

    def __repr__(self) -> str:
        fields: list[tuple[str, Any]] = [("reference", self.reference), ("window", self.window)]
        if self.q.size:
            fields += [("first_q", float(self.q[0])), ("last_q", float(self.q[-1]))]
        return short_repr("GapDecayProfile", [*fields, ("n_windows", int(self.q.size))])


def gap_decay_profile(
    losses: ArrayLike,
    *,
    reference: float,
    window: int,
    step: int | None = None,
) -> GapDecayProfile:
    """Per-window ratio ``q`` of the gap ``L_k - reference`` from log-linear fits.

    Parameters
    ----------
    losses : array_like, shape (n_vertices,)
    reference : float
        The limit the gap is measured to (usually the final, certified loss).
        Only entries with a positive gap enter the fits.
    window : int
        Window length (at least 3).
    step : int, optional
        Distance between window starts (default ``max(1, window // 2)``).

    Returns
    -------
    GapDecayProfile

    Raises
    ------
    ValueError
        On a bad sequence, a non-finite reference or a bad window.
    """
    arr = check_losses(losses, min_length=3)
    ref = float(reference)
    if not math.isfinite(ref):
        raise ValueError(f"The 'reference' parameter must be a finite float. Got {reference!r} instead.")
    window = check_int(window, "window", low=3, high=arr.shape[0])
    step = max(1, window // 2) if step is None else check_int(step, "step", low=1)
    starts, qs, r2s = [], [], []
    for s in range(0, arr.shape[0] - window + 1, step):
        gap = arr[s : s + window] - ref
        k = np.arange(s, s + window, dtype=np.float64)
        keep = gap > 0.0
        if int(keep.sum()) < 3:
            continue
        lg, kk = np.log(gap[keep]), k[keep]
        slope, icpt = np.polyfit(kk, lg, 1)
        pred = icpt + slope * kk
        ss_tot = float(np.sum((lg - lg.mean()) ** 2))
        ss_res = float(np.sum((lg - pred) ** 2))
        starts.append(s)
        qs.append(math.exp(slope))
        r2s.append(1.0 if ss_tot == 0.0 else 1.0 - ss_res / ss_tot)
    return GapDecayProfile(ref, window, np.array(starts, dtype=np.int64), np.array(qs), np.array(r2s))

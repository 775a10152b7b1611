"""Four seeded experiments with exact mistake counts for the least-consistent and halving predictors.

(a) :func:`experiment_realizable` -- the target is in the class: at most
    ``|H| - 1`` mistakes (least consistent) and ``floor(log2 |H|)`` (halving).
(b) :func:`experiment_random_labels` -- fair-coin labels unrelated to the
    inputs: the mistake count is exactly Binomial(T, 1/2)-distributed for every
    predictor, so it lands in the stated binomial band.
(c) :func:`experiment_adversarial` -- labels ``y_t = -yhat_t``: exactly ``T``
    mistakes for every deterministic predictor.
(d) :func:`experiment_refinement` -- one fixed scenario on ``[0, 1)`` observed
    on nested dyadic grids of ``2^k`` times: unrelated labels keep a mistake
    rate near 1/2 at every resolution, a target inside the class keeps a
    bounded count (rate -> 0).

Inputs are dyadic rationals (``integer / 2^bits``), so the exact integer
labels of :class:`~lpengine.sequential.hypotheses.GridReLUClass` stay in int64.
Every function takes a ``seed`` for ``numpy.random.default_rng``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import check_int, check_scalar
from ..exceptions import InvalidOptionError
from .consistency import decide_consistency
from .hypotheses import GridReLUClass
from .protocol import ADVERSARIAL, ProtocolResult, distinct_rows, run_protocol

__all__ = [
    "DEFAULT_CLASS",
    "binomial_band",
    "dyadic_points",
    "floor_log2",
    "RealizableResult",
    "RandomLabelsResult",
    "AdversarialResult",
    "RefinementResult",
    "experiment_realizable",
    "experiment_random_labels",
    "experiment_adversarial",
    "experiment_refinement",
]

logger = logging.getLogger(__name__)

#: The class used when ``hclass`` is None: 9**4 = 6561 hypotheses f(t) = relu(w1 t + b1) - relu(w2 t + b2)
#: with w, b in {-1, -3/4, ..., 1}.
DEFAULT_CLASS: dict[str, int] = {"n_in": 1, "width": 2, "scale": 4}

#: Inputs of the experiments are integers / 2**POINT_BITS in [0, 1).
POINT_BITS = 10


def _default_class(hclass: GridReLUClass | None) -> GridReLUClass:
    if hclass is None:
        return GridReLUClass(n_in=DEFAULT_CLASS["n_in"], width=DEFAULT_CLASS["width"], scale=DEFAULT_CLASS["scale"])
    if not isinstance(hclass, GridReLUClass):
        raise InvalidOptionError(
            f"The 'hclass' parameter must be a GridReLUClass or None. Got {type(hclass).__name__} instead."
        )
    return hclass


def floor_log2(n: int) -> int:
    """``floor(log2 n)`` for a positive int, computed exactly."""
    return int(n).bit_length() - 1


def dyadic_points(n_points: int, n_in: int, *, seed: Any = None, bits: int = POINT_BITS) -> NDArray[np.float64]:
    """``n_points`` seeded uniform points of the grid ``{0, 1, ..., 2^bits - 1} / 2^bits`` in ``[0, 1)^n_in``."""
    n = check_int(n_points, "n_points", low=1, error=InvalidOptionError)
    d = check_int(n_in, "n_in", low=1, error=InvalidOptionError)
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2**bits, size=(n, d)).astype(np.float64) / 2**bits


def binomial_band(n_steps: int, confidence: float = 0.99) -> tuple[int, int, float]:
    """Exact central band of Binomial(n_steps, 1/2): ``(low, high, coverage)``.

    ``low`` is the ``(1 - confidence)/2`` quantile and ``high`` the
    ``(1 + confidence)/2`` quantile (``scipy.stats.binom.ppf``), so
    ``P(low <= M <= high) = coverage >= confidence``; ``coverage`` is computed
    exactly from the binomial CDF.

    Examples
    --------
    >>> binomial_band(100, 0.95)[:2]
    (40, 60)
    """
    from scipy.stats import binom

    T = check_int(n_steps, "n_steps", low=1, error=InvalidOptionError)
    c = check_scalar(confidence, "confidence", low=0.0, high=1.0, error=InvalidOptionError)
    lo = int(binom.ppf((1.0 - c) / 2.0, T, 0.5))
    hi = int(binom.ppf((1.0 + c) / 2.0, T, 0.5))
    coverage = float(binom.cdf(hi, T, 0.5) - binom.cdf(lo - 1, T, 0.5))
    return lo, hi, coverage


# ------------------------------------------------------------------ (a)
@dataclass(frozen=True)
class RealizableResult:
    """Experiment (a): targets inside the class.

    Attributes
    ----------
    n_hypotheses, n_steps : int
    n_distinct_behaviours : int
        Distinct rows of the behaviour table on the stream (least-consistent
        makes at most this minus one mistakes).
    bound_least_consistent : int
        ``|H| - 1``.
    bound_halving : int
        ``floor(log2 |H|)``.
    targets : tuple of int
        Indices of the target hypotheses (in the well-order).
    mistakes_least_consistent, mistakes_halving : tuple of int
        Exact mistakes per target.
    last_mistake_least_consistent : tuple of int
        Step of the last mistake per target (-1 if none): after it the
        predictor is right forever on this stream (learning in the limit).
    example_least_consistent, example_halving : ProtocolResult
        The full runs for the first target.
    """

    n_hypotheses: int
    n_steps: int
    n_distinct_behaviours: int
    bound_least_consistent: int
    bound_halving: int
    targets: tuple[int, ...]
    mistakes_least_consistent: tuple[int, ...]
    mistakes_halving: tuple[int, ...]
    last_mistake_least_consistent: tuple[int, ...]
    example_least_consistent: ProtocolResult = field(repr=False)
    example_halving: ProtocolResult = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "experiment": "realizable",
            "n_hypotheses": self.n_hypotheses,
            "n_steps": self.n_steps,
            "n_distinct_behaviours": self.n_distinct_behaviours,
            "bound_least_consistent": self.bound_least_consistent,
            "bound_halving": self.bound_halving,
            "targets": list(self.targets),
            "mistakes_least_consistent": list(self.mistakes_least_consistent),
            "mistakes_halving": list(self.mistakes_halving),
            "max_mistakes_least_consistent": max(self.mistakes_least_consistent),
            "max_mistakes_halving": max(self.mistakes_halving),
            "last_mistake_least_consistent": list(self.last_mistake_least_consistent),
        }


def experiment_realizable(
    hclass: GridReLUClass | None = None,
    *,
    n_steps: int = 200,
    n_targets: int | None = 16,
    seed: Any = 0,
) -> RealizableResult:
    """Experiment (a): labels produced by hypotheses of the class itself.

    Parameters
    ----------
    hclass : GridReLUClass, optional
        Default ``GridReLUClass(n_in=1, width=2, scale=4)`` (6561 hypotheses).
    n_steps : int, default 200
        Length ``T`` of the stream (seeded dyadic points).
    n_targets : int or None, default 16
        Number of distinct targets drawn (seeded) from the class; ``None``
        runs every hypothesis as the target.
    seed : int or Generator-seed, default 0

    Returns
    -------
    RealizableResult

    Examples
    --------
    >>> r = experiment_realizable(GridReLUClass(width=1, scale=2), n_steps=50, n_targets=5, seed=1)
    >>> max(r.mistakes_least_consistent) <= r.bound_least_consistent, max(r.mistakes_halving) <= r.bound_halving
    (True, True)
    """
    H = _default_class(hclass)
    T = check_int(n_steps, "n_steps", low=1, error=InvalidOptionError)
    rng = np.random.default_rng(seed)
    X = dyadic_points(T, H.n_in, seed=rng)
    B = H.labels(X)
    if n_targets is None:
        targets = np.arange(H.size)
    else:
        k = check_int(n_targets, "n_targets", low=1, high=H.size, error=InvalidOptionError)
        targets = np.sort(rng.choice(H.size, size=k, replace=False))
    # Targets with the same labels on the stream give the same run: one run per distinct row.
    _, _, inverse = distinct_rows(B)
    runs: dict[int, tuple[ProtocolResult, ProtocolResult]] = {}
    ml, mh, last = [], [], []
    for h in targets:
        key = int(inverse[h])
        if key not in runs:
            runs[key] = (
                run_protocol(B, B[h], predictor="least_consistent"),
                run_protocol(B, B[h], predictor="halving"),
            )
        rl, rh = runs[key]
        ml.append(rl.mistakes)
        mh.append(rh.mistakes)
        last.append(rl.mistake_steps[-1] if rl.mistake_steps else -1)
    ex_l, ex_h = runs[int(inverse[targets[0]])]
    n_distinct = int(inverse.max()) + 1
    logger.info("realizable: |H| = %d, max mistakes %d (least consistent), %d (halving)", H.size, max(ml), max(mh))
    return RealizableResult(
        n_hypotheses=H.size,
        n_steps=T,
        n_distinct_behaviours=n_distinct,
        bound_least_consistent=H.size - 1,
        bound_halving=floor_log2(H.size),
        targets=tuple(int(h) for h in targets),
        mistakes_least_consistent=tuple(ml),
        mistakes_halving=tuple(mh),
        last_mistake_least_consistent=tuple(int(v) for v in last),
        example_least_consistent=ex_l,
        example_halving=ex_h,
    )


# ------------------------------------------------------------------ (b)
@dataclass(frozen=True)
class RandomLabelsResult:
    """Experiment (b): fair-coin labels independent of the inputs.

    Attributes
    ----------
    n_hypotheses, n_steps : int
    mistakes_least_consistent, mistakes_halving : int
        Exact mistake counts.
    band_low, band_high : int
        Exact central binomial band of Binomial(T, 1/2) at ``confidence``.
    confidence, band_coverage : float
        Requested and exact coverage of the band.
    first_unrealizable_step : int or None
        First step whose label prefix no hypothesis of the grid class fits.
    first_unrealizable_step_continuous : int or None
        The same for the continuous class (all real first-layer weights, same
        output weights), decided by LPs on the first ``continuous_prefix``
        points; ``None`` if that prefix stays consistent or was not examined.
    log2_size : int
        ``floor(log2 |H|)``, the heuristic step at which unrelated labels stop
        being realizable.
    example_least_consistent, example_halving : ProtocolResult
    """

    n_hypotheses: int
    n_steps: int
    mistakes_least_consistent: int
    mistakes_halving: int
    band_low: int
    band_high: int
    confidence: float
    band_coverage: float
    first_unrealizable_step: int | None
    first_unrealizable_step_continuous: int | None
    continuous_lp_solves: int
    log2_size: int
    example_least_consistent: ProtocolResult = field(repr=False)
    example_halving: ProtocolResult = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "experiment": "random",
            "n_hypotheses": self.n_hypotheses,
            "n_steps": self.n_steps,
            "mistakes_least_consistent": self.mistakes_least_consistent,
            "mistakes_halving": self.mistakes_halving,
            "expected_mistakes": self.n_steps / 2,
            "band_low": self.band_low,
            "band_high": self.band_high,
            "confidence": self.confidence,
            "band_coverage": self.band_coverage,
            "first_unrealizable_step": self.first_unrealizable_step,
            "first_unrealizable_step_continuous": self.first_unrealizable_step_continuous,
            "continuous_lp_solves": self.continuous_lp_solves,
            "log2_size": self.log2_size,
        }


def experiment_random_labels(
    hclass: GridReLUClass | None = None,
    *,
    n_steps: int = 500,
    confidence: float = 0.99,
    continuous_prefix: int = 24,
    seed: Any = 0,
) -> RandomLabelsResult:
    """Experiment (b): labels are independent fair coins, unrelated to the inputs.

    Each label is independent of everything the predictor has seen, so each
    prediction is wrong with probability exactly 1/2 and the mistake count is
    exactly Binomial(T, 1/2), whatever the predictor.

    Parameters
    ----------
    hclass : GridReLUClass, optional
        Default ``GridReLUClass(n_in=1, width=2, scale=4)``.
    n_steps : int, default 500
    confidence : float, default 0.99
        Coverage of the reported binomial band.
    continuous_prefix : int, default 24
        How many leading points the LP decision for the continuous class
        examines (0 skips it).
    seed : default 0

    Returns
    -------
    RandomLabelsResult
    """
    H = _default_class(hclass)
    T = check_int(n_steps, "n_steps", low=1, error=InvalidOptionError)
    prefix = check_int(continuous_prefix, "continuous_prefix", low=0, error=InvalidOptionError)
    lo, hi, coverage = binomial_band(T, confidence)
    rng = np.random.default_rng(seed)
    X = dyadic_points(T, H.n_in, seed=rng)
    y = rng.choice(np.array([-1, 1], dtype=np.int8), size=T)
    B = H.labels(X)
    rl = run_protocol(B, y, predictor="least_consistent")
    rh = run_protocol(B, y, predictor="halving")
    cont_step: int | None = None
    cont_solves = 0
    if prefix:
        k = min(prefix, T)
        dec = decide_consistency(X[:k], y[:k], output_weights=np.array(H.output_weights, dtype=np.float64))
        cont_step = dec.first_unrealizable_step
        cont_solves = dec.lp_solves
    return RandomLabelsResult(
        n_hypotheses=H.size,
        n_steps=T,
        mistakes_least_consistent=rl.mistakes,
        mistakes_halving=rh.mistakes,
        band_low=lo,
        band_high=hi,
        confidence=float(confidence),
        band_coverage=coverage,
        first_unrealizable_step=rl.first_unrealizable_step,
        first_unrealizable_step_continuous=cont_step,
        continuous_lp_solves=cont_solves,
        log2_size=floor_log2(H.size),
        example_least_consistent=rl,
        example_halving=rh,
    )


# ------------------------------------------------------------------ (c)
@dataclass(frozen=True)
class AdversarialResult:
    """Experiment (c): the adversary ``y_t = -yhat_t``.

    Attributes
    ----------
    n_hypotheses, n_steps : int
    mistakes_least_consistent, mistakes_halving : int
        Exact counts (both equal ``n_steps``).
    first_unrealizable_step_least_consistent, first_unrealizable_step_halving : int or None
        When the adversary's labels left the class.
    """

    n_hypotheses: int
    n_steps: int
    mistakes_least_consistent: int
    mistakes_halving: int
    first_unrealizable_step_least_consistent: int | None
    first_unrealizable_step_halving: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "experiment": "adversarial",
            "n_hypotheses": self.n_hypotheses,
            "n_steps": self.n_steps,
            "mistakes_least_consistent": self.mistakes_least_consistent,
            "mistakes_halving": self.mistakes_halving,
            "first_unrealizable_step_least_consistent": self.first_unrealizable_step_least_consistent,
            "first_unrealizable_step_halving": self.first_unrealizable_step_halving,
        }


def experiment_adversarial(
    hclass: GridReLUClass | None = None,
    *,
    n_steps: int = 200,
    seed: Any = 0,
) -> AdversarialResult:
    """Experiment (c): every label is the opposite of the prediction.

    Parameters
    ----------
    hclass : GridReLUClass, optional
    n_steps : int, default 200
    seed : default 0
        Seeds the input stream (the labels depend only on the predictions).

    Returns
    -------
    AdversarialResult

    Examples
    --------
    >>> experiment_adversarial(GridReLUClass(width=1), n_steps=30).mistakes_halving
    30
    """
    H = _default_class(hclass)
    T = check_int(n_steps, "n_steps", low=1, error=InvalidOptionError)
    X = dyadic_points(T, H.n_in, seed=np.random.default_rng(seed))
    B = H.labels(X)
    rl = run_protocol(B, ADVERSARIAL, predictor="least_consistent")
    rh = run_protocol(B, ADVERSARIAL, predictor="halving")
    return AdversarialResult(
        n_hypotheses=H.size,
        n_steps=T,
        mistakes_least_consistent=rl.mistakes,
        mistakes_halving=rh.mistakes,
        first_unrealizable_step_least_consistent=rl.first_unrealizable_step,
        first_unrealizable_step_halving=rh.first_unrealizable_step,
    )


# ------------------------------------------------------------------ (d)
@dataclass(frozen=True)
class RefinementResult:
    """Experiment (d): one scenario on ``[0, 1)`` observed on nested grids of ``2^k`` times.

    Attributes
    ----------
    n_hypotheses : int
    levels : tuple of int
        The ``k`` values; level ``k`` observes the times ``j / 2^k``, ``j < 2^k``,
        in increasing order (each grid contains the coarser ones).
    n_points : tuple of int
        ``2^k`` per level.
    target : int
        The target hypothesis of the realizable scenario.
    mistakes_random_least_consistent, mistakes_random_halving : tuple of int
        Mistakes on the unrelated (white-noise) scenario per level.
    mistakes_target_least_consistent, mistakes_target_halving : tuple of int
        Mistakes on the scenario given by ``target`` per level.
    band_low, band_high : tuple of int
        Exact Binomial(2^k, 1/2) bands at ``confidence`` per level.
    confidence : float
    """

    n_hypotheses: int
    levels: tuple[int, ...]
    n_points: tuple[int, ...]
    target: int
    mistakes_random_least_consistent: tuple[int, ...]
    mistakes_random_halving: tuple[int, ...]
    mistakes_target_least_consistent: tuple[int, ...]
    mistakes_target_halving: tuple[int, ...]
    band_low: tuple[int, ...]
    band_high: tuple[int, ...]
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "experiment": "refinement",
            "n_hypotheses": self.n_hypotheses,
            "levels": list(self.levels),
            "n_points": list(self.n_points),
            "target": self.target,
            "mistakes_random_least_consistent": list(self.mistakes_random_least_consistent),
            "mistakes_random_halving": list(self.mistakes_random_halving),
            "mistakes_target_least_consistent": list(self.mistakes_target_least_consistent),
            "mistakes_target_halving": list(self.mistakes_target_halving),
            "band_low": list(self.band_low),
            "band_high": list(self.band_high),
            "confidence": self.confidence,
        }


def experiment_refinement(
    hclass: GridReLUClass | None = None,
    *,
    levels: Any = (3, 4, 5, 6, 7, 8, 9, 10),
    confidence: float = 0.99,
    seed: Any = 0,
) -> RefinementResult:
    """Experiment (d): refine the time grid on ``[0, 1)`` and count mistakes at each resolution.

    Two scenarios ``v : [0, 1) -> {-1, +1}`` are fixed once, on the finest grid:
    white noise (independent fair coins per time) and a target hypothesis of the
    class (drawn, seeded, among those not constant on the finest grid).  Level
    ``k`` observes the same scenario at the times ``j / 2^k`` in increasing order.

    Parameters
    ----------
    hclass : GridReLUClass, optional
        Must have ``n_in = 1`` (time is one-dimensional).
    levels : sequence of int, default 3..10
        Grid levels ``k`` (``0 <= k <= 20``).
    confidence : float, default 0.99
    seed : default 0

    Returns
    -------
    RefinementResult

    Raises
    ------
    InvalidOptionError
        If ``hclass.n_in != 1`` or ``levels`` is empty or out of range.
    """
    H = _default_class(hclass)
    if H.n_in != 1:
        raise InvalidOptionError(f"experiment_refinement needs a class with n_in = 1 (time); got n_in = {H.n_in}.")
    try:
        lv = tuple(check_int(k, f"levels[{i}]", low=0, high=20, error=InvalidOptionError) for i, k in enumerate(levels))
    except TypeError:
        raise InvalidOptionError(f"The 'levels' parameter must be a sequence of ints. Got {levels!r}.") from None
    if not lv:
        raise InvalidOptionError("The 'levels' parameter is empty; expected at least one grid level.")
    L = max(lv)
    rng = np.random.default_rng(seed)
    noise = rng.choice(np.array([-1, 1], dtype=np.int8), size=2**L)
    t_fine = (np.arange(2**L, dtype=np.float64) / 2**L).reshape(-1, 1)
    B_fine = H.labels(t_fine)
    nonconstant = np.flatnonzero(np.any(B_fine != B_fine[:, :1], axis=1))
    if nonconstant.size == 0:
        raise InvalidOptionError("every hypothesis is constant on the finest grid; use a finer or richer class.")
    target = int(rng.choice(nonconstant))
    out: dict[str, list[int]] = {k: [] for k in ("rl", "rh", "tl", "th", "lo", "hi")}
    for k in lv:
        cols = np.arange(2**k) * 2 ** (L - k)
        B = B_fine[:, cols]
        out["rl"].append(run_protocol(B, noise[cols], predictor="least_consistent").mistakes)
        out["rh"].append(run_protocol(B, noise[cols], predictor="halving").mistakes)
        out["tl"].append(run_protocol(B, B[target], predictor="least_consistent").mistakes)
        out["th"].append(run_protocol(B, B[target], predictor="halving").mistakes)
        lo, hi, _ = binomial_band(2**k, confidence)
        out["lo"].append(lo)
        out["hi"].append(hi)
        logger.info("refinement level %d: random %d/%d, target %d", k, out["rl"][-1], 2**k, out["tl"][-1])
    return RefinementResult(
        n_hypotheses=H.size,
        levels=lv,
        n_points=tuple(2**k for k in lv),
        target=target,
        mistakes_random_least_consistent=tuple(out["rl"]),
        mistakes_random_halving=tuple(out["rh"]),
        mistakes_target_least_consistent=tuple(out["tl"]),
        mistakes_target_halving=tuple(out["th"]),
        band_low=tuple(out["lo"]),
        band_high=tuple(out["hi"]),
        confidence=float(confidence),
    )

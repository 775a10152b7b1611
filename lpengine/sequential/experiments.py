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
Every function takes a ``seed`` for ``numpy.random.default_rng``.  Experiment
(d) lives in :mod:`lpengine.sequential.refinement`, the inputs and the exact
reference numbers (bounds, binomial bands) in :mod:`lpengine.sequential.reference`;
their names are exported here too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_int
from ..exceptions import InvalidOptionError
from .consistency import decide_consistency
from .hypotheses import GridReLUClass
from .protocol import ADVERSARIAL, ProtocolResult, distinct_rows, run_protocol
from .reference import DEFAULT_CLASS, binomial_band, default_class, dyadic_points, floor_log2
from .reference import POINT_BITS as POINT_BITS  # importable from here, as before the split
from .refinement import RefinementResult, experiment_refinement

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
    H = default_class(hclass)
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
    H = default_class(hclass)
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
    H = default_class(hclass)
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

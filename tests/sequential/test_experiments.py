"""The four experiments: mistake bounds (a), binomial band (b), exactly T (c), refinement (d); seeded, exact."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
import pytest
from scipy.stats import binom

from lpengine.exceptions import InvalidOptionError
from lpengine.sequential import (
    GridReLUClass,
    binomial_band,
    experiment_adversarial,
    experiment_random_labels,
    experiment_realizable,
    experiment_refinement,
)
from lpengine.sequential.experiments import dyadic_points


# ---------------------------------------------------------------- (a)
def test_realizable_default_seed0_exact_counts_within_bounds() -> None:
    r = experiment_realizable(seed=0)
    assert (r.n_hypotheses, r.bound_least_consistent, r.bound_halving) == (6561, 6560, 12)
    assert r.n_distinct_behaviours == 44
    assert r.mistakes_least_consistent == (0, 1, 0, 1, 1, 0, 1, 0, 0, 0, 1, 0, 2, 1, 0, 1)
    assert r.mistakes_halving == (0, 1, 0, 1, 1, 0, 1, 0, 0, 0, 1, 0, 2, 1, 0, 1)
    assert max(r.mistakes_least_consistent) <= r.bound_least_consistent
    assert max(r.mistakes_halving) <= r.bound_halving
    assert r.example_least_consistent.realizable


def test_realizable_every_target_respects_both_bounds() -> None:
    r = experiment_realizable(n_steps=200, n_targets=None, seed=0)
    assert len(r.targets) == 6561
    assert max(r.mistakes_least_consistent) <= r.n_distinct_behaviours - 1 <= r.bound_least_consistent
    assert max(r.mistakes_halving) <= r.bound_halving
    assert (max(r.mistakes_least_consistent), max(r.mistakes_halving)) == (4, 4)
    # exact distribution over all 6561 targets (identical for both predictors on this stream)
    hist = np.bincount(r.mistakes_least_consistent).tolist()
    assert hist == [3632, 2192, 478, 228, 31] == np.bincount(r.mistakes_halving).tolist()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_in": 1, "width": 1, "scale": 8},
        {"n_in": 2, "width": 1, "scale": 2},
        {"n_in": 1, "width": 3, "scale": 1, "output_weights": (1, 1, -1)},
    ],
)
def test_realizable_bounds_on_other_classes(kwargs: dict) -> None:
    H = GridReLUClass(**kwargs)
    r = experiment_realizable(H, n_steps=120, n_targets=None, seed=5)
    assert max(r.mistakes_least_consistent) <= min(r.n_distinct_behaviours - 1, H.size - 1)
    assert max(r.mistakes_halving) <= H.size.bit_length() - 1


# ---------------------------------------------------------------- (b)
def _exact_quantile(T: int, q: Fraction) -> int:
    """Smallest k with P(Binomial(T, 1/2) <= k) >= q, in exact rational arithmetic."""
    acc = Fraction(0)
    for k in range(T + 1):
        acc += Fraction(comb(T, k), 2**T)
        if acc >= q:
            return k
    return T


@pytest.mark.parametrize("T,conf", [(100, 0.95), (500, 0.99), (37, 0.9)])
def test_binomial_band_matches_exact_rational_quantiles(T: int, conf: float) -> None:
    lo, hi, coverage = binomial_band(T, conf)
    c = Fraction(conf)
    assert lo == _exact_quantile(T, (1 - c) / 2)
    assert hi == _exact_quantile(T, (1 + c) / 2)
    exact_cov = sum(Fraction(comb(T, k), 2**T) for k in range(lo, hi + 1))
    assert coverage == pytest.approx(float(exact_cov), abs=1e-12)
    assert coverage >= conf


def test_random_labels_default_seed0_exact() -> None:
    r = experiment_random_labels(seed=0)
    assert (r.mistakes_least_consistent, r.mistakes_halving) == (265, 264)
    assert (r.band_low, r.band_high) == (221, 279)
    assert r.band_low <= r.mistakes_least_consistent <= r.band_high
    assert r.band_low <= r.mistakes_halving <= r.band_high
    assert r.first_unrealizable_step == 3
    assert r.first_unrealizable_step_continuous == 5


def test_random_labels_unrealizable_steps_match_brute_force() -> None:
    r = experiment_random_labels(seed=0, n_steps=60, continuous_prefix=12)
    H = GridReLUClass(n_in=1, width=2, scale=4)
    rng = np.random.default_rng(0)
    X = dyadic_points(60, 1, seed=rng)
    y = r.example_least_consistent.labels
    B = H.labels(X)
    grid_step = next(t for t in range(60) if not np.any(np.all(B[:, : t + 1] == y[: t + 1], axis=1)))
    assert r.first_unrealizable_step == grid_step

    # continuous class relu(l1) - relu(l2): consistent iff the positives are contiguous in sorted time
    def ok(k: int) -> bool:
        ys = [lab for _, lab in sorted(zip(X[:k, 0].tolist(), y[:k].tolist(), strict=True))]
        pos = [i for i, v in enumerate(ys) if v > 0]
        return not pos or pos == list(range(pos[0], pos[-1] + 1))

    cont_step = next((k - 1 for k in range(1, 13) if not ok(k)), None)
    assert r.first_unrealizable_step_continuous == cont_step
    assert r.first_unrealizable_step <= cont_step  # the grid class is a subset of the continuous one


@pytest.mark.parametrize("seed", range(8))
def test_random_labels_stay_in_the_999_band(seed: int) -> None:
    T = 400
    lo, hi = int(binom.ppf(0.0005, T, 0.5)), int(binom.ppf(0.9995, T, 0.5))
    assert (lo, hi) == (167, 233)
    r = experiment_random_labels(n_steps=T, seed=seed, continuous_prefix=0)
    assert lo <= r.mistakes_least_consistent <= hi
    assert lo <= r.mistakes_halving <= hi


# ---------------------------------------------------------------- (c)
@pytest.mark.parametrize(
    "kwargs,T", [({}, 200), ({"n_in": 2, "width": 1, "scale": 1}, 50), ({"width": 3, "scale": 1}, 77)]
)
def test_adversarial_makes_exactly_T_mistakes(kwargs: dict, T: int) -> None:
    H = GridReLUClass(**kwargs) if kwargs else None
    r = experiment_adversarial(H, n_steps=T, seed=3)
    assert r.mistakes_least_consistent == T
    assert r.mistakes_halving == T


# ---------------------------------------------------------------- (d)
def test_refinement_default_seed0_exact() -> None:
    r = experiment_refinement(seed=0)
    assert r.n_points == (8, 16, 32, 64, 128, 256, 512, 1024)
    assert r.mistakes_random_least_consistent == (5, 6, 23, 35, 63, 138, 251, 529)
    assert r.mistakes_random_halving == (5, 6, 23, 35, 63, 138, 251, 529)
    assert r.mistakes_target_least_consistent == (1,) * 8
    assert r.mistakes_target_halving == (1,) * 8
    for m, lo, hi in zip(r.mistakes_random_least_consistent, r.band_low, r.band_high, strict=True):
        assert lo <= m <= hi
    # the realizable scenario: a bounded number of mistakes at every resolution
    assert max(r.mistakes_target_least_consistent) <= r.n_hypotheses - 1
    assert max(r.mistakes_target_halving) <= 12


def test_refinement_target_counts_bounded_for_other_seeds() -> None:
    for seed in (1, 2, 3):
        r = experiment_refinement(levels=(2, 5, 8), seed=seed)
        assert all(m <= 12 for m in r.mistakes_target_halving)
        assert all(m <= 6560 for m in r.mistakes_target_least_consistent)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: experiment_realizable(n_steps=0), "n_steps"),
        (lambda: experiment_realizable(n_targets=10**6), "n_targets"),
        (lambda: experiment_realizable("class"), "GridReLUClass"),
        (lambda: experiment_random_labels(confidence=1.5), "confidence"),
        (lambda: experiment_random_labels(continuous_prefix=-1), "continuous_prefix"),
        (lambda: experiment_adversarial(n_steps=2.5), "n_steps"),
        (lambda: experiment_refinement(GridReLUClass(n_in=2, width=1, scale=1)), "n_in = 1"),
        (lambda: experiment_refinement(levels=()), "empty"),
        (lambda: experiment_refinement(levels=(3, 30)), r"levels\[1\]"),
        (lambda: experiment_refinement(levels=5), "sequence of ints"),
        (lambda: binomial_band(0), "n_steps"),
    ],
)
def test_bad_input(call, match: str) -> None:
    with pytest.raises(InvalidOptionError, match=match):
        call()


def test_names_still_import_from_the_experiments_module() -> None:
    # Experiment (d) and the reference numbers live in their own modules; the old import path still works.
    import lpengine.sequential as seq
    from lpengine.sequential import experiments, reference, refinement

    public = {n: getattr(experiments, n) for n in experiments.__all__ if hasattr(seq, n)}
    assert public == {n: getattr(seq, n) for n in public} and len(public) >= 9
    assert experiments.experiment_refinement is refinement.experiment_refinement
    assert (experiments.POINT_BITS, experiments.DEFAULT_CLASS) == (reference.POINT_BITS, reference.DEFAULT_CLASS)

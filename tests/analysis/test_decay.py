"""Tests of lpengine.analysis.decay on sequences whose limit is known exactly."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from lpengine.analysis import decay_profile, fit_decay, gap_decay_profile


def test_exact_geometric_recovered_to_rounding() -> None:
    k = np.arange(60)
    fit = fit_decay(3.0 + 2.0 * 0.9**k)
    assert fit.status == "ok"
    assert_allclose([fit.l_star, fit.c, fit.q], [3.0, 2.0, 0.9], rtol=0, atol=1e-12)
    assert fit.rss < 1e-24
    assert fit.l_star_se < 1e-10
    assert (fit.n, fit.start, fit.stop) == (60, 0, 60)
    assert_allclose(fit.rate, -np.log(0.9), rtol=1e-12)
    assert_allclose(fit.half_life, np.log(2) / -np.log(0.9), rtol=1e-12)


def test_window_amplitude_is_gap_at_window_start() -> None:
    k = np.arange(100)
    fit = fit_decay(1.0 + 4.0 * 0.95**k, start=20, stop=60)
    assert_allclose([fit.l_star, fit.c, fit.q], [1.0, 4.0 * 0.95**20, 0.95], atol=1e-10)
    assert_allclose(fit.predict([20, 59, 99]), 1.0 + 4.0 * 0.95 ** np.array([20, 59, 99]), atol=1e-10)


def test_slow_decay_q_close_to_one() -> None:
    # "exponentially slowly": q = 0.999, only 300 vertices (gap shrinks by 26%).
    k = np.arange(300)
    fit = fit_decay(146.0 + 40.0 * 0.999**k)
    assert fit.status == "ok"
    assert_allclose(fit.l_star, 146.0, atol=1e-6)
    assert_allclose(fit.q, 0.999, atol=1e-10)


def test_noisy_geometric_within_stated_error() -> None:
    rng = np.random.default_rng(7)
    k = np.arange(400)
    y = 5.0 + 3.0 * 0.98**k + 1e-3 * rng.standard_normal(400)
    fit = fit_decay(y)
    assert fit.status == "ok"
    assert fit.l_star_se < 1e-3
    assert abs(fit.l_star - 5.0) < 4 * fit.l_star_se  # a 4-sigma statement on a seeded sample
    assert abs(fit.q - 0.98) < 4 * fit.q_se


def test_flat_and_linear_windows_have_status() -> None:
    flat = fit_decay(np.full(10, 7.5))
    assert (flat.status, flat.l_star, flat.q, flat.c, flat.l_star_se) == ("flat", 7.5, 0.0, 0.0, 0.0)
    assert flat.rate == np.inf and flat.half_life == 0.0
    lin = fit_decay(100.0 - np.arange(50.0))
    assert lin.status == "no_decay"


def test_profile_of_exact_sequence_is_constant() -> None:
    y = 2.0 + 0.5 * 0.8 ** np.arange(40)
    prof = decay_profile(y, window=10, step=5)
    assert prof.starts.tolist() == [0, 5, 10, 15, 20, 25, 30]
    assert_allclose(prof.column("q"), 0.8, atol=1e-9)
    assert_allclose(prof.column("l_star"), 2.0, atol=1e-9)


def test_gap_profile_exact() -> None:
    y = 10.0 + 3.0 * 0.7 ** np.arange(30)
    gp = gap_decay_profile(y, reference=10.0, window=8, step=4)
    assert gp.starts.tolist() == [0, 4, 8, 12, 16, 20]
    assert_allclose(gp.q, 0.7, rtol=1e-12)
    assert_allclose(gp.r2, 1.0, atol=1e-12)


def test_gap_profile_skips_windows_at_the_limit() -> None:
    y = np.array([4.0, 2.0, 1.0, 0.5, 0.0, 0.0, 0.0, 0.0])
    gp = gap_decay_profile(y, reference=0.0, window=4, step=2)
    assert gp.starts.tolist() == [0]  # windows [2, 6) and [4, 8) have fewer than 3 positive gaps
    assert_allclose(gp.q, 0.5, rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"losses": [1.0, 0.5, 0.2]}, "at least 4 losses"),
        ({"losses": [[1.0, 2.0]]}, "losses has 2 dimension"),
        ({"losses": [1.0, np.nan, 0.3, 0.2, 0.1]}, "NaN or inf"),
        ({"losses": [4.0, 3.0, 2.0, 1.5, 1.2], "start": 9}, "'start' parameter"),
    ],
)
def test_fit_decay_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fit_decay(**kwargs)


def test_profile_bad_window() -> None:
    with pytest.raises(ValueError, match="'window' parameter"):
        decay_profile(np.arange(10.0)[::-1], window=3)
    with pytest.raises(ValueError, match="'reference' parameter"):
        gap_decay_profile(np.arange(10.0)[::-1], reference=np.inf, window=4)

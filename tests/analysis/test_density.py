"""Tests of lpengine.analysis.density against hand-computed paths and brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from lpengine.analysis import density_summary, distances_to, step_lengths, visited_within


def test_steps_and_distances_by_hand() -> None:
    th = [[0.0, 0.0], [3.0, 4.0], [3.0, 5.0]]
    assert step_lengths(th).tolist() == [5.0, 1.0]
    assert step_lengths(th, ord=1).tolist() == [7.0, 1.0]
    assert step_lengths(th, ord=np.inf).tolist() == [4.0, 1.0]
    assert_allclose(distances_to(th), [math.sqrt(34.0), 1.0, 0.0])
    assert distances_to(th, center=[0.0, 0.0]).tolist() == [0.0, 5.0, math.sqrt(34.0)]


def test_visited_within_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    th = rng.standard_normal((50, 4))
    radii = np.array([0.5, 1.0, 2.0, 3.0])
    rc = visited_within(th, radii=radii)
    d = np.linalg.norm(th[:-1] - th[-1], axis=1)
    assert rc.counts.tolist() == [int(np.sum(d <= r)) for r in radii]
    assert rc.n_vertices == 50
    assert_allclose(rc.per_radius, rc.counts / radii)
    default = visited_within(th, n_radii=5)
    assert default.radii.shape == (5,) and default.counts[-1] == 49 and default.counts[0] == 1


def test_visited_within_explicit_center_counts_all() -> None:
    rc = visited_within([[1.0], [2.0], [3.0]], radii=[1.0, 2.0], center=[2.0])
    assert rc.counts.tolist() == [3, 3]


def test_summary_on_geometrically_shrinking_path() -> None:
    # theta_k = 1 - 0.5**k on a line: steps 0.5**(k+1) shrink towards the end,
    # distances to the final vertex shrink too, so the rank correlation is exactly 1.
    n = 21
    th = (1.0 - 0.5 ** np.arange(n))[:, None]
    summ = density_summary(th, fraction=0.1)
    assert summ.n_steps == 20 and summ.zero_steps == 0
    assert_allclose(summ.median_step_early, np.median(0.5 ** np.arange(1, 3)))
    assert_allclose(summ.median_step_late, np.median(0.5 ** np.arange(19, 21)))
    assert_allclose(summ.step_ratio, summ.median_step_early / summ.median_step_late)
    assert summ.spearman == pytest.approx(1.0, abs=1e-12)
    assert summ.median_step_far == summ.median_step_early and summ.median_step_near == summ.median_step_late


def test_summary_constant_steps() -> None:
    th = np.arange(11.0)[:, None]
    summ = density_summary(th, fraction=0.2)
    assert (summ.step_ratio, summ.spearman) == (1.0, 0.0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: step_lengths([1.0, 2.0]), "thetas has 1 dimension"),
        (lambda: step_lengths([[0.0], [1.0]], ord=3), "'ord' parameter"),
        (lambda: visited_within([[0.0], [1.0]], radii=[-1.0]), "radii must be positive"),
        (lambda: visited_within([[1.0], [1.0]]), "coincide with the centre"),
        (lambda: distances_to([[0.0, 1.0]], center=[1.0]), r"center has shape \(1,\)"),
        (lambda: density_summary([[0.0], [1.0]]), "at least 3 visited vertices"),
        (lambda: density_summary([[0.0], [1.0], [2.0]], fraction=0.7), "'fraction' parameter"),
    ],
)
def test_bad_input(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()

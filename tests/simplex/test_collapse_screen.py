"""The revival search's screen: one-sided loss rates of the candidate cells, and what reordering may change."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from lpengine import ReLUNetwork
from lpengine.simplex.collapse import cell_slopes, search_revival
from lpengine.simplex.encoding import build_layer_model
from lpengine.tolerances import DEFAULT_TOLERANCES

X9 = np.linspace(-2.0, 2.0, 9)[:, None] + 0.01


def _one_unit(v1, y):
    """One input, one trained unit at exact zero; output ``v1 * relu(w x + b)``, targets ``y``."""
    net = ReLUNetwork((np.array([[0.0]]), np.array([[v1]])), (np.array([0.0]), np.array([0.0])))
    model = build_layer_model(net, X9, np.asarray(y, dtype=np.float64))
    theta = np.zeros(model.D)
    signs = np.where(model.signs_at(theta) >= 0, 1, -1).astype(np.int8)
    return model, theta, signs


def _cell(model, v):
    """Hidden signs of the cell entered from 0 along ``v`` (the unit's kinks: sign of h . v)."""
    assert model.H is not None
    return np.where(model.H @ v > 0, 1, -1).astype(np.int8)


@pytest.mark.parametrize("v", [(1.0, 0.0), (0.0, 1.0), (0.0, -1.0), (-1.0, 0.5), (3.0, -2.0)])
def test_cell_slopes_are_the_loss_rates_along_the_direction(v):
    """All targets -1 and out weight -1: residual ``1 - relu(w x + b)``, +1 at 0; along ``t v`` the loss
    is ``sum_i |1 - t relu(h_i . v)|``, so its rate is ``-sum_i relu(h_i . v)`` with ``h_i = (x_i, 1)``
    (closed form, here), and the loss is linear in ``t`` near 0 (finite difference, exact up to rounding)."""
    model, theta, signs = _one_unit(-1.0, np.full(9, -1.0))
    v = np.array(v)
    hv = X9[:, 0] * v[0] + v[1]
    expected = -float(np.maximum(hv, 0.0).sum()) / float(np.linalg.norm(v))
    got = cell_slopes(model, theta, signs, [_cell(model, v)], [v], np.zeros(0, np.int64))[0]
    assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    t = 1e-4
    fd = (model.loss_at(theta + t * v) - model.loss_at(theta)) / (t * np.linalg.norm(v))
    assert_allclose(got, fd, rtol=1e-6, atol=1e-9)


def test_residuals_at_zero_count_one_sided():
    """Targets 0: every residual is at zero, and ``|r|`` rises whichever way the unit moves it."""
    model, theta, signs = _one_unit(-1.0, np.zeros(9))
    v = np.array([0.0, 1.0])
    got = cell_slopes(model, theta, signs, [_cell(model, v)], [v], np.zeros(0, np.int64))[0]
    assert got == pytest.approx(9.0)
    # A fixed column is not moved: the rate along the rest of the direction only.
    got = cell_slopes(model, theta, signs, [_cell(model, v)], [v], np.array([1]))[0]
    assert got == np.inf  # nothing left of the direction


def _search(model, theta, signs, *, screen, seed=0):
    return search_revival(
        model,
        theta,
        signs,
        model.loss_at(theta),
        0,
        [0],
        np.zeros(0, np.int64),
        ray_dirs=np.zeros((0, model.D)),
        n_directions=8,
        seed=seed,
        radius=1e-3,
        tol=DEFAULT_TOLERANCES,
        screen=screen,
    )


@pytest.mark.parametrize("seed", [1, 4, 5, 6])
def test_screen_solves_a_descending_cell_first(seed):
    """Out weight +1; targets +1 for the largest x only (switching on there helps), -1 elsewhere (it
    hurts).  A cell ``{w x + b > 0}`` with ``w > 0`` descends iff its threshold ``-b / w`` lies above
    0.51 (hurt ``sum (x_i - c)`` over the active x < 1.6 against help ``2.01 - c``), so some candidate
    cells descend and some do not.  With the screen the first LP solved is a descending cell's and the
    search revives after exactly one cell; for these seeds the unscreened order needs more."""
    y = np.where(X9[:, 0] > 1.6, 1.0, -1.0)
    model, theta, signs = _one_unit(1.0, y)
    with_screen = _search(model, theta, signs, screen=True, seed=seed)
    without = _search(model, theta, signs, screen=False, seed=seed)
    assert with_screen.best_x is not None and without.best_x is not None
    assert with_screen.cells == 1 < without.cells
    assert model.loss_at(with_screen.best_x) < model.loss_at(theta) - 1e-6


@pytest.mark.parametrize(("v1", "seed"), [(1.0, 0), (0.5, 3)])
def test_screen_keeps_the_cells_searched_when_nothing_revives(v1, seed):
    """All residuals +1 and out weight > 0: every switch-on raises the loss, no revival exists, and the
    search solves the same cells with and without the screen (the claim "no descent found in K cells"
    keeps its K)."""
    model, theta, signs = _one_unit(v1, np.full(9, -1.0))
    a = _search(model, theta, signs, screen=True, seed=seed)
    b = _search(model, theta, signs, screen=False, seed=seed)
    assert a.best_x is None and b.best_x is None
    assert a.cells == b.cells >= 1

"""The directional-derivative test of degenerate points (lpengine.simplex.degenerate) against the cells.

Instances are built to be degenerate by construction: a net with power-of-two first-layer weights and
dyadic other weights, data on a dyadic grid, some samples placed exactly on a first-layer kink and some
targets set to the network's own output (residual exactly 0), so that every value is computed exactly
in float64 and the kinks "at zero" are exactly zero.  The reference answer is HiGHS on *every* incident
hidden cell (:func:`~lpengine.simplex.certificate.check_cells`, reference notes §3 fact 2), and the
atoms' slope must equal finite differences of the loss in random directions.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from lpengine import ReLUNetwork
from lpengine.simplex.certificate import check_cells
from lpengine.simplex.degenerate import decide_by_slopes, slope_terms
from lpengine.simplex.encoding import build_layer_model
from lpengine.tolerances import Tolerances


def _degenerate_instance(seed: int, n: int = 12, on_kink: int = 3, interpolated: int = 6):
    """A first-layer problem 2 -> [3, 2] -> 1 and a point theta with kinks exactly at zero."""
    rng = np.random.default_rng(seed)
    pow2 = np.array([0.25, 0.5, 1.0, 2.0])
    W1 = rng.choice(pow2, (3, 2)) * rng.choice([-1, 1], (3, 2))
    b1 = rng.integers(-4, 5, 3) / 4
    W2 = rng.integers(-4, 5, (2, 3)) / 4
    b2 = rng.integers(-4, 5, 2) / 4
    W3 = rng.choice([-1.0, 1.0], (1, 2)) * rng.integers(1, 5, (1, 2)) / 4
    b3 = rng.integers(-4, 5, 1) / 4
    net = ReLUNetwork((W1, W2, W3), (b1, b2, b3))
    X = rng.integers(-16, 17, (n, 2)) / 8
    units = rng.integers(0, 3, on_kink)
    for i, u in enumerate(units):  # x_1 = -(w_0 x_0 + b) / w_1: exact (w_1 a power of two)
        X[i, 1] = -(W1[u, 0] * X[i, 0] + b1[u]) / W1[u, 1]
    out = net.forward(X).reshape(n)
    y = rng.integers(-16, 17, n) / 8 + 1 / 16
    pick = rng.choice(n, interpolated, replace=False)
    y[pick] = out[pick]
    model = build_layer_model(net, X, y)
    theta = model.from_public(np.concatenate([W1.ravel(), b1]))
    flat = model.signs_at(theta)
    tight = flat == 0.0
    signs = np.where(flat > 0, 1, -1).astype(np.int8)
    signs[tight] = np.where(rng.random(int(tight.sum())) < 0.5, 1, -1)
    return model, theta, signs, tight


TOL = Tolerances()


CASES = [(seed, k) for seed in range(9) for k in (6, 9, 11)]


@pytest.mark.parametrize(("seed", "interpolated"), CASES)
def test_slope_test_agrees_with_every_incident_cell(seed, interpolated):
    model, theta, signs, tight = _degenerate_instance(seed, interpolated=interpolated)
    nhk = model.n_hidden_kinks
    tight_hidden = np.flatnonzero(tight[:nhk])
    assert tight_hidden.size >= 3 and tight.sum() > 3  # degenerate by construction
    loss = model.loss_at(theta)
    cells = check_cells(
        model, theta, signs, tight_hidden, loss, max_cells=1 << 12, seed=0, radius=1e-3, tol=TOL, at_zero=0.0
    )
    assert not cells.sampled and cells.failed == 0
    res = decide_by_slopes(model, theta, signs, tight, loss, max_branches=1 << 12, radius=1e-3, tol=TOL)
    assert res.decided
    assert res.ok == cells.ok
    if not res.ok:
        assert res.best_x is not None and model.loss_at(res.best_x) < loss


def test_instances_cover_both_answers_and_every_kind_of_term():
    """The parametrised instances are not all of one kind (else the agreement test proves little)."""
    answers, concave, enumerated = set(), 0, 0
    for seed, k in CASES:
        model, theta, signs, tight = _degenerate_instance(seed, interpolated=k)
        terms = slope_terms(model, signs, tight)
        assert terms is not None
        concave += terms.n_concave
        enumerated += len(terms.groups)
        res = decide_by_slopes(
            model, theta, signs, tight, model.loss_at(theta), max_branches=1 << 12, radius=1e-3, tol=TOL
        )
        answers.add(res.ok)
    assert answers == {True, False}
    assert concave > 0 and enumerated > 0


@pytest.mark.parametrize("seed", range(6))
def test_atoms_give_the_one_sided_slope(seed):
    """``L'(theta; e)`` from the atoms equals the loss difference quotient (step 2^-20, exact-ish dyadics)."""
    model, theta, signs, tight = _degenerate_instance(seed)
    terms = slope_terms(model, signs, tight)
    assert terms is not None
    rng = np.random.default_rng(100 + seed)
    eps = 2.0**-20
    L0 = model.loss_at(theta)
    for _ in range(20):
        e = rng.integers(-8, 9, model.D) / 8
        fd = (model.loss_at(theta + eps * e) - L0) / eps
        assert_allclose(terms.slope(e), fd, rtol=1e-6, atol=1e-6)


def test_a_zero_loss_point_on_kinks_is_a_local_minimum_in_one_lp():
    """Every target interpolated: loss 0, the global minimum, whatever the kinks at zero."""
    model, theta, signs, tight = _degenerate_instance(3, n=10, on_kink=4, interpolated=10)
    assert model.loss_at(theta) == 0.0
    terms = slope_terms(model, signs, tight)
    assert terms is not None
    res = decide_by_slopes(model, theta, signs, tight, 0.0, max_branches=1 << 12, radius=1e-3, tol=TOL)
    assert res.decided and res.ok and res.min_value == pytest.approx(0.0, abs=1e-9)


def test_too_many_branches_is_undecided_not_certified():
    for seed, k in CASES:
        model, theta, signs, tight = _degenerate_instance(seed, interpolated=k)
        terms = slope_terms(model, signs, tight)
        assert terms is not None
        if terms.log2_branches >= 1:
            res = decide_by_slopes(
                model, theta, signs, tight, model.loss_at(theta), max_branches=1, radius=1e-3, tol=TOL
            )
            assert not res.decided and not res.ok and res.lps == 0
            return
    pytest.fail("no instance with a concave term or an enumerated group")


def test_walk_on_integer_data_ends_degenerate_and_the_slope_test_decides_it():
    """Integer data make exact degeneracies (collinear grid points): the walk ends at a vertex with 8
    hidden kinks at zero, 4 of them beyond the basis.  With a cell cap of 64 the incident 2^8 cells are
    too many; the directional-derivative test decides in 8 LPs, each LP's lower bound 0 proved in exact
    rationals, and agrees with HiGHS on all 256 cells."""
    from lpengine.simplex import deep_relu_simplex

    rng = np.random.default_rng(11)
    net = ReLUNetwork.random(2, [3, 2], seed=11)
    X = rng.integers(-3, 4, (40, 2)).astype(float)
    y = rng.integers(-3, 4, 40).astype(float)
    res = deep_relu_simplex(net, X, y, seed=0, certify_cells=2, certify_max_cells=64)
    c = res.certificate
    assert c is not None and c.degenerate and c.n_tight_hidden == 8 and c.sampled
    assert res.certified and "directional-derivative test: no descent in 8 LP(s)" in c.reason
    assert "(8 with the lower bound 0 proved in exact rationals;" in c.reason  # every LP, not trusted to floats
    ref = deep_relu_simplex(net, X, y, seed=0, certify_cells=2, certify_max_cells=256)
    assert ref.certificate is not None and not ref.certificate.sampled
    assert ref.certificate.n_cells_checked == 256 and ref.certified
    assert_allclose(ref.x, res.x, rtol=0, atol=0)

"""Certificate cell LPs: the globbed LPs (far groups summed into one linear term) equal the full pruned LPs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose

from lpengine.lp import LPStatus, solve
from lpengine.simplex.certificate import GlobbedCells, box_radii, local_cell_lp
from lpengine.simplex.encoding import build_layer_model, cell_affine, update_cell_affine
from tests.simplex.nets import data, uniform_net


def _incident_cells(model, theta, n_flip, rng):
    """Hidden signs at ``theta`` and the ids of ``n_flip`` first-layer kinks nearest to zero (flipped below)."""
    flat = model.signs_at(theta)
    nhk = model.n_hidden_kinks
    hs = np.where(flat[:nhk] >= 0, 1, -1).astype(np.int8)
    first = model.hidden_ids[:, : model.n_units].ravel()
    near = first[np.argsort(np.abs(flat[first]))[:n_flip]]
    return hs, near


@pytest.mark.parametrize("seed", [0, 1])
def test_globbed_cell_lps_equal_the_full_pruned_lps(seed):
    """Same rows and columns, same optimum, on every sign choice of a few kinks near the centre.

    The centre is a random point (not a vertex), so the LPs have optima strictly below the loss at
    the centre and the globbed linear term is exercised, not only its value at the centre.
    """
    rng = np.random.default_rng(seed)
    net = uniform_net(3, [5, 3], seed)
    X, y = data(600, 3, seed)
    model = build_layer_model(net, X, y)
    theta = rng.uniform(-1, 1, model.D)
    radius = 0.02
    hs, flip = _incident_cells(model, theta, 3, rng)
    fixed = np.arange(model.p)  # unit 0 held (a collapsed unit's block, as in the certificate)
    rad = box_radii(model, radius, fixed)
    assert_allclose(rad[: model.p], 0.0, atol=0)
    assert_allclose(rad[model.p :], radius, atol=0)
    base = cell_affine(model, hs)
    _, groups, _ = model.decode(flip)
    glob = GlobbedCells.build(model, base, hs, theta, rad, groups)
    assert glob is not None
    # Most groups are far from the centre at this radius: globbed into the linear term.
    assert glob.model.G < model.G // 2
    assert np.all(glob.ids[model.hidden_ids[glob.groups >= 0]] >= 0)
    n_solved = 0
    for bits in itertools.product([-1, 1], repeat=flip.size):
        cell = hs.copy()
        cell[flip] = bits
        full = local_cell_lp(model, cell, theta, radius, fixed_cols=fixed)
        sub_cell = glob.signs.copy()
        sub_cell[glob.ids[flip]] = bits
        changed = np.unique(glob.groups[groups[np.asarray(bits) != hs[flip]]])
        aff = update_cell_affine(glob.model, glob.affine, sub_cell, changed)
        small = local_cell_lp(glob.model, sub_cell, theta, radius, fixed_cols=fixed, affine=aff, linear=glob.linear)
        assert small.A.shape == full.A.shape
        a, b = solve(full), solve(small)
        assert a.status == b.status
        if a.status is LPStatus.OPTIMAL:
            n_solved += 1
            loss0 = model.loss_at(theta)
            assert a.fun < loss0 - 1e-6  # a real descent inside the box: the linear term matters
            assert_allclose(b.fun, a.fun, rtol=1e-9, atol=1e-9)
            assert_allclose(model.loss_at(np.asarray(b.x[: model.D])), b.fun, rtol=1e-7, atol=1e-7)
    assert n_solved >= 1

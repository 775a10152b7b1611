"""Facets, vertices, rays and boundedness from the polar hull, against hand-derived polyhedra and the LP method."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from lpengine import ReLUNetwork
from lpengine.regions import enumerate_regions
from lpengine.regions.polar import facets_by_polar
from lpengine.tolerances import DEFAULT_TOLERANCES as TOL


def rows(A, b):
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    n = np.linalg.norm(A, axis=1)
    return A / n[:, None], b / n


def test_unbounded_wedge_with_a_redundant_row() -> None:
    # x >= 0, y >= 0, x + y >= 1 (a facet), x + y >= -5 (redundant), x <= 3 (a facet).
    G, h = rows([[-1, 0], [0, -1], [-1, -1], [-1, -1], [1, 0]], [0, 0, -1, 5, 3])
    pf = facets_by_polar(G, h, np.array([1.0, 1.0]), TOL)
    assert pf is not None and pf.bounded is False
    assert pf.facets.rows.tolist() == [0, 1, 2, 4]
    # Vertices (0, 1), (1, 0), (3, 0); the only ray is +y.
    got = sorted(map(tuple, np.round(pf.facets.vertices, 12)))
    assert got == [(0.0, 1.0), (1.0, 0.0), (3.0, 0.0)]
    assert_allclose(pf.rays, [[0.0, 1.0]], atol=1e-12)
    # Each facet point lies on its row and strictly inside the others.
    for i, pt in zip(pf.facets.rows, pf.facets.points, strict=True):
        slack = h - G @ pt
        assert abs(slack[i]) < 1e-12 and np.all(np.delete(slack, [i, 3]) > 0)


def test_bounded_square_with_a_touching_row_is_borderline_free_and_bounded() -> None:
    # The square [-1, 1]^2 and x + y <= 2, which only touches the corner (1, 1): not a facet.
    G, h = rows([[1, 0], [-1, 0], [0, 1], [0, -1], [1, 1]], [1, 1, 1, 1, 2])
    pf = facets_by_polar(G, h, np.array([0.1, -0.2]), TOL)
    assert pf is not None and pf.bounded is True and pf.rays.shape == (0, 2)
    assert pf.facets.rows.tolist() == [0, 1, 2, 3]
    assert pf.facets.borderline.tolist() == [4]  # through a vertex: its flip is searched exactly
    assert sorted(map(tuple, np.round(pf.facets.vertices, 12))) == [(-1, -1), (-1, 1), (1, -1), (1, 1)]


def test_a_slab_contains_a_line_and_is_refused() -> None:
    G, h = rows([[1, 0], [-1, 0]], [1, 1])
    assert facets_by_polar(G, h, np.zeros(2), TOL) is None


@pytest.mark.parametrize("n_in, widths, seed", [(2, [5, 4, 4], 0), (3, [5, 5], 1), (4, [4, 4, 4], 2)])
def test_hybrid_equals_the_lp_method_on_deep_nets_in_whole_space(n_in, widths, seed) -> None:
    net = ReLUNetwork.random(n_in, widths, seed=seed, bias_std=0.3)
    hyb = enumerate_regions(net, whole_space=True)
    lp = enumerate_regions(net, whole_space=True, method="lp")
    # Far fewer LPs than one per candidate row (the rest: exact decisions of borderline flips).
    assert hyb.method == "hybrid" and hyb.lp_solves < lp.lp_solves / 4

    def edges(r):
        return {frozenset((str(r.regions[i].pattern), str(r.regions[j].pattern))) for i, j, _ in r.edges}

    assert hyb.count == lp.count and edges(hyb) == edges(lp)
    assert {str(r.pattern): r.bounded for r in hyb.regions} == {str(r.pattern): r.bounded for r in lp.regions}

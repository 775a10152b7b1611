"""Exact tests of lpengine.regions.polygons: hand-derived polygons, area sums, witnesses, plane slices.

Expected corners and areas are derived by hand from the lines of each net
(written next to each test), never read from the code's output.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from lpengine import DEFAULT_TOLERANCES, InvalidDomainError, ReLUNetwork, enumerate_regions
from lpengine.regions import pattern_at
from lpengine.regions.plot import region_polygons
from lpengine.regions.polygons import (
    DOMAIN_EDGE,
    WINDOW_EDGE,
    Polygon,
    clip_polygon,
    domain_polygon,
    plane_network,
    region_polygon,
)
from lpengine.regions.polytope import make_domain

ATOL = 1e-12  # corners are crossings of lines with O(1) coefficients: float64 round-off only


def one_layer(W, b) -> ReLUNetwork:
    return ReLUNetwork((np.asarray(W, float),), (np.asarray(b, float),), has_output_layer=False)


def by_pattern(net: ReLUNetwork, box=(-1, 1)) -> dict[str, tuple]:
    res = enumerate_regions(net, box=box)
    polys = region_polygons(res, box=box)
    return {str(r.pattern): (p, r) for p, r in zip(polys, res.regions, strict=True)}


def corner_set(p: Polygon) -> set[tuple[float, float]]:
    return {(round(float(x), 9), round(float(y), 9)) for x, y in p.vertices}


def test_two_lines_give_four_known_rectangles() -> None:
    # Units x1 - 0.2 and x2 + 0.3 in [-1, 1]^2: the lines x1 = 0.2 and x2 = -0.3 cut the box into four rectangles.
    got = by_pattern(one_layer([[1, 0], [0, 1]], [-0.2, 0.3]))
    expected = {
        "++": ({(0.2, -0.3), (1, -0.3), (1, 1), (0.2, 1)}, 0.8 * 1.3),
        "-+": ({(-1, -0.3), (0.2, -0.3), (0.2, 1), (-1, 1)}, 1.2 * 1.3),
        "--": ({(-1, -1), (0.2, -1), (0.2, -0.3), (-1, -0.3)}, 1.2 * 0.7),
        "+-": ({(0.2, -1), (1, -1), (1, -0.3), (0.2, -0.3)}, 0.8 * 0.7),
    }
    assert set(got) == set(expected)
    for key, (corners, area) in expected.items():
        p, r = got[key]
        assert p.n_vertices == 4
        assert corner_set(p) == {(round(x, 9), round(y, 9)) for x, y in corners}
        assert_allclose(p.area, area, rtol=0, atol=ATOL)
        assert p.contains(r.witness)
    # Edge labels of the (+, +) rectangle: unit 0 on x1 = 0.2, unit 1 on x2 = -0.3, the rest domain faces.
    p = got["++"][0]
    labels = {}
    for i, u in enumerate(p.edge_units.tolist()):
        a, b = p.vertices[i], p.vertices[(i + 1) % 4]
        labels[u] = labels.get(u, []) + [(a + b) / 2]
    assert_allclose(labels[0][0], [0.2, 0.35], atol=ATOL)
    assert_allclose(labels[1][0], [0.6, -0.3], atol=ATOL)
    assert len(labels[DOMAIN_EDGE]) == 2


def test_diagonals_give_four_triangles() -> None:
    # x1 + x2 = 0 and x1 - x2 = 0 through the box: four triangles with apex (0, 0), area 1 each.
    got = by_pattern(one_layer([[1, 1], [1, -1]], [0, 0]))
    expected = {
        "++": {(0, 0), (1, -1), (1, 1)},
        "+-": {(0, 0), (1, 1), (-1, 1)},
        "--": {(0, 0), (-1, 1), (-1, -1)},
        "-+": {(0, 0), (-1, -1), (1, -1)},
    }
    assert set(got) == set(expected)
    for key, corners in expected.items():
        p = got[key][0]
        assert p.n_vertices == 3 and corner_set(p) == {(float(x), float(y)) for x, y in corners}
        assert_allclose(p.area, 1.0, atol=ATOL)


def test_three_lines_through_one_point() -> None:
    # x1 = 0, x2 = 0, x1 + x2 = 0: quadrants I and III whole (area 1, 4 corners); II and IV halved
    # into triangles of area 1/2.  The common point (0, 0) is one vertex of each polygon, never repeated.
    got = by_pattern(one_layer([[1, 0], [0, 1], [1, 1]], [0, 0, 0]))
    assert len(got) == 6
    areas = sorted(p.area for p, _ in got.values())
    assert_allclose(areas, [0.5, 0.5, 0.5, 0.5, 1.0, 1.0], atol=ATOL)
    assert corner_set(got["+++"][0]) == {(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)}
    assert corner_set(got["-+-"][0]) == {(0.0, 0.0), (-1.0, 1.0), (-1.0, 0.0)}
    for p, _ in got.values():
        assert len(corner_set(p)) == p.n_vertices  # no duplicated vertex


def test_coincident_units_make_one_edge() -> None:
    # Two copies of the unit x1 - 0.5: two rectangles, no sliver, 4 corners each.
    got = by_pattern(one_layer([[1, 0], [2, 0]], [-0.5, -1.0]))
    assert set(got) == {"++", "--"}
    assert_allclose(got["++"][0].area, 0.5 * 2, atol=ATOL)
    assert got["++"][0].n_vertices == 4 and got["--"][0].n_vertices == 4


def test_second_layer_bends_and_dead_unit() -> None:
    # Layer 1: relu(x1), relu(x2); layer 2: relu(relu(x1) + relu(x2) - 0.5).  In [-1, 1]^2:
    #   quadrant III: the layer-2 unit is the constant -0.5 (dead, inactive): one square, area 1;
    #   quadrant I: bent line x1 + x2 = 0.5 cuts the triangle (0,0),(0.5,0),(0,0.5) (area 1/8) off the square;
    #   quadrant II: x2 = 0.5 halves it (two rectangles of area 1/2); quadrant IV: x1 = 0.5 likewise.
    net = ReLUNetwork((np.eye(2), np.array([[1.0, 1.0]])), (np.zeros(2), np.array([-0.5])), has_output_layer=False)
    got = by_pattern(net)
    assert len(got) == 7
    tri, pent = got["++|-"][0], got["++|+"][0]
    assert tri.n_vertices == 3 and corner_set(tri) == {(0.0, 0.0), (0.5, 0.0), (0.0, 0.5)}
    assert pent.n_vertices == 5
    assert corner_set(pent) == {(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.5)}
    assert_allclose(tri.area, 0.125, atol=ATOL)
    assert_allclose(got["--|-"][0].area, 1.0, atol=ATOL)
    assert_allclose(got["-+|+"][0].area, 0.5, atol=ATOL)
    # The bent line's pieces are labelled with the layer-2 unit (flat index 2).
    assert 2 in tri.edge_units.tolist() and 2 in pent.edge_units.tolist()


@given(seed=st.integers(0, 10_000), widths=st.sampled_from([(3,), (5,), (3, 3), (4, 2), (2, 2, 2)]))
def test_random_nets_tile_the_box(seed: int, widths: tuple[int, ...]) -> None:
    net = ReLUNetwork.random(2, list(widths), seed=seed, bias_std=0.5)
    res = enumerate_regions(net, box=(-2, 1))
    polys = region_polygons(res, box=(-2, 1))
    # The polygons tile the domain: areas sum to its area (disjoint interiors, witnessed below).
    assert_allclose(sum(p.area for p in polys), 9.0, rtol=1e-9)
    for p, r in zip(polys, res.regions, strict=True):
        assert p.n_vertices >= 3
        assert p.contains(r.witness)
        # The witness ball lies in the polygon: distance to every edge line >= margin (round-off slack).
        V, W = p.vertices, np.roll(p.vertices, -1, axis=0)
        E = W - V
        dist = (E[:, 0] * (r.witness[1] - V[:, 1]) - E[:, 1] * (r.witness[0] - V[:, 0])) / np.linalg.norm(E, axis=1)
        assert dist.min() >= r.margin * (1 - 1e-9) - 1e-12
        # The centroid lies strictly inside and has the region's pattern.
        assert pattern_at(net, p.centroid) == r.pattern


def test_polytope_and_window_domains() -> None:
    net = ReLUNetwork.random(2, [4, 3], seed=3)
    # Triangle {x1 >= -1, x2 >= -1, x1 + x2 <= 1} with corners (-1, -1), (2, -1), (-1, 2): area 9/2.
    A, c = np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]]), np.array([1.0, 1.0, 1.0])
    res = enumerate_regions(net, polytope=(A, c))
    polys = region_polygons(res, polytope=(A, c))
    assert_allclose(sum(p.area for p in polys), 4.5, rtol=1e-9)
    # R^2 cut to a window: the polygons tile the window; every region of R^2 meets a big enough window.
    res = enumerate_regions(net, whole_space=True)
    polys = region_polygons(res, window=(-50, 50))
    assert_allclose(sum(p.area for p in polys), 100.0**2, rtol=1e-9)
    assert all(p.contains(r.witness) for p, r in zip(polys, res.regions, strict=True) if np.abs(r.witness).max() < 50)
    assert any(WINDOW_EDGE in p.edge_units.tolist() for p in polys)


def test_errors_name_the_problem() -> None:
    net = one_layer([[1, 0], [0, 1]], [0, 0])
    res = enumerate_regions(net, box=(-3, 3))
    # The regions carry their domain, so none is needed; a different one is refused.
    assert_allclose(sum(p.area for p in region_polygons(res)), 36.0, rtol=1e-12)
    with pytest.raises(InvalidDomainError, match=r"run on box \[-3, 3\]\^2.*domain given here is box \[-1, 1\]\^2"):
        region_polygons(res, box=(-1, 1))
    dom = make_domain(2, whole_space=True, tol=DEFAULT_TOLERANCES)
    with pytest.raises(InvalidDomainError, match="unbounded; give window="):
        domain_polygon(dom)
    res3 = enumerate_regions(ReLUNetwork.random(3, [2], seed=0))
    with pytest.raises(InvalidDomainError, match="R\\^3.*plane="):
        region_polygons(res3)
    with pytest.raises(InvalidDomainError, match="linearly independent"):
        plane_network(ReLUNetwork.random(3, [2], seed=0), [0, 0, 0], [1, 0, 0], [2, 0, 0])
    with pytest.raises(InvalidDomainError, match="plane u"):
        plane_network(ReLUNetwork.random(3, [2], seed=0), [0, 0, 0], [1, 0], [0, 1, 0])


def test_clip_polygon_edge_cases() -> None:
    sq = Polygon(np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]), np.full(4, DOMAIN_EDGE))
    # A line through two opposite corners: the triangle below the diagonal x2 <= x1.
    g = np.array([[-1.0, 1.0]]) / np.sqrt(2)
    tri = clip_polygon(sq, g, np.zeros(1), [7])
    assert corner_set(tri) == {(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)} and tri.edge_units.tolist().count(7) == 1
    # A line touching only a corner from outside leaves the square whole; one beyond it empties it.
    same = clip_polygon(sq, np.array([[1.0, 1.0]]) / np.sqrt(2), np.array([np.sqrt(2)]), [5])
    assert corner_set(same) == corner_set(sq) and 5 not in same.edge_units.tolist()
    empty = clip_polygon(sq, np.array([[1.0, 0.0]]), np.array([-0.5]), [5])
    assert empty.n_vertices == 0 and empty.area == 0.0


def test_plane_network_is_the_slice() -> None:
    net = ReLUNetwork.random(3, [4, 3], seed=5)
    x0, u, v = np.array([0.1, -0.2, 0.3]), np.array([1.0, 0.5, 0.0]), np.array([0.0, 1.0, -1.0])
    sub = plane_network(net, x0, u, v)
    T = np.random.default_rng(0).uniform(-1, 1, size=(50, 2))
    X = x0 + T[:, :1] * u + T[:, 1:] * v
    assert_allclose(sub.forward(T), net.forward(X), atol=1e-12)
    assert_allclose(sub.preactivations(T), net.preactivations(X), atol=1e-12)
    # The plane x3 = 0.5 through the orthant arrangement of R^3: the x3 unit is constant (dead, active),
    # so the slice shows the four quadrants, each with pattern (., ., +).
    cube = one_layer(np.eye(3), np.zeros(3))
    res = enumerate_regions(plane_network(cube, [0, 0, 0.5], [1, 0, 0], [0, 1, 0]))
    assert sorted(str(r.pattern) for r in res.regions) == ["+++", "+-+", "-++", "--+"]


def test_region_vertices_in_1_2_3_dimensions() -> None:
    # 2-D: the (+, +) rectangle [0.2, 1] x [-0.3, 1] of the two-line net, counter-clockwise.
    res = enumerate_regions(one_layer([[1, 0], [0, 1]], [-0.2, 0.3]))
    r = next(r for r in res.regions if str(r.pattern) == "++")
    V = r.vertices
    assert corner_set(Polygon(V, np.zeros(len(V), dtype=np.intp))) == {(0.2, -0.3), (1.0, -0.3), (1.0, 1.0), (0.2, 1.0)}
    assert Polygon(V, np.zeros(len(V), dtype=np.intp)).area > 0  # counter-clockwise
    # 1-D: the units x - 0.5 and -x - 0.25 cut [-1, 1] at 0.5 and -0.25.
    res1 = enumerate_regions(one_layer([[1.0], [-1.0]], [-0.5, -0.25]))
    ends = sorted(tuple(np.round(r.vertices[:, 0], 12)) for r in res1.regions)
    assert ends == [(-1.0, -0.25), (-0.25, 0.5), (0.5, 1.0)]
    # 3-D: the coordinate hyperplanes cut [-1, 1]^3 into 8 unit cubes with 8 corners each.
    res3 = enumerate_regions(one_layer(np.eye(3), np.zeros(3)))
    assert res3.count == 8
    for r in res3.regions:
        V = r.vertices
        assert V.shape == (8, 3)
        assert_allclose(np.sort(np.abs(V), axis=0), np.repeat([[0.0] * 3, [1.0] * 3], 4, axis=0), atol=ATOL)
        assert np.all(V * r.pattern.signs >= -ATOL)  # the cube of the region's orthant
    # An unbounded region of R^2 has no vertex description; a bounded one of R^2 has.
    resw = enumerate_regions(
        ReLUNetwork((np.array([[1.0, 0], [0, 1], [-1, -1]]),), (np.array([0.0, 0, 1]),), has_output_layer=False),
        whole_space=True,
    )
    tri = [r for r in resw.regions if r.bounded]
    assert len(tri) == 1 and corner_set(Polygon(tri[0].vertices, np.zeros(3, dtype=np.intp))) == {
        (0.0, 0.0),
        (1.0, 0.0),
        (0.0, 1.0),
    }
    with pytest.raises(InvalidDomainError, match="unbounded"):
        _ = next(r for r in resw.regions if not r.bounded).vertices


@pytest.mark.parametrize("scale", [1e-13, 1e-6, 1e6, 1e13])
def test_polygons_do_not_change_when_units_are_rescaled(scale: float) -> None:
    # Rescaling a unit's weights and bias leaves its line, hence every polygon, unchanged (rows are normalised;
    # a unit is dead only when its gradient is exactly zero).
    net = ReLUNetwork.random(2, [4, 3], seed=7)
    res = enumerate_regions(net, box=(-2, 2))
    frame = domain_polygon(make_domain(2, box=(-2, 2), tol=DEFAULT_TOLERANCES))
    for r in res.regions:
        scaled = type(r.affine)(r.affine.A * scale, r.affine.c * scale, r.affine.out_A, r.affine.out_c)
        p0 = region_polygon(r.affine, r.pattern.signs, frame)
        p1 = region_polygon(scaled, r.pattern.signs, frame)
        assert p0.n_vertices == p1.n_vertices
        assert_allclose(p1.vertices, p0.vertices, rtol=0, atol=1e-12)


def test_thin_slab_polygons_tile_the_box() -> None:
    # x1 = 0.3, x1 = 0.3 + 5e-8 (a slab 5e-8 wide) and x2 = 0.8: 3 x 2 = 6 regions.  The slab's two pieces have
    # areas 5e-8 * 1.8 and 5e-8 * 0.2 (up to the float64 rounding of 0.3 + 5e-8, relative 1e-8).
    W = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    net = one_layer(W, [-0.3, -0.3 - 5e-8, -0.8])
    res = enumerate_regions(net)
    polys = region_polygons(res)
    assert res.count == 6 and res.complete
    assert_allclose(sum(p.area for p in polys), 4.0, rtol=1e-12)
    slab = sorted(p.area for p, r in zip(polys, res.regions, strict=True) if str(r.pattern).startswith("+-"))
    assert_allclose(slab, [5e-8 * 0.2, 5e-8 * 1.8], rtol=1e-7)
    assert all(p.n_vertices == 4 for p in polys)

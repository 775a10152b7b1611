"""enumerate_regions against the independent oracles: brute force, the exact 1-D scan, and volume tiling.

The oracles share nothing with the enumerator except ReLUNetwork and the LP
layer (brute force) or nothing at all (scan1d, the scipy.spatial volumes
below).  Networks are small (n_in <= 3, widths <= 4, 1-3 hidden layers) with
weights in {-2, -1.75, ..., 2}, so every float operation on them is exact and
the arrangements are often degenerate on purpose: duplicated, opposite and
scaled rows, zero rows, hyperplanes through common points and on the box faces.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.spatial import ConvexHull, HalfspaceIntersection

from lpengine import ReLUNetwork
from lpengine.regions import enumerate_regions
from lpengine.regions.brute import brute_force_regions
from lpengine.regions.scan1d import scan_line

EDITS = ("none", "duplicate", "opposite", "scaled", "zero")


@st.composite
def small_nets(draw, n_in: int | None = None, max_layers: int = 3):
    """Random small nets with dyadic weights; each layer may get one degenerate row."""
    if n_in is None:
        n_in = draw(st.integers(1, 3))
    widths = draw(st.lists(st.integers(1, 4), min_size=1, max_size=max_layers))
    dims = [n_in, *widths]
    entries = st.integers(-8, 8).map(lambda k: k / 4)
    ws, bs = [], []
    for fan_in, fan_out in zip(dims[:-1], dims[1:], strict=True):
        W = np.array(
            draw(st.lists(st.lists(entries, min_size=fan_in, max_size=fan_in), min_size=fan_out, max_size=fan_out)),
            dtype=float,
        )
        b = np.array(draw(st.lists(entries, min_size=fan_out, max_size=fan_out)), dtype=float)
        edit = draw(st.sampled_from(EDITS))
        if edit == "zero":
            W[-1] = 0.0
        elif fan_out > 1 and edit != "none":
            factor = {"duplicate": 1.0, "opposite": -1.0, "scaled": 2.0}[edit]
            W[-1], b[-1] = factor * W[0], factor * b[0]
        ws.append(W)
        bs.append(b)
    with_output = draw(st.booleans())
    if with_output:  # an output layer, which defines no region
        ws.append(np.ones((1, dims[-1])))
        bs.append(np.zeros(1))
    return ReLUNetwork(tuple(ws), tuple(bs), has_output_layer=with_output)


def patterns_of(res) -> set[tuple[int, ...]]:
    return {tuple(int(s) for s in r.pattern.signs) for r in res.regions}


def check_witnesses(net: ReLUNetwork, res) -> None:
    """Each witness reproduces its pattern; a zero pre-activation only on an inactive (dead) unit."""
    for r in res.regions:
        got = net.activation_pattern(r.witness)
        signs = np.asarray(r.pattern.signs)
        assert np.all((got == signs) | ((got == 0) & (signs == -1)))
        assert r.margin > 0


def simplex_polytope(n: int) -> tuple[np.ndarray, np.ndarray]:
    """{x : x_i >= -1, sum x <= 1} (a simplex around the origin)."""
    return np.vstack([-np.eye(n), np.ones((1, n))]), np.ones(n + 1)


DOMAINS = {
    "box": lambda n: {"box": (-1.0, 1.0)},
    "whole_space": lambda n: {"whole_space": True},
    "polytope": lambda n: {"polytope": simplex_polytope(n)},
}


@st.composite
def gaussian_nets(draw, n_in: int | None = None):
    """He-initialised random nets (generic with probability one), drawn by seed and shape."""
    if n_in is None:
        n_in = draw(st.integers(1, 3))
    widths = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    return ReLUNetwork.random(n_in, widths, seed=draw(st.integers(0, 2**16)))


# Failing examples of the deep property tests are not shrunk (shrinking deep nets costs minutes).
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)


def _vanishing_downstream_net(n_in: int) -> ReLUNetwork:
    """h = relu(x_0 - 1/2), z = h: the smallest net for the vanishing-downstream-unit regression."""
    W0 = np.zeros((1, n_in))
    W0[0, 0] = 1.0
    return ReLUNetwork((W0, np.array([[1.0]])), (np.array([-0.5]), np.zeros(1)), has_output_layer=False)


# Found by hypothesis (first failing draw of small_nets in the box): z_3 = h_0 / 4 vanishes with h_0.
HYPOTHESIS_FOUND = ReLUNetwork(
    (np.array([[0.0, 0.0, 0.25], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]), np.array([[0.25, 0.0, 0.0]])),
    (np.zeros(3), np.zeros(1)),
    has_output_layer=False,
)

# Regression (fixed): crossing a facet, a deeper unit that is identically zero on the near side
# (dead, beta = 0) and whose hyperplane on the far side coincides with the facet must flip too.


# ------------------------------------------------------------------ brute force
@pytest.mark.parametrize("domain", sorted(DOMAINS))
@settings(max_examples=25)
@given(net=gaussian_nets())
def test_generic_nets_equal_brute_force(net, domain):
    kwargs = DOMAINS[domain](net.n_in)
    res = enumerate_regions(net, **kwargs)
    brute = brute_force_regions(net, **kwargs)
    assert res.complete
    assert res.count == brute.count
    assert patterns_of(res) == set(brute.patterns)
    check_witnesses(net, res)


@pytest.mark.parametrize("domain", sorted(DOMAINS))
@given(net=small_nets(max_layers=1))
def test_degenerate_one_layer_nets_equal_brute_force(net, domain):
    # Duplicated, opposite, scaled and zero rows, concurrent and box-face hyperplanes.
    kwargs = DOMAINS[domain](net.n_in)
    res = enumerate_regions(net, **kwargs)
    brute = brute_force_regions(net, **kwargs)
    assert res.count == brute.count
    assert patterns_of(res) == set(brute.patterns)
    check_witnesses(net, res)


@pytest.mark.parametrize("domain", sorted(DOMAINS))
@settings(phases=NO_SHRINK)
@given(net=small_nets())
@example(net=HYPOTHESIS_FOUND)
def test_degenerate_deep_nets_equal_brute_force(net, domain):
    kwargs = DOMAINS[domain](net.n_in)
    res = enumerate_regions(net, **kwargs)
    brute = brute_force_regions(net, **kwargs)
    assert res.count == brute.count
    assert patterns_of(res) == set(brute.patterns)


@settings(max_examples=20)
@given(net=gaussian_nets(n_in=2))
def test_lp_facet_method_equals_brute_force_in_box(net):
    res = enumerate_regions(net, box=(-1.0, 1.0), method="lp")
    brute = brute_force_regions(net, box=(-1.0, 1.0))
    assert res.count == brute.count
    assert patterns_of(res) == set(brute.patterns)


@pytest.mark.parametrize(
    ("seed", "d", "widths"), [(0, 2, [4, 4]), (1, 2, [3, 3, 3]), (2, 3, [4, 3]), (3, 3, [3, 3, 2])]
)
def test_random_gaussian_nets_equal_brute_force(seed, d, widths):
    net = ReLUNetwork.random(d, widths, seed=seed)
    for kwargs in ({"box": (-1.5, 1.5)}, {"whole_space": True}):
        res = enumerate_regions(net, **kwargs)
        brute = brute_force_regions(net, **kwargs)
        assert res.count == brute.count >= 2
        assert patterns_of(res) == set(brute.patterns)


# ------------------------------------------------------------- the 1-D exact scan
@settings(max_examples=25)
@given(net=gaussian_nets(n_in=1))
def test_generic_one_input_nets_equal_exact_scan(net):
    for kwargs, (lo, hi) in (({"box": (-2.0, 2.0)}, (-2.0, 2.0)), ({"whole_space": True}, (-np.inf, np.inf))):
        res = enumerate_regions(net, **kwargs)
        scan = scan_line(net, [0.0], [1.0], lo, hi)
        assert res.count == scan.count
        assert patterns_of(res) == set(scan.patterns)


@settings(phases=NO_SHRINK)
@given(net=small_nets(n_in=1))
@example(net=_vanishing_downstream_net(1))
def test_degenerate_one_input_nets_equal_exact_scan(net):
    for kwargs, (lo, hi) in (({"box": (-2.0, 2.0)}, (-2.0, 2.0)), ({"whole_space": True}, (-np.inf, np.inf))):
        res = enumerate_regions(net, **kwargs)
        scan = scan_line(net, [0.0], [1.0], lo, hi)
        assert res.count == scan.count
        assert patterns_of(res) == set(scan.patterns)


# ------------------------------------------------------- regressions (bugs found by the oracles)
@pytest.mark.parametrize("n_in", [1, 3])
def test_downstream_unit_vanishing_on_the_facet_flips_with_it(n_in):
    # h = relu(x_0 - 1/2), z = h.  For x_0 < 1/2 both units are off (z = 0 identically: dead, inactive);
    # for x_0 > 1/2 both are on.  Two regions, (-,-) and (+,+).  Flipping only unit 0 when crossing
    # x_0 = 1/2 from (-,-) gives the thin pattern (+,-), and the region (+,+) used to be lost.
    net = _vanishing_downstream_net(n_in)
    assert brute_force_regions(net, box=(-1.0, 1.0)).patterns == ((-1, -1), (1, 1))
    for kwargs in ({"box": (-1.0, 1.0)}, {"whole_space": True}):
        assert patterns_of(enumerate_regions(net, **kwargs)) == {(-1, -1), (1, 1)}


def test_bias_free_random_nets_equal_brute_force():
    # Without biases every layer-2 unit is identically 0 where all layer-1 units are off, and its
    # hyperplane leaves that cone along the cone's own facets: coincident multi-layer facets, generically.
    # Brute force counts (box [-1, 1]^2) 12, 12, 14, 10, 14, 14, 13, 11 for seeds 0..7.
    counts = []
    for seed in range(8):
        net = ReLUNetwork.random(2, [4, 4], bias_std=0.0, seed=seed)
        counts.append(enumerate_regions(net, box=(-1.0, 1.0)).count)
    assert counts == [12, 12, 14, 10, 14, 14, 13, 11]


def test_no_hyperplane_in_whole_space():
    # Every unit dead: R^d is one region (formerly crashed in facets_by_lp on zero rows).
    net = ReLUNetwork((np.zeros((2, 2)),), (np.array([0.5, 0.0]),), has_output_layer=False)
    assert brute_force_regions(net, whole_space=True).patterns == ((1, -1),)
    assert patterns_of(enumerate_regions(net, whole_space=True)) == {(1, -1)}


# --------------------------------------------------------------- volume tiling
def region_halfspaces_independent(net: ReLUNetwork, signs, lo: float, hi: float) -> np.ndarray:
    """Rows [a | c] with a x + c <= 0 describing the region in the box (own masked composition)."""
    d = net.n_in
    rows = []
    hA, hc = np.eye(d), np.zeros(d)  # the layer input h = hA x + hc on the region
    k = 0
    for l in range(net.n_hidden_layers):
        A, c = net.weights[l] @ hA, net.weights[l] @ hc + net.biases[l]
        s = np.asarray(signs[k : k + A.shape[0]], dtype=float)
        rows.append(np.hstack([-s[:, None] * A, -(s * c)[:, None]]))  # -s (A x + c) <= 0
        hA, hc = A * (s > 0)[:, None], c * (s > 0)
        k += A.shape[0]
    eye = np.eye(d)
    rows.append(np.hstack([eye, -hi * np.ones((d, 1))]))
    rows.append(np.hstack([-eye, lo * np.ones((d, 1))]))
    H = np.vstack(rows)
    keep = np.linalg.norm(H[:, :d], axis=1) > 0  # dead units: constant rows, already satisfied
    return H[keep]


@pytest.mark.parametrize(("seed", "d", "widths"), [(4, 2, [4, 4]), (5, 2, [5, 3, 3]), (6, 3, [4, 4])])
def test_regions_tile_the_box(seed, d, widths):
    """The enumerated regions have disjoint interiors (distinct patterns) and their volumes sum to the box's.

    Volumes come from scipy's Qhull halfspace intersection of each pattern's own
    halfspaces, using the enumerator's witness as the interior point.  (The
    enumeration result exposes no vertices, so the V - E + F = 1 Euler check is
    left to tests/regions/test_enumerate.py, which uses the enumerator's own
    vertex computation.)
    """
    net = ReLUNetwork.random(d, widths, seed=seed)
    res = enumerate_regions(net, box=(-1.0, 1.0))
    total = 0.0
    for r in res.regions:
        H = region_halfspaces_independent(net, r.pattern.signs, -1.0, 1.0)
        assert np.all(H[:, :d] @ r.witness + H[:, d] < 0)
        verts = HalfspaceIntersection(H, r.witness).intersections
        total += ConvexHull(verts).volume
    assert_allclose(total, 2.0**d, rtol=1e-9)

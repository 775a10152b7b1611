"""Crossing a facet that several units share, or on which deeper units vanish (lpengine.regions.crossing).

The far side's pattern is a one-sided limit: the units whose pre-activation vanishes on the facet take
the sign of their directional derivative there, composed under the far side's signs.  These tests build
nets where that derivative is exactly nonzero but cancels in floats (a weight ``fl(1/k)`` times a unit
scaled by ``k``: the product rounds to 1, the exact value is ``1 - k fl(1/k)``, of order 2^-54), so a
float decision picks the wrong pattern, and check the count against the exact oracle
(``brute_force_regions(exact=True)``).  Before the crossing was made exact, the first net gave 1 region
with ``complete=True``; 2 exist.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpengine import ReLUNetwork
from lpengine.regions import enumerate_regions
from lpengine.regions.brute import brute_force_regions
from lpengine.regions.crossing import cross_facet, exact_far_signs
from lpengine.regions.exact import ExactNet
from tests.common.ill_conditioned import compare_with_oracle, domain_kw


def _net(weights: list[np.ndarray], biases: list[np.ndarray]) -> ReLUNetwork:
    return ReLUNetwork(
        tuple(np.asarray(w, float) for w in weights),
        tuple(np.asarray(b, float) for b in biases),
        has_output_layer=False,
    )


def _residue(k: int) -> Fraction:
    """``1 - k fl(1/k)`` exactly: the far side's slope of ``relu(u) - fl(1/k) relu(k u)``, per unit slope of ``u``."""
    return 1 - k * Fraction(1.0 / k)


def cancelling_net(k: int = 3, orient: int = 1) -> ReLUNetwork:
    """x1 = 1/2 is a facet of two exactly proportional units (u and k u); behind it a unit of slope ``orient * residue``.

    Layer 1: ``u = x1 - 1/2``, ``k u``.  Layer 2: ``q = relu(u)``, ``p = fl(1/k) relu(k u)``
    (both identically 0 for x1 < 1/2).  Layer 3: ``v = orient (relu(q) - relu(p))``, identically 0
    for x1 < 1/2 and ``orient (1 - k fl(1/k)) (x1 - 1/2)`` beyond: active there iff that slope is
    positive.  In floats ``fl(1/k) * k`` rounds to 1 and the slope to 0.
    """
    W1 = np.array([[1.0, 0.0], [float(k), 0.0]])
    b1 = np.array([-0.5, -0.5 * k])
    W2 = np.array([[1.0, 0.0], [0.0, 1.0 / k]])
    W3 = np.array([[1.0, -1.0]]) * orient
    return _net([W1, W2, W3], [b1, np.zeros(2), np.zeros(1)])


@pytest.mark.parametrize("method", ["auto", "vertex", "lp"])
@pytest.mark.parametrize("k,orient", [(3, 1), (3, -1), (5, 1), (5, -1)])
def test_cancelling_unit_behind_a_shared_facet_gets_its_exact_sign(method: str, k: int, orient: int) -> None:
    net = cancelling_net(k, orient)
    slope = orient * _residue(k)
    assert slope != 0  # the float product fl(1/k) * k is 1.0, the exact one is not
    assert float(1.0 / k) * k == 1.0
    # Two regions, by hand: x1 < 1/2 (everything inactive) and x1 > 1/2 (u, k u, q, p active; v by the slope).
    far = (1, 1, 1, 1, 1 if slope > 0 else -1)
    want = {(-1, -1, -1, -1, -1), far}
    assert set(brute_force_regions(net, box=(-1.0, 1.0), exact=True).patterns) == want
    res = enumerate_regions(net, box=(-1.0, 1.0), method=method)
    assert res.complete
    assert {tuple(int(s) for s in r.pattern.signs) for r in res.regions} == want
    assert res.decisions["exact_crossings"] >= 1  # the float derivative of v is 0: integers decide


@pytest.mark.parametrize("domain", ["box", "polytope", "whole_space"])
def test_cancelling_unit_in_every_domain(domain: str) -> None:
    net = cancelling_net(3, 1)
    assert compare_with_oracle(net, domain_kw(domain, 2)) is None


def test_float_crossing_defers_to_integers_only_when_unclear() -> None:
    net = cancelling_net(3, 1)
    enet = ExactNet(net)
    below = np.array([-1, -1, -1, -1, -1], dtype=np.int8)
    built: list[int] = []

    def lazy() -> ExactNet:
        built.append(1)
        return enet

    u = np.array([1.0, 0.0])
    # The first layer's pair alone: derivatives 1 and k, clear in floats, no integers.
    nb, exact = cross_facet(net, below, np.array([0, 1]), u, lazy)
    assert (nb.tolist(), exact, built) == ([1, 1, -1, -1, -1], False, [])
    # With the cancelling unit: the float derivative of v is 0 against a bound of order 1e-16.
    nb, exact = cross_facet(net, below, np.array([0, 1, 2, 3, 4]), u, lazy)
    assert exact and built == [1]
    assert nb.tolist() == [1, 1, 1, 1, 1]  # 1 - 3 fl(1/3) = 2^-54 > 0
    # Any direction into the far side gives the same answer; one pointing back gives the near side.
    assert exact_far_signs(enet, below, np.array([0, 1, 2, 3, 4]), np.array([0.25, 3.0])).tolist() == [1, 1, 1, 1, 1]
    assert exact_far_signs(enet, below, np.array([0, 1, 2, 3, 4]), np.array([-1.0, 0.5])).tolist() == [-1] * 5


def test_unit_zero_on_both_sides_is_inactive() -> None:
    # v = relu(q) - relu(q'): q and q' are the same unit twice, so v is exactly 0 on both sides.
    W1 = np.array([[1.0, 0.0]])
    W2 = np.array([[0.3], [0.3]])
    W3 = np.array([[1.0, -1.0]])
    net = _net([W1, W2, W3], [np.array([-0.5]), np.zeros(2), np.zeros(1)])
    nb, exact = cross_facet(
        net, np.array([-1, -1, -1, -1], dtype=np.int8), np.array([0, 1, 2, 3]), np.ones(2), lambda: ExactNet(net)
    )
    assert nb.tolist() == [1, 1, 1, -1]
    res = enumerate_regions(net, box=(-1.0, 1.0))
    assert res.complete and res.count == 2


def degenerate_crossing(seed: int, k: int, orient: int, d: int, domain: str) -> tuple[ReLUNetwork, dict]:
    """Random grid-valued units around a facet shared by ``u`` and ``k u``, with a cancelling unit behind it.

    Layer 1: 3 random units and the pair; layer 2: 2 random units, ``relu(u)`` and ``fl(1/k) relu(k u)``;
    layer 3: ``orient (relu(q) - relu(p))`` and one random unit.  Weights on a 1/8 grid, so ``k u`` is
    exactly ``k`` times ``u`` and only ``fl(1/k)`` rounds.  The search starts where ``u < 0``; every
    region beyond is reached across ``u``'s hyperplane, a degenerate crossing.
    """
    rng = np.random.default_rng(seed)
    grid = lambda *shape: np.round(rng.standard_normal(shape) * 8) / 8  # noqa: E731
    w0 = grid(d)
    w0[0] = np.sign(w0[0]) * max(1.0, abs(w0[0])) if w0[0] else 1.0
    # b0 < 0: the domain's centre, where the search starts, is on the side where q, p and v vanish.
    b0 = -float(rng.integers(1, 5)) / 8
    W1 = np.vstack([grid(3, d), w0, k * w0])
    b1 = np.concatenate([grid(3) * 0.5, [b0, k * b0]])
    W2 = np.zeros((4, 5))
    W2[:2] = grid(2, 5)
    W2[2, 3] = 1.0
    W2[3, 4] = 1.0 / k
    b2 = np.concatenate([grid(2) * 0.5, [0.0, 0.0]])
    W3 = np.zeros((2, 4))
    W3[0, 2:] = [orient, -orient]
    W3[1] = grid(4)
    b3 = np.array([0.0, float(grid(1)[0]) * 0.5])
    return _net([W1, W2, W3], [b1, b2, b3]), domain_kw(domain, d)


@settings(max_examples=6)
@given(
    seed=st.integers(0, 2**31 - 1),
    k=st.sampled_from([3, 5, 7, 11]),
    orient=st.sampled_from([1, -1]),
    d=st.integers(1, 3),
    domain=st.sampled_from(["box", "polytope", "whole_space"]),
)
def test_degenerate_crossing_family_matches_the_exact_oracle(
    seed: int, k: int, orient: int, d: int, domain: str
) -> None:
    net, dom = degenerate_crossing(seed, k, orient, d, domain)
    assert compare_with_oracle(net, dom) is None


@pytest.mark.slow
@settings(max_examples=150)
@given(
    seed=st.integers(0, 2**31 - 1),
    k=st.sampled_from([3, 5, 7, 11]),
    orient=st.sampled_from([1, -1]),
    d=st.integers(1, 3),
    domain=st.sampled_from(["box", "polytope", "whole_space"]),
)
def test_degenerate_crossing_family_sweep(seed: int, k: int, orient: int, d: int, domain: str) -> None:
    net, dom = degenerate_crossing(seed, k, orient, d, domain)
    assert compare_with_oracle(net, dom) is None

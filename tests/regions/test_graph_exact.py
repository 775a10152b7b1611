"""The region adjacency graph against an independent exact construction (thin regions included).

Independent construction: the exact oracle (``brute_force_regions(exact=True)``) lists the regions; two of
them, with patterns ``S`` and ``T`` that differ in exactly one unit ``u``, are adjacent iff the hyperplane
piece between them has a relative-interior point: some ``x`` with ``z_u(x) = 0`` and ``sigma_v z_v(x) > 0`` for
every other live unit ``v`` (and ``x`` inside the open domain), the ``z`` composed under ``S`` (they agree with
``T``'s on ``z_u = 0``).  Here the affine maps are composed in ``fractions.Fraction`` (no code shared with the
search), ``x_p`` is eliminated with the equation, and the strict system left is decided by
``lpengine.lp.exact.decide_interior`` (its certificate checked exactly).  The families are generic enough
that neighbours differ in one unit (no two units share a hyperplane), so these are all the edges.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from lpengine import ReLUNetwork
from lpengine.lp.exact import decide_interior
from lpengine.regions import enumerate_regions
from lpengine.regions.brute import brute_force_regions
from tests.common.ill_conditioned import FAMILIES

Row = list[Fraction]


def _affine_rows(net: ReLUNetwork, signs: tuple[int, ...]) -> list[Row]:
    """``z_k = a_k . x + c_k`` of every hidden unit under the pattern, as rows ``(a_k, c_k)`` of Fractions."""
    d = net.n_in
    prev: list[Row] | None = None
    out: list[Row] = []
    k = 0
    for W, b in zip(net.weights[: net.n_hidden_layers], net.biases[: net.n_hidden_layers], strict=True):
        layer = []
        for i in range(W.shape[0]):
            if prev is None:
                row = [Fraction(float(v)) for v in W[i]] + [Fraction(float(b[i]))]
            else:
                row = [Fraction(0)] * (d + 1)
                for j, r in enumerate(prev):
                    w = Fraction(float(W[i, j]))
                    if w:
                        row = [a + w * c for a, c in zip(row, r, strict=True)]
                row[d] += Fraction(float(b[i]))
            layer.append(row)
        out += layer
        prev = [row if signs[k + i] > 0 else [Fraction(0)] * (d + 1) for i, row in enumerate(layer)]
        k += len(layer)
    return out


def _domain_rows(domain: dict, d: int) -> list[Row]:
    """The open domain as rows ``r . (x, 1) > 0``."""
    rows: list[Row] = []
    if "box" in domain:
        lo, hi = (Fraction(float(v)) for v in domain["box"])
        for j in range(d):
            e = [Fraction(0)] * d
            e[j] = Fraction(1)
            rows.append(e + [-lo])
            rows.append([-v for v in e] + [hi])
    elif "polytope" in domain:
        A, c = domain["polytope"]
        for i in range(A.shape[0]):
            rows.append([Fraction(-float(v)) for v in A[i]] + [Fraction(float(c[i]))])
    return rows


def _adjacent(net: ReLUNetwork, domain: dict, S: tuple[int, ...], u: int) -> bool:
    d = net.n_in
    Z = _affine_rows(net, S)
    E = Z[u]
    p = next((j for j in range(d) if E[j] != 0), None)
    if p is None:
        return False
    strict = [[s * v for v in Z[k]] for k, s in enumerate(S) if k != u and any(Z[k])]
    strict += _domain_rows(domain, d)
    reduced = []
    for R in strict:
        f = R[p] / E[p]
        R2 = [a - f * e for a, e in zip(R, E, strict=True)]
        reduced.append(R2[:p] + R2[p + 1 :])
    if d == 1:
        return all(R[-1] > 0 for R in reduced)
    G = np.array([[-v for v in R[:-1]] for R in reduced], dtype=object).reshape(len(reduced), d - 1)
    h = np.array([R[-1] for R in reduced], dtype=object)
    return decide_interior(G, h).nonempty


def _independent_edges(net: ReLUNetwork, domain: dict, patterns: list[tuple[int, ...]]) -> set[frozenset]:
    edges = set()
    for S, T in combinations(patterns, 2):
        diff = [k for k, (a, b) in enumerate(zip(S, T, strict=True)) if a != b]
        if len(diff) == 1 and _adjacent(net, domain, S, diff[0]):
            edges.add(frozenset((S, T)))
    return edges


def _check_graph(net: ReLUNetwork, domain: dict) -> None:
    oracle = brute_force_regions(net, exact=True, max_units=net.n_hidden, **domain)
    res = enumerate_regions(net, **domain)
    pats = {str(r.pattern): tuple(int(s) for s in r.pattern.signs) for r in res.regions}
    assert res.complete and set(pats.values()) == set(oracle.patterns)
    got = {frozenset((pats[a], pats[b])) for a, b in res.graph.edges}
    want = _independent_edges(net, domain, list(oracle.patterns))
    assert got == want, (
        f"{len(want - got)} edges missing, {len(got - want)} extra; thin regions: {sum(r.thin for r in res.regions)}"
    )


NO_SHRINK = dict(
    phases=[Phase.explicit, Phase.generate], database=None, deadline=None, suppress_health_check=list(HealthCheck)
)
seeds = st.integers(0, 2**31 - 1)
domains = st.sampled_from(["box", "polytope", "whole_space"])

GRAPH_CASES = {
    # Thin slabs and strips (regions of inradius down to 1e-10, crossed and counted thin).
    "slab": st.fixed_dictionaries(
        {"seed": seeds, "width": st.floats(-10, -6).map(lambda e: 10.0**e), "d": st.integers(1, 3), "domain": domains}
    ),
    "thin_start": st.fixed_dictionaries(
        {"seed": seeds, "width": st.floats(-10, -6).map(lambda e: 10.0**e), "d": st.integers(1, 3), "domain": domains}
    ),
    "near_duplicate": st.fixed_dictionaries(
        {
            "seed": seeds,
            "delta": st.floats(-12, -5).map(lambda e: 10.0**e),
            "d": st.integers(1, 3),
            "layer": st.integers(0, 1),
            "domain": domains,
        }
    ),
    "near_concurrent": st.fixed_dictionaries(
        {"seed": seeds, "delta": st.floats(-12, -5).map(lambda e: 10.0**e), "d": st.integers(2, 3), "domain": domains}
    ),
}


@pytest.mark.parametrize("family", sorted(GRAPH_CASES))
def test_graph_equals_the_independent_exact_adjacency(family: str) -> None:
    @settings(max_examples=3, **NO_SHRINK)
    @given(GRAPH_CASES[family])
    def run(kw: dict) -> None:
        net, domain = FAMILIES[family](**kw)
        _check_graph(net, domain)

    run()


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(GRAPH_CASES))
def test_graph_sweep_equals_the_independent_exact_adjacency(family: str) -> None:
    @settings(max_examples=40, **NO_SHRINK)
    @given(GRAPH_CASES[family])
    def run(kw: dict) -> None:
        net, domain = FAMILIES[family](**kw)
        _check_graph(net, domain)

    run()


@pytest.mark.parametrize("d", [1, 2, 3])
def test_a_thin_slab_has_its_edges(d: int) -> None:
    # Two parallel hyperplanes 1e-9 apart and a third crossing them, in the box: the slab's regions are thin
    # (inradius ~5e-10 < margin) and each has exactly the edges to its neighbours across both hyperplanes.
    net, domain = FAMILIES["slab"](3, 1e-9, d=d, domain="box")
    _check_graph(net, domain)
    res = enumerate_regions(net, **domain)
    thin = [r for r in res.regions if r.thin]
    assert thin and all(res.graph.degree(str(r.pattern)) >= 2 for r in thin)

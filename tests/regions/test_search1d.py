"""The exact 1-D walk (method "scan"): hand-derived counts, the LP method and exact brute force agree."""

from __future__ import annotations

import numpy as np
import pytest

from lpengine import ReLUNetwork
from lpengine.exceptions import InvalidDomainError, IterationLimitWarning
from lpengine.regions import count_regions, enumerate_regions
from lpengine.regions.brute import brute_force_regions
from lpengine.regions.pattern import ActivationPattern
from lpengine.regions.scan1d import walk_line_regions


def net_of(*layers) -> ReLUNetwork:
    ws = tuple(np.asarray(W, dtype=float) for W, _ in layers)
    bs = tuple(np.asarray(b, dtype=float) for _, b in layers)
    return ReLUNetwork(ws, bs, has_output_layer=False)


V = ([[1.0], [-1.0]], [0.0, 0.0])  # relu(t), relu(-t)


def edge_set(res) -> set[frozenset[str]]:
    return {frozenset((str(res.regions[i].pattern), str(res.regions[j].pattern))) for i, j, _ in res.edges}


def test_abs_minus_one_by_hand() -> None:
    # z = |t| - 1 on [-2, 2]: breakpoints -1, 0, 1, so four intervals, a path of three edges.
    net = net_of(V, ([[1.0, 1.0]], [-1.0]))
    res = enumerate_regions(net, box=(-2, 2))
    assert res.method == "scan" and res.complete and res.lp_solves == 0
    assert res.count == 4 and len(res.edges) == 3
    got = {str(r.pattern): float(r.witness[0]) for r in res.regions}
    # Midpoints of (-2,-1), (-1,0), (0,1), (1,2); patterns (relu(t), relu(-t) | z).
    assert got == {"-+|+": -1.5, "-+|-": -0.5, "+-|-": 0.5, "+-|+": 1.5}
    assert {r.exact_witness.den for r in res.regions} == {2}  # exact midpoints
    assert res.n_bounded == 4 and res.decisions["exact_witness"] == 4


def test_walk_crosses_coincident_and_touching_breakpoints_exactly() -> None:
    # Layer 2: t (flips at 0 with both first-layer units) and |t| (touches 0 without a sign change).
    net = net_of(V, ([[1.0, -1.0], [1.0, 1.0]], [0.0, 0.0]))
    pieces = list(walk_line_regions(net, -1.0, 1.0, 0.5))
    assert [(p.lo, p.hi) for p in pieces] == [(0, 1), (-1, 0)]
    assert [p.signs.tolist() for p in pieces] == [[1, -1, 1, 1], [-1, 1, -1, 1]]
    res = enumerate_regions(net, box=(-1, 1))
    assert res.count == 2 and res.edges[0][2] == (0, 1, 2)  # the three units that flip at 0


def test_dead_piece_and_whole_line() -> None:
    # relu(relu(t)) is identically 0 for t < 0 (inactive there); relu(t - 1) adds a root at 1.
    net = net_of(([[1.0], [1.0]], [0.0, -1.0]), ([[1.0, 0.0]], [0.0]))
    res = enumerate_regions(net, whole_space=True)
    assert res.count == 3 and res.n_bounded == 1
    assert sorted(str(r.pattern) for r in res.regions) == ["++|+", "+-|+", "--|-"]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kw", [{"box": (-2, 2)}, {"whole_space": True}, {"polytope": ([[1.0], [-1.0]], [1.5, 0.25])}])
def test_scan_equals_the_lp_method_and_exact_brute_force(seed: int, kw: dict) -> None:
    net = ReLUNetwork.random(1, [4, 3, 3], seed=seed)
    scan = enumerate_regions(net, **kw)
    lp = enumerate_regions(net, method="lp", **kw)
    assert scan.method == "scan" and scan.lp_solves == 0 and lp.lp_solves > 0
    pats = {str(r.pattern) for r in scan.regions}
    assert scan.count == lp.count == len(pats)
    assert pats == {str(r.pattern) for r in lp.regions}
    assert edge_set(scan) == edge_set(lp)
    assert scan.n_bounded == lp.n_bounded
    brute = brute_force_regions(net, exact=True, **kw)
    assert pats == {str(ActivationPattern(np.array(p, dtype=np.int8), net.hidden_widths)) for p in brute.patterns}


def test_budget_and_bad_method_use() -> None:
    net = ReLUNetwork.random(1, [8, 8], seed=3)
    full = count_regions(net, box=(-3, 3))
    with pytest.warns(IterationLimitWarning):
        res = enumerate_regions(net, box=(-3, 3), max_regions=3)
    assert not res.complete and res.count == 3 and full > 3
    with pytest.raises(InvalidDomainError, match="one input"):
        enumerate_regions(ReLUNetwork.random(2, [3], seed=0), method="scan")
    with pytest.raises(ValueError, match="no checkpoint"):
        enumerate_regions(net, method="scan", checkpoint="x.npz")

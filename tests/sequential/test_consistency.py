"""LP consistency decisions vs brute force: closed forms, all 2^(n m) patterns, the grid class."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from lpengine.exceptions import InvalidOptionError, InvalidProblemError
from lpengine.lp import LinearProgram, LPStatus, solve
from lpengine.network import ReLUNetwork
from lpengine.sequential import (
    GridReLUClass,
    check_pattern_consistency,
    decide_consistency,
    verify_farkas,
    weight_space_cells,
)

T5 = np.array([[0.1], [0.7], [0.3], [0.9], [0.5]])  # time order differs from sorted order


def _one_unit_closed_form(t: np.ndarray, y: tuple[int, ...]) -> bool:
    """relu(w t + b) > 0 exactly on an open half-line: positives form a prefix or suffix of the sorted times."""
    ys = [lab for _, lab in sorted(zip(t.tolist(), y, strict=True))]
    pos = [i for i, v in enumerate(ys) if v > 0]
    if not pos:
        return True
    contiguous = pos == list(range(pos[0], pos[-1] + 1))
    return contiguous and (pos[0] == 0 or pos[-1] == len(ys) - 1)


def _witness_labels(W: np.ndarray, X: np.ndarray, a: list[float]) -> np.ndarray:
    net = ReLUNetwork(weights=(W[:, :-1], np.array([a])), biases=(W[:, -1], np.zeros(1)))
    return np.where(net.forward(X)[:, 0] > 0, 1, -1)


def test_single_unit_matches_closed_form_on_every_labeling() -> None:
    n_false = 0
    for y in itertools.product([-1, 1], repeat=5):
        d = decide_consistency(T5, y, output_weights=[1.0])
        assert d.consistent == _one_unit_closed_form(T5[:, 0], y), y
        assert d.certified
        if d.consistent:
            assert d.weights.shape == (1, 2) and d.margin > 0
            assert _witness_labels(d.weights, T5, [1.0]).tolist() == list(y)
        else:
            n_false += 1
            # the reported step is the first prefix that is not consistent
            k = d.first_unrealizable_step
            assert not _one_unit_closed_form(T5[: k + 1, 0], y[: k + 1])
            assert _one_unit_closed_form(T5[:k, 0], y[:k])
    # closed-form count: 1 (no positive) + 2*5 - 1 (prefixes and suffixes, "all" counted once) = 10 consistent
    assert n_false == 32 - 10


def test_negative_output_weight_admits_no_positive_label() -> None:
    # f = -relu(.) <= 0 everywhere: consistent iff every label is -1.
    for y in itertools.product([-1, 1], repeat=3):
        d = decide_consistency(T5[:3], y, output_weights=[-2.0])
        assert d.consistent == (max(y) < 0)


def test_two_units_match_brute_force_over_all_patterns() -> None:
    X = T5[:3]
    a = [1.0, -1.0]
    verdicts = []
    for y in itertools.product([-1, 1], repeat=3):
        d = decide_consistency(X, y, output_weights=a)
        answers = [
            check_pattern_consistency(X, y, np.array(p, dtype=bool).reshape(3, 2), output_weights=a)
            for p in itertools.product([0, 1], repeat=6)
        ]
        assert all(r.certified for r in answers)
        assert d.consistent == any(r.feasible for r in answers), y
        verdicts.append(d.consistent)
    # only "+ - +" in sorted time (0.1 +, 0.3 -, 0.7 +) is impossible: relu(l1) - relu(l2) is concave
    # wherever l1 > 0, so it cannot be positive at both ends of [0.1, 0.7] and <= 0 in between.
    assert verdicts == [True, True, True, True, True, True, False, True]


def _bump_closed_form(t: np.ndarray, y: tuple[int, ...]) -> bool:
    """relu(l1) - relu(l2): the positives form one contiguous block of the sorted times.

    Necessity: if f > 0 at t1 < t3 then l1 > 0 on [t1, t3], where f = l1 - relu(l2) is concave, so
    f > 0 in between.  Sufficiency: l1 kinks just left of the block, a steep l2 just right of it.
    """
    ys = [lab for _, lab in sorted(zip(t.tolist(), y, strict=True))]
    pos = [i for i, v in enumerate(ys) if v > 0]
    return not pos or pos == list(range(pos[0], pos[-1] + 1))


def test_two_units_match_closed_form_and_contain_every_grid_behaviour() -> None:
    X = T5[:4]
    a = [1.0, -1.0]
    consistent = set()
    for y in itertools.product([-1, 1], repeat=4):
        d = decide_consistency(X, y, output_weights=a)
        assert d.consistent == _bump_closed_form(X[:, 0], y), y
        assert d.certified
        if d.consistent:
            consistent.add(y)
            assert d.margin > 0
            assert _witness_labels(d.weights, X, a).tolist() == list(y)
    assert len(consistent) == 1 + math.comb(5, 2)  # empty block or a block [i, k], 0 <= i <= k < 4
    # the grid class is a subset of the continuous class with the same output weights
    behaviours = {tuple(row) for row in GridReLUClass(n_in=1, width=2, scale=2).labels(X).tolist()}
    assert behaviours <= consistent
    assert len(behaviours) == 8


def test_weight_space_cells_counts() -> None:
    # n_in = 1: 2n cells for n distinct points (n lines through the origin of the plane).
    assert len(weight_space_cells(T5)) == 10
    # n_in = 2, points in general position: Cover's count 2 * sum_{k<3} C(n-1, k).
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(5, 2))
    assert len(weight_space_cells(X)) == 2 * sum(math.comb(4, k) for k in range(3)) == 22


def test_farkas_ray_certifies_and_garbage_does_not() -> None:
    X, y = T5[:3], (1, 1, -1)  # sorted times 0.1 +, 0.3 -, 0.7 +: no single unit does this
    pattern = np.array([[True], [True], [False]])
    r = check_pattern_consistency(X, y, pattern, output_weights=[1.0])
    assert not r.feasible and r.status is LPStatus.INFEASIBLE and r.certified
    # a feasible LP has no certificate; a zero ray proves nothing
    lp = LinearProgram(c=[0.0], A=[[1.0]], row_lower=[1.0])
    assert solve(lp).status is LPStatus.OPTIMAL
    assert not verify_farkas(lp, np.array([1.0]))
    assert not verify_farkas(lp, np.array([0.0]))
    assert not verify_farkas(lp, None)
    # x >= 1 and x <= 0: the multipliers (1, -1) prove it, in either sign convention
    bad = LinearProgram(c=[0.0], A=[[1.0], [1.0]], row_lower=[1.0, -np.inf], row_upper=[np.inf, 0.0])
    assert verify_farkas(bad, np.array([1.0, -1.0])) and verify_farkas(bad, np.array([-1.0, 1.0]))


def test_budget_stops_undecided_with_warning() -> None:
    from lpengine.exceptions import IterationLimitWarning

    with pytest.warns(IterationLimitWarning, match="max_regions"):
        d = decide_consistency(T5, [-1] * 5, output_weights=[1.0, -1.0], max_regions=3)
    assert d.consistent is None


@pytest.mark.parametrize(
    "X,y,kw,err,match",
    [
        (T5, [1, -1], {"output_weights": [1.0]}, InvalidProblemError, r"y has shape \(2,\); expected \(5,\)"),
        (T5, [1, 0, 1, 1, 1], {"output_weights": [1.0]}, InvalidProblemError, "only the labels"),
        (T5, [1] * 5, {"output_weights": [1.0, 0.0]}, InvalidOptionError, r"output_weights\[1\] is 0"),
        ([[np.nan]], [1], {"output_weights": [1.0]}, InvalidProblemError, "NaN"),
        (T5, [1] * 5, {"output_weights": [1.0], "max_regions": 0}, InvalidOptionError, "max_regions"),
    ],
)
def test_bad_input(X, y, kw, err, match) -> None:
    with pytest.raises(err, match=match):
        decide_consistency(X, y, **kw)


def test_bad_pattern() -> None:
    with pytest.raises(InvalidProblemError, match=r"pattern has shape \(5, 1\).*expected.*\(5, 2\)"):
        check_pattern_consistency(T5, [1] * 5, np.ones((5, 1), dtype=bool), output_weights=[1.0, -1.0])


def test_highs_and_scipy_backends_reach_the_same_decisions() -> None:
    X = T5[:4]
    for y in itertools.product([-1, 1], repeat=4):
        a = decide_consistency(X, y, output_weights=[1.0, -1.0])
        b = decide_consistency(X, y, output_weights=[1.0, -1.0], backend="scipy")
        assert (a.consistent, a.first_unrealizable_step, a.n_regions) == (
            b.consistent,
            b.first_unrealizable_step,
            b.n_regions,
        ), y
        assert a.certified  # HiGHS supplies Farkas rays; scipy's linprog does not, so only HiGHS certifies


def test_names_still_import_from_the_consistency_module() -> None:
    # The region LP and the weight-space cells live in their own modules; the old import path still works.
    import lpengine.sequential as seq
    from lpengine.sequential import cells, consistency, pattern_lp

    assert {n: getattr(consistency, n) for n in consistency.__all__} == {
        n: getattr(seq, n) for n in consistency.__all__
    }
    assert consistency.weight_space_cells is cells.weight_space_cells
    assert consistency.check_pattern_consistency is pattern_lp.check_pattern_consistency

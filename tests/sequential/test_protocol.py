"""run_protocol: exact mistake counts, the |H|-1 and floor(log2|H|) bounds, tightness, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lpengine.exceptions import InvalidOptionError, InvalidProblemError
from lpengine.sequential import run_protocol
from lpengine.sequential.protocol import distinct_rows


def _naive(B: np.ndarray, y, predictor: str) -> tuple[list[int], list[int]]:
    """Reference implementation over every row, no merging of duplicates."""
    B = np.asarray(B)
    n_h, T = B.shape
    err = [0] * n_h
    preds, labels = [], []
    for t in range(T):
        best = min(err)
        cand = [h for h in range(n_h) if err[h] == best]
        if predictor == "least_consistent":
            p = int(B[cand[0], t])
        else:
            v = sum(int(B[h, t]) for h in cand)
            p = 1 if v > 0 else -1 if v < 0 else int(B[cand[0], t])
        lab = -p if isinstance(y, str) else int(y[t])
        preds.append(p)
        labels.append(lab)
        for h in range(n_h):
            err[h] += int(B[h, t] != lab)
    return preds, labels


def test_hand_example_exact_record() -> None:
    B = [[-1, -1, -1, -1], [1, 1, 1, 1], [1, -1, 1, -1], [1, -1, -1, -1]]
    r = run_protocol(B, [1, -1, -1, -1])
    # t0: h0 says -1, wrong; t1: h1 says +1, wrong; t2: h2 says +1, wrong; t3: h3 says -1, right.
    assert r.mistakes == 3
    assert r.mistake_steps == (0, 1, 2)
    assert r.chosen.tolist() == [0, 1, 2, 3]
    assert r.version_space_sizes.tolist() == [4, 3, 2, 1]
    assert r.first_unrealizable_step is None and r.realizable
    assert r.cumulative_mistakes.tolist() == [1, 2, 3, 3]
    h = run_protocol(B, [1, -1, -1, -1], predictor="halving")
    # votes: t0 -1-1... (+1 three times, -1 once) -> +1 right; t1 among h1..h3: +1,-1,-1 -> -1 right;
    # t2 among h2,h3: +1,-1 tie -> least (h2) says +1, wrong; t3 only h3 -> right.
    assert h.mistakes == 1 and h.mistake_steps == (2,)


def test_least_consistent_bound_is_tight_on_singletons() -> None:
    # h_k labels only point k positive; target = last hypothesis; stream 0..n-1 in order.
    n = 12
    B = np.where(np.eye(n, dtype=bool), 1, -1)
    r = run_protocol(B, B[-1])
    assert r.mistakes == n - 1  # = |H| - 1: each mistake removes exactly one hypothesis
    assert r.mistake_steps == tuple(range(n - 1))
    assert run_protocol(B, B[-1], predictor="halving").mistakes == 1


def test_halving_bound_is_tight_on_all_labelings() -> None:
    # H = all 2^k labelings of k points: every vote ties, the adversary stays inside the class.
    k = 6
    B = np.array(list(itertools.product([-1, 1], repeat=k)), dtype=np.int8)
    r = run_protocol(B, "adversarial", predictor="halving")
    assert r.mistakes == k == int(np.floor(np.log2(B.shape[0])))
    assert r.realizable
    assert r.version_space_sizes.tolist() == [2 ** (k - t) for t in range(k)]


@given(st.integers(1, 16), st.integers(1, 14), st.integers(0, 2**31 - 1), st.data())
def test_realizable_bounds_and_agreement_with_naive(n_h: int, T: int, seed: int, data) -> None:
    rng = np.random.default_rng(seed)
    B = rng.choice(np.array([-1, 1], dtype=np.int8), size=(n_h, T))
    target = data.draw(st.integers(0, n_h - 1))
    D = distinct_rows(B)[0].size
    for predictor in ("least_consistent", "halving"):
        r = run_protocol(B, B[target], predictor=predictor)
        preds, labels = _naive(B, B[target], predictor)
        assert r.predictions.tolist() == preds and r.labels.tolist() == labels
        assert r.realizable
        assert np.all(np.diff(r.chosen) >= 0)
        if predictor == "least_consistent":
            assert r.mistakes <= D - 1 <= n_h - 1
            steps = list(r.mistake_steps)
            # the finite Hardin-Taylor shadow: chosen index strictly increases across mistakes
            assert all(r.chosen[a] < r.chosen[b] for a, b in zip(steps, steps[1:], strict=False))
        else:
            assert r.mistakes <= n_h.bit_length() - 1  # floor(log2 |H|)


@given(st.integers(1, 10), st.integers(1, 12), st.integers(0, 2**31 - 1))
def test_adversary_forces_a_mistake_every_step(n_h: int, T: int, seed: int) -> None:
    B = np.random.default_rng(seed).choice(np.array([-1, 1], dtype=np.int8), size=(n_h, T))
    for predictor in ("least_consistent", "halving"):
        r = run_protocol(B, "adversarial", predictor=predictor)
        assert r.mistakes == T
        assert r.predictions.tolist() == _naive(B, "adversarial", predictor)[0]


def test_unrealizable_labels_fall_back_to_fewest_mistakes() -> None:
    B = [[1, 1, 1], [-1, -1, -1]]
    r = run_protocol(B, [1, -1, -1])
    assert r.first_unrealizable_step == 1
    assert r.version_space_sizes.tolist() == [2, 1, 0]
    # t0: h0 +1 right; t1: h0 +1 wrong (now both 1 error); t2: least is h0, +1, wrong.
    assert r.mistakes == 2 and r.mistake_steps == (1, 2)


def test_distinct_rows_groups_exactly() -> None:
    B = np.array([[1, -1], [-1, -1], [1, -1], [-1, 1], [-1, -1]], dtype=np.int8)
    first, counts, inverse = distinct_rows(B)
    assert first.tolist() == [0, 1, 3]
    assert counts.tolist() == [2, 2, 1]
    assert inverse.tolist() == [0, 1, 0, 2, 1]


@pytest.mark.parametrize(
    "B,y,kw,err,match",
    [
        ([[1, 0]], [1, 1], {}, InvalidProblemError, "only the labels -1 and \\+1"),
        ([1, -1], [1, 1], {}, InvalidProblemError, "expected a non-empty 2-D array"),
        ([[1, -1]], [1], {}, InvalidProblemError, r"y has shape \(1,\); expected \(2,\)"),
        ([[1, -1]], [1, 2], {}, InvalidProblemError, "y must contain only"),
        ([[1, -1]], "adversary", {}, InvalidOptionError, "'adversarial'"),
        ([[1, -1]], [1, 1], {"predictor": "majority"}, InvalidOptionError, "predictor"),
    ],
)
def test_bad_input(B, y, kw, err, match) -> None:
    with pytest.raises(err, match=match):
        run_protocol(B, y, **kw)

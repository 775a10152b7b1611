"""Tests of lpengine.regions.implied: exact and float certificates that a row is implied by others."""

from __future__ import annotations

from fractions import Fraction
from itertools import product

import numpy as np
import pytest

from lpengine.regions.implied import RowErrors, certified_on_supports


def _object_rows(rows: list[list[int]]) -> np.ndarray:
    out = np.empty((len(rows), len(rows[0])), dtype=object)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            out[i, j] = int(v)
    return out


def _decide(rows: list[list[int]], k: int, support: list[int]) -> bool:
    """certified_on_supports on exact integer rows ``P . (x, 1) > 0`` with a partial support (exact path only)."""
    P = _object_rows(rows)
    m, d = P.shape[0], P.shape[1] - 1
    Pf = np.array([[float(v) for v in row] for row in rows])
    G, h = -Pf[:, :d], Pf[:, d]
    errors = RowErrors(np.zeros((m, d)), np.zeros(m), lambda: P)
    sup = np.full((1, d), -1, dtype=np.intp)
    sup[0, : len(support)] = support
    return bool(certified_on_supports(G, h, errors, np.array([k], dtype=np.intp), sup)[0])


def _reference(rows: list[list[int]], k: int, support: list[int]) -> bool:
    """The same question by Fractions: solve on the first independent equations, check all, then signs."""
    d = len(rows[0]) - 1
    r = len(support)
    eqs = [[Fraction(rows[i][j]) for i in support] + [Fraction(rows[k][j])] for j in range(d)]
    # Gauss-Jordan elimination with Fractions (an algorithm independent of the integer one under test).
    piv_rows = []
    row = 0
    for col in range(r):
        p = next((j for j in range(row, d) if eqs[j][col] != 0), None)
        if p is None:
            return False
        eqs[row], eqs[p] = eqs[p], eqs[row]
        eqs[row] = [v / eqs[row][col] for v in eqs[row]]
        for j in range(d):
            if j != row and eqs[j][col] != 0:
                f = eqs[j][col]
                eqs[j] = [a - f * b for a, b in zip(eqs[j], eqs[row], strict=True)]
        piv_rows.append(row)
        row += 1
    if any(eqs[j][r] != 0 for j in range(r, d)):
        return False
    y = [eqs[i][r] for i in range(r)]
    if any(v < 0 for v in y):
        return False
    return Fraction(rows[k][d]) - sum(v * rows[i][d] for v, i in zip(y, support, strict=True)) > 0


def test_exact_certificate_by_hand() -> None:
    # Rows (a, beta) with the region a . x + beta > 0.  Row 2's gradient is 2 a_0 + 3 a_1 and its
    # offset exceeds 2 beta_0 + 3 beta_1 by 1: implied, with gap 1 (in the orientation P . (x, 1) > 0:
    # a_2 . x + beta_2 = 2 (a_0 . x + beta_0) + 3 (a_1 . x + beta_1) + 1 > 0 on the region).
    rows = [[1, 0, 0, 5], [0, 1, 0, -7], [2, 3, 0, 2 * 5 + 3 * (-7) + 1]]
    assert _decide(rows, 2, [0, 1])
    # Gap 0: the row touches the region's closure, not proved.
    rows[2][3] = 2 * 5 + 3 * (-7)
    assert not _decide(rows, 2, [0, 1])
    # A negative multiplier: not implied by these rows.
    rows[2] = [2, -3, 0, 100]
    assert not _decide(rows, 2, [0, 1])
    # Not in the span of the support (third coordinate).
    rows[2] = [2, 3, 1, 100]
    assert not _decide(rows, 2, [0, 1])
    # Dependent support rows (the same gradient twice): no unique multipliers, not proved.
    rows = [[1, 1, 0, 0], [2, 2, 0, 1], [3, 3, 0, 9]]
    assert not _decide(rows, 2, [0, 1])


def test_exact_certificate_parallel_rows_with_huge_integers() -> None:
    # One support row (a parallel row), entries of ~230 bits as the exact rows of deep nets have;
    # the gap is 1 part in 2^230 of the offsets.
    big = 2**230 + 12345
    rows = [[3 * big, -big, 7 * big, 11 * big], [6 * big, -2 * big, 14 * big, 22 * big + 1]]
    assert _decide(rows, 1, [0])
    rows[1][3] = 22 * big - 1
    assert not _decide(rows, 1, [0])


@pytest.mark.parametrize("seed", range(6))
def test_exact_certificate_matches_fractions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = 4
    n_checked = 0
    for r, trial in product(range(1, d + 1), range(25)):
        support_rows = rng.integers(-9, 10, size=(r, d + 1)).tolist()
        if trial % 5 == 0 and r > 1:
            support_rows[-1] = [2 * v for v in support_rows[0]]  # dependent support
        y = rng.integers(-2, 6, size=r)
        target = [int(sum(int(y[i]) * support_rows[i][j] for i in range(r))) for j in range(d + 1)]
        target[d] += int(rng.integers(-2, 3))  # the gap: positive, zero or negative
        if trial % 7 == 3:
            target[int(rng.integers(0, d))] += 1  # off the span
        rows = [[int(v) * 2**190 for v in row] for row in support_rows] + [[v * 2**190 for v in target]]
        k = r
        expected = _reference(rows, k, list(range(r)))
        assert _decide(rows, k, list(range(r))) == expected
        n_checked += expected
    assert n_checked > 0  # some certificates do hold (the test is not all "not proved")

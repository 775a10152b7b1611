"""Tests of lpengine.lp.exact.cone's integer arithmetic against a reference written with ``fractions``.

``direction_near`` and ``_integer_rows`` compute in Python ints (common denominators).  The
reference below does the same mathematics entry by entry with :class:`fractions.Fraction`
(the definition: read every float exactly, scale, check), and the two must agree exactly,
None included, on random and adversarial inputs (subnormal, huge and mixed-type entries).
"""

from __future__ import annotations

from fractions import Fraction
from math import lcm
from typing import Any

import numpy as np
import pytest

from lpengine.lp.exact import direction_near
from lpengine.lp.exact.cone import _integer_rows


def _reference_rows(G: Any) -> list[list[int]]:
    out = []
    for row in np.asarray(G, dtype=object).tolist():
        fr = [Fraction(v) for v in row]
        den = lcm(1, *(f.denominator for f in fr))
        out.append([int(f * den) for f in fr])
    return out


def _reference_direction(A: Any, guess: Any, zero: Any) -> tuple[Fraction, ...] | None:
    """The decision of ``direction_near`` in Fractions (the same null-space basis and float fit)."""
    import flint

    rows = _reference_rows(A)
    u = np.asarray(guess, dtype=np.float64)
    d = u.shape[0]
    if not rows or not np.all(np.isfinite(u)):
        return None
    Z = [rows[i] for i in np.flatnonzero(np.asarray(zero, dtype=bool)).tolist()]
    if Z:
        K, k = flint.fmpz_mat(len(Z), d, [v for row in Z for v in row]).nullspace()
        if k == 0:
            return None
        basis = [[int(K[i, j]) for i in range(d)] for j in range(k)]
        tops = [max(abs(v) for v in b) for b in basis]
        Bn = np.array([[v / t for v in b] for b, t in zip(basis, tops, strict=True)], dtype=np.float64).T
        coef = np.linalg.lstsq(Bn, u, rcond=None)[0]
        if not np.all(np.isfinite(coef)):
            return None
        vec = [
            sum((Fraction(float(c)) * Fraction(b[i], t) for c, b, t in zip(coef, basis, tops, strict=True)), Fraction())
            for i in range(d)
        ]
    else:
        vec = [Fraction(float(x)) for x in u]
    if not any(vec):
        return None
    if any(sum((Fraction(a) * x for a, x in zip(row, vec, strict=True)), Fraction()) > 0 for row in rows):
        return None
    top = max(abs(v) for v in vec)
    return tuple(v / top for v in vec)


def test_integer_rows_match_the_fraction_reference_on_mixed_inputs() -> None:
    rng = np.random.default_rng(5)
    cases: list[Any] = [
        [[0.5, -0.25, 3.0], [1e-300, 5e-324, -1e300], [0.0, -0.0, 7.0]],
        np.array([[Fraction(1, 3), 2, Fraction(-5, 6)], [4, -1, 0], [True, Fraction(7, 1), 0.125]], dtype=object),
        np.array([[3, -4, 5], [0, 0, 0]], dtype=object),  # integer rows (the exact rows of a region) pass unchanged
        [[np.float64(0.75), np.int64(3), np.float64(-(2.0**-60))]],
    ]
    for _ in range(40):
        cases.append(rng.standard_normal((4, 5)) * np.exp2(rng.integers(-70, 70, size=(4, 5))))
    for G in cases:
        assert _integer_rows(G) == _reference_rows(G)
    with pytest.raises((OverflowError, ValueError)):
        _integer_rows([[float("inf"), 1.0]])


def test_direction_near_matches_the_fraction_reference() -> None:
    rng = np.random.default_rng(17)
    answered = 0
    for trial in range(300):
        m, d = int(rng.integers(2, 9)), int(rng.integers(2, 5))
        if trial % 3 == 0:
            # Exact integer rows as a region hands them over (object array of ints), some repeated or zero.
            A: Any = rng.integers(-3, 4, size=(m, d)).astype(object)
        elif trial % 3 == 1:
            A = rng.integers(-3, 4, size=(m, d)).astype(float) * np.exp2(rng.integers(-40, 40, size=(m, 1)))
        else:
            A = rng.standard_normal((m, d))
        guess = rng.standard_normal(d) * np.exp2(rng.integers(-30, 30))
        if trial % 7 == 0:
            guess[int(rng.integers(d))] = 5e-324  # a subnormal coordinate
        Af = np.asarray(A, dtype=float)
        zero = np.abs(Af @ guess) < 0.5 * np.abs(guess).max() if trial % 4 else np.zeros(m, dtype=bool)
        expected = _reference_direction(A, guess, zero)
        got = direction_near(A, guess, zero)
        assert got == expected, (trial, A, guess, zero)
        answered += expected is not None
    assert answered >= 30  # both answers are exercised, not only None


def test_direction_near_adversarial_scales() -> None:
    # Rows whose exact entries span 600 binary orders: the common denominator is huge, the decision exact.
    A = [[1.0, 0.0, 0.0], [-1.0, 1e-300, 0.0], [0.0, 0.0, -1.0], [5e-324, -1.0, -1e300]]
    for guess, zero in (
        ([1e-17, -0.5, 0.8], [True, True, False, False]),
        ([0.0, -1.0, 1.0], [True, False, False, False]),
        ([5e-324, -1e-300, 1.0], [False, False, False, False]),
        ([0.0, 0.0, 0.0], [False, False, False, False]),  # the zero vector is never a direction
    ):
        assert direction_near(A, guess, zero) == _reference_direction(A, guess, zero)
    v = direction_near(A, [1e-17, -0.5, 0.8], [True, True, False, False])
    assert v is not None and v[0] == 0 and max(abs(x) for x in v) == 1

"""Exact decision: is a nonempty polyhedron ``{x : G x <= h}`` bounded?

Boundedness depends on ``G`` alone: the polyhedron is bounded iff its
recession cone ``{u : G u <= 0}`` is ``{0}``.  By Stiemke's transposition
theorem that holds iff ``rank G = d`` and some ``lam > 0`` (every entry) has
``G^T lam = 0``.  Exactly one of two certificates exists:

* **bounded**: integer ``lam > 0`` with ``G^T lam = 0``, and ``rank G = d``;
* **unbounded**: a rational ``u != 0`` with ``G u <= 0`` (a recession direction).

How: an integer basis ``N`` of ``ker G^T`` (FLINT's exact nullspace); the
strict system ``N t > 0`` is decided by :func:`~.interior.decide_interior`.
A point ``t`` gives ``lam = N t``; its Farkas vector ``y >= 0, y != 0, N^T y = 0``
lies in ``(ker G^T)^perp = range G``, so ``y = G v`` is solved exactly and
``u = -v`` is the direction.  Both certificates are checked in integers
before they are returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import lcm
from typing import Any

import numpy as np

from .interior import decide_interior

__all__ = ["BoundednessCertificate", "decide_bounded", "direction_near"]


@dataclass(frozen=True)
class BoundednessCertificate:
    """An exactly checked answer to "is ``{x : G x <= h}`` (nonempty) bounded?".

    Attributes
    ----------
    bounded : bool
    multipliers : tuple of int or None
        When bounded: ``lam > 0`` with ``G^T lam = 0`` (and ``rank G = d``, checked).
    direction : tuple of Fraction or None
        When unbounded: ``u != 0`` with ``G u <= 0`` (scaled to ``|u|_inf = 1``).
    """

    bounded: bool
    multipliers: tuple[int, ...] | None
    direction: tuple[Fraction, ...] | None


def _ratio(v: Any) -> tuple[int, int]:
    """``v`` (a float read exactly, an int or a Fraction) as ``(numerator, denominator)`` in lowest terms, ``q > 0``."""
    if type(v) is int:
        return v, 1
    if type(v) is float:
        return v.as_integer_ratio()  # exact, in lowest terms (raises for inf and nan, as Fraction does)
    f = v if isinstance(v, Fraction) else Fraction(v)
    return f.numerator, f.denominator


def _integer_rows(G: Any) -> list[list[int]]:
    """Each row of ``G`` (floats read exactly, or ints/Fractions) scaled by a positive rational to integers.

    The scale is the least common denominator of the row's entries (1 for an integer row), computed
    in Python ints: ``n / q`` times ``D`` is ``n * (D // q)`` exactly.
    """
    out = []
    for row in np.asarray(G, dtype=object).tolist():
        if all(type(v) is int for v in row):
            out.append(row)
            continue
        nq = [_ratio(v) for v in row]
        den = lcm(1, *(q for _, q in nq))
        out.append([n * (den // q) for n, q in nq])
    return out


def _direction(rows: list[list[int]], y: list[int]) -> tuple[Fraction, ...] | None:
    """``u = -v`` with ``G v = y`` solved exactly, if ``G u <= 0``, ``u != 0`` checks; else None."""
    import flint

    m, d = len(rows), len(rows[0])
    A = flint.fmpq_mat(m, d, [v for row in rows for v in row])
    b = flint.fmpq_mat(m, 1, y)
    At = A.transpose()
    try:
        v = (At * A).solve(At * b)
    except ZeroDivisionError:
        return None
    u = [-Fraction(int(v[j, 0].p), int(v[j, 0].q)) for j in range(d)]
    Gu = [sum((Fraction(a) * uj for a, uj in zip(row, u, strict=True)), Fraction(0)) for row in rows]
    if any(u) and all(g <= 0 for g in Gu):
        top = max(abs(v) for v in u)
        return tuple(v / top for v in u)  # scaled to |u|_inf = 1
    return None


def decide_bounded(G: Any, *, backend: Any | None = "highs") -> BoundednessCertificate:
    """Decide exactly whether ``{x : G x <= h}`` (assumed nonempty) is bounded, with a checked certificate.

    Parameters
    ----------
    G : array_like of float (read exactly), or object array of int/Fraction; shape (m, d)
    backend : str or LPBackend or None
        For the float step of :func:`~.interior.decide_interior`.

    Returns
    -------
    BoundednessCertificate

    Raises
    ------
    ArithmeticError
        If a certificate fails its check (a bug, never a silent answer).

    Examples
    --------
    >>> decide_bounded([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]).bounded    # a triangle
    True
    >>> decide_bounded([[1.0, 0.0], [-1.0, 0.0]]).bounded                 # a strip along x_2
    False
    """
    import flint

    rows = _integer_rows(G)
    m = len(rows)
    d = len(rows[0]) if m else int(np.shape(G)[1]) if np.ndim(G) == 2 else 0
    if m == 0:
        return BoundednessCertificate(d == 0, () if d == 0 else None, None if d == 0 else (Fraction(1),) * d)
    Gt = flint.fmpz_mat(d, m, [rows[i][j] for j in range(d) for i in range(m)])
    if Gt.rank() < d:
        # A lineality direction: ker G is nonzero.
        K, k = flint.fmpz_mat(m, d, [v for row in rows for v in row]).nullspace()
        col = [int(K[j, 0]) for j in range(d)]
        if k < 1 or not any(col) or any(sum(a * v for a, v in zip(row, col, strict=True)) != 0 for row in rows):
            raise ArithmeticError("decide_bounded: the lineality direction failed its check (a bug).")
        top = max(abs(v) for v in col)
        return BoundednessCertificate(False, None, tuple(Fraction(v, top) for v in col))
    N, k = Gt.nullspace()
    if k == 0:
        # G is square and invertible: G u = -1 has a solution, a recession direction.
        u0 = _direction(rows, [1] * m)
        if u0 is None:
            raise ArithmeticError("decide_bounded: the recession direction failed its check (a bug).")
        return BoundednessCertificate(False, None, u0)
    Nrows = np.empty((m, k), dtype=object)
    for i in range(m):
        for j in range(k):
            Nrows[i, j] = -int(N[i, j])  # -N t < 0  <=>  N t > 0
    cert = decide_interior(Nrows, np.zeros(m, dtype=object), backend=backend)
    if cert.nonempty:
        assert cert.point is not None
        t = cert.point.num  # N t / den with den > 0: the same signs
        lam = [sum(int(N[i, j]) * t[j] for j in range(k)) for i in range(m)]
        ok = all(v > 0 for v in lam) and all(sum(lam[i] * rows[i][j] for i in range(m)) == 0 for j in range(d))
        if not ok:
            raise ArithmeticError("decide_bounded: the multipliers failed their check (a bug).")
        return BoundednessCertificate(True, tuple(lam), None)
    assert cert.farkas is not None
    u1 = _direction(rows, list(cert.farkas.num))
    if u1 is None:
        raise ArithmeticError("decide_bounded: the recession direction failed its check (a bug).")
    return BoundednessCertificate(False, None, u1)


def direction_near(A: Any, guess: Any, zero: Any) -> tuple[Fraction, ...] | None:
    """An exact recession direction of ``{x : A x <= b}`` near a float ``guess``, checked in integers; else None.

    The rows flagged in ``zero`` are expected to be constant along the direction
    (deep units that no active first-layer unit feeds, say): ``guess`` is moved
    to a nearby vector ``v`` of the exact null space of those rows (an integer
    basis from FLINT, coefficients from a float least-squares fit read as exact
    rationals).  Then ``v != 0`` and ``A v <= 0`` are checked exactly for every
    row, so a returned direction is a certificate of unboundedness whatever the
    guess; ``None`` only means this guess did not give one.

    Parameters
    ----------
    A : array_like of float (read exactly), or object array of int/Fraction; shape (m, d)
    guess : array_like of float, shape (d,)
    zero : array_like of bool, shape (m,)

    Returns
    -------
    tuple of Fraction or None
        ``v`` scaled to ``|v|_inf = 1``.

    Examples
    --------
    >>> direction_near([[1.0, 0.0], [-1.0, 0.0], [0.0, -1.0]], [1e-17, 1.0], [True, True, False])
    (Fraction(0, 1), Fraction(1, 1))
    """
    import flint

    rows = _integer_rows(A)
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
        # Least squares in floats on the basis scaled to |b|_inf = 1; any coefficients stay in the null space.
        Bn = np.array([[v / t for v in b] for b, t in zip(basis, tops, strict=True)], dtype=np.float64).T
        coef = np.linalg.lstsq(Bn, u, rcond=None)[0]
        if not np.all(np.isfinite(coef)):
            return None
        # v = sum_j c_j b_j / t_j with c_j = n_j / q_j (the float read exactly), times D = lcm_j(q_j t_j) > 0:
        # an integer vector w = D v.  Every decision below is unchanged by the positive scale D.
        nq = [float(c).as_integer_ratio() for c in coef.tolist()]
        D = lcm(1, *(q * t for (_, q), t in zip(nq, tops, strict=True)))
        mult = [n * (D // (q * t)) for (n, q), t in zip(nq, tops, strict=True)]
        w = [sum(c * b[i] for c, b in zip(mult, basis, strict=True)) for i in range(d)]
    else:
        nq = [float(x).as_integer_ratio() for x in u.tolist()]
        D = lcm(1, *(q for _, q in nq))
        w = [n * (D // q) for n, q in nq]
    if not any(w):
        return None
    if any(sum(a * x for a, x in zip(row, w, strict=True)) > 0 for row in rows):
        return None
    top = max(abs(v) for v in w)
    return tuple(Fraction(v, top) for v in w)  # v / |v|_inf, with v = w / D

"""Exact arithmetic on float64 data: dyadic integers, rational vectors, exact signs.

Every finite float64 is a *dyadic* rational ``m * 2**e`` (``m`` an integer of at
most 53 bits).  An array of them is therefore an integer array times one common
power of two, and sums and products of dyadics need no division.  This module
converts float arrays to that form and decides signs of affine forms
``a . x + c`` exactly at rational points ``x = p / q`` (``p`` integer, ``q > 0``):

    sign(a . x + c) = sign(A_int . p * 2**(e_A - e0) + c_int * q * 2**(e_c - e0)),

a computation in Python integers (arbitrary precision), with ``e0 = min(e_A, e_c)``.

Python integers (in numpy ``object`` arrays) do the integer work here: the
matrices are small (tens of rows, a handful of columns) and the numbers have a
few hundred bits at most, where Python's own integers are as fast as any
binding.  Linear systems, which need division, use python-flint
(:mod:`lpengine.lp.exact.lpcheck`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import gcd, lcm
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...exceptions import InvalidProblemError
from ...roundoff import UNIT_ROUNDOFF

__all__ = [
    "DyadicArray",
    "RationalVector",
    "to_dyadic",
    "to_fractions",
    "affine_signs",
    "float_sign_filter",
    "proportionality",
]

#: Unit roundoff of float64 and the smallest subnormal (Higham, ch. 3).
_TINY = 2.0**-1074


@dataclass(frozen=True, eq=False)
class DyadicArray:
    """A float64 array held exactly as ``mantissas * 2**exponent``.

    Attributes
    ----------
    mantissas : ndarray of Python int (dtype object), any shape
        Integer mantissas (read-only), on one common power of two.
    exponent : int
        The common binary exponent.
    """

    mantissas: NDArray[Any]
    exponent: int

    def to_fractions(self) -> NDArray[Any]:
        """The exact values as an object array of :class:`fractions.Fraction`."""
        scale = Fraction(2) ** self.exponent
        out = np.empty(self.mantissas.shape, dtype=object)
        for idx, m in np.ndenumerate(self.mantissas):
            out[idx] = m * scale
        return out


def _check_finite(a: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(a, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise InvalidProblemError(
            f"{name} must be finite for exact arithmetic; entry {tuple(int(i) for i in bad)} is {arr[tuple(bad)]}."
        )
    return arr


def to_dyadic(a: ArrayLike, *, name: str = "array") -> DyadicArray:
    """Convert a float64 array to integers on one power of two, exactly.

    Parameters
    ----------
    a : array_like of float, any shape
        Finite values.
    name : str
        Used in the error message.

    Returns
    -------
    DyadicArray
        ``a == mantissas * 2**exponent`` exactly, with the largest common
        exponent (so the integers are as small as the data allow).

    Raises
    ------
    InvalidProblemError
        If ``a`` contains NaN or infinity.

    Examples
    --------
    >>> d = to_dyadic([0.75, -2.0, 0.0])
    >>> d.mantissas.tolist(), d.exponent
    ([3, -8, 0], -2)
    """
    arr = _check_finite(a, name)
    # as_integer_ratio gives p / q with q a power of two; bring all to the largest q.
    ratios = [v.as_integer_ratio() for v in arr.ravel().tolist()]
    Q = max((q for _, q in ratios), default=1)
    out = np.empty(len(ratios), dtype=object)
    out[:] = [p * (Q // q) for p, q in ratios]
    mantissas = out.reshape(arr.shape)
    mantissas.flags.writeable = False
    return DyadicArray(mantissas, 1 - Q.bit_length())


def to_fractions(a: ArrayLike) -> NDArray[Any]:
    """The exact rational values of a float64 array (object array of :class:`~fractions.Fraction`)."""
    arr = _check_finite(a, "array")
    out = np.empty(arr.shape, dtype=object)
    for idx, v in np.ndenumerate(arr):
        out[idx] = Fraction(float(v))
    return out


@dataclass(frozen=True)
class RationalVector:
    """An exact rational vector ``num / den`` (Python ints, ``den > 0``, lowest common terms).

    Attributes
    ----------
    num : tuple of int
        Numerators over the common denominator.
    den : int
        The common denominator, positive; ``gcd(den, *num) == 1``.
    """

    num: tuple[int, ...]
    den: int

    def __post_init__(self) -> None:
        if not isinstance(self.den, int) or self.den <= 0:
            raise ValueError(f"RationalVector.den must be a positive int; got {self.den!r}.")
        g = gcd(self.den, *self.num)
        if g > 1:
            object.__setattr__(self, "num", tuple(n // g for n in self.num))
            object.__setattr__(self, "den", self.den // g)

    def __len__(self) -> int:
        return len(self.num)

    @classmethod
    def from_floats(cls, x: ArrayLike) -> RationalVector:
        """The exact value of a float64 vector (its denominator is a power of two)."""
        d = to_dyadic(np.ravel(np.asarray(x, dtype=np.float64)), name="x")
        ints = [int(v) for v in d.mantissas.tolist()]
        if d.exponent >= 0:
            return cls(tuple(v << d.exponent for v in ints), 1)
        return cls(tuple(ints), 1 << -d.exponent)

    @classmethod
    def from_fractions(cls, values: Any) -> RationalVector:
        """From any sequence of exact rationals (``Fraction``, ``int``, python-flint ``fmpq``)."""
        fr = [
            v if isinstance(v, Fraction) else Fraction(int(v.p), int(v.q)) if hasattr(v, "p") else Fraction(v)
            for v in values
        ]
        den = lcm(1, *(f.denominator for f in fr))
        return cls(tuple(f.numerator * (den // f.denominator) for f in fr), den)

    def to_fractions(self) -> tuple[Fraction, ...]:
        """The entries as fractions."""
        return tuple(Fraction(n, self.den) for n in self.num)

    def to_float(self) -> NDArray[np.float64]:
        """The nearest float64 of each entry (correctly rounded by ``Fraction.__float__``)."""
        return np.array([float(Fraction(n, self.den)) for n in self.num], dtype=np.float64)


def _as_rational(x: RationalVector | ArrayLike) -> RationalVector:
    return x if isinstance(x, RationalVector) else RationalVector.from_floats(x)


def float_sign_filter(
    A: NDArray[np.float64], c: NDArray[np.float64], x: NDArray[np.float64]
) -> tuple[NDArray[np.int8], NDArray[np.bool_]]:
    """Signs of ``A @ x + c`` that float64 arithmetic already proves.

    Returns ``(signs, certain)``: where ``certain`` is True the sign is exact.
    The float value ``v_i`` of row ``i`` (``n = d + 1`` terms) is within
    ``gamma_n * (|A_i| . |x| + |c_i|)`` of the true value, ``gamma_n = n u / (1 - n u)``
    (Higham, Accuracy and Stability of Numerical Algorithms, eq. 3.5), plus
    ``n`` half-subnormals for underflow.  The bound used here is twice that,
    which also covers the rounding of the bound's own computation; a row
    whose ``|v_i|`` exceeds it has the sign of ``v_i``.  Overflow gives an
    infinite bound (never certain).
    """
    n = A.shape[1] + 1
    with np.errstate(over="ignore", invalid="ignore"):
        vals = A @ x + c
        mag = np.abs(A) @ np.abs(x) + np.abs(c)
        bound = 2.0 * n * UNIT_ROUNDOFF * mag + 2.0 * n * _TINY
        certain = np.isfinite(vals) & (np.abs(vals) > bound)
    return np.where(certain, np.sign(vals), 0).astype(np.int8), certain


def affine_signs(A: ArrayLike, c: ArrayLike, x: RationalVector | ArrayLike) -> NDArray[np.int8]:
    """Exact signs of the affine forms ``A @ x + c``.

    Parameters
    ----------
    A : array_like of float, shape (m, d)
    c : array_like of float, shape (m,)
    x : RationalVector or array_like of float, shape (d,)
        The point, read exactly (a float is the dyadic rational it stores).

    Returns
    -------
    ndarray of int8, shape (m,)
        ``-1``, ``0`` or ``+1`` per row: the sign of ``A_i . x + c_i`` as a
        real number.

    Notes
    -----
    For a float ``x``, rows whose float value clears its rounding-error bound
    (:func:`float_sign_filter`) keep their float sign; only the rest are
    evaluated in integers.  A rational ``x`` is evaluated exactly throughout.

    Examples
    --------
    >>> third = 1.0 / 3.0
    >>> 3.0 * third - 1.0, affine_signs([[3.0]], [-1.0], [third]).tolist()  # 3 * fl(1/3) = 1 - 2**-54
    (0.0, [-1])
    >>> affine_signs([[1.0]], [-0.5], [0.5]).tolist()
    [0]
    """
    Af = np.atleast_2d(np.asarray(A, dtype=np.float64))
    cf = np.ravel(np.asarray(c, dtype=np.float64))
    d = len(x) if isinstance(x, RationalVector) else int(np.size(x))
    if Af.shape[0] != cf.shape[0] or Af.shape[1] != d:
        raise InvalidProblemError(
            f"affine_signs: A has shape {Af.shape}, c has {cf.shape[0]} entries and x {d}; "
            "expected A (m, d), c (m,), x (d,)."
        )
    if isinstance(x, RationalVector):
        return np.sign(_scaled_values(Af, cf, x)).astype(np.int8)
    xf = np.ravel(_check_finite(x, "x"))
    signs, certain = float_sign_filter(Af, _check_finite(cf, "c"), xf)
    rest = np.flatnonzero(~certain)
    if rest.size:
        exact = _scaled_values(Af[rest], cf[rest], RationalVector.from_floats(xf))
        signs[rest] = np.sign(exact).astype(np.int8)
    return signs


def _scaled_values(A: NDArray[np.float64], c: NDArray[np.float64], x: RationalVector) -> NDArray[Any]:
    """Integers with the signs of ``A x + c`` (the values times a positive constant)."""
    dA = to_dyadic(A, name="A")
    dc = to_dyadic(c, name="c")
    e0 = min(dA.exponent, dc.exponent)
    p = np.array(x.num, dtype=object)
    lhs = dA.mantissas.dot(p) if A.shape[1] else np.zeros(A.shape[0], dtype=object)
    lhs = lhs * (1 << (dA.exponent - e0))
    rhs = dc.mantissas * (x.den << (dc.exponent - e0))
    return np.asarray(lhs + rhs, dtype=object)


def proportionality(u: ArrayLike, v: ArrayLike) -> int:
    """Exact proportionality of two rows (e.g. ``(a_j, c_j)`` and ``(a_k, c_k)``).

    Decides whether the 2 x n matrix ``[u; v]`` has rank 1, in integers.

    Returns
    -------
    int
        ``+1`` if ``u = lam * v`` with ``lam > 0``, ``-1`` if with ``lam < 0``,
        ``0`` if the rows are not proportional or either row is zero (a zero
        row defines no hyperplane).

    Examples
    --------
    >>> proportionality([1.0, 3.0, -2.0], [0.5, 1.5, -1.0]), proportionality([1.0, 2.0], [-1.0, -2.0])
    (1, -1)
    >>> proportionality([1.0, 0.1], [3.0, 0.3])  # 3 * 0.1 != 0.3 in float64
    0
    """
    uf = np.ravel(np.asarray(u, dtype=np.float64))
    vf = np.ravel(np.asarray(v, dtype=np.float64))
    if uf.shape != vf.shape:
        raise InvalidProblemError(f"proportionality: rows have {uf.size} and {vf.size} entries; expected equal.")
    d = to_dyadic(np.stack([uf, vf]), name="rows")
    a, b = d.mantissas[0], d.mantissas[1]
    nz = np.flatnonzero(uf != 0.0)
    if nz.size == 0 or not np.any(vf != 0.0):
        return 0
    k = int(nz[0])
    ak, bk = a[k], b[k]
    if bk == 0:
        return 0
    # rank 1 <=> every 2x2 minor with column k vanishes: a_i b_k == b_i a_k for all i.
    if any(ai * bk != bi * ak for ai, bi in zip(a.tolist(), b.tolist(), strict=True)):
        return 0
    return 1 if (ak > 0) == (bk > 0) else -1

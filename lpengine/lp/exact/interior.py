"""Exact decision: does ``{x : G x < h}`` have a nonempty interior?

The set ``P = {x : G x < h}`` (strict rows; ``G`` may include the rows of a box
or polytope domain, whose interior is the strict version of its rows) is open,
so it is nonempty iff it has nonempty interior.  Exactly one of two
certificates exists (Motzkin's transposition theorem):

* **nonempty**: a rational point ``x`` with ``G x < h`` in every row;
* **empty**: ``y >= 0``, ``y != 0``, ``y^T G = 0`` and ``y^T h <= 0``
  (then ``0 = y^T G x < y^T h <= 0`` for any ``x`` in ``P``: a contradiction).

:func:`decide_interior` returns one of them, and every certificate it returns
has passed :func:`check_interior_point` or :func:`check_farkas`, exact integer
checks that share no code with the way the certificate was found.

Rows may be float64 (read exactly) or exact rationals (an object array of
``int``/``Fraction``, e.g. the masked affine maps of a deep layer, which need
more than 53 bits).  Each row is first scaled by a positive rational to
integers ``(g_i, h_i)``; this changes no set and no certificate's validity.

How the certificate is found, cheapest first (the caller's float work is reused):

1. the caller's ``hint`` point, checked exactly;
2. the LP ``max t  s.t.  g_i . x + w_i t <= h_i,  t <= 1``, ``w_i = max_j |g_ij|``
   (``w_i = 1`` for a zero row), solved in floats by HiGHS on rounded,
   normalised rows; its basis is then re-solved and checked in rationals on the
   exact rows (:func:`_verify_chebyshev_basis`).  Its optimum ``t*`` is ``> 0``
   iff ``P`` is nonempty (``w > 0``); the primal point or the multipliers give
   the certificate;
3. if the basis does not verify: the same LP's dual, in ``(y, z) >= 0`` with
   ``G^T y = 0``, ``w.y + z = 1``, minimise ``h.y + z``, solved by the exact
   simplex (``d + 1`` rows): its optimum ``y`` is a Farkas vector when the value
   is ``<= 0``, and its duals give ``(x, t*)`` otherwise.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from fractions import Fraction
from math import lcm
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...exceptions import InaccurateSolutionWarning, InvalidProblemError, SolverError
from ..problem import LinearProgram
from ..result import BasisStatus
from .rational import RationalVector, affine_signs
from .simplex import ExactStatus, solve_standard_form

__all__ = [
    "InteriorCertificate",
    "IntegerRows",
    "integer_rows",
    "check_interior_point",
    "check_farkas",
    "decide_interior",
    "with_box",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InteriorCertificate:
    """An exactly checked answer to "is ``{x : G x < h}`` nonempty?".

    Attributes
    ----------
    nonempty : bool
    point : RationalVector or None
        When ``nonempty``: a point with ``G x < h`` in every row (checked exactly).
    farkas : RationalVector or None
        When empty: ``y >= 0, y != 0, y^T G = 0, y^T h <= 0`` for the rows as
        given (checked exactly).
    margin : Fraction or None
        The exact optimum ``t*`` of ``max t s.t. g_i x + w_i t <= h_i, t <= 1`` on
        the integer-scaled rows when steps 2-3 computed it (``None`` when the
        hint settled the question).
    method : str
        ``"hint"``, ``"basis"`` or ``"exact simplex"``: which step decided.
    """

    nonempty: bool
    point: RationalVector | None
    farkas: RationalVector | None
    margin: Fraction | None
    method: str


@dataclass(frozen=True)
class IntegerRows:
    """Rows ``g_i . x < h_i`` with integer entries (each row a positive multiple of the input row).

    Attributes
    ----------
    G : tuple of tuple of int, shape (m, d)
    h : tuple of int, shape (m,)
    scale : tuple of int, shape (m,)
        ``(g_i, h_i) = scale_i * (input row i)``, ``scale_i`` a positive integer.
    d : int
        Number of columns (kept for ``m = 0``).
    """

    G: tuple[tuple[int, ...], ...]
    h: tuple[int, ...]
    scale: tuple[int, ...]
    d: int

    @property
    def m(self) -> int:
        return len(self.h)

    def float_rows(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Rounded rows divided by ``max(1, max_j |g_ij|)`` in magnitude: for the float LP only.

        ``int / int`` is correctly rounded in Python, whatever the sizes; right-hand
        sides beyond float range are clipped to ``+-1e300`` (the float LP only
        proposes a basis; the exact check decides).
        """
        Gf = np.zeros((self.m, self.d))
        hf = np.zeros(self.m)
        for i, (g, hi) in enumerate(zip(self.G, self.h, strict=True)):
            w = max((abs(v) for v in g), default=0) or 1
            Gf[i] = [v / w for v in g]
            try:
                hf[i] = hi / w
            except OverflowError:
                hf[i] = 1e300 if hi > 0 else -1e300
        return Gf, hf


def _row_to_ints(values: list[Fraction]) -> tuple[list[int], int]:
    den = lcm(1, *(v.denominator for v in values))
    ints = [v.numerator * (den // v.denominator) for v in values]
    return ints, den


def integer_rows(G: Any, h: Any) -> IntegerRows:
    """Scale each row of ``G x < h`` by a positive rational to integers.

    Parameters
    ----------
    G : array_like of float, or object array of int/Fraction, shape (m, d)
    h : array_like, shape (m,)
        Floats are read exactly; they must be finite.

    Returns
    -------
    IntegerRows
    """
    Garr = np.asarray(G)
    harr = np.ravel(np.asarray(h))
    if Garr.ndim == 1 and Garr.size == 0:
        Garr = Garr.reshape(0, 0)
    if Garr.ndim != 2 or Garr.shape[0] != harr.shape[0]:
        raise InvalidProblemError(f"G has shape {Garr.shape} and h {harr.shape}; expected (m, d) and (m,).")
    exact = Garr.dtype == object or harr.dtype == object
    if not exact:
        Gf = Garr.astype(np.float64)
        hf = harr.astype(np.float64)
        if not (np.all(np.isfinite(Gf)) and np.all(np.isfinite(hf))):
            raise InvalidProblemError("G and h must be finite.")
        rows = np.hstack([Gf, hf[:, None]]).tolist()
    else:
        rows = [list(Garr[i]) + [harr[i]] for i in range(Garr.shape[0])]
    Gi: list[tuple[int, ...]] = []
    hi: list[int] = []
    sc: list[int] = []
    for row in rows:
        fr = [Fraction(v) if not isinstance(v, float) else Fraction(v) for v in row]
        ints, s = _row_to_ints(fr)
        Gi.append(tuple(ints[:-1]))
        hi.append(ints[-1])
        sc.append(s)
    return IntegerRows(tuple(Gi), tuple(hi), tuple(sc), int(Garr.shape[1]))


def with_box(
    G: ArrayLike, h: ArrayLike, lo: ArrayLike, hi: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Append the rows ``x < hi`` and ``-x < -lo`` of a box to float rows ``G x < h``."""
    Gf = np.atleast_2d(np.asarray(G, dtype=np.float64))
    hf = np.ravel(np.asarray(h, dtype=np.float64))
    d = Gf.shape[1]
    lo_a = np.broadcast_to(np.asarray(lo, dtype=np.float64), (d,))
    hi_a = np.broadcast_to(np.asarray(hi, dtype=np.float64), (d,))
    eye = np.eye(d)
    return np.vstack([Gf, eye, -eye]), np.concatenate([hf, hi_a, -lo_a])


def _is_float_data(G: Any, h: Any) -> bool:
    return not isinstance(G, IntegerRows) and np.asarray(G).dtype != object and np.asarray(h).dtype != object


def _as_rows(G: Any, h: Any) -> IntegerRows:
    return G if isinstance(G, IntegerRows) else integer_rows(G, h)


def _point_ok(rows: IntegerRows, x: RationalVector) -> bool:
    # g . (p / q) < h  <=>  g . p - h q < 0  (q > 0)
    p, q = x.num, x.den
    return all(sum(a * b for a, b in zip(g, p, strict=True)) < hi * q for g, hi in zip(rows.G, rows.h, strict=True))


def check_interior_point(G: Any, h: Any, x: RationalVector | ArrayLike) -> bool:
    """Exactly: does ``x`` satisfy every strict inequality ``G x < h``?

    ``G, h`` are float arrays (read exactly), exact object arrays, or an
    :class:`IntegerRows` (then ``h`` is ignored).  For float data and a float
    point, rows whose sign a rigorous float error bound settles are not
    recomputed (:func:`~lpengine.lp.exact.rational.float_sign_filter`).
    """
    if _is_float_data(G, h) and not isinstance(x, RationalVector):
        Gf = np.atleast_2d(np.asarray(G, dtype=np.float64))
        if Gf.shape[0] == 0:
            return True
        return bool(np.all(affine_signs(Gf, -np.ravel(np.asarray(h, dtype=np.float64)), x) < 0))
    rows = _as_rows(G, h)
    xr = x if isinstance(x, RationalVector) else RationalVector.from_floats(x)
    if len(xr) != rows.d:
        raise InvalidProblemError(f"x has {len(xr)} entries; expected {rows.d}.")
    return _point_ok(rows, xr)


def check_farkas(G: Any, h: Any, y: RationalVector) -> bool:
    """Exactly: is ``y`` a certificate that ``{x : G x < h}`` is empty?

    True iff ``y >= 0``, ``y != 0``, ``y^T G = 0`` and ``y^T h <= 0`` for the rows
    as given (floats read exactly, or exact object arrays).
    """
    rows = _as_rows(G, h)
    if len(y) != rows.m:
        raise InvalidProblemError(f"y has {len(y)} entries; expected {rows.m} (one per row).")
    if any(v < 0 for v in y.num) or not any(y.num):
        return False
    # On the integer rows the multipliers are y_i / scale_i (each scale_i a positive integer):
    # times the positive constant den * lcm(scale), they are the integers z_i below.
    S = lcm(*rows.scale) if rows.m else 1
    z = [v * (S // sc) for v, sc in zip(y.num, rows.scale, strict=True)]
    for j in range(rows.d):
        if sum(a * g[j] for a, g in zip(z, rows.G, strict=True)) != 0:
            return False
    return sum(a * hh for a, hh in zip(z, rows.h, strict=True)) <= 0


def _weights(rows: IntegerRows) -> list[int]:
    return [max((abs(v) for v in g), default=0) or 1 for g in rows.G]


def _certificate(
    rows: IntegerRows, x: list[Fraction], t: Fraction, lam: list[Fraction], method: str
) -> InteriorCertificate | None:
    """Certificate from the Chebyshev LP's solution on the integer rows (``lam``: row multipliers >= 0)."""
    if t > 0:
        pt = RationalVector.from_fractions(x)
        if _point_ok(rows, pt):
            return InteriorCertificate(True, pt, None, t, method)
        return None
    # Multipliers of the integer rows -> multipliers of the rows as given: times scale_i > 0.
    y = RationalVector.from_fractions([a * s for a, s in zip(lam, rows.scale, strict=True)])
    if check_farkas(rows, None, y):
        return InteriorCertificate(False, None, y, t, method)
    return None


def _verify_chebyshev_basis(
    rows: IntegerRows, w: list[int], col_status: list[int], row_status: list[int]
) -> InteriorCertificate | None:
    """Re-solve the basis of ``max t s.t. g_i x + w_i t <= h_i, t <= 1`` exactly; certificate if optimal."""
    import flint

    d, m = rows.d, rows.m
    eqs: list[list[Any]] = []
    rhs: list[Any] = []
    owners: list[int] = []  # row index, or -1 - j for column j (j = d is t)
    for j, s in enumerate(col_status):
        if s == BasisStatus.BASIC:
            continue
        if j < d and s == BasisStatus.ZERO:
            val = 0
        elif j == d and s == BasisStatus.UPPER:
            val = 1
        else:
            return None
        eqs.append([1 if k == j else 0 for k in range(d + 1)])
        rhs.append(val)
        owners.append(-1 - j)
    for i, s in enumerate(row_status):
        if s == BasisStatus.BASIC:
            continue
        if s != BasisStatus.UPPER:
            return None
        eqs.append(list(rows.G[i]) + [w[i]])
        rhs.append(rows.h[i])
        owners.append(i)
    if len(eqs) != d + 1:
        return None
    M = flint.fmpq_mat(eqs)
    try:
        sol = M.solve(flint.fmpq_mat(d + 1, 1, rhs))
        # Multipliers: minimise -t, so M^T lam = (0, ..., 0, -1).
        lam = M.transpose().solve(flint.fmpq_mat(d + 1, 1, [0] * d + [-1]))
    except ZeroDivisionError:
        return None
    fr = lambda q: Fraction(int(q.p), int(q.q))  # noqa: E731
    z = [fr(sol[k, 0]) for k in range(d + 1)]
    x, t = z[:d], z[d]
    # Primal feasibility of every row, exactly, in integers: x = p / q, t = tn / td.
    xr = RationalVector.from_fractions(x)
    p, q, tn, td = xr.num, xr.den, t.numerator, t.denominator
    for g, hh, wi in zip(rows.G, rows.h, w, strict=True):
        if sum(a * b for a, b in zip(g, p, strict=True)) * td + wi * tn * q > hh * q * td:
            return None
    # Dual feasibility: rows and t at their upper bounds need lam <= 0; free x at 0 need lam = 0.
    row_lam = [Fraction(0)] * m
    for k, owner in enumerate(owners):
        v = fr(lam[k, 0])
        if owner >= 0:
            if v > 0:
                return None
            row_lam[owner] = -v
        elif owner == -1 - d:
            if v > 0:
                return None
        elif v != 0:
            return None
    return _certificate(rows, x, t, row_lam, "basis")


def _via_basis(rows: IntegerRows, w: list[int], backend: Any) -> InteriorCertificate | None:
    from ..backends import get_backend

    d = rows.d
    Gf, hf = rows.float_rows()
    cost = np.zeros(d + 1)
    cost[d] = -1.0
    lp = LinearProgram(
        c=cost,
        A=np.hstack([Gf, np.ones((rows.m, 1))]),
        row_upper=hf,
        col_upper=np.concatenate([np.full(d, np.inf), [1.0]]),
    )
    try:
        with get_backend(backend).open(lp) as solver, warnings.catch_warnings():
            # Only the basis is used, and it is verified exactly below: an INACCURATE float answer is no error here.
            warnings.simplefilter("ignore", InaccurateSolutionWarning)
            solver.solve()
            basis = solver.get_basis()
    except SolverError as exc:
        # The rounded rows can be beyond what the float solver accepts (entries of 1e300, say):
        # no basis to propose, and the exact simplex decides.
        logger.debug("interior LP refused by the float solver (%s); the exact simplex decides", exc)
        return None
    if basis is None:
        return None
    cert = _verify_chebyshev_basis(rows, w, basis.col_status.tolist(), basis.row_status.tolist())
    if cert is None:
        logger.debug("interior LP basis did not verify exactly; falling back to the exact simplex")
    return cert


def _via_exact_simplex(rows: IntegerRows, w: list[int]) -> InteriorCertificate:
    import flint

    m, d = rows.m, rows.d
    zero, one = flint.fmpq(0), flint.fmpq(1)
    # Variables (y_1..y_m, z); rows: G^T y = 0 (d rows), w.y + z = 1; minimise h.y + z.
    A = [[flint.fmpq(rows.G[i][j]) for i in range(m)] + [zero] for j in range(d)]
    A.append([flint.fmpq(v) for v in w] + [one])
    b = [zero] * d + [one]
    c = [flint.fmpq(v) for v in rows.h] + [one]
    sol = solve_standard_form(A, b, c)
    if sol.status is not ExactStatus.OPTIMAL:  # pragma: no cover - feasible (z = 1) and bounded (w > 0)
        raise ArithmeticError(f"decide_interior: the exact dual LP ended {sol.status.value}; it cannot.")
    assert sol.y is not None and sol.duals is not None
    fr = lambda q: Fraction(int(q.p), int(q.q))  # noqa: E731
    t = fr(sol.objective)
    # Duals (x, t) of the rows G^T y = 0 and w.y + z = 1 solve the primal: G x + w t <= h, t <= 1.
    x = [fr(v) for v in sol.duals[:d]]
    lam = [fr(v) for v in sol.y[:m]]
    cert = _certificate(rows, x, t, lam, "exact simplex")
    if cert is None:
        raise ArithmeticError("decide_interior: the exact simplex certificate failed its check (a bug).")
    return cert


def decide_interior(
    G: Any,
    h: Any = None,
    *,
    hint: RationalVector | ArrayLike | None = None,
    backend: Any | None = "highs",
) -> InteriorCertificate:
    """Decide exactly whether ``{x : G x < h}`` is nonempty, with a checked certificate.

    Parameters
    ----------
    G : array_like of float, object array of int/Fraction, or IntegerRows; shape (m, d)
    h : array_like, shape (m,)
        Read as exact rationals (ignored when ``G`` is an :class:`IntegerRows`).
        Add domain rows with :func:`with_box` or by stacking a polytope's rows.
    hint : RationalVector or array_like, shape (d,), optional
        A candidate interior point (e.g. a float Chebyshev centre); if it
        passes the exact check no LP is solved.
    backend : str or LPBackend or None, default "highs"
        Backend for the float LP of step 2 (see the module docstring);
        ``None`` skips step 2 and decides by the exact simplex alone.

    Returns
    -------
    InteriorCertificate
        Its certificate has been checked exactly.

    Raises
    ------
    InvalidProblemError
        If ``G`` or ``h`` are malformed or not finite.

    Examples
    --------
    >>> decide_interior([[1.0], [-1.0]], [1e-300, 0.0]).nonempty   # 0 < x < 1e-300
    True
    >>> decide_interior([[1.0], [-1.0]], [0.0, 0.0]).farkas.num       # x < 0 and -x < 0
    (1, 1)
    """
    if hint is not None and check_interior_point(G, h, hint):
        pt = hint if isinstance(hint, RationalVector) else RationalVector.from_floats(hint)
        return InteriorCertificate(True, pt, None, None, "hint")
    rows = _as_rows(G, h)
    if rows.m == 0:
        return InteriorCertificate(True, RationalVector((0,) * rows.d, 1), None, Fraction(1), "basis")
    w = _weights(rows)
    if backend is not None:
        cert = _via_basis(rows, w, backend)
        if cert is not None:
            return cert
    return _via_exact_simplex(rows, w)

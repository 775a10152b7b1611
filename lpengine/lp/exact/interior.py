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

How the certificate is found, cheapest first (the caller's float work is reused):

1. the caller's ``hint`` point, checked exactly (microseconds);
2. the LP  ``max t  s.t.  G x + w t <= h,  t <= 1``  with ``w_i`` the power of two
   nearest ``max_j |G_ij|`` (so dividing a row by it is exact and the float LP
   HiGHS solves *is* the rational LP), solved by HiGHS; its basis is verified in
   rationals (:func:`~lpengine.lp.exact.lpcheck.verify_basis`).  Its optimum
   ``t*`` is ``> 0`` iff ``P`` is nonempty (``w > 0``); the primal point or the
   duals give the certificate;
3. if the basis does not verify: the same LP's dual, in the variables
   ``(y, z) >= 0`` with ``G^T y = 0``, ``w.y + z = 1``, minimise ``h.y + z``,
   solved by the exact simplex (``d + 1`` rows): its optimum ``y`` is a Farkas
   vector when the value is ``<= 0``, and its duals give ``(x, t*)`` otherwise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...exceptions import InvalidProblemError
from ..problem import LinearProgram
from .lpcheck import fmpq_of, verify_basis
from .rational import RationalVector, affine_signs, to_dyadic
from .simplex import ExactStatus, solve_standard_form

__all__ = ["InteriorCertificate", "check_interior_point", "check_farkas", "decide_interior", "with_box"]

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
        When empty: ``y >= 0, y != 0, y^T G = 0, y^T h <= 0`` (checked exactly).
    margin : Fraction or None
        The exact optimum ``t*`` of ``max t s.t. G x + w t <= h, t <= 1`` when
        steps 2-3 computed it (``None`` when the hint settled the question):
        a scale-free inradius (in the max-norm of each row, capped at 1).
    method : str
        ``"hint"``, ``"basis"`` or ``"exact simplex"``: which step decided.
    """

    nonempty: bool
    point: RationalVector | None
    farkas: RationalVector | None
    margin: Fraction | None
    method: str


def _rows(G: ArrayLike, h: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    Gf = np.atleast_2d(np.asarray(G, dtype=np.float64))
    hf = np.ravel(np.asarray(h, dtype=np.float64))
    if Gf.ndim != 2 or Gf.shape[0] != hf.shape[0]:
        raise InvalidProblemError(f"G has shape {Gf.shape} and h {hf.shape}; expected (m, d) and (m,).")
    if not (np.all(np.isfinite(Gf)) and np.all(np.isfinite(hf))):
        raise InvalidProblemError("G and h must be finite.")
    return Gf, hf


def with_box(
    G: ArrayLike, h: ArrayLike, lo: ArrayLike, hi: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Append the rows ``x < hi`` and ``-x < -lo`` of a box to ``G x < h``."""
    Gf, hf = _rows(G, h)
    d = Gf.shape[1]
    lo_a = np.broadcast_to(np.asarray(lo, dtype=np.float64), (d,))
    hi_a = np.broadcast_to(np.asarray(hi, dtype=np.float64), (d,))
    eye = np.eye(d)
    return np.vstack([Gf, eye, -eye]), np.concatenate([hf, hi_a, -lo_a])


def check_interior_point(G: ArrayLike, h: ArrayLike, x: RationalVector | ArrayLike) -> bool:
    """Exactly: does ``x`` satisfy every strict inequality ``G x < h``?"""
    Gf, hf = _rows(G, h)
    d = len(x) if isinstance(x, RationalVector) else int(np.size(x))
    if d != Gf.shape[1]:
        raise InvalidProblemError(f"x has {d} entries; expected {Gf.shape[1]}.")
    if Gf.shape[0] == 0:
        return True
    return bool(np.all(affine_signs(Gf, -hf, x) < 0))


def check_farkas(G: ArrayLike, h: ArrayLike, y: RationalVector) -> bool:
    """Exactly: is ``y`` a certificate that ``{x : G x < h}`` is empty?

    True iff ``y >= 0``, ``y != 0``, ``y^T G = 0`` and ``y^T h <= 0``.
    """
    Gf, hf = _rows(G, h)
    if len(y) != Gf.shape[0]:
        raise InvalidProblemError(f"y has {len(y)} entries; expected {Gf.shape[0]} (one per row).")
    if any(v < 0 for v in y.num) or not any(y.num):
        return False
    yy = np.array(y.num, dtype=object)
    dG = to_dyadic(Gf, name="G")
    if Gf.shape[1] and any(v != 0 for v in yy.dot(dG.mantissas).tolist()):
        return False
    dh = to_dyadic(hf, name="h")
    return bool(yy.dot(dh.mantissas) <= 0)


def _weights(G: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per row, the power of two nearest ``max |G_i|`` (1 for a zero row)."""
    amax = np.max(np.abs(G), axis=1) if G.shape[1] else np.zeros(G.shape[0])
    w = np.ones(G.shape[0])
    nz = amax > 0
    _, ex = np.frexp(amax[nz])
    w[nz] = np.ldexp(1.0, ex - 1)
    return w


def _certificate_from_lp(
    G: NDArray[np.float64],
    h: NDArray[np.float64],
    w: NDArray[np.float64],
    x: list[Fraction],
    t: Fraction,
    y: list[Fraction],
    method: str,
) -> InteriorCertificate | None:
    if t > 0:
        pt = RationalVector.from_fractions(x)
        if check_interior_point(G, h, pt):
            return InteriorCertificate(True, pt, None, t, method)
        return None
    # y >= 0 solve the LP's dual: y^T G = 0, w.y + z = 1, h.y + z = t* <= 0.
    fy = RationalVector.from_fractions([abs(v) for v in y])
    if check_farkas(G, h, fy):
        return InteriorCertificate(False, None, fy, t, method)
    return None


def _via_basis(
    G: NDArray[np.float64], h: NDArray[np.float64], w: NDArray[np.float64], backend: Any
) -> InteriorCertificate | None:
    from ..backends import get_backend

    m, d = G.shape
    Gs, hs = G / w[:, None], h / w
    if not (np.array_equal(Gs * w[:, None], G) and np.array_equal(hs * w, h)):
        return None  # under/overflow in the scaling: leave it to the exact simplex
    cost = np.zeros(d + 1)
    cost[d] = -1.0
    lp = LinearProgram(
        c=cost,
        A=np.hstack([Gs, np.ones((m, 1))]),
        row_upper=hs,
        col_upper=np.concatenate([np.full(d, np.inf), [1.0]]),
    )
    with get_backend(backend).open(lp) as solver:
        solver.solve()
        basis = solver.get_basis()
    if basis is None:
        return None
    chk = verify_basis(lp, basis)
    if not chk.optimal:
        logger.debug("interior LP basis did not verify: %s", chk.message)
        return None
    assert chk.x is not None and chk.row_duals is not None
    xs = chk.x.to_fractions()
    # Rows were divided by w_i: duals of the original rows are y_i / w_i (a positive rescaling).
    y = [-v / Fraction(wi) for v, wi in zip(chk.row_duals.to_fractions(), w.tolist(), strict=True)]
    return _certificate_from_lp(G, h, w, list(xs[:d]), xs[d], y, "basis")


def _via_exact_simplex(G: NDArray[np.float64], h: NDArray[np.float64], w: NDArray[np.float64]) -> InteriorCertificate:
    import flint

    m, d = G.shape
    zero, one = flint.fmpq(0), flint.fmpq(1)
    Gq = [[fmpq_of(v) for v in row] for row in G.tolist()]
    # Variables (y_1..y_m, z); rows: G^T y = 0 (d rows), w.y + z = 1.
    A = [[Gq[i][j] for i in range(m)] + [zero] for j in range(d)]
    A.append([fmpq_of(v) for v in w.tolist()] + [one])
    b = [zero] * d + [one]
    c = [fmpq_of(v) for v in h.tolist()] + [one]
    sol = solve_standard_form(A, b, c)
    if sol.status is not ExactStatus.OPTIMAL:  # pragma: no cover - the LP is feasible (z = 1) and bounded
        raise ArithmeticError(f"decide_interior: the exact dual LP ended {sol.status.value}; it cannot.")
    assert sol.y is not None and sol.duals is not None
    t = Fraction(int(sol.objective.p), int(sol.objective.q))
    fr = lambda q: Fraction(int(q.p), int(q.q))  # noqa: E731
    # Duals (x, t) of the rows: G x + w t <= h (x = duals of G^T y = 0, t = dual of the last row).
    x = [fr(v) for v in sol.duals[:d]]
    y = [fr(v) for v in sol.y[:m]]
    cert = _certificate_from_lp(G, h, w, x, t, y, "exact simplex")
    if cert is None:
        raise ArithmeticError("decide_interior: the exact simplex certificate failed its check (a bug).")
    return cert


def decide_interior(
    G: ArrayLike,
    h: ArrayLike,
    *,
    hint: RationalVector | ArrayLike | None = None,
    backend: Any | None = "highs",
) -> InteriorCertificate:
    """Decide exactly whether ``{x : G x < h}`` is nonempty, with a checked certificate.

    Parameters
    ----------
    G : array_like of float, shape (m, d)
    h : array_like of float, shape (m,)
        Read as exact rationals.  Add domain rows with :func:`with_box` or by
        stacking a polytope's rows.
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
    Gf, hf = _rows(G, h)
    m, d = Gf.shape
    if hint is not None and check_interior_point(Gf, hf, hint):
        pt = hint if isinstance(hint, RationalVector) else RationalVector.from_floats(hint)
        return InteriorCertificate(True, pt, None, None, "hint")
    if m == 0:
        return InteriorCertificate(True, RationalVector((0,) * d, 1), None, Fraction(1), "basis")
    w = _weights(Gf)
    if backend is not None:
        cert = _via_basis(Gf, hf, w, backend)
        if cert is not None:
            return cert
    return _via_exact_simplex(Gf, hf, w)

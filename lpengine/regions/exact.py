"""Exact region decisions: the network's float64 weights read as the rationals they store.

The region of a pattern ``S`` is ``{x in int(Dom) : sigma_k z_k(x) > 0 for every live unit k}``,
``z_k`` the pre-activation composed under ``S`` (``region_counting.md`` §1).  With
every weight and bias a dyadic rational ``m 2^e``, each ``z_k`` is an affine form
with dyadic coefficients, computed here with Python integers (no rounding, no
division): :class:`ExactNet`.  On top of it:

* :meth:`ExactNet.rows` - the exact rows of a pattern (a positive multiple of
  ``(alpha_k, beta_k)`` per unit, as integers);
* :meth:`ExactNet.forward_signs` - the exact pattern at a point, ``0`` for a unit
  exactly on its hyperplane;
* :func:`row_error_bounds` - a rigorous bound on the rounding error of the float
  composition, so that signs the floats already prove need no integers;
* :func:`decide_strict` - is ``{x : P_i . (x, 1) > 0 for all i}`` nonempty, answered
  with an exactly checked certificate: an interior point, or a Motzkin/Farkas
  vector ``y >= 0, y != 0, y^T a = 0, y^T b <= 0``.  It is
  :func:`lpengine.lp.exact.decide_interior` on the integer rows (no LP code here).
* :func:`same_hyperplane` - exact proportionality of two integer rows.
* :func:`decide_region` - :func:`decide_strict` with float help first (a hint, a float
  LP point, the Farkas support of the rows a float LP finds binding);
* :func:`exact_facet` - is a row a facet of the region, with a point in its relative
  interior (checked exactly).

Only borderline decisions come here; the float path settles the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..lp import LinearProgram, LPStatus, open_solver
from ..lp.exact import IntegerRows, RationalVector, decide_interior, to_dyadic
from ..network import ReLUNetwork
from ..roundoff import UNIT_ROUNDOFF
from ..tolerances import Tolerances
from .cell_lp import statuses_handled

__all__ = [
    "ExactFacet",
    "ExactNet",
    "StrictDecision",
    "decide_region",
    "decide_strict",
    "exact_facet",
    "integer_region_rows",
    "row_error_bounds",
    "same_hyperplane",
    "rows_to_float",
]

logger = logging.getLogger(__name__)


def _ints(a: Any) -> NDArray[Any]:
    """A numpy object array of Python ints (exact arithmetic in ``dot``)."""
    out = np.empty(np.shape(a), dtype=object)
    out[...] = a
    return out


class ExactNet:
    """The hidden layers of a network as dyadic integers: ``W^l = Wm^l 2^{eW_l}``, ``b^l = bm^l 2^{eb_l}``."""

    def __init__(self, net: ReLUNetwork) -> None:
        self.widths = net.hidden_widths
        self.n_in = net.n_in
        self.offsets = net.layer_offsets
        self.layers: list[tuple[NDArray[Any], int, NDArray[Any], int]] = []
        for l in range(net.n_hidden_layers):
            dW = to_dyadic(net.weights[l], name=f"weights[{l}]")
            db = to_dyadic(net.biases[l], name=f"biases[{l}]")
            self.layers.append((_ints(dW.mantissas), dW.exponent, _ints(db.mantissas), db.exponent))

    def _compose(self, signs: NDArray[np.int8] | None, x: RationalVector | None) -> tuple[NDArray[Any], NDArray[Any]]:
        """Integer rows under ``signs`` (or under the pattern read at ``x`` when ``signs`` is None).

        Row ``k`` is ``(a_k, beta_k)`` with ``z_k(x) = 2^{e_l} (a_k . x + beta_k)``: only the
        common power of two of each layer is dropped, so signs are exact.  Returns
        ``(rows, signs_at_x)`` (the latter all-zero unless ``x`` is given).
        """
        d = self.n_in
        blocks: list[NDArray[Any]] = []
        at_x = np.zeros(sum(self.widths), dtype=np.int8)
        prev: NDArray[Any] | None = None  # (n_prev, d + 1) integer rows
        e_prev = 0
        for l, (Wm, eW, bm, eb) in enumerate(self.layers):
            if prev is None:
                e = min(eW, eb)
                R = np.empty((Wm.shape[0], d + 1), dtype=object)
                R[:, :d] = Wm * (1 << (eW - e))
                R[:, d] = bm * (1 << (eb - e))
            else:
                e = min(eW + e_prev, eb)
                R = Wm.dot(prev) * (1 << (eW + e_prev - e))
                R[:, d] = R[:, d] + bm * (1 << (eb - e))
            lo, hi = self.offsets[l], self.offsets[l + 1]
            if signs is not None:
                active = signs[lo:hi] > 0
            else:
                assert x is not None
                vals = R[:, :d].dot(np.array(x.num, dtype=object)) + R[:, d] * x.den
                s = np.array([(v > 0) - (v < 0) for v in vals.tolist()], dtype=np.int8)
                at_x[lo:hi] = s
                active = s > 0
            blocks.append(R)
            prev = R * active[:, None].astype(object)
            e_prev = e
        return np.concatenate(blocks, axis=0), at_x

    def rows(self, signs: NDArray[np.int8]) -> NDArray[Any]:
        """Exact integer rows ``(a_k, beta_k)`` of every hidden unit under the pattern ``signs``.

        Row ``k`` is a positive multiple of ``(alpha_k, beta_k)``, the unit's
        pre-activation as an affine form; shape ``(N, n_in + 1)``, dtype object.
        """
        return self._compose(signs, None)[0]

    def forward_signs(self, x: RationalVector) -> tuple[NDArray[np.int8], NDArray[Any]]:
        """Exact signs ``-1/0/+1`` of every pre-activation at ``x``, and the rows of the pattern read there.

        A unit at exactly 0 is inactive (ReLU gives 0 either way) for the layers after it.
        """
        rows, s = self._compose(None, x)
        return s, rows


def row_error_bounds(net: ReLUNetwork, signs: NDArray[np.int8]) -> tuple[NDArray[np.float64], float]:
    """Magnitudes ``M`` (shape ``(N, n_in + 1)``) and ``gamma`` bounding the float composition's error.

    The float rows ``(A, c)`` of :meth:`ReLUNetwork.local_affine_map` and the
    exact rows satisfy ``|A - A_exact| <= gamma M[:, :d]``, ``|c - c_exact| <= gamma M[:, d]``
    elementwise, and a float evaluation ``A x + c`` is within ``2 gamma M . (|x|, 1)``
    of the exact value.  ``M`` is the composition of the absolute values
    (``|W^{l+1}| diag(m^l) M^l``, plus ``|b|``), the standard bound for a chain of
    float products (Higham, *Accuracy and Stability*, §3.5); ``gamma`` is
    ``n u / (1 - n u)`` for the total length ``n`` of the chain, doubled to cover
    the rounding of ``M`` itself.
    """
    offs = net.layer_offsets
    blocks = []
    Mx = np.abs(net.weights[0])
    Mc = np.abs(net.biases[0])
    n = net.n_in + 1
    for l in range(net.n_hidden_layers):
        blocks.append(np.concatenate((Mx, Mc[:, None]), axis=1))
        act = signs[offs[l] : offs[l + 1]] > 0
        if l + 1 < net.n_hidden_layers:
            aW = np.abs(net.weights[l + 1])
            Mx = aW @ (Mx * act[:, None])
            Mc = aW @ (Mc * act) + np.abs(net.biases[l + 1])
            n += int(act.shape[0]) + 1
    nu = (n + net.n_in + 1) * UNIT_ROUNDOFF
    return np.concatenate(blocks, axis=0), 2.0 * nu / (1.0 - nu)


def rows_to_float(R: NDArray[Any]) -> NDArray[np.float64]:
    """Integer rows rounded to float64, each scaled by a power of two so its gradient part is O(1)."""
    d = R.shape[1] - 1
    out = np.empty(R.shape, dtype=np.float64)
    for i, row in enumerate(R.tolist()):
        e = max((abs(v).bit_length() for v in row[:d]), default=0)
        if e == 0:
            e = max(abs(row[d]).bit_length(), 1)
        den = 1 << e
        out[i] = [float(Fraction(v, den)) for v in row]
    return out


def same_hyperplane(r: NDArray[Any], s: NDArray[Any]) -> int:
    """Exactly: ``+1`` if integer rows ``r = lam s`` with ``lam > 0``, ``-1`` if ``lam < 0``, else 0."""
    rl, sl = [int(v) for v in r.tolist()], [int(v) for v in s.tolist()]
    k = next((i for i, v in enumerate(rl[:-1]) if v != 0), -1)  # a zero gradient is no hyperplane
    if k < 0 or sl[k] == 0:
        return 0
    if any(a * sl[k] != b * rl[k] for a, b in zip(rl, sl, strict=True)):
        return 0
    return 1 if (rl[k] > 0) == (sl[k] > 0) else -1


@dataclass(frozen=True)
class StrictDecision:
    """An exactly checked answer to "is ``{x : P_i . (x, 1) > 0 for all i}`` nonempty?".

    Attributes
    ----------
    nonempty : bool
    point : RationalVector or None
        An interior point (every row strictly positive there, checked in integers).
    farkas : tuple of int or None
        ``y >= 0``, ``y != 0`` with ``sum_i y_i P_i = (0, ..., 0, c)``, ``c <= 0`` (checked in integers).
    method : str
        ``"hint"`` (the float witness passed the exact check) or ``"exact simplex"``.
    """

    nonempty: bool
    point: RationalVector | None
    farkas: tuple[int, ...] | None
    method: str


def strictly_inside(P: NDArray[Any], x: RationalVector) -> bool:
    """Exactly: ``P_i . (x, 1) > 0`` for every row."""
    if P.shape[0] == 0:
        return True
    d = P.shape[1] - 1
    vals = P[:, :d].dot(np.array(x.num, dtype=object)) + P[:, d] * x.den
    return all(v > 0 for v in vals.tolist())


def integer_region_rows(P: NDArray[Any]) -> IntegerRows:
    """The region ``{x : P_i . (x, 1) > 0}`` as :class:`~lpengine.lp.exact.IntegerRows` ``g_i . x < h_i``."""
    d = P.shape[1] - 1
    rows = P.tolist()
    G = tuple(tuple(-int(v) for v in row[:d]) for row in rows)
    h = tuple(int(row[d]) for row in rows)
    return IntegerRows(G, h, (1,) * len(rows), d)


def decide_strict(
    P: NDArray[Any], hint: NDArray[np.float64] | None = None, *, backend: Any | None = None
) -> StrictDecision:
    """Decide exactly whether ``{x : P_i . (x, 1) > 0 for all i}`` (integer rows) is nonempty.

    The decision is :func:`lpengine.lp.exact.decide_interior` on the same rows
    (``g_i = -P_i[:d]``, ``h_i = P_i[d]``): the ``hint`` checked exactly, then (with a
    ``backend``) a float basis verified in rationals, then the exact simplex;
    its certificate is checked exactly there.  The Farkas vector comes back as
    integers (a positive multiple of the rational one).
    """
    if hint is not None and not np.all(np.isfinite(hint)):
        hint = None
    cert = decide_interior(integer_region_rows(P), hint=hint, backend=backend)
    farkas = None if cert.farkas is None else tuple(cert.farkas.num)
    return StrictDecision(cert.nonempty, cert.point, farkas, cert.method)


def decide_region(
    P: NDArray[Any],
    G: NDArray[np.float64],
    h: NDArray[np.float64],
    hint: NDArray[np.float64] | None,
    tol: Tolerances,
    backend: Any,
) -> StrictDecision:
    """Exact decision of ``{P . (x, 1) > 0}`` with float help: hint, float LP point, Farkas support.

    The float LP ``max r s.t. G x + r <= h, r <= 1`` (``r`` free) on the normalised
    float rows gives a point (checked exactly when ``r > 0``) or, at its optimum,
    the rows that bind; the exact simplex on those few rows alone proves the
    region empty when they already are (a subsystem without a solution has
    none with more rows; its Farkas vector, padded with zeros, is checked on the
    whole system).  Only when both fail does the exact simplex see every row.
    """
    m, d = G.shape
    if hint is not None and np.all(np.isfinite(hint)) and strictly_inside(P, RationalVector.from_floats(hint)):
        return StrictDecision(True, RationalVector.from_floats(hint), None, "hint")
    if m > d + 2:
        lp = LinearProgram(
            c=np.concatenate([np.zeros(d), [-1.0]]),
            A=np.hstack([G, np.ones((m, 1))]),
            row_upper=h,
            col_lower=np.full(d + 1, -np.inf),
            col_upper=np.concatenate([np.full(d, np.inf), [1.0]]),
        )
        with statuses_handled(), open_solver(lp, tol=tol, backend=backend) as s:
            res = s.solve()
        if res.status is LPStatus.OPTIMAL and res.x is not None:
            x, r = res.x[:d], float(res.x[d])
            if r > 0 and strictly_inside(P, RationalVector.from_floats(x)):
                return StrictDecision(True, RationalVector.from_floats(x), None, "float lp point")
            slack = h - G @ x
            support = np.argsort(slack, kind="stable")[: 2 * (d + 1)]
            sub = decide_strict(P[support], backend=backend)
            if not sub.nonempty:
                assert sub.farkas is not None
                y = [0] * m
                for i, v in zip(support.tolist(), sub.farkas, strict=True):
                    y[i] = v
                full = _padded_farkas(P, y)
                if full is not None:
                    return full
    return decide_strict(P, backend=backend)


def _padded_farkas(P: NDArray[Any], y: list[int]) -> StrictDecision | None:
    d = P.shape[1] - 1
    comb = np.array(y, dtype=object).dot(P)
    if all(v >= 0 for v in y) and any(y) and all(v == 0 for v in comb[:d].tolist()) and comb[d] <= 0:
        return StrictDecision(False, None, tuple(y), "farkas support")
    return None


@dataclass(frozen=True)
class ExactFacet:
    """A facet of a region, decided exactly.

    Attributes
    ----------
    rows : tuple of int
        The rows (indices into the region's rows) whose hyperplane, with the same
        orientation, carries the facet (one row unless rows coincide exactly).
    point : RationalVector
        A point in the facet's relative interior: on the hyperplane, strictly
        inside every other row (checked exactly).
    """

    rows: tuple[int, ...]
    point: RationalVector


def exact_facet(P: NDArray[Any], k: int, backend: Any = "highs") -> ExactFacet | None:
    """Exactly: is row ``k`` a facet of ``{x : P_i . (x, 1) > 0}``, i.e. does the region's closure meet
    the hyperplane ``P_k . (x, 1) = 0`` in a ``(d-1)``-dimensional piece?

    It is iff some point of the hyperplane is strictly inside every row not
    coincident with it.  One variable ``x_p`` (``P_k[p] != 0``) is eliminated with the
    hyperplane's equation, each other row multiplied by ``|P_k[p]|`` to stay an
    integer row, and the strict system in ``d - 1`` variables is decided by
    :func:`~.exact.decide_strict` (a checked certificate).  A row that vanishes
    on the hyperplane is the same hyperplane: with the same orientation it joins
    the facet's rows, with the opposite one the region is empty there.
    """
    m, d1 = P.shape
    d = d1 - 1
    rk = [int(v) for v in P[k].tolist()]
    p = next((j for j in range(d) if rk[j] != 0), -1)
    if p < 0:
        return None  # a constant row has no hyperplane
    sg = 1 if rk[p] > 0 else -1
    group = [k]
    Q: list[list[int]] = []
    for i in range(m):
        if i == k:
            continue
        ri = [int(v) for v in P[i].tolist()]
        q = [sg * (ri[j] * rk[p] - ri[p] * rk[j]) for j in range(d1) if j != p]
        if not any(q):
            if same_hyperplane(P[i], P[k]) > 0:
                group.append(i)
                continue
            return None  # the opposite halfspace on the same hyperplane: no facet here
        Q.append(q)
    if d == 1:
        if any(q[0] <= 0 for q in Q):
            return None
        y: list[Fraction] = []
    else:
        dec = decide_strict(np.array(Q, dtype=object).reshape(len(Q), d), backend=backend)
        if not dec.nonempty:
            return None
        assert dec.point is not None
        y = [Fraction(v, dec.point.den) for v in dec.point.num]
    x = y[:p] + [Fraction(0)] + y[p:]
    x[p] = -(sum((Fraction(rk[j]) * x[j] for j in range(d) if j != p), Fraction(0)) + rk[d]) / rk[p]
    return ExactFacet(tuple(sorted(group)), RationalVector.from_fractions(x))

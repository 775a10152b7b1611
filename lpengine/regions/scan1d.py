"""Exact breakpoint scan of a ReLU network along a line (a 1-D correctness oracle).

Restricted to the line ``x(t) = x0 + t * direction``, every hidden
pre-activation is a continuous piecewise-affine function of the scalar ``t``.
The activation regions met by the segment ``t in [t_lo, t_hi]`` are the
maximal open intervals on which the activation pattern is constant; since
activation regions are convex, each is met in at most one interval.  For
``n_in = 1`` and ``direction = 1`` this counts the activation regions of the
network on an interval exactly, for any depth (Serra, Tjandraatmadja &
Ramalingam 2018 note that their bounds are tight for one-dimensional inputs).

This module shares nothing with :mod:`lpengine.regions`' enumerator and uses
no LP: only the weights of :class:`~lpengine.network.ReLUNetwork`.  With
``exact=True`` every number is a :class:`fractions.Fraction` (floats convert
to fractions exactly), so coincident roots, duplicate units and units that
vanish identically on a piece are decided without any tolerance.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .._validation import check_array
from ..exceptions import InvalidDomainError
from ..network import ReLUNetwork
from ..tolerances import Tolerances, resolve_tolerances

__all__ = ["LineScanResult", "scan_line", "count_regions_1d", "LinePiece", "walk_line_regions"]

logger = logging.getLogger(__name__)

Number = Any  # Fraction (exact mode) or float


@dataclass(frozen=True)
class LineScanResult:
    """Activation regions met by a segment of a line, in order along the line.

    Attributes
    ----------
    count : int
        Number of activation regions the segment meets in a piece of positive
        length.
    breakpoints : tuple
        The parameters ``t`` strictly inside ``(t_lo, t_hi)`` where the
        pattern changes, increasing; ``len(breakpoints) == count - 1``.
        ``Fraction`` values when ``exact`` is True, floats otherwise.
    patterns : tuple of tuple of int
        ``patterns[i]`` is the pattern (``+1`` active, ``-1`` inactive; units
        layer by layer) on the ``i``-th piece, between ``breakpoints[i-1]``
        (or ``t_lo``) and ``breakpoints[i]`` (or ``t_hi``).  Consecutive
        patterns differ.
    t_lo, t_hi : float
        The segment (either may be infinite).
    exact : bool
        Whether rational arithmetic was used.
    """

    count: int
    breakpoints: tuple[Any, ...]
    patterns: tuple[tuple[int, ...], ...]
    t_lo: float
    t_hi: float
    exact: bool

    def pattern_at(self, t: float) -> tuple[int, ...]:
        """The pattern of the piece containing ``t`` (the right piece at a breakpoint)."""
        i = sum(1 for b in self.breakpoints if b <= t)
        return self.patterns[i]


class _Net:
    """The network's hidden layers as nested lists of numbers of one kind."""

    def __init__(self, net: ReLUNetwork, conv: Callable[[float], Number]):
        L = net.n_hidden_layers
        self.W = [[[conv(float(v)) for v in row] for row in net.weights[l]] for l in range(L)]
        self.b = [[conv(float(v)) for v in net.biases[l]] for l in range(L)]

    def layer_forms(
        self, p: list[Number], q: list[Number], t: Number, n_layers: int, zero_tol: Number
    ) -> list[tuple[list[Number], list[Number], list[int]]]:
        """Affine forms ``z = P + t Q`` of the first ``n_layers`` layers around parameter ``t``.

        The input is ``x(t) = p + t q``.  The ReLU of each layer is applied
        with the signs of its pre-activation *at* ``t`` (``+1`` iff ``z(t) >
        zero_tol``), so the forms are valid on any interval around ``t`` on
        which no earlier-layer unit changes sign.
        """
        out = []
        P, Q = p, q
        for l in range(n_layers):
            W, b = self.W[l], self.b[l]
            zP = [sum((w * v for w, v in zip(row, P, strict=True)), start=bb) for row, bb in zip(W, b, strict=True)]
            zQ = [sum((w * v for w, v in zip(row, Q, strict=True)), start=0 * bb) for row, bb in zip(W, b, strict=True)]
            s = [1 if a + t * c > zero_tol else -1 for a, c in zip(zP, zQ, strict=True)]
            out.append((zP, zQ, s))
            P = [a if si > 0 else 0 * a for a, si in zip(zP, s, strict=True)]
            Q = [c if si > 0 else 0 * c for c, si in zip(zQ, s, strict=True)]
        return out


def _interior_point(a: Number, b: Number, one: Number) -> Number:
    """A point strictly inside ``(a, b)``; either end may be infinite (``None``)."""
    if a is None and b is None:
        return 0 * one
    if a is None:
        return b - one
    if b is None:
        return a + one
    return (a + b) / 2


def scan_line(
    net: ReLUNetwork,
    x0: Any,
    direction: Any,
    t_lo: float,
    t_hi: float,
    *,
    exact: bool = True,
    tol: Tolerances | None = None,
) -> LineScanResult:
    """Activation regions met by the segment ``x0 + t * direction``, ``t_lo <= t <= t_hi``.

    Parameters
    ----------
    net : ReLUNetwork
        The network (hidden units only define regions).
    x0 : array_like, shape (n_in,)
        A point on the line.
    direction : array_like, shape (n_in,)
        The line's direction (non-zero; not normalised: ``t`` is in its units).
    t_lo, t_hi : float
        The segment, ``t_lo < t_hi``; ``-inf`` / ``inf`` scan the whole ray or line.
    exact : bool, default True
        Rational arithmetic (``fractions.Fraction``; exact, slow) or float64.
    tol : Tolerances, optional
        Float mode only: a pre-activation ``<= tol.activation`` counts as
        inactive, roots closer than ``tol.activation`` are merged, and pieces
        of length ``<= 2 tol.margin`` (in ``t``) are dropped, matching the
        Chebyshev-radius threshold of the LP-based counters.

    Returns
    -------
    LineScanResult

    Raises
    ------
    InvalidDomainError
        If ``t_lo >= t_hi``, a bound is NaN, ``direction`` is zero, or a
        shape is wrong.

    Notes
    -----
    Breakpoints are found layer by layer.  Layer 1 is affine in ``t``, so its
    roots are the layer-1 breakpoints.  On each open interval between the
    breakpoints of layers ``< l`` those layers keep their signs, hence layer
    ``l`` is affine there (forms obtained by propagating ``x(t) = p + t q``
    with the signs read at an interior point); its roots inside the interval
    are added.  Finally the pattern of each piece is read by exact forward
    evaluation at an interior point: a unit that is zero there is zero on the
    whole piece (it is affine on the piece and has no root inside), and counts
    as inactive (``-1``), the same policy as for dead units elsewhere in
    lpengine.  Adjacent pieces with equal patterns are merged (this happens
    only when a unit touches zero without changing sign).  Cost
    ``O(B * sum_l n_l n_{l-1})`` per layer for ``B`` breakpoints.

    Examples
    --------
    >>> import numpy as np
    >>> net = ReLUNetwork((np.array([[1.0], [1.0], [2.0]]),), (np.array([0.0, -0.5, 0.0]),),
    ...                   has_output_layer=False)
    >>> res = scan_line(net, [0.0], [1.0], -1.0, 1.0)
    >>> res.count, [str(b) for b in res.breakpoints]
    (3, ['0', '1/2'])
    """
    if not isinstance(net, ReLUNetwork):
        raise TypeError(f"net must be a ReLUNetwork; got {type(net).__name__}.")
    t = resolve_tolerances(tol)
    n = net.n_in
    x0a = check_array(np.atleast_1d(np.asarray(x0, dtype=np.float64)), "x0", shape=(n,), error=InvalidDomainError)
    da = check_array(
        np.atleast_1d(np.asarray(direction, dtype=np.float64)), "direction", shape=(n,), error=InvalidDomainError
    )
    if not np.any(da != 0.0):
        raise InvalidDomainError("direction is the zero vector; expected a non-zero direction of the line.")
    t_lo, t_hi = float(t_lo), float(t_hi)
    if math.isnan(t_lo) or math.isnan(t_hi) or not t_lo < t_hi:
        raise InvalidDomainError(f"the segment needs t_lo < t_hi (infinite ends allowed); got [{t_lo}, {t_hi}].")
    if exact:
        conv: Callable[[float], Number] = Fraction
        zero_tol: Number = Fraction(0)
        merge_tol: Number = Fraction(0)
        min_len: Number = Fraction(0)
    else:
        conv = float
        zero_tol = t.activation
        merge_tol = t.activation
        min_len = 2 * t.margin
    one = conv(1.0)
    lo = None if t_lo == -math.inf else conv(t_lo)
    hi = None if t_hi == math.inf else conv(t_hi)
    model = _Net(net, conv)
    p = [conv(float(v)) for v in x0a]
    q = [conv(float(v)) for v in da]
    L = net.n_hidden_layers

    def inside(s: Number) -> bool:
        return (lo is None or s > lo) and (hi is None or s < hi)

    breaks: list[Number] = []
    for l in range(L):
        ends = [lo, *breaks, hi]
        new: list[Number] = []
        for a, b in zip(ends[:-1], ends[1:], strict=True):
            m = _interior_point(a, b, one)
            zP, zQ, _ = model.layer_forms(p, q, m, l + 1, zero_tol)[l]
            for c0, c1 in zip(zP, zQ, strict=True):
                if abs(c1) > zero_tol:
                    root = -c0 / c1
                    if (a is None or root > a) and (b is None or root < b) and inside(root):
                        new.append(root)
        breaks = sorted(set(breaks) | set(new))
        if merge_tol:
            merged: list[Number] = []
            for s in breaks:
                if not merged or s - merged[-1] > merge_tol:
                    merged.append(s)
            breaks = merged
    # Pattern of every piece, read at an interior point; drop pieces too short to count.
    ends = [lo, *breaks, hi]
    pieces: list[tuple[Number, Number, tuple[int, ...]]] = []
    for a, b in zip(ends[:-1], ends[1:], strict=True):
        if a is not None and b is not None and b - a <= min_len:
            continue
        m = _interior_point(a, b, one)
        forms = model.layer_forms(p, q, m, L, zero_tol)
        pattern = tuple(s for _, _, sl in forms for s in sl)
        if pieces and pieces[-1][2] == pattern:
            pieces[-1] = (pieces[-1][0], b, pattern)
        else:
            pieces.append((a, b, pattern))
    patterns = tuple(pc[2] for pc in pieces)
    if len(set(patterns)) != len(patterns):  # pragma: no cover - would contradict convexity of regions
        raise ArithmeticError(
            "scan_line met one activation pattern in two separate pieces; activation regions are convex, "
            "so float rounding broke the scan (use exact=True)."
        )
    bps = tuple(pc[1] for pc in pieces[:-1])
    logger.debug("scan_line: %d pieces, breakpoints %s", len(pieces), bps)
    return LineScanResult(
        count=len(pieces), breakpoints=bps, patterns=patterns, t_lo=t_lo, t_hi=t_hi, exact=bool(exact)
    )


def count_regions_1d(net: ReLUNetwork, lo: float, hi: float, *, exact: bool = True) -> int:
    """Exact number of activation regions of a network with one input on ``[lo, hi]``.

    ``lo = -inf`` and ``hi = inf`` are allowed (the whole line).  Same as
    ``scan_line(net, [0], [1], lo, hi, exact=exact).count``.

    Raises
    ------
    InvalidDomainError
        If ``net.n_in != 1`` or ``lo >= hi``.

    Examples
    --------
    >>> import numpy as np
    >>> net = ReLUNetwork((np.array([[1.0], [-1.0]]), np.array([[1.0, 1.0]])),
    ...                   (np.array([0.0, 0.0]), np.array([-1.0])), has_output_layer=False)
    >>> count_regions_1d(net, -2.0, 2.0)   # |t| - 1 adds breakpoints at -1 and 1
    4
    """
    if not isinstance(net, ReLUNetwork):
        raise TypeError(f"net must be a ReLUNetwork; got {type(net).__name__}.")
    if net.n_in != 1:
        raise InvalidDomainError(
            f"count_regions_1d needs a network with one input; this one has n_in = {net.n_in} "
            "(use scan_line to count the regions met by a line)."
        )
    return scan_line(net, [0.0], [1.0], lo, hi, exact=exact).count


@dataclass(frozen=True)
class LinePiece:
    """One activation region of a one-input network, as an exact open interval.

    ``lo`` / ``hi`` are the ends (``None`` = infinite; ``Fraction`` otherwise);
    ``left`` / ``right`` are the patterns of the neighbouring regions (``None``
    where the end is a domain end or infinite); ``signs`` is the region's pattern.
    """

    signs: np.ndarray
    lo: Fraction | None
    hi: Fraction | None
    left: np.ndarray | None
    right: np.ndarray | None


class _ExactWalk:
    """Exact region-to-region walk along the input line of a network with ``n_in = 1``.

    Every pre-activation under a fixed pattern is ``2^e (a x + beta)`` with integers
    ``a, beta`` (:class:`~lpengine.regions.exact.ExactNet`), so a region's interval
    ends are exact rationals ``-beta / a`` and the pattern just past an end is
    read by one-sided limits in integers.  No tolerance anywhere.
    """

    def __init__(self, net: ReLUNetwork, lo: Fraction | None, hi: Fraction | None) -> None:
        from .exact import ExactNet  # the exact layer sits above this oracle module

        self.exnet = ExactNet(net)
        self.lo, self.hi = lo, hi

    def limit_signs(self, u: Fraction, direction: int) -> np.ndarray:
        """The pattern of ``u + direction * delta`` as ``delta -> 0+`` (a unit at 0 with slope 0 is inactive)."""
        p, q = u.numerator, u.denominator
        V: Any = np.array([p], dtype=object)  # value * q / 2^eV
        S: Any = np.array([direction], dtype=object)  # slope / 2^eS
        eV = eS = 0
        out = []
        for Wm, eW, bm, eb in self.exnet.layers:
            e = min(eW + eV, eb)
            Vz = Wm.dot(V) * (1 << (eW + eV - e)) + bm * (q << (eb - e))
            Sz = Wm.dot(S)
            s = np.array(
                [1 if v > 0 or (v == 0 and sl > 0) else -1 for v, sl in zip(Vz.tolist(), Sz.tolist(), strict=True)],
                dtype=np.int8,
            )
            out.append(s)
            act = (s > 0).astype(object)
            V, S, eV, eS = Vz * act, Sz * act, e, eW + eS
        return np.concatenate(out)

    def signs_at(self, x: Fraction) -> np.ndarray:
        """The exact pattern at ``x`` (which must lie on no hyperplane; 0 counts inactive)."""
        return self.limit_signs(x, 0)

    def piece(self, signs: np.ndarray) -> LinePiece:
        """The interval of ``signs`` (clipped to the domain) and the patterns across its ends."""
        R = self.exnet.rows(signs)
        lo, hi = self.lo, self.hi
        for (a, beta), s in zip(R.tolist(), signs.tolist(), strict=True):
            if a == 0:
                continue  # a dead unit: constant on the line (its sign is consistent by construction)
            root = Fraction(-beta, a)
            if s * a > 0:  # s (a x + beta) > 0  <=>  x > root
                if lo is None or root > lo:
                    lo = root
            elif hi is None or root < hi:
                hi = root
        if lo is not None and hi is not None and not lo < hi:
            raise ArithmeticError(f"the exact walk reached an empty interval [{lo}, {hi}]; please report this.")
        right = None if hi is None or (self.hi is not None and hi >= self.hi) else self.limit_signs(hi, 1)
        left = None if lo is None or (self.lo is not None and lo <= self.lo) else self.limit_signs(lo, -1)
        return LinePiece(signs, lo, hi, left, right)


def walk_line_regions(net: ReLUNetwork, lo: float, hi: float, start: float) -> Iterator[LinePiece]:
    """Every activation region of a one-input network on ``(lo, hi)``, exactly, as intervals.

    Walks from the region containing ``start`` (a point on no hyperplane)
    to the right end, then from it to the left end; each step crosses one
    breakpoint exactly (the next region's end is checked to equal this one's).
    The intervals tile the domain up to their ends, so the count is exact and
    complete.  Cost: one integer composition of the network per region plus two
    one-sided limits.

    Parameters
    ----------
    net : ReLUNetwork
        A network with ``n_in == 1``.
    lo, hi : float
        The domain; ``-inf`` / ``inf`` allowed.
    start : float
        A point of ``(lo, hi)`` on no hyperplane.

    Yields
    ------
    LinePiece
        The start region first, then the regions to its right in order, then
        those to its left in order.
    """
    if net.n_in != 1:
        raise InvalidDomainError(f"walk_line_regions needs n_in = 1; got {net.n_in}.")
    flo = None if lo == -math.inf else Fraction(lo)
    fhi = None if hi == math.inf else Fraction(hi)
    walk = _ExactWalk(net, flo, fhi)
    first = walk.piece(walk.signs_at(Fraction(start)))
    yield first
    for step in (1, -1):
        cur = first
        while True:
            nxt_signs = cur.right if step > 0 else cur.left
            if nxt_signs is None:
                break
            nxt = walk.piece(nxt_signs)
            if (nxt.lo if step > 0 else nxt.hi) != (cur.hi if step > 0 else cur.lo):
                raise ArithmeticError("the exact walk skipped part of the line; please report this.")
            yield nxt
            cur = nxt

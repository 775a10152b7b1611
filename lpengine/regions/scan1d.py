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
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .._validation import check_array
from ..exceptions import InvalidDomainError
from ..network import ReLUNetwork
from ..tolerances import Tolerances, resolve_tolerances

__all__ = ["LineScanResult", "scan_line", "count_regions_1d"]

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

"""Exact-rational brute force over activation patterns: the certified oracle.

The weights and biases are read as the exact rationals their float64 values
store.  Pattern ``S`` is counted iff

    P_S = {x in int(Dom) : s_k z_k(x) > 0 for every hidden unit k with z_k not identically 0}

is nonempty, where ``z_k`` is unit ``k``'s pre-activation under the signs of
the earlier layers (an open set: nonempty iff it has interior).  A unit whose
``z_k`` is identically zero on the prefix's region (its masked weights and bias
are exactly 0) outputs 0 whatever its sign; it is recorded inactive (``-1``)
and constrains nothing, as in the floating-point oracle.

Everything is exact.  The masked affine maps ``z_k = a_k . x + c_k`` are
composed in integers (dyadic rationals: no rounding, no division), and every
prefix of the depth-first walk over units is decided by
:func:`lpengine.lp.exact.decide_interior`, whose certificate (an interior point,
or a Farkas vector for an empty prefix) is checked in exact arithmetic.  An
empty prefix prunes its whole subtree: every extension adds rows, so its region
is empty too.  Of the two children of a nonempty prefix, the one containing
the prefix's certified point (when the new unit is nonzero there) needs no LP.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..lp.exact import IntegerRows, RationalVector, decide_interior, integer_rows, to_dyadic
from ..network import ReLUNetwork

__all__ = ["ExactSearch", "exact_pattern_search"]

logger = logging.getLogger(__name__)


@dataclass
class ExactSearch:
    """Raw output of :func:`exact_pattern_search` (brute.py wraps it into a result).

    Attributes
    ----------
    regions : list of (pattern, point)
        Each counted pattern (tuple of +-1) and an exact interior point of its region.
    empty_prefixes : int
        Prefixes proved empty by a checked Farkas vector.
    lp_decisions : int
        Calls of ``decide_interior`` that needed an LP (the rest were settled
        by the parent's point).
    by_method : dict of str to int
        How those decisions were made (``"basis"``, ``"exact simplex"``, ``"hint"``).
    """

    regions: list[tuple[tuple[int, ...], RationalVector]]
    empty_prefixes: int
    lp_decisions: int
    by_method: dict[str, int]


class _LayerMap:
    """Pre-activations of one layer as integers: ``z = (M[:, :d] x + M[:, d]) * 2**exp``."""

    def __init__(self, M: NDArray[Any], exp: int):
        self.M = M
        self.exp = exp


def _first_layer(net: ReLUNetwork) -> _LayerMap:
    d = to_dyadic(np.hstack([net.weights[0], net.biases[0][:, None]]), name="layer 0")
    return _LayerMap(np.array(d.mantissas, dtype=object), d.exponent)


def _next_layer(net: ReLUNetwork, l: int, prev: _LayerMap, mask: NDArray[np.bool_]) -> _LayerMap:
    """Layer ``l``'s map from layer ``l - 1``'s and its active mask, exactly."""
    W = to_dyadic(net.weights[l], name=f"weights[{l}]")
    b = to_dyadic(net.biases[l], name=f"biases[{l}]")
    masked = np.where(mask[:, None], prev.M, 0).astype(object)
    prod = np.array(W.mantissas, dtype=object).dot(masked)  # exponent W.exponent + prev.exp
    e_prod = W.exponent + prev.exp
    e = min(e_prod, b.exponent)
    out = prod * (1 << (e_prod - e))
    out[:, -1] = out[:, -1] + np.array(b.mantissas, dtype=object) * (1 << (b.exponent - e))
    return _LayerMap(out.astype(object), e)


def _append(rows: IntegerRows, g: list[int], h: int) -> IntegerRows:
    return IntegerRows(rows.G + (tuple(g),), rows.h + (h,), rows.scale + (1,), rows.d)


def exact_pattern_search(
    net: ReLUNetwork, domain_G: NDArray[np.float64], domain_h: NDArray[np.float64], *, backend: Any = "highs"
) -> ExactSearch | None:
    """Every pattern whose region (in the open domain ``domain_G x < domain_h``) is nonempty, exactly.

    Returns ``None`` if the domain itself has empty interior.
    """
    d = net.n_in
    N = net.n_hidden
    offsets = net.layer_offsets
    dom = integer_rows(domain_G.reshape(-1, d), domain_h)
    out = ExactSearch([], 0, 0, {})
    cert = decide_interior(dom, backend=backend)
    out.lp_decisions += 1
    out.by_method[cert.method] = out.by_method.get(cert.method, 0) + 1
    if not cert.nonempty:
        return None
    assert cert.point is not None
    signs = [0] * N
    maps: list[_LayerMap | None] = [None] * net.n_hidden_layers

    def visit(k: int, rows: IntegerRows, point: RationalVector) -> None:
        if k == N:
            out.regions.append((tuple(signs), point))
            return
        l = net.unit_layer(k)
        if k == offsets[l]:
            if l == 0:
                maps[0] = _first_layer(net)
            else:
                mask = np.array([s > 0 for s in signs[offsets[l - 1] : offsets[l]]], dtype=bool)
                maps[l] = _next_layer(net, l, maps[l - 1], mask)  # type: ignore[arg-type]  # maps[l-1] was filled when layer l-1 began
        lm = maps[l]
        assert lm is not None
        row = [int(v) for v in lm.M[k - offsets[l]].tolist()]
        a, c = row[:d], row[d]
        if not any(a):
            # z_k is the constant c (times a positive power of two) on this prefix's region.
            signs[k] = 1 if c > 0 else -1
            visit(k + 1, rows, point)
            signs[k] = 0
            return
        at_point = sum(ai * pi for ai, pi in zip(a, point.num, strict=True)) + c * point.den
        for s in (1, -1):
            signs[k] = s
            # s (a . x + c) > 0  <=>  (-s a) . x < s c
            child = _append(rows, [-s * ai for ai in a], s * c)
            if at_point * s > 0:
                visit(k + 1, child, point)  # the parent's point is strictly inside this child
                continue
            ch = decide_interior(child, backend=backend)
            out.lp_decisions += 1
            out.by_method[ch.method] = out.by_method.get(ch.method, 0) + 1
            if ch.nonempty:
                assert ch.point is not None
                visit(k + 1, child, ch.point)
            else:
                out.empty_prefixes += 1
        signs[k] = 0

    visit(0, dom, cert.point)
    logger.info(
        "exact brute force: %d regions, %d empty prefixes, %d LP decisions %s",
        len(out.regions),
        out.empty_prefixes,
        out.lp_decisions,
        out.by_method,
    )
    return out

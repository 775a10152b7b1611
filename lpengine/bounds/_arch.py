"""Validation of architectures ``(n0, widths)`` and exact binomial sums.

Every bound in :mod:`lpengine.bounds` is a function of the input dimension
``n0`` and the hidden widths ``(n_1, ..., n_L)`` only.  They are validated
here once, with one message format, and the binomial sums
``Z(m, <=d) = sum_{j=0}^{d} C(m, j)`` (Zaslavsky's count) are cached rows of
Python ints: the values pass 2**64 quickly and are never floats.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from functools import lru_cache
from math import comb
from typing import Any

from .._validation import check_int
from ..exceptions import InvalidNetworkError

__all__ = ["check_architecture", "check_ranks", "binomial_row", "zaslavsky_row", "zaslavsky_sum"]


def check_architecture(n0: Any, widths: Any, *, name: str = "widths") -> tuple[int, tuple[int, ...]]:
    """Return ``(n0, widths)`` as Python ints, or raise ``InvalidNetworkError``.

    ``InvalidNetworkError`` is a ``ValueError``.  ``n0`` must be an int >= 1;
    ``widths`` a non-empty sequence of ints >= 1 (bools, floats and strings
    are rejected, not rounded).
    """
    n0 = check_int(n0, "n0", low=1, error=InvalidNetworkError)
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) and not hasattr(widths, "__iter__"):
        raise InvalidNetworkError(
            f"The '{name}' parameter must be a sequence of ints >= 1 (hidden widths n_1..n_L). "
            f"Got {widths!r} of type {type(widths).__name__}."
        )
    out = []
    for i, w in enumerate(widths):
        if isinstance(w, bool) or not isinstance(w, numbers.Integral):
            raise InvalidNetworkError(
                f"{name}[{i}] must be an int >= 1 (a layer width). Got {w!r} of type {type(w).__name__}."
            )
        if int(w) < 1:
            raise InvalidNetworkError(f"{name}[{i}] must be an int >= 1 (a layer width). Got {int(w)}.")
        out.append(int(w))
    if not out:
        raise InvalidNetworkError(f"The '{name}' parameter is empty; expected at least one hidden layer.")
    return n0, tuple(out)


def check_ranks(ranks: Any, n0: int, widths: tuple[int, ...]) -> tuple[int, ...]:
    """Validate ``ranks[l] = rank W^l`` with ``0 <= ranks[l] <= min(n_l, n_{l-1})``."""
    if isinstance(ranks, (str, bytes)) or not hasattr(ranks, "__iter__"):
        raise InvalidNetworkError(f"The 'ranks' parameter must be a sequence of ints. Got {ranks!r}.")
    ranks = list(ranks)
    if len(ranks) != len(widths):
        raise InvalidNetworkError(f"ranks has {len(ranks)} entries; expected one per hidden layer ({len(widths)}).")
    dims = (n0, *widths)
    out = []
    for l, r in enumerate(ranks):
        top = min(dims[l], dims[l + 1])
        out.append(check_int(r, f"ranks[{l}]", low=0, high=top, error=InvalidNetworkError))
    return tuple(out)


@lru_cache(maxsize=1024)
def binomial_row(m: int) -> tuple[int, ...]:
    """``(C(m, 0), ..., C(m, m))`` as Python ints."""
    return tuple(comb(m, j) for j in range(m + 1))


@lru_cache(maxsize=1024)
def zaslavsky_row(m: int) -> tuple[int, ...]:
    """``(Z(m, <=0), ..., Z(m, <=m))``: prefix sums of :func:`binomial_row`."""
    out, acc = [], 0
    for c in binomial_row(m):
        acc += c
        out.append(acc)
    return tuple(out)


def zaslavsky_sum(m: int, d: int) -> int:
    """``Z(m, <=d) = sum_{j=0}^{d} C(m, j)`` (0 for ``d < 0``, ``2**m`` for ``d >= m``).

    The maximal number of regions of ``m`` hyperplanes in ``R^d`` (Zaslavsky 1975).

    >>> zaslavsky_sum(4, 2), zaslavsky_sum(3, 5), zaslavsky_sum(3, -1)
    (11, 8, 0)
    """
    if d < 0:
        return 0
    row = zaslavsky_row(m)
    return row[min(d, m)]

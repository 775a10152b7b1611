"""Histograms and the dominance order of the Hinz–van de Geer framework.

A histogram is a finite vector ``v = (v_0, v_1, ...)`` of non-negative ints;
``v ⪯ w`` iff every tail sum ``T_J(v) = sum_{j >= J} v_j`` is at most ``T_J(w)``.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["tail_sums", "dominates", "clip"]


def tail_sums(v: Sequence[int]) -> tuple[int, ...]:
    """``(T_0(v), T_1(v), ...)`` with ``T_J(v) = sum_{j >= J} v_j``.

    >>> tail_sums([0, 3, 4, 0])
    (7, 7, 4, 0)
    """
    out, acc = [], 0
    for x in reversed(v):
        acc += x
        out.append(acc)
    return tuple(reversed(out))


def dominates(w: Sequence[int], v: Sequence[int]) -> bool:
    """Whether ``v ⪯ w``: every tail sum of ``v`` is at most that of ``w`` (missing entries are 0).

    >>> dominates([0, 0, 11], [0, 2, 9]), dominates([0, 2, 9], [0, 0, 11])
    (True, False)
    """
    n = max(len(v), len(w))
    tv = tail_sums(list(v) + [0] * (n - len(v)))
    tw = tail_sums(list(w) + [0] * (n - len(w)))
    return all(a <= b for a, b in zip(tv, tw, strict=True))


def clip(v: Sequence[int], i: int) -> tuple[int, ...]:
    """``cl_i(v)``: entries below ``i`` kept, everything from ``i`` on added into ``i``, length ``i + 1``.

    >>> clip([0, 2, 4, 4, 1], 2)
    (0, 2, 9)
    """
    head = list(v[:i]) + [0] * max(0, i - len(v))
    return tuple(head) + (sum(v[i:]),)

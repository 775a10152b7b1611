"""Raghu, Poole, Kleinberg, Ganguli, Sohl-Dickstein (ICML 2017): growth order only.

The paper states an asymptotic order, ``O(k**(m*n))`` for ``n`` hidden layers
of width ``k`` on ``m`` inputs, not an explicit number.  This module returns
that order as a documented formula (:func:`growth_order_raghu2017`) and, kept
apart under a name that does not claim the paper, the natural explicit
product ``prod_l Z(n_l, <=n0)`` (:func:`upper_bound_raghu_style`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ._arch import check_architecture, zaslavsky_sum

__all__ = ["GrowthOrder", "growth_order_raghu2017", "upper_bound_raghu_style"]


@dataclass(frozen=True)
class GrowthOrder:
    """An asymptotic order ``O(base**exponent)`` stated without constants.

    Attributes
    ----------
    expression : str
        The order as printed, e.g. ``"O(4^(2*3)) = O(4^6)"``.
    base, exponent : int
        ``base = max(widths)``, ``exponent = n0 * L``.
    source : str
        Citation.
    note : str
        What the order does and does not say.
    """

    expression: str
    base: int
    exponent: int
    source: str
    note: str


def growth_order_raghu2017(n0: int, widths: list[int] | tuple[int, ...]) -> GrowthOrder:
    """Raghu et al.'s order ``O(k**(n0*L))`` with ``k = max(widths)``.

    The paper proves it for ``L`` layers of equal width ``k``; for unequal
    widths the maximal width is used (the order is monotone in every width).
    There is no explicit constant, so no number is returned.

    References
    ----------
    M. Raghu et al., *On the expressive power of deep neural networks*, ICML
    2017, Theorem 1 (ReLU case).

    Examples
    --------
    >>> growth_order_raghu2017(2, [4, 4, 4]).expression
    'O(4^(2*3)) = O(4^6)'
    """
    n0, widths = check_architecture(n0, widths)
    k, L = max(widths), len(widths)
    return GrowthOrder(
        expression=f"O({k}^({n0}*{L})) = O({k}^{n0 * L})",
        base=k,
        exponent=n0 * L,
        source="Raghu et al., ICML 2017",
        note="asymptotic order in the width for fixed n0 and L; no explicit constant is stated",
    )


def upper_bound_raghu_style(n0: int, widths: list[int] | tuple[int, ...]) -> int:
    """``prod_l Z(n_l, <=n0)``: an explicit form of Raghu et al.'s order (not stated in the paper).

    It is a valid upper bound (every region of the first ``l-1`` layers is
    cut by layer ``l`` into at most ``Z(n_l, <=n0)`` pieces) but never tighter
    than :func:`lpengine.bounds.upper_bound_montufar2017`, which replaces
    ``n0`` by ``min(n0, n_1, ..., n_{l-1})``.

    Examples
    --------
    >>> upper_bound_raghu_style(2, [4, 4]), upper_bound_raghu_style(2, [1, 4])
    (121, 22)
    """
    n0, widths = check_architecture(n0, widths)
    out = 1
    for n in widths:
        out *= zaslavsky_sum(n, n0)
    return out

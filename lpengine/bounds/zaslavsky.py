"""One hidden layer: hyperplane arrangements (Zaslavsky 1975; Buck 1943).

A hidden layer with ``n1`` units on ``R^{n0}`` is an arrangement of ``n1``
hyperplanes ``{x : w_i x + b_i = 0}``; its activation regions are the
arrangement's regions (units with zero weight row add no hyperplane).
"""

from __future__ import annotations

from math import comb

from .._validation import check_int
from ..exceptions import InvalidNetworkError
from ._arch import check_architecture, zaslavsky_sum

__all__ = ["upper_bound_zaslavsky", "bounded_regions_zaslavsky", "zaslavsky_sum"]


def upper_bound_zaslavsky(n0: int, n1: int, *, rank: int | None = None) -> int:
    """Maximal number of regions of one ReLU layer: ``Z(n1, <=min(n0, rank))``.

    Parameters
    ----------
    n0 : int
        Input dimension (>= 1).
    n1 : int
        Number of units (hyperplanes), >= 1.
    rank : int, optional
        ``rank W`` (``0 <= rank <= min(n0, n1)``) for the rank refinement.

    Returns
    -------
    int
        ``sum_{j=0}^{d} C(n1, j)`` with ``d = n0`` (or ``min(n0, rank)``).

    Raises
    ------
    InvalidNetworkError
        (a ``ValueError``) for non-integer or out-of-range arguments.

    Notes
    -----
    Without ``rank`` this is exact: ``n1`` hyperplanes in general position in
    ``R^{n0}`` attain it, and every arrangement has at most as many regions.
    With ``rank`` it is Serra et al.'s Lemma 2: the arrangement is the
    pull-back of an arrangement in the ``rank``-dimensional row space.

    References
    ----------
    T. Zaslavsky, *Facing up to arrangements*, Mem. AMS 154 (1975);
    Serra, Tjandraatmadja, Ramalingam, arXiv:1711.02114, Lemma 2.

    Examples
    --------
    >>> upper_bound_zaslavsky(2, 4), upper_bound_zaslavsky(2, 4, rank=1)
    (11, 5)
    """
    n0, (n1,) = check_architecture(n0, [n1], name="n1")
    d = n0
    if rank is not None:
        d = min(d, check_int(rank, "rank", low=0, high=min(n0, n1), error=InvalidNetworkError))
    return zaslavsky_sum(n1, d)


def bounded_regions_zaslavsky(n0: int, n1: int) -> int:
    """Number of bounded regions of ``n1`` hyperplanes in general position in ``R^{n0}``: ``C(n1 - 1, n0)``.

    >>> bounded_regions_zaslavsky(2, 4)
    3
    """
    n0, (n1,) = check_architecture(n0, [n1], name="n1")
    return comb(n1 - 1, n0)

"""Serra, Tjandraatmadja, Ramalingam (ICML 2018), *Bounding and counting linear regions of deep neural networks*.

Theorem and lemma numbers follow the OpenReview (ICLR 2018 submission)
version of arXiv:1711.02114, as in the project's reference notes; they may
differ in the ICML version.

Upper bound (Theorem 1)::

    UB_S = sum_{(j_1..j_L) in J} prod_l C(n_l, j_l),
    J = {0 <= j_l <= min(n0, n_1 - j_1, ..., n_{l-1} - j_{l-1}, n_l)}.

``j_l`` counts the *inactive* units of layer ``l``: at most ``C(n_l, j_l)``
regions of a parent have ``n_l - j_l`` active units, and a region's image
after layer ``l`` has dimension at most ``min(n0, n_1 - j_1, ..., n_l - j_l)``.
It is evaluated by a dynamic programme over (layer, dimension bound)::

    R(L+1, d) = 1,   R(l, d) = sum_{j=0}^{min(d, cap_l)} C(n_l, j) R(l+1, min(d, n_l - j)),

with ``cap_l = n_l`` (Theorem 1) or ``rank W^l`` (the rank variant), and
``UB_S = R(1, n0)``.  Only ``d <= min(n0, n_1, ..., n_{l-1})`` is reachable, so
a direct evaluation costs ``O(sum_l min(n0, ...) * n_l)`` big-integer
operations; :func:`upper_bound_serra2018` telescopes it to ``O(L n0)``.
"""

from __future__ import annotations

from math import prod
from typing import Any

from .._validation import check_int
from ..exceptions import InvalidNetworkError
from ._arch import binomial_row, check_architecture, check_ranks, zaslavsky_row, zaslavsky_sum

__all__ = [
    "upper_bound_serra2018",
    "exact_max_serra2018_1d",
    "upper_bound_serra2018_maxout",
    "lower_bound_serra2018_thm6",
    "lower_bound_serra2018_thm7",
    "serra2018_index_set",
]


def upper_bound_serra2018(n0: int, widths: Any, *, ranks: Any = None) -> int:
    """Serra et al.'s Theorem 1 upper bound, or its rank variant.

    Parameters
    ----------
    n0 : int
        Input dimension (>= 1).
    widths : sequence of int
        Hidden widths ``n_1..n_L`` (each >= 1).
    ranks : sequence of int, optional
        ``ranks[l] = rank W^l`` with ``0 <= ranks[l] <= min(n_l, n_{l-1})``:
        the sum's upper limit for ``j_l`` becomes
        ``min(n0, n_1 - j_1, ..., n_{l-1} - j_{l-1}, rank W^l)`` while the
        binomials stay ``C(n_l, j_l)``.  ``ranks=None`` is Theorem 1; full
        ranks ``min(n_l, n_{l-1})`` give Theorem 1 back, because the
        dimension bound ``d`` never exceeds ``n_{l-1}``.

    Returns
    -------
    int

    Notes
    -----
    Tight for ``L = 1`` (it is Zaslavsky's count); never larger than
    :func:`~lpengine.bounds.upper_bound_montufar2017` (replace every
    ``n_l - j_l`` by ``n_l`` and the sum factorises).  The dynamic programme
    of the module docstring is evaluated in telescoped form: with
    ``R' = R(l+1, .)``, ``min(d, n-j)`` and ``min(d-1, n-j)`` differ only for
    ``j <= n-d``, so::

        R(l, d) = R(l, d-1) + [d <= cap] C(n, d) R'(min(d, n-d))
                  + Z(n, <=min(d-1, cap, n-d)) (R'(d) - R'(d-1)),   R(l, 0) = R'(0),

    ``O(1)`` big-integer operations per ``(l, d)``, ``O(L n0)`` in all.  The
    tests compare it with the explicit sum over ``J`` on hundreds of
    architectures.

    References
    ----------
    Serra, Tjandraatmadja, Ramalingam, arXiv:1711.02114, Theorem 1 (and the
    rank refinement stated after it).

    Examples
    --------
    >>> upper_bound_serra2018(2, [3, 3, 3]), upper_bound_serra2018(3, [4, 4, 4])
    (208, 1631)
    >>> upper_bound_serra2018(2, [4, 4], ranks=[1, 2])
    55
    """
    n0, widths = check_architecture(n0, widths)
    caps = widths if ranks is None else check_ranks(ranks, n0, widths)
    # reach[l] = largest dimension bound d with which layer l can be entered.
    reach = [n0]
    for n in widths:
        reach.append(min(reach[-1], n))
    nxt = [1] * (reach[-1] + 1)  # R(L+1, d) = 1
    for l in range(len(widths) - 1, -1, -1):
        n, cap = widths[l], caps[l]
        row, zrow = binomial_row(n), zaslavsky_row(n)
        # Telescoped recurrence (see Notes): O(1) big-integer operations per (l, d).
        cur = [nxt[0]]
        for d in range(1, reach[l] + 1):
            r = cur[-1]
            if d <= min(cap, n):
                r += row[d] * nxt[min(d, n - d)]
            top = min(d - 1, cap, n - d)
            if top >= 0:
                r += zrow[top] * (nxt[d] - nxt[d - 1])
            cur.append(r)
        nxt = cur
    return nxt[n0]


def serra2018_index_set(n0: int, widths: Any, *, ranks: Any = None) -> list[tuple[int, ...]]:
    """The index set ``J`` of Theorem 1 (or the rank variant), listed explicitly.

    Exponential in the depth: meant for tests and small cases only (the bound
    is ``sum_{j in J} prod_l C(n_l, j_l)``).

    >>> serra2018_index_set(1, [2, 2])
    [(0, 0), (0, 1), (1, 0), (1, 1)]
    """
    n0, widths = check_architecture(n0, widths)
    caps = widths if ranks is None else check_ranks(ranks, n0, widths)
    out: list[tuple[int, ...]] = []

    def rec(l: int, d: int, prefix: tuple[int, ...]) -> None:
        if l == len(widths):
            out.append(prefix)
            return
        for j in range(min(d, caps[l]) + 1):
            rec(l + 1, min(d, widths[l] - j), prefix + (j,))

    rec(0, n0, ())
    return out


def exact_max_serra2018_1d(widths: Any) -> int:
    """Exact maximal number of regions for one input: ``prod_l (n_l + 1)`` (Theorem 5).

    Parameters
    ----------
    widths : sequence of int
        Hidden widths, each ``>= 3`` (the theorem's condition).

    Raises
    ------
    InvalidNetworkError
        (a ``ValueError``) if some width is below 3.

    Notes
    -----
    The upper side is Theorem 1 with ``n0 = 1`` (equal to ``prod (n_l+1)``
    whenever every ``n_l >= 2``); the lower side is a sawtooth network in
    which every layer of ``n`` units folds ``[0, 1]`` onto itself ``n + 1``
    times, built by :func:`lpengine.bounds.constructions.folding_network`.

    References
    ----------
    Serra et al., arXiv:1711.02114, Theorem 5.

    Examples
    --------
    >>> exact_max_serra2018_1d([5, 5])
    36
    """
    _, widths = check_architecture(1, widths)
    if min(widths) < 3:
        raise InvalidNetworkError(
            f"exact_max_serra2018_1d needs every width >= 3 (Theorem 5); got widths {list(widths)}."
        )
    return prod(n + 1 for n in widths)


def upper_bound_serra2018_maxout(n0: int, widths: Any, *, rank: int) -> int:
    """Upper bound for rank-``k`` maxout layers: ``prod_l Z(k(k-1)/2 * n_l, <=d_l)``, ``d_l = min(n0, ..., n_l)``.

    For reference only: lpengine's networks are ReLU networks.

    References
    ----------
    Serra et al., arXiv:1711.02114, Theorem 8.

    Examples
    --------
    >>> upper_bound_serra2018_maxout(1, [2], rank=2)
    3
    """
    n0, widths = check_architecture(n0, widths)
    k = check_int(rank, "rank", low=2, error=InvalidNetworkError)
    out, d = 1, n0
    for n in widths:
        d = min(d, n)
        out *= zaslavsky_sum(k * (k - 1) // 2 * n, d)
    return out


def lower_bound_serra2018_thm6(n0: int, widths: Any) -> int:
    """``(prod_{l<L} (floor(n_l/n0) + 1)**n0) * Z(n_L, <=n0)``, valid when every ``n_l >= 3 n0``.

    Construction (built by :func:`lpengine.bounds.constructions.folding_network`):
    ``p = floor(n_l/n0) >= 3`` units per input coordinate fold ``[0, 1]`` onto
    itself ``p + 1`` times, so every layer but the last multiplies the number
    of cells mapped onto the cube by ``(p+1)**n0``; the last layer's generic
    arrangement adds ``Z(n_L, <=n0)`` regions per cell.

    Raises
    ------
    InvalidNetworkError
        (a ``ValueError``) if some ``n_l < 3 n0``.

    References
    ----------
    Serra et al., arXiv:1711.02114, Theorem 6.

    Examples
    --------
    >>> lower_bound_serra2018_thm6(1, [5, 5])
    36
    """
    n0, widths = check_architecture(n0, widths)
    if min(widths) < 3 * n0:
        raise InvalidNetworkError(
            f"lower_bound_serra2018_thm6 needs every width >= 3*n0 = {3 * n0}; got widths {list(widths)}."
        )
    out = zaslavsky_sum(widths[-1], n0)
    for n in widths[:-1]:
        out *= (n // n0 + 1) ** n0
    return out


def lower_bound_serra2018_thm7(n0: int, widths: Any) -> int:
    """``2 Z(m-1, <=n0-1) (w+1)**(L-1)`` for widths ``(2m, w, ..., w)``, ``w >= 2``, applied to a sub-architecture.

    As for :func:`~lpengine.bounds.lower_bound_arora2018`, the formula is
    evaluated at the largest sub-architecture of the required form,
    ``m = floor(n_1/2)`` and ``w = min(n_2..n_L)``: a lower bound for some
    widths holds for every wider architecture.

    Raises
    ------
    InvalidNetworkError
        (a ``ValueError``) if ``n_1 < 2`` or (for ``L >= 2``) ``min(n_2..n_L) < 2``.

    Notes
    -----
    The widths ``(2m, w, ..., w)`` are assumed from the total size
    ``2m + w(L-1)`` quoted in the reference notes (unconfirmed against the
    paper).  :func:`lpengine.bounds.constructions.zonotope_network` builds
    a network attaining the count for ``w >= 3`` (derived here: a zonotope
    layer followed by ``(w+1)``-fold sawtooth layers); no construction for
    ``w = 2`` is provided.

    References
    ----------
    Serra et al., arXiv:1711.02114, Theorem 7.

    Examples
    --------
    >>> lower_bound_serra2018_thm7(2, [4, 4]), lower_bound_serra2018_thm7(3, [4, 4, 4])
    (20, 100)
    """
    n0, widths = check_architecture(n0, widths)
    m = widths[0] // 2
    if m < 1:
        raise InvalidNetworkError(f"lower_bound_serra2018_thm7 needs n_1 >= 2 (n_1 = 2m); got widths {list(widths)}.")
    out = 2 * zaslavsky_sum(m - 1, n0 - 1)
    if len(widths) > 1:
        w = min(widths[1:])
        if w < 2:
            raise InvalidNetworkError(
                f"lower_bound_serra2018_thm7 needs min(n_2..n_L) >= 2 (w >= 2); got widths {list(widths)}."
            )
        out *= (w + 1) ** (len(widths) - 1)
    return out

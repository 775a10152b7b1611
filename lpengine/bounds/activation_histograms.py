"""Activation-count γ for the Hinz–van de Geer framework, derived and proven here.

Hinz (arXiv:2103.17174, 2021) bounds region counts through *activation
histograms*: the optimal γ is ``max{H_{n'}(S_h) : h a layer R^n -> R^{n'}}``,
the largest possible number of regions with ``>= J`` active units, and the
paper solves that problem partially.  Only the paper's abstract was
available to lpengine, so **the paper's γ is not implemented**; what ships
here is a γ of the same kind whose every entry is proven below.  It does not
carry the paper's name.

For ``T_J(n, n')`` = the maximal number of full-dimensional regions with
``>= J`` active units of a layer with ``n'`` units on ``R^n``:

* ``n = 0``: one region; ``T_J = 1`` for every ``J`` (any active count).
* ``n >= n'``: every pattern is realisable: ``T_J = Z(n', <=n'-J)``. Exact.
* ``n = 1`` (**exact**, proven): ``T_J = max_u t_J(u)`` where ``t_J(u)``
  counts the values ``>= J`` among ``D, D+1, ..., n'`` and ``n'-1, ..., u``
  (``D = n' - u``).  *Proof.*  Perturbing a layer (making its rows
  non-zero and breakpoints distinct) keeps the pattern at an interior point
  of each full-dimensional region, so generic layers realise the most
  patterns.  A generic layer with ``u`` units active to the right of their
  breakpoint and ``D`` to the left has ``n'+1`` intervals whose active counts
  go from ``D`` to ``u`` in ``n'`` steps of ``±1`` with ``u`` up-steps; the
  walk taking all up-steps first is pointwise highest, so it maximises every
  tail count, and it is realised.  ∎  (It coincides with the third-party
  candidate quoted in the reference notes for ``n = 1``; after the
  framework's clipping at rank 1 it gives the same bound as Serra's γ.)
* ``2 <= n < n'`` (**upper bound**, proven): ``T_J <= Z(n', <=n) - L_J`` with
  ``L_J = m_J + [2J > n'] (Z(n'-1, <=n-1) - n')`` and
  ``m_J = 0`` if ``2J < n'``, ``n'/2`` if ``2J = n'``, ``2J - 1`` if ``2J > n'``.
  *Proof.*  Again take the layer generic: ``Z(n', <=n)`` regions.  Its
  unbounded regions correspond to the ``2 Z(n'-1, <=n-1)`` cones of the
  central arrangement ``{u : w_i.u = 0}``: far out in direction ``u`` the
  pattern is ``[w_i.u > 0]``, so antipodal cones carry complementary
  patterns (active counts ``a`` and ``n'-a``).  On a generic great circle the
  ``2n'`` crossing points cut ``2n'`` arcs, each inside a different cone; along
  the circle the count changes by ``±1`` per arc and ``f(arc + n') = n' - f(arc)``.
  Over all such cyclic walks the fewest arcs with count ``< J`` is ``m_J``
  (a walk of ``n'`` steps from ``a`` to ``n'-a``; checked against exhaustive
  enumeration in the tests).  When ``2J > n'`` every antipodal pair has a
  member with count ``<= n'/2 < J``, which adds ``Z(n'-1, <=n-1) - n'`` pairs
  off the circle.  These ``L_J`` regions have ``< J`` active units.  ∎
* Every entry is also capped by Serra et al.'s ``Z(n', <=min(n, n'-J))``.

The tails are then made non-increasing in ``J`` (prefix minimum, still valid
because the true tails are non-increasing) and non-decreasing in ``n``
(maximum over ``n'' <= n``, still valid because a layer on ``R^{n''}`` extends
to ``R^n`` with the same regions times ``R^{n-n''}``): the result satisfies
both admissibility conditions of :mod:`lpengine.bounds.hinz_vandegeer2019`.

What this gains: the ``(n, n') = (2, 4)`` entry drops from Serra's
``[0, 0, 6, 4, 1]`` to ``[0, 2, 4, 4, 1]`` (four lines in the plane always
leave two regions with at most one active unit), giving 109 instead of 121
for ``n0 = 2``, widths ``[4, 4]``, and 1559 instead of 1631 for ``n0 = 3``,
widths ``[4, 4, 4]``; generally ``T_n(n, 2n) <= Z(2n, <=n) - n``.

Not implemented, and why: the paper's own γ for ``n >= 2`` (its statement is
not available; the public "candidate" table is declared guessed by its
author) and tighter multi-layer block histograms (no derivation; the block
interface :func:`~lpengine.bounds.upper_bound_blocks` accepts them).
"""

from __future__ import annotations

from functools import lru_cache

from ._arch import check_architecture, zaslavsky_sum

__all__ = ["gamma_activation_counts", "activation_count_tails"]


def _exact_1d_tails(n_prime: int) -> list[int]:
    best = [0] * (n_prime + 1)
    for u in range(n_prime + 1):
        D = n_prime - u
        for J in range(n_prime + 1):
            t = max(0, n_prime - max(J, D) + 1) + max(0, n_prime - max(J, u))
            if t > best[J]:
                best[J] = t
    return best


def _circle_tails(n: int, n_prime: int) -> list[int]:
    total = zaslavsky_sum(n_prime, n)
    pairs = zaslavsky_sum(n_prime - 1, n - 1)
    out = []
    for J in range(n_prime + 1):
        if 2 * J < n_prime:
            low = 0
        elif 2 * J == n_prime:
            low = n_prime // 2
        else:
            low = 2 * J - 1 + (pairs - n_prime)
        out.append(total - low)
    return out


@lru_cache(maxsize=256)
def _tail_table(n_prime: int) -> tuple[tuple[int, ...], ...]:
    rows: list[tuple[int, ...]] = []
    for n in range(n_prime + 1):
        serra = [zaslavsky_sum(n_prime, min(n, n_prime - J)) for J in range(n_prime + 1)]
        if n == 0:
            cand = [1] * (n_prime + 1)
        elif n >= n_prime:
            cand = serra
        elif n == 1:
            cand = [min(a, b) for a, b in zip(serra, _exact_1d_tails(n_prime), strict=True)]
        else:
            cand = [min(a, b) for a, b in zip(serra, _circle_tails(n, n_prime), strict=True)]
        for J in range(1, n_prime + 1):  # non-increasing in J
            cand[J] = min(cand[J], cand[J - 1])
        if rows:  # non-decreasing in n
            cand = [max(a, b) for a, b in zip(cand, rows[-1], strict=True)]
        rows.append(tuple(cand))
    return tuple(rows)


def activation_count_tails(n: int, n_prime: int) -> tuple[int, ...]:
    """Proven upper bounds ``(T_0, ..., T_{n'})`` on the regions with ``>= J`` active units (see module docstring).

    Exact for ``n <= 1`` and ``n >= n'``.

    >>> activation_count_tails(2, 4)
    (11, 11, 9, 5, 1)
    >>> activation_count_tails(1, 4)
    (5, 5, 5, 3, 1)
    """
    n = int(n)
    _, (n_prime,) = check_architecture(1, [n_prime], name="n_prime")
    if n < 0:
        raise ValueError(f"n must be >= 0. Got {n}.")
    return _tail_table(n_prime)[min(n, n_prime)]


def gamma_activation_counts(n: int, n_prime: int) -> tuple[int, ...]:
    """The activation-count γ: histogram whose tail sums are :func:`activation_count_tails`.

    Admissible (both conditions proven in the module docstring); for
    ``n = 0`` it is ``e_{n'}``, for ``n >= n'`` the binomial row.

    >>> gamma_activation_counts(2, 4), gamma_activation_counts(1, 5)
    ((0, 2, 4, 4, 1), (0, 0, 1, 2, 2, 1))
    """
    t = activation_count_tails(n, n_prime)
    return tuple(t[J] - (t[J + 1] if J + 1 < len(t) else 0) for J in range(len(t)))

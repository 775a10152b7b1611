"""Asymptotic growth of the Hinz–van de Geer bound for equal widths (the triangular, "Jordan-like" structure of ``B_n``).

The reference notes derive the rates below from the matrices; the paper's
own statements (arXiv:1806.01918) were not available and are not quoted.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._arch import check_architecture
from .hinz_vandegeer2019 import Gamma, resolve_gamma, transition_matrix

__all__ = ["GrowthRate", "growth_rate"]


@dataclass(frozen=True)
class GrowthRate:
    """Asymptotic growth of the framework's bound for ``L`` equal layers of width ``n``.

    ``bound(L) = Θ(L**degree * rho**L)`` as ``L -> inf`` (``n0``, ``n`` fixed).

    Attributes
    ----------
    rho : int
        Largest diagonal entry ``λ_d`` of ``B_n`` over the ranks ``d`` reachable
        from ``min(n0, n)``.
    degree : int
        Number of ranks with ``λ_d = rho`` on one reachable chain, minus one
        (Jordan-like coupling of equal diagonal entries).
    dominant_ranks : tuple of int
        The reachable ranks ``d`` with ``λ_d = rho``.
    diagonal : tuple of int
        ``(λ_0, ..., λ_n)``.
    gamma : str
    """

    rho: int
    degree: int
    dominant_ranks: tuple[int, ...]
    diagonal: tuple[int, ...]
    gamma: str


def growth_rate(n0: int, n: int, *, gamma: str | Gamma = "serra2018") -> GrowthRate:
    """Growth rate of the bound for equal widths from the triangular structure of ``B_n``.

    Notes
    -----
    ``B_n`` is upper triangular with non-negative entries, so
    ``‖B_n^L e_{d0}‖_1`` is a sum over non-increasing rank paths; a path that
    stays on ranks with diagonal ``rho`` through ``k`` distinct such ranks
    contributes ``Θ(L**(k-1) rho**L)``.  ``degree = k_max - 1`` over reachable
    chains.  For γ^(c) the diagonal is ``λ_d = Z(n, <=min(d, n-d))``: with
    ``n0 <= n/2`` the bound is ``Z(n, <=n0)**L`` exactly; for ``n`` even and
    ``n0 >= n/2``, ``rho = (2**n + C(n, n/2))/2``; for ``n`` odd and
    ``n0 >= (n+1)/2`` the double entry ``rho = 2**(n-1)`` at ``d = (n±1)/2`` is
    coupled and ``degree = 1``.

    Examples
    --------
    >>> g = growth_rate(4, 4)
    >>> g.rho, g.degree, g.diagonal
    (11, 0, (1, 5, 11, 5, 1))
    >>> growth_rate(2, 3).rho, growth_rate(2, 3).degree
    (4, 1)
    """
    n0, (n,) = check_architecture(n0, [n], name="n")
    fn, name = resolve_gamma(gamma)
    B = transition_matrix(n, gamma=fn)
    d0 = min(n0, n)
    diag = tuple(B[d][d] for d in range(n + 1))
    # reachable ranks from d0 (an entry B[i][j] > 0 moves rank j to rank i <= j)
    reach = {d0}
    for j in range(d0, -1, -1):
        if j in reach:
            reach.update(i for i in range(j) if B[i][j])
    rho = max(diag[d] for d in reach)
    # longest chain counting dominant ranks: best[i] over paths from d0 ending at i
    best: dict[int, int] = {}
    for i in range(d0, -1, -1):
        if i not in reach:
            continue
        preds = [best[j] for j in range(i + 1, d0 + 1) if j in best and B[i][j]]
        best[i] = (diag[i] == rho) + (max(preds) if preds else 0)
    k = max(best.values())
    dominant = tuple(sorted(d for d in reach if diag[d] == rho))
    return GrowthRate(rho=rho, degree=max(k - 1, 0), dominant_ranks=dominant, diagonal=diag, gamma=name)

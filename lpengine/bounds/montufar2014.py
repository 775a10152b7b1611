"""Montúfar, Pascanu, Cho, Bengio (NeurIPS 2014): the trivial upper bound and a constructive lower bound."""

from __future__ import annotations

from ..exceptions import InvalidNetworkError
from ._arch import check_architecture, zaslavsky_sum

__all__ = ["upper_bound_montufar2014", "lower_bound_montufar2014"]


def upper_bound_montufar2014(n0: int, widths: list[int] | tuple[int, ...]) -> int:
    """``2**N`` with ``N = sum(widths)``: distinct regions have distinct activation patterns.

    Parameters
    ----------
    n0 : int
        Input dimension (>= 1); validated, otherwise unused.
    widths : sequence of int
        Hidden widths ``n_1..n_L`` (each >= 1).

    Returns
    -------
    int

    References
    ----------
    G. Montúfar, R. Pascanu, K. Cho, Y. Bengio, *On the number of linear regions
    of deep neural networks*, NeurIPS 2014.

    Examples
    --------
    >>> upper_bound_montufar2014(2, [4, 4])
    256
    """
    _, widths = check_architecture(n0, widths)
    return 1 << sum(widths)


def lower_bound_montufar2014(n0: int, widths: list[int] | tuple[int, ...]) -> int:
    """``(prod_{l<L} floor(n_l/n0)**n0) * Z(n_L, <=n0)``, valid when every ``n_l >= n0``.

    Each hidden layer but the last folds every input coordinate
    ``floor(n_l/n0)`` times, so ``prod floor(n_l/n0)**n0`` cells are mapped onto
    the same cube; the last layer's generic arrangement (``Z(n_L, <=n0)``
    regions, all meeting the cube) is pulled back into each cell.  A network
    attaining at least this many regions is built by
    :func:`lpengine.bounds.constructions.folding_network`.

    Raises
    ------
    InvalidNetworkError
        (a ``ValueError``) if some ``n_l < n0`` (the construction needs it).

    References
    ----------
    Montúfar et al., NeurIPS 2014, Theorem 4 / Corollary 5 (formula as in the
    project's reference notes).

    Examples
    --------
    >>> lower_bound_montufar2014(2, [4, 4])
    44
    """
    n0, widths = check_architecture(n0, widths)
    if min(widths) < n0:
        raise InvalidNetworkError(
            f"lower_bound_montufar2014 needs every width >= n0 = {n0}; got widths {list(widths)}."
        )
    out = zaslavsky_sum(widths[-1], n0)
    for n in widths[:-1]:
        out *= (n // n0) ** n0
    return out

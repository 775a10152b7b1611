"""Pascanu, Montúfar, Bengio (arXiv:1312.6098, ICLR 2014): the first deep-vs-shallow lower bound."""

from __future__ import annotations

from ..exceptions import InvalidNetworkError
from ._arch import check_architecture, zaslavsky_sum

__all__ = ["lower_bound_pascanu2013"]


def lower_bound_pascanu2013(n0: int, widths: list[int] | tuple[int, ...]) -> int:
    """``(prod_{l<L} floor(n_l/n0)) * Z(n_L, <=n0)``, valid when every ``n_l >= n0``.

    Each hidden layer but the last folds the input ``floor(n_l/n0)`` times
    along one direction; the last layer's arrangement is repeated in every
    fold.  It is never larger than :func:`lower_bound_montufar2014`.

    Raises
    ------
    InvalidNetworkError
        (a ``ValueError``) if some ``n_l < n0``.

    References
    ----------
    R. Pascanu, G. Montúfar, Y. Bengio, *On the number of response regions of
    deep feed forward networks with piece-wise linear activations*,
    arXiv:1312.6098, Theorem 1 (formula as in the project's reference notes,
    themselves taken from reading notes: unconfirmed against the paper).

    Examples
    --------
    >>> lower_bound_pascanu2013(2, [4, 4])
    22
    """
    n0, widths = check_architecture(n0, widths)
    if min(widths) < n0:
        raise InvalidNetworkError(f"lower_bound_pascanu2013 needs every width >= n0 = {n0}; got widths {list(widths)}.")
    out = zaslavsky_sum(widths[-1], n0)
    for n in widths[:-1]:
        out *= n // n0
    return out

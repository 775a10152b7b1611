"""Arora, Basu, Mianjy, Mukherjee (arXiv:1611.01491, ICLR 2018): a zonotope lower bound."""

from __future__ import annotations

from ..exceptions import InvalidNetworkError
from ._arch import check_architecture, zaslavsky_sum

__all__ = ["lower_bound_arora2018"]


def lower_bound_arora2018(n0: int, widths: list[int] | tuple[int, ...]) -> int:
    """``2 * Z(m-1, <=n0-1) * w**(L-1)`` for widths ``(2m, w, ..., w)``, applied to a sub-architecture.

    The paper's network has ``n_1 = 2m`` and ``n_l = w`` for ``l >= 2``.  A
    lower bound for some widths holds for every wider architecture (extra
    units can be made dead), so the formula is evaluated at the largest
    sub-architecture of that form: ``m = floor(n_1/2)``, ``w = min(n_2..n_L)``
    (the formula increases in both).

    Construction (derived here, built by
    :func:`lpengine.bounds.constructions.zonotope_network`): the first layer
    computes ``t(x) = sum_i |g_i . x|`` with ``|s| = relu(s) + relu(-s)``; the
    ``m`` central hyperplanes ``g_i . x = 0`` in general position cut ``R^{n0}``
    into ``2 Z(m-1, <=n0-1)`` cones, and ``t`` maps each cone onto ``[0, inf)``.
    Each later layer folds ``t``'s range ``w`` times, so every cone holds
    ``w**(L-1)`` regions.

    Raises
    ------
    InvalidNetworkError
        (a ``ValueError``) if ``n_1 < 2``.

    References
    ----------
    R. Arora, A. Basu, P. Mianjy, A. Mukherjee, *Understanding deep neural
    networks with rectified linear units*, ICLR 2018 (arXiv:1611.01491),
    Theorem 3.9 (formula as in the project's reference notes).

    Examples
    --------
    >>> lower_bound_arora2018(2, [4, 4]), lower_bound_arora2018(2, [3, 3, 3])
    (16, 18)
    """
    n0, widths = check_architecture(n0, widths)
    m = widths[0] // 2
    if m < 1:
        raise InvalidNetworkError(f"lower_bound_arora2018 needs n_1 >= 2 (n_1 = 2m); got widths {list(widths)}.")
    out = 2 * zaslavsky_sum(m - 1, n0 - 1)
    if len(widths) > 1:
        out *= min(widths[1:]) ** (len(widths) - 1)
    return out

"""Montúfar (SampTA 2017), *Notes on the number of linear regions of deep neural networks*."""

from __future__ import annotations

from ._arch import check_architecture, zaslavsky_sum

__all__ = ["upper_bound_montufar2017"]


def upper_bound_montufar2017(n0: int, widths: list[int] | tuple[int, ...]) -> int:
    """``prod_l Z(n_l, <=m_{l-1})`` with ``m_{l-1} = min(n0, n_1, ..., n_{l-1})``.

    Parameters
    ----------
    n0 : int
        Input dimension (>= 1).
    widths : sequence of int
        Hidden widths ``n_1..n_L`` (each >= 1).

    Returns
    -------
    int

    Notes
    -----
    Inside a region of the first ``l-1`` layers the network is affine with
    image of dimension at most ``m_{l-1}``, so layer ``l`` cuts it into at
    most ``Z(n_l, <=m_{l-1})`` pieces.  Serra et al. write the same product
    with ``d_l = min(n0, ..., n_l)``; the two agree because
    ``Z(n_l, <=d) = 2**n_l`` once ``d >= n_l``.

    References
    ----------
    G. Montúfar, *Notes on the number of linear regions of deep neural
    networks*, SampTA 2017.

    Examples
    --------
    >>> upper_bound_montufar2017(2, [3, 3, 3]), upper_bound_montufar2017(1, [5, 5])
    (343, 36)
    """
    n0, widths = check_architecture(n0, widths)
    out, m = 1, n0
    for n in widths:
        out *= zaslavsky_sum(n, m)
        m = min(m, n)
    return out

"""The activation pattern across a facet: a one-sided limit, in floats when they are sure, else exactly.

Let ``F`` be a facet of the region ``R`` of pattern ``S`` and ``N`` the region
entered across it.  Every pre-activation ``z_k`` is continuous in ``x``, so a
unit whose ``z_k`` is not identically zero on ``F`` has the same sign on both
sides near ``F``'s relative interior: it keeps its sign in ``S``.  Only the
units whose ``z_k`` vanishes on all of ``F`` can change, and these are known
exactly from ``R``'s rows: the units of ``F``'s rows (exactly proportional rows
with ``F``'s orientation) and the units that are identically zero on ``R`` (dead
with value 0).  Call them ``Z``.

On the far side, ``z_k`` of a unit in ``Z`` is an affine form that vanishes on
``F``'s hyperplane, so its gradient is ``mu_k n`` with ``n`` the facet's normal
pointing into ``N``.  Its sign on ``N`` near ``F`` is the sign of ``mu_k``, read
off the directional derivative ``dz_k = mu_k n . u`` along any ``u`` with
``n . u > 0``; ``mu_k = 0`` means the unit is identically zero on ``N`` too (dead,
inactive by the dead-unit policy).  The derivatives are composed layer by layer
under the far side's signs (a unit passes ``dz`` on iff it is active there):
``dz^l = W^l diag(m^{l-1}) dz^{l-1}``, ``dz^0 = W^0 u``.

:func:`cross_facet` does this in floats with a running bound on the rounding
error of the chain (Higham, *Accuracy and Stability*, §3.1, underflow
included) and, if any sign of a unit in ``Z`` is not clear of its bound,
repeats it in integers (:func:`exact_far_signs`: the float64 weights and ``u`` read as the dyadic
rationals they store; each layer's common power of two is positive and drops
out of the signs).  ``u`` is the float normal of ``F``'s row: the search's rows
carry a relative error below ``1e-8 sqrt(d)`` (:class:`~.certify.Certifier`), so
``n . u > 0``.  :func:`facet_rows` completes the facet's rows exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..lp.exact import to_dyadic
from ..network import ReLUNetwork
from ..roundoff import gamma
from .certify import CertifiedRows
from .exact import ExactNet, same_hyperplane
from .implied import coincidence_screen

__all__ = ["cross_facet", "exact_far_signs", "facet_rows"]

# The largest absolute error of a float product that underflows (half the smallest subnormal, doubled).
_UNDERFLOW = 2.0**-1074


def cross_facet(
    net: ReLUNetwork,
    signs: NDArray[np.int8],
    zero: NDArray[np.intp],
    direction: NDArray[np.float64],
    exact_net: Callable[[], ExactNet],
) -> tuple[NDArray[np.int8], bool]:
    """The pattern of the region entered from ``R`` (pattern ``signs``) across a facet along ``direction``.

    Parameters
    ----------
    net : ReLUNetwork
    signs : ndarray of int8, shape (N,)
        The pattern of ``R`` (dead units with their canonical signs).
    zero : ndarray of int, shape (n_zero,)
        The units whose pre-activation vanishes on the whole facet, decided exactly
        (the facet's units and the units identically zero on ``R``).
    direction : ndarray, shape (n_in,)
        A vector pointing strictly into the far side (the facet row's float normal).
    exact_net : callable
        Returns the network in integers (built lazily: only unclear crossings need it).

    Returns
    -------
    signs : ndarray of int8, shape (N,)
        The far side's pattern (canonical: a unit of ``zero`` that stays identically
        zero there is inactive).
    exact : bool
        Whether the float chain was unclear and the integers decided.
    """
    far = np.array(signs, dtype=np.int8)
    if zero.size == 0:
        return far, False
    offs = net.layer_offsets
    in_zero = np.zeros(far.shape[0], dtype=bool)
    in_zero[zero] = True
    dh = np.asarray(direction, dtype=np.float64)
    # Running bound on |dh - dh_exact| (u itself is exact), and the number of nonzero paths from u
    # (0 iff the derivative is exactly 0 whatever the values: every path masked or a zero weight).
    err = np.zeros_like(dh)
    paths = (dh != 0.0).astype(np.float64)
    last = int(zero.max())
    for l in range(net.n_hidden_layers):
        lo, hi = offs[l], offs[l + 1]
        if lo > last:
            break
        W = net.weights[l]
        aW = np.abs(W)
        n = int(W.shape[1])
        dz = W @ dh
        # |fl(W dh) - W dh_exact| <= |W| err + gamma_n |W| |dh| + n eta (eta: underflow); the factor
        # 1.01 and the second n eta cover the rounding and underflow of computing this bound itself.
        err = 1.01 * (aW @ (err + gamma(n) * np.abs(dh))) + 2.0 * n * _UNDERFLOW
        paths = (aW > 0.0).astype(np.float64) @ paths
        zl = in_zero[lo:hi]
        if zl.any():
            v = dz[zl]
            # A sign is sure when the float derivative clears its error bound (NaN never does).
            sure = (paths[zl] == 0.0) | (np.abs(v) > err[zl])
            if not bool(np.all(sure)):
                return exact_far_signs(exact_net(), signs, zero, direction), True
            far[lo:hi][zl] = np.where((paths[zl] > 0.0) & (v > 0.0), 1, -1)
        act = far[lo:hi] > 0
        dh = np.where(act, dz, 0.0)
        err = np.where(act, err, 0.0)
        paths = np.where(act, paths, 0.0)
    return far, False


def exact_far_signs(
    enet: ExactNet, signs: NDArray[np.int8], zero: NDArray[np.intp], direction: NDArray[np.float64]
) -> NDArray[np.int8]:
    """:func:`cross_facet`'s answer in integers: the directional derivatives composed exactly.

    ``direction`` is read as the dyadic rationals it stores (a common positive
    power of two dropped), each layer's weights as integers on the layer's power
    of two (dropped too), so every sign below is that of the exact derivative.
    """
    far = np.array(signs, dtype=np.int8)
    in_zero = np.zeros(far.shape[0], dtype=bool)
    in_zero[zero] = True
    dy = to_dyadic(np.asarray(direction, dtype=np.float64), name="facet direction")
    dh: NDArray[Any] = np.empty(dy.mantissas.shape, dtype=object)
    dh[...] = [int(v) for v in np.asarray(dy.mantissas).ravel().tolist()]
    last = int(zero.max()) if zero.size else -1
    for l, (Wm, _eW, _bm, _eb) in enumerate(enet.layers):
        lo, hi = enet.offsets[l], enet.offsets[l + 1]
        if lo > last:
            break
        dz = Wm.dot(dh)
        vals = dz.tolist()
        for k in np.flatnonzero(in_zero[lo:hi]).tolist():
            far[lo + k] = 1 if vals[k] > 0 else -1
        act = far[lo:hi] > 0
        dh = np.array([v if a else 0 for v, a in zip(vals, act.tolist(), strict=True)], dtype=object)
    return far


def facet_rows(cr: CertifiedRows, rep: int, group: NDArray[np.intp]) -> NDArray[np.intp]:
    """Every row of the region whose hyperplane is exactly row ``rep``'s (same orientation).

    ``group`` holds rows already proved so (floats proposed them, integers
    confirmed).  A row the float search may have left out is one whose float row
    lies within the rows' error bounds (:meth:`~.certify.CertifiedRows.row_errors`) of
    ``rep``'s (:func:`~.implied.coincidence_screen`): two exactly coincident rows differ
    by at most those in floats (up to the positive rescaling each bound allows).  Only
    such rows are checked in integers, so a complete group costs one screen in floats.
    """
    rows = cr.rows
    G, h = rows.G, rows.h
    near = coincidence_screen(G, h, cr.same_hyperplane.errors(), np.array([rep]), np.arange(G.shape[0]))[0]
    extra = np.setdiff1d(np.flatnonzero(near), group)
    if extra.size == 0:
        return group
    P = cr.exact_rows()
    more = [j for j in extra.tolist() if same_hyperplane(P[j], P[rep]) > 0]
    return np.union1d(group, np.array(more, dtype=np.intp)).astype(np.intp)

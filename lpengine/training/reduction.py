"""Dependent features of a trained layer: hold them fixed and reparametrise the rest (exact on the data).

A vertex of layer ``l``'s loss needs linearly independent features ``[h_{l-1}, 1]``.
Units of layer ``l-1`` that are dead on every sample (zero columns), constant,
or affine combinations of other units on the data break that.  Such a column
``f_d = F_k c + c_0`` is *held*: its outgoing weights stay fixed, and the walk
runs on a reduced network without that unit, over the reparametrised kept
weights ``W_k + W_d c^T`` and bias ``b + W_d c_0``, which give the same outputs
on the data.  :func:`expand_layer` subtracts the same terms, so the held units
keep their weights (they matter off the data) and the trained layer's function
on the data is exactly the reduced one's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..network import ReLUNetwork
from ..tolerances import Tolerances

__all__ = ["ReducedLayer", "reduce_layer", "expand_layer", "dead_units", "layer_input", "independent_columns"]


def dead_units(net: ReLUNetwork, X: NDArray[np.float64]) -> tuple[tuple[int, ...], ...]:
    """Per hidden layer, the units whose pre-activation is ``<= 0`` on every row of ``X``."""
    z = net.preactivations(X)
    offs = net.layer_offsets
    return tuple(
        tuple(int(j) for j in np.flatnonzero(np.all(z[:, offs[l] : offs[l + 1]] <= 0.0, axis=0)))
        for l in range(net.n_hidden_layers)
    )


def layer_input(net: ReLUNetwork, X: NDArray[np.float64], layer: int) -> NDArray[np.float64]:
    h = X
    for l in range(layer):
        h = np.maximum(h @ net.weights[l].T + net.biases[l], 0.0)
    return h


def independent_columns(F: NDArray[np.float64], tol: float) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Greedy Gram–Schmidt over ``[1, F]``: indices of kept and of dependent columns of ``F``."""
    n = F.shape[0]
    Q = [np.full(n, 1.0 / np.sqrt(n))]
    keep, held = [], []
    for j in range(F.shape[1]):
        f = F[:, j]
        r = f.copy()
        for _ in range(2):  # twice is enough (Kahan–Parlett)
            for q in Q:
                r -= (q @ r) * q
        nr = float(np.linalg.norm(r))
        if nr <= tol * max(1.0, float(np.linalg.norm(f))):
            held.append(j)
        else:
            Q.append(r / nr)
            keep.append(j)
    return np.array(keep, dtype=np.int64), np.array(held, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class ReducedLayer:
    """How layer ``layer``'s walk runs on a network without the held input columns."""

    keep: NDArray[np.int64]
    held: NDArray[np.int64]
    C: NDArray[np.float64]  # (n_keep, n_held): F_held ~= F_keep C + 1 c0
    c0: NDArray[np.float64]  # (n_held,)


def reduce_layer(
    net: ReLUNetwork, X: NDArray[np.float64], layer: int, tol: Tolerances
) -> tuple[ReLUNetwork | None, NDArray[np.float64] | None, NDArray[np.float64] | None, ReducedLayer]:
    """The reduced (network, X, theta0) of layer ``layer`` and the map back (see module docstring)."""
    F = layer_input(net, X, layer)
    keep, held = independent_columns(F, tol.dependence)
    W, b = net.weights[layer], net.biases[layer]
    if held.size == 0:
        return net, X, np.concatenate([W.ravel(), b]), ReducedLayer(keep, held, np.zeros((keep.size, 0)), np.zeros(0))
    if keep.size == 0:
        return None, None, None, ReducedLayer(keep, held, np.zeros((0, held.size)), np.zeros(held.size))
    A = np.hstack([F[:, keep], np.ones((F.shape[0], 1))])
    coef, *_ = np.linalg.lstsq(A, F[:, held], rcond=None)
    C, c0 = np.asarray(coef[:-1], dtype=np.float64), np.asarray(coef[-1], dtype=np.float64)
    Wd = W[:, held]
    Wk = W[:, keep] + Wd @ C.T
    bk = b + Wd @ c0
    ws, bs = list(net.weights), list(net.biases)
    ws[layer], bs[layer] = Wk, bk
    if layer == 0:
        Xr = X[:, keep]
    else:
        ws[layer - 1], bs[layer - 1] = net.weights[layer - 1][keep], net.biases[layer - 1][keep]
        Xr = X
    red = ReLUNetwork(tuple(ws), tuple(bs), has_output_layer=True)
    return red, Xr, np.concatenate([Wk.ravel(), bk]), ReducedLayer(keep, held, C, c0)


def expand_layer(net: ReLUNetwork, layer: int, theta: NDArray[np.float64], red: ReducedLayer) -> ReLUNetwork:
    """The full network with the reduced walk's ``theta`` mapped back into layer ``layer``."""
    W, b = net.weights[layer], net.biases[layer]
    n_out = W.shape[0]
    Wk = theta[: n_out * red.keep.size].reshape(n_out, red.keep.size)
    bk = theta[n_out * red.keep.size :]
    Wn, bn = np.array(W), np.array(b)
    if red.held.size:
        Wd = W[:, red.held]
        Wk = Wk - Wd @ red.C.T
        bk = bk - Wd @ red.c0
    Wn[:, red.keep] = Wk
    bn[:] = bk
    ws, bs = list(net.weights), list(net.biases)
    ws[layer], bs[layer] = Wn, bn
    return ReLUNetwork(tuple(ws), tuple(bs), has_output_layer=True)

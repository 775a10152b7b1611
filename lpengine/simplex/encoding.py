"""Builders of the layer-wise L1 / quantile loss of one trained layer.

:class:`~lpengine.simplex.model.LayerwiseModel` from a network and data (train
layer ``layer``), from a design matrix (LAD / quantile regression, the
Barrodale–Roberts case) or from a network alone (argument minimisation of its
output).  The region LPs of these models (:func:`region_lp` and its helpers)
live in :mod:`lpengine.simplex.cell_lp` and are re-exported here.
"""

from __future__ import annotations

from typing import cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_array, check_int, check_scalar
from ..exceptions import InvalidNetworkError, InvalidProblemError
from ..network import ReLUNetwork
from .cell_lp import box_prune, cell_affine, region_lp, restrict_model, update_cell_affine
from .model import LayerwiseModel, RhoLoss, loss_for_quantile

__all__ = [
    "build_layer_model",
    "build_lad_model",
    "build_argmin_model",
    "check_quantile",
    "region_lp",
    "cell_affine",
    "update_cell_affine",
    "box_prune",
    "restrict_model",
]


def check_quantile(quantile: float) -> float:
    """``quantile`` as a float in (0, 1), or :class:`InvalidProblemError`."""
    return check_scalar(quantile, "quantile", low=0.0, high=1.0, error=InvalidProblemError)


def _unique_rows(H: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Distinct rows of ``H`` (first-occurrence order) and the inverse map.

    Rows are sorted by a fixed random projection (one float sort instead of a
    lexicographic row sort); only rows with equal projections are compared in full.
    """
    n = H.shape[0]
    key = H @ np.random.default_rng(12345).standard_normal(H.shape[1])
    order = np.argsort(key, kind="stable")
    ks = key[order]
    same = np.flatnonzero(ks[1:] == ks[:-1])
    rep = np.arange(n)
    if same.size:
        Hs = H[order]
        for j in same:  # candidates only (exact duplicates, or rare projection ties)
            a = j
            while a > 0 and ks[a - 1] == ks[j] and not np.array_equal(Hs[a], Hs[j + 1]):
                a -= 1
            if np.array_equal(Hs[a], Hs[j + 1]):
                rep[order[j + 1]] = rep[order[a]]
    first = np.flatnonzero(rep == np.arange(n))
    idx = np.full(n, -1, dtype=np.int64)
    idx[first] = np.arange(first.size)
    return H[first], idx[rep]


def _merge_samples(
    H: NDArray[np.float64], y: NDArray[np.float64], c: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Distinct feature rows (groups) and samples merged on equal (row, target)."""
    Hu, group = _unique_rows(H)
    key = np.stack([group.astype(np.float64), y], axis=1)
    _, sample = _unique_rows(key)
    m = int(sample.max()) + 1
    # numpy's stubs type bincount as integer even with float weights; it returns float64 here
    cm = cast("NDArray[np.float64]", np.bincount(sample, weights=c, minlength=m))
    gm = np.zeros(m, dtype=np.int64)
    ym = np.zeros(m)
    gm[sample] = group
    ym[sample] = y
    return Hu, gm, ym, cm


def _check_rank(M: NDArray[np.float64], what: str) -> None:
    rank = int(np.linalg.matrix_rank(M))
    if rank < M.shape[1]:
        raise InvalidProblemError(
            f"{what} has rank {rank} < {M.shape[1]} columns: the loss is constant along a direction of "
            "parameter space, so no vertex (D independent kinks) exists. Remove the dependent (collinear or "
            "constant) columns, or add data."
        )


def _check_data(
    X: ArrayLike, y: ArrayLike, n_in: int | None, sample_weight: ArrayLike | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    X = check_array(X, "X", ndim=2, error=InvalidProblemError)
    if n_in is not None and X.shape[1] != n_in:
        raise InvalidProblemError(f"X has {X.shape[1]} features; expected n_in = {n_in} of the network.")
    y = check_array(y, "y", error=InvalidProblemError)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise InvalidProblemError(f"y has shape {y.shape}; expected ({X.shape[0]},) to match X.")
    if sample_weight is None:
        c = np.ones(X.shape[0])
    else:
        c = check_array(sample_weight, "sample_weight", shape=(X.shape[0],), error=InvalidProblemError)
        if np.any(c < 0):
            raise InvalidProblemError("sample_weight has negative entries; expected weights >= 0.")
    return X, y, c


def build_layer_model(
    net: ReLUNetwork,
    X: ArrayLike,
    y: ArrayLike,
    *,
    layer: int = 0,
    quantile: float = 0.5,
    sample_weight: ArrayLike | None = None,
    loss: RhoLoss | None = None,
    check_rank: bool = True,
) -> LayerwiseModel:
    """Model of the loss as a function of ``weights[layer], biases[layer]`` (others frozen).

    ``loss`` overrides the loss of ``quantile`` with any ``rho(r) = w_plus r_+ + w_minus r_-``.
    ``check_rank=False`` accepts rank-deficient features (no vertex need exist: the landscape
    analysis of :mod:`lpengine.analysis` needs cells and their LPs, not vertices).

    Raises
    ------
    InvalidNetworkError
        If the network has no affine scalar output layer.
    InvalidProblemError
        For malformed data, a layer index out of range, or rank-deficient
        features of the trained layer (no vertex exists).
    """
    if not isinstance(net, ReLUNetwork):
        raise InvalidNetworkError(f"net must be a lpengine.ReLUNetwork; got {type(net).__name__}.")
    if not net.has_output_layer or net.n_out != 1:
        raise InvalidNetworkError(
            f"the Deep ReLU Simplex needs a scalar affine output layer; got has_output_layer="
            f"{net.has_output_layer}, n_out={net.n_out}."
        )
    n_layers = len(net.weights)
    layer = check_int(layer, "layer", low=0, high=n_layers - 1, error=InvalidProblemError)
    X, y, c = _check_data(X, y, net.n_in, sample_weight)
    rho = loss_for_quantile(check_quantile(quantile)) if loss is None else loss
    h = X
    for l in range(layer):
        h = np.maximum(h @ net.weights[l].T + net.biases[l], 0.0)
    H = np.hstack([h, np.ones((h.shape[0], 1))])
    if check_rank:
        _check_rank(H, f"the input of layer {layer} with a column of ones (shape {H.shape})")
    Hu, group, ym, cm = _merge_samples(H, y, c)
    W = net.weights[layer]
    n_units, p = W.shape[0], W.shape[1] + 1
    # Internal theta is neuron-major: theta[k*p + j] = W[k, j] (j < p-1), theta[k*p + p-1] = b[k].
    # Public layout [W.ravel(), b]: W[k, j] at k*(p-1) + j, b[k] at n_units*(p-1) + k.
    perm = np.empty(n_units * p, dtype=np.int64)
    for k in range(n_units):
        perm[k * (p - 1) : (k + 1) * (p - 1)] = np.arange(k * p, k * p + p - 1)
        perm[n_units * (p - 1) + k] = k * p + p - 1
    is_output = layer == n_layers - 1
    hidden_W = [np.array(net.weights[l]) for l in range(layer + 1, n_layers - 1)]
    hidden_b = [np.array(net.biases[l]) for l in range(layer + 1, n_layers - 1)]
    return LayerwiseModel(
        mode="layer",
        H=Hu,
        W_in=None,
        b_in=None,
        hidden_W=[] if is_output else hidden_W,
        hidden_b=[] if is_output else hidden_b,
        out_W=None if is_output else np.array(net.weights[-1]),
        out_b=None if is_output else np.array(net.biases[-1]),
        group=group,
        y=ym,
        c=cm,
        loss=rho,
        n_units=n_units,
        public_perm=perm,
    )


def build_lad_model(
    X: ArrayLike,
    y: ArrayLike,
    *,
    quantile: float = 0.5,
    fit_intercept: bool = True,
    sample_weight: ArrayLike | None = None,
) -> LayerwiseModel:
    """Model of ``sum_i c_i rho(x_i . beta (+ b) - y_i)``: LAD / quantile regression.

    The intercept, when fitted, is the last coefficient.
    """
    X, y, c = _check_data(X, y, None, sample_weight)
    quantile = check_quantile(quantile)
    H = np.hstack([X, np.ones((X.shape[0], 1))]) if fit_intercept else X
    _check_rank(H, f"the design matrix{' with intercept' if fit_intercept else ''} (shape {H.shape})")
    Hu, group, ym, cm = _merge_samples(H, y, c)
    p = H.shape[1]
    return LayerwiseModel(
        mode="layer",
        H=Hu,
        W_in=None,
        b_in=None,
        hidden_W=[],
        hidden_b=[],
        out_W=None,
        out_b=None,
        group=group,
        y=ym,
        c=cm,
        loss=loss_for_quantile(quantile),
        n_units=1,
        public_perm=np.arange(p),
    )


def build_argmin_model(net: ReLUNetwork) -> LayerwiseModel:
    """Model of the network's scalar output as a function of its input (argument minimisation)."""
    if not isinstance(net, ReLUNetwork):
        raise InvalidNetworkError(f"net must be a lpengine.ReLUNetwork; got {type(net).__name__}.")
    if not net.has_output_layer or net.n_out != 1:
        raise InvalidNetworkError("argument minimisation needs a scalar affine output layer.")
    W0 = np.array(net.weights[0])
    _check_rank(W0, f"weights[0] (shape {W0.shape})")
    n = len(net.weights)
    return LayerwiseModel(
        mode="input",
        H=None,
        W_in=W0,
        b_in=np.array(net.biases[0]),
        hidden_W=[np.array(net.weights[l]) for l in range(1, n - 1)],
        hidden_b=[np.array(net.biases[l]) for l in range(1, n - 1)],
        out_W=np.array(net.weights[-1]),
        out_b=np.array(net.biases[-1]),
        group=np.zeros(1, np.int64),
        y=np.zeros(1),
        c=np.ones(1),
        loss=RhoLoss(1.0, -1.0),
        n_units=W0.shape[0],
        public_perm=np.arange(W0.shape[1]),
    )

"""The layer-wise L1 loss as a ReLU network whose input is the parameter vector θ.

Training one layer ℓ of a ReLU net ``f`` on data ``(x_i, y_i)`` with the other
layers frozen gives the loss ``L(θ) = Σ_i ρ(f_θ(x_i) - y_i)``, with
``ρ(r) = w₊ r_+ + w₋ r_-`` (``w₊ = w₋ = 1``: the L1 loss ``Σ|r_i|``).  The
layer-ℓ pre-activations ``z_ik = h̃_iᵀθ_k`` are *linear* in θ and everything
downstream is a fixed ReLU net, so ``L`` itself is a ReLU network with input θ
(``deep_relu_simplex.md`` §2, "the rewrite"):

* θ-layer 1: ``N·n_ℓ`` units, unit ``(i, k)`` (index ``i·n_ℓ + k``) has weight
  row ``h̃_i`` in the block of neuron ``k`` and bias 0;
* the frozen layers ℓ+1..L, one block-diagonal copy per sample;
* predictions ``f_θ(x_i)`` (:meth:`LayerwiseL1Problem.hidden_network`, ``N``
  outputs), or two more units ``relu(±(f_θ(x_i) - y_i))`` per sample and the
  weighted sum as output (:meth:`LayerwiseL1Problem.loss_network`).

The hidden units of :meth:`hidden_network` are the *hidden kinks*; its
activation regions are the hidden cells ``C_H`` on which ``L`` is convex; the
extra units of :meth:`loss_network` are the *residual kinks*; its activation
regions are the affine regions of ``L``.

Parameter layout (the Deep ReLU Simplex convention): ``θ = [W_ℓ.ravel(), b_ℓ]``
with ``W_ℓ`` of shape ``(n_ℓ, n_{ℓ-1})``, so ``D = n_ℓ (n_{ℓ-1} + 1)``.

The θ-space networks are dense (``N·Σ n_l`` units): meant for tiny problems
(census, vertex counts, tests), never for training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_array, check_int, check_scalar
from ..exceptions import InvalidOptionError, InvalidProblemError
from ..network import ReLUNetwork

__all__ = ["LayerwiseL1Problem"]


def _frozen(a: NDArray[Any]) -> NDArray[Any]:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class LayerwiseL1Problem:
    """Layer-wise L1 (or quantile) training of one hidden layer of a frozen ReLU net.

    Parameters
    ----------
    net : ReLUNetwork
        Network with one scalar output; its layer ``layer`` supplies the start θ.
    X : array_like, shape (n_samples, n_in)
    y : array_like, shape (n_samples,)
    layer : int
        Index of the trained weight matrix (``0``: the first layer); must be a
        hidden layer (``0 <= layer < net.n_hidden_layers``).
    w_plus, w_minus : float
        Loss weights: ``ρ(r) = w_plus·max(r, 0) + w_minus·max(-r, 0)`` with
        ``r = prediction - target``.  ``(1, 1)`` is the L1 loss.

    Raises
    ------
    InvalidProblemError
        On mismatched shapes, a network without a single scalar output, or a bad layer.

    Examples
    --------
    >>> import numpy as np
    >>> net = ReLUNetwork.random(1, [2], seed=0)
    >>> prob = LayerwiseL1Problem(net, np.array([[0.0], [1.0], [2.0]]), np.zeros(3))
    >>> prob.dim, prob.n_samples
    (4, 3)
    >>> bool(np.isclose(prob.loss(prob.theta0), np.abs(net.forward([[0.0], [1.0], [2.0]])).sum()))
    True
    """

    net: ReLUNetwork
    X: NDArray[np.float64]
    y: NDArray[np.float64]
    layer: int = 0
    w_plus: float = 1.0
    w_minus: float = 1.0
    features: NDArray[np.float64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        net = self.net
        if not isinstance(net, ReLUNetwork):
            raise InvalidProblemError(f"net must be a lpengine.ReLUNetwork. Got {type(net).__name__}.")
        if not net.has_output_layer or net.weights[-1].shape[0] != 1:
            raise InvalidProblemError(
                "the layer-wise L1 loss needs a network with an affine output layer of width 1; "
                f"got has_output_layer={net.has_output_layer}, output width {net.weights[-1].shape[0]}."
            )
        X = check_array(self.X, "X", ndim=2, error=InvalidProblemError)
        if X.shape[1] != net.n_in:
            raise InvalidProblemError(f"X has {X.shape[1]} features; expected n_in = {net.n_in}.")
        y = check_array(self.y, "y", ndim=1, error=InvalidProblemError)
        if y.shape[0] != X.shape[0]:
            raise InvalidProblemError(f"y has {y.shape[0]} values; expected one per row of X ({X.shape[0]}).")
        layer = check_int(self.layer, "layer", low=0, high=net.n_hidden_layers - 1, error=InvalidProblemError)
        wp = check_scalar(self.w_plus, "w_plus", low=0.0, error=InvalidProblemError)
        wm = check_scalar(self.w_minus, "w_minus", low=0.0, error=InvalidProblemError)
        h = X
        for l in range(layer):
            h = np.maximum(h @ net.weights[l].T + net.biases[l], 0.0)
        object.__setattr__(self, "X", _frozen(X))
        object.__setattr__(self, "y", _frozen(y))
        object.__setattr__(self, "layer", layer)
        object.__setattr__(self, "w_plus", wp)
        object.__setattr__(self, "w_minus", wm)
        object.__setattr__(self, "features", _frozen(h))

    @classmethod
    def from_quantile(
        cls, net: ReLUNetwork, X: ArrayLike, y: ArrayLike, *, layer: int = 0, quantile: float = 0.5
    ) -> LayerwiseL1Problem:
        """The τ-quantile loss, with :func:`lpengine.simplex.deep_relu_simplex`'s convention.

        ``τ = 0.5`` is the plain L1 loss ``Σ|r_i|`` (``w₊ = w₋ = 1``); any other τ
        is the pinball loss ``Σ (1 - τ) r_+ + τ r_-`` with ``r = prediction - target``.
        """
        tau = check_scalar(quantile, "quantile", low=0.0, high=1.0, error=InvalidOptionError)
        return cls(
            net,
            np.asarray(X, dtype=np.float64),
            np.asarray(y, dtype=np.float64),
            layer=layer,
            w_plus=1.0 if tau == 0.5 else 1.0 - tau,
            w_minus=1.0 if tau == 0.5 else tau,
        )

    # ---- sizes and parameter layout -------------------------------------------------------
    @property
    def n_samples(self) -> int:
        """N."""
        return int(self.X.shape[0])

    @property
    def width(self) -> int:
        """Width ``n_ℓ`` of the trained layer."""
        return int(self.net.weights[self.layer].shape[0])

    @property
    def fan_in(self) -> int:
        """Input width ``n_{ℓ-1}`` of the trained layer."""
        return int(self.net.weights[self.layer].shape[1])

    @property
    def dim(self) -> int:
        """D = n_ℓ (n_{ℓ-1} + 1)."""
        return self.width * (self.fan_in + 1)

    @property
    def theta0(self) -> NDArray[np.float64]:
        """The trained layer's current parameters ``[W.ravel(), b]``."""
        return np.concatenate([self.net.weights[self.layer].ravel(), self.net.biases[self.layer]])

    def _check_theta(self, theta: ArrayLike) -> NDArray[np.float64]:
        return check_array(theta, "theta", ndim=1, shape=(self.dim,), error=InvalidProblemError)

    def network_with(self, theta: ArrayLike) -> ReLUNetwork:
        """The network with ``theta`` plugged into the trained layer."""
        th = self._check_theta(theta)
        n, m = self.width, self.fan_in
        ws = list(self.net.weights)
        bs = list(self.net.biases)
        ws[self.layer] = th[: n * m].reshape(n, m)
        bs[self.layer] = th[n * m :]
        return ReLUNetwork(tuple(ws), tuple(bs), has_output_layer=True)

    # ---- loss evaluation (direct, batched over samples) -------------------------------------
    def residuals(self, theta: ArrayLike) -> NDArray[np.float64]:
        """``f_θ(x_i) - y_i`` for every sample, shape (n_samples,)."""
        th = self._check_theta(theta)
        n, m = self.width, self.fan_in
        h = np.maximum(self.features @ th[: n * m].reshape(n, m).T + th[n * m :], 0.0)
        net = self.net
        for l in range(self.layer + 1, net.n_hidden_layers):
            h = np.maximum(h @ net.weights[l].T + net.biases[l], 0.0)
        out = h @ net.weights[-1].T + net.biases[-1]
        return out[:, 0] - self.y

    def loss(self, theta: ArrayLike) -> float:
        """``L(θ) = Σ_i ρ(r_i(θ))``."""
        r = self.residuals(theta)
        return float(self.w_plus * np.sum(np.maximum(r, 0.0)) + self.w_minus * np.sum(np.maximum(-r, 0.0)))

    # ---- θ-space networks -------------------------------------------------------------------
    def _theta_layers(self) -> tuple[list[NDArray[np.float64]], list[NDArray[np.float64]]]:
        N, n, m = self.n_samples, self.width, self.fan_in
        D = self.dim
        W1 = np.zeros((N * n, D))
        for k in range(n):
            W1[k::n, k * m : (k + 1) * m] = self.features
            W1[k::n, n * m + k] = 1.0
        ws: list[NDArray[np.float64]] = [W1]
        bs: list[NDArray[np.float64]] = [np.zeros(N * n)]
        eye = np.eye(N)
        for l in range(self.layer + 1, self.net.n_hidden_layers):
            ws.append(np.asarray(np.kron(eye, self.net.weights[l]), dtype=np.float64))
            bs.append(np.tile(self.net.biases[l], N))
        return ws, bs

    @cached_property
    def hidden_network(self) -> ReLUNetwork:
        """θ-space network: hidden units = hidden kinks, outputs = predictions ``f_θ(x_i)`` (N of them).

        Hidden unit order: layer by layer, sample-major within a layer
        (unit ``i·n_l + j`` of θ-layer ``l`` is unit ``j`` of sample ``i``).
        """
        ws, bs = self._theta_layers()
        ws.append(np.asarray(np.kron(np.eye(self.n_samples), self.net.weights[-1]), dtype=np.float64))
        bs.append(np.tile(self.net.biases[-1], self.n_samples))
        return ReLUNetwork(tuple(ws), tuple(bs), has_output_layer=True)

    @cached_property
    def loss_network(self) -> ReLUNetwork:
        """θ-space network whose scalar output is ``L(θ)``: hidden kinks, then 2N residual units.

        The last hidden layer holds ``relu(r_i)`` (units ``0..N-1``) and
        ``relu(-r_i)`` (units ``N..2N-1``); the output is
        ``w₊ Σ relu(r_i) + w₋ Σ relu(-r_i)``.
        """
        ws, bs = self._theta_layers()
        N = self.n_samples
        W_out = np.kron(np.eye(N), self.net.weights[-1])
        b_out = np.tile(self.net.biases[-1], N) - self.y
        ws.append(np.vstack([W_out, -W_out]))
        bs.append(np.concatenate([b_out, -b_out]))
        ws.append(np.concatenate([np.full(N, self.w_plus), np.full(N, self.w_minus)])[None, :])
        bs.append(np.zeros(1))
        return ReLUNetwork(tuple(ws), tuple(bs), has_output_layer=True)

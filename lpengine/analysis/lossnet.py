"""The layer-wise L1 problem of the analysis tools, and its loss as a ReLU network whose input is θ.

Training one layer ℓ of a ReLU net ``f`` on data ``(x_i, y_i)`` with the other
layers frozen gives the loss ``L(θ) = Σ_i ρ(f_θ(x_i) - y_i)``, with
``ρ(r) = w₊ r_+ + w₋ r_-`` (``w₊ = w₋ = 1``: the L1 loss ``Σ|r_i|``).

There is one implementation of this loss in lpengine:
:class:`~lpengine.simplex.model.LayerwiseModel`, the model the Deep ReLU Simplex
walks on.  :class:`LayerwiseL1Problem` is the validated problem statement of the
analysis tools (network, data, trained layer, loss weights); its
:attr:`~LayerwiseL1Problem.model` is that model, and every loss value, cell LP
and certificate of :mod:`lpengine.analysis` goes through it.

The layer-ℓ pre-activations ``z_gk = h̃_gᵀθ_k`` are *linear* in θ and
everything downstream is a fixed ReLU net, so ``L`` itself is a ReLU network
with input θ (``deep_relu_simplex.md`` §2, "the rewrite"), which
:func:`theta_network` writes out for the region enumeration:

* θ-layer 1: ``G·n_ℓ`` units (``G`` distinct feature rows of the model), unit
  ``g·n_ℓ + k`` has weight row ``h̃_g`` in the block of neuron ``k`` and bias 0;
* the frozen layers ℓ+1..L, one block-diagonal copy per feature row;
* the model's (merged) samples' predictions, or two more units
  ``relu(±(f_θ(x_i) - y_i))`` per sample and the ``c``-weighted loss as output.

The hidden units are the model's *hidden kinks* in the model's flat order
(layer by layer, feature row by feature row), so an activation pattern of the
θ-network is a cell's hidden sign vector of the model.

Parameter layouts: the public one (``θ = [W_ℓ.ravel(), b_ℓ]``, ``D = n_ℓ (n_{ℓ-1} + 1)``,
what every public function takes and returns) and the model's internal
neuron-major one (``LayerwiseModel.to_public`` / ``from_public``).

The θ-space networks are dense: meant for tiny problems (census, vertex counts,
tests), never for training.
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
from ..simplex.encoding import build_layer_model
from ..simplex.model import LayerwiseModel, RhoLoss

__all__ = ["LayerwiseL1Problem", "theta_network"]


def _frozen(a: NDArray[Any]) -> NDArray[Any]:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


def theta_network(model: LayerwiseModel, *, residuals: bool = False, public: bool = False) -> ReLUNetwork:
    """The loss of ``model`` written out as a ReLU network whose input is θ.

    Parameters
    ----------
    model : LayerwiseModel
        A model of a trained *hidden* layer (``model.K >= 1``, ``mode="layer"``).
    residuals : bool
        False: the outputs are the predictions of the model's ``N`` samples, the
        hidden units its hidden kinks.  True: two more hidden units
        ``relu(r_i)`` (units ``0..N-1`` of the last layer) and ``relu(-r_i)``
        (``N..2N-1``) per sample and the scalar output
        ``Σ c_i (w₊ relu(r_i) + w₋ relu(-r_i)) = L(θ)``.
    public : bool
        Input θ in the public layout ``[W.ravel(), b]`` (default: the model's
        internal layout).

    Returns
    -------
    ReLUNetwork
    """
    if model.K == 0 or model.H is None or model.out_W is None or model.out_b is None:
        raise InvalidProblemError("theta_network needs the model of a trained hidden layer (an output layer above it).")
    G, n0, p, D = model.G, model.n_units, model.p, model.D
    W1 = np.zeros((G * n0, D))
    for k in range(n0):
        W1[k::n0, k * p : (k + 1) * p] = model.H
    if public:
        W1 = W1[:, model.public_perm]
    ws: list[NDArray[np.float64]] = [W1]
    bs: list[NDArray[np.float64]] = [np.zeros(G * n0)]
    eye = np.eye(G)
    for W, b in zip(model.hidden_W, model.hidden_b, strict=True):
        ws.append(np.asarray(np.kron(eye, W), dtype=np.float64))
        bs.append(np.tile(b, G))
    W_out = np.asarray(np.kron(eye, model.out_W), dtype=np.float64)[model.group]
    b_out = np.full(model.N, float(model.out_b[0]))
    if not residuals:
        return ReLUNetwork((*ws, W_out), (*bs, b_out), has_output_layer=True)
    ws.append(np.vstack([W_out, -W_out]))
    bs.append(np.concatenate([b_out - model.y, model.y - b_out]))
    ws.append(np.concatenate([model.loss.w_plus * model.c, model.loss.w_minus * model.c])[None, :])
    bs.append(np.zeros(1))
    return ReLUNetwork(tuple(ws), tuple(bs), has_output_layer=True)


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

    Attributes
    ----------
    features : ndarray, shape (n_samples, fan_in)
        Inputs of the trained layer (the frozen layers below applied to ``X``).
    model : LayerwiseModel
        The loss as the Deep ReLU Simplex models it (duplicate feature rows merged
        into groups, equal samples merged with summed weight); built on first use.

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

    @cached_property
    def model(self) -> LayerwiseModel:
        """The one model of the loss (:class:`~lpengine.simplex.model.LayerwiseModel`)."""
        return build_layer_model(
            self.net, self.X, self.y, layer=self.layer, loss=RhoLoss(self.w_plus, self.w_minus), check_rank=False
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

    def check_theta(self, theta: ArrayLike, name: str = "theta") -> NDArray[np.float64]:
        """``theta`` as a float vector of length :attr:`dim`, or :class:`InvalidProblemError`."""
        return check_array(theta, name, ndim=1, shape=(self.dim,), error=InvalidProblemError)

    def network_with(self, theta: ArrayLike) -> ReLUNetwork:
        """The network with ``theta`` plugged into the trained layer."""
        th = self.check_theta(theta)
        n, m = self.width, self.fan_in
        ws = list(self.net.weights)
        bs = list(self.net.biases)
        ws[self.layer] = th[: n * m].reshape(n, m)
        bs[self.layer] = th[n * m :]
        return ReLUNetwork(tuple(ws), tuple(bs), has_output_layer=True)

    # ---- loss evaluation -------------------------------------------------------------------
    def residuals(self, theta: ArrayLike) -> NDArray[np.float64]:
        """``f_θ(x_i) - y_i`` for every sample (the network's own forward pass), shape (n_samples,)."""
        return np.asarray(self.network_with(theta).forward(self.X)[:, 0] - self.y, dtype=np.float64)

    def loss(self, theta: ArrayLike) -> float:
        """``L(θ) = Σ_i ρ(r_i(θ))``, evaluated by :attr:`model`."""
        return self.model.loss_at(self.model.from_public(self.check_theta(theta)))

    # ---- θ-space networks (public layout) ---------------------------------------------------
    @cached_property
    def hidden_network(self) -> ReLUNetwork:
        """θ-space network: hidden units = hidden kinks, outputs = the model's sample predictions.

        Hidden unit order: layer by layer, feature-row-major within a layer (unit
        ``g·n_l + j`` of θ-layer ``l`` is unit ``j`` of the model's feature row ``g``).
        Without duplicate rows in the data, rows and samples are the data's, in order.
        """
        return theta_network(self.model, public=True)

    @cached_property
    def loss_network(self) -> ReLUNetwork:
        """θ-space network whose scalar output is ``L(θ)``: hidden kinks, then 2N residual units.

        See :func:`theta_network` with ``residuals=True``.
        """
        return theta_network(self.model, residuals=True, public=True)

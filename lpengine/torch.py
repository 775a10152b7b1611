"""PyTorch models trained in place by :func:`~lpengine.train_network` (torch is imported lazily).

>>> from lpengine.torch import fit_layerwise  # doctest: +SKIP
>>> history = fit_layerwise(model, X, y, cycles=5)  # doctest: +SKIP

``model`` is an ``nn.Sequential`` of ``Linear``/``ReLU`` layers (nested
containers and no-op ``Identity``/``Flatten``/``Dropout`` allowed, see
:func:`lpengine.network.torch_layers`) with one output.  Its weights are read
as float64, trained layer by layer with exact Deep ReLU Simplex steps, and
written back into the same parameter tensors (their dtype and device kept).
"""

from __future__ import annotations

from typing import Any, Unpack

import numpy as np
from numpy.typing import NDArray

from .exceptions import InvalidNetworkError, InvalidProblemError
from .network import ReLUNetwork, torch_layers
from .training import TrainingOptions, TrainingResult, train_network

__all__ = ["fit_layerwise", "as_numpy"]


def as_numpy(a: Any, name: str) -> NDArray[np.float64]:
    """A tensor or array-like as a float64 NumPy array (tensors are detached and moved to the CPU)."""
    if hasattr(a, "detach") and hasattr(a, "cpu"):
        a = a.detach().cpu().double().numpy()
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidProblemError(f"{name} cannot be read as a float array: {exc}") from exc


def fit_layerwise(
    model: Any, X: Any, y: Any, *, sample_weight: Any = None, **options: Unpack[TrainingOptions]
) -> TrainingResult:
    """Train a PyTorch ``nn.Sequential`` in place for the L1 (or pinball) loss, one exact layer step at a time.

    Parameters
    ----------
    model : torch.nn.Sequential
        ``Linear``/``ReLU`` layers ending in a ``Linear`` with one output.
    X : tensor or array_like, shape (n_samples, n_in)
    y : tensor or array_like, shape (n_samples,) or (n_samples, 1)
    sample_weight : tensor or array_like, shape (n_samples,), optional
    **options
        ``cycles``, ``order``, ``layers``, ``quantile``, ``time_limit``, ``max_pivots``,
        ``callback``, ``seed``, ``tol``: as :func:`~lpengine.train_network`, with its
        defaults (:class:`~lpengine.training.TrainingOptions`; ``layers`` counts the
        ``Linear`` modules from 0).

    Returns
    -------
    TrainingResult
        The history: ``losses`` (after every layer step, non-increasing), ``steps``
        (layer, status, certificate, vertices, seconds), ``network`` (the trained
        weights as a :class:`~lpengine.ReLUNetwork`, also written into ``model``).

    Raises
    ------
    InvalidNetworkError
        The model holds modules other than ``Linear``/``ReLU`` and no-ops, or has no scalar output.
    ImportError
        PyTorch is not installed.

    Notes
    -----
    Training runs in float64 on the CPU; the result is copied into the model's
    parameters under ``torch.no_grad()``.  A float32 model therefore receives the
    trained weights rounded to float32, so its loss can differ from ``history.fun``
    by that rounding.
    """
    import torch

    net = ReLUNetwork.from_torch(model)
    linears = [m for _, m in torch_layers(model) if m is not None]
    layers = options.get("layers", "all")
    trained = range(len(linears)) if isinstance(layers, str) else layers
    for l in trained:
        if 0 <= l < len(linears) and linears[l].bias is None:
            raise InvalidNetworkError(
                f"Linear layer {l} of the model has no bias, but train_network trains every trained layer's bias; "
                "give it a bias (nn.Linear(..., bias=True)) or leave it out of 'layers'."
            )
    res = train_network(
        net,
        as_numpy(X, "X"),
        as_numpy(y, "y"),
        sample_weight=None if sample_weight is None else as_numpy(sample_weight, "sample_weight"),
        **options,
    )
    with torch.no_grad():
        for lin, W, b in zip(linears, res.network.weights, res.network.biases, strict=True):
            lin.weight.copy_(torch.from_numpy(np.array(W)).to(dtype=lin.weight.dtype, device=lin.weight.device))
            if lin.bias is not None:  # a bias-free layer is never trained (checked above)
                lin.bias.copy_(torch.from_numpy(np.array(b)).to(dtype=lin.bias.dtype, device=lin.bias.device))
    return res

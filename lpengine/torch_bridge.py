"""lpengine's PyTorch bridge: ``nn.Sequential`` models to and from :class:`~lpengine.network.ReLUNetwork`.

torch is imported lazily, inside each function, so lpengine works without it
(the optional extra ``lpengine[torch]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .exceptions import InvalidNetworkError

if TYPE_CHECKING:
    from .network import ReLUNetwork

__all__ = ["torch_layers", "network_from_torch", "network_to_torch"]


def network_from_torch(module: Any, cls: type[ReLUNetwork]) -> ReLUNetwork:
    """The network of a ``nn.Sequential`` (see :meth:`ReLUNetwork.from_torch`), as an instance of ``cls``."""
    torch, _ = import_torch("ReLUNetwork.from_torch")
    ws: list[NDArray[np.float64]] = []
    bs: list[NDArray[np.float64]] = []
    relu_after: list[bool] = []
    for path, m in torch_layers(module):
        if m is None:  # a ReLU
            if not relu_after or relu_after[-1]:
                raise InvalidNetworkError(f"module {path} is a ReLU not directly after a Linear layer.")
            relu_after[-1] = True
            continue
        with torch.no_grad():
            ws.append(m.weight.detach().cpu().double().numpy())
            b = m.bias
            bs.append(np.zeros(m.out_features) if b is None else b.detach().cpu().double().numpy())
        relu_after.append(False)
    if not ws:
        raise InvalidNetworkError("the nn.Sequential has no Linear layer.")
    if not all(relu_after[:-1]):
        bad = relu_after.index(False)
        raise InvalidNetworkError(f"Linear layer {bad} is not followed by a ReLU but is not the last layer.")
    return cls(tuple(ws), tuple(bs), has_output_layer=not relu_after[-1])


def network_to_torch(net: ReLUNetwork, *, dtype: Any = None) -> Any:
    """The ``nn.Sequential`` of ``net`` (see :meth:`ReLUNetwork.to_torch`)."""
    torch, nn = import_torch("ReLUNetwork.to_torch")
    dtype = torch.float64 if dtype is None else dtype
    mods: list[Any] = []
    for l, (w, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        lin = nn.Linear(w.shape[1], w.shape[0]).to(dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.array(w)))
            lin.bias.copy_(torch.from_numpy(np.array(b)))
        mods.append(lin)
        if l < net.n_hidden_layers:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


def import_torch(what: str) -> tuple[Any, Any]:
    """``(torch, torch.nn)``, or an ImportError naming ``what`` and the install command."""
    try:
        import torch
        from torch import nn
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"{what} needs PyTorch: pip install 'lpengine[torch]' (CPU wheel: pip install torch==2.13.0)."
        ) from exc
    return torch, nn


def torch_layers(module: Any) -> list[tuple[str, Any]]:
    """The ``Linear`` and ``ReLU`` leaves of a (nested) ``nn.Sequential``, in order, with their paths.

    Each item is ``(path, linear)`` for an ``nn.Linear`` and ``(path, None)`` for an
    ``nn.ReLU``; ``path`` is the dotted index path (``"1.0"``: module 0 of the
    nested module 1).  No-op modules are skipped: ``nn.Identity``, ``nn.Flatten``
    with ``start_dim=1, end_dim=-1`` (the identity on ``(batch, features)``
    tensors) and ``nn.Dropout`` (the identity in evaluation mode).

    Raises
    ------
    InvalidNetworkError
        ``module`` is not an ``nn.Sequential``, or contains another module (named by path and type).
    """
    _, nn = import_torch("lpengine's PyTorch bridge")
    if not isinstance(module, nn.Sequential):
        raise InvalidNetworkError(f"expected an nn.Sequential; got {type(module).__name__}.")
    out: list[tuple[str, Any]] = []

    def walk(seq: Any, prefix: str) -> None:
        for name, m in seq.named_children():
            path = f"{prefix}{name}"
            if isinstance(m, nn.Sequential):
                walk(m, path + ".")
            elif isinstance(m, nn.Linear):
                out.append((path, m))
            elif isinstance(m, nn.ReLU):
                out.append((path, None))
            elif isinstance(m, (nn.Identity, nn.Dropout)):
                continue
            elif isinstance(m, nn.Flatten):
                if (m.start_dim, m.end_dim) != (1, -1):
                    raise InvalidNetworkError(
                        f"module {path} is nn.Flatten(start_dim={m.start_dim}, end_dim={m.end_dim}); only "
                        "nn.Flatten(start_dim=1, end_dim=-1), a no-op on (batch, features) inputs, is supported."
                    )
            else:
                raise InvalidNetworkError(
                    f"module {path} is {type(m).__name__}; only Linear and ReLU (and the no-ops Identity, "
                    "Flatten, Dropout, nested Sequential) are supported."
                )

    walk(module, "")
    return out

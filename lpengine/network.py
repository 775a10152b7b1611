"""Feed-forward ReLU networks as exact piecewise-affine maps.

A :class:`ReLUNetwork` with hidden widths ``n_1..n_L`` computes

    h^0 = x,   z^l = W^l h^{l-1} + b^l,   h^l = relu(z^l)   (l = 1..L),
    out = W^{L+1} h^L + b^{L+1}                               (optional output layer).

Fixing the *activation pattern* (which hidden units are active) makes every
pre-activation an affine function of ``x``; :meth:`ReLUNetwork.local_affine_map`
returns these functions by masked composition.  Indices in lpengine count
weight matrices from 0: ``weights[0]`` maps the input to the first hidden layer.

The file layout of :meth:`ReLUNetwork.save` / :meth:`ReLUNetwork.load` is
:mod:`lpengine.network_npz`; the PyTorch conversions live in
:mod:`lpengine.torch_bridge`.  ``NPZ_FORMAT_VERSION`` and ``torch_layers`` are
importable from here as well.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._validation import check_array, check_int, check_scalar
from .exceptions import InvalidNetworkError
from .network_npz import NPZ_FORMAT_VERSION, load_network, save_network
from .tolerances import Tolerances, resolve_tolerances
from .torch_bridge import network_from_torch, network_to_torch, torch_layers

__all__ = ["ReLUNetwork", "LocalAffineMap", "NPZ_FORMAT_VERSION", "torch_layers"]


@dataclass(frozen=True)
class LocalAffineMap:
    """The affine functions a network computes on one activation region.

    Attributes
    ----------
    A : ndarray, shape (n_hidden, n_in)
        Row ``k`` is the gradient ``alpha_k`` of hidden unit ``k``'s
        pre-activation (units ordered layer by layer).
    c : ndarray, shape (n_hidden,)
        Offsets ``beta_k``: ``z_k(x) = A[k] @ x + c[k]`` on the region.
    out_A : ndarray, shape (n_out, n_in) or None
        The network output ``out(x) = out_A @ x + out_c`` on the region, when
        the network has an output layer.
    out_c : ndarray, shape (n_out,) or None
    """

    A: NDArray[np.float64]
    c: NDArray[np.float64]
    out_A: NDArray[np.float64] | None
    out_c: NDArray[np.float64] | None

    @property
    def rank(self) -> int | None:
        """Rank of the output map (``None`` without an output layer)."""
        if self.out_A is None:
            return None
        return int(np.linalg.matrix_rank(self.out_A)) if self.out_A.size else 0


def _freeze(arr: NDArray[np.float64]) -> NDArray[np.float64]:
    arr = np.array(arr, dtype=np.float64, copy=True)
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False)
class ReLUNetwork:
    """A feed-forward ReLU network with float64 parameters.

    Parameters
    ----------
    weights : sequence of ndarray
        ``weights[l]`` has shape ``(n_{l+1}, n_l)`` (out, in).
    biases : sequence of ndarray
        ``biases[l]`` has shape ``(n_{l+1},)``.
    has_output_layer : bool, default True
        If True the last ``(weights, biases)`` pair is an affine output layer
        without ReLU; every other pair is a hidden ReLU layer.  If False every
        layer is a hidden ReLU layer and the "output" is the last hidden layer.

    Raises
    ------
    InvalidNetworkError
        (a ``ValueError``) if shapes do not chain, a layer is empty, an entry
        is NaN/inf, the dtype is not real numeric, or there is no hidden layer.

    Examples
    --------
    >>> net = ReLUNetwork.random(2, [3, 3], n_out=1, seed=0)
    >>> net.hidden_widths, net.n_hidden, net.has_output_layer
    ((3, 3), 6, True)
    """

    weights: tuple[NDArray[np.float64], ...]
    biases: tuple[NDArray[np.float64], ...]
    has_output_layer: bool = True
    _offsets: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.has_output_layer, (bool, np.bool_)):
            raise InvalidNetworkError(f"has_output_layer must be a bool. Got {self.has_output_layer!r}.")
        ws, bs = list(self.weights), list(self.biases)
        if len(ws) != len(bs):
            raise InvalidNetworkError(
                f"got {len(ws)} weight matrices but {len(bs)} bias vectors; expected one bias per layer."
            )
        n_hidden_layers = len(ws) - (1 if self.has_output_layer else 0)
        if n_hidden_layers < 1:
            raise InvalidNetworkError(
                f"the network has no hidden ReLU layer ({len(ws)} layer(s), "
                f"has_output_layer={bool(self.has_output_layer)}); expected at least one."
            )
        fw, fb = [], []
        prev = None
        for l, (w, b) in enumerate(zip(ws, bs, strict=True)):
            w = check_array(w, f"weights[{l}]", ndim=2, error=InvalidNetworkError)
            if prev is not None and w.shape[1] != prev:
                raise InvalidNetworkError(
                    f"weights[{l}] has shape {w.shape}; expected ({w.shape[0]}, {prev}) "
                    f"because layer {l - 1} has {prev} outputs (shapes do not chain)."
                )
            b = check_array(b, f"biases[{l}]", ndim=1, error=InvalidNetworkError)
            if b.shape[0] != w.shape[0]:
                raise InvalidNetworkError(
                    f"biases[{l}] has shape {b.shape}; expected ({w.shape[0]},) to match weights[{l}]."
                )
            prev = w.shape[0]
            fw.append(_freeze(w))
            fb.append(_freeze(b))
        object.__setattr__(self, "weights", tuple(fw))
        object.__setattr__(self, "biases", tuple(fb))
        object.__setattr__(self, "has_output_layer", bool(self.has_output_layer))
        widths = [w.shape[0] for w in fw[:n_hidden_layers]]
        object.__setattr__(self, "_offsets", tuple(int(v) for v in np.concatenate([[0], np.cumsum(widths)])))

    # ------------------------------------------------------------------ shape
    @property
    def n_in(self) -> int:
        """Input dimension ``n_0``."""
        return int(self.weights[0].shape[1])

    @property
    def hidden_widths(self) -> tuple[int, ...]:
        """Widths ``(n_1, ..., n_L)`` of the hidden ReLU layers."""
        return tuple(int(w.shape[0]) for w in self.weights[: self.n_hidden_layers])

    @property
    def n_hidden_layers(self) -> int:
        """Number ``L`` of hidden ReLU layers."""
        return len(self.weights) - (1 if self.has_output_layer else 0)

    @property
    def n_hidden(self) -> int:
        """Total number ``N`` of hidden units."""
        return self._offsets[-1]

    @property
    def n_out(self) -> int:
        """Output dimension (the last hidden width without an output layer)."""
        return int(self.weights[-1].shape[0])

    @property
    def layer_offsets(self) -> tuple[int, ...]:
        """Unit ``j`` of hidden layer ``l`` has flat index ``layer_offsets[l] + j``."""
        return self._offsets

    def unit_layer(self, k: int) -> int:
        """Hidden layer (0-based) of flat unit index ``k``."""
        return int(np.searchsorted(self._offsets, k, side="right") - 1)

    def __repr__(self) -> str:
        return (
            f"ReLUNetwork(n_in={self.n_in}, hidden_widths={list(self.hidden_widths)}, "
            f"n_out={self.n_out if self.has_output_layer else None})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReLUNetwork):
            return NotImplemented
        return (
            self.has_output_layer == other.has_output_layer
            and len(self.weights) == len(other.weights)
            and all(np.array_equal(a, b) for a, b in zip(self.weights, other.weights, strict=True))
            and all(np.array_equal(a, b) for a, b in zip(self.biases, other.biases, strict=True))
        )

    __hash__ = None  # type: ignore[assignment]  # unhashable on purpose (mutable arrays); the stubs expect a method

    # ----------------------------------------------------------- construction
    @classmethod
    def random(
        cls,
        n_in: int,
        hidden_widths: Sequence[int],
        *,
        n_out: int | None = 1,
        seed: int | np.random.Generator | None = None,
        weight_scale: float = 1.0,
        bias_std: float = 1.0,
    ) -> ReLUNetwork:
        """A random network with He-normal weights and Gaussian biases.

        ``W^l`` has i.i.d. entries ``N(0, weight_scale**2 * 2 / fan_in)`` (He et al.
        2015) and ``b^l`` i.i.d. ``N(0, bias_std**2)``.  Non-zero biases keep the
        hyperplanes from all passing through the origin, so random networks are
        in general position with probability one.

        Parameters
        ----------
        n_in : int
            Input dimension (>= 1).
        hidden_widths : sequence of int
            Widths of the hidden ReLU layers (each >= 1, at least one layer).
        n_out : int or None, default 1
            Width of the affine output layer; ``None`` for no output layer.
        seed : int, Generator or None
            Passed to ``numpy.random.default_rng``.
        """
        n_in = check_int(n_in, "n_in", low=1, error=InvalidNetworkError)
        widths = [
            check_int(w, f"hidden_widths[{i}]", low=1, error=InvalidNetworkError) for i, w in enumerate(hidden_widths)
        ]
        if not widths:
            raise InvalidNetworkError("hidden_widths is empty; expected at least one hidden layer.")
        if n_out is not None:
            n_out = check_int(n_out, "n_out", low=1, error=InvalidNetworkError)
        weight_scale = check_scalar(weight_scale, "weight_scale", low=0.0, error=InvalidNetworkError)
        bias_std = check_scalar(bias_std, "bias_std", low=0.0, low_inclusive=True, error=InvalidNetworkError)
        rng = np.random.default_rng(seed)
        dims = [n_in, *widths] + ([n_out] if n_out is not None else [])
        ws, bs = [], []
        for fan_in, fan_out in zip(dims[:-1], dims[1:], strict=True):
            ws.append(rng.normal(0.0, weight_scale * np.sqrt(2.0 / fan_in), size=(fan_out, fan_in)))
            bs.append(rng.normal(0.0, bias_std, size=fan_out) if bias_std > 0 else np.zeros(fan_out))
        return cls(tuple(ws), tuple(bs), has_output_layer=n_out is not None)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the network to ``.npz``.

        Layout: arrays ``W0, b0, W1, b1, ...`` in layer order, plus the 0-d
        arrays ``has_output_layer`` (bool: whether the last pair is the affine
        output layer) and ``format_version`` (int, currently 1).
        """
        save_network(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ReLUNetwork:
        """Read a network written by :meth:`save` (see there for the layout).

        A file without the ``has_output_layer`` marker is rejected: whether the
        last layer has a ReLU changes every result, so it is never guessed.
        """
        return load_network(path, cls)

    @classmethod
    def from_torch(cls, module: Any) -> ReLUNetwork:
        """Convert a PyTorch ``nn.Sequential`` of ``Linear`` and ``ReLU`` modules (float64 copy).

        Every ``Linear`` followed by a ``ReLU`` is a hidden layer; a final ``Linear``
        without ``ReLU`` is the output layer.  Nested ``nn.Sequential`` containers are
        flattened; ``nn.Identity``, ``nn.Flatten()`` with its default dimensions
        (a no-op on ``(batch, features)`` tensors) and ``nn.Dropout`` (the identity
        in evaluation mode) are skipped.  Anything else raises
        :class:`~lpengine.exceptions.InvalidNetworkError` naming the module's path.
        Requires the optional ``torch`` extra.

        Examples
        --------
        >>> from torch import nn  # doctest: +SKIP
        >>> ReLUNetwork.from_torch(nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(2, 3), nn.ReLU()),
        ...                                      nn.Linear(3, 1)))  # doctest: +SKIP
        ReLUNetwork(n_in=2, hidden_widths=[3], n_out=1)
        """
        return network_from_torch(module, cls)

    def to_torch(self, *, dtype: Any = None) -> Any:
        """The equivalent PyTorch ``nn.Sequential`` of ``Linear``/``ReLU``; needs the ``torch`` extra.

        Parameters
        ----------
        dtype : torch.dtype, optional
            Parameter dtype; default ``torch.float64`` (exact copy of the weights).
        """
        return network_to_torch(self, dtype=dtype)

    # -------------------------------------------------------------- evaluation
    def _check_X(self, X: Any) -> tuple[NDArray[np.float64], bool]:
        arr = np.asarray(X)
        single = arr.ndim == 1
        arr = check_array(arr.reshape(1, -1) if single else arr, "X", ndim=2)
        if arr.shape[1] != self.n_in:
            raise ValueError(f"X has {arr.shape[1]} features; expected n_in = {self.n_in}.")
        return arr, single

    def preactivations(self, X: Any) -> NDArray[np.float64]:
        """Hidden pre-activations ``z``, shape ``(n_samples, n_hidden)`` (or ``(n_hidden,)`` for one point)."""
        arr, single = self._check_X(X)
        zs = []
        h = arr
        for l in range(self.n_hidden_layers):
            z = h @ self.weights[l].T + self.biases[l]
            zs.append(z)
            h = np.maximum(z, 0.0)
        out = np.concatenate(zs, axis=1)
        return out[0] if single else out

    def forward(self, X: Any) -> NDArray[np.float64]:
        """Network output, shape ``(n_samples, n_out)`` (or ``(n_out,)`` for one point)."""
        arr, single = self._check_X(X)
        h = arr
        for l in range(self.n_hidden_layers):
            h = np.maximum(h @ self.weights[l].T + self.biases[l], 0.0)
        if self.has_output_layer:
            h = h @ self.weights[-1].T + self.biases[-1]
        return h[0] if single else h

    __call__ = forward

    def activation_pattern(self, X: Any, *, tol: Tolerances | None = None) -> NDArray[np.int8]:
        """Signs of the hidden pre-activations: +1 active, -1 inactive, 0 ambiguous.

        A unit is ambiguous when ``|z| <= tol.activation``: the point lies on its
        hyperplane (numerically) and lpengine does not pick a side silently.
        Shape ``(n_samples, n_hidden)``, or ``(n_hidden,)`` for one point.
        """
        t = resolve_tolerances(tol)
        z = self.preactivations(X)
        s = np.sign(z).astype(np.int8)
        s[np.abs(z) <= t.activation] = 0
        return s

    def local_affine_map(self, active: Any) -> LocalAffineMap:
        """Affine pre-activations (and output) on the region with the given pattern.

        Parameters
        ----------
        active : array_like of bool or of +1/-1, shape (n_hidden,)
            Which hidden units are active (True / +1).

        Notes
        -----
        Masked composition: ``(A^1, c^1) = (W^1, b^1)`` and
        ``(A^{l+1}, c^{l+1}) = (W^{l+1} diag(m^l) A^l, W^{l+1} diag(m^l) c^l + b^{l+1})``
        with ``m^l`` the 0/1 activity of layer ``l``.  Cost ``O(sum_l n_l n_{l-1} n_0)``.
        """
        m = np.asarray(active)
        if m.shape != (self.n_hidden,):
            raise ValueError(f"active has shape {m.shape}; expected ({self.n_hidden},).")
        mask = m > 0 if m.dtype != np.bool_ else m
        return self._local_affine_map(mask)

    def _local_affine_map(self, mask: NDArray[np.bool_]) -> LocalAffineMap:
        # Trusted fast path for the enumerators: mask is a bool array of length n_hidden.
        offs = self._offsets
        L = self.n_hidden_layers
        A_blocks, c_blocks = [], []
        A = self.weights[0]
        c = self.biases[0]
        for l in range(L):
            A_blocks.append(A)
            c_blocks.append(c)
            ml = mask[offs[l] : offs[l + 1]]
            Am = A * ml[:, None]
            cm = c * ml
            if l + 1 < len(self.weights):
                W = self.weights[l + 1]
                A = W @ Am
                c = W @ cm + self.biases[l + 1]
        out_A = out_c = None
        if self.has_output_layer:
            out_A, out_c = A, c
        return LocalAffineMap(np.concatenate(A_blocks, axis=0), np.concatenate(c_blocks), out_A, out_c)

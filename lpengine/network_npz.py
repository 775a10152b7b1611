"""The ``.npz`` file layout of a :class:`~lpengine.network.ReLUNetwork` (``save`` and ``load``).

Arrays ``W0, b0, W1, b1, ...`` in layer order, plus the 0-d arrays
``has_output_layer`` (bool: whether the last pair is the affine output layer)
and ``format_version`` (int, :data:`NPZ_FORMAT_VERSION`).  Files are read with
``allow_pickle=False``; a file without the ``has_output_layer`` marker is
rejected, since whether the last layer has a ReLU changes every result.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import check_numpy_file
from .exceptions import InvalidNetworkError

if TYPE_CHECKING:
    from .network import ReLUNetwork

__all__ = ["NPZ_FORMAT_VERSION", "save_network", "load_network"]

#: Version of the ``.npz`` layout written by :meth:`ReLUNetwork.save`.
NPZ_FORMAT_VERSION = 1


def save_network(net: ReLUNetwork, path: str | os.PathLike[str]) -> None:
    """Write ``net`` to ``path`` in the layout of the module docstring."""
    arrays: dict[str, Any] = {}
    for l, (w, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        arrays[f"W{l}"] = w
        arrays[f"b{l}"] = b
    arrays["has_output_layer"] = np.array(net.has_output_layer)
    arrays["format_version"] = np.array(NPZ_FORMAT_VERSION)
    np.savez(path, **arrays)


def load_network(path: str | os.PathLike[str], cls: type[ReLUNetwork]) -> ReLUNetwork:
    """Read a network file, its arrays and marker checked, as an instance of ``cls``."""
    check_numpy_file(path, what="network file", error=InvalidNetworkError)
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InvalidNetworkError(f"cannot read network file {os.fspath(path)!r}: {exc}") from exc
    with data:
        keys = set(data.files)
        if "has_output_layer" not in keys:
            raise InvalidNetworkError(
                f"network file {os.fspath(path)!r} has no 'has_output_layer' array; expected a 0-d bool "
                "saying whether the last (W, b) pair is an affine output layer."
            )
        marker = data["has_output_layer"]
        if marker.shape != () or marker.dtype.kind not in "bi":
            raise InvalidNetworkError(
                f"'has_output_layer' in {os.fspath(path)!r} must be a 0-d bool; got shape {marker.shape}, dtype {marker.dtype}."
            )
        n = 0
        while f"W{n}" in keys:
            n += 1
        if n == 0:
            raise InvalidNetworkError(f"network file {os.fspath(path)!r} has no array 'W0'.")
        expected = {f"W{l}" for l in range(n)} | {f"b{l}" for l in range(n)}
        missing = sorted(expected - keys)
        if missing:
            raise InvalidNetworkError(f"network file {os.fspath(path)!r} lacks arrays {missing}.")
        extra = sorted(keys - expected - {"has_output_layer", "format_version"})
        if extra:
            raise InvalidNetworkError(
                f"network file {os.fspath(path)!r} has unexpected arrays {extra} "
                f"(layers must be numbered W0..W{n - 1} without gaps)."
            )
        ws = tuple(data[f"W{l}"] for l in range(n))
        bs = tuple(data[f"b{l}"] for l in range(n))
        try:
            return cls(ws, bs, has_output_layer=bool(marker))
        except InvalidNetworkError as exc:
            # Say it in the file's own names: array W1, not weights[1].
            msg = re.sub(r"biases\[(\d+)\]", r"b\1", re.sub(r"weights\[(\d+)\]", r"W\1", str(exc)))
            raise InvalidNetworkError(f"network file {os.fspath(path)!r}: {msg}") from exc

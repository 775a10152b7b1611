"""Seeded test networks and data shared by the Deep ReLU Simplex tests."""

from __future__ import annotations

import numpy as np

from lpengine.network import ReLUNetwork


def uniform_net(n_in, widths, seed, scale=1.0):
    """``n_in -> widths -> 1`` with weights and biases uniform in ``[-scale, scale]``, rounded to 3 decimals."""
    rng = np.random.default_rng(seed)
    dims = [n_in, *widths, 1]
    ws = tuple(np.round(rng.uniform(-scale, scale, (b, a)), 3) for a, b in zip(dims[:-1], dims[1:], strict=True))
    bs = tuple(np.round(rng.uniform(-scale, scale, b), 3) for b in dims[1:])
    return ReLUNetwork(ws, bs)


def data(n, n_in, seed):
    """``n`` inputs and targets uniform in ``[-2, 2]``."""
    rng = np.random.default_rng(seed + 100)
    return rng.uniform(-2, 2, (n, n_in)), rng.uniform(-2, 2, n)

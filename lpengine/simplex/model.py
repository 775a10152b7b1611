"""The layer-wise loss as a piecewise-affine function of one layer's parameters.

With the data and every other layer frozen, the loss

    L(theta) = sum_i c_i * rho(r_i(theta)),   rho(r) = w_plus * r_+ + w_minus * r_-,

is the output of a ReLU network whose *input* is ``theta``: the trained layer's
pre-activations ``Z_0 = H Theta^T`` are linear in ``theta`` (``H`` holds the
frozen features ``h_i`` with a trailing 1), the frozen layers above are ReLU
layers, and the residuals ``r_i = out_i - y_i`` feed the loss.  The *kinks* are
the scalar functions on whose zero sets ``L`` may bend:

* hidden kinks ``z_{g,l,u}``: pre-activation of unit ``u`` of kink layer ``l``
  (layer 0 is the trained layer) for the distinct feature row ``g``;
* residual kinks ``r_i`` (absent when ``w_plus + w_minus = 0``: a linear loss).

Duplicate feature rows are merged into *groups* (their hidden kinks coincide and
are treated as one kink); samples with the same row and target are merged into
one sample with summed weight ``c``.  Every quantity is batched over groups, and
the masks of the ReLUs always come from the *tracked* sign pattern, never from
noisy values (reference notes ``deep_relu_simplex.md`` §2).

Kink ids.  Hidden kink ``(l, g, u)`` has flat id ``G * off[l] + g * n_l + u``
(layer-major blocks), residual kink ``i`` has id ``G * n_hidden + i``.  The flat
vector of all kink values is ``concat([Z_l.ravel() for l], r)``.

The model holds the data, the kink numbering and the parameter layouts, and evaluates the loss;
its batched forward and reverse passes (rates, adjoints, gradients, kink normals) are inherited
from :class:`~lpengine.simplex.passes.BatchedPasses`, and ``rho`` is
:class:`~lpengine.simplex.rho.RhoLoss`.

Parameters are stored internally neuron by neuron (row ``k`` of ``Theta`` is
``(w_k, b_k)``); :attr:`LayerwiseModel.to_public` converts to the public layout
``[W.ravel(), b]``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from .passes import BatchedPasses, Masks
from .rho import RhoLoss, loss_for_quantile

__all__ = ["RhoLoss", "LayerwiseModel", "Masks", "loss_for_quantile"]


class LayerwiseModel(BatchedPasses):
    """Batched evaluation of the layer-wise loss, its kinks and their derivatives.

    Built by :mod:`lpengine.simplex.encoding`; internal to the simplex package.

    Parameters
    ----------
    H : ndarray, shape (G, p) or None
        Distinct feature rows of the trained layer, with a trailing 1
        (``mode="layer"``).  ``None`` in ``mode="input"``.
    W_in, b_in : ndarray or None
        ``mode="input"`` (argument minimisation): ``Z_0 = W_in @ theta + b_in``
        for one group.
    hidden_W, hidden_b : list of ndarray
        Frozen layers mapping kink layer ``l`` to ``l + 1``.
    out_W, out_b : ndarray or None
        Output layer (shape ``(1, n_{K-1})``); ``None`` when ``K == 0`` (the
        trained layer is the output layer, or LAD).
    group : ndarray of int, shape (N,)
        Group of every (merged) sample.
    y, c : ndarray, shape (N,)
        Targets and weights of the merged samples.
    loss : RhoLoss
    n_units : int
        Width ``n_0`` of the trained layer.
    public_perm : ndarray of int, shape (D,)
        ``theta_public = theta_internal[public_perm]``.
    """

    def __init__(
        self,
        *,
        mode: str,
        H: NDArray[np.float64] | None,
        W_in: NDArray[np.float64] | None,
        b_in: NDArray[np.float64] | None,
        hidden_W: list[NDArray[np.float64]],
        hidden_b: list[NDArray[np.float64]],
        out_W: NDArray[np.float64] | None,
        out_b: NDArray[np.float64] | None,
        group: NDArray[np.int64],
        y: NDArray[np.float64],
        c: NDArray[np.float64],
        loss: RhoLoss,
        n_units: int,
        public_perm: NDArray[np.int64],
    ):
        self.mode = mode
        self.H = H
        self.W_in = W_in
        self.b_in = b_in
        self.hidden_W = hidden_W
        self.hidden_b = hidden_b
        self.out_W = out_W
        # Contiguous transposes: ``a @ W.T`` on a transposed view is several times slower for these shapes.
        self.hidden_WT = [np.ascontiguousarray(W.T) for W in hidden_W]
        self.out_WT = None if out_W is None else np.ascontiguousarray(out_W.T)
        self.out_b = out_b
        self.group = np.asarray(group, dtype=np.int64)
        self.y = y
        self.c = c
        self.loss = loss
        self.n_units = n_units
        self.public_perm = public_perm
        self.inverse_perm = np.argsort(public_perm)
        # The mode decides which arrays exist: H in mode "layer", W_in/b_in in mode "input", out_W/out_b
        # when K > 0.  Methods narrow them with an assert where the mode or K guarantees them.
        if mode == "layer":
            assert H is not None
            self.G, self.p = int(H.shape[0]), int(H.shape[1])
        else:
            assert W_in is not None
            self.G, self.p = 1, int(W_in.shape[1])
        self.D = n_units * self.p if mode == "layer" else self.p
        # Kink layers: the trained layer is a ReLU layer iff there is an output layer above it.
        self.K = 0 if out_W is None else 1 + len(hidden_W)
        self.widths = [n_units] + [int(W.shape[0]) for W in hidden_W] if self.K else []
        self.off = np.concatenate([[0], np.cumsum(self.widths)]).astype(np.int64) if self.K else np.zeros(1, np.int64)
        self.n_hidden = int(self.off[-1])
        self.N = int(self.y.shape[0])
        self.n_hidden_kinks = self.G * self.n_hidden
        self.M = self.n_hidden_kinks + self.N
        # Samples of every group (CSR layout).
        order = np.argsort(self.group, kind="stable")
        self.group_samples = order
        self.group_ptr = np.concatenate([[0], np.cumsum(np.bincount(self.group, minlength=self.G))]).astype(np.int64)
        self.single_sample_groups = bool(np.all(np.diff(self.group_ptr) == 1))
        # Flat ids of every group's hidden kinks, shape (G, n_hidden).
        ids = [
            self.G * self.off[l] + np.arange(self.G)[:, None] * self.widths[l] + np.arange(self.widths[l])[None, :]
            for l in range(self.K)
        ]
        self.hidden_ids = np.concatenate(ids, axis=1) if self.K else np.zeros((self.G, 0), np.int64)
        # Layer/unit of each column of hidden_ids.
        self.col_layer = (
            np.concatenate([np.full(w, l) for l, w in enumerate(self.widths)]).astype(np.int64)
            if self.K
            else np.zeros(0, np.int64)
        )
        self.col_unit = (
            np.concatenate([np.arange(w) for w in self.widths]).astype(np.int64) if self.K else np.zeros(0, np.int64)
        )
        # A kink is "real" if the loss can bend there (the residuals of a linear loss are not).
        self.kink_mask = np.ones(self.M, dtype=bool)
        if not loss.kinked:
            self.kink_mask[self.n_hidden_kinks :] = False
        self.all_kinks = bool(np.all(self.kink_mask))
        # Every group is the one sample of the same index (no duplicate rows): group sums are identities.
        self.identity_groups = bool(self.G == self.N and np.array_equal(self.group, np.arange(self.N)))
        self._decode_tables()

    def samples_of(self, gs: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Samples of the groups ``gs`` and, for each, its position in ``gs``."""
        starts = self.group_ptr[gs]
        if self.single_sample_groups:
            return self.group_samples[starts], np.arange(len(gs))
        cnt = self.group_ptr[gs + 1] - starts
        owner = np.repeat(np.arange(len(gs)), cnt)
        first = np.cumsum(cnt) - cnt
        idx = np.arange(int(cnt.sum())) - first[owner] + starts[owner]
        return self.group_samples[idx], owner

    # ------------------------------------------------------------------ ids
    def decode(self, ids: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """``(layer, group, unit)`` of kink ids; residual kinks get ``layer = K``, ``unit`` = sample."""
        return self.kink_layer[ids], self.kink_group[ids], self.kink_unit[ids]

    def _decode_tables(self) -> None:
        ids = np.arange(self.M, dtype=np.int64)
        layer = np.full(self.M, self.K, dtype=np.int64)
        grp = np.zeros(self.M, dtype=np.int64)
        unit = np.zeros(self.M, dtype=np.int64)
        res = ids >= self.n_hidden_kinks
        sample = ids[res] - self.n_hidden_kinks
        grp[res] = self.group[sample]
        unit[res] = sample
        if self.K:
            hid = ~res
            blk = np.searchsorted(self.G * self.off, ids[hid], side="right") - 1
            rem = ids[hid] - self.G * self.off[blk]
            w = np.asarray(self.widths)[blk]
            layer[hid] = blk
            grp[hid] = rem // w
            unit[hid] = rem % w
        self.kink_layer, self.kink_group, self.kink_unit = layer, grp, unit

    def to_public(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """Internal (neuron-block) layout to the public ``[W.ravel(), b]`` layout (works on 2-D stacks)."""
        return theta[..., self.public_perm]

    def from_public(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """Inverse of :meth:`to_public`."""
        return theta[..., self.inverse_perm]

    # ------------------------------------------------------------------ loss
    def values(
        self, theta: NDArray[np.float64], masks: Masks | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        """Flat kink values ``(M,)``, residuals ``(N,)`` and the loss at ``theta``."""
        zs, out = self.forward(theta, masks)
        r = out[self.group] - self.y
        flat = np.concatenate([z.ravel() for z in zs] + [r]) if zs else r.copy()
        return flat, r, self.loss.value(r, self.c)

    def loss_at(self, theta: NDArray[np.float64]) -> float:
        """Exact loss at ``theta`` with true ReLUs (independent of any tracked pattern)."""
        _, out = self.forward(theta, None)
        return self.loss.value(out[self.group] - self.y, self.c)

    def accurate_loss(self, theta: NDArray[np.float64]) -> float:
        """The loss of ``theta`` itself, as reported: true ReLUs, and the per-sample terms summed with
        ``math.fsum`` (correctly rounded), so the only error is the forward pass's rounding (bounded by
        :func:`~lpengine.simplex.collapse.loss_error_bound`) and the value depends on ``theta`` alone,
        not on a walk's tracked pattern or summation order."""
        _, out = self.forward(theta, None)
        r = out[self.group] - self.y
        lw = self.loss
        terms = self.c * (lw.w_plus * np.maximum(r, 0.0) + lw.w_minus * np.maximum(-r, 0.0))
        return math.fsum(terms.tolist())

    def signs_at(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """Flat kink values at ``theta`` with true ReLUs."""
        zs, out = self.forward(theta, None)
        r = out[self.group] - self.y
        return np.concatenate([z.ravel() for z in zs] + [r]) if zs else r

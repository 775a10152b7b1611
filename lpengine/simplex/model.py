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

Parameters are stored internally neuron by neuron (row ``k`` of ``Theta`` is
``(w_k, b_k)``); :attr:`LayerwiseModel.to_public` converts to the public layout
``[W.ravel(), b]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["RhoLoss", "LayerwiseModel", "loss_for_quantile"]


@dataclass(frozen=True)
class RhoLoss:
    """``rho(r) = w_plus * max(r, 0) + w_minus * max(-r, 0)`` for ``r = prediction - target``.

    L1 is ``(1, 1)``; the pinball loss of quantile ``tau`` is ``(1 - tau, tau)``;
    the linear loss ``rho(r) = r`` (argument minimisation) is ``(1, -1)``.
    """

    w_plus: float
    w_minus: float

    @property
    def kinked(self) -> bool:
        """Whether the residuals are kinks (the slope jumps by ``w_plus + w_minus`` at 0)."""
        return self.w_plus + self.w_minus != 0.0

    @property
    def jump(self) -> float:
        """Slope jump of ``rho`` at 0."""
        return self.w_plus + self.w_minus

    def value(self, r: NDArray[np.float64], c: NDArray[np.float64]) -> float:
        """``sum_i c_i rho(r_i)`` (compensated by summing positive and negative parts apart)."""
        pos = np.maximum(r, 0.0)
        neg = np.maximum(-r, 0.0)
        return float(self.w_plus * np.dot(c, pos) + self.w_minus * np.dot(c, neg))


#: Per-layer activity masks as the methods accept them: bool arrays, or 0/1 float arrays (the engine's form,
#: where masking is one multiplication; see ``_apply_mask``).
Masks = Sequence[NDArray[np.bool_] | NDArray[np.float64]]


def _apply_mask(z: NDArray[np.float64], m: NDArray) -> NDArray[np.float64]:
    """``z`` where the mask is on, 0 elsewhere (float 0/1 masks: one multiplication; bool masks: ``where``)."""
    if m.dtype == np.float64:
        return z * m
    return np.where(m, z, 0.0)


def loss_for_quantile(quantile: float) -> RhoLoss:
    """L1 for ``quantile == 0.5`` (``sum |r|``), otherwise the pinball loss of ``quantile``."""
    if quantile == 0.5:
        return RhoLoss(1.0, 1.0)
    return RhoLoss(1.0 - quantile, quantile)


class LayerwiseModel:
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

    # ---------------------------------------------------------------- layers
    def z0(self, theta: NDArray[np.float64], rows: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
        """Trained-layer outputs ``Z_0``, shape ``(G, n_0)`` (or the given rows)."""
        if self.mode == "layer":
            assert self.H is not None
            H = self.H if rows is None else self.H[rows]
            return H @ np.ascontiguousarray(theta.reshape(self.n_units, self.p).T)
        assert self.W_in is not None and self.b_in is not None
        z = (self.W_in @ theta + self.b_in)[None, :]
        return z if rows is None else z[np.zeros(len(rows), np.int64)]

    def z0_dot(self, V: NDArray[np.float64], rows: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
        """Rates of ``Z_0`` along directions ``V`` (shape ``(D,)`` or ``(R, D)``)."""
        if self.mode == "layer":
            assert self.H is not None
            H = self.H if rows is None else self.H[rows]
            if V.ndim == 1:
                return H @ np.ascontiguousarray(V.reshape(self.n_units, self.p).T)
            R = V.shape[0]
            return (V.reshape(R * self.n_units, self.p) @ H.T).reshape(R, self.n_units, H.shape[0]).transpose(0, 2, 1)
        assert self.W_in is not None
        zd = V @ self.W_in.T  # (n_0,) or (R, n_0)
        n = 1 if rows is None else len(rows)
        if V.ndim == 1:
            return np.broadcast_to(zd[None, :], (n, zd.shape[0])).copy()
        return np.broadcast_to(zd[:, None, :], (zd.shape[0], n, zd.shape[1])).copy()

    def z0_grad(self, Zbar: NDArray[np.float64]) -> NDArray[np.float64]:
        """Gradient in ``theta`` of ``sum(Zbar * Z_0)`` (all groups)."""
        if self.mode == "layer":
            assert self.H is not None
            return (Zbar.T @ self.H).ravel()
        assert self.W_in is not None
        return self.W_in.T @ Zbar.sum(axis=0)

    def rows_of(self, groups: NDArray[np.int64], delta: NDArray[np.float64]) -> NDArray[np.float64]:
        """Normals in ``theta`` of kinks with trained-layer sensitivities ``delta`` (k, n_0) in ``groups``."""
        if self.mode == "layer":
            assert self.H is not None
            return (delta[:, :, None] * self.H[groups][:, None, :]).reshape(len(groups), self.D)
        assert self.W_in is not None
        return delta @ self.W_in

    # --------------------------------------------------------------- forward
    def masks(self, signs: NDArray[np.int8]) -> list[NDArray[np.bool_]]:
        """Per-layer activity masks ``(G, n_l)`` from the tracked signs."""
        pos = signs[: self.n_hidden_kinks] > 0
        return [
            pos[self.G * self.off[l] : self.G * self.off[l + 1]].reshape(self.G, self.widths[l]) for l in range(self.K)
        ]

    def fmasks(self, signs: NDArray[np.int8]) -> list[NDArray[np.float64]]:
        """:meth:`masks` as 0/1 floats (the engine's form: masking is one multiplication)."""
        pos = (signs[: self.n_hidden_kinks] > 0).astype(np.float64)
        return [
            pos[self.G * self.off[l] : self.G * self.off[l + 1]].reshape(self.G, self.widths[l]) for l in range(self.K)
        ]

    def forward(
        self,
        theta: NDArray[np.float64],
        masks: Masks | None = None,
        rows: NDArray[np.int64] | None = None,
    ) -> tuple[list[NDArray[np.float64]], NDArray[np.float64]]:
        """Pre-activations of the kink layers and the output per group.

        With ``masks=None`` the true ReLU is applied; otherwise the given masks
        (the masked, pattern-fixed affine map of a region).
        """
        z = self.z0(theta, rows)
        if self.K == 0:
            return [], z[:, 0]
        zs = [z]
        for l in range(self.K):
            m = z > 0 if masks is None else (masks[l] if rows is None else masks[l][rows])
            a = _apply_mask(z, m)
            if l + 1 < self.K:
                z = a @ self.hidden_WT[l]
                z += self.hidden_b[l]
                zs.append(z)
            else:
                assert self.out_W is not None and self.out_b is not None  # K > 0
                out = a @ self.out_W[0] + self.out_b[0]
        return zs, out

    def jvp(
        self, v: NDArray[np.float64], masks: Masks, rows: NDArray[np.int64] | None = None
    ) -> tuple[list[NDArray[np.float64]], NDArray[np.float64]]:
        """Rates of the kink layers and the output along ``v`` under fixed masks."""
        zd = self.z0_dot(v, rows)
        if self.K == 0:
            return [], zd[..., 0]
        zds = [zd]
        for l in range(self.K):
            m = masks[l] if rows is None else masks[l][rows]
            a = _apply_mask(zd, m)
            if l + 1 < self.K:
                zd = a @ self.hidden_WT[l]
                zds.append(zd)
            else:
                assert self.out_W is not None  # K > 0
                out = a @ self.out_W[0]
        return zds, out

    def row_masks(self, sign_rows: NDArray[np.int8]) -> list[NDArray[np.bool_]]:
        """Per-layer masks from per-group hidden signs ``(n, n_hidden)`` (columns as in ``hidden_ids``)."""
        return [sign_rows[:, self.off[l] : self.off[l + 1]] > 0 for l in range(self.K)]

    def jvp_rows(
        self, v: NDArray[np.float64], rows: NDArray[np.int64], rmasks: Masks
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Rates ``(n, n_hidden)`` and output rates ``(n,)`` of groups ``rows`` under row masks."""
        zd = self.z0_dot(v, rows)
        zds = [zd]
        for l in range(self.K):
            a = _apply_mask(zd, rmasks[l])
            if l + 1 < self.K:
                zd = a @ self.hidden_WT[l]
                zds.append(zd)
            else:
                assert self.out_W is not None  # K > 0
                out = a @ self.out_W[0]
        return np.concatenate(zds, axis=1), out

    def out_sens_rows(self, rmasks: Masks) -> NDArray[np.float64]:
        """``d out / d a`` per hidden column ``(n, n_hidden)`` under row masks."""
        n = rmasks[0].shape[0]
        assert self.out_W is not None  # rmasks[0] exists, so K > 0
        S: list[NDArray[np.float64]] = [np.empty(0)] * self.K
        s = np.broadcast_to(self.out_W[0], (n, self.widths[-1])).copy()
        S[self.K - 1] = s
        for l in range(self.K - 2, -1, -1):
            s = np.where(rmasks[l + 1], s, 0.0) @ self.hidden_W[l]
            S[l] = s
        return np.concatenate(S, axis=1)

    def out_sens(self, masks: Masks, rows: NDArray[np.int64] | None = None) -> list[NDArray[np.float64]]:
        """``d out / d a_l`` (pre-mask sensitivities of the output) per kink layer, shapes ``(G, n_l)``."""
        if self.K == 0:
            return []
        n = self.G if rows is None else len(rows)
        assert self.out_W is not None  # K > 0
        S: list[NDArray[np.float64]] = [np.empty(0)] * self.K
        s = np.empty((n, self.widths[-1]))
        s[:] = self.out_W[0]
        S[self.K - 1] = s
        for l in range(self.K - 2, -1, -1):
            m = masks[l + 1] if rows is None else masks[l + 1][rows]
            s = _apply_mask(s, m) @ self.hidden_W[l]
            S[l] = s
        return S

    def zbar(self, gbar: NDArray[np.float64], masks: Masks) -> NDArray[np.float64]:
        """Per-group adjoints ``gbar_g * d out_g / d Z_0`` under fixed masks, shape ``(G, n_0)``.

        Row ``g`` depends on group ``g`` only, so the gradient of any subset of
        groups is ``(Zbar[rows].T @ H[rows])`` without another reverse pass.
        """
        if self.K == 0:
            return gbar[:, None]
        assert self.out_W is not None  # K > 0
        s = gbar[:, None] * self.out_W[0]
        for l in range(self.K - 1, 0, -1):
            s = _apply_mask(s, masks[l]) @ self.hidden_W[l - 1]
        return _apply_mask(s, masks[0])

    def zbar_pre(self, gbar: NDArray[np.float64], masks: Masks) -> NDArray[np.float64]:
        """:meth:`zbar` before the trained layer's mask: ``gbar_g * d out_g / d a_0``, shape ``(G, n_0)``.

        ``zbar = zbar_pre * masks[0]``; the entries of inactive units are what a unit's switch-on would
        contribute.  Without kink layers (``K == 0``) it is ``zbar``.
        """
        if self.K == 0:
            return gbar[:, None]
        assert self.out_W is not None  # K > 0
        s = gbar[:, None] * self.out_W[0]
        for l in range(self.K - 1, 0, -1):
            s = _apply_mask(s, masks[l]) @ self.hidden_W[l - 1]
        return s

    def grad(self, gbar: NDArray[np.float64], masks: Masks) -> NDArray[np.float64]:
        """Gradient of ``sum_g gbar_g * out_g`` in ``theta`` under fixed masks."""
        return self.z0_grad(self.zbar(gbar, masks))

    def grad_rows(self, gbar_rows: NDArray[np.float64], masks: Masks, rows: NDArray[np.int64]) -> NDArray[np.float64]:
        """Gradient of ``sum_j gbar_rows[j] * out_{rows[j]}`` in ``theta`` (distinct groups ``rows``)."""
        if self.K == 0:
            Zbar = gbar_rows[:, None]
        else:
            S = self.out_sens(masks, rows)
            Zbar = np.where(masks[0][rows], S[0], 0.0) * gbar_rows[:, None]
        return self.z0_grad_rows(Zbar, rows)

    def z0_grad_rows(self, Zbar: NDArray[np.float64], rows: NDArray[np.int64]) -> NDArray[np.float64]:
        """Gradient in ``theta`` of ``sum(Zbar * Z_0[rows])`` (adjoints ``Zbar`` of the groups ``rows``)."""
        if self.mode == "layer":
            assert self.H is not None
            return (Zbar.T @ self.H[rows]).ravel()
        assert self.W_in is not None
        return self.W_in.T @ Zbar.sum(axis=0)

    def z0_dot_pairs(self, V: NDArray[np.float64], rows: NDArray[np.int64]) -> NDArray[np.float64]:
        """Rates of ``Z_0`` of group ``rows[j]`` along direction ``V[j]``, shape ``(R, n_0)``."""
        if self.mode == "layer":
            assert self.H is not None
            return np.einsum("rup,rp->ru", V.reshape(V.shape[0], self.n_units, self.p), self.H[rows])
        assert self.W_in is not None
        return V @ self.W_in.T

    def sensitivities(
        self, ids: NDArray[np.int64], masks: Masks
    ) -> tuple[NDArray[np.float64], list[NDArray[np.float64] | None], tuple]:
        """Normals of kinks ``ids`` under ``masks``, plus pre-mask sensitivities.

        Returns
        -------
        rows : ndarray, shape (k, D)
            ``grad_theta z_kappa`` (unoriented normals).
        pre : list over layers l of ndarray (k, n_l)
            ``d z_kappa / d a_l`` for kinks above layer ``l`` (zero rows otherwise).
        decoded : (layer, group, unit)
        """
        layer, grp, unit = self.decode(ids)
        k = len(ids)
        if self.K == 0:
            return self.rows_of(grp, np.ones((k, 1))), [], (layer, grp, unit)
        pre: list[NDArray[np.float64] | None] = [None] * self.K
        # cur = d z_kappa / d z_{l+1}; start at the output level (width 1).
        cur = (layer == self.K).astype(np.float64)[:, None]
        kk = np.arange(k)
        for l in range(self.K - 1, -1, -1):
            W = self.out_W if l == self.K - 1 else self.hidden_W[l]
            P = cur @ W
            P *= (layer > l)[:, None]
            pre[l] = P
            cur = _apply_mask(P, masks[l][grp])
            at = layer == l
            cur[kk[at], unit[at]] = 1.0
        return self.rows_of(grp, cur), pre, (layer, grp, unit)

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

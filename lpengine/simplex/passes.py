"""Batched forward and reverse passes of the layer-wise loss network, one row per group.

:class:`BatchedPasses` is the evaluation half of :class:`~lpengine.simplex.model.LayerwiseModel`
(which holds the data, the kink numbering and the parameter layouts): the trained layer's
pre-activations and their rates (linear in ``theta``), the frozen layers above under given
activity masks (the masks of a *tracked* pattern, never of noisy values), output sensitivities,
adjoints and gradients, and the normals of given kinks (reference notes ``deep_relu_simplex.md`` §2).
Every method works on all groups at once, or on the rows of a few groups.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["BatchedPasses", "Masks", "apply_mask"]


#: Per-layer activity masks as the methods accept them: bool arrays, or 0/1 float arrays (the engine's form,
#: where masking is one multiplication; see :func:`apply_mask`).
Masks = Sequence[NDArray[np.bool_] | NDArray[np.float64]]


def apply_mask(z: NDArray[np.float64], m: NDArray) -> NDArray[np.float64]:
    """``z`` where the mask is on, 0 elsewhere (float 0/1 masks: one multiplication; bool masks: ``where``)."""
    if m.dtype == np.float64:
        return z * m
    return np.where(m, z, 0.0)


class BatchedPasses(ABC):
    """Forward/reverse passes over the groups (mixed into :class:`~lpengine.simplex.model.LayerwiseModel`).

    The attributes it reads (``mode``, ``H``, ``W_in``, ``b_in``, the frozen layers and their
    transposes, ``G``, ``p``, ``D``, ``K``, ``widths``, ``off``, ``n_units``, ``n_hidden_kinks``)
    are set by :class:`~lpengine.simplex.model.LayerwiseModel`; see its docstring.
    """

    mode: str
    H: NDArray[np.float64] | None
    W_in: NDArray[np.float64] | None
    b_in: NDArray[np.float64] | None
    hidden_W: list[NDArray[np.float64]]
    hidden_b: list[NDArray[np.float64]]
    hidden_WT: list[NDArray[np.float64]]
    out_W: NDArray[np.float64] | None
    out_WT: NDArray[np.float64] | None
    out_b: NDArray[np.float64] | None
    G: int
    p: int
    D: int
    K: int
    n_units: int
    n_hidden_kinks: int
    widths: list[int]
    off: NDArray[np.int64]

    @abstractmethod
    def decode(self, ids: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """``(layer, group, unit)`` of kink ids (defined by the model)."""

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
            a = apply_mask(z, m)
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
            a = apply_mask(zd, m)
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
            a = apply_mask(zd, rmasks[l])
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
            s = apply_mask(s, m) @ self.hidden_W[l]
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
            s = apply_mask(s, masks[l]) @ self.hidden_W[l - 1]
        return apply_mask(s, masks[0])

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
            s = apply_mask(s, masks[l]) @ self.hidden_W[l - 1]
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

    def z0_dot_pairs(
        self, V: NDArray[np.float64], rows: NDArray[np.int64], which: NDArray[np.int64] | None = None
    ) -> NDArray[np.float64]:
        """Rates of ``Z_0`` of group ``rows[j]`` along direction ``V[which[j]]`` (``V[j]`` without ``which``).

        ``which`` must be sorted (pairs grouped by direction); shape of the result ``(len(rows), n_0)``.
        """
        if which is None:
            if self.mode == "layer":
                assert self.H is not None
                return np.einsum("rup,rp->ru", V.reshape(V.shape[0], self.n_units, self.p), self.H[rows])
            assert self.W_in is not None
            return V @ self.W_in.T
        if self.mode != "layer":
            assert self.W_in is not None
            return (V @ self.W_in.T)[which]
        assert self.H is not None
        # One small product per direction over its run of groups: no (pairs, D) copy of the directions.
        out = np.empty((rows.size, self.n_units))
        cuts = np.flatnonzero(np.diff(which)) + 1
        starts = np.concatenate([[0], cuts])
        ends = np.concatenate([cuts, [which.size]])
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            out[a:b] = np.einsum("up,rp->ru", V[which[a]].reshape(self.n_units, self.p), self.H[rows[a:b]])
        return out

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
            cur = apply_mask(P, masks[l][grp])
            at = layer == l
            cur[kk[at], unit[at]] = 1.0
        return self.rows_of(grp, cur), pre, (layer, grp, unit)

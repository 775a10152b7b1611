"""Edge pricing of the Deep ReLU Simplex: the engine state at a vertex, its ``2D`` edge rays and their slopes.

Notation (reference notes ``deep_relu_simplex.md`` §2, §5).  At a vertex the
basis ``B`` holds ``D`` kinks at zero with independent (unoriented) normals, the
rows of ``A``; ``d_i = A^{-1} e_i`` moves kink ``i`` at unit rate and keeps the
others at zero.

* **Rays.**  Each basis kink ``i`` gives two edge rays, one into each of its
  sides.  If ``i`` is a hidden kink with another basis kink ``j`` of the same
  sample downstream, ``j``'s normal bends across ``i``: with ``i`` flipped,
  row ``j`` becomes ``a_j + Gamma_j a_i`` with ``Gamma_j = -s_i dz_j/da_i``, so
  (Sherman–Morrison, ``Gamma_i = 0``) the ray on the far side is
  ``sigma (d_i - A^{-1} Gamma)``.  Otherwise the two rays are ``+-d_i``.
* **Slopes.**  Every ray is priced with the exact one-sided directional
  derivative: samples with no kink at zero contribute the linear ``g_N . e``;
  the few *critical* samples are pushed through the frozen layers with the
  one-sided rule (a unit at zero is active iff its rate is positive; a residual
  at zero costs ``w_plus r'_+ + w_minus r'_-``).

The step along the chosen ray (ratio test, Barrodale–Roberts line search, ties) is
:mod:`lpengine.simplex.linesearch`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .model import LayerwiseModel, Masks

__all__ = ["Vertex", "Pricing", "price_rays", "tight_mask", "group_sums"]


@dataclass
class Vertex:
    """Mutable engine state (internal): a point, its tracked pattern and basis."""

    theta: NDArray[np.float64]
    signs: NDArray[np.int8]
    B: NDArray[np.int64]
    masks: Masks = field(default_factory=list)
    # Filled by refresh() / the basis set-up; empty until then (typed as arrays: every reader runs after).
    flat: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    r: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    loss: float = float("nan")
    A: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    Ainv: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    pre: list[NDArray[np.float64]] = field(default_factory=list)
    dec: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]] = field(
        default_factory=lambda: (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    )

    def refresh(self, model: LayerwiseModel, masks: Masks | None = None) -> None:
        """Recompute kink values and loss exactly from ``theta`` and the tracked signs.

        ``masks``: the masks of the tracked signs when the caller already has them.
        """
        self.masks = model.fmasks(self.signs) if masks is None else masks
        self.flat, self.r, self.loss = model.values(self.theta, self.masks)

    def set_rows(self, model: LayerwiseModel) -> None:
        """The basis normals ``A``, their pre-mask sensitivities and decoded ids, under the tracked masks."""
        rows, pre, dec = model.sensitivities(self.B, self.masks)
        self.A = rows
        # sensitivities fills every layer's entry (None is only its initial value).
        self.pre = [p for p in pre if p is not None]
        layer, grp, unit = dec
        self.dec = (layer, grp, unit)

    def factor(self, model: LayerwiseModel) -> None:
        """:meth:`set_rows` and a fresh inverse ``A^{-1}``."""
        self.set_rows(model)
        self.Ainv = np.linalg.inv(self.A).astype(np.float64, copy=False)


@dataclass
class Pricing:
    """Slopes of all 2D edge rays at a vertex."""

    rays: NDArray[np.float64]  # (2D, D): row 2i goes to kink i's + side, row 2i+1 to its - side
    slopes: NDArray[np.float64]  # (2D,) exact one-sided directional derivatives
    norms: NDArray[np.float64]  # (2D,)
    duals: NDArray[np.float64]  # (D,) lambda_i = -g_N . d_i
    extra_tight: NDArray[np.int64]  # kinks at zero that are not in the basis (degenerate vertex)
    scale: float  # slope scale for the descent tolerance
    live: NDArray[np.bool_]  # (2D,) rays of live units (False: a collapsed unit's own ray)


def group_sums(model: LayerwiseModel, w: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per-group sums of a per-sample vector (``np.bincount``'s float result, typed as such)."""
    return np.asarray(np.bincount(model.group, weights=w, minlength=model.G), dtype=np.float64)


def tight_mask(model: LayerwiseModel, st: Vertex, tz: float) -> NDArray[np.bool_]:
    """Kinks at zero (``|z| <= tz``), always including the basis."""
    t = np.abs(st.flat) <= tz
    if not model.all_kinks:
        t &= model.kink_mask
    t[st.B] = True
    return t


def price_rays(
    model: LayerwiseModel,
    st: Vertex,
    tz: float,
    rate_tol: float = 0.0,
    tight: NDArray[np.bool_] | None = None,
    collapsed: list[int] | None = None,
    price_pinned: bool = False,
) -> Pricing:
    """Exact one-sided slopes of the 2D edge rays at the vertex ``st``.

    ``slope(e) = g . e + corr(e)``, with ``g`` the gradient under the tracked
    pattern and ``corr`` a sum over (ray, group) *pairs* of the group's one-sided
    minus its linear contribution.  Only pairs where the two can differ are
    pushed through the frozen layers: a group's contribution is linear along
    ``e`` unless one of its kinks at zero moves along ``e`` to the side opposite
    its tracked sign.  Along ray ``+-d_i`` every other basis kink stays at zero,
    so at a non-degenerate vertex (the tight kinks are exactly the basis) the
    only pair of a ray is the group of its own kink.  At a degenerate vertex
    (extra kinks at zero) the pairs also include every ray that moves an extra
    first-layer kink to the untracked side (its rate is linear, so this is known
    before the pass; rates below ``rate_tol`` times the largest such rate are
    rounding noise and are ignored), and every ray for the groups of the
    extra deeper kinks and residuals.  ``tight`` is :func:`tight_mask` at this
    vertex when the caller already has it.
    """
    D, G, K = model.D, model.G, model.K
    nhk = model.n_hidden_kinks
    lw = model.loss
    if tight is None:
        tight = tight_mask(model, st, tz)
    tight[st.B] = False
    extra = np.flatnonzero(tight)
    tight[st.B] = True
    rs = st.signs[nhk:]
    rho = model.c * np.where(rs > 0, lw.w_plus, -lw.w_minus)
    gbar_all = rho if model.identity_groups else group_sums(model, rho)
    Ainv = st.Ainv
    E = _edge_rays(model, st)
    R = 2 * D
    layer_B, grp_B, unit_B = st.dec
    live = np.ones(R, dtype=bool)
    if collapsed:
        pin = (layer_B == 0) & np.isin(unit_B, collapsed)
        live = ~np.repeat(pin, 2)
        cols = np.concatenate([np.arange(u * model.p, (u + 1) * model.p) for u in collapsed])
        E[np.flatnonzero(live)[:, None], cols[None, :]] = 0.0
    pr_r = np.arange(R)
    pr_c = np.repeat(grp_B, 2)
    C = grp_B
    shallow = np.zeros(R)
    # Adjoints before the trained layer's mask: S_pre[g, u] = gbar_g * d out_g / d a_{0,u}.
    S_pre = model.zbar_pre(gbar_all, st.masks)
    if extra.size:
        lx, gx, ux = model.decode(extra)
        C = np.concatenate([grp_B, gx])
        first = (lx == 0) & (lx < K)
        deep = gx[~first]
        # The (ray, group) pairs to push through the layers, marked in an R x G table: sorted by
        # (ray, group) on read-out, as np.unique of the keys r * G + g would be, at O(R G) instead of
        # hashing R * |groups| keys (thousands of deep kinks at zero on a degenerate face: every ray
        # pairs with every one of their groups).
        pairs = np.zeros((R, G), dtype=bool)
        pairs[pr_r, pr_c] = True
        pairs[:, deep] = True
        marked = bool(deep.size)
        if np.any(first):
            e0, g0, u0 = extra[first], gx[first], ux[first]
            if model.H is not None:  # layer mode
                H = model.H
                rates = np.empty((R, u0.size))
                units = np.flatnonzero(np.bincount(u0, minlength=model.n_units))
                for u in units:
                    j = np.flatnonzero(u0 == u) if units.size > 1 else np.arange(u0.size)
                    rates[:, j] = E[:, u * model.p : (u + 1) * model.p] @ H[g0[j]].T
            else:
                assert model.W_in is not None  # input mode
                rates = E @ model.W_in[u0].T
            # Significant rates only (|rate| above rate_tol times the largest); rays without any (typically
            # those that leave a unit pinned at zero by basis kinks of that unit unchanged) are dropped first.
            rmax = np.maximum(rates.max(axis=1), -rates.min(axis=1))
            thr = rate_tol * float(rmax.max(initial=0.0))
            rsel = np.flatnonzero(rmax > thr)
            rates = rates[rsel]
            mism = (np.abs(rates) > thr) & ((rates > 0) != (st.signs[e0] > 0)[None, :])
            deep_g = np.concatenate([gx[~first], grp_B[layer_B > 0]])
            corr, rr, jj = _shallow_pairs(model, st, deep_g, S_pre, grp_B[rsel // 2], g0, u0, rates, mism)
            shallow[rsel] = corr
            if rr.size:
                pairs[rsel[rr], g0[jj]] = True
                marked = True
        if marked:
            pr_r, pr_c = np.divmod(np.flatnonzero(pairs), G)
    mark_c = np.zeros(G, dtype=bool)
    mark_c[C] = True
    C = np.flatnonzero(mark_c)
    # Gradient of the critical groups' linear terms; g_N (the non-critical part) gives the duals.
    # One reverse pass gives every group's adjoint row, hence both gradients.
    Zbar = S_pre * st.masks[0] if K else S_pre
    g_all = model.z0_grad(Zbar)
    g_N = g_all - model.z0_grad_rows(Zbar[C], C)
    duals = -(g_N @ Ainv)
    slopes = E @ g_all
    zd = model.z0_dot_pairs(E, pr_c, pr_r if pr_r.size != R else None)  # (P, n_0)
    if K:
        tl = tight[model.hidden_ids[pr_c]]  # (P, n_hidden)
        zl = zd
        zo = zd
        for l in range(K):
            lcols = slice(model.off[l], model.off[l + 1])
            sl = st.masks[l][pr_c] > 0
            al = np.where(sl, zl, 0.0)
            ao = np.where(np.where(tl[:, lcols], zo > 0, sl), zo, 0.0)
            WT = model.hidden_WT[l] if l + 1 < K else model.out_WT
            zl = al @ WT
            zo = ao @ WT
        lin_out, one_out = zl[:, 0], zo[:, 0]
    else:
        lin_out = one_out = zd[:, 0]
    samp, owner = model.samples_of(pr_c)
    cs = model.c[samp]
    rt = tight[nhk + samp]
    wlin = np.where(st.signs[nhk + samp] > 0, lw.w_plus, -lw.w_minus)
    rd1 = one_out[owner]
    one = np.where(rt, lw.w_plus * np.maximum(rd1, 0.0) + lw.w_minus * np.maximum(-rd1, 0.0), wlin * rd1) * cs
    lin = wlin * lin_out[owner] * cs
    slopes = slopes + np.bincount(pr_r[owner], weights=one - lin, minlength=R) + shallow
    if not price_pinned:
        slopes[~live] = 0.0
    norms = np.sqrt(np.einsum("ij,ij->i", E, E))
    nslope = slopes / norms
    scale = max(1.0, math.sqrt(float(g_N @ g_N)), float(nslope.max()), -float(nslope.min()))
    return Pricing(E, slopes, norms, duals, extra, scale, live)


def _shallow_pairs(
    model: LayerwiseModel,
    st: Vertex,
    deep_g: NDArray[np.int64],
    S_pre: NDArray[np.float64],
    own_g: NDArray[np.int64],
    g0: NDArray[np.int64],
    u0: NDArray[np.int64],
    rates: NDArray[np.float64],
    mism: NDArray[np.bool_],
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Pairs made by extra trained-layer kinks at zero, priced without a pass where the pass is linear.

    ``g0, u0``: group and unit of the extra trained-layer kinks at zero, sorted by group (the columns of
    ``rates``: their rates along some rays, the rows; ``own_g``: the group of each row's own basis kink;
    ``mism``: rate significant and towards the untracked side; ``deep_g``: groups of the kinks at zero
    beyond the trained layer, basis included).  A pair (ray, group) is *shallow* when the group's only
    kinks at zero are trained-layer kinks (it is not in ``deep_g``) and it is not the ray's own group.
    Above the trained layer its masks are then fixed and its output is linear in the trained-layer
    activations, so the one-sided minus the linear output rate is ``sum_u S_u * z'_u * ([z'_u > 0] - m_u)``
    over its kinks at zero (``S = d out / d a_0`` under the tracked masks, ``m`` the tracked mask); times
    the group's loss weight ``gbar_g`` (``S_pre = gbar * S``) it is the pair's slope correction.  Basis
    kinks of the group are left out of the sum: their rates along the other rays vanish.

    Returns the per-row slope correction of the shallow pairs, and the ``(row, column)`` indices of the
    other marked pairs (pushed through the layers by the caller).
    """
    # g0 is sorted (kink ids are group-major within the trained layer): distinct groups by breaks.
    brk = np.empty(g0.size, dtype=bool)
    brk[:1] = True
    np.not_equal(g0[1:], g0[:-1], out=brk[1:])
    ug = g0[brk]
    # Groups with a kink at zero beyond the trained layer (deeper hidden kink or residual): full pass.
    dmark = np.zeros(model.G, dtype=bool)
    dmark[deep_g] = True
    cx = dmark[ug]
    w = S_pre[g0, u0]
    m0 = st.masks[0][g0, u0]
    if ug.size == g0.size:
        cxj = cx
        # One kink per group: a marked pair is exactly a mismatched kink, whose correction is
        # S * z' * (1 - 2 m) (untracked side: on if the tracked mask is off, and vice versa).
        pm = mism & ~cxj[None, :]
        own = np.searchsorted(g0, own_g)
        hit = np.flatnonzero(own < g0.size)
        hit = hit[g0[own[hit]] == own_g[hit]]
        pm[hit, own[hit]] = False
        corr = np.where(pm, rates, 0.0) @ (w * (1.0 - 2.0 * m0))
    else:
        inv = np.cumsum(brk) - 1
        cxj = cx[inv]
        ms = mism & ~cxj[None, :]
        starts = np.flatnonzero(brk)
        pm = np.logical_or.reduceat(ms, starts, axis=1)[:, inv] & ~cxj[None, :]
        pm &= g0[None, :] != own_g[:, None]
        corr = np.where(pm, rates * ((rates > 0) - m0), 0.0) @ w
    if cx.any():
        cj = np.flatnonzero(cxj)
        rr, k = np.nonzero(mism[:, cj])
        jj = cj[k]
    else:
        rr = jj = np.zeros(0, np.int64)
    return corr, rr, jj


def _edge_rays(model: LayerwiseModel, st: Vertex) -> NDArray[np.float64]:
    """The 2D edge rays (row ``2i``: kink ``i``'s + side, row ``2i+1``: its - side), bent edges included."""
    D, K = model.D, model.K
    Ainv = st.Ainv
    E = np.empty((2 * D, D))
    E[0::2] = Ainv.T
    E[1::2] = -Ainv.T
    # Bent edges: basis kinks of one sample with another basis kink downstream.
    layer_B, grp_B, unit_B = st.dec
    if K and D > 1:
        pair = (grp_B[:, None] == grp_B[None, :]) & (layer_B[:, None] < layer_B[None, :])
        if pair.any():
            # Gam[i, j] = -s_i dz_j/da_i for basis kink j downstream of basis kink i (same sample);
            # column off[l_i] + u_i of the concatenated pre-mask sensitivities (residual kinks,
            # layer K, never have a downstream pair: their column is clipped and masked out).
            sB = st.signs[st.B].astype(np.float64)
            pre_all = np.concatenate(st.pre, axis=1)  # (D, n_hidden)
            col = np.minimum(model.off[np.minimum(layer_B, K - 1)] + unit_B, pre_all.shape[1] - 1)
            Gam = np.where(pair, -sB[:, None] * pre_all[:, col].T, 0.0)
            # Exact test: Gam is 0.0 by construction (np.where) off the same-sample downstream pairs.
            rows = np.flatnonzero((Gam != 0.0).any(axis=1))
            if rows.size:
                sig = -sB[rows]
                corr = Ainv[:, rows] - Ainv @ Gam[rows].T
                E[2 * rows + (sig < 0)] = (sig[None, :] * corr).T
    return E


def _price_general(
    model: LayerwiseModel,
    st: Vertex,
    tight: NDArray[np.bool_],
    extra: NDArray[np.int64],
    gbar_all: NDArray[np.float64],
    E: NDArray[np.float64],
) -> Pricing:
    """Pricing at a degenerate vertex: every ray through every group with a kink at zero."""
    G, K = model.G, model.K
    nhk = model.n_hidden_kinks
    lw = model.loss
    tight_ids = np.flatnonzero(tight)
    _, tg, _ = model.decode(tight_ids)
    C = np.unique(tg)
    gbar = gbar_all.copy()
    gbar[C] = 0.0
    g_N = model.grad(gbar, st.masks)
    duals = -(g_N @ st.Ainv)
    slopes = E @ g_N
    zd = np.ascontiguousarray(model.z0_dot(E, rows=C))  # (2D, |C|, n_0)
    R = zd.shape[0]
    if K:
        for l in range(K):
            blk = slice(G * model.off[l], G * model.off[l + 1])
            tl = tight[blk].reshape(G, model.widths[l])[C]
            sl = st.masks[l][C]
            m = np.where(tl, zd > 0, sl)
            a = np.where(m, zd, 0.0).reshape(R * C.size, model.widths[l])
            W = model.hidden_W[l] if l + 1 < K else model.out_W
            assert W is not None  # out_W exists when K > 0
            zd = (a @ W.T).reshape(R, C.size, W.shape[0])
    odot = zd[..., 0]
    samp, pos = model.samples_of(C)
    rdot = odot[:, pos]
    cs = model.c[samp]
    rt = tight[nhk + samp]
    sr = st.signs[nhk + samp] > 0
    lin = np.where(sr, lw.w_plus, -lw.w_minus) * rdot
    one = lw.w_plus * np.maximum(rdot, 0.0) + lw.w_minus * np.maximum(-rdot, 0.0)
    slopes = slopes + (np.where(rt, one, lin) * cs).sum(axis=1)
    norms = np.linalg.norm(E, axis=1)
    nslope = slopes / norms
    scale = max(1.0, float(np.linalg.norm(g_N)), float(np.max(np.abs(nslope))))
    return Pricing(E, slopes, norms, duals, extra, scale, np.ones(E.shape[0], dtype=bool))

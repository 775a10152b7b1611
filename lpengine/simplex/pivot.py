"""Pivot rules of the Deep ReLU Simplex: edge pricing, ratio test and line search.

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
* **Line search** (Barrodale–Roberts).  Along the chosen ray the loss is
  piecewise linear; kinks are crossed in order of their crossing times while
  the slope stays negative.  Crossing a residual kink raises the slope by
  ``c_i (w_plus + w_minus) |r'_i|``; crossing a hidden kink changes its
  sample's output rate by ``dout/da * |z'|`` (possibly lowering the slope: the
  loss along a ray need not be convex).  A hidden crossing upstream of a basis
  kink of the same sample bends the edge, so the step stops there.  Events are
  processed in vectorised chunks that stop before a sample whose rates a
  hidden crossing has changed.
* **Ties and anti-cycling.**  Among kinks reached at the same time (within
  tolerance) the one with the largest pivot ``|z'|`` enters (Harris); after a
  run of zero-length steps the caller switches to Bland's rule (smallest kink
  id, both for the ray and the entering kink).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .model import LayerwiseModel, Masks

__all__ = ["Vertex", "Pricing", "Step", "price_rays", "line_search", "tight_mask", "group_sums"]

#: Events examined per chunk of the line search.
_CHUNK = 64


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


@dataclass
class Step:
    """Outcome of a ratio test / line search along one ray."""

    status: str  # "ok" | "unbounded"
    t: float = 0.0
    enter: int = -1
    crossed: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    slope_end: float = 0.0
    masks: Masks | None = None  # masks after the step when no kink was crossed (plain ratio test)


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
        deep = np.unique(gx[~first])
        parts_r, parts_c = [], []
        if deep.size:
            parts_r.append(np.repeat(np.arange(R), deep.size))
            parts_c.append(np.tile(deep, R))
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
                parts_r.append(rsel[rr])
                parts_c.append(g0[jj])
        if parts_r:
            key = np.unique(
                np.concatenate([pr_r * G + pr_c] + [r_ * G + c_ for r_, c_ in zip(parts_r, parts_c, strict=True)])
            )
            pr_r, pr_c = key // G, key % G
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
    zd = model.z0_dot_pairs(E if pr_r.size == R else E[pr_r], pr_c)  # (P, n_0)
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


def line_search(
    model: LayerwiseModel,
    st: Vertex,
    e: NDArray[np.float64],
    *,
    leave: int | None,
    sigma: float,
    multi: bool,
    tz: float,
    ptol: float,
    stol: float,
    bland: bool,
    t_tol: float,
    chunk: int = 0,
) -> Step:
    """Move along ``e`` from the vertex until the slope turns non-negative (or the first kink).

    ``leave`` is the basis position of the kink that leaves (moving to side
    ``sigma``), or ``None`` in phase 1 where every basis kink stays at zero.
    ``chunk`` is the number of crossings examined in the first batch of a
    line search with hidden kinks (a hint: the batch doubles until the stop is
    found; ``0`` means the default ``_CHUNK``).
    On return ``st.signs`` is *not* modified; the caller applies ``Step``.
    """
    K, nhk = model.K, model.n_hidden_kinks
    lw = model.loss
    signs = st.signs.copy()
    lid = -1
    if leave is not None:
        lid = int(st.B[leave])
        signs[lid] = np.int8(sigma)
    if multi and K:
        Bp = st.B if leave is None else np.delete(st.B, leave)
        bmasks = model.masks(signs)
        zds, odot = model.jvp(e, bmasks)
        rdot = odot[model.group]
        zscale = max([float(np.max(np.abs(z))) for z in zds] + [float(np.max(np.abs(rdot)))])
        rho = model.c * np.where(signs[nhk:] > 0, lw.w_plus, -lw.w_minus)
        return _hidden_line_search(
            model,
            st,
            e,
            signs,
            Bp,
            zds,
            odot,
            rdot,
            rho,
            float(rho @ rdot),
            ptol * max(zscale, 1e-300),
            stol,
            bland,
            t_tol,
            chunk or _CHUNK,
        )
    # Only the leaving kink changes sign: reuse the vertex's masks, copying the one layer it is in.
    masks: list[NDArray[np.bool_] | NDArray[np.float64]] = list(st.masks)
    if 0 <= lid < model.n_hidden_kinks:
        l, g, u = int(model.kink_layer[lid]), int(model.kink_group[lid]), int(model.kink_unit[lid])
        masks[l] = masks[l].copy()
        masks[l][g, u] = 1.0 if sigma > 0 else 0.0
    zds, odot = model.jvp(e, masks)
    rdot = odot if model.identity_groups else odot[model.group]
    zd = np.concatenate([z.ravel() for z in zds] + [rdot]) if K else rdot
    zscale = max(float(zd.max()), -float(zd.min())) if zd.size else 0.0
    moving = zd * signs < -ptol * max(zscale, 1e-300)
    if not model.all_kinks:
        moving &= model.kink_mask
    # The basis kinks other than the leaving one stay at zero (the leaving one moves to its side
    # sigma at unit rate, so it is never "moving towards" zero; keep whatever the test says).
    keep = bool(moving[lid]) if lid >= 0 else False
    moving[st.B] = False
    if lid >= 0:
        moving[lid] = keep
    fin = np.flatnonzero(moving)
    # |zd[fin]| > 0 by the test above: no division by zero.
    Tf = -st.flat[fin] / zd[fin]
    np.maximum(Tf, 0.0, out=Tf)
    if not multi:
        # Plain ratio test: the first kink reached enters (ties: Harris / Bland).
        if fin.size == 0:
            rs = signs[nhk:]
            rho = model.c * np.where(rs > 0, lw.w_plus, -lw.w_minus)
            return Step("unbounded", slope_end=float(rho @ rdot))
        j0 = int(Tf.argmin())
        t_stop = float(Tf[j0])
        sel = Tf <= t_stop + t_tol * (1.0 + t_stop)
        if np.count_nonzero(sel) > 1:
            tie = fin[sel]
            j = int(np.argmin(tie)) if bland else int(np.argmax(np.abs(zd[tie])))
            return Step("ok", t=float(Tf[sel][j]), enter=int(tie[j]), masks=masks)
        return Step("ok", t=t_stop, enter=int(fin[j0]), masks=masks)
    rs = signs[nhk:]
    rho = model.c * np.where(rs > 0, lw.w_plus, -lw.w_minus)
    slope = float(rho @ rdot)
    return _residual_line_search(model, fin, Tf, zd, slope, stol, bland, t_tol)


def _hidden_line_search(*args: Any) -> Step:
    """:func:`_hidden_line_search_impl` with division warnings off (non-moving kinks give 0/0, x/0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _hidden_line_search_impl(*args)


def _hidden_line_search_impl(
    model: LayerwiseModel,
    st: Vertex,
    e: NDArray[np.float64],
    signs: NDArray[np.int8],
    Bp: NDArray[np.int64],
    zds: list[NDArray[np.float64]],
    odot: NDArray[np.float64],
    rdot: NDArray[np.float64],
    rho: NDArray[np.float64],
    slope: float,
    thr: float,
    stol: float,
    bland: bool,
    t_tol: float,
    chunk: int,
) -> Step:
    """Barrodale–Roberts line search with hidden kinks, processed group by group up to a horizon.

    Groups (distinct feature rows) are independent along the ray: a group's
    kinks and residuals depend on ``theta`` and on that group's pattern only.
    All events up to a horizon ``H`` (initially the ``_CHUNK``-th earliest
    pending crossing) are therefore generated in vectorised *rounds*: every
    group whose next hidden crossing is at most ``H`` crosses it (its residual
    crossings before that time first), and its rates are recomputed; a final
    sweep adds the residual crossings up to ``H``.  The events are then merged
    in time order (ties: larger ``|z'|``, then smaller id) and the slope is
    accumulated until it turns non-negative or a crossing bends the edge (a
    hidden crossing upstream of a basis kink of its group).  Otherwise the
    horizon doubles.  Slope jumps are exact: ``c_i (w_plus + w_minus) |r'_i|``
    for a residual, ``gbar_g * (out'_new - out'_old)`` for a hidden kink of
    group ``g`` (``gbar_g`` its current loss weight).
    """
    G, nhk = model.G, model.n_hidden_kinks
    lw = model.loss
    hid_ids = model.hidden_ids
    inBp = np.zeros(model.M, dtype=bool)
    inBp[Bp] = True
    frozen_h = inBp[hid_ids]
    Zh = st.flat[hid_ids]
    Zdh = np.concatenate(zds, axis=1)
    Sh = signs[hid_ids].astype(np.float64)
    r = st.flat[nhk:].copy()
    rd = rdot.copy()
    sr = signs[nhk:].astype(np.float64)
    live_r = model.kink_mask[nhk:] & ~inBp[nhk:]
    gbar = np.bincount(model.group, weights=rho, minlength=G)
    og = odot.copy()
    t_ref = np.zeros(G)
    jump_c = lw.jump * model.c
    col_layer = model.col_layer
    maxlay = np.full(G, -1, dtype=np.int64)
    if Bp.size:
        lb, gb, _ = model.decode(Bp)
        np.maximum.at(maxlay, gb, lb)
    single = model.single_sample_groups

    def hidden_times(
        Z: NDArray[np.float64],
        Zd: NDArray[np.float64],
        S: NDArray[np.float64],
        fr: NDArray[np.bool_],
        t0: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        T = np.maximum(-Z / Zd, 0.0)
        T += t0[:, None]
        T[(S * Zd >= -thr) | fr] = np.inf
        return T

    def residual_times(idx: NDArray[np.int64] | slice, t0: NDArray[np.float64] | float) -> NDArray[np.float64]:
        rdi = rd[idx]
        T = np.maximum(-r[idx] / rdi, 0.0)
        T += t0
        T[(sr[idx] * rdi >= -thr) | ~live_r[idx]] = np.inf
        return T

    Th = hidden_times(Zh, Zdh, Sh, frozen_h, t_ref)
    Tr = residual_times(slice(None), 0.0)
    th = Th.min(axis=1)
    crossed_all: list[NDArray[np.int64]] = []
    m = max(1, min(int(chunk), model.M))
    while True:
        allT = np.concatenate([th, Tr])
        fin = np.isfinite(allT)
        nfin = int(np.count_nonzero(fin))
        if nfin == 0:
            return Step("unbounded", slope_end=slope, crossed=_cat(crossed_all))
        H = float(np.partition(allT, m - 1)[m - 1]) if nfin > m else float(allT[fin].max())
        ev_t, ev_id, ev_d, ev_f, ev_a = [], [], [], [], []
        act = np.flatnonzero(th <= H)
        while act.size:
            tc = th[act]
            ar = np.arange(act.size)
            col = Th[act].argmin(axis=1)
            if single:
                samp = model.group_samples[model.group_ptr[act]]
                owner = ar
            else:
                samp, owner = model.samples_of(act)
            rr = Tr[samp] < tc[owner]
            if rr.any():
                s_ = samp[rr]
                ev_t.append(Tr[s_])
                ev_id.append(nhk + s_)
                ev_a.append(np.abs(rd[s_]))
                ev_d.append(jump_c[s_] * ev_a[-1])
                ev_f.append(np.zeros(s_.size, dtype=bool))
                np.subtract.at(gbar, act[owner[rr]], sr[s_] * jump_c[s_])
                sr[s_] = -sr[s_]
            dt = tc - t_ref[act]
            Z = Zh[act] + Zdh[act] * dt[:, None]
            Z[ar, col] = 0.0
            r[samp] += rd[samp] * dt[owner]
            S = Sh[act]
            S[ar, col] = -S[ar, col]
            nzd, nod = model.jvp_rows(e, act, model.row_masks(S.astype(np.int8)))
            ev_t.append(tc)
            ev_id.append(hid_ids[act, col])
            ev_a.append(np.abs(Zdh[act, col]))
            ev_d.append(gbar[act] * (nod - og[act]))
            ev_f.append(maxlay[act] > col_layer[col])
            Zh[act] = Z
            Zdh[act] = nzd
            Sh[act] = S
            og[act] = nod
            t_ref[act] = tc
            rd[samp] = nod[owner]
            Tr[samp] = residual_times(samp, tc[owner])
            Tn = hidden_times(Z, nzd, S, frozen_h[act], tc)
            Th[act] = Tn
            th[act] = Tn.min(axis=1)
            act = act[th[act] <= H]
        rr = np.flatnonzero(Tr <= H)
        if rr.size:
            ev_t.append(Tr[rr])
            ev_id.append(nhk + rr)
            ev_a.append(np.abs(rd[rr]))
            ev_d.append(jump_c[rr] * ev_a[-1])
            ev_f.append(np.zeros(rr.size, dtype=bool))
            gbar -= np.bincount(model.group[rr], weights=sr[rr] * jump_c[rr], minlength=G)
            sr[rr] = -sr[rr]
            Tr[rr] = np.inf
        t_ev = np.concatenate(ev_t)
        id_ev = np.concatenate(ev_id).astype(np.int64)
        a_ev = np.concatenate(ev_a)
        order = np.lexsort((id_ev, -a_ev, t_ev))
        t_ev, id_ev, a_ev = t_ev[order], id_ev[order], a_ev[order]
        forced = np.concatenate(ev_f)[order]
        cums = slope + np.cumsum(np.concatenate(ev_d)[order])
        stop = np.flatnonzero((cums >= -stol) | forced)
        if stop.size:
            k = int(stop[0])
            t_stop = float(t_ev[k])
            tie = np.flatnonzero(np.abs(t_ev - t_stop) <= t_tol * (1.0 + t_stop))
            if tie.size > 1:
                q = int(tie[np.argmin(id_ev[tie])]) if bland else int(tie[np.argmax(a_ev[tie])])
            else:
                q = k
            before = id_ev[:k]
            if q < k:
                before = before[before != id_ev[q]]
            crossed_all.append(before)
            return Step("ok", t=t_stop, enter=int(id_ev[q]), crossed=_cat(crossed_all), slope_end=float(cums[k]))
        slope = float(cums[-1])
        crossed_all.append(id_ev)
        m = min(2 * m, model.M)


def _residual_line_search(
    model: LayerwiseModel,
    fin: NDArray[np.int64],
    Tf: NDArray[np.float64],
    zd: NDArray[np.float64],
    slope: float,
    stol: float,
    bland: bool,
    t_tol: float,
) -> Step:
    """Line search with residual kinks only (LAD / quantile / output layer): a weighted median.

    Every crossing raises the slope by ``c_i (w_plus + w_minus) |r'_i|`` independently of the
    others, so the stop is the first breakpoint (in time order) where the cumulative slope
    turns non-negative.  Only a growing prefix of the breakpoints is partially sorted.
    """
    nhk = model.n_hidden_kinks
    if fin.size == 0:
        return Step("unbounded", slope_end=slope)
    absz = np.abs(zd[fin])
    d = model.loss.jump * model.c[fin - nhk] * absz
    need = -stol - slope
    if float(d.sum()) < need:
        return Step("unbounded", slope_end=slope + float(d.sum()), crossed=fin)
    m = min(fin.size, _CHUNK)
    while True:
        part = np.argpartition(Tf, m - 1)[:m] if m < fin.size else np.arange(fin.size)
        order = part[np.lexsort((fin[part], -absz[part], Tf[part]))]
        cums = np.cumsum(d[order])
        hit = np.flatnonzero(cums >= need)
        if hit.size:
            k = int(hit[0])
            break
        m = min(fin.size, 4 * m)
    t_stop = float(Tf[order[k]])
    tie = np.flatnonzero(np.abs(Tf[order] - t_stop) <= t_tol * (1.0 + t_stop))
    if tie.size > 1:
        q = int(tie[np.argmin(fin[order[tie]])]) if bland else int(tie[np.argmax(absz[order[tie]])])
    else:
        q = k
    before = order[:k]
    if q < k:
        before = before[before != order[q]]
    return Step(
        "ok", t=t_stop, enter=int(fin[order[q]]), crossed=fin[before].astype(np.int64), slope_end=slope + float(cums[k])
    )


def _cat(parts: list[NDArray[np.int64]]) -> NDArray[np.int64]:
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

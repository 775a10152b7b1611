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

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .model import LayerwiseModel

__all__ = ["Vertex", "Pricing", "Step", "price_rays", "line_search"]

#: Events examined per chunk of the line search.
_CHUNK = 64


@dataclass
class Vertex:
    """Mutable engine state (internal): a point, its tracked pattern and basis."""

    theta: NDArray[np.float64]
    signs: NDArray[np.int8]
    B: NDArray[np.int64]
    masks: list = field(default_factory=list)
    flat: NDArray[np.float64] | None = None
    r: NDArray[np.float64] | None = None
    loss: float = float("nan")
    A: NDArray[np.float64] | None = None
    Ainv: NDArray[np.float64] | None = None
    pre: list = field(default_factory=list)
    dec: tuple = ()

    def refresh(self, model: LayerwiseModel) -> None:
        """Recompute masks, kink values and loss exactly from ``theta`` and the tracked signs."""
        self.masks = model.masks(self.signs)
        self.flat, self.r, self.loss = model.values(self.theta, self.masks)


@dataclass
class Pricing:
    """Slopes of all 2D edge rays at a vertex."""

    rays: NDArray[np.float64]      # (2D, D): row 2i goes to kink i's + side, row 2i+1 to its - side
    slopes: NDArray[np.float64]    # (2D,) exact one-sided directional derivatives
    norms: NDArray[np.float64]     # (2D,)
    duals: NDArray[np.float64]     # (D,) lambda_i = -g_N . d_i
    extra_tight: NDArray[np.int64]  # kinks at zero that are not in the basis (degenerate vertex)
    scale: float                   # slope scale for the descent tolerance


@dataclass
class Step:
    """Outcome of a ratio test / line search along one ray."""

    status: str                    # "ok" | "unbounded"
    t: float = 0.0
    enter: int = -1
    crossed: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    slope_end: float = 0.0


def tight_mask(model: LayerwiseModel, st: Vertex, tz: float) -> NDArray[np.bool_]:
    """Kinks at zero (``|z| <= tz``), always including the basis."""
    t = (np.abs(st.flat) <= tz) & model.kink_mask
    t[st.B] = True
    return t


def price_rays(model: LayerwiseModel, st: Vertex, tz: float) -> Pricing:
    """Exact one-sided slopes of the 2D edge rays at the vertex ``st``."""
    D, G, K = model.D, model.G, model.K
    nhk = model.n_hidden_kinks
    lw = model.loss
    tight = tight_mask(model, st, tz)
    inB = np.zeros(model.M, dtype=bool)
    inB[st.B] = True
    extra = np.flatnonzero(tight & ~inB)
    tight_ids = np.flatnonzero(tight)
    _, tg, _ = model.decode(tight_ids)
    C = np.unique(tg)
    rs = st.signs[nhk:]
    rho = model.c * np.where(rs > 0, lw.w_plus, -lw.w_minus)
    gbar = np.bincount(model.group, weights=rho, minlength=G)
    gbar[C] = 0.0
    g_N = model.grad(gbar, st.masks)
    Ainv = st.Ainv
    duals = -(g_N @ Ainv)
    E = np.empty((2 * D, D))
    E[0::2] = Ainv.T
    E[1::2] = -Ainv.T
    # Bent edges: basis kinks of one sample with another basis kink downstream.
    layer_B, grp_B, unit_B = st.dec
    if K and D > 1:
        pair = (grp_B[:, None] == grp_B[None, :]) & (layer_B[:, None] < layer_B[None, :])
        if pair.any():
            # Gam[i, j] = -s_i dz_j/da_i for basis kink j downstream of basis kink i (same sample).
            Gam = np.zeros((D, D))
            sB = st.signs[st.B].astype(np.float64)
            has = pair.any(axis=1)
            for l in range(K):
                ii = np.flatnonzero(has & (layer_B == l))
                if ii.size:
                    Gam[ii] = -sB[ii, None] * st.pre[l][:, unit_B[ii]].T
            Gam[~pair] = 0.0
            rows = np.flatnonzero(np.any(Gam != 0.0, axis=1))
            if rows.size:
                sig = -sB[rows]
                corr = Ainv[:, rows] - Ainv @ Gam[rows].T
                E[2 * rows + (sig < 0)] = (sig[None, :] * corr).T
    slopes = E @ g_N
    if C.size:
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
                zd = (a @ W.T).reshape(R, C.size, W.shape[0])
            odot = zd[..., 0]
        else:
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
    return Pricing(E, slopes, norms, duals, extra, scale)


def line_search(model: LayerwiseModel, st: Vertex, e: NDArray[np.float64], *, leave: int | None,
                sigma: float, multi: bool, tz: float, ptol: float, stol: float, bland: bool,
                t_tol: float) -> Step:
    """Move along ``e`` from the vertex until the slope turns non-negative (or the first kink).

    ``leave`` is the basis position of the kink that leaves (moving to side
    ``sigma``), or ``None`` in phase 1 where every basis kink stays at zero.
    On return ``st.signs`` is *not* modified; the caller applies ``Step``.
    """
    G, K, nhk = model.G, model.K, model.n_hidden_kinks
    lw = model.loss
    signs = st.signs.copy()
    Bp = st.B if leave is None else np.delete(st.B, leave)
    if leave is not None:
        signs[st.B[leave]] = np.int8(sigma)
    masks = model.masks(signs)
    zds, odot = model.jvp(e, masks)
    rdot = odot[model.group]
    zd = np.concatenate([z.ravel() for z in zds] + [rdot]) if K else rdot
    zscale = float(np.max(np.abs(zd))) if zd.size else 0.0
    moving = (zd * signs < -ptol * max(zscale, 1e-300))
    if not lw.kinked:
        moving &= model.kink_mask
    moving[Bp] = False
    fin = np.flatnonzero(moving)
    with np.errstate(divide="ignore", invalid="ignore"):
        Tf = np.maximum(0.0, -st.flat[fin] / zd[fin])
    if not multi:
        # Plain ratio test: the first kink reached enters (ties: Harris / Bland).
        if fin.size == 0:
            rs = signs[nhk:]
            rho = model.c * np.where(rs > 0, lw.w_plus, -lw.w_minus)
            return Step("unbounded", slope_end=float(rho @ rdot))
        t_stop = float(Tf.min())
        sel = Tf <= t_stop + t_tol * (1.0 + t_stop)
        tie = fin[sel]
        if tie.size > 1:
            j = int(np.argmin(tie)) if bland else int(np.argmax(np.abs(zd[tie])))
            return Step("ok", t=float(Tf[sel][j]), enter=int(tie[j]))
        return Step("ok", t=t_stop, enter=int(tie[0]))
    rs = signs[nhk:]
    rho = model.c * np.where(rs > 0, lw.w_plus, -lw.w_minus)
    slope = float(rho @ rdot)
    if K == 0:
        return _residual_line_search(model, fin, Tf, zd, slope, stol, bland, t_tol)
    z = st.flat.copy()
    inBp = np.zeros(model.M, dtype=bool)
    inBp[Bp] = True
    T = np.full(model.M, np.inf)
    T[fin] = Tf
    gbar = np.bincount(model.group, weights=rho, minlength=G)
    Sflat = None
    maxlay = None
    if K:
        Sflat = np.concatenate([S.ravel() for S in model.out_sens(masks)])
        maxlay = np.full(G, -1, dtype=np.int64)
        if Bp.size:
            lb, gb, _ = model.decode(Bp)
            np.maximum.at(maxlay, gb, lb)
    t_ref = np.zeros(G)
    crossed_all: list[NDArray[np.int64]] = []
    absz = np.abs(zd)
    width = _CHUNK
    while True:
        nfin = int(np.count_nonzero(np.isfinite(T)))
        if nfin == 0:
            return Step("unbounded", slope_end=slope, crossed=_cat(crossed_all))
        if nfin > width:
            cand = np.argpartition(T, width)[:width]
        else:
            cand = np.flatnonzero(np.isfinite(T))
        cand = cand[np.isfinite(T[cand])]
        order = np.lexsort((cand, -absz[cand], T[cand]))
        ev = cand[order]
        lay_e, grp_e, unit_e = model.decode(ev)
        hid = lay_e < K
        end = ev.size
        if K:
            seen: set[int] = set()
            hseen: set[int] = set()
            for j in range(ev.size):
                g = int(grp_e[j])
                if g in hseen or (hid[j] and g in seen):
                    end = j
                    break
                seen.add(g)
                if hid[j]:
                    hseen.add(g)
        ev, lay_e, grp_e, unit_e, hid = ev[:end], lay_e[:end], grp_e[:end], unit_e[:end], hid[:end]
        ev_t = T[ev]
        upd = None
        if K and np.any(hid):
            # Tentatively cross every hidden event of the chunk (one per group) and recompute its
            # group's rates; a group's new events may come before later chunk events, so the
            # chunk is cut at the earliest such new event.
            hpos = np.flatnonzero(hid)
            gs = grp_e[hpos]
            tc = ev_t[hpos]
            ids_h = model.hidden_ids[gs]
            srow = signs[ids_h].copy()
            col = model.off[lay_e[hpos]] + unit_e[hpos]
            srow[np.arange(gs.size), col] = -srow[np.arange(gs.size), col]
            rm = model.row_masks(srow)
            nzd_h, nod = model.jvp_rows(e, gs, rm)
            dt = (tc - t_ref[gs])[:, None]
            nz_h = z[ids_h] + zd[ids_h] * dt
            samp, owner = model.samples_of(gs)
            rid = nhk + samp
            nz_r = z[rid] + zd[rid] * (tc[owner] - t_ref[gs][owner])
            nzd_r = nod[owner]
            ssig_r = signs[rid]
            mv_h = (srow * nzd_h < -ptol * max(zscale, 1e-300)) & ~inBp[ids_h]
            mv_r = (ssig_r * nzd_r < -ptol * max(zscale, 1e-300)) & model.kink_mask[rid] & ~inBp[rid]
            nT_h = np.full(ids_h.shape, np.inf)
            nT_r = np.full(rid.shape, np.inf)
            with np.errstate(divide="ignore", invalid="ignore"):
                nT_h[mv_h] = (tc[:, None] + np.maximum(0.0, -nz_h / nzd_h))[mv_h]
                nT_r[mv_r] = (tc[owner] + np.maximum(0.0, -nz_r / nzd_r))[mv_r]
            t_next = nT_h.min(axis=1)
            if rid.size:
                np.minimum.at(t_next, owner, nT_r)
            lim = np.full(end, np.inf)
            lim[hpos] = t_next
            run = np.minimum.accumulate(lim)
            bad = np.flatnonzero(ev_t[1:] > run[:-1])
            if bad.size:
                end = int(bad[0]) + 1
                ev, lay_e, grp_e, unit_e, hid, ev_t = ev[:end], lay_e[:end], grp_e[:end], unit_e[:end], hid[:end], ev_t[:end]
                keep = hpos < end
            else:
                keep = np.ones(hpos.size, dtype=bool)
            keep_r = keep[owner]
            upd = (gs[keep], tc[keep], ids_h[keep], srow[keep], nz_h[keep], nzd_h[keep], nT_h[keep],
                   rid[keep_r], nz_r[keep_r], nzd_r[keep_r], nT_r[keep_r], [m[keep] for m in rm])
        delta = np.empty(end)
        res = ~hid
        delta[res] = lw.jump * model.c[ev[res] - nhk] * absz[ev[res]]
        forced = np.zeros(end, dtype=bool)
        if K and np.any(hid):
            delta[hid] = gbar[grp_e[hid]] * Sflat[ev[hid]] * absz[ev[hid]]
            forced[hid] = maxlay[grp_e[hid]] > lay_e[hid]
        cums = slope + np.cumsum(delta)
        if multi:
            stop = np.flatnonzero((cums >= -stol) | forced)
        else:
            stop = np.zeros(1, dtype=np.int64)
        if stop.size:
            k = int(stop[0])
            t_stop = float(ev_t[k])
            tie = np.flatnonzero(np.abs(ev_t - t_stop) <= t_tol * (1.0 + t_stop))
            if tie.size > 1:
                q = int(tie[np.argmin(ev[tie])]) if bland else int(tie[np.argmax(absz[ev[tie]])])
            else:
                q = k
            before = ev[:k]
            if q < k:
                before = before[before != ev[q]]
            crossed_all.append(before)
            return Step("ok", t=t_stop, enter=int(ev[q]), crossed=_cat(crossed_all),
                        slope_end=float(cums[k]))
        # Cross the whole chunk; an uncut chunk doubles the next one (long BR steps cross many kinks).
        if end == cand.size:
            width = min(2 * width, model.M)
        slope = float(cums[-1])
        T[ev] = np.inf
        crossed_all.append(ev)
        if np.any(res):
            samp_r = ev[res] - nhk
            old = signs[ev[res]]
            gbar += np.bincount(model.group[samp_r], weights=-old * lw.jump * model.c[samp_r], minlength=G)
        signs[ev] = -signs[ev]
        if upd is not None and upd[0].size:
            gs, tc, ids_h, srow, nz_h, nzd_h, nT_h, rid, nz_r, nzd_r, nT_r, rm = upd
            for l in range(K):
                masks[l][gs] = rm[l]
            t_ref[gs] = tc
            z[ids_h] = nz_h
            zd[ids_h] = nzd_h
            absz[ids_h] = np.abs(nzd_h)
            T[ids_h] = nT_h
            Sflat[ids_h] = model.out_sens_rows(rm)
            if rid.size:
                z[rid] = nz_r
                zd[rid] = nzd_r
                absz[rid] = np.abs(nzd_r)
                T[rid] = nT_r


def _residual_line_search(model: LayerwiseModel, fin: NDArray[np.int64], Tf: NDArray[np.float64],
                          zd: NDArray[np.float64], slope: float, stol: float, bland: bool, t_tol: float) -> Step:
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
    return Step("ok", t=t_stop, enter=int(fin[order[q]]), crossed=fin[before].astype(np.int64),
                slope_end=slope + float(cums[k]))


def _cat(parts: list[NDArray[np.int64]]) -> NDArray[np.int64]:
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

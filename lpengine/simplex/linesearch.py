"""The step along an edge ray of the Deep ReLU Simplex: ratio test and Barrodale–Roberts line search.

* **Line search** (Barrodale–Roberts).  Along the chosen ray the loss is
  piecewise linear; kinks are crossed in order of their crossing times while
  the slope stays negative.  Crossing a residual kink raises the slope by
  ``c_i (w_plus + w_minus) |r'_i|``; crossing a hidden kink changes its
  sample's output rate by ``dout/da * |z'|`` (possibly lowering the slope: the
  loss along a ray need not be convex).  A hidden crossing upstream of a basis
  kink of the same sample bends the edge, so the step stops there.  Events are
  processed in vectorised chunks that stop before a sample whose rates a
  hidden crossing has changed.
* **Ratio test** (``multi=False``): stop at the first kink reached.
* **Ties and anti-cycling.**  Among kinks reached at the same time (within
  tolerance) the one with the largest pivot ``|z'|`` enters (Harris); after a
  run of zero-length steps the caller switches to Bland's rule (smallest kink
  id, both for the ray and the entering kink; Bland 1977).

The rays and the engine state come from :mod:`lpengine.simplex.pivot`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .model import LayerwiseModel, Masks
from .pivot import Vertex

__all__ = ["Step", "line_search"]

#: Events examined per chunk of the line search.
_CHUNK = 64


@dataclass
class Step:
    """Outcome of a ratio test / line search along one ray."""

    status: str  # "ok" | "unbounded"
    t: float = 0.0
    enter: int = -1
    crossed: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    slope_end: float = 0.0
    masks: Masks | None = None  # masks after the step when no kink was crossed (plain ratio test)


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
    # Only the leaving kink changes sign: reuse the vertex's masks, copying the one layer it is in.
    masks: list[NDArray[np.bool_] | NDArray[np.float64]] = list(st.masks)
    if 0 <= lid < model.n_hidden_kinks:
        l, g, u = int(model.kink_layer[lid]), int(model.kink_group[lid]), int(model.kink_unit[lid])
        masks[l] = masks[l].copy()
        masks[l][g, u] = 1.0 if sigma > 0 else 0.0
    if multi and K:
        Bp = st.B if leave is None else np.delete(st.B, leave)
        zds, odot = model.jvp(e, masks)
        rdot = odot if model.identity_groups else odot[model.group]
        zscale = max([max(float(z.max()), -float(z.min())) for z in zds] + [max(float(rdot.max()), -float(rdot.min()))])
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
    G, nhk, K = model.G, model.n_hidden_kinks, model.K
    lw = model.loss
    hid_ids = model.hidden_ids
    off = model.off
    inBp = np.zeros(model.M, dtype=bool)
    inBp[Bp] = True
    # Per-group rows (values, rates, signs, crossing times of the group's hidden kinks) are loaded
    # lazily: only groups that cross a kink in this search (a few hundred of the G) are ever
    # materialised; ``have`` marks them.  ``np.empty`` touches no memory until a row is written.
    n_h = model.n_hidden
    Zh = np.empty((G, n_h))
    Zdh = np.empty((G, n_h))
    Sh = np.empty((G, n_h))
    Th = np.empty((G, n_h))
    frozen_h = np.empty((G, n_h), dtype=bool)
    have = np.zeros(G, dtype=bool)
    blocks = [(slice(G * off[l], G * off[l + 1]), model.widths[l]) for l in range(K)]
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

    def load(gs: NDArray[np.int64]) -> None:
        """Materialise the rows of groups ``gs`` (not yet loaded) from the vertex's state."""
        ids = hid_ids[gs]
        Zh[gs] = st.flat[ids]
        Zdh[gs] = np.concatenate([z[gs] for z in zds], axis=1)
        Sh[gs] = signs[ids]
        frozen_h[gs] = inBp[ids]
        Th[gs] = hidden_times(Zh[gs], Zdh[gs], Sh[gs], frozen_h[gs], t_ref[gs])
        have[gs] = True

    # Earliest hidden crossing of every group, layer block by layer block (contiguous arrays; the
    # minimum over a group's kinks column by column: a reduction over a short row axis is slow).
    th = np.full(G, np.inf)
    for (fl, w), zd_l in zip(blocks, zds, strict=True):
        Z_l = st.flat[fl].reshape(G, w)
        T_l = -Z_l / zd_l
        np.maximum(T_l, 0.0, out=T_l)
        T_l[signs[fl].reshape(G, w) * zd_l >= -thr] = np.inf
        for j in range(w):
            np.minimum(th, T_l[:, j], out=th)
    # Groups with a basis kink (frozen at zero along the ray): their exact rows, frozen kinks excluded.
    if Bp.size:
        _, gB, _ = model.decode(Bp[Bp < nhk])
        gB = np.unique(gB)
        if gB.size:
            load(gB)
            th[gB] = Th[gB].min(axis=1)
    Tr = residual_times(slice(None), 0.0)
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
            fresh = act[~have[act]]
            if fresh.size:
                load(fresh)
            tc = th[act]
            ar = np.arange(act.size)
            col = Th[act].argmin(axis=1)
            if single:
                samp = model.group_samples[model.group_ptr[act]]
                owner = ar
            else:
                samp, owner = model.samples_of(act)
            res_first = Tr[samp] < tc[owner]
            if res_first.any():
                s_ = samp[res_first]
                ev_t.append(Tr[s_])
                ev_id.append(nhk + s_)
                ev_a.append(np.abs(rd[s_]))
                ev_d.append(jump_c[s_] * ev_a[-1])
                ev_f.append(np.zeros(s_.size, dtype=bool))
                np.subtract.at(gbar, act[owner[res_first]], sr[s_] * jump_c[s_])
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

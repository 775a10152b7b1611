"""The region (cell) LPs of the layer-wise loss: the one cell-LP builder.

:func:`region_lp` is the LP of one *hidden cell* (fixed signs of every hidden
kink), which is the ground truth for every certificate:

    LP(H):  minimise   sum_i c_i (w_plus t+_i + w_minus t-_i)
            over       theta free, t+, t- >= 0
            subject to t+_i - t-_i - u_i . theta = o_i - y_i       (one row per sample)
                       sigma_k (q_k . theta + q0_k) >= 0            (every hidden kink)

On the closed cell ``L`` equals the LP objective, so LP(H) minimises the loss
over the cell exactly; ``theta*`` is a local minimum of ``L`` iff it is
LP-optimal for every hidden cell containing it (reference notes
``deep_relu_simplex.md`` §3, facts 1–2).  For a linear loss (``w_plus +
w_minus = 0``, argument minimisation) the ``t`` columns are dropped and the
objective is ``sum_i c_i w_plus (u_i . theta + o_i - y_i)``.

Around a point, on a box, the LP shrinks to what can change inside the box
(:func:`box_prune`); :func:`restrict_model` keeps only some groups of samples,
so that the others can be summed into one linear term (``linear=`` of
:func:`region_lp`).  The models themselves are built by
:mod:`lpengine.simplex.encoding`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ..lp import LinearProgram
from .model import LayerwiseModel

__all__ = ["cell_affine", "update_cell_affine", "box_prune", "region_lp", "restrict_model"]


def restrict_model(model: LayerwiseModel, groups: NDArray[np.int64]) -> LayerwiseModel:
    """The same loss over the samples of ``groups`` only (layer mode; groups renumbered in the given order).

    Group ``groups[j]`` of ``model`` is group ``j`` of the result, so hidden kink ``(l, groups[j], u)``
    of ``model`` (flat id ``model.hidden_ids[groups[j], col]``) is ``sub.hidden_ids[j, col]``.  Used to
    "glob" the samples that cannot change within a box into one linear term
    (:func:`~lpengine.simplex.certificate.check_cells`).
    """
    assert model.mode == "layer" and model.H is not None  # collapsing groups needs feature rows
    groups = np.asarray(groups, dtype=np.int64)
    samp, owner = model.samples_of(groups)
    return LayerwiseModel(
        mode="layer",
        H=model.H[groups],
        W_in=None,
        b_in=None,
        hidden_W=model.hidden_W,
        hidden_b=model.hidden_b,
        out_W=model.out_W,
        out_b=model.out_b,
        group=np.asarray(owner, dtype=np.int64),
        y=model.y[samp],
        c=model.c[samp],
        loss=model.loss,
        n_units=model.n_units,
        public_perm=model.public_perm,
    )


def box_prune(
    model: LayerwiseModel,
    affine: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]],
    hidden_signs: NDArray[np.int8],
    center: NDArray[np.float64],
    rad: NDArray[np.float64],
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], bool, NDArray[np.float64]]:
    """What can change inside the box ``|theta - center| <= rad`` on one hidden cell (its ``affine``).

    Returns ``(keep, near, empty, r)``: ``keep[kappa]``, hidden kink ``kappa`` has a non-zero normal and
    can reach zero in the box (``|z(center)| <= |q|.rad``, and ``|q|.rad > 0``); ``near[i]``, residual
    ``i`` can change sign in the box; ``empty``, some kink is on the wrong side of zero everywhere in the
    box (a constant kink of the wrong sign included): the cell misses the box; ``r``, the residuals
    at ``center`` on the cell.  The rule of :func:`region_lp` with ``prune=True``.
    """
    Q, q0, U, o = affine
    sig = hidden_signs.astype(np.float64)
    # A zero normal (a kink with every path masked off) is a constant kink: the comparison with 0.0 is
    # exact (see region_lp).
    live = np.any(Q != 0.0, axis=1) if Q.shape[0] else np.zeros(0, bool)
    zH = Q @ center + q0
    reach = np.abs(Q) @ rad
    empty = bool(np.any((~live) & (sig * q0 < 0.0))) or bool(np.any(sig * zH < -reach))
    keep = live & (sig * zH <= reach) & (reach > 0)
    Ug = U[model.group]
    r = Ug @ center + o[model.group] - model.y
    near = np.full(model.N, model.loss.kinked) & (np.abs(r) <= np.abs(Ug) @ rad)
    return keep, near, empty, r


def cell_affine(
    model: LayerwiseModel, hidden_signs: NDArray[np.int8]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Affine forms of every hidden kink and every group output on one hidden cell.

    Returns ``(Q, q0, U, o)``: hidden kink ``kappa`` (flat id) is ``Q[kappa] @ theta + q0[kappa]``,
    group output ``g`` is ``U[g] @ theta + o[g]`` (internal theta layout).
    """
    masks = model.masks(np.concatenate([hidden_signs, np.ones(model.N, np.int8)]))
    G, D = model.G, model.D
    zero = np.zeros(D)
    # Value at theta = 0 under the masks, then one JVP per coordinate (D small) for the linear part.
    zs0, out0 = model.forward(zero, masks)
    eye = np.eye(D)
    zds, outd = model.jvp(eye, masks) if model.K else ([], model.z0_dot(eye)[:, :, 0])
    if model.K:
        # jvp with a (D, D) stack returns (D, G, n_l) per layer.
        Q = np.concatenate([zd.transpose(1, 2, 0).reshape(G * model.widths[l], D) for l, zd in enumerate(zds)], axis=0)
        q0 = np.concatenate([z.ravel() for z in zs0])
        U = outd.T
    else:
        Q = np.zeros((0, D))
        q0 = np.zeros(0)
        U = outd.T
    return Q, q0, U, out0


def update_cell_affine(
    model: LayerwiseModel,
    base: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]],
    hidden_signs: NDArray[np.int8],
    groups: NDArray[np.int64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """:func:`cell_affine` of a cell that differs from the cell of ``base`` only in the kinks of ``groups``.

    A group's affine forms depend on that group's signs only, so only its rows are recomputed:
    ``O(|groups| * D * P)`` instead of ``O(G * D * P)``.
    """
    Q, q0, U, o = (a.copy() for a in base)
    if groups.size == 0 or model.K == 0:
        return Q, q0, U, o
    D = model.D
    masks = model.masks(np.concatenate([hidden_signs, np.ones(model.N, np.int8)]))
    zs0, out0 = model.forward(np.zeros(D), masks, rows=groups)
    zds, outd = model.jvp(np.eye(D), masks, rows=groups)
    for l in range(model.K):
        ids = model.hidden_ids[groups][:, model.off[l] : model.off[l + 1]]
        Q[ids.ravel()] = zds[l].transpose(1, 2, 0).reshape(-1, D)
        q0[ids.ravel()] = zs0[l].ravel()
    U[groups] = outd.T
    o[groups] = out0
    return Q, q0, U, o


def region_lp(
    model: LayerwiseModel,
    hidden_signs: NDArray[np.int8],
    *,
    fix_hidden: NDArray[np.int64] | None = None,
    fix_residual: NDArray[np.int64] | None = None,
    box: tuple[NDArray[np.float64], float | NDArray[np.float64]] | None = None,
    prune: bool = False,
    affine: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]] | None = None,
    linear: tuple[NDArray[np.float64], float] | None = None,
    working: tuple[NDArray[np.bool_], NDArray[np.bool_]] | None = None,
) -> tuple[LinearProgram, int]:
    """The LP of the hidden cell with the given signs (see module docstring): the one cell-LP builder.

    The Deep ReLU Simplex's certificates (through :func:`~lpengine.simplex.certificate.local_cell_lp`),
    its HiGHS engine and the landscape census of :mod:`lpengine.analysis` all build their cell LPs here.

    Parameters
    ----------
    hidden_signs : ndarray of +1/-1, shape (G * n_hidden,)
        Signs of the hidden kinks (flat ids ``0 .. G*n_hidden - 1``).
    fix_hidden : ndarray of int, optional
        Hidden kinks forced to zero (their rows become equalities).
    fix_residual : ndarray of int, optional
        Samples whose residual is forced to zero (``t+ = t- = 0``).
    box : (center, radius), optional
        Add ``|theta - center| <= radius`` (internal layout; ``radius`` a float or one per coordinate).
    prune : bool
        With a box: leave out what cannot change inside it.  The sign row of a kink that cannot
        reach zero in the box is dropped (``|z(center)| > |q|.radius``), and a residual that keeps
        its sign in the box becomes a linear term of the objective (its ``t`` columns and row are
        dropped).  Exact on the box, and much smaller when the box is small.  A kink on the wrong
        side of zero everywhere in the box makes the LP infeasible (the cell misses the box).
    affine : tuple, optional
        The cell's :func:`cell_affine`, when the caller has it.
    linear : (c, offset), optional
        A linear term ``c . theta + offset`` added to the objective: the globbed samples of a
        restricted model (:func:`restrict_model`), which keep their signs in the box.
    working : (hidden rows, residuals), optional
        With ``prune``: keep only these sign rows (bool over the hidden kinks) and ``t`` columns
        (bool over the samples) among those the box keeps; every other residual becomes the linear
        term of its sign at the box centre.  A *relaxation* of the pruned LP (fewer rows, and
        ``rho(r) >= w r`` for either sign's slope ``w``); :func:`~lpengine.simplex.cell_solve.solve_box_cell`
        grows the working set until the relaxation's optimum is the pruned LP's.

    Returns
    -------
    lp : LinearProgram
        Columns ``[theta (D), t+, t-]`` with one ``t+``/``t-`` pair per kept sample (every sample
        unless pruned; none for a linear loss); rows: the kept samples' residual rows, then the
        kept sign rows.
    n_theta : int
        ``D``.
    """
    D, N = model.D, model.N
    Q, q0, U, o = cell_affine(model, hidden_signs) if affine is None else affine
    Ug = U[model.group]
    og = o[model.group] - model.y
    sig = hidden_signs.astype(np.float64)
    lw = model.loss
    # Drop constant kinks (zero normal): they do not depend on theta (dead paths).  The comparison with
    # 0.0 is exact, not a tolerance: a normal is a sum of products of weights along paths through the
    # masks, and it is exactly zero iff every path is masked off (0 * w == 0 exactly in IEEE arithmetic),
    # while a live path gives a non-zero float unless weights cancel exactly (then the kink is constant).
    live = np.any(Q != 0.0, axis=1) if Q.shape[0] else np.zeros(0, bool)
    empty = bool(np.any((~live) & (sig * q0 < 0.0)))
    lo_h = np.where(sig > 0, -q0, -np.inf)
    hi_h = np.where(sig > 0, np.inf, -q0)
    if fix_hidden is not None and len(fix_hidden):
        lo_h[fix_hidden] = -q0[fix_hidden]
        hi_h[fix_hidden] = -q0[fix_hidden]
        live[fix_hidden] = True
    col_lo = np.full(D, -np.inf)
    col_hi = np.full(D, np.inf)
    near = np.full(N, lw.kinked)  # samples with t columns; the others are linear terms of the objective
    r = np.zeros(N)
    if box is not None:
        center = np.asarray(box[0], dtype=np.float64)
        rad = np.broadcast_to(np.asarray(box[1], dtype=np.float64), (D,))
        col_lo, col_hi = center - rad, center + rad
        if prune:
            keep, near_box, empty_box, r = box_prune(model, (Q, q0, U, o), hidden_signs, center, rad)
            empty |= empty_box
            if working is not None:
                keep &= working[0]
                near_box &= working[1]
            if fix_hidden is not None and len(fix_hidden):
                keep[fix_hidden] = True
            live &= keep
            near &= near_box
            if fix_residual is not None and len(fix_residual):
                near[fix_residual] = lw.kinked
    far = ~near
    # Far residuals keep their sign: rho(r) = w r with w = w_plus (r > 0) or -w_minus (r < 0).  A linear
    # loss (w_plus = -w_minus) is linear everywhere.
    w_far = model.c[far] * (np.where(r[far] > 0, lw.w_plus, -lw.w_minus) if lw.kinked else lw.w_plus)
    c_theta = w_far @ Ug[far]
    offset = float(w_far @ og[far])
    if linear is not None:
        c_theta = c_theta + linear[0]
        offset += float(linear[1])
    nn = int(near.sum())
    c = np.concatenate([c_theta, model.c[near] * lw.w_plus, model.c[near] * lw.w_minus])
    rows = []
    rlo, rhi = [], []
    if nn:
        I = sp.identity(nn, format="csc")
        rows.append(sp.hstack([sp.csc_array(-Ug[near]), I, -I], format="csc"))
        rlo.append(og[near])
        rhi.append(og[near])
    n_live = int(live.sum())
    rows.append(sp.hstack([sp.csc_array(Q[live].reshape(n_live, D)), sp.csc_array((n_live, 2 * nn))], format="csc"))
    rlo.append(lo_h[live])
    rhi.append(hi_h[live])
    cl = np.concatenate([col_lo, np.zeros(2 * nn)])
    cu = np.concatenate([col_hi, np.full(2 * nn, np.inf)])
    if nn and fix_residual is not None and len(fix_residual):
        pos = (np.cumsum(near) - 1)[np.asarray(fix_residual)]
        cu[D + pos] = 0.0
        cu[D + nn + pos] = 0.0
    lp = LinearProgram(
        c=c,
        A=sp.vstack(rows, format="csc"),
        row_lower=np.concatenate(rlo),
        row_upper=np.concatenate(rhi),
        col_lower=cl,
        col_upper=cu,
        offset=offset,
    )
    if empty:
        # A kink that cannot take its sign (a constant one, or one beyond reach of the box): the cell is empty.
        lp = _empty_lp(lp)
    return lp, D


def _empty_lp(lp: LinearProgram) -> LinearProgram:
    """An infeasible copy of ``lp`` (one extra row 0 >= 1): a cell that a constant kink rules out."""
    extra = sp.csc_array((1, lp.n_cols))
    A = sp.vstack([lp.A, extra], format="csc")
    return LinearProgram(
        c=lp.c,
        A=A,
        row_lower=np.concatenate([lp.row_lower, [1.0]]),
        row_upper=np.concatenate([lp.row_upper, [np.inf]]),
        col_lower=lp.col_lower,
        col_upper=lp.col_upper,
        offset=lp.offset,
    )

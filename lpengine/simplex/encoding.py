"""The layer-wise L1 / quantile loss of one trained layer, and its region LPs.

Two things live here:

1. Builders of :class:`~lpengine.simplex.model.LayerwiseModel` from a network
   and data (train layer ``layer``), from a design matrix (LAD / quantile
   regression, the Barrodale–Roberts case) or from a network alone (argument
   minimisation of its output).
2. :func:`region_lp`, the LP of one *hidden cell* (fixed signs of every hidden
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
"""

from __future__ import annotations

from typing import cast

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from .._validation import check_array, check_int, check_scalar
from ..exceptions import InvalidNetworkError, InvalidProblemError
from ..lp import LinearProgram
from ..network import ReLUNetwork
from .model import LayerwiseModel, RhoLoss, loss_for_quantile

__all__ = ["build_layer_model", "build_lad_model", "build_argmin_model", "region_lp", "check_quantile"]


def check_quantile(quantile: float) -> float:
    """``quantile`` as a float in (0, 1), or :class:`InvalidProblemError`."""
    return check_scalar(quantile, "quantile", low=0.0, high=1.0, error=InvalidProblemError)


def _unique_rows(H: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Distinct rows of ``H`` (first-occurrence order) and the inverse map.

    Rows are sorted by a fixed random projection (one float sort instead of a
    lexicographic row sort); only rows with equal projections are compared in full.
    """
    n = H.shape[0]
    key = H @ np.random.default_rng(12345).standard_normal(H.shape[1])
    order = np.argsort(key, kind="stable")
    ks = key[order]
    same = np.flatnonzero(ks[1:] == ks[:-1])
    rep = np.arange(n)
    if same.size:
        Hs = H[order]
        for j in same:  # candidates only (exact duplicates, or rare projection ties)
            a = j
            while a > 0 and ks[a - 1] == ks[j] and not np.array_equal(Hs[a], Hs[j + 1]):
                a -= 1
            if np.array_equal(Hs[a], Hs[j + 1]):
                rep[order[j + 1]] = rep[order[a]]
    first = np.flatnonzero(rep == np.arange(n))
    idx = np.full(n, -1, dtype=np.int64)
    idx[first] = np.arange(first.size)
    return H[first], idx[rep]


def _merge_samples(
    H: NDArray[np.float64], y: NDArray[np.float64], c: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Distinct feature rows (groups) and samples merged on equal (row, target)."""
    Hu, group = _unique_rows(H)
    key = np.stack([group.astype(np.float64), y], axis=1)
    _, sample = _unique_rows(key)
    m = int(sample.max()) + 1
    # numpy's stubs type bincount as integer even with float weights; it returns float64 here
    cm = cast("NDArray[np.float64]", np.bincount(sample, weights=c, minlength=m))
    gm = np.zeros(m, dtype=np.int64)
    ym = np.zeros(m)
    gm[sample] = group
    ym[sample] = y
    return Hu, gm, ym, cm


def _check_rank(M: NDArray[np.float64], what: str) -> None:
    rank = int(np.linalg.matrix_rank(M))
    if rank < M.shape[1]:
        raise InvalidProblemError(
            f"{what} has rank {rank} < {M.shape[1]} columns: the loss is constant along a direction of "
            "parameter space, so no vertex (D independent kinks) exists. Remove the dependent (collinear or "
            "constant) columns, or add data."
        )


def _check_data(
    X: ArrayLike, y: ArrayLike, n_in: int | None, sample_weight: ArrayLike | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    X = check_array(X, "X", ndim=2, error=InvalidProblemError)
    if n_in is not None and X.shape[1] != n_in:
        raise InvalidProblemError(f"X has {X.shape[1]} features; expected n_in = {n_in} of the network.")
    y = check_array(y, "y", error=InvalidProblemError)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise InvalidProblemError(f"y has shape {y.shape}; expected ({X.shape[0]},) to match X.")
    if sample_weight is None:
        c = np.ones(X.shape[0])
    else:
        c = check_array(sample_weight, "sample_weight", shape=(X.shape[0],), error=InvalidProblemError)
        if np.any(c < 0):
            raise InvalidProblemError("sample_weight has negative entries; expected weights >= 0.")
    return X, y, c


def build_layer_model(
    net: ReLUNetwork,
    X: ArrayLike,
    y: ArrayLike,
    *,
    layer: int = 0,
    quantile: float = 0.5,
    sample_weight: ArrayLike | None = None,
    loss: RhoLoss | None = None,
    check_rank: bool = True,
) -> LayerwiseModel:
    """Model of the loss as a function of ``weights[layer], biases[layer]`` (others frozen).

    ``loss`` overrides the loss of ``quantile`` with any ``rho(r) = w_plus r_+ + w_minus r_-``.
    ``check_rank=False`` accepts rank-deficient features (no vertex need exist: the landscape
    analysis of :mod:`lpengine.analysis` needs cells and their LPs, not vertices).

    Raises
    ------
    InvalidNetworkError
        If the network has no affine scalar output layer.
    InvalidProblemError
        For malformed data, a layer index out of range, or rank-deficient
        features of the trained layer (no vertex exists).
    """
    if not isinstance(net, ReLUNetwork):
        raise InvalidNetworkError(f"net must be a lpengine.ReLUNetwork; got {type(net).__name__}.")
    if not net.has_output_layer or net.n_out != 1:
        raise InvalidNetworkError(
            f"the Deep ReLU Simplex needs a scalar affine output layer; got has_output_layer="
            f"{net.has_output_layer}, n_out={net.n_out}."
        )
    n_layers = len(net.weights)
    layer = check_int(layer, "layer", low=0, high=n_layers - 1, error=InvalidProblemError)
    X, y, c = _check_data(X, y, net.n_in, sample_weight)
    rho = loss_for_quantile(check_quantile(quantile)) if loss is None else loss
    h = X
    for l in range(layer):
        h = np.maximum(h @ net.weights[l].T + net.biases[l], 0.0)
    H = np.hstack([h, np.ones((h.shape[0], 1))])
    if check_rank:
        _check_rank(H, f"the input of layer {layer} with a column of ones (shape {H.shape})")
    Hu, group, ym, cm = _merge_samples(H, y, c)
    W = net.weights[layer]
    n_units, p = W.shape[0], W.shape[1] + 1
    # Internal theta is neuron-major: theta[k*p + j] = W[k, j] (j < p-1), theta[k*p + p-1] = b[k].
    # Public layout [W.ravel(), b]: W[k, j] at k*(p-1) + j, b[k] at n_units*(p-1) + k.
    perm = np.empty(n_units * p, dtype=np.int64)
    for k in range(n_units):
        perm[k * (p - 1) : (k + 1) * (p - 1)] = np.arange(k * p, k * p + p - 1)
        perm[n_units * (p - 1) + k] = k * p + p - 1
    is_output = layer == n_layers - 1
    hidden_W = [np.array(net.weights[l]) for l in range(layer + 1, n_layers - 1)]
    hidden_b = [np.array(net.biases[l]) for l in range(layer + 1, n_layers - 1)]
    return LayerwiseModel(
        mode="layer",
        H=Hu,
        W_in=None,
        b_in=None,
        hidden_W=[] if is_output else hidden_W,
        hidden_b=[] if is_output else hidden_b,
        out_W=None if is_output else np.array(net.weights[-1]),
        out_b=None if is_output else np.array(net.biases[-1]),
        group=group,
        y=ym,
        c=cm,
        loss=rho,
        n_units=n_units,
        public_perm=perm,
    )


def build_lad_model(
    X: ArrayLike,
    y: ArrayLike,
    *,
    quantile: float = 0.5,
    fit_intercept: bool = True,
    sample_weight: ArrayLike | None = None,
) -> LayerwiseModel:
    """Model of ``sum_i c_i rho(x_i . beta (+ b) - y_i)``: LAD / quantile regression.

    The intercept, when fitted, is the last coefficient.
    """
    X, y, c = _check_data(X, y, None, sample_weight)
    quantile = check_quantile(quantile)
    H = np.hstack([X, np.ones((X.shape[0], 1))]) if fit_intercept else X
    _check_rank(H, f"the design matrix{' with intercept' if fit_intercept else ''} (shape {H.shape})")
    Hu, group, ym, cm = _merge_samples(H, y, c)
    p = H.shape[1]
    return LayerwiseModel(
        mode="layer",
        H=Hu,
        W_in=None,
        b_in=None,
        hidden_W=[],
        hidden_b=[],
        out_W=None,
        out_b=None,
        group=group,
        y=ym,
        c=cm,
        loss=loss_for_quantile(quantile),
        n_units=1,
        public_perm=np.arange(p),
    )


def build_argmin_model(net: ReLUNetwork) -> LayerwiseModel:
    """Model of the network's scalar output as a function of its input (argument minimisation)."""
    if not isinstance(net, ReLUNetwork):
        raise InvalidNetworkError(f"net must be a lpengine.ReLUNetwork; got {type(net).__name__}.")
    if not net.has_output_layer or net.n_out != 1:
        raise InvalidNetworkError("argument minimisation needs a scalar affine output layer.")
    W0 = np.array(net.weights[0])
    _check_rank(W0, f"weights[0] (shape {W0.shape})")
    n = len(net.weights)
    return LayerwiseModel(
        mode="input",
        H=None,
        W_in=W0,
        b_in=np.array(net.biases[0]),
        hidden_W=[np.array(net.weights[l]) for l in range(1, n - 1)],
        hidden_b=[np.array(net.biases[l]) for l in range(1, n - 1)],
        out_W=np.array(net.weights[-1]),
        out_b=np.array(net.biases[-1]),
        group=np.zeros(1, np.int64),
        y=np.zeros(1),
        c=np.ones(1),
        loss=RhoLoss(1.0, -1.0),
        n_units=W0.shape[0],
        public_perm=np.arange(W0.shape[1]),
    )


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
    live = np.linalg.norm(Q, axis=1) > 0.0 if Q.shape[0] else np.zeros(0, bool)
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
            zH = Q @ center + q0
            reach = np.abs(Q) @ rad
            empty |= bool(np.any(sig * zH < -reach))
            keep = (sig * zH <= reach) & (reach > 0)
            if fix_hidden is not None and len(fix_hidden):
                keep[fix_hidden] = True
            live &= keep
            r = Ug @ center + og
            near &= np.abs(r) <= np.abs(Ug) @ rad
            if fix_residual is not None and len(fix_residual):
                near[fix_residual] = lw.kinked
    far = ~near
    # Far residuals keep their sign: rho(r) = w r with w = w_plus (r > 0) or -w_minus (r < 0).  A linear
    # loss (w_plus = -w_minus) is linear everywhere.
    w_far = model.c[far] * (np.where(r[far] > 0, lw.w_plus, -lw.w_minus) if lw.kinked else lw.w_plus)
    c_theta = w_far @ Ug[far]
    offset = float(w_far @ og[far])
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

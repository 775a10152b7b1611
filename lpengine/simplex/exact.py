"""Exact rational recheck of edge-ray slopes at a Deep ReLU Simplex vertex.

The walk prices its ``2D`` edge rays in floating point.  A slope far from zero
has a certain sign; a slope within the rounding margin of zero does not (a
dead unit, inactive on every sample, gives rays of slope exactly zero that
floats report as ``+-1e-16``).  For those rays the certificate recomputes the
slope in exact rational arithmetic, reading every float64 weight, feature and
target as the rational number it represents:

1. the basis rows ``a_kappa = grad z_kappa`` under the tracked pattern, exactly
   (products of weights through the masks, times the feature row);
2. the edge ``d = sigma A^{-1} e_i`` by an exact rational solve (FLINT)
   (``A d = sigma e_i``: kink ``i`` moves at rate ``sigma``, the other basis
   kinks stay at zero exactly);
3. the one-sided directional derivative of the loss along ``d``: every sample
   contributes ``c_s rho'(r_s) r'_s(d)`` under its tracked pattern, except the
   ray's own kink (its side is ``sigma``).  Only the groups with an active unit
   in a block where ``d`` is non-zero can contribute, so a dead unit's rays
   cost almost nothing.

This is a proof about the exact vertex defined by the basis and the tracked
pattern (the float iterate is within rounding of it), provided no other kink
is at zero there.  It is *not* attempted at a degenerate vertex (the
certificate then says "borderline").  A bent edge (a ray whose kink has
another basis kink of the same sample downstream) is solved with those
downstream normals taken on the far side of the kink.  Cost: ``O(D^3)`` fraction operations for the inverse plus
``O(n_g P)`` per ray for the ``n_g`` contributing groups.

**Zero loss.**  :func:`exact_vertex_loss_is_zero` solves the basis equations
``z_kappa(theta) = 0`` (rows *and* constant terms under the tracked pattern) in
rationals for the exact vertex, then evaluates every residual there with true
ReLUs, in rationals.  A loss of exactly 0 is the global minimum of an L1 or
quantile loss (every term is ``>= 0``): a proof that needs neither the ray test
nor any LP.
"""

from __future__ import annotations

from fractions import Fraction

import flint
import numpy as np
from numpy.typing import NDArray

from .model import LayerwiseModel

__all__ = ["exact_kink_values", "exact_ray_slopes", "exact_vertex", "exact_vertex_loss_is_zero"]


def _fr(a: NDArray[np.float64]) -> list:
    """Nested lists of exact Fractions of a float array (1-D or 2-D)."""
    if a.ndim == 1:
        return [Fraction(float(v)) for v in a]
    return [[Fraction(float(v)) for v in row] for row in a]


class _ExactNet:
    """Exact rational copies of the frozen layers and per-group masks (layer mode, ``K > 0``)."""

    def __init__(self, model: LayerwiseModel, masks: list[NDArray[np.bool_]]):
        self.model = model
        self.masks = masks
        self.W = [_fr(np.asarray(W)) for W in model.hidden_W]
        self.b = [_fr(np.asarray(b)) for b in model.hidden_b]
        assert model.out_W is not None and model.out_b is not None  # K > 0
        self.out = _fr(np.asarray(model.out_W[0]))
        self.out_b = Fraction(float(model.out_b[0]))

    def offset(self, layer: int, g: int, unit: int) -> Fraction:
        """Constant term of kink ``(layer, g, unit)`` under group ``g``'s masks (``layer == K``: the
        output without the target).  The trained layer's kinks ``h_g . theta_u`` have none."""
        m = self.model
        c = [Fraction(0)] * m.n_units
        for lm in range(1, min(layer, m.K - 1) + 1):
            a = [cj if self.masks[lm - 1][g, j] else Fraction(0) for j, cj in enumerate(c)]
            W = self.W[lm - 1]
            c = [
                sum((W[i][j] * a[j] for j in range(len(a)) if a[j]), Fraction(0)) + self.b[lm - 1][i]
                for i in range(len(W))
            ]
        if layer < m.K:
            return c[unit]
        a = [cj if self.masks[m.K - 1][g, j] else Fraction(0) for j, cj in enumerate(c)]
        return sum((self.out[j] * a[j] for j in range(len(a)) if a[j]), Fraction(0)) + self.out_b

    def output(self, h: list[Fraction], theta: list[Fraction]) -> Fraction:
        """The network's output for feature row ``h`` at the trained layer's ``theta``, with true ReLUs."""
        m = self.model
        p = m.p
        z = [sum((theta[u * p + k] * h[k] for k in range(p) if h[k]), Fraction(0)) for u in range(m.n_units)]
        for lm in range(1, m.K):
            a = [v if v > 0 else Fraction(0) for v in z]
            W = self.W[lm - 1]
            z = [
                sum((W[i][j] * a[j] for j in range(len(a)) if a[j]), Fraction(0)) + self.b[lm - 1][i]
                for i in range(len(W))
            ]
        a = [v if v > 0 else Fraction(0) for v in z]
        return sum((self.out[j] * a[j] for j in range(len(a)) if a[j]), Fraction(0)) + self.out_b

    def d_a0(self, layer: int, g: int, unit: int, flip: tuple[int, int, int, bool] | None = None) -> list[Fraction]:
        """``d z / d a_0`` of kink ``(layer, g, unit)`` (``layer == K``: the output), under group ``g``'s masks.

        ``flip = (layer, group, unit, on)`` overrides one mask (a bent edge's own kink on its new side).
        """
        m = self.model
        K = m.K
        if layer == 0:
            v = [Fraction(0)] * m.n_units
            v[unit] = Fraction(1)
            return v
        # Row vector d z / d a_{layer-1}.
        if layer == K:
            v = list(self.out)
        else:
            v = list(self.W[layer - 1][unit])
        for lm in range(layer - 1, 0, -1):
            mk = [bool(x) for x in self.masks[lm][g]]
            if flip is not None and flip[0] == lm and flip[1] == g:
                mk[flip[2]] = flip[3]
            v = [vj if mk[j] else Fraction(0) for j, vj in enumerate(v)]
            W = self.W[lm - 1]
            v = [sum((v[j] * W[j][i] for j in range(len(v)) if v[j]), Fraction(0)) for i in range(len(W[0]))]
        return v

    def out_rate(
        self, g: int, z0dot: list[Fraction], mask0: list[bool], flip: tuple[int, int, bool] | None = None
    ) -> Fraction:
        """Output rate of group ``g`` given its trained-layer rates and the trained layer's mask.

        ``flip = (layer, unit, on)`` overrides one deeper mask (the ray's own kink, on its new side).
        """
        m = self.model
        a = [z if mask0[u] else Fraction(0) for u, z in enumerate(z0dot)]
        for l in range(1, m.K):
            W = self.W[l - 1]
            z = [sum((W[j][i] * a[i] for i in range(len(a)) if a[i]), Fraction(0)) for j in range(len(W))]
            mk = [bool(v) for v in self.masks[l][g]]
            if flip is not None and flip[0] == l:
                mk[flip[1]] = flip[2]
            a = [zj if mk[j] else Fraction(0) for j, zj in enumerate(z)]
        return sum((self.out[i] * a[i] for i in range(len(a)) if a[i]), Fraction(0))


def _solve_exact(A: list[list[Fraction]], rhs: list[list[Fraction]]) -> list[list[Fraction]] | None:
    """``X`` with ``A X = [rhs_0 ... rhs_k]``, one list per right-hand side, exactly (FLINT's rational
    solve); ``None`` if ``A`` is singular."""
    n, k = len(A), len(rhs)
    Aq = flint.fmpq_mat(n, n, [flint.fmpq(v.numerator, v.denominator) for row in A for v in row])
    Bq = flint.fmpq_mat(
        n, k, [flint.fmpq(rhs[j][r].numerator, rhs[j][r].denominator) for r in range(n) for j in range(k)]
    )
    try:
        X = Aq.solve(Bq)
    except ZeroDivisionError:  # FLINT: singular matrix
        return None
    return [[Fraction(int(X[r, j].p), int(X[r, j].q)) for r in range(n)] for j in range(k)]


def _solve_columns(A: list[list[Fraction]], cols: list[int]) -> list[list[Fraction]] | None:
    """Columns ``cols`` of ``A^{-1}``, exactly (``None`` if ``A`` is singular)."""
    n = len(A)
    return _solve_exact(A, [[Fraction(int(r == c)) for r in range(n)] for c in cols])


def _kink_row(
    m: LayerwiseModel,
    net: _ExactNet | None,
    masks: list[NDArray[np.bool_]],
    l: int,
    g: int,
    u: int,
    flip: tuple[int, int, int, bool] | None = None,
) -> list[Fraction]:
    """Exact normal (gradient in ``theta``) of kink ``(l, g, u)`` under the masks, one overridden by ``flip``."""
    assert m.H is not None  # layer mode
    p = m.p
    h = _fr(m.H[g])
    row = [Fraction(0)] * m.D
    if net is None:  # K == 0: the trained layer is the output
        row[:p] = h
        return row
    s = net.d_a0(l, g, u, flip)
    for u0 in range(m.n_units):
        on = bool(masks[0][g, u0])
        if flip is not None and flip[0] == 0 and flip[1] == g and flip[2] == u0:
            on = flip[3]
        if s[u0] != 0 and (l == 0 or on):
            for k in range(p):
                row[u0 * p + k] = s[u0] * h[k]
    return row


def _solve(A: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction] | None:
    """``x`` with ``A x = rhs``, exactly (``None`` if ``A`` is singular)."""
    x = _solve_exact(A, [rhs])
    return None if x is None else x[0]


def exact_vertex(model: LayerwiseModel, signs: NDArray[np.int8], B: NDArray[np.int64]) -> list[Fraction] | None:
    """The exact vertex of the basis ``B``: ``theta`` (internal layout) with every basis kink at zero.

    The basis kinks are affine in ``theta`` under the tracked pattern ``signs``; their rows and
    constant terms are formed and the ``D x D`` system solved in exact rationals.  ``None`` in
    argument-minimisation mode or when the exact basis matrix is singular.
    """
    m = model
    if m.mode != "layer" or B.size != m.D:
        return None
    masks = m.masks(signs)
    net = _ExactNet(m, masks) if m.K else None
    layer_B, grp_B, unit_B = m.decode(B)
    A, rhs = [], []
    for j in range(m.D):
        l, g, u = int(layer_B[j]), int(grp_B[j]), int(unit_B[j])
        A.append(_kink_row(m, net, masks, l, g, u))
        off = Fraction(0) if net is None or l == 0 else net.offset(l, g, u)
        if l == m.K:  # residual of sample u: subtract its target
            off -= Fraction(float(m.y[u]))
        rhs.append(-off)
    return _solve(A, rhs)


def exact_kink_values(
    model: LayerwiseModel, signs: NDArray[np.int8], B: NDArray[np.int64], ids: NDArray[np.int64]
) -> list[Fraction] | None:
    """Values of the kinks ``ids`` at the exact vertex of ``B``, under the tracked masks, in rationals.

    A kink is affine in ``theta`` under its group's masks: its exact normal (:func:`_kink_row`)
    times :func:`exact_vertex`, plus its exact constant term (minus the target for a residual).
    The value is the true one (with true ReLUs) when every upstream kink of the same group is at
    zero at the vertex or on its tracked side there: the masks then agree with the true ones, or
    differ only on units whose pre-activation is 0, which changes nothing downstream.  ``None``
    when the exact vertex cannot be formed (argument minimisation, singular basis).
    """
    m = model
    theta = exact_vertex(m, signs, B)
    if theta is None:
        return None
    masks = m.masks(signs)
    net = _ExactNet(m, masks) if m.K else None
    lay, grp, unit = m.decode(np.asarray(ids, dtype=np.int64))
    out = []
    for l, g, u in zip(lay.tolist(), grp.tolist(), unit.tolist(), strict=True):
        row = _kink_row(m, net, masks, l, g, u)
        v = sum((a * t for a, t in zip(row, theta, strict=True) if a), Fraction(0))
        if net is not None and l > 0:
            v += net.offset(l, g, u)
        if l == m.K:  # residual of sample u
            v -= Fraction(float(m.y[u]))
        out.append(v)
    return out


def exact_vertex_loss_is_zero(model: LayerwiseModel, signs: NDArray[np.int8], B: NDArray[np.int64]) -> bool:
    """Whether the loss is exactly 0 at the exact vertex of ``B`` (see the module docstring).

    Every residual of a sample of positive weight is evaluated in rationals with true ReLUs at
    :func:`exact_vertex`; the first non-zero one ends the check.  False when the vertex cannot be
    formed exactly (argument minimisation, singular basis) or the loss is not an L1 / quantile loss
    with positive weights on both sides.
    """
    m = model
    lw = m.loss
    if not (lw.w_plus > 0 and lw.w_minus > 0) or np.any(m.c < 0):
        return False
    theta = exact_vertex(m, signs, B)
    if theta is None:
        return False
    assert m.H is not None  # layer mode (exact_vertex returned a point)
    net = _ExactNet(m, m.masks(signs)) if m.K else None
    p = m.p
    for g in range(m.G):
        h = _fr(m.H[g])
        if net is None:
            out = sum((theta[k] * h[k] for k in range(p) if h[k]), Fraction(0))
        else:
            out = net.output(h, theta)
        for s in m.group_samples[m.group_ptr[g] : m.group_ptr[g + 1]].tolist():
            if m.c[s] > 0 and out != Fraction(float(m.y[s])):
                return False
    return True


def exact_ray_slopes(
    model: LayerwiseModel,
    theta: NDArray[np.float64],
    signs: NDArray[np.int8],
    B: NDArray[np.int64],
    rays: list[int],
) -> dict[int, Fraction] | None:
    """Exact one-sided slopes ``L'(vertex; d)`` of the edge rays ``rays`` (row ``2i``: kink ``i``'s + side).

    ``None`` when the exact recheck does not apply: argument-minimisation mode or a singular basis.
    Bent edges (a basis kink of the same sample downstream of the ray's kink) are solved with the
    downstream normals on the far side of the kink.  The caller must only use it at a non-degenerate vertex (no kink
    at zero outside the basis).
    """
    m = model
    if m.mode != "layer":
        return None
    D, p, K, nhk = m.D, m.p, m.K, m.n_hidden_kinks
    masks = m.masks(signs)
    net = _ExactNet(m, masks) if K else None
    layer_B, grp_B, unit_B = m.decode(B)
    H = m.H
    assert H is not None  # layer mode

    def row_of(j: int, flip: tuple[int, int, int, bool] | None = None) -> list[Fraction]:
        """Exact normal of basis kink ``j`` (with one mask overridden by ``flip``)."""
        return _kink_row(m, net, masks, int(layer_B[j]), int(grp_B[j]), int(unit_B[j]), flip)

    # 1. Exact basis rows.
    A = [row_of(j) for j in range(D)]

    def bent_rows(i: int) -> list[int]:
        """Basis kinks downstream of kink ``i`` in its sample: their normals bend across ``i``."""
        if K == 0 or layer_B[i] >= K:
            return []
        return np.flatnonzero((grp_B == grp_B[i]) & (layer_B > layer_B[i])).tolist()

    # 2. Exact edges: one solve for the straight edges; a bent edge solves the system with the
    # downstream rows recomputed with kink i on its new side (reference notes §5.1, "bent kinks").
    straight = sorted({r // 2 for r in rays if not bent_rows(r // 2)})
    cols = _solve_columns(A, straight) if straight else []
    if cols is None:
        return None
    col_of = {(i, 0): c for i, c in zip(straight, cols, strict=True)}
    for r in rays:
        i, sigma = r // 2, (1 if r % 2 == 0 else -1)
        down = bent_rows(i)
        if not down:
            continue
        flip = (int(layer_B[i]), int(grp_B[i]), int(unit_B[i]), sigma > 0)
        A2 = [row_of(j, flip) if j in down else A[j] for j in range(D)]
        c2 = _solve_columns(A2, [i])
        if c2 is None:
            return None
        col_of[(i, sigma)] = c2[0]
    lw = m.loss
    wp, wm = Fraction(float(lw.w_plus)), Fraction(float(lw.w_minus))
    rs = signs[nhk:]
    in_basis = set(B.tolist())

    def group_rate(g: int, d: list[Fraction], mk: list[bool], deep_flip: tuple[int, int, bool] | None) -> Fraction:
        """Output rate of group ``g`` along ``d`` with trained-layer mask ``mk`` (one deeper mask overridden)."""
        h = _fr(H[g])
        z0 = [sum((d[u * p + k] * h[k] for k in range(p) if d[u * p + k]), Fraction(0)) for u in range(m.n_units)]
        return net.out_rate(g, z0, mk, deep_flip) if net is not None else z0[0]

    def weight(s: int) -> Fraction:
        return Fraction(float(m.c[s])) * (wp if rs[s] > 0 else -wm)

    # Every group but the ray's own is linear along the ray under its tracked masks (its basis kinks
    # stay at zero exactly, so the one-sided rule changes nothing), and a basis residual's rate is
    # exactly 0 there.  Their sum is therefore ``grad . d`` with one exact gradient for all rays:
    # ``grad = sum_g coef_g (v_g (x) h_g)``, ``coef_g`` the group's loss weight and ``v_g`` its
    # ``d out / d a_0`` times the trained-layer mask, which depends on the group's mask pattern only;
    # so ``grad[u, :] = sum_patterns v[u] * (sum over the pattern's groups of coef_g h_g)``.
    pattern_rows: dict[bytes, list[int]] = {}
    mall = np.concatenate([mk for mk in masks], axis=1) if K else np.ones((m.G, 1), dtype=bool)
    for g, key in enumerate(np.packbits(mall, axis=1)):
        pattern_rows.setdefault(key.tobytes(), []).append(g)
    grad = [Fraction(0)] * D
    for gs in pattern_rows.values():
        acc = [Fraction(0)] * p
        for g in gs:
            lo, hi = int(m.group_ptr[g]), int(m.group_ptr[g + 1])
            coef = sum((weight(s) for s in m.group_samples[lo:hi].tolist()), Fraction(0))
            if coef:
                for k, hk in enumerate(_fr(H[g])):
                    if hk:
                        acc[k] += coef * hk
        g0 = gs[0]
        if net is not None:
            v = net.d_a0(K, g0, 0)
            v = [vu if masks[0][g0, u] else Fraction(0) for u, vu in enumerate(v)]
        else:
            v = [Fraction(1)]
        for u, vu in enumerate(v):
            if vu:
                for k in range(p):
                    grad[u * p + k] += vu * acc[k]
    out: dict[int, Fraction] = {}
    for r in rays:
        i, sigma = r // 2, (1 if r % 2 == 0 else -1)
        d = [sigma * v for v in col_of[(i, sigma) if (i, sigma) in col_of else (i, 0)]]
        li, gi, ui = int(layer_B[i]), int(grp_B[i]), int(unit_B[i])
        total = sum((a * b for a, b in zip(grad, d, strict=True) if a and b), Fraction(0))
        # The ray's own group: its linear term out, its one-sided term in.
        tracked = [bool(v) for v in masks[0][gi]] if net is not None else [True]
        lin_rate = group_rate(gi, d, tracked, None)
        mk = list(tracked)
        deep_flip: tuple[int, int, bool] | None = None
        if net is not None and li == 0:
            mk[ui] = sigma > 0
        elif net is not None and 0 < li < K:
            deep_flip = (li, ui, sigma > 0)
        rate = group_rate(gi, d, mk, deep_flip)
        lo, hi = int(m.group_ptr[gi]), int(m.group_ptr[gi + 1])
        for s in m.group_samples[lo:hi].tolist():
            total -= weight(s) * lin_rate
            cs = Fraction(float(m.c[s]))
            if li == K and s == int(unit_B[i]):
                total += cs * (wp if sigma > 0 else wm)
            elif nhk + s in in_basis:
                continue  # another basis residual: rate zero exactly
            else:
                total += weight(s) * rate
        out[r] = total
    return out

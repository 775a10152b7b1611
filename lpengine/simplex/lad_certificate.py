"""Exact optimality certificate of a quantile-regression vertex (Barrodale–Roberts / Koenker–d'Orey dual).

Every float64 datum is read as the rational number it represents; the
certificate is a proof for those rationals.

Given a basis ``h`` (``p`` observations), the vertex is ``beta* = A_h^{-1} y_h``,
solved in rationals (python-flint).  Its residuals ``r_i = y_i - a_i . beta*``
get exact signs: a float residual larger than its rounding-error bound has the
float's sign; the rest are evaluated in rationals.  A zero residual off the basis
keeps the sign ``s_i`` the walk gave it (either choice is a valid subgradient).
With ``psi(+1) = tau``, ``psi(-1) = tau - 1`` and

    g = sum_{i not in h} c_i psi(s_i) a_i        (exact: see ``exact_column_sums``)
    d = -A_h^{-T} g                              (exact, flint),

``0`` is in the subdifferential of the loss at ``beta*`` iff every
``d_k`` lies in ``[c_k (tau - 1), c_k tau]``: then ``beta*`` is a global minimiser
(the loss is convex).  Nothing in this check uses a tolerance.

Aliased columns (held at zero) are certified for the full design too when
``g_j + sum_k d_k a_{h_k j} = 0`` holds exactly for each of them: then the same
multipliers prove optimality over all coefficients.

Exact sums of ``n`` floats cost ``O(n)`` vectorised work: each float is
``M 2^E`` with an integer ``|M| < 2^53``; ``M`` is split into 27- and 26-bit
halves whose per-exponent sums (``np.bincount``) stay below ``2^53`` and are
therefore exact in float64 for ``n < 2^26``; the per-exponent totals are combined
with Python integers.  Products ``c_i a_ij`` are first split exactly into two
floats (Dekker's TwoProduct with Veltkamp splitting).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction

import flint
import numpy as np
from numpy.typing import NDArray

from ..roundoff import UNIT_ROUNDOFF
from .lad_residuals import in_safe_range, two_product, vertex_residuals

__all__ = ["LADCertificate", "certify_vertex", "exact_column_sums", "exact_loss"]

logger = logging.getLogger(__name__)

_MAX_ROWS = 2**26  # bincount sums of 27-bit halves stay exact below this many rows


def _fmpq(v: float | Fraction) -> flint.fmpq:
    n, d = (v.numerator, v.denominator) if isinstance(v, Fraction) else float(v).as_integer_ratio()
    return flint.fmpq(n, d)


def _to_fraction(q: flint.fmpq) -> Fraction:
    return Fraction(int(q.p), int(q.q))


def _exact_sum_1d(v: NDArray[np.float64], mask: NDArray[np.bool_] | None) -> Fraction:
    """Exact sum of ``v[mask]`` as a Fraction (dyadic)."""
    if mask is not None:
        v = np.where(mask, v, 0.0)
    m, e = np.frexp(v)
    M = np.ldexp(m, 53)  # integer-valued, |M| < 2^53
    hi = np.floor(M * 2.0**-26)
    lo = M - hi * 2.0**26  # in [0, 2^26)
    e = e.astype(np.int64) - 53
    emin = int(e.min())
    idx = e - emin
    shi = np.bincount(idx, weights=hi)
    slo = np.bincount(idx, weights=lo)
    total = 0
    for k in np.flatnonzero((shi != 0) | (slo != 0)):
        total += (int(shi[k]) * 2**26 + int(slo[k])) << int(k)
    return Fraction(total) * Fraction(2) ** emin if emin < 0 else Fraction(total * 2**emin)


def exact_column_sums(
    V: NDArray[np.float64], weights: NDArray[np.float64] | None, mask: NDArray[np.bool_] | None
) -> list[Fraction]:
    """Exact ``sum_i w_i V[i, j]`` over rows in ``mask``, one Fraction per column.

    Parameters
    ----------
    V : ndarray, shape (n, k)
    weights : ndarray, shape (n,), optional
        Row weights (``None``: all ones, no products needed).
    mask : ndarray of bool, shape (n,), optional
    """
    n, k = V.shape
    out: list[Fraction] = []
    if weights is not None and not (in_safe_range(V) and in_safe_range(weights)):
        rows = np.flatnonzero(mask) if mask is not None else np.arange(n)
        for j in range(k):
            out.append(sum((Fraction(float(weights[i])) * Fraction(float(V[i, j])) for i in rows), Fraction(0)))
        return out
    for start in range(0, n, _MAX_ROWS):
        sl = slice(start, min(n, start + _MAX_ROWS))
        msk = None if mask is None else mask[sl]
        for j in range(k):
            col = np.ascontiguousarray(V[sl, j])
            if weights is None:
                s = _exact_sum_1d(col, msk)
            else:
                p, e = two_product(weights[sl], col)
                s = _exact_sum_1d(p, msk) + _exact_sum_1d(e, msk)
            if start == 0:
                out.append(s)
            else:
                out[j] += s
    return out


def exact_loss(
    A: NDArray[np.float64],
    y: NDArray[np.float64],
    c: NDArray[np.float64] | None,
    tau: float,
    beta: tuple[Fraction, ...] | list[Fraction],
) -> Fraction:
    """Exact ``sum_i c_i rho_tau(y_i - a_i . beta)`` for rational ``beta`` (``O(n p)`` vectorised work).

    Residual signs are exact (:func:`~lpengine.simplex.lad_residuals.vertex_residuals`); the sum is then ``g_y - g . beta`` with the exact
    sums ``g = sum c_i psi_i (a_i, y_i)``.
    """
    n, p = A.shape
    t = Fraction(tau)
    sign = vertex_residuals(A, y, list(beta)).sign
    V = np.column_stack([A, y])
    s_pos = exact_column_sums(V, c, sign > 0)
    s_neg = exact_column_sums(V, c, sign < 0)
    g = [t * a + (t - 1) * b for a, b in zip(s_pos, s_neg, strict=True)]
    return g[-1] - sum((g[j] * Fraction(beta[j]) for j in range(p)), Fraction(0))


@dataclass(frozen=True)
class LADCertificate:
    """Proof (or refutation) that a vertex is a global minimiser.

    Attributes
    ----------
    certified : bool
        ``dual_feasible`` for the design with the aliased columns held at zero.
    full_design : bool
        Also optimal with the aliased columns free (their dual equations hold
        exactly; trivially True without aliased columns).
    dual_feasible : bool
        Every ``d_k`` lies in ``[c_k (tau-1), c_k tau]`` (exact rational check).
    basis : tuple of int
        Row indices (into the caller's ``X``) of the interpolated observations.
    duals : ndarray, shape (p,)
        ``d_k / c_k`` as floats (within ``(n + 4) 2^-52`` relative of the exact value
        when only the ball-arithmetic path ran); proved in ``[tau - 1, tau]`` when
        certified.
    min_slope : float
        Smallest edge slope ``min_k min(d_k + c_k (1-tau), c_k tau - d_k)`` (from the
        duals above): ``>= 0`` when dual feasible.
    degenerate : bool
        Some observation off the basis has an exactly zero residual.
    n_zero_residuals : int
        How many observations off the basis have an exactly zero residual.
    n_exact_residuals : int
        Residual signs that plain floats could not decide, settled by error-free
        transformations or in rationals (:mod:`lpengine.simplex.lad_residuals`).
    sign_corrections : int
        Observations whose sign from the walk contradicted the exact residual
        (the certificate uses the exact sign).
    objective : Fraction or None
        Exact loss at ``beta*`` (computed when the exact sums ran, or on request).
    beta : tuple of Fraction
        Exact coefficients (kept columns; aliased ones are 0).
    violations : tuple of (int, int)
        Descending edges ``(k, sigma)`` found by the exact check (empty when certified).
    reason : str
    """

    certified: bool
    full_design: bool
    dual_feasible: bool
    basis: tuple[int, ...]
    duals: NDArray[np.float64]
    min_slope: float
    degenerate: bool
    n_zero_residuals: int
    n_exact_residuals: int
    sign_corrections: int
    objective: Fraction | None
    beta: tuple[Fraction, ...]
    violations: tuple[tuple[int, int], ...]
    reason: str

    # Field names shared with the Deep ReLU Simplex certificate, so that code
    # printing either kind works; LAD has no hidden cells and needs no LP.
    @property
    def ray_test(self) -> bool:
        """All ``2p`` edge rays have slope ``>= 0`` (same as ``dual_feasible``)."""
        return self.dual_feasible

    @property
    def n_rays(self) -> int:
        """Number of edge rays, ``2p``."""
        return 2 * len(self.basis)

    n_tight_hidden = 0
    n_cells = 1
    n_cells_checked = 0
    n_cells_infeasible = 0
    sampled = False
    sample_seed = None
    lp_confirmed = True
    max_lp_gap = float("nan")

    def __str__(self) -> str:
        # The certificate in words, as a command-line summary prints it.  LAD and quantile losses are
        # convex: a vertex with no descending edge is a global minimum (no hidden cells, no LPs).
        if not self.certified:
            return f"not certified: {self.reason}"
        if not self.basis:
            return f"CERTIFIED global minimum. {self.reason}"
        text = (
            f"CERTIFIED global minimum (the loss is convex). Proof: the exact rational dual check, none of the "
            f"{self.n_rays} edge rays descends (smallest slope {self.min_slope:.3g})"
        )
        if self.degenerate:
            text += f"; degenerate vertex ({self.n_zero_residuals} zero residual(s) off the basis)"
        if not self.full_design:
            text += "; proved with the aliased columns held at zero, not for the full design"
        return text + "."

    def to_dict(self) -> dict:
        """JSON-ready summary (exact numbers as strings)."""
        return {
            "certified": self.certified,
            "full_design": self.full_design,
            "dual_feasible": self.dual_feasible,
            "basis": list(self.basis),
            "duals": self.duals.tolist(),
            "min_slope": self.min_slope,
            "degenerate": self.degenerate,
            "n_zero_residuals": self.n_zero_residuals,
            "n_exact_residuals": self.n_exact_residuals,
            "sign_corrections": self.sign_corrections,
            "objective": None if self.objective is None else str(self.objective),
            "reason": self.reason,
        }


def _float_duals(
    A: NDArray[np.float64],
    absA: NDArray[np.float64],
    cw: NDArray[np.float64],
    tau: float,
    basis: NDArray[np.int64],
    signs: NDArray[np.int8],
    cb: list[Fraction],
) -> list[Fraction] | None:
    """Approximate duals if ball arithmetic proves every ``d_k`` inside its bounds, else ``None``.

    ``g`` is summed in floats; ``|fl(g) - g| <= e_g`` with ``e_g = 2 (n + 4) u |A|^T |w|``
    (any summation order: ``gamma_n``, plus the rounding of ``w_i = c_i psi_i``).  The
    system ``A_h^T d = -g`` is then solved in arb ball arithmetic (python-flint) with
    the right-hand side ``-fl(g) +/- e_g``: the balls contain the exact ``d``, and a
    comparison of a ball with a bound is True only when it holds for every point of
    the ball.  Anything undecided goes to the exact path.
    """
    n, p = A.shape
    w = cw * np.where(signs > 0, tau, tau - 1.0)
    w[basis] = 0.0
    g = A.T @ w
    e_g = 2.0 * (n + 4) * UNIT_ROUNDOFF * (absA.T @ np.abs(w)) + np.finfo(float).tiny
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(e_g))):
        return None
    M = flint.arb_mat(p, p, [flint.arb(v) for v in A[basis].T.ravel().tolist()])
    G = flint.arb_mat(p, 1, [flint.arb(-v, r) for v, r in zip(g.tolist(), e_g.tolist(), strict=True)])
    try:
        D = M.solve(G)
    except (ZeroDivisionError, ValueError):
        return None
    t = Fraction(tau)
    out = []
    for k in range(p):
        lo = flint.arb(_fmpq(cb[k] * (t - 1)))
        hi = flint.arb(_fmpq(cb[k] * t))
        dk = D[k, 0]
        if not (dk >= lo and dk <= hi):
            return None
        out.append(Fraction(float(dk.mid())))
    return out


def certify_vertex(
    A: NDArray[np.float64],
    y: NDArray[np.float64],
    c: NDArray[np.float64] | None,
    tau: float,
    basis: NDArray[np.int64],
    signs: NDArray[np.int8],
    *,
    A_aliased: NDArray[np.float64] | None = None,
    row_ids: NDArray[np.int64] | None = None,
    exact_objective: bool = False,
) -> tuple[LADCertificate, NDArray[np.int8]]:
    """Prove or refute optimality of the vertex of ``basis``, exactly.

    Parameters
    ----------
    A : ndarray, shape (n, p)
        Design (kept columns).
    y : ndarray, shape (n,)
    c : ndarray, shape (n,) or None
        Positive weights (None: all ones).
    tau : float in (0, 1)
    basis : ndarray of int, shape (p,)
    signs : ndarray of int8, shape (n,)
        Signs from the walk (used only where the exact residual is zero).
    A_aliased : ndarray, shape (n, q), optional
        Aliased columns, held at zero.
    row_ids : ndarray of int, optional
        Caller's row numbers, for ``LADCertificate.basis``.
    exact_objective : bool
        Also compute the exact loss (forces the exact sums).

    Returns
    -------
    (LADCertificate, ndarray of int8)
        The certificate and the exact signs (0 on the basis).
    """
    n, p = A.shape
    cw = np.ones(n) if c is None else c
    t = Fraction(tau)
    Bq = flint.fmpq_mat(p, p, [_fmpq(v) for v in A[basis].ravel().tolist()])
    yq = flint.fmpq_mat(p, 1, [_fmpq(v) for v in y[basis].tolist()])
    ids = tuple(int(i) for i in (basis if row_ids is None else row_ids[basis]))
    try:
        bq = Bq.solve(yq)
    except ZeroDivisionError:
        cert = LADCertificate(
            certified=False,
            full_design=False,
            dual_feasible=False,
            basis=ids,
            duals=np.full(p, np.nan),
            min_slope=float("nan"),
            degenerate=False,
            n_zero_residuals=0,
            n_exact_residuals=0,
            sign_corrections=0,
            objective=Fraction(0),
            beta=(),
            violations=(),
            reason="the basis matrix is singular in exact arithmetic",
        )
        return cert, signs.copy()
    beta_q = [bq[i, 0] for i in range(p)]
    absA = np.abs(A)
    beta_fr = tuple(_to_fraction(b) for b in beta_q)
    vr = vertex_residuals(A, y, beta_fr, abs_A=absA, zero_rows=basis)
    exact = vr.sign.copy()
    is_basic = np.zeros(n, dtype=bool)
    is_basic[basis] = True
    n_zero = int(np.count_nonzero((exact == 0) & ~is_basic))
    zero = (exact == 0) & ~is_basic
    new_signs = exact.copy()
    new_signs[zero] = np.where(signs[zero] < 0, -1, 1)
    new_signs[basis] = 0
    corrections = int(np.count_nonzero((new_signs != signs) & ~is_basic & ~zero))
    if bool(zero[~is_basic].all()):
        # Every residual is exactly zero: the loss is 0, its lower bound, for the full design (aliased
        # columns included); the dual u = 0 lies in [tau-1, tau] and satisfies A^T u = 0.
        cmin = Fraction(float(cw[basis].min())) if p else Fraction(1)
        cert = LADCertificate(
            certified=True,
            full_design=True,
            dual_feasible=True,
            basis=ids,
            duals=np.zeros(p),
            min_slope=float(cmin * min(t, 1 - t)),
            degenerate=n_zero > 0,
            n_zero_residuals=n_zero,
            n_exact_residuals=vr.n_undecided_by_floats,
            sign_corrections=corrections,
            objective=Fraction(0),
            beta=beta_fr,
            violations=(),
            reason="optimal: every residual is exactly zero, so the loss is 0, its lower bound (exact rational residuals)",
        )
        return cert, new_signs
    nb = ~is_basic
    cb = [Fraction(float(cw[i])) for i in basis.tolist()]
    Aal = A_aliased if A_aliased is not None else np.zeros((n, 0))
    has_aliased = Aal.shape[1] > 0
    d = None if (has_aliased or exact_objective) else _float_duals(A, absA, cw, tau, basis, new_signs, cb)
    path = "float sums with rigorous error bounds, arb ball arithmetic"
    g: list[Fraction] = []
    if d is None:  # borderline in floats, or exact sums wanted anyway: sum exactly
        path = "exact sums"
        V = np.column_stack([A, Aal, y])
        wts = None if c is None else cw
        s_all = exact_column_sums(V, wts, nb)
        s_neg = exact_column_sums(V, wts, new_signs < 0)
        g = [t * a - b for a, b in zip(s_all, s_neg, strict=True)]
        gq = flint.fmpq_mat(p, 1, [_fmpq(-gj) for gj in g[:p]])
        dq = Bq.transpose().solve(gq)
        d = [_to_fraction(dq[k, 0]) for k in range(p)]
    slopes_up = [d[k] + cb[k] * (1 - t) for k in range(p)]
    slopes_dn = [cb[k] * t - d[k] for k in range(p)]
    violations = tuple((k, 1) for k in range(p) if slopes_up[k] < 0) + tuple(
        (k, -1) for k in range(p) if slopes_dn[k] < 0
    )
    feasible = not violations
    full = True
    if has_aliased:
        Aal_h = Aal[basis]
        for j in range(Aal.shape[1]):
            val = g[p + j] + sum((d[k] * Fraction(float(Aal_h[k, j])) for k in range(p)), Fraction(0))
            full = full and val == 0
    # Objective: sum_{not h} c_i psi_i (y_i - a_i beta*) = g_y - g . beta*  (basic residuals are 0).
    objective = g[-1] - sum((g[j] * beta_fr[j] for j in range(p)), Fraction(0)) if g else None
    min_slope = float(min(min(slopes_up), min(slopes_dn)))
    if not feasible:
        reason = f"not optimal: {len(violations)} descending edge(s), min slope {min_slope:.3e} (exact dual check)"
    elif full:
        reason = f"optimal: dual weights in [tau-1, tau], proved ({path}; exact rational vertex and residual signs)"
    else:
        reason = (
            "optimal with the aliased columns held at zero (exact dual check); not proved for the full design: "
            "an aliased column is only numerically collinear"
        )
    cert = LADCertificate(
        certified=feasible,
        full_design=bool(feasible and full),
        dual_feasible=feasible,
        basis=ids,
        duals=np.array([float(d[k]) / float(cb[k]) if cb[k] else 0.0 for k in range(p)]),
        min_slope=min_slope,
        degenerate=n_zero > 0,
        n_zero_residuals=n_zero,
        n_exact_residuals=vr.n_undecided_by_floats,
        sign_corrections=corrections,
        objective=objective,
        beta=beta_fr,
        violations=violations,
        reason=reason,
    )
    logger.debug("certificate: %s (%d residual signs decided beyond floats)", reason, vr.n_undecided_by_floats)
    return cert, new_signs

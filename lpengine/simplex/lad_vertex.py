"""Barrodale–Roberts vertex walk for quantile regression, in floating point.

A vertex of ``min_beta sum_i c_i rho_tau(y_i - a_i . beta) + l . beta`` is an
*elemental fit*: ``beta`` interpolates the ``p`` observations of a basis ``h``
(``A_h beta = y_h``, ``A_h`` invertible).  Every other observation carries a sign
``s_i`` in ``{+1, -1}`` with ``s_i r_i >= 0`` (``r_i = y_i - a_i . beta``; a zero
residual may carry either sign, which is how a degenerate vertex is handled), and
multiplier ``c_i psi(s_i)``, ``psi(+1) = tau``, ``psi(-1) = tau - 1``.

Dual weights.  With ``G = sum_{i not in h} c_i psi(s_i) a_i - l`` the basis
multipliers are ``d = -A_h^{-T} G``.  The edge on which basic observation ``k``
leaves upwards (``sigma = +1``: direction ``A_h^{-1} e_k``, its residual turns
negative) has slope ``d_k + c_k (1 - tau)``; downwards (``sigma = -1``) it has
slope ``c_k tau - d_k``.  The vertex is optimal iff every ``d_k`` lies in
``[c_k (tau - 1), c_k tau]`` (Koenker & d'Orey 1987, the Barrodale–Roberts
condition); :mod:`lpengine.simplex.lad_certificate` proves it in exact arithmetic.

Step.  Along ``beta + t delta`` the loss is convex and piecewise linear; its slope
rises by ``c_i |a_i . delta|`` at each breakpoint ``t_i = r_i / (a_i . delta)``.  The
step ends at the weighted median of the breakpoints, the Barrodale–Roberts
multi-crossing step (reference notes ``deep_relu_simplex.md`` §5.2, §6): the
observation met there enters the basis, those passed change sign.

Anti-cycling.  Pricing is steepest-edge (slope over ``|delta|``).  After a run of
zero-length steps the walk switches to Bland's rule (Bland 1977): the eligible
edge of the basic observation with the smallest index, single crossings, and ties
in the ratio test broken by the smallest index; it returns to steepest edge after
the first step of positive length.  Bland's rule cannot cycle.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["WalkProblem", "WalkResult", "crossover_basis", "interpolates", "vertex_walk", "walk_state"]

logger = logging.getLogger(__name__)

# Consecutive zero-length steps after which pricing switches to Bland's rule.
_BLAND_AFTER = 30
# Without a user budget, a walk stops (status "max_pivots") after this many pivots per row and column: a
# guard against endless float-level loops, far beyond the pivot counts observed (tens to hundreds).
_PIVOTS_PER_ROW = 20


@dataclass(frozen=True, eq=False)
class WalkProblem:
    """Working problem ``sum_i c_i rho_tau(y_i - a_i . beta) + linear . beta + constant``."""

    A: NDArray[np.float64]
    y: NDArray[np.float64]
    c: NDArray[np.float64]
    tau: float
    linear: NDArray[np.float64]
    constant: float = 0.0

    def loss(self, beta: NDArray[np.float64]) -> float:
        """Working loss at ``beta`` (float)."""
        r = self.y - self.A @ beta
        t = self.tau
        return float(self.c @ np.maximum(t * r, (t - 1.0) * r) + self.linear @ beta + self.constant)


@dataclass(eq=False)
class WalkResult:
    """Final vertex of a walk and its counters (internal, mutable)."""

    basis: NDArray[np.int64]
    signs: NDArray[np.int8]
    beta: NDArray[np.float64]
    status: str
    nit: int = 0
    kinks_crossed: int = 0
    zero_steps: int = 0
    losses: list[float] = field(default_factory=list)


def crossover_basis(
    A: NDArray[np.float64], residual: NDArray[np.float64], *, threshold: float
) -> NDArray[np.int64] | None:
    """Choose ``p`` independent rows of ``A``, smallest ``|residual|`` first.

    A row is taken when its component orthogonal to the rows already taken has
    at least ``threshold`` times its norm (greedy Gram–Schmidt in blocks).
    Returns ``None`` when fewer than ``p`` rows qualify.
    """
    n, p = A.shape
    order = np.argsort(np.abs(residual), kind="stable")
    Q = np.zeros((0, p))
    chosen: list[int] = []
    block = max(4 * p, 32)
    start = 0
    while len(chosen) < p and start < n:
        idx = order[start : start + block]
        start += block
        rows = A[idx]
        norms = np.linalg.norm(rows, axis=1)
        ok = norms > 0
        idx, rows, norms = idx[ok], rows[ok], norms[ok]
        proj = rows - (rows @ Q.T) @ Q if len(chosen) else rows
        keep = np.linalg.norm(proj, axis=1) > threshold * norms
        for i, v in zip(idx[keep], rows[keep], strict=True):
            u = v - Q.T @ (Q @ v) if len(chosen) else v.copy()
            nu = float(np.linalg.norm(u))
            if nu > threshold * float(np.linalg.norm(v)):
                Q = np.vstack([Q, u / nu])
                chosen.append(int(i))
                if len(chosen) == p:
                    break
    if len(chosen) < p:
        return None
    return np.array(chosen, dtype=np.int64)


def walk_state(
    prob: WalkProblem, basis: NDArray[np.int64], signs_hint: NDArray[np.int8] | None = None
) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
    """Vertex ``beta`` of a basis and valid signs (the hint where the residual is zero)."""
    beta = np.linalg.solve(prob.A[basis], prob.y[basis])
    r = prob.y - prob.A @ beta
    s = np.where(r > 0, 1, np.where(r < 0, -1, 0)).astype(np.int8)
    if signs_hint is not None:
        zero = s == 0
        s[zero] = signs_hint[zero]
    s[s == 0] = 1
    s[basis] = 0
    return np.asarray(beta, dtype=np.float64), s


def _duals(
    prob: WalkProblem, basis: NDArray[np.int64], signs: NDArray[np.int8], Binv: NDArray[np.float64]
) -> NDArray[np.float64]:
    t = prob.tau
    wts = prob.c * np.where(signs > 0, t, t - 1.0)
    wts[basis] = 0.0
    G = prob.A.T @ wts - prob.linear
    return -(Binv.T @ G)


def _line_search(
    ts: NDArray[np.float64], jumps: NDArray[np.float64], need: float, bland: bool, ids: NDArray[np.int64]
) -> tuple[int, int]:
    """Index (into ts) of the stopping breakpoint and the number passed before it; -1 if unbounded."""
    m = ts.size
    if m == 0:
        return -1, 0
    if bland:
        order = np.lexsort((ids, ts))
        return int(order[0]), 0
    if float(jumps.sum()) < need:
        return -1, 0
    k = min(m, 64)
    while True:
        part = np.argpartition(ts, k - 1)[:k] if k < m else np.arange(m)
        sub = part[np.lexsort((ids[part], ts[part]))]
        cum = np.cumsum(jumps[sub])
        pos = int(np.searchsorted(cum, need, side="left"))
        if pos < sub.size and (k == m or pos < k):
            return int(sub[pos]), pos
        if k == m:
            return int(sub[-1]), sub.size - 1
        k = min(m, 4 * k)


def interpolates(A: NDArray[np.float64], y: NDArray[np.float64], beta: NDArray[np.float64], fit_tol: float) -> bool:
    """Whether every residual of ``beta`` is zero up to ``fit_tol`` relative rounding (a gate, not a proof)."""
    return bool(np.all(np.abs(y - A @ beta) <= fit_tol * (np.abs(y) + np.abs(A) @ np.abs(beta))))


def vertex_walk(
    prob: WalkProblem,
    basis: NDArray[np.int64],
    signs: NDArray[np.int8],
    *,
    slope_tol: float,
    fit_tol: float = 0.0,
    pivot_tol: float = 0.0,
    line_search: bool = True,
    max_pivots: int | None = None,
    deadline: float | None = None,
    force: tuple[int, int] | None = None,
) -> WalkResult:
    """Walk from the vertex of ``basis`` to an optimal vertex (float pricing).

    Parameters
    ----------
    prob : WalkProblem
    basis : ndarray of int, shape (p,)
        Start basis (independent rows).
    signs : ndarray of int8, shape (n,)
        Start signs (valid for the start vertex; 0 on the basis).
    slope_tol : float
        An edge descends iff its slope is below ``-slope_tol * c_k``.
    fit_tol : float
        Stop (status ``"optimal"``, for the exact certificate to decide) at an interpolating vertex:
        every ``|r_i| <= fit_tol * (|y_i| + |a_i| . |beta|)`` over the problem's rows (a linear term,
        i.e. rows of fixed sign, is left out of the test; see ``Tolerances.perfect_fit``).  0 disables it.
    pivot_tol : float
        A row enters only if its ``|u_i|`` along the edge exceeds ``pivot_tol * max |u|``
        (``Tolerances.pivot``): smaller pivots are rounding noise and would make the basis singular.
    line_search : bool
        Multi-crossing (weighted-median) steps; False stops at the first breakpoint.
    max_pivots, deadline : optional budgets (``deadline`` in ``time.perf_counter`` seconds).
    force : (k, sigma), optional
        Take this edge first (position ``k`` in the basis, direction ``sigma``),
        e.g. one found descending by the exact certificate.

    Returns
    -------
    WalkResult
        ``status`` is ``"optimal"`` (no descending edge in floats), ``"unbounded"``
        (only possible with a linear term), ``"max_pivots"`` or ``"time_limit"``.
    """
    A, y, c, tau = prob.A, prob.y, prob.c, prob.tau
    basis = basis.copy()
    signs = signs.copy()
    ids = np.arange(A.shape[0])
    res = WalkResult(basis=basis, signs=signs, beta=np.zeros(A.shape[1]), status="optimal")
    zero_run = 0
    if max_pivots is None:
        max_pivots = _PIVOTS_PER_ROW * (A.shape[0] + A.shape[1])
    # Interpolation gate, O(p) per vertex: if every |r_i| <= fit_tol (|y_i| + |a_i| |beta|), then (as
    # rho_tau(r) <= |r|) the loss of the rows (without the linear and constant terms) is at most
    # fit_tol (c.|y| + (c |A|).|beta|); only then test every row.
    gate = fit_tol > 0
    c_y = float(c @ np.abs(y)) if gate else 0.0
    c_A = c @ np.abs(A) if gate else np.zeros(A.shape[1])
    while True:
        B = A[basis]
        Binv = np.asarray(np.linalg.inv(B), dtype=np.float64)
        beta = Binv @ y[basis]
        res.beta = beta
        res.losses.append(prob.loss(beta))
        if (
            gate
            and force is None
            and res.losses[-1] - prob.constant - float(prob.linear @ beta)
            <= fit_tol * (c_y + float(c_A @ np.abs(beta)))
            and interpolates(A, y, beta, fit_tol)
        ):
            res.status = "optimal"
            break
        d = _duals(prob, basis, signs, Binv)
        cb = c[basis]
        slope_up = d + cb * (1.0 - tau)
        slope_dn = cb * tau - d
        if force is not None:
            k, sigma = force
            force = None
        else:
            bad_up = slope_up < -slope_tol * cb
            bad_dn = slope_dn < -slope_tol * cb
            if not (bad_up.any() or bad_dn.any()):
                res.status = "optimal"
                break
            bland = zero_run >= _BLAND_AFTER
            if bland:
                cand = np.flatnonzero(bad_up | bad_dn)
                k = int(cand[np.argmin(basis[cand])])
                sigma = 1 if bad_up[k] else -1
            else:
                norms = np.linalg.norm(Binv, axis=0)
                su = np.where(bad_up, slope_up / norms, np.inf)
                sd = np.where(bad_dn, slope_dn / norms, np.inf)
                ku, kd = int(np.argmin(su)), int(np.argmin(sd))
                k, sigma = (ku, 1) if su[ku] <= sd[kd] else (kd, -1)
        if max_pivots is not None and res.nit >= max_pivots:
            res.status = "max_pivots"
            break
        if deadline is not None and time.perf_counter() > deadline:
            res.status = "time_limit"
            break
        slope0 = float(slope_up[k] if sigma > 0 else slope_dn[k])
        delta = sigma * Binv[:, k]
        rdu = A @ np.column_stack([beta, delta])
        r = y - rdu[:, 0]
        u = rdu[:, 1]
        su_ = signs * u
        # A row whose |u_i| is rounding noise (exactly 0 in rationals, e.g. integer data) cannot enter: the
        # new basis would be singular.  Its sign, if wrong after the step, is corrected by the certificate.
        cand = np.flatnonzero(su_ > pivot_tol * np.abs(u).max(initial=0.0))
        ts = np.maximum(r[cand] / u[cand], 0.0)
        jumps = c[cand] * np.abs(u[cand])
        bland = zero_run >= _BLAND_AFTER
        j, passed = _line_search(ts, jumps, -slope0, bland or not line_search, ids[cand])
        if j < 0:
            res.status = "unbounded"
            break
        t_star = float(ts[j])
        enter = int(cand[j])
        if passed:
            before = cand[(ts < t_star) | ((ts == t_star) & (ids[cand] < enter))]
            before = before[before != enter]
            signs[before] = -signs[before]
            res.kinks_crossed += int(before.size)
        leave = int(basis[k])
        signs[leave] = -sigma
        signs[enter] = 0
        basis[k] = enter
        res.nit += 1
        if t_star == 0.0:
            res.zero_steps += 1
            zero_run += 1
        else:
            zero_run = 0
    res.basis, res.signs = basis, signs
    logger.debug("vertex walk: %d pivots, %d kinks crossed, status %s", res.nit, res.kinks_crossed, res.status)
    return res

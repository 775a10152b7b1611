"""Primal-dual interior-point warm start for quantile regression (a Frisch–Newton method).

The working problem is ``min_beta sum_i c_i rho_tau(y_i - a_i . beta) + l . beta`` (the
linear term ``l`` carries observations whose residual sign is fixed, see
:mod:`lpengine.simplex.lad_glob`).  Its LP dual, with the multipliers shifted to
``a_i = w_i + c_i (1 - tau)``, is

    max y . a   subject to   A^T a = b := l + (1 - tau) A^T c,   0 <= a <= c,

and ``beta`` is the multiplier of ``A^T a = b``.  A Mehrotra predictor-corrector
iteration on this bounded LP needs one ``p x p`` normal-equation matrix
``A^T Q A`` per iteration, so an iteration costs ``O(n p^2)``: this is the method
Portnoy & Koenker (1997) call Frisch–Newton.  Here it only supplies a point close
to the optimum; the exact vertex and its proof come from
:mod:`lpengine.simplex.lad_vertex` and :mod:`lpengine.simplex.lad_certificate`, so
the stopping gap affects speed, never the answer.

Derivation of the Newton step (variables ``a``, ``s = c - a``, dual ``beta``,
``z >= 0`` for ``a >= 0``, ``w >= 0`` for ``s >= 0``; dual feasibility
``A beta + w - z = y``; complementarity ``a z = mu``, ``s w = mu``): eliminating
``dz = (r_az - z da) / a`` and ``dw = (r_sw + w da) / s`` leaves
``(A^T Q A) dbeta = A^T (Q rho) - r_p`` with ``Q = 1 / (z/a + w/s)``,
``rho = r_d - r_sw / s + r_az / a`` and ``da = Q (rho - A dbeta)``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["IPMResult", "quantile_ipm"]

logger = logging.getLogger(__name__)

# Fraction of the distance to the boundary taken by a step (Mehrotra's usual choice).
_STEP_FRACTION = 0.99995


@dataclass(frozen=True)
class IPMResult:
    """Approximate optimum of the working problem.

    Attributes
    ----------
    beta : ndarray, shape (p,)
        Coefficients (LP dual variables).
    multipliers : ndarray, shape (n,)
        Shifted dual multipliers ``a`` in ``[0, c]``.
    nit : int
        Iterations.
    gap : float
        Final relative duality gap.
    converged : bool
        Whether the gap and residual tolerances were met.
    """

    beta: NDArray[np.float64]
    multipliers: NDArray[np.float64]
    nit: int
    gap: float
    converged: bool


def _solve_normal(M: NDArray[np.float64], rhs: NDArray[np.float64]) -> NDArray[np.float64]:
    try:
        out = np.linalg.solve(M, rhs)
    except np.linalg.LinAlgError:
        out = np.linalg.lstsq(M, rhs, rcond=None)[0]
    return np.asarray(out, dtype=np.float64)


def _max_step(v: NDArray[np.float64], dv: NDArray[np.float64]) -> float:
    """Largest ``alpha <= 1`` with ``v + alpha dv >= 0``."""
    worst = float((-dv / v).max())  # v > 0; a step alpha is feasible iff alpha * (-dv/v) <= 1
    return 1.0 if worst <= 1.0 else 1.0 / worst


def _direction(
    state: tuple[NDArray[np.float64], ...], r_az: NDArray[np.float64], r_sw: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Newton direction for complementarity right-hand sides ``r_az`` (a z) and ``r_sw`` (s w)."""
    A, M, q, a, s, z, w, r_p, r_d = state
    rho = r_d - r_sw / s + r_az / a
    dbeta = _solve_normal(M, A.T @ (q * rho) - r_p)
    da = q * (rho - A @ dbeta)
    dz = (r_az - z * da) / a
    dw = (r_sw + w * da) / s
    return dbeta, da, dz, dw


def quantile_ipm(
    A: NDArray[np.float64],
    y: NDArray[np.float64],
    c: NDArray[np.float64],
    tau: float,
    *,
    linear: NDArray[np.float64] | None = None,
    gap_tol: float,
    max_iter: int = 100,
) -> IPMResult:
    """Approximately minimise ``sum c_i rho_tau(y_i - a_i . beta) + linear . beta``.

    Parameters
    ----------
    A : ndarray, shape (n, p)
        Design (full column rank).
    y, c : ndarray, shape (n,)
        Targets and positive weights.
    tau : float in (0, 1)
    linear : ndarray, shape (p,), optional
        Linear term ``l`` of the working loss.
    gap_tol : float
        Stop at relative duality gap and relative residuals below this.
    max_iter : int

    Returns
    -------
    IPMResult
    """
    n, p = A.shape
    A = np.asfortranarray(A)  # column-major: A.T @ v and A @ v are both fast gemv calls
    lin = np.zeros(p) if linear is None else linear
    b = lin + (1.0 - tau) * (A.T @ c)
    a = c * (1.0 - tau)
    s = c * tau
    # Start from weighted least squares (normal equations: only a start point, conditioning is harmless).
    beta = _solve_normal((A * c[:, None]).T @ A, A.T @ (c * y))
    r = y - A @ beta
    shift = max(float(np.median(np.abs(r))), float(np.finfo(float).tiny))
    w = np.maximum(r, 0.0) + shift
    z = np.maximum(-r, 0.0) + shift
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _iterate(A, y, c, b, a, s, beta, z, w, gap_tol=gap_tol, max_iter=max_iter)


def _iterate(
    A: NDArray[np.float64],
    y: NDArray[np.float64],
    c: NDArray[np.float64],
    b: NDArray[np.float64],
    a: NDArray[np.float64],
    s: NDArray[np.float64],
    beta: NDArray[np.float64],
    z: NDArray[np.float64],
    w: NDArray[np.float64],
    *,
    gap_tol: float,
    max_iter: int,
) -> IPMResult:
    """Mehrotra predictor-corrector iterations from the given start."""
    n, p = A.shape
    scale_b = 1.0 + float(np.abs(b).max())
    scale_y = 1.0 + float(np.abs(y).max())
    gap = np.inf
    it = 0
    converged = False
    for it in range(1, max_iter + 1):  # noqa: B007
        r_p = b - A.T @ a
        r_d = y - A @ beta - w + z
        primal = float(y @ a)
        dual = float(b @ beta + c @ w)
        gap = abs(dual - primal) / (1.0 + abs(primal))
        if gap <= gap_tol and np.abs(r_p).max() <= gap_tol * scale_b * n and np.abs(r_d).max() <= gap_tol * scale_y:
            converged = True
            break
        mu = (a @ z + s @ w) / (2 * n)
        q = 1.0 / (z / a + w / s)
        M = (A * q[:, None]).T @ A

        # Predictor (affine scaling, mu = 0).
        state = (A, M, q, a, s, z, w, r_p, r_d)
        db, da, dz, dw = _direction(state, -a * z, -s * w)
        ap = min(_max_step(a, da), _max_step(s, -da))
        ad = min(_max_step(z, dz), _max_step(w, dw))
        mu_aff = ((a + ap * da) @ (z + ad * dz) + (s - ap * da) @ (w + ad * dw)) / (2 * n)
        sigma = (mu_aff / mu) ** 3 if mu > 0 else 0.0
        # Corrector (centring plus the second-order term of the predictor).
        db, da2, dz2, dw2 = _direction(state, sigma * mu - a * z - da * dz, sigma * mu - s * w + da * dw)
        ap = _STEP_FRACTION * min(_max_step(a, da2), _max_step(s, -da2))
        ad = _STEP_FRACTION * min(_max_step(z, dz2), _max_step(w, dw2))
        new = (a + ap * da2, s - ap * da2, beta + ad * db, z + ad * dz2, w + ad * dw2)
        if not all(np.all(np.isfinite(v)) for v in new):
            # Diverging (e.g. an unbounded working problem): keep the last finite iterate, not converged.
            break
        a, s, beta, z, w = new
    logger.debug("IPM: n=%d p=%d, %d iterations, relative gap %.2e", n, p, it, gap)
    return IPMResult(beta=beta, multipliers=a, nit=it, gap=float(gap), converged=converged)

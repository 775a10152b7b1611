"""Large-n quantile regression: preprocessing ("globbing"), exact vertex walk, exact certificate.

Portnoy & Koenker (1997, *The Gaussian hare and the Laplacian tortoise*, §3;
Koenker 2005, §6.5) observe that at the optimum most observations lie far from
the fitted hyperplane, and their residual signs can be guessed from a fit on a
subsample.  The driver here:

1. fits a random subsample of ``m = ceil((n p)^(2/3))`` rows (interior point,
   :mod:`lpengine.simplex.lad_ipm`);
2. standardises all ``n`` residuals by the prediction's scale
   ``sqrt(a_i (A_s^T A_s)^{-1} a_i^T)`` and keeps the ``~0.8 m`` rows nearest the
   tau-quantile of the standardised residuals; rows below that band are fixed
   to sign ``-1``, rows above to ``+1``.  A fixed-sign row contributes a linear
   term ``-c_i psi a_i . beta`` (the two pseudo-observations of the paper,
   without their "very large ``y``");
3. solves the reduced problem: interior point, then a crossover to a vertex and
   the Barrodale–Roberts walk (:mod:`lpengine.simplex.lad_vertex`);
4. checks every fixed sign against the residual at the vertex.  Wrong signs
   move their rows into the band and the walk resumes from the current basis;
   if more than a tenth of the band is wrong, ``m`` doubles and the round
   restarts;
5. certifies the vertex on the full problem in exact arithmetic
   (:mod:`lpengine.simplex.lad_certificate`).  A descending edge found there
   (possible only when floats could not see it) is taken by the walk, and the
   check repeats.

Every answer reported optimal is the exact LP optimum with its proof; the
preprocessing only decides how much work the walk does.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ..tolerances import Tolerances
from .lad_certificate import LADCertificate, certify_vertex
from .lad_ipm import quantile_ipm
from .lad_vertex import WalkProblem, WalkResult, crossover_basis, vertex_walk, walk_state

__all__ = ["FitOutcome", "fit_quantile"]

logger = logging.getLogger(__name__)

# Band size as a fraction of the subsample size (Portnoy & Koenker's M = 0.8 m).
_BAND_FACTOR = 0.8
# More wrong signs than this fraction of the band: enlarge the subsample instead of fixing up.
_FIXUP_FRACTION = 0.1
# Relative duality gap of the subsample fit: it only places the band, so a rough fit will do.
_SUBSAMPLE_GAP = 1e-5
# Rounds of fix-ups per subsample size, and exact-certificate repairs, before giving up.
_MAX_FIXUPS = 6
_MAX_REPAIRS = 20


@dataclass(eq=False)
class FitOutcome:
    """Vertex found by :func:`fit_quantile`, its certificate and the counters (internal)."""

    basis: NDArray[np.int64]
    signs: NDArray[np.int8]
    status: str
    certificate: LADCertificate | None
    method: str
    nit: int = 0
    kinks_crossed: int = 0
    ipm_iterations: int = 0
    glob_rounds: int = 0
    fixups: int = 0
    band_size: int = 0
    repairs: int = 0
    losses: list[float] = field(default_factory=list)


def _start_basis(prob: WalkProblem, beta: NDArray[np.float64], tol: Tolerances) -> NDArray[np.int64]:
    basis = crossover_basis(prob.A, prob.y - prob.A @ beta, threshold=tol.crossover)
    if basis is None:  # cannot happen for a full-rank design; stay safe with the loosest choice
        basis = crossover_basis(prob.A, prob.y - prob.A @ beta, threshold=0.0)
    if basis is None:
        raise RuntimeError("no basis of independent rows: the design is rank deficient")
    return basis


def _walk_into(
    out: FitOutcome,
    prob: WalkProblem,
    basis: NDArray[np.int64],
    signs: NDArray[np.int8],
    *,
    tol: Tolerances,
    line_search: bool,
    max_pivots: int | None,
    deadline: float | None,
    force: tuple[int, int] | None = None,
) -> WalkResult:
    budget = None if max_pivots is None else max(0, max_pivots - out.nit)
    w = vertex_walk(
        prob,
        basis,
        signs,
        slope_tol=tol.slope,
        fit_tol=tol.perfect_fit,
        pivot_tol=tol.pivot,
        line_search=line_search,
        max_pivots=budget,
        deadline=deadline,
        force=force,
    )
    out.nit += w.nit
    out.kinks_crossed += w.kinks_crossed
    out.losses.extend(w.losses)
    return w


def _band(
    A: NDArray[np.float64],
    y: NDArray[np.float64],
    c: NDArray[np.float64],
    tau: float,
    m: int,
    rng: np.random.Generator,
    tol: Tolerances,
    out: FitOutcome,
) -> NDArray[np.int8]:
    """Subsample fit and the band: fixed signs (0 in the band, -1 below it, +1 above it)."""
    n, p = A.shape
    sub = np.sort(rng.choice(n, size=m, replace=False))
    As = A[sub]
    fit = quantile_ipm(As, y[sub], c[sub], tau, gap_tol=max(tol.ipm_gap, _SUBSAMPLE_GAP))
    out.ipm_iterations += fit.nit
    r = y - A @ fit.beta
    # Scale of the prediction a_i beta: sqrt(a_i (As^T As)^{-1} a_i^T) = |a_i L^{-T}| with As^T As = L L^T.
    L = np.linalg.cholesky(As.T @ As)
    Z = A @ np.linalg.inv(L).T
    scale = np.sqrt(np.einsum("ij,ij->i", Z, Z))
    zscore = r / np.maximum(scale, np.finfo(float).tiny)
    M = _BAND_FACTOR * m
    lo_q = max(1.0 / n, tau - M / (2.0 * n))
    hi_q = min(tau + M / (2.0 * n), (n - 1.0) / n)
    k_lo, k_hi = int(lo_q * (n - 1)), int(math.ceil(hi_q * (n - 1)))
    part = np.partition(zscore, (k_lo, k_hi))
    low = zscore < part[k_lo]
    high = zscore > part[k_hi]
    fixed = np.zeros(n, dtype=np.int8)
    fixed[low] = -1
    fixed[high] = 1
    return fixed


def _working(
    A: NDArray[np.float64], y: NDArray[np.float64], c: NDArray[np.float64], tau: float, fixed: NDArray[np.int8]
) -> tuple[WalkProblem, NDArray[np.int64]]:
    band = np.flatnonzero(fixed == 0)
    # A row of fixed sign s contributes c_i psi(s) (y_i - a_i . beta): linear in beta.
    wfix = c * np.where(fixed < 0, tau - 1.0, np.where(fixed > 0, tau, 0.0))
    lin = -(A.T @ wfix)
    const = float(wfix @ y)
    return WalkProblem(A=A[band], y=y[band], c=c[band], tau=tau, linear=lin, constant=const), band


def fit_quantile(
    A: NDArray[np.float64],
    y: NDArray[np.float64],
    c: NDArray[np.float64] | None,
    tau: float,
    *,
    method: str,
    tol: Tolerances,
    seed: int | None,
    line_search: bool,
    max_pivots: int | None,
    deadline: float | None,
    beta0: NDArray[np.float64] | None,
    A_aliased: NDArray[np.float64] | None,
    row_ids: NDArray[np.int64],
) -> FitOutcome:
    """Exact optimal vertex of ``min sum c_i rho_tau(y_i - a_i . beta)`` for a full-rank ``A``.

    ``method`` is ``"glob"`` (preprocessing), ``"ipm"`` (interior point on all rows,
    then crossover and walk) or ``"simplex"`` (walk from the crossover of ``beta0``).
    """
    n, p = A.shape
    cw = np.ones(n) if c is None else c
    rng = np.random.default_rng(seed)
    fixed = np.zeros(n, dtype=np.int8)
    out = FitOutcome(
        basis=np.zeros(p, np.int64), signs=np.zeros(n, np.int8), status="", certificate=None, method=method
    )
    m = int(math.ceil((n * p) ** (2.0 / 3.0)))
    use_glob = method == "glob" and m < n // 2
    if method == "glob" and not use_glob:
        out.method = "ipm"
    w: WalkResult | None = None
    while True:  # subsample rounds
        if use_glob:
            out.glob_rounds += 1
            fixed = _band(A, y, cw, tau, m, rng, tol, out)
        prob, band = _working(A, y, cw, tau, fixed)
        out.band_size = band.size
        if method == "simplex":
            start = np.zeros(p) if beta0 is None else beta0
        else:
            fit = quantile_ipm(prob.A, prob.y, prob.c, tau, linear=prob.linear, gap_tol=tol.ipm_gap)
            out.ipm_iterations += fit.nit
            if use_glob and not fit.converged and m < n // 2:
                # Typically an unbounded working problem (too narrow a band): enlarge the subsample.
                m = min(2 * m, n)
                logger.debug("glob: the reduced problem's interior point did not converge; subsample %d rows", m)
                continue
            start = fit.beta
        basis_local = _start_basis(prob, start, tol)
        _, signs_local = walk_state(prob, basis_local)
        restart = False
        for _ in range(_MAX_FIXUPS + 1):
            w = _walk_into(
                out,
                prob,
                basis_local,
                signs_local,
                tol=tol,
                line_search=line_search,
                max_pivots=max_pivots,
                deadline=deadline,
            )
            if w.status == "unbounded":
                restart = True
                break
            if w.status != "optimal" or not use_glob:
                break
            r = y - A @ w.beta
            bad = ((fixed < 0) & (r > 0)) | ((fixed > 0) & (r < 0))
            nbad = int(bad.sum())
            if nbad == 0:
                break
            if nbad > _FIXUP_FRACTION * band.size:
                restart = True
                break
            out.fixups += 1
            logger.debug("glob: %d fixed signs wrong, moving them into the band", nbad)
            # Rebuild the working problem with the wrong rows free, keeping the basis and signs.
            full_basis = band[w.basis]
            full_signs = np.zeros(n, np.int8)
            full_signs[band] = w.signs
            fixed[bad] = 0
            prob, band = _working(A, y, cw, tau, fixed)
            out.band_size = band.size
            pos = np.full(n, -1, np.int64)
            pos[band] = np.arange(band.size)
            basis_local = pos[full_basis]
            hint = np.where(r[band] > 0, 1, -1).astype(np.int8)
            hint[full_signs[band] != 0] = full_signs[band][full_signs[band] != 0]
            _, signs_local = walk_state(prob, basis_local, hint)
        else:
            restart = True
        assert w is not None
        if restart and use_glob and w.status in ("optimal", "unbounded") and m < n // 2:
            m = min(2 * m, n)
            logger.debug("glob: enlarging the subsample to %d rows", m)
            continue
        if restart and use_glob:
            use_glob = False
            fixed[:] = 0
            out.method = "ipm"
            continue
        break
    assert w is not None
    # Full-problem basis and signs.
    out.basis = band[w.basis]
    signs = np.zeros(n, np.int8)
    signs[band] = w.signs
    signs[fixed != 0] = fixed[fixed != 0]
    out.signs = signs
    out.status = w.status
    if w.status not in ("optimal",):
        cert, _ = certify_vertex(A, y, c, tau, out.basis, signs, A_aliased=A_aliased, row_ids=row_ids)
        out.certificate = cert
        return out
    # Exact certificate on the full problem; repair with exactly-found descending edges.
    for _ in range(_MAX_REPAIRS):
        cert, exact_signs = certify_vertex(A, y, c, tau, out.basis, out.signs, A_aliased=A_aliased, row_ids=row_ids)
        out.certificate = cert
        if cert.certified:
            out.signs = exact_signs
            out.status = "optimal"
            return out
        out.repairs += 1
        logger.debug("exact certificate refuted the float optimum: %s", cert.reason)
        # Walk on the full problem from this vertex, first along an exactly descending edge.
        full = WalkProblem(A=A, y=y, c=cw, tau=tau, linear=np.zeros(p))
        force = cert.violations[0] if cert.violations else None
        w = _walk_into(
            out,
            full,
            out.basis,
            exact_signs,
            tol=tol,
            line_search=line_search,
            max_pivots=max_pivots,
            deadline=deadline,
            force=force,
        )
        out.basis, out.signs = w.basis, w.signs
        if w.status not in ("optimal",):
            out.status = w.status
            cert, _ = certify_vertex(A, y, c, tau, out.basis, out.signs, A_aliased=A_aliased, row_ids=row_ids)
            out.certificate = cert
            return out
    out.status = "not_certified"
    return out

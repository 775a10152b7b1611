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
from .lad_residuals import vertex_residuals
from .lad_vertex import WalkProblem, WalkResult, crossover_basis, interpolates, vertex_walk, walk_state

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
# Restarts from scratch on a refined target (each one gains ~53 bits: one is the rule, a second is rare).
_MAX_REFINEMENTS = 3


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
    refinements: int = 0
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
) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    """Subsample fit and the band: fixed signs (0 in the band, -1 below it, +1 above it), and the fit."""
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
    return fixed, fit.beta


def _working(
    A: NDArray[np.float64], y: NDArray[np.float64], c: NDArray[np.float64], tau: float, fixed: NDArray[np.int8]
) -> tuple[WalkProblem, NDArray[np.int64]]:
    band = np.flatnonzero(fixed == 0)
    # A row of fixed sign s contributes c_i psi(s) (y_i - a_i . beta): linear in beta.
    wfix = c * np.where(fixed < 0, tau - 1.0, np.where(fixed > 0, tau, 0.0))
    lin = -(A.T @ wfix)
    const = float(wfix @ y)
    return WalkProblem(A=A[band], y=y[band], c=c[band], tau=tau, linear=lin, constant=const), band


def _power_of_two_scale(y: NDArray[np.float64]) -> int:
    """``k`` with ``max |2^k y|`` in ``[0.5, 1)`` (0 for an all-zero ``y``): an exact rescaling."""
    top = float(np.abs(y).max(initial=0.0))
    return 0 if top == 0.0 or not math.isfinite(top) else -math.frexp(top)[1]


def _find_vertex(
    A: NDArray[np.float64],
    y: NDArray[np.float64],
    cw: NDArray[np.float64],
    tau: float,
    out: FitOutcome,
    *,
    method: str,
    tol: Tolerances,
    rng: np.random.Generator,
    line_search: bool,
    max_pivots: int | None,
    deadline: float | None,
    beta0: NDArray[np.float64] | None,
) -> tuple[NDArray[np.int64], NDArray[np.int8], str]:
    """A vertex optimal in floats (full-problem basis, signs and the walk's status); counters go to ``out``.

    The target is first scaled by a power of two (exact: the same vertices, the same optimal basis), so
    that the interior point's relative gap and the walk's tolerances see data of order one whatever the
    scale of ``y`` (a refinement target is of the order of rounding errors).
    """
    n, p = A.shape
    k = _power_of_two_scale(y)
    y = np.ldexp(y, k)
    n_losses = len(out.losses)
    fixed = np.zeros(n, dtype=np.int8)
    m = int(math.ceil((n * p) ** (2.0 / 3.0)))
    use_glob = method == "glob" and m < n // 2
    if method == "glob" and not use_glob:
        out.method = "ipm"
    w: WalkResult | None = None
    while True:  # subsample rounds
        if use_glob:
            out.glob_rounds += 1
            fixed, beta_sub = _band(A, y, cw, tau, m, rng, tol, out)
            if interpolates(A, y, beta_sub, tol.perfect_fit):
                # The subsample's fit interpolates every row up to rounding (a noiseless target): residual
                # signs are rounding noise, a band would be arbitrary and the float walk blind.  Hand the
                # crossover vertex to the exact certificate (and its refinement) at once.
                basis = _start_basis(WalkProblem(A=A, y=y, c=cw, tau=tau, linear=np.zeros(p)), beta_sub, tol)
                signs = walk_state(WalkProblem(A=A, y=y, c=cw, tau=tau, linear=np.zeros(p)), basis)[1]
                return basis, signs, "optimal"
        prob, band = _working(A, y, cw, tau, fixed)
        out.band_size = band.size
        if method == "simplex":
            start = np.zeros(p) if beta0 is None else np.ldexp(beta0, k)
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
            if interpolates(A, y, w.beta, tol.perfect_fit):
                break  # a fit up to rounding of every row: signs are noise, the exact certificate decides
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
    out.losses[n_losses:] = [math.ldexp(v, -k) for v in out.losses[n_losses:]]
    signs = np.zeros(n, np.int8)
    signs[band] = w.signs
    signs[fixed != 0] = fixed[fixed != 0]
    return band[w.basis], signs, w.status


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

    Notes
    -----
    The walk prices in floats.  When the exact certificate refutes its vertex, the
    next walk runs on the *refined* problem: the same design with the target
    replaced by the exact residuals of the current vertex (accurate floats from
    :func:`~lpengine.simplex.lad_residuals.vertex_residuals`).  Its vertices are
    those of the original problem shifted by the current ``beta*``, with the same
    bases, and its data are accurate relative to the residuals themselves, so
    floats see what they could not see before (iterative refinement in the sense
    of Gleixner, Steffy & Wolter, INFORMS J. Comput. 2016).  If the refuted vertex
    interpolates the data up to rounding (a noiseless target: every residual at
    rounding level, the float walk blind to all of them), the refined problem is
    solved from scratch (subsample, interior point, walk); otherwise the walk goes
    on locally from the current basis along the exactly descending edge.  Every
    candidate is certified on the original data.
    """
    n, p = A.shape
    cw = np.ones(n) if c is None else c
    rng = np.random.default_rng(seed)
    out = FitOutcome(
        basis=np.zeros(p, np.int64), signs=np.zeros(n, np.int8), status="", certificate=None, method=method
    )
    out.basis, out.signs, out.status = _find_vertex(
        A,
        y,
        cw,
        tau,
        out,
        method=method,
        rng=rng,
        beta0=beta0,
        tol=tol,
        line_search=line_search,
        max_pivots=max_pivots,
        deadline=deadline,
    )

    def certify() -> tuple[LADCertificate, NDArray[np.int8]]:
        cert, exact_signs = certify_vertex(A, y, c, tau, out.basis, out.signs, A_aliased=A_aliased, row_ids=row_ids)
        out.certificate = cert
        return cert, exact_signs

    for _ in range(_MAX_REPAIRS):
        cert, exact_signs = certify()
        if cert.certified:
            out.signs = exact_signs
            out.status = "optimal"
            return out
        if out.status != "optimal" or not cert.beta:
            return out  # a budget ran out (or a singular basis): report the vertex as it is
        out.repairs += 1
        logger.debug("exact certificate refuted the float optimum: %s", cert.reason)
        target = vertex_residuals(A, y, list(cert.beta)).value
        beta_f = np.array([float(b) for b in cert.beta])
        if out.refinements < _MAX_REFINEMENTS and interpolates(A, y, beta_f, tol.perfect_fit):
            out.refinements += 1
            logger.debug("refinement %d: the vertex interpolates the data up to rounding", out.refinements)
            # method "simplex" walks on from the current vertex (beta0 = 0 is beta* on the refined problem)
            out.basis, out.signs, out.status = _find_vertex(
                A,
                target,
                cw,
                tau,
                out,
                method=method,
                rng=rng,
                beta0=None,
                tol=tol,
                line_search=line_search,
                max_pivots=max_pivots,
                deadline=deadline,
            )
            continue
        # Walk on the refined problem from this vertex, first along an exactly descending edge.
        k = _power_of_two_scale(target)
        refined = WalkProblem(A=A, y=np.ldexp(target, k), c=cw, tau=tau, linear=np.zeros(p))
        n_losses = len(out.losses)
        force = cert.violations[0] if cert.violations else None
        w = _walk_into(
            out,
            refined,
            out.basis,
            exact_signs,
            force=force,
            tol=tol,
            line_search=line_search,
            max_pivots=max_pivots,
            deadline=deadline,
        )
        out.losses[n_losses:] = [math.ldexp(v, -k) for v in out.losses[n_losses:]]
        out.basis, out.signs, out.status = w.basis, w.signs, w.status
    certify()
    if out.status == "optimal":
        out.status = "not_certified"
    return out

"""Least-absolute-deviation and quantile regression, solved exactly.

The loss is ``sum_i c_i rho_tau(y_i - x_i . beta)`` with the check function
``rho_tau(r) = r (tau - 1{r < 0})``.  :attr:`LADResult.fun` keeps the convention of
earlier releases: ``sum c_i |r_i|`` at ``quantile = 0.5`` (twice ``rho_0.5``), and
``sum c_i ((1 - q) r_+ + q r_-)`` with ``r = prediction - target`` otherwise (that
is ``rho_q`` of ``target - prediction``).

Pipeline (reference notes ``exact_and_scale.md`` §4):

1. validation; rows with zero weight are dropped, rows that are zero in every
   column are a constant term of the loss;
2. rank: aliased columns (linear combinations of earlier ones, intercept first)
   are held at zero and reported, with a :class:`RankDeficiencyWarning`;
3. the exact optimal vertex by preprocessing, interior point, crossover and the
   Barrodale–Roberts walk (:mod:`lpengine.simplex.lad_glob`);
4. the Barrodale–Roberts / Koenker–d'Orey dual certificate, in exact rational
   arithmetic (:mod:`lpengine.simplex.lad_certificate`).  ``success`` is True only
   when it proves the optimum.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._display import short_repr
from .._validation import check_array, check_int, check_scalar
from ..exceptions import InvalidProblemError, IterationLimitWarning, RankDeficiencyWarning
from ..tolerances import Tolerances, resolve_tolerances
from .lad_certificate import LADCertificate, exact_loss
from .lad_design import aliased_columns, loss_of_constant_rows, merge_duplicates
from .lad_glob import fit_quantile
from .lad_residuals import vertex_residuals

__all__ = ["LADResult", "lad", "aliased_columns"]

logger = logging.getLogger(__name__)

_METHODS = ("auto", "glob", "ipm", "simplex")


@dataclass(frozen=True, eq=False)
class LADResult:
    """Result of :func:`lad`.

    Attributes
    ----------
    coef : ndarray, shape (n_features,)
        Slopes ``beta`` (aliased ones are 0).
    intercept : float
        Intercept (0.0 when ``fit_intercept=False``, or when aliased).
    x : ndarray, shape (n_features + 1,) or (n_features,)
        All coefficients, intercept last (scipy's name).
    fun : float
        Loss at ``x``: ``sum |r_i|`` for ``quantile=0.5``, else
        ``sum c_i ((1-q) r_+ + q r_-)`` with ``r = prediction - target``, summed
        from the exact vertex's residuals evaluated accurately (compensated
        arithmetic, :mod:`lpengine.simplex.lad_residuals`), so it stays accurate
        when every residual is at rounding level (a noiseless target); with
        ``exact_objective=True``, the float nearest to ``fun_exact``.
    fun_exact : Fraction or None
        With ``exact_objective=True``: the same loss in exact rational arithmetic
        (data read as the rationals their floats represent, coefficients the
        exact vertex, which ``x`` rounds).
    nit : int
        Simplex pivots.
    n_vertices : int
        Vertices visited (``len(losses)``).
    kinks_crossed : int
        Residual sign changes passed by the multi-crossing line search.
    status : str
        ``"optimal"`` (proved), ``"max_pivots"`` or ``"time_limit"`` (budget), or
        ``"not_certified"`` (the walk stopped but the exact check refuted it).
    certified : bool
        The exact dual certificate proves the optimum (with aliased columns at zero).
    certificate : LADCertificate
    losses : ndarray
        Working-problem loss at every vertex of the walk (the working problem
        fixes the signs of preprocessed rows, so its loss is a lower bound of the
        full loss, equal at the end).  Same scale as ``fun``.
    quantile : float
    seconds : float
        Wall time of the fit.
    aliased : tuple of int
        Indices into ``x`` of the aliased (held-at-zero) coefficients.
    rank : int
        Rank of the design (with intercept).
    n_zero_rows : int
        Rows zero in every column (constant terms of the loss).
    method : str
        ``"glob"``, ``"ipm"`` or ``"simplex"``: how the vertex was reached.
    ipm_iterations, glob_rounds, fixups : int
        Interior-point iterations, preprocessing rounds and sign fix-up rounds.
    message : str
        Human-readable outcome.
    """

    coef: NDArray[np.float64]
    intercept: float
    x: NDArray[np.float64]
    fun: float
    fun_exact: Fraction | None
    nit: int
    n_vertices: int
    kinks_crossed: int
    status: str
    certified: bool
    certificate: LADCertificate | None
    losses: NDArray[np.float64]
    quantile: float
    seconds: float
    aliased: tuple[int, ...]
    rank: int
    n_zero_rows: int
    method: str
    ipm_iterations: int
    glob_rounds: int
    fixups: int
    message: str

    @property
    def success(self) -> bool:
        """Whether the optimum was reached and proved."""
        return self.status == "optimal" and self.certified

    def __repr__(self) -> str:
        # One line of headline facts; the coefficients and the per-vertex losses stay on the object.
        fields: list[tuple[str, Any]] = [("status", self.status), ("fun", self.fun), ("certified", self.certified)]
        fields += [("quantile", self.quantile), ("n_coef", int(self.x.size)), ("nit", self.nit)]
        return short_repr("LADResult", [*fields, ("method", self.method), ("seconds", self.seconds)])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (Python scalars and lists; the per-vertex ``losses`` are left out)."""
        return {
            "status": self.status,
            "success": self.success,
            "certified": self.certified,
            "fun": float(self.fun),
            "fun_exact": None if self.fun_exact is None else str(self.fun_exact),
            "coef": [float(v) for v in self.coef],
            "intercept": float(self.intercept),
            "x": [float(v) for v in self.x],
            "quantile": float(self.quantile),
            "aliased": list(self.aliased),
            "rank": int(self.rank),
            "n_zero_rows": int(self.n_zero_rows),
            "method": self.method,
            "nit": int(self.nit),
            "n_vertices": int(self.n_vertices),
            "kinks_crossed": int(self.kinks_crossed),
            "ipm_iterations": int(self.ipm_iterations),
            "glob_rounds": int(self.glob_rounds),
            "fixups": int(self.fixups),
            "seconds": float(self.seconds),
            "message": self.message,
            "certificate": None if self.certificate is None else self.certificate.to_dict(),
        }


def _trivial_certificate(reason: str) -> LADCertificate:
    return LADCertificate(
        certified=True,
        full_design=True,
        dual_feasible=True,
        basis=(),
        duals=np.zeros(0),
        min_slope=0.0,
        degenerate=False,
        n_zero_residuals=0,
        n_exact_residuals=0,
        sign_corrections=0,
        objective=Fraction(0),
        beta=(),
        violations=(),
        reason=reason,
    )


def _frozen(a: NDArray[np.float64]) -> NDArray[np.float64]:
    a.flags.writeable = False
    return a


def lad(
    X: Any,
    y: Any,
    quantile: float = 0.5,
    *,
    fit_intercept: bool = True,
    sample_weight: Any = None,
    method: str = "auto",
    beta0: Any = None,
    line_search: bool = True,
    max_pivots: int | None = None,
    time_limit: float | None = None,
    seed: int | None = 0,
    tol: Tolerances | None = None,
    backend: str = "highs",
    exact_objective: bool = False,
) -> LADResult:
    """Least-absolute-deviation (``quantile=0.5``) or quantile regression, solved and proved exactly.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
    quantile : float in (0, 1), default 0.5
    fit_intercept : bool, default True
        Append a column of ones (its coefficient is ``intercept``).
    sample_weight : array_like, shape (n_samples,), optional
        Non-negative weights ``c_i``; rows of weight 0 are left out.
    method : {"auto", "glob", "ipm", "simplex"}, default "auto"
        ``"glob"``: preprocessing on a subsample (Portnoy & Koenker 1997), exact
        walk on the reduced problem, sign checks (it falls back to ``"ipm"`` when
        the subsample would be at least half the data); ``"ipm"``: interior
        point on all rows, crossover, walk; ``"simplex"``: the Barrodale–Roberts
        walk from the crossover of ``beta0``.  ``"auto"`` is ``"simplex"`` when
        ``beta0`` is given, else ``"glob"``.  Every method ends with the same
        exact certificate.
    beta0 : array_like, shape (n_coef,), optional
        Start coefficients for ``method="simplex"`` (intercept last); default zeros.
    line_search : bool, default True
        Barrodale–Roberts multi-crossing steps (False: one residual per pivot).
    max_pivots : int, optional
        Budget of simplex pivots.
    time_limit : float, optional
        Seconds; the walk stops at the current vertex when it is exceeded.
    seed : int or None, default 0
        Seeds the preprocessing subsample.
    tol : Tolerances, optional
        ``rank`` (aliasing), ``slope`` (float pricing), ``crossover``, ``ipm_gap``.
        None of them can make a non-optimal vertex certified.
    backend : str
        Accepted for compatibility; the certificate needs no LP solver.
    exact_objective : bool, default False
        Also compute ``fun_exact``, the loss in rationals (``O(n p)`` extra work).

    Returns
    -------
    LADResult

    Raises
    ------
    InvalidProblemError
        Malformed data (shape, NaN/inf, negative weights), a quantile outside (0, 1),
        an unknown method, or a ``beta0`` of the wrong shape.

    Warns
    -----
    RankDeficiencyWarning
        Aliased columns held at zero.
    IterationLimitWarning
        A budget stopped the walk before the optimum was proved.

    Notes
    -----
    The LP (Koenker 2005, §6.2): ``min sum c_i (tau u_i + (1-tau) v_i)`` subject to
    ``X beta + u - v = y``, ``u, v >= 0``.  Its vertices are elemental fits;
    :mod:`lpengine.simplex.lad_certificate` states the optimality proof.

    References
    ----------
    Barrodale & Roberts, SIAM J. Numer. Anal. 10 (1973); Koenker & d'Orey, Appl.
    Stat. 36 (1987); Portnoy & Koenker, Statist. Sci. 12 (1997).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> res = lad(X, [0.0, 1.0, 2.0, 10.0])
    >>> float(res.coef[0]), res.intercept, res.fun, res.success
    (1.0, 0.0, 7.0, True)
    """
    t_start = time.perf_counter()
    tol = resolve_tolerances(tol)
    Xa = check_array(X, "X", ndim=2, error=InvalidProblemError)
    n, nf = Xa.shape
    ya = check_array(y, "y", shape=(n,), error=InvalidProblemError)
    tau = check_scalar(quantile, "quantile", low=0.0, high=1.0, error=InvalidProblemError)
    if method not in _METHODS:
        raise InvalidProblemError(f"The 'method' parameter of lad must be one of {_METHODS}. Got {method!r} instead.")
    if not isinstance(backend, str):
        raise InvalidProblemError(f"The 'backend' parameter of lad must be a str. Got {backend!r} instead.")
    if max_pivots is not None:
        max_pivots = check_int(max_pivots, "max_pivots", low=0, error=InvalidProblemError)
    if time_limit is not None:
        time_limit = check_scalar(time_limit, "time_limit", low=0.0, error=InvalidProblemError)
    if sample_weight is None:
        cw = None
    else:
        cw = check_array(sample_weight, "sample_weight", shape=(n,), error=InvalidProblemError)
        if np.any(cw < 0):
            i = int(np.flatnonzero(cw < 0)[0])
            raise InvalidProblemError(f"sample_weight[{i}] = {cw[i]!r}; expected weights >= 0.")
        if np.all(cw == 1.0):
            cw = None
    P = nf + 1 if fit_intercept else nf
    b0 = None
    if beta0 is not None:
        b0 = check_array(beta0, "beta0", shape=(P,), error=InvalidProblemError)
    if method == "auto":
        method = "simplex" if b0 is not None else "glob"
    H = np.hstack([Xa, np.ones((n, 1))]) if fit_intercept else Xa
    keep_rows = np.ones(n, dtype=bool) if cw is None else cw > 0
    zero_rows = keep_rows & ~np.any(H != 0, axis=1)
    rows = np.flatnonzero(keep_rows & ~zero_rows)
    constant = (
        loss_of_constant_rows(ya[zero_rows], None if cw is None else cw[zero_rows], tau) if exact_objective else 0
    )
    rows, merged_w = merge_duplicates(H, ya, cw, rows)
    all_rows = rows.size == n
    Hr, yr = (H, ya) if all_rows else (H[rows], ya[rows])
    cr = merged_w if merged_w is not None else (None if cw is None else (cw if all_rows else cw[rows]))
    order = np.r_[nf, np.arange(nf)] if fit_intercept else np.arange(nf)
    aliased = aliased_columns(Hr, order, tol=tol) if rows.size else list(range(P))
    kept = np.array([j for j in range(P) if j not in set(aliased)], dtype=np.int64)
    if aliased:
        names = ", ".join("intercept" if (fit_intercept and j == nf) else f"X[:, {j}]" for j in aliased)
        warnings.warn(
            f"The design matrix{' with intercept' if fit_intercept else ''} (shape {H.shape}, "
            f"{rows.size} non-zero rows) has rank {kept.size} < {P} columns: {names} "
            f"{'is' if len(aliased) == 1 else 'are'} aliased (linear combinations of earlier columns) and held at 0.",
            RankDeficiencyWarning,
            stacklevel=2,
        )
    xfull = np.zeros(P)
    status, cert = "optimal", None
    stats: dict[str, Any] = {"nit": 0, "kinks": 0, "ipm": 0, "glob": 0, "fix": 0, "losses": [], "method": method}
    objective: Fraction | None = Fraction(0)
    if kept.size == 0:
        cert = _trivial_certificate("optimal: the loss does not depend on the coefficients (no non-zero row)")
    else:
        A = Hr if kept.size == P else np.ascontiguousarray(Hr[:, kept])
        Aal = np.ascontiguousarray(Hr[:, aliased]) if aliased else None
        start = None if b0 is None else b0[kept]
        deadline = None if time_limit is None else t_start + time_limit
        out = fit_quantile(
            A,
            yr,
            cr,
            tau,
            method=method,
            tol=tol,
            seed=seed,
            line_search=bool(line_search),
            max_pivots=max_pivots,
            deadline=deadline,
            beta0=start,
            A_aliased=Aal,
            row_ids=rows,
        )
        cert = out.certificate
        assert cert is not None
        status = out.status if not (out.status == "optimal" and not cert.certified) else "not_certified"
        if cert.beta:
            xfull[kept] = [float(b) for b in cert.beta]
        objective = exact_loss(A, yr, cr, tau, cert.beta) if exact_objective and cert.beta else None
        stats = {
            "nit": out.nit,
            "kinks": out.kinks_crossed,
            "ipm": out.ipm_iterations,
            "glob": out.glob_rounds,
            "fix": out.fixups,
            "losses": out.losses,
            "method": out.method,
        }
    # Report on the historical scale: sum |r| at q = 0.5 (twice rho_0.5), rho_q otherwise.
    factor = 2 if tau == 0.5 else 1
    fun_exact = factor * (objective + constant) if objective is not None else None
    # Residuals of the exact vertex, accurate even when all are at rounding level (a noiseless target),
    # where the plain float y - H x would be rounding noise.
    if kept.size and cert is not None and cert.beta:
        basis_rows = np.array(cert.basis, dtype=np.int64)  # interpolated exactly: residual 0
        r_all = vertex_residuals(H if kept.size == P else H[:, kept], ya, list(cert.beta), zero_rows=basis_rows).value
    else:
        r_all = ya - H @ xfull
    rho = np.maximum(tau * r_all, (tau - 1.0) * r_all)
    fun = factor * float(rho.sum() if cw is None else cw @ rho)
    if status in ("max_pivots", "time_limit"):
        warnings.warn(
            f"lad stopped at its {status.replace('_', ' ')} budget after {stats['nit']} pivots; "
            f"the result is {'nevertheless proved optimal' if cert.certified else 'not proved optimal'}.",
            IterationLimitWarning,
            stacklevel=2,
        )
        if cert.certified:
            status = "optimal"
    coef = _frozen(xfull[:nf].copy())
    rho0 = np.maximum(tau * ya[zero_rows], (tau - 1.0) * ya[zero_rows])
    const_f = float(rho0.sum() if cw is None else cw[zero_rows] @ rho0)
    losses = _frozen(factor * (np.array(stats["losses"], dtype=np.float64) + const_f))
    message = cert.reason if cert is not None else status
    if aliased:
        message += f"; aliased coefficients {aliased} held at 0"
    return LADResult(
        coef=coef,
        intercept=float(xfull[nf]) if fit_intercept else 0.0,
        x=_frozen(xfull),
        fun=float(fun_exact) if fun_exact is not None else fun,
        fun_exact=fun_exact,
        nit=int(stats["nit"]),
        n_vertices=int(losses.size),
        kinks_crossed=int(stats["kinks"]),
        status=status,
        certified=bool(cert.certified),
        certificate=cert,
        losses=losses,
        quantile=tau,
        seconds=time.perf_counter() - t_start,
        aliased=tuple(aliased),
        rank=int(kept.size),
        n_zero_rows=int(zero_rows.sum()),
        method=str(stats["method"]),
        ipm_iterations=int(stats["ipm"]),
        glob_rounds=int(stats["glob"]),
        fixups=int(stats["fix"]),
        message=message,
    )

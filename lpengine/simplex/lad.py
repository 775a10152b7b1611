"""Least-absolute-deviation and quantile regression by the Deep ReLU Simplex engine.

With no hidden layer the layer-wise loss is ``sum_i c_i rho(x_i . beta - y_i)``
and the Deep ReLU Simplex is the Barrodale–Roberts algorithm: a vertex is an
elemental fit (``beta`` interpolating ``p`` observations), an edge lets one
interpolated point go up or down, and the line search stops at the weighted
median of the breakpoints along the edge (reference notes
``deep_relu_simplex.md`` §6).  The convex loss makes the vertex found optimal;
the certificate is the dual-weight condition ``-c_i w_minus <= lambda_i <=
c_i w_plus`` on the final basis, confirmed by one HiGHS LP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..tolerances import Tolerances
from .certificate import DRSCertificate
from .drs import solve_model
from .encoding import build_lad_model

__all__ = ["LADResult", "lad"]


@dataclass(frozen=True, eq=False)
class LADResult:
    """Result of :func:`lad`.

    Attributes
    ----------
    coef : ndarray, shape (n_features,)
        Slopes ``beta``.
    intercept : float
        Intercept (0.0 when ``fit_intercept=False``).
    x : ndarray, shape (n_features + 1,) or (n_features,)
        All coefficients, intercept last (scipy's name).
    fun : float
        Final loss: ``sum |r_i|`` for ``quantile=0.5``, else ``sum (1-q) r_+ + q r_-``
        with ``r = prediction - target``.
    nit : int
        Pivots after the first vertex.
    n_vertices : int
        Vertices visited (``nit + 1``).
    kinks_crossed : int
        Residual sign changes passed by the line search.
    status : str
        ``"local_minimum"`` (optimal: the loss is convex) or a budget status.
    certified : bool
        Optimality certified by the dual weights and HiGHS.
    certificate : DRSCertificate
    basis : ndarray of int
        Indices (into the merged samples) of the interpolated observations.
    losses : ndarray
        Loss at every vertex.
    """

    coef: NDArray[np.float64]
    intercept: float
    x: NDArray[np.float64]
    fun: float
    nit: int
    n_vertices: int
    kinks_crossed: int
    status: str
    certified: bool
    certificate: DRSCertificate | None
    losses: NDArray[np.float64]
    quantile: float
    seconds: float

    @property
    def success(self) -> bool:
        """Whether the optimum was reached."""
        return self.status == "local_minimum"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (Python scalars and lists; the per-vertex ``losses`` are left out)."""
        return {
            "status": self.status,
            "success": self.success,
            "certified": self.certified,
            "fun": float(self.fun),
            "coef": [float(v) for v in self.coef],
            "intercept": float(self.intercept),
            "quantile": float(self.quantile),
            "nit": int(self.nit),
            "n_vertices": int(self.n_vertices),
            "kinks_crossed": int(self.kinks_crossed),
            "seconds": float(self.seconds),
            "certificate": None if self.certificate is None else self.certificate.to_dict(),
        }


def lad(
    X: Any,
    y: Any,
    quantile: float = 0.5,
    *,
    fit_intercept: bool = True,
    sample_weight: Any = None,
    beta0: Any = None,
    line_search: bool = True,
    max_pivots: int | None = None,
    time_limit: float | None = None,
    seed: int | None = 0,
    tol: Tolerances | None = None,
    backend: str = "highs",
) -> LADResult:
    """Least-absolute-deviation (``quantile=0.5``) or quantile regression, exactly.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
    quantile : float in (0, 1), default 0.5
    fit_intercept : bool, default True
        Append a column of ones (its coefficient is ``intercept``).
    sample_weight : array_like, shape (n_samples,), optional
    beta0 : array_like, optional
        Start coefficients (intercept last); default zeros.
    line_search : bool, default True
        Barrodale–Roberts multi-crossing step (False: one residual per pivot).
    max_pivots, time_limit : optional budgets.
    seed : int, default 0
        Seeds the perturbation of a start point lying on a kink (e.g. ``y_i = 0`` at ``beta0 = 0``).
    tol : Tolerances, optional
    backend : str
        LP backend of the certificate.

    Returns
    -------
    LADResult

    Raises
    ------
    InvalidProblemError
        Malformed data, a quantile outside (0, 1), or a rank-deficient design
        (collinear or constant columns: the optimum is not a vertex).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> res = lad(X, [0.0, 1.0, 2.0, 10.0])
    >>> round(float(res.coef[0]), 12), round(res.intercept, 12), round(res.fun, 12)
    (1.0, 0.0, 7.0)
    """
    model = build_lad_model(X, y, quantile=quantile, fit_intercept=fit_intercept, sample_weight=sample_weight)
    if beta0 is None:
        b0 = np.zeros(model.D)
    else:
        from .._validation import check_array
        from ..exceptions import InvalidProblemError

        b0 = check_array(beta0, "beta0", shape=(model.D,), error=InvalidProblemError)
    log, cert, stats = solve_model(
        model,
        b0,
        seed=seed,
        max_pivots=max_pivots,
        time_limit=time_limit,
        line_search=line_search,
        verify=False,
        callback=None,
        tol=tol,
        certify_cells=1,
        backend=backend,
    )
    beta = model.to_public(log.final.theta)
    coef = beta[:-1].copy() if fit_intercept else beta.copy()
    icpt = float(beta[-1]) if fit_intercept else 0.0
    for a in (coef, beta):
        a.flags.writeable = False
    losses = np.array(log.losses, dtype=np.float64)
    losses.flags.writeable = False
    return LADResult(
        coef=coef,
        intercept=icpt,
        x=beta,
        fun=float(log.final.loss),
        nit=int(log.nit),
        n_vertices=len(log.losses),
        kinks_crossed=int(stats["kinks_crossed"]),
        status=str(log.status),
        certified=bool(cert.certified) if cert is not None else False,
        certificate=cert,
        losses=losses,
        quantile=float(quantile),
        seconds=float(stats["seconds"]),
    )

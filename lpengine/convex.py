"""cvxpy models of lpengine's convex problems, for users who want to add their own constraints or penalties.

lpengine solves its LPs exactly and fast through HiGHS (:mod:`lpengine.lp`, :func:`lpengine.lad`).  What those
solvers do not offer is *modelling*: a weight bound, an L1 penalty, a sign constraint or any other convex term a
user wants on top.  This module states the same problems as :mod:`cvxpy` problems whose variables are exposed, so
that such terms are one line, and any solver cvxpy reaches (HiGHS, Clarabel, SCS, ...) can be used:

* :func:`lad_problem` — least-absolute-deviation / quantile regression
  ``min_{beta, b} sum_i c_i rho_tau(y_i - x_i . beta - b)``, with ``rho_tau(r) = r (tau - 1{r < 0})``;
* :func:`lp_problem` — any :class:`~lpengine.lp.LinearProgram` (lpengine's canonical form
  ``min c.x + offset, row_lower <= A x <= row_upper, col_lower <= x <= col_upper``), e.g. a region LP or the cell
  LP of the Deep ReLU Simplex (:func:`lpengine.simplex.certificate.local_cell_lp`).

cvxpy is an optional dependency (``pip install lpengine[cvxpy]``; it brings about 200 MB of solvers) and is imported
only here, inside the functions.  A missing cvxpy raises :class:`~lpengine.exceptions.BackendNotAvailable` with the
install command.  These models are for one-off problems and reference optima; lpengine never uses them inside a
loop (the LP layer does that).

Known interplay: solving with cvxpy's ``"HIGHS"`` solver (a ``highspy.Highs`` model) currently leaves lpengine's
own HiGHS backend returning errors for the rest of the process; prefer ``solver="CLARABEL"`` (installed with
cvxpy) in a process that also uses lpengine's LPs.

Examples
--------
An L1-penalised, sign-constrained LAD fit (needs cvxpy)::

    import cvxpy as cp
    from lpengine.convex import lad_problem

    m = lad_problem(X, y)
    penalised = cp.Problem(cp.Minimize(m.loss + 0.1 * cp.norm1(m.coef)), [*m.problem.constraints, m.coef >= 0])
    penalised.solve()
    m.coef.value, m.intercept.value
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import check_array, check_scalar
from .exceptions import BackendNotAvailable, InvalidProblemError

__all__ = ["LADModel", "LPModel", "lad_problem", "lp_problem", "import_cvxpy"]


def import_cvxpy() -> Any:
    """Import cvxpy, or raise :class:`~lpengine.exceptions.BackendNotAvailable` saying how to install it."""
    try:
        import cvxpy
    except ImportError as exc:
        raise BackendNotAvailable(
            "lpengine.convex needs cvxpy, an optional dependency: pip install 'lpengine[cvxpy]' (or pip install cvxpy)."
        ) from exc
    return cvxpy


@dataclass(frozen=True)
class LADModel:
    """The cvxpy model returned by :func:`lad_problem`.

    Attributes
    ----------
    problem : cvxpy.Problem
        ``Minimize(loss)`` with no constraints; build a new ``cvxpy.Problem`` from ``loss`` and the variables
        to add terms (cvxpy problems are immutable).
    coef : cvxpy.Variable, shape (n_features,)
        The slopes ``beta``.
    intercept : cvxpy.Variable or None
        The intercept ``b`` (``None`` when ``fit_intercept=False``).
    loss : cvxpy.Expression
        ``sum_i c_i rho_tau(y_i - x_i . beta - b)`` (convex, piecewise linear).
    quantile : float
    """

    problem: Any
    coef: Any
    intercept: Any
    loss: Any
    quantile: float


def lad_problem(
    X: Any,
    y: Any,
    *,
    quantile: float = 0.5,
    fit_intercept: bool = True,
    sample_weight: Any = None,
) -> LADModel:
    """LAD / quantile regression as a cvxpy problem whose variables a user can constrain or penalise.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
    quantile : float in (0, 1), default 0.5
        ``tau`` of the check function; 0.5 is LAD (half the sum of absolute residuals).
    fit_intercept : bool, default True
    sample_weight : array_like, shape (n_samples,), optional
        Non-negative weights ``c_i`` (default 1).

    Returns
    -------
    LADModel

    Raises
    ------
    InvalidProblemError
        Malformed data (shapes, NaN/inf, negative weights) or a quantile outside (0, 1).
    BackendNotAvailable
        cvxpy is not installed.

    See Also
    --------
    lpengine.lad : the exact solver of the same problem (certified optimum); its ``fun`` is
        ``2 * loss`` at ``quantile=0.5`` and ``loss`` otherwise (see :mod:`lpengine.simplex.lad`).

    Notes
    -----
    ``rho_tau(r) = tau r_+ + (1 - tau) r_-``, a sum of convex piecewise-linear terms: cvxpy reduces it to the
    LP of Koenker (2005, §6.2) for an LP solver.
    """
    cp = import_cvxpy()
    Xa = check_array(X, "X", ndim=2, error=InvalidProblemError)
    ya = check_array(y, "y", ndim=1, error=InvalidProblemError)
    if Xa.shape[0] != ya.shape[0]:
        raise InvalidProblemError(f"X has {Xa.shape[0]} rows but y has {ya.shape[0]} entries; expected equal.")
    tau = check_scalar(quantile, "quantile", low=0.0, high=1.0, error=InvalidProblemError)
    if sample_weight is None:
        c = np.ones(ya.shape[0])
    else:
        c = check_array(sample_weight, "sample_weight", ndim=1, error=InvalidProblemError)
        if c.shape[0] != ya.shape[0] or np.any(c < 0):
            raise InvalidProblemError(
                f"sample_weight must have {ya.shape[0]} non-negative entries; got shape {c.shape}, min {c.min():g}."
            )
    coef = cp.Variable(Xa.shape[1], name="coef")
    intercept = cp.Variable(name="intercept") if fit_intercept else None
    residual = ya - Xa @ coef - (intercept if intercept is not None else 0.0)
    # rho_tau(r) = tau r_+ + (1 - tau) r_-.  (Written with pos/neg rather than maximum(tau r, (tau - 1) r):
    # cvxpy 1.9's bound inference turns the latter into NaN bounds that its HiGHS interface reads as infeasible.)
    loss = cp.sum(cp.multiply(c, tau * cp.pos(residual) + (1.0 - tau) * cp.neg(residual)))
    return LADModel(problem=cp.Problem(cp.Minimize(loss)), coef=coef, intercept=intercept, loss=loss, quantile=tau)


@dataclass(frozen=True)
class LPModel:
    """The cvxpy model returned by :func:`lp_problem`.

    Attributes
    ----------
    problem : cvxpy.Problem
        The LP; its ``value`` after ``solve()`` includes the LP's ``offset``.
    x : cvxpy.Variable, shape (n,)
    objective : cvxpy.Expression
        ``c . x + offset``.
    constraints : list of cvxpy.Constraint
        The finite row and column bounds, in that order.
    """

    problem: Any
    x: Any
    objective: Any
    constraints: list[Any]


def lp_problem(lp: Any) -> LPModel:
    """An lpengine :class:`~lpengine.lp.LinearProgram` as a cvxpy problem (to extend, or to solve elsewhere).

    Parameters
    ----------
    lp : LinearProgram

    Returns
    -------
    LPModel
        Infinite bounds give no constraint; a row with equal finite bounds gives one equality.

    Raises
    ------
    BackendNotAvailable
        cvxpy is not installed.
    """
    cp = import_cvxpy()
    n = int(lp.c.shape[0])
    x = cp.Variable(n, name="x")
    cons: list[Any] = []
    A = lp.A
    if A is not None and A.shape[0]:
        Ax = A @ x
        lo = np.full(A.shape[0], -np.inf) if lp.row_lower is None else np.asarray(lp.row_lower, dtype=np.float64)
        hi = np.full(A.shape[0], np.inf) if lp.row_upper is None else np.asarray(lp.row_upper, dtype=np.float64)
        eq = np.isfinite(lo) & np.isfinite(hi) & (lo == hi)
        i_eq = np.flatnonzero(eq)
        i_lo = np.flatnonzero(np.isfinite(lo) & ~eq)
        i_hi = np.flatnonzero(np.isfinite(hi) & ~eq)
        if i_eq.size:
            cons.append(Ax[i_eq] == lo[i_eq])
        if i_lo.size:
            cons.append(Ax[i_lo] >= lo[i_lo])
        if i_hi.size:
            cons.append(Ax[i_hi] <= hi[i_hi])
    for bound, op in ((lp.col_lower, "ge"), (lp.col_upper, "le")):
        if bound is None:
            continue
        b = np.broadcast_to(np.asarray(bound, dtype=np.float64), (n,))
        idx = np.flatnonzero(np.isfinite(b))
        if idx.size:
            cons.append(x[idx] >= b[idx] if op == "ge" else x[idx] <= b[idx])
    objective = lp.c @ x + float(lp.offset)
    return LPModel(problem=cp.Problem(cp.Minimize(objective), cons), x=x, objective=objective, constraints=cons)

"""Reference backend on ``scipy.optimize.linprog`` (method ``highs-ds``).

It shares no code path with :mod:`.highs` beyond HiGHS itself being scipy's
solver and the post-solve checks of :mod:`lpengine.lp.checks`: the model is
rebuilt from lpengine's mirror and solved from scratch every time (no warm
start).  Optimal answers carry linprog's marginals as duals (HiGHS's sign
convention) and are checked like the HiGHS backend's; an infeasible answer
gets its Farkas ray from the ray LP (linprog returns none).  Use it as an
oracle in tests and for A/B timing.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from ...exceptions import InvalidOptionError
from ...tolerances import Tolerances, resolve_tolerances
from ..problem import LinearProgram
from ..result import LPBasis, LPCounters, LPResult, LPStatus
from .base import MirroredSolver, ModelMirror, OneShotSolve, as_index, as_values, check_answer, no_column_result

__all__ = ["ScipyBackend", "ScipyWarmSolver", "STATUS_MAP"]

#: ``linprog`` status code -> LPStatus (0 optimal, 1 iteration limit, 2 infeasible, 3 unbounded, 4 numerical).
STATUS_MAP: dict[int, LPStatus] = {
    0: LPStatus.OPTIMAL,
    1: LPStatus.ITERATION_LIMIT,
    2: LPStatus.INFEASIBLE,
    3: LPStatus.UNBOUNDED,
    4: LPStatus.ERROR,
}

_ALLOWED_OPTIONS = {"time_limit", "presolve", "primal_feasibility_tolerance", "dual_feasibility_tolerance"}


def _duals(
    res: Any, up: NDArray[np.bool_], lo: NDArray[np.bool_], eq: NDArray[np.bool_], m: int
) -> tuple[NDArray[np.float64] | None, NDArray[np.float64] | None]:
    """linprog's marginals in HiGHS's convention (``c = A^T y + z``), or ``(None, None)``.

    ``ineqlin`` holds the upper-bound rows (``A x <= ru``) then the negated
    lower-bound rows (``-A x <= -rl``); a marginal is the objective's
    sensitivity to its right-hand side, so the row dual is ``mu_up - mu_lo``.
    """
    try:
        mu = np.asarray(res.ineqlin.marginals, dtype=np.float64)
        col = np.asarray(res.lower.marginals, dtype=np.float64) + np.asarray(res.upper.marginals, dtype=np.float64)
        eq_mu = np.asarray(res.eqlin.marginals, dtype=np.float64)
    except AttributeError:
        return None, None
    y = np.zeros(m)
    n_up = int(np.count_nonzero(up))
    y[up] += mu[:n_up]
    y[lo] -= mu[n_up:]
    y[eq] = eq_mu
    return y, col


class ScipyWarmSolver(MirroredSolver):
    """Same interface as the HiGHS warm solver; every solve is a cold ``linprog`` call."""

    def __init__(self, lp: LinearProgram, *, options: dict[str, Any] | None = None, tol: Tolerances | None = None):
        self._tol = resolve_tolerances(tol)
        self._m = ModelMirror(lp)
        self._options = {
            "primal_feasibility_tolerance": self._tol.lp_primal,
            "dual_feasibility_tolerance": self._tol.lp_dual,
        }
        for k, v in (options or {}).items():
            if k not in _ALLOWED_OPTIONS:
                raise InvalidOptionError(
                    f"the scipy backend does not accept option {k!r}; accepted: {sorted(_ALLOWED_OPTIONS)}."
                )
            self._options[k] = v
        self.counters = LPCounters()

    def set_row_bounds(self, idx: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> None:
        i = as_index(idx)
        self._m.set_row_bounds(
            i, as_values(lower, i.size, "row lower bounds"), as_values(upper, i.size, "row upper bounds")
        )

    def set_col_bounds(self, idx: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> None:
        i = as_index(idx)
        self._m.set_col_bounds(
            i, as_values(lower, i.size, "column lower bounds"), as_values(upper, i.size, "column upper bounds")
        )

    def set_cost(self, c: ArrayLike, offset: float | None = None) -> None:
        self._m.set_cost(c, offset)

    def set_coefficient(self, row: int, col: int, value: float) -> None:
        self._m.set_coefficient(row, col, value)

    def add_rows(self, A: Any, lower: ArrayLike, upper: ArrayLike) -> None:
        self._m.add_rows(A, lower, upper)

    def delete_rows(self, idx: ArrayLike) -> None:
        self._m.delete_rows(np.unique(as_index(idx)))

    def get_basis(self) -> LPBasis | None:
        """``linprog`` exposes no basis: always ``None``."""
        return None

    def set_basis(self, basis: LPBasis | None) -> None:
        """Ignored (every solve is cold)."""

    def solve(
        self,
        *,
        objective_bound: float | None = None,
        time_limit: float | None = None,
        iteration_limit: int | None = None,
    ) -> LPResult:
        from scipy.optimize import linprog

        if self.n_cols == 0:
            res0 = no_column_result(self._m)
            self.counters.record(res0.status, 0, 0.0)
            return res0

        m = self._m
        A = sp.csr_array(m.A)
        eq = np.isfinite(m.rl) & (m.rl == m.ru)
        up = np.isfinite(m.ru) & ~eq
        lo = np.isfinite(m.rl) & ~eq
        A_ub = sp.vstack([A[up], -A[lo]], format="csr") if (up.any() or lo.any()) else None
        b_ub = np.concatenate([m.ru[up], -m.rl[lo]]) if A_ub is not None else None
        A_eq = A[eq] if eq.any() else None
        b_eq = m.rl[eq] if eq.any() else None
        bounds = np.column_stack(
            [np.where(np.isfinite(m.cl), m.cl, -np.inf), np.where(np.isfinite(m.cu), m.cu, np.inf)]
        )
        opts = dict(self._options)
        if time_limit is not None:
            opts["time_limit"] = time_limit
        if iteration_limit is not None:
            opts["maxiter"] = int(iteration_limit)
        t0 = time.perf_counter()
        res = linprog(m.c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=bounds, method="highs-ds", options=opts)
        seconds = time.perf_counter() - t0
        status = STATUS_MAP.get(int(res.status), LPStatus.ERROR)
        x = np.asarray(res.x, dtype=np.float64) if res.x is not None else None
        fun = float(m.c @ x + m.offset) if x is not None else float("nan")
        residual = m.residual(x) if x is not None else float("nan")
        message = f"{status.value} (scipy linprog status {res.status}: {res.message})"
        row_duals = col_duals = None
        if status is LPStatus.OPTIMAL and x is not None:
            row_duals, col_duals = _duals(res, up, lo, eq, self.n_rows)
        nit = int(getattr(res, "nit", 0) or 0)
        answer = LPResult(
            x=x,
            fun=fun,
            status=status,
            message=message,
            nit=nit,
            row_activity=(m.A @ x) if x is not None else None,
            row_duals=row_duals,
            col_duals=col_duals,
            residual=residual,
        )
        # linprog returns no Farkas ray: an infeasible answer gets one from the ray LP (feasible and
        # bounded, so the check does not recurse).
        src = f"scipy linprog status {res.status}"
        answer = check_answer(m, answer, tol=self._tol, backend=ScipyBackend(), source=src, solver="linprog")
        if answer.status is not LPStatus.OPTIMAL and answer.status is not LPStatus.INACCURATE:
            answer = replace(answer, x=None, fun=float("nan"), row_activity=None)
        self.counters.record(answer.status, nit, seconds)
        return answer


class ScipyBackend(OneShotSolve):
    """``scipy.optimize.linprog(method="highs-ds")``: slow, cold, independent reference."""

    name = "scipy"

    def is_available(self) -> bool:
        return True

    def open(
        self, lp: LinearProgram, *, options: dict[str, Any] | None = None, tol: Tolerances | None = None
    ) -> ScipyWarmSolver:
        return ScipyWarmSolver(lp, options=options, tol=tol)

"""The HiGHS backend: the only module of lpengine that imports ``highspy``.

Design (see ``region_counting.md`` §4 of the reference notes):

* One ``Highs`` instance per :class:`HighsWarmSolver`, reused for every solve;
  edits (bounds, costs, rows) keep HiGHS's basis and factorisation, so the
  next ``run()`` is a hot start that skips presolve.
* Options are fixed per instance and each is checked: a rejected option raises
  :class:`~lpengine.exceptions.InvalidOptionError` naming it.
* Statuses are mapped explicitly (:data:`STATUS_MAP`); an unknown HiGHS status
  becomes ``LPStatus.ERROR`` with the native name kept in the message.
* After every OPTIMAL solve the primal residual and the dual residual (the
  stationarity and the signs of the duals) are recomputed from lpengine's own
  copy of the model (:func:`~lpengine.lp.checks.review_optimal`); beyond
  ``Tolerances.feasibility`` / ``Tolerances.dual`` the result is downgraded to
  ``INACCURATE`` and an :class:`InaccurateSolutionWarning` is emitted.  An
  INFEASIBLE answer keeps its status only with a Farkas ray that checks
  (HiGHS's ``getDualRay``, else the ray LP of :func:`~lpengine.lp.checks.farkas_lp`).
  A wrong answer is never returned as optimal or infeasible.

The low-level ``highspy._core._Highs`` class is used when present: the public
``highspy.Highs`` wrapper enables Python callbacks in its constructor, which
prints the HiGHS banner to stdout before ``output_flag`` can be switched off
(and would pollute ``lpengine ... --json`` output).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from ...exceptions import BackendNotAvailable, InvalidOptionError, SolverError
from ...tolerances import Tolerances, resolve_tolerances
from ..problem import LinearProgram
from ..result import BasisStatus, LPBasis, LPCounters, LPResult, LPStatus
from .base import MirroredSolver, ModelMirror, OneShotSolve, as_index, as_values, check_answer, no_column_result

__all__ = ["HighsBackend", "HighsWarmSolver", "STATUS_MAP"]

#: HiGHS model status name -> LPStatus.  Anything else maps to ERROR.
STATUS_MAP: dict[str, LPStatus] = {
    "kOptimal": LPStatus.OPTIMAL,
    "kModelEmpty": LPStatus.OPTIMAL,
    "kInfeasible": LPStatus.INFEASIBLE,
    "kUnbounded": LPStatus.UNBOUNDED,
    "kUnboundedOrInfeasible": LPStatus.INFEASIBLE_OR_UNBOUNDED,
    "kObjectiveBound": LPStatus.OBJECTIVE_BOUND,
    "kIterationLimit": LPStatus.ITERATION_LIMIT,
    "kTimeLimit": LPStatus.TIME_LIMIT,
}

#: Options every lpengine HiGHS instance starts from (documented defaults).
#: Simplex with presolve off: the LPs are tiny and re-solved hot many times,
#: where presolve costs more than it saves and would discard the basis.
BASE_OPTIONS: dict[str, Any] = {
    "output_flag": False,
    "presolve": "off",
    "solver": "simplex",
    "threads": 1,
}

_BASIS_TO_LPE = {
    "kLower": BasisStatus.LOWER,
    "kBasic": BasisStatus.BASIC,
    "kUpper": BasisStatus.UPPER,
    "kZero": BasisStatus.ZERO,
    "kNonbasic": BasisStatus.NONBASIC,
}

logger = logging.getLogger(__name__)


def _import_highspy() -> Any:
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a hard dependency
        # No import of the package's registry here (it imports this module); get_backend() lists the
        # available backends before it ever reaches this point.
        raise BackendNotAvailable(
            "the 'highs' LP backend needs highspy (pip install highspy); backend='scipy' needs no extra package"
        ) from exc
    return highspy


def _new_highs(highspy: Any) -> Any:
    core_cls: Any
    try:
        from highspy._core import _Highs

        core_cls = _Highs
    except ImportError:  # pragma: no cover - older highspy layouts
        core_cls = highspy.Highs
    h = core_cls()
    _set_option(h, highspy, "output_flag", False)
    return h


def _set_option(h: Any, highspy: Any, name: str, value: Any) -> None:
    if isinstance(value, bool):
        pass
    elif isinstance(value, (np.integer,)):
        value = int(value)
    elif isinstance(value, np.floating):
        value = float(value)
    try:
        status = h.setOptionValue(name, value)
    except (TypeError, RuntimeError) as exc:
        raise InvalidOptionError(f"HiGHS rejected option {name}={value!r}: {exc}") from exc
    if status == highspy.HighsStatus.kError:
        raise InvalidOptionError(f"HiGHS rejected option {name}={value!r} (unknown option or invalid value).")


class HighsWarmSolver(MirroredSolver):
    """A persistent HiGHS instance holding one LP that is edited in place.

    Obtain one from :meth:`HighsBackend.open`.  Every solve is recorded in
    :attr:`counters` (solves, simplex iterations, seconds).
    """

    def __init__(self, lp: LinearProgram, *, options: dict[str, Any] | None = None, tol: Tolerances | None = None):
        self._hs = _import_highspy()
        self._tol = resolve_tolerances(tol)
        self._inf = float(self._hs.kHighsInf)
        self._h = _new_highs(self._hs)
        opts = dict(BASE_OPTIONS)
        opts["primal_feasibility_tolerance"] = self._tol.lp_primal
        opts["dual_feasibility_tolerance"] = self._tol.lp_dual
        opts.update(options or {})
        for k, v in opts.items():
            _set_option(self._h, self._hs, k, v)
        self._options = opts
        self._limits = {"time_limit": None, "simplex_iteration_limit": None, "objective_bound": None}
        self.counters = LPCounters()
        # lpengine's own copy of the model, for the residual check.
        self._m = ModelMirror(lp)
        self._pass_model()
        self._closed = False

    # ----------------------------------------------------------- model upkeep
    def _clip(self, a: np.ndarray) -> np.ndarray:
        return np.clip(a, -self._inf, self._inf)

    def _pass_model(self) -> None:
        hs = self._hs
        mm = self._m
        m, n = mm.shape
        hlp = hs.HighsLp()
        hlp.num_col_ = n
        hlp.num_row_ = m
        hlp.col_cost_ = mm.c
        hlp.col_lower_ = self._clip(mm.cl)
        hlp.col_upper_ = self._clip(mm.cu)
        hlp.row_lower_ = self._clip(mm.rl)
        hlp.row_upper_ = self._clip(mm.ru)
        hlp.offset_ = mm.offset
        csc = sp.csc_array(mm.A)
        hlp.a_matrix_.format_ = hs.MatrixFormat.kColwise
        hlp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        hlp.a_matrix_.index_ = csc.indices.astype(np.int32)
        hlp.a_matrix_.value_ = csc.data.astype(np.float64)
        hlp.a_matrix_.num_col_ = n
        hlp.a_matrix_.num_row_ = m
        self._check(self._h.passModel(hlp), "passModel")

    def _check(self, status: Any, what: str) -> None:
        if status == self._hs.HighsStatus.kError:
            raise SolverError(f"HiGHS {what} returned kError")

    def set_row_bounds(self, idx: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> None:
        """Change the bounds of rows ``idx`` (keeps the basis: a hot start)."""
        i = as_index(idx)
        lo = as_values(lower, i.size, "row lower bounds")
        hi = as_values(upper, i.size, "row upper bounds")
        self._m.set_row_bounds(i, lo, hi)
        self._check(self._h.changeRowsBounds(int(i.size), i, self._clip(lo), self._clip(hi)), "changeRowsBounds")

    def set_col_bounds(self, idx: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> None:
        """Change the bounds of columns ``idx``."""
        i = as_index(idx)
        lo = as_values(lower, i.size, "column lower bounds")
        hi = as_values(upper, i.size, "column upper bounds")
        self._m.set_col_bounds(i, lo, hi)
        self._check(self._h.changeColsBounds(int(i.size), i, self._clip(lo), self._clip(hi)), "changeColsBounds")

    def set_cost(self, c: ArrayLike, offset: float | None = None) -> None:
        """Replace the whole cost vector (and optionally the objective offset)."""
        cc = self._m.set_cost(c, offset)
        idx = np.arange(self.n_cols, dtype=np.int32)
        self._check(self._h.changeColsCost(self.n_cols, idx, cc), "changeColsCost")
        if offset is not None:
            self._check(self._h.changeObjectiveOffset(self._m.offset), "changeObjectiveOffset")

    def set_coefficient(self, row: int, col: int, value: float) -> None:
        """Change one matrix entry."""
        self._m.set_coefficient(row, col, value)
        self._check(self._h.changeCoeff(int(row), int(col), float(value)), "changeCoeff")

    def add_rows(self, A: Any, lower: ArrayLike, upper: ArrayLike) -> None:
        """Append rows ``lower <= A x <= upper`` (the basis is extended, not discarded)."""
        rows, lo, hi = self._m.add_rows(A, lower, upper)
        k = rows.shape[0]
        self._check(
            self._h.addRows(
                k,
                self._clip(lo),
                self._clip(hi),
                int(rows.nnz),
                rows.indptr[:-1].astype(np.int32),
                rows.indices.astype(np.int32),
                rows.data.astype(np.float64),
            ),
            "addRows",
        )

    def delete_rows(self, idx: ArrayLike) -> None:
        """Delete rows ``idx``; the remaining rows keep their order."""
        i = np.unique(as_index(idx))
        self._m.delete_rows(i)
        self._check(self._h.deleteRows(int(i.size), i), "deleteRows")

    def get_basis(self) -> LPBasis | None:
        """The current basis, or ``None`` if HiGHS has no valid one."""
        b = self._h.getBasis()
        if not b.valid:
            return None
        conv = lambda seq: np.array([_BASIS_TO_LPE[s.name] for s in seq], dtype=np.int8)  # noqa: E731
        return LPBasis(conv(b.col_status), conv(b.row_status))

    def set_basis(self, basis: LPBasis | None) -> None:
        """Install a basis (``None``: the slack basis, i.e. a cold start)."""
        if basis is None:
            # setBasis() alone keeps HiGHS's solved state (the next run() returns at once);
            # clearSolver() discards it so the next solve really starts from the slack basis.
            self._h.clearSolver()
            self._check(self._h.setBasis(), "setBasis")
            return
        hs = self._hs
        inv = {int(v): getattr(hs.HighsBasisStatus, k) for k, v in _BASIS_TO_LPE.items()}
        hb = hs.HighsBasis()
        hb.col_status = [inv[int(s)] for s in basis.col_status]
        hb.row_status = [inv[int(s)] for s in basis.row_status]
        hb.valid = True
        self._check(self._h.setBasis(hb), "setBasis")

    # ------------------------------------------------------------------ solve
    def _set_limit(self, name: str, value: Any, default: Any) -> None:
        if self._limits[name] != value:
            _set_option(self._h, self._hs, name, default if value is None else value)
            self._limits[name] = value

    def solve(
        self,
        *,
        objective_bound: float | None = None,
        time_limit: float | None = None,
        iteration_limit: int | None = None,
    ) -> LPResult:
        """Solve the current model (hot-started from the last basis).

        Parameters
        ----------
        objective_bound : float, optional
            HiGHS stops (status ``OBJECTIVE_BOUND``) once the dual simplex proves
            the optimum is no better than this; used to decide thresholds cheaply.
        time_limit : float, optional
            Seconds for this solve.
        iteration_limit : int, optional
            Simplex iterations for this solve.
        """
        if self.n_cols == 0:
            res = no_column_result(self._m)
            self.counters.record(res.status, 0, 0.0)
            return res
        self._set_limit("objective_bound", objective_bound, self._inf)
        self._set_limit("time_limit", time_limit, self._inf)
        self._set_limit("simplex_iteration_limit", iteration_limit, 2**31 - 1)
        h = self._h
        t0 = time.perf_counter()
        run_status = self._run()
        native = h.getModelStatus().name
        retried = ""
        if native == "kUnknown" and self._options.get("simplex_strategy") != 4:
            # The dual simplex occasionally ends in kUnknown on LPs with free columns and
            # degenerate optima (seen on Chebyshev LPs of unbounded regions).  Retry once,
            # cold, with the primal simplex; the answer is checked like any other.
            nit_first = int(h.getInfoValue("simplex_iteration_count")[1])
            self.counters.record(LPStatus.ERROR, nit_first, time.perf_counter() - t0)
            _set_option(h, self._hs, "simplex_strategy", 4)
            h.clearSolver()
            run_status = self._run()
            _set_option(h, self._hs, "simplex_strategy", self._options.get("simplex_strategy", 1))
            native = h.getModelStatus().name
            retried = ", after a kUnknown dual simplex run retried with the primal simplex"
        seconds = time.perf_counter() - t0
        status = STATUS_MAP.get(native, LPStatus.ERROR)
        if run_status == self._hs.HighsStatus.kError and status is LPStatus.OPTIMAL:
            status = LPStatus.ERROR
        nit = int(h.getInfoValue("simplex_iteration_count")[1])
        x = ax = row_act = row_duals = col_duals = farkas = None
        fun = float("nan")
        residual = float("nan")
        message = f"{status.value} (HiGHS {native}{retried})"
        if status in (LPStatus.OPTIMAL, LPStatus.OBJECTIVE_BOUND, LPStatus.ITERATION_LIMIT, LPStatus.TIME_LIMIT):
            sol = h.getSolution()
            if sol.value_valid:
                x = np.array(sol.col_value, dtype=np.float64)
                row_act = np.array(sol.row_value, dtype=np.float64)
                fun = float(self._m.c @ x + self._m.offset)
                ax = self._m.matrix() @ x  # recomputed: HiGHS's row values are not trusted
                residual = self._m.residual(x, ax)
            if sol.dual_valid:
                row_duals = np.array(sol.row_dual, dtype=np.float64)
                col_duals = np.array(sol.col_dual, dtype=np.float64)
            if status is LPStatus.OPTIMAL and x is None:
                status = LPStatus.ERROR
                message = f"error (HiGHS {native} without a primal solution)"
        elif status is LPStatus.INFEASIBLE:
            _, has_ray, ray = h.getDualRay()
            farkas = np.array(ray, dtype=np.float64) if has_ray else None
        answer = LPResult(
            x=x,
            fun=fun,
            status=status,
            message=message,
            nit=nit,
            row_activity=row_act,
            row_duals=row_duals,
            col_duals=col_duals,
            farkas=farkas,
            residual=residual,
        )
        src = f"HiGHS {native}"
        answer = check_answer(self._m, answer, ax=ax, tol=self._tol, backend=HighsBackend(), source=src, solver="HiGHS")
        self.counters.record(answer.status, nit, seconds)
        return answer

    def _run(self) -> Any:
        try:
            status = self._h.run()
            if (
                status == self._hs.HighsStatus.kError
                and self._h.getModelStatus().name == "kNotset"
                and self._options.get("threads", 0) != 0
            ):
                # HiGHS has one scheduler per process, sized by the first instance that runs; if
                # another HiGHS user (cvxpy, a user's own highspy model) started it with more
                # threads, asking for threads=1 makes run() refuse at once.  Accept the
                # scheduler as it is (threads=0) for this instance and run again.
                logger.debug("HiGHS scheduler already started with other threads; using it (threads=0)")
                _set_option(self._h, self._hs, "threads", 0)
                self._options["threads"] = 0
                status = self._h.run()
            return status
        except Exception as exc:
            raise SolverError(f"HiGHS run() raised {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        """Release the HiGHS instance."""
        if not self._closed:
            self._h.clear()
            self._closed = True


class HighsBackend(OneShotSolve):
    """Solve LPs with HiGHS (dual simplex, presolve off, one thread by default)."""

    name = "highs"

    def is_available(self) -> bool:
        """Whether highspy imports."""
        try:
            import highspy  # noqa: F401
        except ImportError:  # pragma: no cover
            return False
        return True

    def open(
        self, lp: LinearProgram, *, options: dict[str, Any] | None = None, tol: Tolerances | None = None
    ) -> HighsWarmSolver:
        """A persistent solver holding ``lp``, for hot re-solves after edits."""
        return HighsWarmSolver(lp, options=options, tol=tol)

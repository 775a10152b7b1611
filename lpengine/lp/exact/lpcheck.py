"""Exact optimality certificates for LPs in lpengine's canonical form.

An LP ``min c.x + offset  s.t.  rl <= A x <= ru,  cl <= x <= cu`` (float64 data,
read as the exact rationals it stores) is solved to optimality by ``x`` iff there
are row duals ``y`` such that, with ``z = c - A^T y``:

* ``x`` is primal feasible;
* ``y_i > 0`` only where ``(A x)_i = rl_i``, ``y_i < 0`` only where ``(A x)_i = ru_i``;
* ``z_j > 0`` only where ``x_j = cl_j``, ``z_j < 0`` only where ``x_j = cu_j``.

(For any feasible ``x'``: ``c.x' = y.(A x') + z.x' >= y.(A x) + z.x = c.x``, term by
term.)  :func:`check_lp_optimum` checks exactly these conditions in rationals.

:func:`verify_basis` turns a simplex basis (e.g. HiGHS's ``getBasis``) into such a
pair: the nonbasic rows and columns sit at their bounds, which fixes ``x`` by one
square system; the same matrix transposed gives the multipliers.  Both systems
are solved by python-flint's ``fmpq_mat.solve`` (exact rationals, microseconds for
the d + 1 unknowns of a region LP).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..problem import LinearProgram
from ..result import BasisStatus, LPBasis
from .rational import RationalVector

__all__ = ["ExactLPCheck", "check_lp_optimum", "verify_basis", "fmpq_of"]


def fmpq_of(v: float) -> Any:
    """The exact python-flint rational of a float64."""
    import flint

    p, q = float(v).as_integer_ratio()
    return flint.fmpq(p, q)


def _fraction(q: Any) -> Fraction:
    return Fraction(int(q.p), int(q.q))


@dataclass(frozen=True)
class ExactLPCheck:
    """Outcome of an exact optimality check.

    Attributes
    ----------
    optimal : bool
        ``primal_feasible and dual_feasible``: ``x`` is an exact optimum.
    primal_feasible, dual_feasible : bool
        The two halves of the certificate (``dual_feasible`` includes
        complementary slackness; see the module docstring).
    x : RationalVector or None
        The primal point checked (``None`` if no point could be formed).
    row_duals : RationalVector or None
        The multipliers ``y`` checked (HiGHS's sign convention).
    objective : Fraction or None
        ``c.x + offset`` exactly.
    message : str
        Why the check failed (the first violated condition), or ``"optimal"``.
    """

    optimal: bool
    primal_feasible: bool
    dual_feasible: bool
    x: RationalVector | None
    row_duals: RationalVector | None
    objective: Fraction | None
    message: str


class _ExactModel:
    """The LP's data as python-flint rationals (dense; the LPs checked here are small)."""

    def __init__(self, lp: LinearProgram):
        import flint

        self.m, self.n = lp.n_rows, lp.n_cols
        dense = lp.A.toarray() if self.m else np.zeros((0, self.n))
        self.A = flint.fmpq_mat(self.m, self.n, [fmpq_of(v) for v in dense.ravel().tolist()])
        self.c = [fmpq_of(v) for v in lp.c.tolist()]
        self.offset = fmpq_of(lp.offset)
        self.rl, self.ru = lp.row_lower.tolist(), lp.row_upper.tolist()
        self.cl, self.cu = lp.col_lower.tolist(), lp.col_upper.tolist()

    def row(self, i: int) -> list[Any]:
        return [self.A[i, j] for j in range(self.n)]


def _bound_ok(v: Any, lo: float, hi: float) -> bool:
    return (lo == -np.inf or v >= fmpq_of(lo)) and (hi == np.inf or v <= fmpq_of(hi))


def _check(model: _ExactModel, x: list[Any], y: list[Any]) -> tuple[bool, bool, Any, str]:
    import flint

    xm = flint.fmpq_mat(model.n, 1, x)
    ax = model.A * xm if model.m else None
    for j in range(model.n):
        if not _bound_ok(x[j], model.cl[j], model.cu[j]):
            return False, False, None, f"column {j} violates its bounds exactly"
    for i in range(model.m):
        if not _bound_ok(ax[i, 0], model.rl[i], model.ru[i]):  # type: ignore[index]  # ax is None only when model.m == 0, and then this loop is empty
            return False, False, None, f"row {i} violates its bounds exactly"
    obj = sum((cj * xj for cj, xj in zip(model.c, x, strict=True)), model.offset)
    for i in range(model.m):
        yi = y[i]
        if yi > 0 and not (model.rl[i] != -np.inf and ax[i, 0] == fmpq_of(model.rl[i])):  # type: ignore[index]  # ax is None only when model.m == 0, and then this loop is empty
            return True, False, obj, f"row {i} has dual {yi} > 0 but is not at its lower bound"
        if yi < 0 and not (model.ru[i] != np.inf and ax[i, 0] == fmpq_of(model.ru[i])):  # type: ignore[index]  # ax is None only when model.m == 0, and then this loop is empty
            return True, False, obj, f"row {i} has dual {yi} < 0 but is not at its upper bound"
    for j in range(model.n):
        zj = model.c[j] - sum((model.A[i, j] * y[i] for i in range(model.m)), flint.fmpq(0))
        if zj > 0 and not (model.cl[j] != -np.inf and x[j] == fmpq_of(model.cl[j])):
            return True, False, obj, f"column {j} has reduced cost {zj} > 0 but is not at its lower bound"
        if zj < 0 and not (model.cu[j] != np.inf and x[j] == fmpq_of(model.cu[j])):
            return True, False, obj, f"column {j} has reduced cost {zj} < 0 but is not at its upper bound"
    return True, True, obj, "optimal"


def _to_fmpq_list(v: RationalVector) -> list[Any]:
    import flint

    return [flint.fmpq(n, v.den) for n in v.num]


def check_lp_optimum(lp: LinearProgram, x: RationalVector, row_duals: RationalVector) -> ExactLPCheck:
    """Check exactly that ``x`` is optimal for ``lp``, certified by ``row_duals``.

    Parameters
    ----------
    lp : LinearProgram
        Its float64 data are read as exact rationals.
    x : RationalVector, length ``lp.n_cols``
    row_duals : RationalVector, length ``lp.n_rows``
        Multipliers ``y`` (HiGHS sign convention: for a minimisation, ``y_i >= 0``
        on a row at its lower bound); column duals are ``c - A^T y``.

    Returns
    -------
    ExactLPCheck
    """
    if len(x) != lp.n_cols or len(row_duals) != lp.n_rows:
        raise ValueError(
            f"check_lp_optimum: x has {len(x)} entries and row_duals {len(row_duals)}; "
            f"expected {lp.n_cols} and {lp.n_rows}."
        )
    model = _ExactModel(lp)
    pf, df, obj, msg = _check(model, _to_fmpq_list(x), _to_fmpq_list(row_duals))
    return ExactLPCheck(pf and df, pf, df, x, row_duals, None if obj is None else _fraction(obj), msg)


def _fail(message: str) -> ExactLPCheck:
    return ExactLPCheck(False, False, False, None, None, None, message)


def verify_basis(lp: LinearProgram, basis: LPBasis) -> ExactLPCheck:
    """Recompute the basic solution of ``basis`` in rationals and check it is optimal.

    Parameters
    ----------
    lp : LinearProgram
    basis : LPBasis
        A simplex basis of ``lp`` (one status per column and row), e.g. from
        :meth:`~lpengine.lp.WarmSolver.get_basis` after an optimal solve.

    Returns
    -------
    ExactLPCheck
        ``optimal`` is True iff the basic solution is exactly primal feasible
        and its multipliers are exactly dual feasible (then ``objective`` is the
        exact optimum).  A basis that is not square, is singular, or puts a
        variable at an infinite bound fails with the reason in ``message``.

    Notes
    -----
    Nonbasic columns are fixed at their bound (``LOWER``/``UPPER``; ``ZERO``
    means a free column at 0) and nonbasic rows at theirs, ``n`` equations
    ``M x = b`` in all.  The multipliers solve ``M^T lam = c``: ``lam`` splits
    into row duals (nonbasic rows) and column duals (nonbasic columns), zero on
    basic ones.  Cost: two ``n x n`` rational solves plus one exact pass over
    ``A``.
    """
    import flint

    if basis.col_status.shape != (lp.n_cols,) or basis.row_status.shape != (lp.n_rows,):
        return _fail(
            f"basis has {basis.col_status.size} column and {basis.row_status.size} row statuses; "
            f"expected {lp.n_cols} and {lp.n_rows}"
        )
    model = _ExactModel(lp)
    n = model.n
    eqs: list[list[Any]] = []
    rhs: list[Any] = []
    owners: list[tuple[str, int]] = []

    def bound(status: int, lo: float, hi: float) -> float | None:
        if status == BasisStatus.LOWER:
            return lo if lo != -np.inf else (hi if lo == hi else None)
        if status == BasisStatus.UPPER:
            return hi if hi != np.inf else None
        if status == BasisStatus.ZERO:
            return 0.0
        return None

    zero, one = flint.fmpq(0), flint.fmpq(1)
    for j, s in enumerate(basis.col_status.tolist()):
        if s == BasisStatus.BASIC:
            continue
        b = bound(s, model.cl[j], model.cu[j])
        if b is None:
            return _fail(f"column {j} is nonbasic ({BasisStatus(s).name}) at an infinite bound")
        eqs.append([one if k == j else zero for k in range(n)])
        rhs.append(fmpq_of(b))
        owners.append(("col", j))
    for i, s in enumerate(basis.row_status.tolist()):
        if s == BasisStatus.BASIC:
            continue
        b = bound(s, model.rl[i], model.ru[i])
        if b is None:
            return _fail(f"row {i} is nonbasic ({BasisStatus(s).name}) at an infinite bound")
        eqs.append(model.row(i))
        rhs.append(fmpq_of(b))
        owners.append(("row", i))
    if len(eqs) != n:
        return _fail(f"basis has {len(eqs)} nonbasic rows and columns; expected {n}")
    if n == 0:
        x_list: list[Any] = []
        lam: list[Any] = []
    else:
        M = flint.fmpq_mat(eqs)
        try:
            x_sol = M.solve(flint.fmpq_mat(n, 1, rhs))
            lam_sol = M.transpose().solve(flint.fmpq_mat(n, 1, model.c))
        except ZeroDivisionError:
            return _fail("the basis matrix is singular")
        x_list = [x_sol[k, 0] for k in range(n)]
        lam = [lam_sol[k, 0] for k in range(n)]
    y = [zero] * model.m
    for (kind, idx), v in zip(owners, lam, strict=True):
        if kind == "row":
            y[idx] = v
    pf, df, obj, msg = _check(model, x_list, y)
    return ExactLPCheck(
        pf and df,
        pf,
        df,
        RationalVector.from_fractions(x_list),
        RationalVector.from_fractions(y),
        None if obj is None else _fraction(obj),
        msg,
    )
